"""Oversikt and Trend: the county's dashboard and its focus areas and values over the periods.

Status cells are formulas from :func:`bms_excel.status.excel_status_formula`, so a controller
who corrects a value by hand sees the colour follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.i18n import t
from bms_excel.master.cells import (
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    SECTION_FONT,
    SMALLEST_FONT,
    WRAP,
    fit_rows,
    fmt_time,
    font,
    header_row,
    label,
    number_format,
    print_setup,
    put,
    state_cf,
    status_cf,
    title,
)
from bms_excel.master.data import (
    MasterData,
)
from bms_excel.model import Definition
from bms_excel.status import (
    Status,
    status_label,
)

_CHART_COLOURS = ("2E9E4F", "F2C200", "D13438", "A6A6A6")
_OVERVIEW_CHART_CM = 13.0


def _headline(data: MasterData) -> tuple[str, str]:
    received = sum(1 for u in data.units if u.state == "received")
    period = data.definition.period(data.period).label
    return (
        t("master.title", data.lang, county=data.definition.county.name),
        t(
            "master.subtitle",
            data.lang,
            period=period,
            received=received,
            total=len(data.units),
            time=fmt_time(data.info.run_at),
        ),
    )


# -- Oversikt ----------------------------------------------------------------------------------


def rollup_index(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(level, entity, node) → roll-up row, for focus areas and totals."""
    return {
        (r["level"], r["entity"], r["node"]): dict(r)
        for r in rows
        if r["node_type"] in ("focus_area", "total")
    }


def _status(
    index: Mapping[tuple[str, str, str], Mapping[str, Any]], key: tuple[str, str, str]
) -> str | None:
    node = index.get(key)
    return str(node["status"]) if node else None


def write_overview(ws: Worksheet, data: MasterData) -> None:
    """Oversikt: focus areas × sectors and × units as traffic lights, counts and a chart."""
    lang, d = data.lang, data.definition
    index = rollup_index(data.rollups)
    head, sub = _headline(data)
    title(ws, head, sub)
    areas = [(a.code, a.name) for a in d.focus_areas] + [("", t("consolidate.node.total", lang))]
    row, counts = _sector_block(ws, data, index, areas)
    last = _counts_block(ws, lang, row + 2, counts)
    # Block 3: units × focus areas (16 rows below the chart's top, so they never overlap).
    row = _units_block(ws, data, index, areas, last + 2 + (16 if counts else 0))
    _write_vision(ws, row + 2, d, lang)
    print_setup(ws, lang, "1:2")


_Index = dict[tuple[str, str, str], dict[str, Any]]


def _sector_block(
    ws: Worksheet, data: MasterData, index: _Index, areas: list[tuple[str, str]]
) -> tuple[int, list[tuple[str, list[int]]]]:
    """Block 1 of Oversikt: focus areas × county and sectors, with the green count over units.

    Returns the row of the note under it and, per focus area, its units per status.
    """
    lang, d = data.lang, data.definition
    sectors = [s for s in d.sectors if any(u.sector == s.code for u in d.units)]
    put(ws, 4, 1, t("master.overview.sectors", lang), font=SECTION_FONT)
    labels = [t("master.col.focus-area", lang), t("master.col.county", lang)]
    labels += [s.name for s in sectors] + [t("master.overview.green-units", lang)]
    widths = [30.0, 11.0] + [12.0] * len(sectors) + [14.0]  # one page wide at 80 % or more
    header_row(ws, 5, labels, widths)
    ws.row_dimensions[5].height = 45
    row = 6
    counts: list[tuple[str, list[int]]] = []
    for code, name in areas:
        put(ws, row, 1, name, font=font(bold=not code))
        put(
            ws,
            row,
            2,
            label(_status(index, ("county", d.county.code, code)), lang),
            alignment=CENTER,
        )
        for i, s in enumerate(sectors):
            status = _status(index, ("sector", s.code, code))
            put(ws, row, 3 + i, label(status, lang), alignment=CENTER)
        unit_rows = [index[k] for u in d.units if (k := ("unit", u.code, code)) in index]
        tally = [sum(1 for r in unit_rows if r["status"] == s) for s in ("green", "yellow", "red")]
        green = tally[0]
        put(
            ws,
            row,
            3 + len(sectors),
            t("master.overview.green-count", lang, green=green, total=len(unit_rows)),
            alignment=CENTER,
        )
        if code:
            counts.append((name, [*tally, len(unit_rows) - sum(tally)]))
        row += 1
    status_cf(ws, f"B6:{get_column_letter(2 + len(sectors))}{row - 1}", lang)
    put(ws, row, 1, t("master.overview.note", lang), font=font(italic=True, size=SMALLEST_FONT))
    return row, counts


def _counts_block(ws: Worksheet, lang: str, row: int, counts: list[tuple[str, list[int]]]) -> int:
    """Block 2 of Oversikt from ``row``: units per status and focus area, and a stacked bar
    chart of it; returns the table's last row."""
    put(ws, row, 1, t("master.overview.counts", lang), font=SECTION_FONT)
    first = row + 1
    count_labels = [t("master.col.focus-area", lang)]
    count_labels += [status_label(s, lang) for s in (Status.GREEN, Status.YELLOW, Status.RED)]
    count_labels.append(t("master.overview.no-status", lang))
    for col, text in enumerate(count_labels, start=1):
        put(ws, first, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    for i, (name, numbers) in enumerate(counts, start=1):
        put(ws, first + i, 1, name)
        for j, n in enumerate(numbers, start=2):
            put(ws, first + i, j, n, alignment=CENTER)
    last = first + max(len(counts), 1)
    if counts:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
        chart.title = t("master.overview.chart", lang)
        chart.add_data(
            Reference(ws, min_col=2, max_col=5, min_row=first, max_row=last),
            titles_from_data=True,
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        for series, colour in zip(chart.series, _CHART_COLOURS, strict=True):
            series.graphicalProperties.solidFill = colour
            series.graphicalProperties.line.solidFill = colour
        chart.x_axis.scaling.orientation = "maxMin"  # first focus area on top
        chart.x_axis.delete = chart.y_axis.delete = False
        chart.y_axis.majorGridlines = None
        chart.legend.position = "b"
        chart.width, chart.height = _OVERVIEW_CHART_CM, 7.0
        # Below the table, from the top of the next page: beside it, it would not print whole.
        ws.add_chart(chart, f"A{last + 3}")
        ws.row_breaks.append(Break(id=last + 1))
    return last


def _units_block(
    ws: Worksheet, data: MasterData, index: _Index, areas: list[tuple[str, str]], row: int
) -> int:
    """Block 3 of Oversikt from ``row``: units × focus areas; returns its last row."""
    lang, d = data.lang, data.definition
    put(ws, row, 1, t("master.overview.units", lang), font=SECTION_FONT)
    row += 1
    unit_labels = [t("master.col.unit", lang), t("master.col.sector", lang)]
    unit_labels += [name for _, name in areas] + [t("master.col.state", lang)]
    for col, text in enumerate(unit_labels, start=1):
        put(ws, row, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    ws.row_dimensions[row].height = 45
    states = {u.code: u.state for u in data.units}
    top = row + 1
    for unit in d.units:
        row += 1
        put(ws, row, 1, unit.name)
        put(ws, row, 2, unit.sector, alignment=CENTER)
        for j, (code, _) in enumerate(areas, start=3):
            status = _status(index, ("unit", unit.code, code))
            put(ws, row, j, label(status, lang), alignment=CENTER)
        state = states.get(unit.code)
        put(ws, row, 3 + len(areas), t(f"collect.state.{state}", lang) if state else "")
    if row >= top:
        status_cf(ws, f"C{top}:{get_column_letter(2 + len(areas))}{row}", lang)
        state_cf(
            ws,
            f"{get_column_letter(3 + len(areas))}{top}:{get_column_letter(3 + len(areas))}{row}",
            lang,
        )
    return row


def _write_vision(ws: Worksheet, row: int, d: Definition, lang: str) -> None:
    """Block 4 of Oversikt: the county's vision and strategies, and what each focus area
    means (from the definition's ``vision`` and focus-area ``description``)."""
    described = [a for a in d.focus_areas if a.description]
    if d.vision is not None:
        put(ws, row, 1, t("wb.guide.vision", lang), font=SECTION_FONT)
        put(ws, row + 1, 1, d.vision.text, font=font(bold=True))
        row += 2
        for strategy in d.vision.strategies:
            put(ws, row, 1, f"• {strategy}")
            row += 1
        row += 1
    if described:
        put(ws, row, 1, t("wb.guide.focus-areas", lang), font=SECTION_FONT)
        for i, area in enumerate(described, start=1):
            put(ws, row + i, 1, area.name, font=font(bold=True))
            put(ws, row + i, 2, area.description)


def _line_chart(
    ws: Worksheet, header: int, first: int, last: int, n_periods: int, title_text: str
) -> LineChart:
    chart = LineChart()
    chart.title = title_text
    chart.add_data(
        Reference(ws, min_col=1, max_col=1 + n_periods, min_row=first, max_row=last),
        from_rows=True,
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=2, max_col=1 + n_periods, min_row=header))
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    return chart


def write_trend(ws: Worksheet, data: MasterData) -> None:
    """Trend: the county's focus-area scores and indicator values over the periods, charted."""
    lang, d = data.lang, data.definition
    title(ws, f"{t('master.sheet.trend', lang)} – {d.county.name}")
    periods = [p for p, _ in data.history_scores]
    n = len(periods)
    ws.column_dimensions["A"].width = 40
    for j in range(2, n + 3):
        ws.column_dimensions[get_column_letter(j)].width = 12
    if not periods:
        put(ws, 3, 1, t("master.trend.empty", lang))
        print_setup(ws, lang, None)
        return
    # Block 1: focus-area scores (0–100, one scale) with a line chart.
    put(ws, 3, 1, t("master.trend.areas", lang), font=SECTION_FONT)
    header = 4
    for col, text in enumerate([t("master.col.focus-area", lang), *periods], start=1):
        put(ws, header, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    areas = [(a.code, a.name, a.colour) for a in d.focus_areas]
    areas.append(("", t("consolidate.node.total", lang), "#000000"))
    for i, (code, name, _) in enumerate(areas, start=1):
        put(ws, header + i, 1, name, font=font(bold=not code))
        for j, (_, scores) in enumerate(data.history_scores, start=2):
            put(ws, header + i, j, scores.get(code), number_format="0")
    last = header + len(areas)
    chart = _line_chart(ws, header, header + 1, last, n, t("master.trend.areas", lang))
    for series, (code, _, colour) in zip(chart.series, areas, strict=True):
        series.graphicalProperties.line.solidFill = colour.lstrip("#").upper()
        series.graphicalProperties.line.width = 28575 if not code else 19050
        series.smooth = False
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
    chart.y_axis.title = t("master.trend.axis-score", lang)
    chart.width, chart.height = 18.0, 8.0
    ws.add_chart(chart, f"{get_column_letter(n + 3)}{header}")
    # Block 2: county value per indicator and period.
    row = max(last + 3, header + 18)
    put(ws, row - 1, 1, t("master.trend.indicators", lang), font=SECTION_FONT)
    labels = [t("master.col.indicator-name", lang), *periods, t("master.col.measure", lang)]
    for col, text in enumerate(labels, start=1):
        put(ws, row, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    ws.freeze_panes = None
    for _, _, _, ind in d.iter_indicators():
        row += 1
        put(ws, row, 1, f"{ind.code} {ind.name}", alignment=WRAP)
        for j, (_, values) in enumerate(data.history_values, start=2):
            put(ws, row, j, values.get(ind.code), number_format=number_format(ind.decimals))
        put(ws, row, n + 2, ind.unit_of_measure)
    fit_rows(ws, header + 1)
    print_setup(ws, lang, None)
