"""The sheet-extent guard: where a sheet's cells really are, before python-calamine sees it.

calamine builds a dense grid from A1 to the farthest cell of a sheet, so a single cell in
XFD1048576 would ask for hundreds of GiB. The cell references in the sheet part (not its
``<dimension>``, which can lie) give the extent by byte scans (the sheet data is never parsed
as XML); :func:`clip_sheet` leaves out the cells beyond the limits.
:func:`bms_excel.reader` decides what to do with a sheet that does not fit.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from bms_excel.xlsx.cells import a1, column_number

if TYPE_CHECKING:
    from bms_excel.reader import Limits

# Cell references anywhere in a sheet's data (rows carry digits only, so they never match).
_ANY_CELL_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,8})([0-9]{1,12})["']""")
# A value calamine places: text in <v>, or an inline string.
_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v(?:\s[^>]*)?>[^<]|is[\s>])")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_ROW_REF = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr\s*=\s*["']([0-9]{1,12})["']""")
# One cell element with its reference (the Open XML SDK writes them prefixed, <x:c>); text
# inside cannot hold "<" (escaped in XML) outside CDATA.
_CELL_ELEMENT = re.compile(
    rb"""<(?:[A-Za-z_][\w.-]*:)?c\s(?:[^>]*?\s)?r\s*=\s*["']([A-Z]{1,8})([0-9]{1,12})["']"""
    rb"""[^>]*?(?:/>|>.*?</(?:[A-Za-z_][\w.-]*:)?c>)""",
    re.S,
)


def fits_limits(blob: bytes, limits: Limits) -> bool:
    start = blob.find(b"sheetData")
    rows, cols, _ = sheet_extent(blob, start, blob.rfind(b"sheetData"))
    return rows <= limits.max_rows and cols <= limits.max_cols


def plainly_within(blob: bytes, start: int, end: int, limits: Limits) -> bool:
    """Whether ``blob[start:end]`` is certainly within the limits, by two byte scans.

    True only when every cell is an unprefixed ``<c`` that carries first a reference plainly
    within the limits (one column letter, fewer row digits than ``max_rows`` has; Excel,
    LibreOffice and openpyxl write references first); anything else gets the exact measure
    of :func:`sheet_extent`.
    """
    beyond = _cell_not_plainly_near(limits.max_rows, limits.max_cols)
    # Within sheetData only the cell element starts with "<c"; ":c" would be a prefixed one.
    if beyond is None or beyond.search(blob, start, end) is not None:
        return False
    return blob.find(b":c", start, end) < 0


@functools.lru_cache(maxsize=8)
def _cell_not_plainly_near(max_rows: int, max_cols: int) -> re.Pattern[bytes] | None:
    """A pattern matching every ``<c`` that does not go on with a reference plainly within
    the limits (and some that are): one column letter (A–Z, within ``max_cols`` ≥ 26) and
    fewer digits than ``max_rows`` has. Its literal start lets the regex engine skip from one
    ``<c`` to the next."""
    if max_cols < 26 or max_rows < 10:
        return None
    return re.compile(rb'<c(?! r="[A-Z][0-9]{1,%d}")' % (len(str(max_rows)) - 1))


def sheet_extent(blob: bytes, start: int, end: int) -> tuple[int, int, bool]:
    """The last row and column a reader would place a value of ``blob[start:end]`` in, and
    whether every cell there carries its own reference (then cells can be clipped one by one).

    A cell without a value (``<c r="XFD1" s="3"/>``, as LibreOffice writes formatted empty
    cells) is never placed by calamine and does not count. A cell without ``r`` goes after the
    previous one, so without references the bound adds the number of rows and cells: never
    less than where a reader puts them.
    """
    cells = len(_CELL_TAG.findall(blob, start, end))
    rows = cols = 0
    found = 0
    for match in _CELL_ELEMENT.finditer(blob, start, end):
        found += 1
        if _holds_value(match.group(0)):
            rows = max(rows, int(match.group(2)))
            cols = max(cols, column_number(match.group(1).decode("ascii")))
    if cells == found and blob.find(b"<![CDATA[", start, end) < 0:
        return rows, cols, True
    refs = _ANY_CELL_REF.findall(blob, start, end)
    rows = max((int(r) for r in {r for _, r in refs}), default=0)
    cols = max((column_number(c.decode("ascii")) for c in {c for c, _ in refs}), default=0)
    row_refs = [int(r) for r in _ROW_REF.findall(blob, start, end)]
    rows = max(rows, *row_refs, 0) + len(_ROW_TAG.findall(blob, start, end))
    return rows, cols + cells, False


def _holds_value(cell: bytes) -> bool:
    return not cell.endswith(b"/>") and _VALUE.search(cell) is not None


def clip_sheet(blob: bytes, limits: Limits) -> tuple[bytes, int, str]:
    """The sheet part without the cells beyond the limits; how many of them held a value, and
    the farthest of those."""
    dropped: list[tuple[int, int]] = []

    def keep(match: re.Match[bytes]) -> bytes:
        row, col = int(match.group(2)), column_number(match.group(1).decode("ascii"))
        if row <= limits.max_rows and col <= limits.max_cols:
            return match.group(0)
        if _holds_value(match.group(0)):
            dropped.append((row, col))
        return b""

    clipped = _CELL_ELEMENT.sub(keep, blob)
    farthest = max(dropped, default=(0, 0))
    return clipped, len(dropped), a1(*farthest)
