"""Cell helpers of the master's sheets: styles, texts that stay text, print set-up.

Text from units and definitions is always written as text (a comment starting with ``=`` is
never a formula) and cleaned of characters XML cannot hold (:func:`put`); formulas enter the
master only through :func:`put_formula`. Styles are shared per workbook (:func:`apply_style`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.i18n import t
from bms_excel.status import (
    STATUS_COLOURS,
    Status,
    status_label,
)
from bms_excel.xlsx.cached_formula import Formula
from bms_excel.xlsx.limits import fit_text
from bms_excel.xlsx.printing import page_setup, text_lines

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


# -- cell helpers ------------------------------------------------------------------------------


def put(ws: Worksheet, row: int, col: int, value: Any, **style: Any) -> Cell:
    """Write ``value``; a text is cleaned, cut to a cell's limit and stays text, never a formula."""
    cell = ws.cell(row=row, column=col)
    kind = type(value)
    if kind is str:
        # What openpyxl's value setter does, without checking again what fit_text made sure
        # of (no illegal characters, within a cell's length): a text, or an error code.
        text = fit_text(value)
        cell._value = text
        cell.data_type = "e" if text in ERROR_CODES else "s"
    elif kind is int or kind is float or value is None:
        cell._value = value
        cell.data_type = "n"
    elif isinstance(value, str):
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
        tuple([(k, v if isinstance(v, str) else id(v)) for k, v in style.items()]),
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
