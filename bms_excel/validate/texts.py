"""The Tiltak and Vurdering sheets of a trusted workbook: action rows and assessments, with the
checks on their texts and dates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bms_excel.records import ActionRecord, AssessmentRecord
from bms_excel.validate.context import FileContext, cell_text
from bms_excel.values import is_formula_injection
from bms_excel.xlsx.cells import a1, parse_a1

if TYPE_CHECKING:
    from bms_excel.model import Period
    from bms_excel.reader import CellValue

_TEXT_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")


def as_date(value: CellValue | None) -> dt.date | str | None:
    """A cell as a date; ``"bad"`` when it holds something that is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        m = _TEXT_DATE.match(value)
        if m:
            try:
                return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return "bad"
    return "bad"


def extract_actions(ctx: FileContext) -> None:
    """An action record for every filled-in row of the action table, and the findings on it."""
    sheet = ctx.sheet(ctx.layout.sheets.actions)
    cells = ctx.data.values.get(sheet, {})
    acts = ctx.layout.actions
    cols = {role: parse_a1(f"{col}1")[1] for role, col in acts.columns.items()}
    codes = {c.code for c in ctx.layout.scorecard.indicators}
    period = ctx.index.periods[ctx.period]
    area = [(r, c) for r in range(acts.first_row, acts.last_row + 1) for c in cols.values()]
    _formulas_in_text(ctx, sheet, area)
    columns = set(cols.values())
    filled = {r for (r, c) in cells if c in columns and acts.first_row <= r <= acts.last_row}
    for row in sorted(filled):
        got = {role: cells.get((row, col)) for role, col in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in got.values()):
            continue
        refs = {role: f"{col}{row}" for role, col in acts.columns.items()}
        ctx.extract.actions.append(_action(ctx, sheet, got, refs, codes, period, row))


def _action(
    ctx: FileContext,
    sheet: str,
    got: Mapping[str, CellValue | None],
    refs: Mapping[str, str],
    codes: set[str],
    period: Period,
    row: int,
) -> ActionRecord:
    """One action row (its cells by role, ``refs`` their addresses) as a record, with a
    finding for each missing or doubtful field."""
    add = ctx.findings.add
    action = cell_text(got["action"]).strip()
    responsible = cell_text(got["responsible"]).strip() or None
    code = cell_text(got["code"]).strip() or None
    if not action:
        add("action-without-text", sheet, refs["action"])
    if responsible is None:
        add("action-without-owner", sheet, refs["responsible"])
    deadline = _deadline(ctx, sheet, got["deadline"], refs["deadline"], period)
    if code is not None and code not in codes:
        add("unknown-code", sheet, refs["code"], code=code)
    if action and is_formula_injection(action):
        add("formula-injection", sheet, refs["action"])
    return ActionRecord(
        unit=ctx.identity.unit or "",
        period=ctx.period,
        indicator=code,
        action=action,
        responsible=responsible,
        deadline=deadline,
        status=cell_text(got["status"]).strip() or None,
        file=ctx.file,
        sha256=ctx.sha256,
        row=row,
    )


def _deadline(
    ctx: FileContext, sheet: str, value: CellValue | None, ref: str, period: Period
) -> dt.date | None:
    """An action's deadline as a date (``None`` when missing or unreadable), with a finding
    for a missing, unreadable, absurd or past one."""
    deadline = as_date(value)
    if deadline is None:
        ctx.findings.add("action-without-deadline", sheet, ref)
        return None
    if not isinstance(deadline, dt.date):
        ctx.findings.add("bad-date", sheet, ref, text=cell_text(value))
        return None
    if not period.year - 1 <= deadline.year <= period.year + 10:
        ctx.findings.add("absurd-date", sheet, ref, date=deadline.isoformat())
    elif deadline < (period.start or period.end.replace(month=1, day=1)):
        ctx.findings.add("date-in-past", sheet, ref, date=deadline.isoformat())
    return deadline


def _formulas_in_text(ctx: FileContext, sheet: str, cells: list[tuple[int, int]]) -> None:
    """``formula-in-input`` for each of ``cells`` (text inputs) that holds a formula."""
    formulas = ctx.data.formulas.get(sheet, frozenset())
    for rc in sorted(set(cells) & formulas):
        ctx.findings.add("formula-in-input", sheet, a1(*rc), key="validate.formula-in-text")


def extract_assessments(ctx: FileContext) -> None:
    """An assessment record for every focus area with an assessment or a lesson learned."""
    sheet = ctx.sheet(ctx.layout.sheets.assessment)
    cells = ctx.data.values.get(sheet, {})
    rows = ctx.layout.assessment
    _formulas_in_text(
        ctx, sheet, [parse_a1(ref) for row in rows for ref in (row.assessment_ref, row.learned_ref)]
    )
    for row in rows:
        texts = []
        for ref in (row.assessment_ref, row.learned_ref):
            value = cells.get(parse_a1(ref))
            text = None if value is None or not str(value).strip() else str(value)
            if text is not None and is_formula_injection(text):
                ctx.findings.add("formula-injection", sheet, ref)
            texts.append(text)
        if any(texts):
            ctx.extract.assessments.append(
                AssessmentRecord(
                    unit=ctx.identity.unit or "",
                    period=ctx.period,
                    focus_area=row.area,
                    assessment=texts[0],
                    learned=texts[1],
                    file=ctx.file,
                    sha256=ctx.sha256,
                )
            )
