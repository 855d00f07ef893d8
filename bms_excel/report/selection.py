"""The controller's choice of comments and lessons, read back from the master workbook.

A controller who wants only some of the units' comments and assessments in the report adds a
column headed «Ta med i rapport» (nynorsk the same, English "Include in report") to the
master's Kommentarer and/or Vurderinger sheet (header row 3, beside the others) and marks the
rows to include (any text but «nei»/«no»/«0»). A sheet without that column, or with no row
marked, means all of them. Rows are matched by unit code and indicator code (Kommentarer) or
focus area code (Vurderinger), the master's first and fourth columns.
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
_NO = {"", "nei", "no", "0", "false", "usant"}


def _marked(rows: Sequence[Sequence[Any]]) -> frozenset[tuple[str, str]] | None:
    if len(rows) < HEADER_ROW:
        return None
    headers = [str(h).strip() for h in rows[HEADER_ROW - 1]]
    names = {t("report.include-column", lang) for lang in LANGUAGES}
    col = next((i for i, h in enumerate(headers) if h in names), None)
    if col is None:
        return None
    chosen = {
        (str(r[0]).strip(), str(r[3]).strip())
        for r in rows[HEADER_ROW:]
        if len(r) > max(col, 3) and str(r[col]).strip().casefold() not in _NO
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
    found: dict[str, frozenset[tuple[str, str]] | None] = {"comments": None, "assessments": None}
    for key in found:
        names = {t(f"master.sheet.{key}", lang) for lang in LANGUAGES}
        for name in wb.sheet_names:
            if name in names:
                found[key] = _marked(wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
                break
    return Selection(comments=found["comments"], lessons=found["assessments"])
