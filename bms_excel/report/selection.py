"""The controller's choice of comments and lessons, read back from the master workbook.

The master writes a last column «Ta med i rapport» (English "Include in report") on its
Kommentarer and Vurderinger sheets (header row 3), a dropdown of «Ja» left empty. A controller
who wants only some of the units' comments and assessments in the report marks those rows
(«ja», «yes», «x» or 1). A sheet without that column, or with no row marked, means all of
them. Rows are matched by unit code and indicator code (Kommentarer) or focus area code
(Vurderinger), the master's first and fourth columns. :func:`carried_marks` reads the marks of
a master about to be rewritten, so that ``bms consolidate`` writes them into the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import python_calamine

from bms_excel.errors import WorkbookReadError
from bms_excel.i18n import LANGUAGES, t
from bms_excel.report.tree import Selection

HEADER_ROW = 3  # as the master's list sheets have it (master_lists._list_sheet)
#: The header of the column, one catalogue key (the master writes it, this module reads it).
INCLUDE_COLUMN = "master.col.include-in-report"
_YES = {"ja", "yes", "x", "1", "true", "sant"}


def is_mark(value: Any) -> bool:
    """A cell of the column that includes its row: «ja»/«yes»/«x»/1 in any case, or TRUE."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return str(value).strip().casefold() in _YES


def _marked(rows: Sequence[Sequence[Any]]) -> frozenset[tuple[str, str]] | None:
    if len(rows) < HEADER_ROW:
        return None
    headers = [str(h).strip() for h in rows[HEADER_ROW - 1]]
    names = {t(INCLUDE_COLUMN, lang) for lang in LANGUAGES}
    col = next((i for i, h in enumerate(headers) if h in names), None)
    if col is None:
        return None
    chosen = {
        (str(r[0]).strip(), str(r[3]).strip())
        for r in rows[HEADER_ROW:]
        if len(r) > max(col, 3) and is_mark(r[col])
    }
    return frozenset(chosen) or None


def read_selection(master: Path) -> Selection:
    """The rows marked «Ta med i rapport» in ``master`` (all, when none is marked or no master)."""
    if not master.is_file():
        return Selection()
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(master))
    except (OSError, ValueError, python_calamine.CalamineError) as exc:
        raise WorkbookReadError(
            t("report.master-unreadable", path=str(master)), str(master)
        ) from exc
    return _selection(wb)


def _sheet_rows(wb: python_calamine.CalamineWorkbook, key: str) -> list[list[Any]] | None:
    names = {t(f"master.sheet.{key}", lang) for lang in LANGUAGES}
    for name in wb.sheet_names:
        if name in names:
            rows: list[list[Any]] = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return rows
    return None


def _selection(wb: python_calamine.CalamineWorkbook) -> Selection:
    found: dict[str, frozenset[tuple[str, str]] | None] = {"comments": None, "assessments": None}
    for key in found:
        rows = _sheet_rows(wb, key)
        if rows is not None:
            found[key] = _marked(rows)
    return Selection(comments=found["comments"], lessons=found["assessments"])


def _period(wb: python_calamine.CalamineWorkbook) -> str | None:
    """The period code on the master's Om sheet («Periode»: ``CODE (label)``)."""
    rows = _sheet_rows(wb, "about")
    keys = {t("master.about.period", lang) for lang in LANGUAGES}
    for r in rows or ():
        if len(r) > 1 and str(r[0]).strip() in keys:
            return str(r[1]).split(" (", 1)[0].strip() or None
    return None


def carried_marks(master: Path, period: str) -> Selection:
    """The marks of an existing master of ``period``, to write into the one replacing it.

    Read only (python-calamine, the file is never changed). No master, an unreadable one, one
    of another period or one whose column cannot be read gives no marks (all included).
    """
    if not master.is_file():
        return Selection()
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(master))
        if _period(wb) != period:
            return Selection()
        return _selection(wb)
    # A master the controller broke must not stop the run that replaces it.
    except (OSError, ValueError, IndexError, python_calamine.CalamineError):
        return Selection()
