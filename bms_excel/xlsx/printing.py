"""Page setup shared by the unit and master workbooks: A4 landscape, readable on paper.

"Fit to one page wide" shrinks a wide sheet until its text is unreadable (34 indicator columns
on one A4 page print at about 4 pt). Instead every printed sheet gets an explicit scale: the
largest that fits the sheet's columns on one page wide, but never so small that its smallest
font prints under :data:`MIN_PRINT_PT`. A sheet that still does not fit runs on to further
pages across, with its title columns repeated and, where the caller knows the column groups
(the focus areas of Enheter), a page break between groups rather than inside one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

#: No printed text smaller than this (points).
MIN_PRINT_PT = 8.0
#: A4 landscape is 297 mm (841.9 pt) wide; the printable width after the side margins.
A4_LANDSCAPE_WIDTH_PT = 841.9
A4_LANDSCAPE_HEIGHT_PT = 595.3
SIDE_MARGIN_IN = 0.4
#: Excel's default column width (characters) for a column without a width.
DEFAULT_WIDTH = 8.43


def column_points(width: float | None) -> float:
    """The printed width (pt) of a column ``width`` characters wide (Calibri 11: 7 px + 5 px)."""
    return (7 * (width or DEFAULT_WIDTH) + 5) * 0.75


def printable_width(margin_in: float = SIDE_MARGIN_IN) -> float:
    """The width (pt) between the side margins of an A4 landscape page."""
    return A4_LANDSCAPE_WIDTH_PT - 2 * 72 * margin_in


def print_scale(widths: Sequence[float | None], smallest_font: float) -> int:
    """The print scale (percent, 10–100) for columns of ``widths`` with ``smallest_font`` (pt).

    The largest scale that fits the columns on one page wide, but at least the scale that
    prints ``smallest_font`` at :data:`MIN_PRINT_PT`.
    """
    total = sum(column_points(w) for w in widths) or 1.0
    fits = math.floor(100 * printable_width() / total)
    readable = math.ceil(100 * MIN_PRINT_PT / smallest_font)
    return max(10, readable, min(100, fits))


def fit_widths(widths: Sequence[float], smallest_font: float, floor: float = 12) -> list[float]:
    """``widths`` with the columns wider than ``floor`` narrowed (in proportion to what they
    have over ``floor``) so that all fit on one page wide at the smallest readable scale.
    For sheets of wrapped text, whose rows then grow instead of the print shrinking."""
    scale = math.ceil(100 * MIN_PRINT_PT / smallest_font) / 100
    room = printable_width() / scale
    total = sum(column_points(w) for w in widths)
    excess = sum(max(0.0, w - floor) for w in widths)
    if total <= room or not excess:
        return list(widths)
    cut = min(1.0, (total - room) / 0.75 / 7 / excess)
    return [w - max(0.0, w - floor) * cut for w in widths]


def smallest_font(ws: Worksheet) -> float:
    """The smallest font size (pt) of the cells of ``ws`` that hold a value."""
    sizes = [
        float(cell.font.sz or 11)
        for cell in ws._cells.values()
        if cell.value is not None and cell.font is not None
    ]
    return min(sizes, default=11.0)


def visible_widths(ws: Worksheet, last_col: int) -> list[float | None]:
    """The widths of the visible columns A..``last_col`` of ``ws``."""
    out: list[float | None] = []
    for col in range(1, last_col + 1):
        dim = ws.column_dimensions.get(get_column_letter(col))
        if dim is not None and dim.hidden:
            continue
        out.append(dim.width if dim is not None and dim.customWidth else None)
    return out


def group_breaks(
    widths: Sequence[float | None],
    groups: Sequence[tuple[int, int]],
    title_cols: int,
    scale: int,
) -> list[int]:
    """Column breaks (1-based index of the last column on a page) between ``groups``.

    ``groups`` are (first, last) 1-based column ranges in order, ``widths`` the widths of every
    column from A. Groups are packed onto pages left to right; a break goes before a group that
    would not fit beside the repeated ``title_cols`` first columns. A group wider than a page
    is left to the program's own breaks.
    """
    room = printable_width() * 100 / scale - sum(column_points(w) for w in widths[:title_cols])
    breaks: list[int] = []
    used = 0.0
    for first, last in groups:
        size = sum(column_points(widths[c - 1]) for c in range(first, last + 1))
        if used and used + size > room:
            breaks.append(first - 1)
            used = 0.0
        used += size
    return breaks


def page_setup(
    ws: Worksheet,
    *,
    smallest_font: float,
    last_col: int | None = None,
    title_rows: str | None = None,
    title_cols: str | None = None,
    groups: Sequence[tuple[int, int]] = (),
) -> int:
    """A4 landscape at a readable explicit scale; returns the scale.

    Args:
        smallest_font: the smallest font size (pt) on the sheet's printed cells.
        last_col: the last printed column (default: the sheet's last column).
        title_rows, title_cols: rows/columns repeated on every page (``"4:4"``, ``"A:B"``).
        groups: column ranges that should not be split over pages (see :func:`group_breaks`).
    """
    last = last_col or ws.max_column
    widths = visible_widths(ws, last)
    scale = print_scale(widths, smallest_font)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.scale = scale
    ws.page_setup.fitToWidth = None
    ws.page_setup.fitToHeight = None
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
    ws.page_margins.left = ws.page_margins.right = SIDE_MARGIN_IN
    if title_rows:
        ws.print_title_rows = title_rows
    if title_cols:
        ws.print_title_cols = title_cols
    if groups:
        all_widths = [
            ws.column_dimensions[get_column_letter(c)].width or DEFAULT_WIDTH
            for c in range(1, last + 1)
        ]
        n_titles = column_index_from_string(title_cols.split(":")[1]) if title_cols else 0
        ws.col_breaks.brk = []
        for col in group_breaks(all_widths, groups, n_titles, scale):
            ws.col_breaks.append(Break(id=col))
    return scale


#: Characters of average text per unit of column width. A column width counts Calibri digits;
#: text in LibreOffice's fallback for Calibri (DejaVu Sans) is wider, so this errs on more lines.
CHARS_PER_WIDTH = 0.95


def text_lines(text: str, width: float | None) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (words kept whole,
    as Excel and LibreOffice wrap them)."""
    per_line = max(1, int((width or DEFAULT_WIDTH) * CHARS_PER_WIDTH))
    lines = 0
    for part in text.split("\n"):
        used = 0
        lines += 1
        for word in part.split(" "):
            size = len(word)
            if used and used + 1 + size > per_line:
                lines += 1
                used = 0
            if size > per_line:  # a word longer than a line is broken inside it
                lines += (size - 1) // per_line
                size = (size - 1) % per_line + 1
            used += size + (1 if used else 0)
    return max(1, lines)
