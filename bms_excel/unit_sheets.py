"""The sheet writers of a unit workbook: Målekort, Tiltak, Vurdering, Kontroll, lists, ``_meta``.

Coordinates come from :mod:`bms_excel.layout`, status formulas from :mod:`bms_excel.status`,
all text from the catalogue. Every cell goes through one :class:`CellWriter`, which resolves
each (prototype style, lock, number format, fill) combination to a style once per run instead
of once per cell, and notes every cell it writes so that the per-unit guard checks exactly the
cells that vary between units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from babel.numbers import format_decimal
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple, get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.errors import TemplateError
from bms_excel.i18n import t
from bms_excel.kostra import status_label as kostra_status_label
from bms_excel.layout import (
    ACTION_STATUSES,
    HIDDEN_ROLES,
    PREVIOUS_LEARNED_COLUMN,
    IndicatorCells,
    UnitLayout,
    sheet_ref,
    unit_focus_areas,
)
from bms_excel.limit_text import limits_text, plan_target_text, target_text
from bms_excel.model import (
    Definition,
    Factor,
    FocusArea,
    Goal,
    Indicator,
    Period,
    Unit,
    effective_target,
    is_count,
)
from bms_excel.status import (
    NOT_APPLICABLE_WORDS,
    STATUS_COLOURS,
    Status,
    StatusRule,
    excel_status_formula,
    percent_entry_value,
    resolve_rule,
    status_label,
)
from bms_excel.templates import LoadedTemplate, clean_text, format_date, render_header
from bms_excel.unit_results import (
    ScorecardResults,
    UnitInputs,
    comment_missing_result,
    control_results,
    out_of_range_result,
    percent_entry,
    status_result,
)
from bms_excel.values import parse_value
from bms_excel.xlsx.cached_formula import Formula
from bms_excel.xlsx.limits import CELL_TEXT_LIMIT, DV_LIMITS
from bms_excel.xlsx.package import FrozenCell
from bms_excel.xlsx.printing import page_setup, smallest_font, text_lines

if TYPE_CHECKING:
    from bms_excel.history import ExternalFigure
    from bms_excel.kostra_import import KostraView

History = Mapping[tuple[str, str], Sequence[tuple[str, str]]]

_LOCKED = Protection(locked=True)
_UNLOCKED = Protection(locked=False)
_TEXT_MAX = "32767"
_LOCALES = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


#: A string that is meant to be a formula (everything else is written as text), with the result
#: it computes (written as the cell's cached value).
_Formula = Formula


_coordinate = lru_cache(maxsize=65536)(coordinate_to_tuple)
_new_cell = object.__new__
#: At most this many rows are kept for reuse (:meth:`CellWriter.keep`), a few MB.
_KEPT_ROWS = 4096
#: Texts this short are never over Excel's cell limit (see ``over_cell_limit``).
_SHORT_TEXT = CELL_TEXT_LIMIT // 2
_ILLEGAL = ILLEGAL_CHARACTERS_RE


class CellWriter:
    """Writes the cells of one reused workbook; styles are resolved once per run.

    A cell's style is its prototype's style with the lock, number format and fill this cell
    needs. Setting those through openpyxl's descriptors hashes style objects on every call, so
    each combination is resolved once on a scratch cell and its :class:`StyleArray` reused
    (the workbook's style tables only grow, so the indices stay valid for the whole run).
    """

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.written: list[tuple[Worksheet, Cell]] = []
        self._styles: dict[tuple[object, ...], StyleArray] = {}
        self._keep: list[StyleArray] = []  # the keyed prototypes stay alive, ids stay unique
        #: Validations and formatting rules built once per run and shared by the workbooks
        #: (openpyxl only reads them when saving; see :func:`write_scorecard`).
        self.memo: dict[tuple[object, ...], Any] = {}
        #: Rows written before, by everything their cells are made of (see :meth:`reuse`).
        self.rows: dict[tuple[object, ...], tuple[dict[tuple[int, int], Cell], float | None]] = {}

    def style(
        self,
        base: StyleArray,
        *,
        unlocked: bool = False,
        number_format: str | None = None,
        fill: str | None = None,
    ) -> StyleArray:
        """``base`` with the given lock, number format and solid fill (cached per run)."""
        # Prototype styles live as long as the loaded template, so their identity is a key.
        key = (id(base), unlocked, number_format, fill)
        found = self._styles.get(key)
        if found is None:
            self._keep.append(base)
            scratch = Cell(self.wb.worksheets[0], row=1, column=1, style_array=base)
            if scratch.protection.locked == unlocked:
                scratch.protection = _UNLOCKED if unlocked else _LOCKED
            if number_format is not None:
                scratch.number_format = number_format
            if fill is not None:
                scratch.fill = _fill(fill)
            found = self._styles[key] = scratch._style
        return found

    def reuse(self, ws: Worksheet, key: tuple[object, ...]) -> float | bool | None:
        """Put the cells kept under ``key`` back into ``ws``; their row's height, or False.

        A row whose content, styles and place equal one written for an earlier unit gets the
        very same cell objects (they are never changed once written) instead of new ones.
        They are not :attr:`written` again: the guard has passed them with that unit's
        workbook (a writer whose guard fails forgets its rows, see :meth:`forget`).
        """
        found = self.rows.get(key)
        if found is None:
            return False
        cells, height = found
        ws._cells.update(cells)
        return height

    def freeze(self, start: int) -> None:
        """Mark the cells written since ``len(self.written)`` was ``start`` as never changed
        again (:class:`~bms_excel.xlsx.package.FrozenCell`: their rows' XML may be reused)."""
        for _, cell in self.written[start:]:
            cell.__class__ = FrozenCell

    def forget(self) -> None:
        """Drop every kept row (after a guard found problems in a workbook)."""
        self.rows.clear()

    def keep(self, key: tuple[object, ...], start: int, height: float | None) -> None:
        """Keep the cells written since ``len(self.written)`` was ``start`` under ``key``."""
        if len(self.rows) >= _KEPT_ROWS:
            self.rows.clear()
        cells = {(cell.row, cell.column): cell for _, cell in self.written[start:]}
        self.freeze(start)
        self.rows[key] = (cells, height)

    def put(
        self,
        ws: Worksheet,
        ref: str,
        value: object,
        base: StyleArray | None = None,
        *,
        unlocked: bool = False,
        number_format: str | None = None,
        fill: str | None = None,
        text: bool = False,
        raw: bool = False,
    ) -> Cell:
        """Write ``value`` at ``ref``; text is cleaned and never becomes a formula.

        Only a :class:`_Formula` is stored as a formula; ``text=True`` stores the value with
        the text type. ``raw=True`` skips the cleaning (signed ``_meta`` values must be stored
        exactly or not at all: openpyxl raises on a control character). Without ``base`` the
        cell keeps the default style.
        """
        row, column = _coordinate(ref)
        # What ``Cell(ws, row, column, style_array=...)`` does, without its call chain:
        # thousands of cells per workbook.
        cell = _new_cell(Cell)
        cell.parent, cell.row, cell.column = ws, row, column
        cell._value, cell.data_type, cell._hyperlink, cell._comment = None, "n", None, None
        if base is None:
            cell._style = None
        else:
            style = self.style(base, unlocked=unlocked, number_format=number_format, fill=fill)
            cell._style = StyleArray(style)  # a copy, as Cell makes
        kind = type(value)
        if value is None:
            pass
        elif (kind is str or kind is _Formula) and not raw:
            # What openpyxl's value setter would do with an already cleaned text, minus the
            # checks clean_text has made: a formula only when asked for, error codes kept.
            given = cast(str, value)
            if len(given) <= _SHORT_TEXT and _ILLEGAL.search(given) is None:
                cleaned = given  # nearly always: nothing to clean, nothing too long
            else:
                cleaned = clean_text(given, f"'{ws.title}'!{ref}")
            cell._value = cleaned
            if kind is _Formula and len(cleaned) > 1 and cleaned.startswith("="):
                if cleaned is not given:
                    cell._value = _Formula(cleaned, cast(Formula, given).result)
                cell.data_type = "f"
            else:
                cell.data_type = "e" if cleaned in ERROR_CODES and not text else "s"
        elif kind is int or kind is float:
            cell._value, cell.data_type = value, "n"
        else:
            is_formula = isinstance(value, _Formula) and value.startswith("=")
            cell.value = value
            if isinstance(value, str) and (text or (cell.data_type == "f" and not is_formula)):
                cell.data_type = "s"
        ws._cells[(row, column)] = cell
        self.written.append((ws, cell))
        return cell


#: Målekort columns whose generated text wraps (the row height is made to fit them).
_WRAPPED_ROLES = ("name", "measure", "target", "limits", "comment_rule", "owner")


#: Read-only cells carried from the period before (last period's lessons) are grey.
_PREVIOUS_FILL = "F2F2F2"


def _fill(colour: str) -> PatternFill:
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


@lru_cache(maxsize=4096)
def _fmt(value: float, lang: str) -> str:
    return format_decimal(value, locale=_LOCALES.get(lang, "nb_NO"), decimal_quantization=False)


def _history_value(raw: str, percent: bool, answer: bool = False, lang: str = "nb") -> object:
    parsed = parse_value(raw, percent=percent, answer=answer)
    if parsed.kind == "number" and answer:
        return t("wb.answer.yes" if parsed.value == 1 else "wb.answer.no", lang)
    if parsed.kind == "number":
        return parsed.value
    return None if parsed.kind == "missing" else raw


def _comment_missing_formula(
    rule: str, status: str, comment: str, lang: str, result: int | None = None
) -> str:
    blank = f"LEN(TRIM({comment}))=0"
    red, yellow = status_label(Status.RED, lang), status_label(Status.YELLOW, lang)
    condition = {
        "never": None,
        "when_red": f'{status}="{red}"',
        "when_not_green": f'OR({status}="{red}",{status}="{yellow}")',
        "always": "TRUE",
    }[rule]
    if condition is None:
        return _Formula("=0", result)
    return _Formula(f"=IF(AND({condition},{blank}),1,0)", result)


def _with_plan_end(target: str, plan_end: str) -> str:
    """This period's target with the economic plan's end target on a line of its own."""
    return f"{target}\n{plan_end}" if plan_end else target


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def with_description(prompt: str, description: str | None) -> str:
    """The input message of a result cell: the indicator's ``description`` first, then how
    to fill it in; the description is shortened with "…" to keep within Excel's 255
    characters (:data:`bms_excel.xlsx.limits.DV_LIMITS`), the instruction is never cut."""
    if not description:
        return prompt
    text = " ".join(description.split())
    room = DV_LIMITS["prompt"] - _utf16_len(prompt) - 2
    if room < 10:
        return prompt
    if _utf16_len(text) > room:
        while _utf16_len(text) > room - 1:
            text = text[:-1]
        text = text.rstrip() + "…"
    return f"{text}\n\n{prompt}"


def _answer_validation(ref: str, lang: str, description: str | None = None) -> DataValidation:
    """A yes/no indicator's result cell: a dropdown of Ja, Nei and i.a."""
    words = (t("wb.answer.yes", lang), t("wb.answer.no", lang), NOT_APPLICABLE_WORDS[0])
    return DataValidation(
        type="list",
        formula1='"' + ",".join(words) + '"',
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=t("wb.dv.result.title", lang),
        prompt=with_description(t("wb.dv.answer.prompt", lang), description),
        errorTitle=t("wb.dv.result.error-title", lang),
        error=t("wb.dv.answer.error", lang),
        sqref=ref,
    )


def _result_validation(ind: Indicator, ref: str, na_name: str, lang: str) -> DataValidation:
    if ind.kind == "yes_no":
        return _answer_validation(ref, lang, ind.description)
    measure = ind.unit_of_measure or "–"
    if ind.valid_range is not None:
        low, high = ind.valid_range
        number = f"AND(ISNUMBER({ref}),{ref}>={low!r},{ref}<={high!r})"
        prompt = t(
            "wb.dv.result.prompt-range",
            lang,
            low=_fmt(low, lang),
            high=_fmt(high, lang),
            measure=measure,
        )
    else:
        number = f"ISNUMBER({ref})"
        prompt = t("wb.dv.result.prompt", lang, measure=measure)
    if is_count(ind):
        # A count is a whole number (checks.COUNT_MEASURES): Excel refuses 2,5 at entry.
        number = f"AND({number},{ref}=INT({ref}))"
    prompt = with_description(prompt, ind.description)
    return DataValidation(
        type="custom",
        formula1=f"OR({number},ISNUMBER(MATCH(TRIM({ref}),{na_name},0)))",
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=t("wb.dv.result.title", lang),
        prompt=prompt,
        errorTitle=t("wb.dv.result.error-title", lang),
        error=t("wb.dv.result.error", lang),
        sqref=ref,
    )


def _text_validation(
    refs: Iterable[str], prompt: str, lang: str, title: str | None = None
) -> DataValidation:
    return DataValidation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1=_TEXT_MAX,
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=title or t("wb.dv.text.title", lang),
        prompt=prompt,
        errorTitle=t("wb.dv.text.error-title", lang),
        error=t("wb.dv.text.error", lang),
        sqref=" ".join(refs),
    )


def write_scorecard(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    definition: Definition,
    unit: Unit,
    ctx: Mapping[str, object],
    history: History,
    kostra: Mapping[str, KostraView] | None = None,
    inputs: UnitInputs | None = None,
) -> ScorecardResults:
    """Målekort: header row, group rows, one row per indicator with inputs, status and checks.

    A KOSTRA row shows the unit's figure of the period's KOSTRA year from ``kostra`` (locked):
    the number, with a status formula over it, or SSB's status text (never 0). ``inputs``
    pre-fills result and comment cells. Every formula carries its result; the returned
    :class:`ScorecardResults` feed the Kontroll sheet's.
    """
    inputs = inputs or UnitInputs()
    found = ScorecardResults()
    sc = layout.scorecard
    letters: dict[str, list[str]] = {role: [col] for role, col in sc.columns.items()}
    letters["history"] = list(sc.history_columns)
    _scorecard_header(out, tpl, layout, ctx, letters)
    place = tuple((role, tuple(cols)) for role, cols in letters.items())
    _scorecard_groups(out, tpl, layout, definition, letters, place)
    comment_refs: list[str] = []
    for cells in sc.indicators:
        ind = definition.indicator(cells.code)
        values, rule = _indicator_values(
            out.memo, layout, definition, unit, ind, cells, inputs, found
        )
        if not cells.input and ind.source == "kostra" and kostra:
            values.update(
                _kostra_cells(kostra.get(ind.code), unit, rule, cells.result_ref, layout.language)
            )
        shown = values.get("status")
        found.status_cells.append(getattr(shown, "result", shown))
        past = dict(history.get((unit.code, ind.code), ()))
        _indicator_row(out, tpl, layout, ind, cells, values, past, inputs, letters, place)
        if cells.input:
            comment_refs.append(cells.comment_ref)
    _scorecard_rules(out, tpl, layout, comment_refs)
    return found


def _scorecard_header(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    ctx: Mapping[str, object],
    letters: Mapping[str, list[str]],
) -> None:
    """Målekort's column widths (history columns without a period hidden) and header row."""
    ws, sc = tpl.sheets["scorecard"], layout.scorecard
    texts: list[tuple[str, str, str]] = []
    for role, cols in letters.items():
        for i, col in enumerate(cols):
            dim = ws.column_dimensions[col]
            dim.width = tpl.scorecard_widths.get(role) or 10
            # A history column without a defined period before this one stays hidden.
            dim.hidden = role in HIDDEN_ROLES or (role == "history" and not sc.history_periods[i])
            history = sc.history_periods[i] if role == "history" else None
            # Apart from the unit and sector, the context is the same for the whole run.
            key = ("header", role, history)
            text = out.memo.get(key) if role not in tpl.unit_headers else None
            if text is None:
                hctx = {**ctx, "history_period": history} if role == "history" else ctx
                text = render_header(tpl, role, hctx)
                if role not in tpl.unit_headers:
                    out.memo[key] = text
            texts.append((role, col, text))
    row_key = ("header-row", sc.header_row, tuple(texts))
    if out.reuse(ws, row_key) is False:
        start = len(out.written)
        for role, col, text in texts:
            out.put(ws, f"{col}{sc.header_row}", text, tpl.scorecard_headers[role][0])
        out.keep(row_key, start, None)
    ws.row_dimensions[sc.header_row].height = tpl.row_heights[("scorecard", "header")]


def _scorecard_groups(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    definition: Definition,
    letters: Mapping[str, list[str]],
    place: tuple[object, ...],
) -> None:
    """Målekort's group rows: focus area (in its colour), goal and factor (``place`` names
    the columns of ``letters``: an equal row written before is reused)."""
    ws = tpl.sheets["scorecard"]
    objects: dict[tuple[str, str], FocusArea | Goal | Factor] = {}
    for area in definition.focus_areas:
        objects[("area", area.code)] = area
        for goal in area.goals:
            objects[("goal", goal.code)] = goal
            for factor in goal.factors:
                objects[("factor", factor.code)] = factor
    for group in layout.scorecard.groups:
        key = ("group", group.kind, group.code, group.row, place)
        if out.reuse(ws, key) is False:
            start = len(out.written)
            styles = tpl.scorecard_styles[group.kind]
            obj = objects[(group.kind, group.code)]
            colour = obj.colour.lstrip("#").upper() if isinstance(obj, FocusArea) else None
            for role, cols in letters.items():
                label = obj.code if role == "code" else obj.name if role == "name" else None
                for col in cols:
                    out.put(ws, f"{col}{group.row}", label, styles[role], fill=colour)
            out.keep(key, start, None)
        ws.row_dimensions[group.row].height = tpl.row_heights[("scorecard", group.kind)]


def _indicator_values(
    memo: dict[tuple[object, ...], Any],
    layout: UnitLayout,
    definition: Definition,
    unit: Unit,
    ind: Indicator,
    cells: IndicatorCells,
    inputs: UnitInputs,
    found: ScorecardResults,
) -> tuple[dict[str, object], StatusRule]:
    """An indicator row's content by column role (history aside) and its status rule.

    Input rows get the pre-filled result and comment, the status formula and the check
    formulas, whose results are appended to ``found``; read-only rows name their source.
    The content only depends on the indicator, its cells, target, rule and inputs, so it is
    kept in ``memo`` for the run (units share most of it).
    """
    lang, period = layout.language, layout.period
    target, _ = effective_target(ind, unit, period)
    try:
        rule = resolve_rule(ind, definition.settings, unit, period)
    except ValueError as exc:
        raise TemplateError(t("generate.bad-rule", None, code=ind.code, detail=str(exc))) from exc
    raw, comment = inputs.results.get(ind.code), inputs.comments.get(ind.code)
    entered = (type(raw), raw, type(comment), comment, ind.code in inputs.percent)
    key: tuple[object, ...] = ("values", cells, target, rule, lang, *entered)  # hashable
    try:
        known = memo.get(key)
    except TypeError:  # an input value that cannot be a key
        known, key = None, ()
    if known is None:
        values: dict[str, object] = {
            "code": ind.code,
            "name": ind.name,
            "measure": ind.unit_of_measure,
            "target": _with_plan_end(
                t(f"wb.answer.{ind.wanted}", lang)
                if ind.kind == "yes_no"
                else target_text(target, ind, lang),
                plan_target_text(ind, definition.settings.budget_year, lang),
            ),
            "limits": limits_text(rule, ind, lang),
            "owner": ind.owner or "",
        }
        flags = None
        if cells.input:
            flags = _input_values(values, ind, cells, rule, inputs, lang)
        else:
            values["result"] = t(f"wb.source.{ind.source}", lang)
        known = (values, flags)
        if key:
            memo[key] = known
    if known[1] is not None:
        found.comment_flags.append(known[1][0])
        found.range_flags.append(known[1][1])
    return dict(known[0]), rule


def _input_values(
    values: dict[str, object],
    ind: Indicator,
    cells: IndicatorCells,
    rule: StatusRule,
    inputs: UnitInputs,
    lang: str,
) -> tuple[int, int]:
    """Add an input row's result, comment, status and check formulas to ``values``; the
    results of its missing-comment and out-of-range checks."""
    percent = ind.unit_of_measure.strip() == "%"
    raw, comment = inputs.results.get(ind.code), inputs.comments.get(ind.code)
    values["result"], values["comment"] = raw, comment
    # A % indicator reads a percent-formatted fraction as Excel's percent entry meant
    # it (68 % → 68), as the collector does.
    number = percent_entry(raw, percent and ind.code in inputs.percent)
    shown_status = status_result(rule, number, lang)
    values["status"] = _Formula(
        excel_status_formula(rule, cells.result_ref, lang, percent_entry=percent), shown_status
    )
    values["comment_rule"] = t(f"wb.comment-rule.{ind.comment_required}", lang)
    needs_comment = comment_missing_result(ind.comment_required, shown_status, comment, lang)
    values["comment_missing"] = _comment_missing_formula(
        ind.comment_required, cells.status_ref, cells.comment_ref, lang, needs_comment
    )
    beyond = out_of_range_result(ind.valid_range, number)
    if ind.valid_range is not None:
        low, high = ind.valid_range
        ref = cells.result_ref
        v = percent_entry_value(ref) if percent else ref
        values["out_of_range"] = _Formula(
            f"=IF(ISNUMBER({ref}),IF(OR({v}<{low!r},{v}>{high!r}),1,0),0)", beyond
        )
    else:
        values["out_of_range"] = _Formula("=0", beyond)
    return needs_comment, beyond


def _indicator_row(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    ind: Indicator,
    cells: IndicatorCells,
    values: Mapping[str, object],
    past: Mapping[str, str],
    inputs: UnitInputs,
    letters: Mapping[str, list[str]],
    place: tuple[object, ...],
) -> None:
    """Write an indicator's row (``past``: its history by period), its height and validation.

    ``place`` names the columns of ``letters``; a row equal to one written before (same
    cells, content and columns) reuses that row's cells.
    """
    ws, sc, lang = tpl.sheets["scorecard"], layout.scorecard, layout.language
    percent_cell = ind.code in inputs.percent
    content = tuple((k, type(v), v, _result_key(v)) for k, v in values.items())
    history = tuple(past.get(p) for p in sc.history_periods)
    key = ("indicator", cells, place, content, history, percent_cell, lang)
    height = out.reuse(ws, key)
    if height is False:
        start = len(out.written)
        height = _write_indicator_cells(
            out, tpl, layout, ind, cells, values, past, letters, percent_cell
        )
        out.keep(key, start, height)
    ws.row_dimensions[cells.row].height = height
    if cells.input:
        na_name = layout.lists.names["na"]
        memo_key: tuple[object, ...] = ("result", ind.code, cells.result_ref, na_name, lang)
        if memo_key not in out.memo:
            out.memo[memo_key] = _result_validation(ind, cells.result_ref, na_name, lang)
        ws.add_data_validation(out.memo[memo_key])


def _result_key(value: object) -> tuple[object, ...] | None:
    """A formula's result with its type (``1``, ``1.0`` and ``True`` are equal keys)."""
    if isinstance(value, Formula):
        return (type(value.result), value.result)
    return None


def _write_indicator_cells(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    ind: Indicator,
    cells: IndicatorCells,
    values: Mapping[str, object],
    past: Mapping[str, str],
    letters: Mapping[str, list[str]],
    percent_cell: bool,
) -> float | None:
    """The cells of an indicator's row (``percent_cell``: its result has a percent format);
    the row's height."""
    ws, sc, lang = tpl.sheets["scorecard"], layout.scorecard, layout.language
    kind = "input" if cells.input else "readonly"
    styles = tpl.scorecard_styles[kind]
    row = cells.row
    percent = ind.unit_of_measure.strip() == "%"
    numbers = _number_format(ind.decimals)
    for role, cols in letters.items():
        unlocked = cells.input and role in ("result", "comment")
        number_format = numbers if role in ("history", "result") else None
        if role == "result" and percent_cell:
            number_format = "0%"  # as Excel's percent entry leaves the cell
        for i, col in enumerate(cols):
            value: object
            if role == "history":
                past_raw = past.get(sc.history_periods[i])
                value = (
                    None
                    if past_raw is None
                    else _history_value(past_raw, percent, ind.kind == "yes_no", lang)
                )
            else:
                value = values.get(role)
            out.put(
                ws,
                f"{col}{row}",
                value,
                styles[role],
                unlocked=unlocked,
                number_format=number_format,
            )
    # Tall enough for the longest wrapped text the row is generated with (a long name or
    # limit would otherwise be cut: neither Excel nor LibreOffice grows it on opening).
    lines = max(
        text_lines(str(values[role]), tpl.scorecard_widths.get(role))
        for role in _WRAPPED_ROLES
        if isinstance(values.get(role), str)
    )
    height = tpl.row_heights[("scorecard", kind)]
    return max(height or 15, 13 * lines + 4) if lines > 1 else height


def _scorecard_rules(
    out: CellWriter, tpl: LoadedTemplate, layout: UnitLayout, comment_refs: Sequence[str]
) -> None:
    """Målekort's comment validation, status and missing-comment formats and page setup."""
    ws, sc, lang = tpl.sheets["scorecard"], layout.scorecard, layout.language
    if comment_refs:
        key = ("comment", *comment_refs, lang)
        if key not in out.memo:
            prompt = t("wb.dv.comment.prompt", lang)
            out.memo[key] = _text_validation(comment_refs, prompt, lang)
        ws.add_data_validation(out.memo[key])
    # The sheet's formats (reset with the template) depend on the ranges only: the list made
    # for an earlier unit is the list this unit would make.
    formats_key: tuple[object, ...] = ("formats", sc.first_row, sc.last_row, lang)
    formats_key += (tuple(sc.columns.items()),)
    if sc.indicators and formats_key in out.memo:
        ws.conditional_formatting = out.memo[formats_key]
    elif sc.indicators:
        status_range = sc.column_range("status")
        # Shared rules keep the priority of their first ``add``; they are added first and in
        # this order in every workbook, so that is the priority a fresh rule would get.
        if ("status-rules", lang) not in out.memo:
            out.memo[("status-rules", lang)] = [
                CellIsRule(
                    operator="equal",
                    formula=[f'"{status_label(status, lang)}"'],
                    fill=_fill(bg),
                    font=Font(color=fg, bold=status in (Status.RED, Status.INVALID)),
                )
                for status, (bg, fg) in STATUS_COLOURS.items()
            ]
        for rule in out.memo[("status-rules", lang)]:
            ws.conditional_formatting.add(status_range, rule)
        flag = f"${sc.columns['comment_missing']}{sc.first_row}=1"
        ws.conditional_formatting.add(
            sc.column_range("comment"), FormulaRule(formula=[flag], fill=_fill("FFC7CE"))
        )
        out.memo[formats_key] = ws.conditional_formatting
    # The history columns vary per project: fit the scale to this sheet's visible columns.
    if ("smallest-font",) not in out.memo:
        out.memo[("smallest-font",)] = smallest_font(ws)
    page_setup(
        ws,
        smallest_font=out.memo[("smallest-font",)],
        last_col=ws.max_column,
        title_cols="A:B",
    )


def _kostra_cells(
    view: KostraView | None, unit: Unit, rule: StatusRule, result_ref: str, lang: str
) -> dict[str, object]:
    """Result, status and note of a KOSTRA row from the unit's figure (nothing without one)."""
    fig: ExternalFigure | None = view.units.get(unit.code) if view is not None else None
    if view is None or fig is None:
        return {}
    note = t("wb.kostra.fact", lang, year=view.year)
    if fig.status in (None, "ok") and fig.value is not None:
        shown = status_result(rule, fig.value, lang)
        status = _Formula(excel_status_formula(rule, result_ref, lang), shown)
        return {"result": fig.value, "status": status, "comment": note}
    kind = fig.status if fig.status not in (None, "ok") else "not-available"
    known = kind in ("not-applicable", "not-available", "confidential")
    text = kostra_status_label(kind if known else "unknown", lang)  # type: ignore[arg-type]
    shown = (
        status_label(Status.NOT_APPLICABLE, lang)
        if kind == "not-applicable"
        else t("wb.kostra.no-status", lang)
    )
    return {"result": text, "status": shown, "comment": note}


def write_actions(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    period: Period,
    rows: Sequence[Mapping[str, object]] = (),
) -> None:
    """Tiltak: ``action_rows`` input rows (blank, or pre-filled from ``rows``) with dropdowns
    and a date-validated deadline."""
    ws, acts, lang = tpl.sheets["actions"], layout.actions, layout.language
    styles = tpl.table_styles["actions"]
    for row in range(acts.first_row, acts.last_row + 1):
        given = rows[row - acts.first_row] if row - acts.first_row < len(rows) else {}
        for role, col in acts.columns.items():
            number_format = "dd.mm.yyyy" if role == "deadline" else None
            value = given.get(role)
            out.put(
                ws, f"{col}{row}", value, styles[role], unlocked=True, number_format=number_format
            )
        ws.row_dimensions[row].height = tpl.row_heights[("actions", "row")]
    # Only the input rows print, not the empty formatted rows below them.
    last_col = max(column_index_from_string(c) for c in acts.columns.values())
    ws.print_area = f"A1:{get_column_letter(last_col)}{acts.last_row}"
    first, last = dt.date(period.year - 1, 1, 1), dt.date(period.year + 4, 12, 31)
    serial = lambda d: str((d - dt.date(1899, 12, 30)).days)  # noqa: E731 - Excel date serial
    shown = {"start": format_date(first), "end": format_date(last)}
    list_error = t("wb.dv.list.error-title", lang)
    for dv in (
        DataValidation(
            type="list",
            formula1=layout.lists.names["codes"],
            promptTitle=t("wb.dv.code.title", lang),
            prompt=t("wb.dv.code.prompt", lang),
            errorTitle=list_error,
            error=t("wb.dv.code.error", lang),
            sqref=acts.column_range("code"),
        ),
        _text_validation([acts.column_range("action")], t("wb.dv.action.prompt", lang), lang),
        _text_validation(
            [acts.column_range("responsible")], t("wb.dv.responsible.prompt", lang), lang
        ),
        DataValidation(
            type="date",
            operator="between",
            formula1=serial(first),
            formula2=serial(last),
            promptTitle=t("wb.dv.deadline.title", lang),
            prompt=t("wb.dv.deadline.prompt", lang, example=format_date(period.deadline), **shown),
            errorTitle=t("wb.dv.deadline.title", lang),
            error=t("wb.dv.deadline.error", lang, **shown),
            sqref=acts.column_range("deadline"),
        ),
        DataValidation(
            type="list",
            formula1=layout.lists.names["action_status"],
            promptTitle=t("wb.dv.status.title", lang),
            prompt=t("wb.dv.status.prompt", lang),
            errorTitle=list_error,
            error=t("wb.dv.status.error", lang),
            sqref=acts.column_range("status"),
        ),
    ):
        dv.allow_blank = True
        dv.showInputMessage = dv.showErrorMessage = True
        ws.add_data_validation(dv)


def write_assessment(
    out: CellWriter,
    tpl: LoadedTemplate,
    layout: UnitLayout,
    definition: Definition,
    lessons: Mapping[str, str] | None = None,
    previous: str | None = None,
) -> None:
    """Vurdering: per focus area, the unit's assessment and what it has learned.

    With ``previous`` (the period before), a read-only column beside them shows what the unit
    had learned then (``lessons``: focus area code → text).
    """
    ws, lang = tpl.sheets["assessment"], layout.language
    styles = tpl.table_styles["assessment"]
    names = {a.code: a.name for a in definition.focus_areas}
    for a in layout.assessment:
        out.put(ws, a.area_ref, names[a.area], styles["area"])
        out.put(ws, a.assessment_ref, None, styles["assessment"], unlocked=True)
        out.put(ws, a.learned_ref, None, styles["learned"], unlocked=True)
        ws.row_dimensions[a.row].height = tpl.row_heights[("assessment", "row")]
    if previous is not None and layout.assessment:
        header = layout.anchors.assessment_header_row
        learned_col = layout.assessment[0].learned_ref.rstrip("0123456789")
        head = ws[f"{learned_col}{header}"]._style
        out.put(
            ws,
            f"{PREVIOUS_LEARNED_COLUMN}{header}",
            t("wb.assessment.col.previous-learned", lang, period=previous),
            head,
        )
        ws.column_dimensions[PREVIOUS_LEARNED_COLUMN].width = ws.column_dimensions[
            learned_col
        ].width
        for a in layout.assessment:
            text = (lessons or {}).get(a.area) or None
            out.put(ws, a.previous_ref, text, styles["learned"], fill=_PREVIOUS_FILL)
    if layout.assessment:
        ws.add_data_validation(
            _text_validation(
                [a.assessment_ref for a in layout.assessment],
                t("wb.dv.assessment.prompt", lang),
                lang,
            )
        )
        ws.add_data_validation(
            _text_validation(
                [a.learned_ref for a in layout.assessment], t("wb.dv.learned.prompt", lang), lang
            )
        )


def write_guide_definition(
    out: CellWriter, tpl: LoadedTemplate, layout: UnitLayout, definition: Definition, unit: Unit
) -> None:
    """Veiledning, below the template's text: the county's vision and strategies, what each
    focus area means, and the description of each of the unit's indicators (what the
    definition holds, shown where staff look)."""
    ws, lang = tpl.sheets["guide"], layout.language
    heading, body = ws["A5"]._style, ws["A6"]._style  # the template's heading and step styles
    width = ws.column_dimensions["A"].width or 120
    rows: list[tuple[str, StyleArray]] = []
    if definition.vision is not None:
        rows.append((t("wb.guide.vision", lang), heading))
        rows.append((definition.vision.text, body))
        rows += [(f"• {s}", body) for s in definition.vision.strategies]
    areas = unit_focus_areas(definition, unit)
    if any(a.description for a in areas):
        rows.append((t("wb.guide.focus-areas", lang), heading))
        rows += [(f"{a.name}: {a.description}", body) for a in areas if a.description]
    described = [i for i in definition.indicators_for_unit(unit) if i.description]
    if described:
        rows.append((t("wb.guide.indicators", lang), heading))
        rows += [
            (f"{i.code} {i.name}: {' '.join((i.description or '').split())}", body)
            for i in described
        ]
    row = ws.max_row + 1
    # The same texts below the same template: the cells of an earlier unit are reused.
    key = ("guide", id(ws), row, width, *((text, tuple(style)) for text, style in rows))
    reused = out.reuse(ws, key) is not False
    start = len(out.written)
    for text, style in rows:
        row += 1 if style is body else 2
        if not reused:
            out.put(ws, f"A{row}", text, style)
        lines = text_lines(text, width)
        if lines > 1:
            ws.row_dimensions[row].height = 13 * lines + 4
    if not reused:
        out.keep(key, start, None)


def control_formulas(layout: UnitLayout) -> dict[str, str]:
    """The Kontroll count formula of each check (Excel 2007 functions only)."""
    sc, acts, names, lang = layout.scorecard, layout.actions, layout.sheets, layout.language

    def score(role: str) -> str:
        return sheet_ref(names.scorecard, sc.column_range(role), absolute=True)

    def action(role: str) -> str:
        return sheet_ref(names.actions, acts.column_range(role), absolute=True)

    has_action = f"(LEN(TRIM({action('action')}))>0)"
    return {
        "missing": f'=COUNTIF({score("status")},"{status_label(Status.MISSING, lang)}")',
        "invalid": (
            f'=COUNTIF({score("status")},"{status_label(Status.INVALID, lang)}")'
            f"+SUM({score('out_of_range')})"
        ),
        "comment": f"=SUM({score('comment_missing')})",
        "owner": f"=SUMPRODUCT({has_action}*(LEN(TRIM({action('responsible')}))=0))",
        "deadline": f"=SUMPRODUCT({has_action}*(LEN({action('deadline')})=0))",
    }


def write_control(out: CellWriter, tpl: LoadedTemplate, layout: UnitLayout) -> None:
    """Kontroll: live counts, what to fix, and «Klar til innsending: JA/NEI»."""
    ws, ctl, lang = tpl.sheets["control"], layout.control, layout.language
    styles = tpl.table_styles["control"]
    formulas = control_formulas(layout)
    ok = t("wb.control.ok", lang)
    for check in ctl.checks:
        fix = t(f"wb.control.{check.key}.fix", lang).replace('"', '""')
        out.put(ws, check.check_ref, t(f"wb.control.{check.key}", lang), styles["check"])
        out.put(ws, check.count_ref, _Formula(formulas[check.key]), styles["count"])
        fix_formula = _Formula(f'=IF({check.count_ref}>0,"{fix}","{ok}")')
        out.put(ws, check.fix_ref, fix_formula, styles["fix"])
        ws.row_dimensions[check.row].height = tpl.row_heights[("control", "row")]
    counts = f"{ctl.checks[0].count_ref}:{ctl.checks[-1].count_ref}"
    yes, no = t("wb.control.yes", lang), t("wb.control.no", lang)
    ready = ctl.ready
    out.put(ws, ready.check_ref, t("wb.control.ready", lang), styles["ready.check"])
    ready_formula = _Formula(f'=IF(SUM({counts})=0,"{yes}","{no}")')
    out.put(ws, ready.count_ref, ready_formula, styles["ready.count"])
    ready_yes, ready_no = t("wb.control.ready.yes", lang), t("wb.control.ready.no", lang)
    out.put(
        ws,
        ready.fix_ref,
        _Formula(f'=IF({ready.count_ref}="{yes}","{ready_yes}","{ready_no}")'),
        styles["ready.fix"],
    )
    ws.row_dimensions[ready.row].height = tpl.row_heights[("control", "ready")]
    # The results are the unit's (see :func:`set_control_results`), never a kept sheet's.
    ws.conditional_formatting.add(
        counts, CellIsRule(operator="greaterThan", formula=["0"], fill=_fill("FFC7CE"))
    )
    ws.conditional_formatting.add(
        counts, CellIsRule(operator="equal", formula=["0"], fill=_fill("C6EFCE"))
    )
    for word, colour in ((yes, "C6EFCE"), (no, "FFC7CE")):
        ws.conditional_formatting.add(
            ready.count_ref, CellIsRule(operator="equal", formula=[f'"{word}"'], fill=_fill(colour))
        )


def set_control_results(
    tpl: LoadedTemplate, layout: UnitLayout, found: ScorecardResults, inputs: UnitInputs | None
) -> None:
    """Store the Kontroll formulas' results (also on a sheet kept from the previous unit)."""
    ws = tpl.sheets["control"]
    results = control_results(
        layout,
        found.status_cells,
        found.comment_flags,
        found.range_flags,
        inputs.actions if inputs else (),
    )
    for ref, result in results.items():
        cell = ws._cells[_coordinate(ref)]
        cell._value = _Formula(str(cell._value), result)


def write_lists(out: CellWriter, ws: Worksheet, layout: UnitLayout) -> None:
    """The very hidden list sheet: indicator codes, action statuses, not-applicable words.

    Its cells depend on the codes and language only: those of an earlier unit with the same
    are reused (:meth:`CellWriter.reuse`).
    """
    codes = tuple(cells.code for cells in layout.scorecard.indicators)
    key = ("lists", id(ws), codes, layout.language)
    if out.reuse(ws, key) is not False:
        return
    start = len(out.written)
    for i, code in enumerate(codes, start=1):
        out.put(ws, f"A{i}", code, raw=True)
    for i, status in enumerate(ACTION_STATUSES, start=1):
        out.put(ws, f"B{i}", t(f"wb.action-status.{status}", layout.language))
    for i, word in enumerate(NOT_APPLICABLE_WORDS, start=1):
        out.put(ws, f"C{i}", word, text=True)
    out.keep(key, start, None)


def write_meta(
    out: CellWriter, ws: Worksheet, layout: UnitLayout, fields: Mapping[str, str]
) -> None:
    """The very hidden ``_meta`` sheet: one field per row, key in A, value in B."""
    for key, ref in layout.meta.items():
        row = int(ref[1:])
        out.put(ws, f"A{row}", key, raw=True)
        out.put(ws, f"B{row}", fields[key], text=True, raw=True)


def protect(ws: Worksheet, password: str) -> None:
    """Protect ``ws``: locked cells read-only, column/row formatting allowed."""
    prot = ws.protection
    prot.sheet = True
    prot.password = password
    prot.formatColumns = False  # openpyxl's flags are inverted: False = allowed
    prot.formatRows = False
    prot.selectLockedCells = False
    prot.selectUnlockedCells = False
