"""The scorecard sheets of the master: Fylket (county) and Enheter (units × indicators).

These are the sheets whose colours are live formulas. On Fylket every indicator row holds the
county value and its status limits in cells, and the status and score cells are formulas from
:func:`bms_excel.status.excel_status_formula` / :func:`~bms_excel.status.excel_score_formula`
over them. On Enheter each value cell is coloured by conditional formats whose expression is
the same status formula over that cell with the unit's own limits (overrides included). A
controller who corrects a value or a limit by hand sees the colour follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.consolidate import IndicatorScopes, RuleCache
from bms_excel.history import ExternalFigure
from bms_excel.i18n import t
from bms_excel.kostra import status_label as kostra_status_label
from bms_excel.kostra_import import KostraView
from bms_excel.limit_text import plan_target_text
from bms_excel.master.cells import (
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    SECTION_FONT,
    WRAP,
    fill,
    fit_rows,
    font,
    header_row,
    label,
    number_format,
    print_setup,
    put,
    put_formula,
    quoted,
    status_cf,
    style_id,
    timing_text,
    title,
)
from bms_excel.master.data import MasterData, long_columns
from bms_excel.master.overview import (
    rollup_index,
)
from bms_excel.model import Definition, FocusArea, Indicator, county_target_basis
from bms_excel.status import (
    COLOURS,
    STATUS_COLOURS,
    Status,
    StatusRule,
    classify_input,
    evaluate,
    excel_score_formula,
    excel_status_formula,
    resolve_rule,
    round_displayed,
    score,
    status_label,
)
from bms_excel.xlsx.rows import defer_rows

#: Fylket's columns, in order (catalogue key suffix after ``master.col.``).
COUNTY_SHEET_COLUMNS = (
    "code",
    "indicator-name",
    "measure",
    "aggregation",
    "county-value",
    "basis",
    "target",
    "green",
    "yellow",
    "low",
    "high",
    "tolerance",
    "status",
    "score",
    "previous",
    "trend",
    "source",
    "result-level",
    "timing",
)
COUNTY_HEADER_ROW = 4
UNITS_HEADER_ROW = 7  # rows 4–6 hold focus area, code and name above each indicator column
# Fill and font colour per status, as in the unit workbooks.
_RIGHT = Alignment(horizontal="right")
_RIGHT_WRAP = Alignment(horizontal="right", wrap_text=True)
_WRAP_INDENTED = Alignment(wrap_text=True, vertical="top", indent=1)
_OUT_OF_SCOPE = PatternFill("solid", fgColor="D9D9D9", bgColor="D9D9D9")


# -- Fylket ------------------------------------------------------------------------------------


def _limit_cells(rule: StatusRule) -> dict[str, float]:
    """The limits of ``rule`` that go into cells (green/yellow or low/high/tolerance)."""
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        return {"green": rule.green, "yellow": rule.yellow}
    if rule.kind == "band":
        assert rule.low is not None and rule.high is not None
        return {"low": rule.low, "high": rule.high, "tolerance": rule.tolerance}
    return {}


def _limit_format(values: Iterable[float], decimals: int) -> str:
    # A limit such as 63.0 (90 % of 70) shows with the indicator's decimals; one with more
    # digits than that (a percent-of-target limit) shows in General so nothing is hidden.
    if all(round_displayed(v, decimals) == v for v in values):
        return number_format(decimals)
    return "General"


def aggregation_text(ind: Indicator, lang: str) -> str:
    """How the county value is made (``vektet snitt (elever)``)."""
    return t(f"master.aggregation.{ind.aggregation}", lang, by=ind.weight_by or "")


def write_county(ws: Worksheet, data: MasterData) -> None:
    """Fylket: the county scorecard, status and score as formulas over value and limit cells."""
    lang, d = data.lang, data.definition
    cols = {key: i for i, key in enumerate(COUNTY_SHEET_COLUMNS, start=1)}
    letter = {key: get_column_letter(i) for key, i in cols.items()}
    title(ws, f"{t('master.sheet.county', lang)} – {d.county.name}", t("master.county.note", lang))
    labels = [
        t("master.col.previous", lang, period=data.previous_period)
        if key == "previous" and data.previous_period
        else t(f"master.col.{key}" if key != "previous" else "master.col.previous-none", lang)
        for key in COUNTY_SHEET_COLUMNS
    ]
    # Narrow enough to print one page wide at 80 % (no text under 8 pt); text columns wrap.
    widths = [8, 28, 10, 14, 11, 14, 10, 7, 7, 7, 7, 8, 9, 7, 10, 11, 9, 9, 12]
    header_row(ws, COUNTY_HEADER_ROW, labels, widths)
    ws.row_dimensions[COUNTY_HEADER_ROW].height = 32
    county = {r["indicator"]: r for r in data.county}
    trends = {r["indicator"]: r for r in data.trends if r["level"] == "county"}
    index = rollup_index(data.rollups)
    na_word = t("master.not-applicable-word", lang)
    row = COUNTY_HEADER_ROW
    status_rows: list[int] = []
    for area in d.focus_areas:
        row += 1
        node = index.get(("county", d.county.code, area.code))
        score = node["score"] if node else None
        status = label(node["status"], lang) if node else ""
        text = (
            t("master.county.area-row", lang, name=area.name, score=round(score), status=status)
            if score is not None
            else t("master.county.area-row-none", lang, name=area.name, status=status)
        )
        colour = area.colour.lstrip("#").upper()
        for col in range(1, len(COUNTY_SHEET_COLUMNS) + 1):
            ws.cell(row=row, column=col).fill = fill(colour)
        put(ws, row, 1, area.code, font=font(bold=True, color="FFFFFF"))
        put(ws, row, 2, text, font=font(bold=True, color="FFFFFF"))
        for goal in area.goals:
            for factor in goal.factors:
                for ind in factor.indicators:
                    row += 1
                    status_rows.append(row)
                    rec = county.get(ind.code, {})
                    _county_row(ws, row, ind, rec, trends.get(ind.code), data, letter, na_word)
    if status_rows:
        first, last = status_rows[0], status_rows[-1]
        status_cf(ws, f"{letter['status']}{first}:{letter['status']}{last}", lang)
        trend_ref = f"{letter['trend']}{first}:{letter['trend']}{last}"
        for key, colour in (("improved", "006100"), ("worsened", "9C0006")):
            ws.conditional_formatting.add(
                trend_ref,
                FormulaRule(
                    formula=[
                        f"ISNUMBER(SEARCH({quoted(t(f'trend.{key}', lang))},{letter['trend']}{first}))"
                    ],
                    font=Font(color=colour, bold=True),
                ),
            )
    fit_rows(ws, COUNTY_HEADER_ROW)  # the header row too: its labels wrap in narrow columns
    write_kostra_comparison(ws, data, row + 3)
    ws.freeze_panes = f"C{COUNTY_HEADER_ROW + 1}"
    print_setup(ws, lang, f"{COUNTY_HEADER_ROW}:{COUNTY_HEADER_ROW}")


def _figure_value(fig: ExternalFigure | None, lang: str) -> Any:
    """A KOSTRA figure as shown: the number, or SSB's status text (never 0)."""
    if fig is None:
        return None
    if fig.status in (None, "ok") and fig.value is not None:
        return fig.value
    kind = fig.status if fig.status not in (None, "ok") else "not-available"
    known = kind in ("not-applicable", "not-available", "confidential")
    return kostra_status_label(kind if known else "unknown", lang)  # type: ignore[arg-type]


def write_kostra_comparison(ws: Worksheet, data: MasterData, first: int) -> int:
    """Below the scorecard: each KOSTRA indicator's county figure beside its comparison groups
    (one column per group, named as SSB names it), then per indicator the county against the
    groups over the stored years, as a table and a line chart. Returns the next free row."""
    lang, d = data.lang, data.definition
    views = [
        (ind, data.kostra[ind.code]) for *_, ind in d.iter_indicators() if ind.code in data.kostra
    ]
    views = [(ind, v) for ind, v in views if v.county is not None or v.comparisons or v.series]
    if not views:
        return first
    groups: dict[str, str] = {}
    for ind, view in views:
        wanted = list(ind.kostra.comparison) if ind.kostra is not None else []
        for region in [*wanted, *view.comparisons]:
            fig = view.comparisons.get(region)
            if fig is None:
                continue
            groups.setdefault(region, fig.region_name or region)
    year = views[0][1].year
    put(ws, first, 1, t("master.kostra.section", lang, year=year), font=SECTION_FONT)
    header = first + 1
    labels = [
        t("master.col.code", lang),
        t("master.col.indicator-name", lang),
        t("master.col.measure", lang),
        t("master.kostra.col.year", lang),
        t("master.kostra.county-label", lang, name=d.county.name),
        *groups.values(),
    ]
    for col, text in enumerate(labels, start=1):
        put(ws, header, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    row = header
    for ind, view in views:
        row += 1
        fmt = number_format(ind.decimals)
        put(ws, row, 1, ind.code)
        put(ws, row, 2, ind.name, alignment=WRAP)
        put(ws, row, 3, ind.unit_of_measure)
        put(ws, row, 4, view.year)
        put(ws, row, 5, _figure_value(view.county, lang), number_format=fmt)
        for col, region in enumerate(groups, start=6):
            fig = view.comparisons.get(region)
            put(ws, row, col, _figure_value(fig, lang), number_format=fmt)
    fit_rows(ws, header, row)  # the header too: region names wrap between words
    row += 2
    for ind, view in views:
        row = _kostra_series(ws, ind, view, data, row)
    return row


def _kostra_series(
    ws: Worksheet, ind: Indicator, view: KostraView, data: MasterData, first: int
) -> int:
    """One indicator's table of region × year from ``view.series`` and its line chart."""
    lang, d = data.lang, data.definition
    years = sorted({y for values in view.series.values() for y in values})
    if not years:
        return first
    names = {r: f.region_name or r for r, f in view.comparisons.items()}
    county_region = view.county.region if view.county is not None else None
    if view.county is not None:
        names[view.county.region] = t("master.kostra.county-label", lang, name=d.county.name)
    regions = [r for r in ([county_region] if county_region else []) if r in view.series]
    regions += [r for r in view.series if r not in regions]
    title_text = t("master.kostra.series", lang, code=ind.code, name=ind.name)
    put(ws, first, 1, title_text, font=SECTION_FONT)
    header = first + 1
    # Region names in the wide name column (B), the years to the right of it.
    put(ws, header, 2, t("master.kostra.col.region", lang), font=HEADER_FONT, fill=HEADER_FILL)
    for j, year in enumerate(years, start=3):
        put(ws, header, j, str(year), font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    fmt = number_format(ind.decimals)
    for i, region in enumerate(regions, start=1):
        put(ws, header + i, 2, names.get(region, region), alignment=WRAP)
        for j, year in enumerate(years, start=3):
            put(ws, header + i, j, view.series[region].get(year), number_format=fmt)
    last = header + len(regions)
    fit_rows(ws, header + 1, last)
    chart = LineChart()
    chart.title = title_text
    chart.add_data(
        Reference(ws, min_col=2, max_col=2 + len(years), min_row=header + 1, max_row=last),
        from_rows=True,
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=3, max_col=2 + len(years), min_row=header))
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.y_axis.title = ind.unit_of_measure or None
    chart.legend.position = "b"
    chart.width, chart.height = 16.0, 7.0
    ws.add_chart(chart, f"{get_column_letter(len(years) + 4)}{first}")
    return max(last + 3, first + 16)


def _county_row(
    ws: Worksheet,
    row: int,
    ind: Indicator,
    rec: Mapping[str, Any],
    travel: Mapping[str, Any] | None,
    data: MasterData,
    letter: Mapping[str, str],
    na_word: str,
) -> None:
    lang, d = data.lang, data.definition
    cols = {key: i for i, key in enumerate(COUNTY_SHEET_COLUMNS, start=1)}
    rule = resolve_rule(ind, d.settings, None, data.period)
    labels = county_status_labels(ind, lang)
    fmt = number_format(ind.decimals)
    put(ws, row, cols["code"], ind.code)
    put(ws, row, cols["indicator-name"], ind.name, alignment=WRAP)
    put(ws, row, cols["measure"], ind.unit_of_measure, alignment=WRAP)
    put(ws, row, cols["aggregation"], aggregation_text(ind, lang), alignment=WRAP)
    value, basis = rec.get("value"), rec.get("basis")
    if value is None and basis == "none":
        # Not aggregated: "not applicable", which the status formula reads as such.
        put(ws, row, cols["county-value"], na_word, alignment=Alignment(horizontal="right"))
    else:
        put(ws, row, cols["county-value"], value, number_format=fmt)
    basis_text = _basis_text(ind, rec, data)
    # Indented, so a right-aligned county value and this text never run together.
    put(ws, row, cols["basis"], basis_text, alignment=_WRAP_INDENTED)
    # A band ("80 % – 85 %") wraps at its dash rather than being cut by the next cell.
    put(ws, row, cols["target"], county_target_text(ind, rec, d, lang), alignment=_RIGHT_WRAP)
    _status_cells(ws, row, rule, rec, labels, letter, na_word, lang, decimals=ind.decimals)
    previous = travel.get("previous_value") if travel else None
    put(ws, row, cols["previous"], previous, number_format=fmt)
    put(ws, row, cols["trend"], _trend_text(rule, value, previous, travel, lang), alignment=WRAP)
    # Where this county value came from (a figure given for the county, or the units'
    # aggregate), not the indicator's declared source; without a value, who should deliver it.
    origin = {"units": "unit", "county": rec.get("source")}.get(str(basis)) or ind.source
    put(ws, row, cols["source"], t(f"master.source.{origin}", lang), alignment=WRAP)
    put(ws, row, cols["result-level"], ind.result_level, alignment=CENTER)
    put(ws, row, cols["timing"], timing_text(ind.timing, lang), alignment=WRAP)
    for cell in ws[row]:
        a = cell.alignment
        cell.alignment = Alignment(
            horizontal=a.horizontal, vertical="center", wrap_text=a.wrap_text, indent=a.indent
        )


def _basis_text(ind: Indicator, rec: Mapping[str, Any], data: MasterData) -> str:
    """What a county value on Fylket is based on ("basert på 24 av 26", given, not aggregated,
    or SSB's reason there is no KOSTRA figure)."""
    lang, value, basis = data.lang, rec.get("value"), rec.get("basis")
    if basis == "units":
        basis_text = t("consolidate.based-on", lang, used=rec["n_used"], expected=rec["n_expected"])
    elif basis == "county":
        source = rec.get("source") or "controller"
        basis_text = t("master.county.given", lang, source=t(f"master.source.{source}", lang))
    else:
        basis_text = t("master.county.not-aggregated", lang)
    view = data.kostra.get(ind.code)
    if value is None and view is not None:
        # SSB's reason there is no county figure (".." not yet, ":" confidential …): the value
        # cell stays blank (missing), and the reason is said beside it, not only further down.
        shown = _figure_value(view.county, lang)
        if isinstance(shown, str):
            basis_text = t("master.county.kostra-status", lang, year=view.year, status=shown)
    return basis_text


def _status_cells(
    ws: Worksheet,
    row: int,
    rule: StatusRule,
    rec: Mapping[str, Any],
    labels: Mapping[Status, str],
    letter: Mapping[str, str],
    na_word: str,
    lang: str,
    *,
    decimals: int,
) -> None:
    """The limit cells of a Fylket row and its status and score formulas over them."""
    cols = {key: i for i, key in enumerate(COUNTY_SHEET_COLUMNS, start=1)}
    value, basis = rec.get("value"), rec.get("basis")
    limits = _limit_cells(rule)
    limit_fmt = _limit_format(limits.values(), decimals)
    refs = {}
    for key, number in limits.items():
        put(ws, row, cols[key], number, number_format=limit_fmt)
        refs[key] = f"{letter[key]}{row}"
    value_ref = f"{letter['county-value']}{row}"
    # What the formulas compute from the value cell, stored as their cached results.
    shown = classify_input(na_word if value is None and basis == "none" else value)
    put_formula(
        ws,
        row,
        cols["status"],
        excel_status_formula(rule, value_ref, lang, refs=refs, labels=labels),
        labels.get(evaluate(rule, shown)) or status_label(evaluate(rule, shown), lang),
        alignment=CENTER,
    )
    the_score = score(rule, shown)
    put_formula(
        ws,
        row,
        cols["score"],
        excel_score_formula(rule, value_ref, refs=refs),
        "" if the_score is None else the_score,
        number_format="0",
    )


def county_status_labels(ind: Indicator, lang: str) -> dict[Status, str]:
    """Fylket's status texts that say why a county value has no colour.

    ``Ikke aggregert`` for ``aggregation: none`` (not "Ikke aktuelt", which a unit says of
    itself), ``Uten fylkesmål`` for a sum or weighted mean without a county target.
    """
    if ind.aggregation == "none" and not ind.scope.county_only:
        return {Status.NOT_APPLICABLE: t("master.county.status-not-aggregated", lang)}
    if county_target_basis(ind) == "none":
        return {Status.NO_TARGET: t("master.county.status-no-county-target", lang)}
    return {}


def county_target_text(ind: Indicator, rec: Mapping[str, Any], d: Definition, lang: str) -> str:
    """Fylket's target cell: the county target, the unit target marked as such, or why none;
    the economic plan's end target after it."""
    basis = county_target_basis(ind)
    text = str(rec.get("target") or "")
    if basis == "none" and ind.aggregation != "none":
        return t("master.county.status-no-county-target", lang)
    if basis == "unit" and text:
        text = t("master.county.unit-target", lang, target=text)
    end = plan_target_text(ind, d.settings.budget_year, lang)
    return f"{text}\n{end}" if end and text else text or end


def _trend_text(
    rule: StatusRule,
    value: float | None,
    previous: float | None,
    travel: Mapping[str, Any] | None,
    lang: str,
) -> str:
    """``↑ Bedre``: the arrow is the value's movement, the word whether that is good."""
    if value is None or previous is None or not travel or not travel.get("trend"):
        return ""
    now, before = round_displayed(value, rule.decimals), round_displayed(previous, rule.decimals)
    arrow = "→" if now == before else "↑" if now > before else "↓"
    return f"{arrow} {t('trend.' + travel['trend'], lang)}"


# -- Enheter -----------------------------------------------------------------------------------


def _cell_value(kind: Any, has_error: Any, value: Any, raw: Any, na_word: str) -> Any:
    """What a unit's value cell holds so that the status formula gives the row's status.

    A usable number is the number; not applicable is ``i.a.``; a value excluded because of an
    error is its text as written (the formula reads text as invalid); missing is blank.
    """
    if kind == "number" and not has_error and value is not None:
        return value
    if kind == "not-applicable":
        return na_word
    if kind == "missing" and not has_error:
        return None
    text = str(raw) if raw not in (None, "") else str(value or "")
    return text if text.strip() else "#"


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers grouped into (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for r in sorted(rows):
        if runs and r == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


#: Ranges per ``<conditionalFormatting>`` element of the Enheter matrix. One element may list
#: many ranges (its formula is relative to the top-left cell of the first); beyond this many
#: the next element starts, so no ``sqref`` grows without bound.
CF_RANGES_PER_RULE = 400


def rule_ranges(col: str, rows: list[int]) -> list[tuple[str, str]]:
    """``(sqref, top-left cell)`` covering ``rows`` of column ``col`` in as few elements as fit.

    The formula of a conditional format listing several ranges is written relative to the
    top-left cell of the whole list (Excel, LibreOffice and Apache POI agree), which for runs
    of one column in ascending order is the top of the first run.
    """
    runs = _runs(rows)
    out = []
    for k in range(0, len(runs), CF_RANGES_PER_RULE):
        chunk = runs[k : k + CF_RANGES_PER_RULE]
        sqref = " ".join(f"{col}{a}:{col}{b}" if a != b else f"{col}{a}" for a, b in chunk)
        out.append((sqref, f"{col}{chunk[0][0]}"))
    return out


def write_units(ws: Worksheet, data: MasterData) -> None:
    """Enheter: units × indicators; each value coloured by its status with the unit's limits.

    The header rows are cells; the unit rows (one per unit, thousands in a national run) are
    written straight into the sheet part (:func:`defer_rows`) with a style id per column, and
    each (indicator, rule) gets one set of conditional formats over all its rows.
    """
    lang, d = data.lang, data.definition
    title(ws, f"{t('master.sheet.units', lang)} – {d.county.name}", t("master.units.note", lang))
    indicators = [(area, ind) for area, _, _, ind in d.iter_indicators()]
    hdr = UNITS_HEADER_ROW
    _units_header(ws, data, indicators)
    first = hdr + 1
    groups = _unit_rows(ws, data, indicators, first)
    for (j, rule), unit_rows in groups.items():
        col = get_column_letter(j)
        for sqref, anchor in rule_ranges(col, unit_rows):
            status_formula = excel_status_formula(rule, anchor, lang)[1:]
            for status in (*sorted(COLOURS), Status.INVALID):
                bg, fg = STATUS_COLOURS[status]
                ws.conditional_formatting.add(
                    sqref,
                    FormulaRule(
                        formula=[f"{status_formula}={quoted(status_label(status, lang))}"],
                        fill=fill(bg),
                        font=Font(color=fg),
                    ),
                )
    ws.freeze_panes = f"D{first}"
    # On paper: one focus area per page across where they do not all fit, the unit columns and
    # the header rows repeated.
    spans: dict[str, list[int]] = {}
    for j, (area, _) in enumerate(indicators, start=4):
        spans.setdefault(area.code, []).append(j)
    area_cols = [(cols[0], cols[-1]) for cols in spans.values()]
    print_setup(ws, lang, f"{hdr - 3}:{hdr}", "A:B", groups=area_cols)


def _units_header(
    ws: Worksheet, data: MasterData, indicators: list[tuple[FocusArea, Indicator]]
) -> None:
    """Enheter's four header rows: focus area, code, name (rotated) and the county target."""
    lang = data.lang
    hdr = UNITS_HEADER_ROW
    header_row(
        ws,
        hdr,
        [t("master.col.unit", lang), t("master.col.unit-name", lang), t("master.col.sector", lang)],
        [16, 32, 8],
    )
    targets = {r["indicator"]: r["target"] for r in reversed(data.county)}
    for j, (area, ind) in enumerate(indicators, start=4):
        colour = area.colour.lstrip("#").upper()
        put(
            ws,
            hdr - 3,
            j,
            area.code,
            fill=fill(colour),
            font=font(bold=True, color="FFFFFF"),
            alignment=CENTER,
        )
        put(ws, hdr - 2, j, ind.code, font=font(bold=True), alignment=CENTER)
        put(
            ws,
            hdr - 1,
            j,
            ind.name,
            alignment=Alignment(
                text_rotation=90, wrap_text=True, vertical="bottom", horizontal="center"
            ),
        )
        target = targets.get(ind.code, "")
        put(ws, hdr, j, target or "–", font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
        ws.column_dimensions[get_column_letter(j)].width = 9
    ws.row_dimensions[hdr - 1].height = 150
    ws.row_dimensions[hdr].height = 24


def _unit_rows(
    ws: Worksheet, data: MasterData, indicators: list[tuple[FocusArea, Indicator]], first: int
) -> dict[tuple[int, StatusRule], list[int]]:
    """Enheter's unit rows from ``first`` (set aside for the save, with the column widths);
    returns the rows of each (column, status rule) for the conditional formats."""
    lang, d = data.lang, data.definition
    na_word = t("master.not-applicable-word", lang)
    columns = long_columns(data.long)
    n = len(data.long)
    keys = ("unit", "indicator", "kind", "has_error", "value", "raw")
    values = {
        (unit, code): _cell_value(kind, error, value, raw, na_word)
        for unit, code, kind, error, value, raw in zip(
            *(columns.get(k) or [None] * n for k in keys), strict=True
        )
        if unit is not None
    }
    centre_id = style_id(ws, alignment=CENTER)
    grey_id = style_id(ws, fill=_OUT_OF_SCOPE)
    # Right-aligned, texts ("i.a.") too, so a number never runs into the next cell's text.
    # A yes/no answer is stored as 1/0 and shown as Ja/Nei (a number format, so the status
    # formula still reads the number).
    answer = f'"{t("wb.answer.yes", lang)}";;"{t("wb.answer.no", lang)}"'
    value_ids = [
        style_id(
            ws,
            number_format=answer if ind.kind == "yes_no" else number_format(ind.decimals),
            alignment=_RIGHT,
        )
        for _, ind in indicators
    ]
    widths = [9.0] * len(indicators)
    row_styles: dict[tuple[bool, ...], tuple[int, ...]] = {}
    styles: list[tuple[int, ...] | None] = []
    rows: list[tuple[Any, ...]] = []
    groups: dict[tuple[int, StatusRule], list[int]] = {}
    rules = RuleCache(d, data.period)  # one rule per set of applicable overrides
    scopes = IndicatorScopes([ind for _, ind in indicators])
    for i, unit in enumerate(d.units):
        row = first + i
        cells: list[Any] = [unit.code, unit.name, unit.sector]
        scope = scopes.mask(unit)
        for k, (_, ind) in enumerate(indicators):
            if not scope[k]:
                cells.append(None)
                continue
            value = values.get((unit.code, ind.code))
            cells.append(value)
            if isinstance(value, float | int) and not isinstance(value, bool):
                widths[k] = max(widths[k], len(f"{value:,.{ind.decimals}f}") + 2)
            groups.setdefault((k + 4, rules.get(ind, unit)), []).append(row)
        if scope not in row_styles:
            row_styles[scope] = (
                0,
                0,
                centre_id,
                *(value_ids[k] if inside else grey_id for k, inside in enumerate(scope)),
            )
        styles.append(row_styles[scope])
        rows.append(tuple(cells))
    defer_rows(ws, first, rows, styles=styles)
    for k, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(k + 4)].width = width
    return groups
