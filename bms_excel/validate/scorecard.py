"""The Målekort sheet of a trusted workbook: find each indicator's row, check its locked cells
and turn its result and comment into a :class:`~bms_excel.records.ValueRecord`.

Values are recovered by indicator code where rows or columns were inserted but the code is still
unambiguous, with a warning, so one careless edit does not lose a unit's data.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bms_excel.records import ValueRecord
from bms_excel.status import Status, evaluate, percent_from_fraction
from bms_excel.validate.context import FileContext, cell_text
from bms_excel.values import ParsedValue, is_formula_injection, parse_value
from bms_excel.xlsx.cells import a1, parse_a1

if TYPE_CHECKING:
    from bms_excel.layout import IndicatorCells
    from bms_excel.model import Indicator
    from bms_excel.reader import CellValue

Cell = tuple[int, int]

#: The layout's references repeat from file to file: each is parsed once per process.
_parse_a1 = functools.lru_cache(maxsize=4096)(parse_a1)


@dataclass(frozen=True, slots=True)
class _Page:
    """The scorecard sheet as read: values, and the cells with a formula, an Excel error value
    or a percent format."""

    name: str
    cells: Mapping[Cell, CellValue]
    formulas: frozenset[Cell]
    errors: Mapping[Cell, str]
    percent: frozenset[Cell]
    gone: bool


@dataclass(frozen=True, slots=True)
class _Row:
    """One indicator row as found: its cells in the layout, moved by ``shift``."""

    ind: Indicator
    at: IndicatorCells
    shift: Cell

    def cell(self, ref: str) -> Cell:
        """Where the layout's ``ref`` is now."""
        row, col = _parse_a1(ref)
        return row + self.shift[0], col + self.shift[1]


def extract_values(ctx: FileContext) -> None:
    """A value record for every input indicator of the scorecard, and the findings on it."""
    data, name = ctx.data, ctx.sheet(ctx.layout.sheets.scorecard)
    page = _Page(
        name,
        data.values.get(name, {}),
        data.formulas.get(name, frozenset()),
        data.errors.get(name, {}),
        data.percent.get(name, frozenset()),
        gone=name not in data.values,
    )
    meta_rows = _meta_rows(ctx.identity.fields)
    for cells_at in ctx.layout.scorecard.indicators:
        ind = ctx.index.indicators[cells_at.code]
        # A missing sheet: "sheet-missing" already says it; one finding per indicator is noise.
        row = None if page.gone else _find_row(ctx, page, ind, cells_at, meta_rows)
        if not cells_at.input:
            continue
        if row is None:
            ctx.extract.values.append(_lost_value(ctx, ind.code))
        else:
            ctx.extract.values.append(_value_record(ctx, page, row))


def _find_row(
    ctx: FileContext,
    page: _Page,
    ind: Indicator,
    cells_at: IndicatorCells,
    meta_rows: Mapping[str, int],
) -> _Row | None:
    """Where indicator ``ind`` is on the sheet (``None``: not found), with the findings on a
    moved row and a changed name."""
    code_row, code_col = _parse_a1(cells_at.code_ref)
    found = locate_indicator(page.cells, ind.code, meta_rows.get(ind.code, code_row), code_col)
    if found is None:
        ctx.findings.add("indicator-not-found", page.name, cells_at.code_ref, code=ind.code)
        return None
    row = _Row(ind, cells_at, (found[0] - code_row, found[1] - code_col))
    if row.shift != (0, 0):
        expected = cells_at.code_ref
        ctx.findings.add(
            "structure-changed", page.name, a1(*found), code=ind.code, expected=expected
        )
    name_rc = row.cell(cells_at.name_ref)
    if cell_text(page.cells.get(name_rc)).strip() != ind.name:
        ctx.findings.add("locked-cell-changed", page.name, a1(*name_rc), code=ind.code)
    return row


def locate_indicator(cells: Mapping[Cell, CellValue], code: str, row: int, col: int) -> Cell | None:
    """Where the code cell of indicator ``code`` is now: its own place, else the one place
    in the sheet holding exactly that code (rows or columns inserted), else None."""
    if cell_text(cells.get((row, col))).strip() == code:
        return row, col
    hits = [rc for rc, v in cells.items() if isinstance(v, str) and v.strip() == code]
    return hits[0] if len(hits) == 1 else None


def _lost_value(ctx: FileContext, indicator: str) -> ValueRecord:
    """The record of a value that could not be read: missing, flagged so it is not aggregated."""
    return ValueRecord(
        ctx.unit.code,
        ctx.period,
        indicator,
        "missing",
        file=ctx.file,
        sha256=ctx.sha256,
        has_error=True,
    )


def _meta_rows(fields: Mapping[str, str]) -> dict[str, int]:
    try:
        rows = json.loads(fields.get("rows") or "{}")
    except ValueError:
        return {}
    return (
        {str(k): int(v) for k, v in rows.items() if isinstance(v, int)}
        if isinstance(rows, dict)
        else {}
    )


def _value_record(ctx: FileContext, page: _Page, row: _Row) -> ValueRecord:
    """The record of one indicator's result and comment, after every check on them."""
    ind = row.ind
    res_rc, com_rc = row.cell(row.at.result_ref), row.cell(row.at.comment_ref)
    res_ref, com_ref = a1(*res_rc), a1(*com_rc)
    raw = page.cells.get(res_rc)
    # An error value (#DIV/0!, #N/A …) reads as an empty cell: it is what the workbook shows.
    shown = page.errors.get(res_rc)
    comment_raw = page.cells.get(com_rc)
    comment = None if comment_raw is None or not str(comment_raw).strip() else str(comment_raw)
    has_error = False
    if res_rc in page.formulas:
        ctx.findings.add("formula-in-input", page.name, res_ref, code=ind.code)
        has_error = True
    elif shown is not None:
        ctx.findings.add("excel-error", page.name, res_ref, code=ind.code, error=shown)
        has_error = True
    if com_rc in page.formulas:
        ctx.findings.add("formula-in-input", page.name, com_ref, key="validate.formula-in-text")
    parsed, value, has_error = _judge_result(ctx, page, ind, raw, res_rc, has_error)
    rule = ctx.index.rule(ind, ctx.unit, ctx.period)
    status = evaluate(rule, value if parsed.kind == "number" and not has_error else None)
    if comment is None and _comment_needed(ind.comment_required, status):
        ctx.findings.add("comment-required", page.name, com_ref, code=ind.code)
    if comment is not None and is_formula_injection(comment):
        ctx.findings.add("formula-injection", page.name, com_ref)
    kind = "invalid" if has_error else parsed.kind
    return ValueRecord(
        unit=ctx.unit.code,
        period=ctx.period,
        indicator=ind.code,
        kind=kind,
        value=value if kind == "number" else None,
        raw=shown if shown is not None else None if raw is None else cell_text(raw),
        comment=comment,
        source="unit",
        file=ctx.file,
        sha256=ctx.sha256,
        has_error=has_error,
    )


def _judge_result(
    ctx: FileContext,
    page: _Page,
    ind: Indicator,
    raw: CellValue | None,
    res_rc: Cell,
    has_error: bool,
) -> tuple[ParsedValue, float | None, bool]:
    """The result cell parsed as the indicator's kind: the parse, the value to use and whether
    the cell is in error, with a finding for each problem."""
    res_ref, add = a1(*res_rc), ctx.findings.add
    percent = ind.unit_of_measure.strip() == "%"
    parsed = parse_value(raw, percent=percent, answer=ind.kind == "yes_no")
    value = parsed.value
    if percent and res_rc in page.percent and parsed.code is None and value is not None:
        # Excel's percent entry: "68 %" typed is 0.68 in a percent-formatted cell; the
        # workbook's own status formula reads it as 68 too (status.percent_entry_value).
        shown = cell_text(percent_from_fraction(value))
        add(
            "percent-entry",
            page.name,
            res_ref,
            code=ind.code,
            fraction=cell_text(value),
            value=shown,
        )
        value = percent_from_fraction(value)  # 68, as the workbook's status formula reads it
    if parsed.kind == "number" and parsed.code == "text-number":
        # One rule with the workbook: a number stored as text is «Ugyldig» there and keeps
        # «Klar til innsending» at NEI, so it is an error here too and is not used; the
        # message says which number it would be, so it can be typed in again.
        text = parsed.text or ""
        add("text-number", page.name, res_ref, code=ind.code, text=text, value=cell_text(value))
        has_error = True
    elif parsed.kind == "invalid":
        add("not-a-number", page.name, res_ref, code=ind.code, text=cell_text(raw))
        has_error = True
    elif parsed.kind == "missing" and not has_error:
        # A formula without a cached result (written by a script, never recalculated) reads as
        # blank: the formula is the problem, not a missing value.
        add("missing-value", page.name, res_ref, code=ind.code)
    if parsed.kind == "number" and value is not None and ind.valid_range is not None:
        low, high = ind.valid_range
        if not low <= value <= high:
            add(
                "out-of-range",
                page.name,
                res_ref,
                code=ind.code,
                value=cell_text(value),
                low=cell_text(low),
                high=cell_text(high),
            )
            has_error = True
    return parsed, value, has_error


def _comment_needed(rule: str, status: Status) -> bool:
    if rule == "always":
        return True
    if rule == "when_red":
        return status == Status.RED
    if rule == "when_not_green":
        return status in (Status.RED, Status.YELLOW)
    return False
