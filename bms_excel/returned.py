"""A returned unit's new workbook: the same period, its own return filled in, the reason shown.

The workbook is generated like any other (signed, protected, with the last periods and the
KOSTRA rows), with the unit's accepted values, comments and actions in its input cells
(:meth:`~bms_excel.generate.WorkbookWriter.fill`'s ``filled``) and the controller's reason in
a section at the foot of Veiledning. When the unit sends it back, consolidation supersedes its
earlier return with it (the history keeps both, with the audit events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.styles import Alignment

from bms_excel.errors import OutputError, TemplateError
from bms_excel.generate import WorkbookWriter, guard_workbook, safe_filename, save_atomic
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.unit_results import UnitInputs

if TYPE_CHECKING:
    from bms_excel.dialogue import UnitFollowUp
    from bms_excel.history import DialogueEvent
    from bms_excel.kostra_import import KostraView

#: Folder (below the period's generated folder) for the workbooks of returned units.
RETURNED_FOLDER = "returnert"


def write_returned_workbook(
    definition: Definition,
    period: str,
    unit_code: str,
    event: DialogueEvent,
    inputs: UnitInputs,
    *,
    out_dir: Path,
    secret: bytes,
    lang: str = "nb",
    template: Path | None = None,
    history: Mapping[tuple[str, str], list[tuple[str, str]]] | None = None,
    kostra: Mapping[str, KostraView] | None = None,
    followup: Mapping[str, UnitFollowUp] | None = None,
    now: dt.datetime | None = None,
) -> Path:
    """Write ``unit_code``'s returned workbook into ``out_dir``; return its path.

    The file has the name the unit's first workbook had (``<period>_<unit>.xlsx``), so a unit
    that saves over its old copy sends the corrected one.
    """
    writer = WorkbookWriter(
        definition,
        period,
        secret=secret,
        lang=lang,
        template=template,
        history=dict(history or {}),
        kostra=kostra,
        now=now,
        followup=followup,
    )
    unit = definition.unit(unit_code)
    writer.check_templates([unit])
    wb, layout = writer.fill(unit, inputs)
    guide = wb[layout.sheets.guide]
    row = guide.max_row + 2
    heading, body = guide["A1"], guide["A3"]
    guide.cell(row, 1, t("wb.guide.returned-title", lang))._style = copy(heading._style)
    text = t("wb.guide.returned-reason", lang, at=event.at[:10], by=event.by, reason=event.reason)
    cell = guide.cell(row + 1, 1, text)
    cell._style = copy(body._style)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    guide.row_dimensions[row + 1].height = max(30.0, 15.0 * (1 + len(text) // 90))
    problems = guard_workbook(wb)
    path = out_dir / safe_filename(period, unit.code)
    if problems:
        raise TemplateError(
            t("generate.guard", None, unit=unit.code, problems="; ".join(problems[:10])),
            str(path.name),
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(out_dir), detail=str(exc))
        ) from exc
    save_atomic(wb, path)
    return path
