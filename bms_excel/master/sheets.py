"""The sheets of the county master workbook (DESIGN §6), written with openpyxl from plain rows.

:mod:`bms_excel.master` turns the consolidation frames into :class:`MasterData` (lists of
dicts, no pandas here) and saves the workbook atomically; this module only lays out cells.
One function per sheet, each writing its sheet in one pass. Status cells on Fylket are
formulas from :func:`bms_excel.status.excel_status_formula` over the value and the limit
cells of the same row; the colours of the Enheter matrix are conditional formats whose
expression is the same status formula over the value cell, with the unit's own limits. So a
controller who corrects a value by hand sees the colour follow.

Text from units and definitions is always written as text (a comment starting with ``=`` is
never a formula) and cleaned of characters XML cannot hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.collect import FileOutcome, UnitReport
from bms_excel.dialogue import MasterDialogue
from bms_excel.errors import Finding
from bms_excel.i18n import t
from bms_excel.kostra_import import KostraView
from bms_excel.model import Definition
from bms_excel.records import ActionRecord, AssessmentRecord
from bms_excel.status import (
    STATUS_COLOURS,
    Status,
    status_label,
)
from bms_excel.xlsx.cached_formula import Formula
from bms_excel.xlsx.limits import fit_text
from bms_excel.xlsx.printing import page_setup, text_lines

SHEET_KEYS = (
    "overview",
    "county",
    "units",
    "trend",
    "comments",
    "actions",
    "assessments",
    "submissions",
    "findings",
    "data",
    "about",
)
_CHART_COLOURS = ("2E9E4F", "F2C200", "D13438", "A6A6A6")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79", bgColor="1F4E79")
#: Every cell font names its face and size: a font record without them renders in a serif
#: fallback in LibreOffice. No cell font is smaller than SMALLEST_FONT (see print_setup).
FONT_NAME = "Calibri"
SMALLEST_FONT = 10.0


def font(size: float = 11, **style: Any) -> Font:
    """A cell font of ``size`` points with the master's face (Calibri)."""
    return Font(name=FONT_NAME, size=size, **style)


HEADER_FONT = font(bold=True, color="FFFFFF")
_TITLE_FONT = font(bold=True, size=16, color="1F4E79")
SECTION_FONT = font(bold=True, size=12, color="1F4E79")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_DATE = "dd.mm.yyyy"
_OVERVIEW_CHART_CM = 13.0


class Rows(Protocol):
    """Rows that can be counted and iterated more than once (a list is one)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class MasterInfo:
    """What the Om sheet says about the run that made the workbook."""

    run_at: dt.datetime
    tool_version: str
    definition_hash: str
    history_path: str = ""
    run_id: int | None = None


@dataclass
class MasterData:
    """Everything the master shows, as plain rows (``None`` for a missing number)."""

    definition: Definition
    period: str
    lang: str
    info: MasterInfo
    #: The long table, one dict per (unit, indicator); iterated more than once (a list, or
    #: :class:`~bms_excel.master.FrameRows` making the dicts on each pass).
    long: Rows
    county: list[dict[str, Any]]
    rollups: list[dict[str, Any]]
    trends: list[dict[str, Any]]
    excluded: list[dict[str, Any]] = field(default_factory=list)
    #: (period, {indicator: county value}) and (period, {focus area or "": score}), oldest first.
    history_values: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)
    history_scores: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)
    units: list[UnitReport] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    previous_period: str | None = None
    #: Where the submissions are, relative to which Avvik links to the files.
    submissions_dir: Path | None = None
    master_dir: Path | None = None
    #: The period's KOSTRA figures per indicator (county, units, comparison groups, series).
    kostra: dict[str, KostraView] = field(default_factory=dict)
    #: Reviews, the period's close, last period's lessons, red indicators without action.
    dialogue: MasterDialogue = field(default_factory=MasterDialogue)
    #: Rows marked «Ta med i rapport» in the master this one replaces: (unit, indicator) on
    #: Kommentarer, (unit, focus area) on Vurderinger.
    marked_comments: frozenset[tuple[str, str]] = frozenset()
    marked_lessons: frozenset[tuple[str, str]] = frozenset()


# -- cell helpers ------------------------------------------------------------------------------


def put(ws: Worksheet, row: int, col: int, value: Any, **style: Any) -> Cell:
    """Write ``value``; a text is cleaned, cut to a cell's limit and stays text, never a formula."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = fit_text(value)
        if cell.data_type == "f":
            cell.data_type = "s"
    else:
        cell.value = value
    if style:
        apply_style(cell, style)
    return cell


def put_formula(ws: Worksheet, row: int, col: int, formula: str, result: Any, **style: Any) -> Cell:
    """Write a formula built by the status engine (the only way formulas enter the master).

    ``result`` is what it computes, stored as its cached value (:mod:`bms_excel.xlsx.cached_formula`).
    """
    cell = ws.cell(row=row, column=col, value=formula)
    assert cell.data_type == "f"
    cell._value = Formula(formula, result)
    if style:
        apply_style(cell, style)
    return cell


def style_id(ws: Worksheet, **style: Any) -> int:
    """The workbook's cell style id (the ``s`` of ``<c>``) of ``style``, as :func:`put` sets it."""
    scratch = Cell(ws)
    apply_style(scratch, style)
    return int(ws.parent._cell_styles.add(scratch._style))


#: Per workbook: (the cell's style before, the styles set) → the resulting style array.
_STYLE_CACHE = "_bms_style_cache"


def apply_style(cell: Cell, style: Mapping[str, Any]) -> None:
    """Set ``font``/``fill``/``alignment``/``number_format`` … on ``cell``, sharing style ids.

    Setting a style object on an openpyxl cell hashes it and looks it up in the workbook's
    style lists, which cost more than the rest of writing a cell. The same combinations recur
    on every row, so each is resolved once per workbook and its style array copied after that.
    Style objects are keyed by identity (the cache keeps them alive), texts by value.
    """
    wb = cell.parent.parent
    cache: dict[tuple[Any, ...], tuple[StyleArray, tuple[Any, ...]]] | None = getattr(
        wb, _STYLE_CACHE, None
    )
    if cache is None:
        cache = {}
        setattr(wb, _STYLE_CACHE, cache)
    key = (
        tuple(cell._style) if cell._style else (),
        tuple((k, v if isinstance(v, str) else id(v)) for k, v in style.items()),
    )
    found = cache.get(key)
    if found is not None:
        cell._style = StyleArray(found[0])
        return
    for name, val in style.items():
        setattr(cell, name, val)
    if len(cache) < 10_000:
        cache[key] = (StyleArray(cell._style), tuple(style.values()))


def header_row(ws: Worksheet, row: int, labels: Sequence[str], widths: Sequence[float]) -> None:
    """A coloured header row with wrapped labels and the column widths set."""
    for col, (label, width) in enumerate(zip(labels, widths, strict=True), start=1):
        put(ws, row, col, label, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
        ws.column_dimensions[get_column_letter(col)].width = width


def title(ws: Worksheet, text: str, subtitle: str | None = None) -> None:
    """The sheet title in A1 and an optional subtitle in A2."""
    put(ws, 1, 1, text, font=_TITLE_FONT)
    ws.row_dimensions[1].height = 24
    if subtitle:
        put(ws, 2, 1, subtitle, font=font(italic=True, color="595959"))


def print_setup(
    ws: Worksheet,
    lang: str,
    title_rows: str | None,
    title_cols: str | None = None,
    *,
    last_col: int | None = None,
    groups: Sequence[tuple[int, int]] = (),
) -> None:
    """A4 landscape at a readable scale (:func:`bms_excel.xlsx.printing.page_setup`), header rows
    repeated, page numbers in the footer. Every font in the master is at least
    :data:`SMALLEST_FONT` points, so nothing prints under 8 pt."""
    page_setup(
        ws,
        smallest_font=SMALLEST_FONT,
        last_col=last_col,
        title_rows=title_rows,
        title_cols=title_cols,
        groups=groups,
    )
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.25
    ws.oddFooter.center.text = t("master.footer", lang)
    ws.oddHeader.left.text = ws.title


def fit_rows(ws: Worksheet, first: int, last: int | None = None) -> None:
    """Set row heights so wrapped text shows in full.

    openpyxl cannot autofit, and neither Excel nor LibreOffice grows a row whose wrapped text
    a library wrote until someone edits it, so the height is estimated from the text length.
    """
    widths = {letter: (dim.width or 8.43) for letter, dim in ws.column_dimensions.items()}
    for row in ws.iter_rows(min_row=first, max_row=last or ws.max_row):
        lines = 1
        for cell in row:
            value, align = cell.value, cell.alignment
            if cell.data_type != "s" or not align.wrap_text or align.textRotation:
                continue
            lines = max(lines, text_lines(value, widths.get(cell.column_letter)))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(409, 15 * lines)


def fill(colour: str) -> PatternFill:
    """A solid fill of ``colour`` (RRGGBB)."""
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def number_format(decimals: int) -> str:
    """Norwegian-looking number format (``# ##0,0`` is written ``#,##0.0`` in OOXML)."""
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def status_cf(ws: Worksheet, ref: str, lang: str) -> None:
    """Colour the status labels in ``ref`` (conditional formatting keyed on the label text)."""
    for status, (bg, fg) in STATUS_COLOURS.items():
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[quoted(status_label(status, lang))],
                fill=fill(bg),
                font=Font(color=fg, bold=status in (Status.RED, Status.INVALID)),
            ),
        )


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def timing_text(timing: str | None, lang: str) -> str | None:
    """``Ledende`` / ``Etterslepende`` for an indicator's ``timing`` (None when not set)."""
    return t(f"master.timing.{timing}", lang) if timing else None


def label(status: str | None, lang: str) -> str:
    """The label of a status code (``green`` → ``Grønn``); ``–`` when there is none."""
    return status_label(Status(status), lang) if status else "–"


def fmt_time(moment: dt.datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M")


# -- workbook ----------------------------------------------------------------------------------


def sheet_names(lang: str) -> dict[str, str]:
    """The sheet names of the master in ``lang`` (key → name)."""
    return {key: t(f"master.sheet.{key}", lang) for key in SHEET_KEYS}


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
    sectors = [s for s in d.sectors if any(u.sector == s.code for u in d.units)]
    # Block 1: focus areas × county and sectors, with the green count over units.
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
    # Block 2: units per status and focus area, and a stacked bar chart of it.
    row += 2
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
    # Block 3: units × focus areas (16 rows below the chart's top, so they never overlap).
    row = last + 2 + (16 if counts else 0)
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
    _write_vision(ws, row + 2, d, lang)
    print_setup(ws, lang, "1:2")


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


def state_cf(ws: Worksheet, ref: str, lang: str) -> None:
    for state, colour in (
        ("received", "C6EFCE"),
        ("missing", "FFEB9C"),
        ("duplicate", "FFC7CE"),
        ("rejected", "FFC7CE"),
    ):
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[quoted(t(f"collect.state.{state}", lang))],
                fill=fill(colour),
            ),
        )


# -- Trend -------------------------------------------------------------------------------------


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
