"""Formulas written with their result: the cached value Excel stores in ``<v>`` beside ``<f>``.

Excel saves every formula cell with the value it last computed, and everything that does not
recalculate shows only that value: file previews, Outlook/Teams previews, Protected View for
e-mail attachments, Power Query, pandas, python-calamine. openpyxl writes ``<v></v>``, so those
showed blank status cells. The writers know every result (the status engine computes what the
formulas compute), so a formula is written as a :class:`Formula` carrying its ``result``, and
the one serialisation here puts it into the cell: text as ``t="str"``, numbers plain, booleans
``t="b"``, error values (:class:`ErrorValue`) ``t="e"``.

Two ways in: :func:`formula_cell` renders a whole ``<c>`` for the string-formatting row writers,
:func:`fill_results` fills the empty ``<v>`` of parts openpyxl serialised itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from bms_excel.xlsx.cells import escape_text


class Formula(str):
    """A formula text (with the leading ``=``) and the ``result`` it computes.

    ``result`` is a text, a number, a bool, an :class:`ErrorValue`, or ``None`` when unknown
    (written without a cached value, as before). A formula that yields an empty text has the
    result ``""``.
    """

    result: Any

    def __new__(cls, text: str, result: Any = None) -> Formula:
        obj = super().__new__(cls, text)
        obj.result = result
        return obj


class ErrorValue(str):
    """An Excel error value as a formula's result (``#DIV/0!``), written ``t="e"``."""


def result_xml(result: Any) -> tuple[str, str] | None:
    """The ``t`` attribute (with its leading space, or empty) and ``<v>`` text of ``result``.

    ``None`` when there is nothing to cache (unknown result, or a number that is not finite).
    """
    if result is None:
        return None
    if isinstance(result, bool):
        return ' t="b"', "1" if result else "0"
    if isinstance(result, ErrorValue):
        return ' t="e"', escape_text(str(result))
    if isinstance(result, str):
        return ' t="str"', escape_text(result)
    if isinstance(result, int):
        return "", str(result)
    if isinstance(result, float):
        if not math.isfinite(result):
            return None
        return "", repr(result + 0.0)  # shortest round trip; no -0
    raise TypeError(f"cannot cache a {type(result).__name__} formula result")


def formula_cell(start: str, formula: str, escaped: str | None = None) -> str:
    """The ``<c>`` element of ``formula`` whose opening tag (without ``>``) is ``start``.

    ``escaped`` is the formula text without ``=`` already escaped for XML (escaped here when
    not given).
    """
    body = escape_text(formula[1:]) if escaped is None else escaped
    found = result_xml(getattr(formula, "result", None))
    if found is None:
        return f"{start}><f>{body}</f><v></v></c>"
    kind, value = found
    return f"{start}{kind}><f>{body}</f><v>{value}</v></c>"


def sheet_results(cells: Mapping[tuple[int, int], Any]) -> dict[str, Any]:
    """Coordinate → result of the :class:`Formula` cells among openpyxl ``cells``."""
    out: dict[str, Any] = {}
    for cell in cells.values():
        value = cell._value
        if cell.data_type == "f" and isinstance(value, Formula) and value.result is not None:
            out[cell.coordinate] = value.result
    return out


#: A formula cell as openpyxl writes it: no ``t``, a plain ``<f>``, an empty ``<v>``.
_EMPTY_RESULT = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)><f>([^<]*)</f><v(?:/>|></v>)</c>'
)


def fill_results(part: bytes, results: Mapping[str, Any]) -> bytes:
    """``part`` (a worksheet openpyxl wrote) with ``results`` as the formulas' cached values."""
    if not results:
        return part

    def one(m: re.Match[bytes]) -> bytes:
        found = result_xml(results.get(m.group(1).decode("ascii")))
        if found is None or b" t=" in m.group(2):
            return m.group(0)
        kind, value = found
        return b'<c r="%s"%s%s><f>%s</f><v>%s</v></c>' % (
            m.group(1),
            m.group(2),
            kind.encode("ascii"),
            m.group(3),
            value.encode("ascii", "xmlcharrefreplace"),
        )

    return _EMPTY_RESULT.sub(one, part)
