"""Exports of the long table for Power BI and analysts: CSV and Parquet.

Every text cell is neutralised against formula injection (:func:`bms_excel.values.neutralise`:
a unit's comment ``=HYPERLINK(...)`` is exported as ``'=HYPERLINK(...)``), so a file opened in
Excel never runs what a unit typed. Files are written atomically (temporary file in the
target folder, then ``os.replace``).

CSV dialect: UTF-8 with BOM, ``;`` between fields and ``,`` as the decimal sign, which is
what Excel with Norwegian regional settings opens directly; read it with pandas as
``pd.read_csv(path, sep=";", decimal=",")``. Parquet keeps the column types (needs pyarrow,
the ``parquet`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bms_excel.errors import OutputError
from bms_excel.values import neutralise
from bms_excel.xlsx.files import write_atomic

CSV_SEPARATOR = ";"
CSV_DECIMAL = ","


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as formulas in a spreadsheet."""
    out = frame.copy()
    for col in out.columns:
        # pandas 3 gives text columns the "str" dtype, older frames "object": both hold text.
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(lambda v: neutralise(v) if isinstance(v, str) else v)
    return out


def _write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    from bms_excel.i18n import t

    try:
        write_atomic(path, write, create_folder=True)
    except OSError as exc:
        raise OutputError(
            t("export.cannot-write", path=str(path), detail=exc.strerror or str(exc))
        ) from exc
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (neutralised) as a Norwegian-Excel CSV; returns ``path``."""
    safe = neutralised(frame)
    return _write_atomic(
        path,
        # CRLF like the reminder list; it also makes the writer quote a text holding a bare
        # carriage return, which Excel would otherwise read as the end of the row.
        lambda tmp: safe.to_csv(
            tmp,
            sep=CSV_SEPARATOR,
            decimal=CSV_DECIMAL,
            index=False,
            encoding="utf-8-sig",
            lineterminator="\r\n",
        ),
    )


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (neutralised) as Parquet; ``OutputError`` when pyarrow is missing."""
    from bms_excel.i18n import t

    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise OutputError(t("export.no-parquet"), str(path)) from exc
    safe = neutralised(frame)
    return _write_atomic(path, lambda tmp: safe.to_parquet(tmp, index=False, engine="pyarrow"))


def export_long(
    long: pd.DataFrame, *, csv_path: Path | None = None, parquet_path: Path | None = None
) -> dict[str, Path]:
    """Write the requested exports of the long table; returns ``{"csv": path, ...}``."""
    written: dict[str, Path] = {}
    if csv_path is not None:
        written["csv"] = write_csv(long, csv_path)
    if parquet_path is not None:
        written["parquet"] = write_parquet(long, parquet_path)
    return written
