"""Rows written straight into a worksheet's XML part when the workbook is saved.

openpyxl builds, checks and serialises a cell object per value; for the master's long lists
(Data: a row per unit and indicator, hundreds of thousands in a national run) that costs more
than everything else together. :func:`defer_rows` sets rows aside (with a style id per column,
row heights and hyperlinks), :func:`defer_lazy_rows` sets aside a recipe that makes them only
at save time, and :func:`bms_excel.master.save.workbook_payload` splices their ``<row>``
elements into the part openpyxl wrote — the same XML openpyxl would have written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.errors import OutputError
from bms_excel.xlsx.cells import column_letter, escape_attr, escape_text
from bms_excel.xlsx.limits import fit_text
from bms_excel.xlsx.printing import text_lines

#: Per workbook: sheet title → its :class:`DeferredRows`.
_DEFERRED = "_bms_deferred_rows"


@dataclass
class DeferredRows:
    """Rows of one sheet, written into its XML part when the workbook is saved.

    A long list (the Data sheet: units × indicators × 22 columns) costs openpyxl a cell object
    per value to build, check and serialise; these rows become the same ``<row>``/``<c>`` XML
    openpyxl would write (inline strings, ``%.16g`` numbers, ``t="b"`` booleans, dates as
    serial numbers), without cells.
    """

    first_row: int
    #: The rows; a :class:`LazyRows` makes them only while the sheet part is written.
    rows: Sequence[tuple[Any, ...]] | LazyRows
    width: int
    #: Per row, the cell style id (``s``) of each column (``0``/missing: unstyled); ``None``
    #: for no styles at all. Rows usually share one tuple.
    styles: list[tuple[int, ...] | None] | None = None
    #: Row number → height in points (``customHeight``), as ``row_dimensions`` would write.
    heights: dict[int, float] = field(default_factory=dict)
    #: ``(cell, target, location)`` of the external hyperlinks of cells in these rows.
    links: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def last_row(self) -> int:
        """The last row written (``first_row - 1`` when there are none)."""
        return self.first_row + len(self.rows) - 1

    def xml_chunks(self, rows_per_chunk: int = 2000) -> Iterator[bytes]:
        """The ``<row>`` elements, UTF-8, a few thousand rows at a time."""
        width = max([self.width, *(len(s) for s in self.styles or () if s)])
        letters = [column_letter(c) for c in range(1, width + 1)]
        unstyled = [""] * width
        attrs_of: dict[tuple[int, ...], list[str]] = {}  # rows share a few style tuples
        texts: dict[str, str] = {}
        out: list[str] = []
        for n, values in enumerate(self.rows):
            i = self.first_row + n
            styles = self.styles[n] if self.styles is not None else None
            s_attrs = unstyled
            if styles:
                s_attrs = attrs_of.get(styles) or attrs_of.setdefault(
                    styles,
                    [f' s="{sid}"' if sid else "" for sid in styles] + unstyled[len(styles) :],
                )
            cells = []
            padded = chain(values, _NONES)  # endless: zip stops at the sheet's width
            for letter, s_attr, value in zip(letters, s_attrs, padded, strict=False):
                kind = type(value)
                if kind is str:
                    tail = texts.get(value)
                    if tail is None:
                        tail = _text_tail(value)
                        if len(value) < 100:  # codes, names and labels repeat on every row
                            texts[value] = tail
                    if tail:
                        cells.append(f'<c r="{letter}{i}"{s_attr}{tail}')
                    elif s_attr:
                        cells.append(f'<c r="{letter}{i}"{s_attr}/>')
                elif kind is float or kind is int:
                    v = f"{value:.16g}" if math.isfinite(value) else ""
                    cells.append(f'<c r="{letter}{i}"{s_attr} t="n"><v>{v}</v></c>')
                elif value is None:
                    if s_attr:
                        cells.append(f'<c r="{letter}{i}"{s_attr}/>')
                else:
                    cells.append(_other_cell(f"{letter}{i}", s_attr, value))
            height = self.heights.get(i)
            if height is not None:
                out.append(f'<row r="{i}" ht="{height:g}" customHeight="1">{"".join(cells)}</row>')
            elif cells:
                out.append(f'<row r="{i}">{"".join(cells)}</row>')
            if len(out) >= rows_per_chunk:
                yield "".join(out).encode("utf-8")
                out = []
        if out:
            yield "".join(out).encode("utf-8")

    def hyperlinks_xml(self) -> str:
        """The ``<hyperlinks>`` element for :attr:`links` (relationship ids ``rIdBms<n>``)."""
        items = []
        for n, (ref, _, location) in enumerate(self.links, start=1):
            loc = f' location="{escape_attr(location)}"' if location else ""
            items.append(f'<hyperlink xmlns:r="{_NS_R}" ref="{ref}"{loc} r:id="rIdBms{n}"/>')
        return f"<hyperlinks>{''.join(items)}</hyperlinks>"

    def relationships_xml(self) -> str:
        """The ``<Relationship>`` elements for :attr:`links`."""
        return "".join(
            f'<Relationship Type="{_NS_R}/hyperlink" Target="{escape_attr(target)}" '
            f'TargetMode="External" Id="rIdBms{n}"/>'
            for n, (_, target, _) in enumerate(self.links, start=1)
        )


_NONES = repeat(None)  # pads a row shorter than the sheet's width


def _text_tail(value: str) -> str:
    """The rest of an inline-string ``<c>`` after its attributes ("" for no text).

    The text is cleaned and cut to a cell's limit (:func:`fit_text`) here, as :func:`put`
    does for a cell.
    """
    text = fit_text(value)
    if not text:
        return ""
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f' t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def _other_cell(ref: str, s_attr: str, value: Any) -> str:
    """The ``<c>`` of a value that is not a plain text, float, int or None."""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s_attr} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):  # a serial number, as openpyxl writes dates
        return f'<c r="{ref}"{s_attr} t="n"><v>{to_excel(value):.16g}</v></c>'
    if isinstance(value, str):  # a str subclass
        tail = _text_tail(str(value))
        if tail:
            return f'<c r="{ref}"{s_attr}{tail}'
        return f'<c r="{ref}"{s_attr}/>' if s_attr else ""
    if isinstance(value, int | float):
        v = f"{value:.16g}" if math.isfinite(value) else ""
        return f'<c r="{ref}"{s_attr} t="n"><v>{v}</v></c>'
    raise TypeError(f"cannot write {type(value).__name__} at {ref}")  # pragma: no cover


_NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def deferred_heights(ws: Worksheet, first: int, rows: Sequence[Sequence[Any]]) -> dict[int, float]:
    """The row heights :func:`fit_rows` would set for wrapped, unrotated ``rows`` from ``first``."""
    dims = ws.column_dimensions
    letters = [column_letter(c) for c in range(1, max((len(r) for r in rows), default=0) + 1)]
    widths = [(dims[x].width if x in dims else None) for x in letters]
    heights: dict[int, float] = {}
    known: dict[tuple[str, int], int] = {}  # names and codes recur on every row
    for i, values in enumerate(rows, start=first):
        lines = 1
        for k, value in enumerate(values):
            if isinstance(value, str):
                n = known.get((value, k))
                if n is None:
                    n = known[(value, k)] = text_lines(value, widths[k])
                lines = max(lines, n)
        if lines > 1:
            heights[i] = min(409, 15 * lines)
    return heights


def defer_rows(
    ws: Worksheet,
    first_row: int,
    rows: Iterable[Sequence[Any]],
    *,
    styles: list[tuple[int, ...] | None] | None = None,
    heights: Mapping[int, float] | None = None,
    links: Sequence[tuple[str, str, str | None]] = (),
) -> int:
    """Write ``rows`` from ``first_row`` at save time; returns the last row.

    ``styles`` (per row, a style id per column, see :func:`style_id`), ``heights`` (row →
    points) and ``links`` (``(cell, target, location)`` external hyperlinks) are written with
    them.

    Texts are cleaned and cut to a cell's limit when written, exactly as :func:`put` does;
    nothing may be written at or below ``first_row`` through openpyxl.
    """
    kept = [tuple(row) for row in rows]
    width = max((len(row) for row in kept), default=0)
    _set_aside(ws, DeferredRows(first_row, kept, width, styles, dict(heights or {}), list(links)))
    return first_row + len(kept) - 1


@dataclass(frozen=True)
class LazyRows:
    """``count`` rows that ``make`` produces anew on every pass.

    For the longest list (Data: a row per unit and indicator): nothing of it is held in
    memory between building the workbook and writing the sheet part.
    """

    count: int
    make: Callable[[], Iterable[Sequence[Any]]]

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        n = 0
        for row in self.make():
            n += 1
            yield tuple(row)
        if n != self.count:
            raise OutputError(f"expected {self.count} rows, got {n}")  # pragma: no cover


def defer_lazy_rows(
    ws: Worksheet,
    first_row: int,
    count: int,
    width: int,
    make: Callable[[], Iterable[Sequence[Any]]],
) -> int:
    """Like :func:`defer_rows` without styles, the rows made by ``make`` only at save time.

    ``make`` must give the same ``count`` rows of at most ``width`` values on every call.
    """
    _set_aside(ws, DeferredRows(first_row, LazyRows(count, make), width))
    return first_row + count - 1


def _set_aside(ws: Worksheet, rows: DeferredRows) -> None:
    deferred: dict[str, DeferredRows] | None = getattr(ws.parent, _DEFERRED, None)
    if deferred is None:
        deferred = {}
        setattr(ws.parent, _DEFERRED, deferred)
    deferred[ws.title] = rows


def deferred_rows(wb: Any) -> dict[str, DeferredRows]:
    """Sheet title → the rows :func:`defer_rows` set aside for it (empty when none)."""
    found: dict[str, DeferredRows] = getattr(wb, _DEFERRED, None) or {}
    return found
