"""Which cells of a returned workbook show percentages: for Excel's automatic percent entry.

Typing ``68 %`` into a cell makes Excel store the number 0.68 and give the cell a percent
number format. For an indicator measured in ``%`` the collector must read that as 68, as the
person meant it and as the unit workbook's own status formula does
(:func:`bms_excel.status.percent_entry_value`); never judge 0.68 against a target of 70.

A cell's format is its ``s`` attribute (an index into ``cellXfs`` in ``xl/styles.xml``), whose
``numFmtId`` is a built-in percent format (9 ``0%``, 10 ``0.00%``) or a custom code with a
``%`` outside quoted text. Both parts are read in the reader's light pass: the style sheet
with the hardened parser, the sheet data with a byte scan that runs only when the workbook
has a percent style at all (the generated workbooks have none).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from bms_excel.xlsx.cells import column_number

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: Built-in number formats that show a percentage (ECMA-376 §18.8.30).
BUILTIN_PERCENT = frozenset({9, 10})
#: Parts of a format code that are literal text or modifiers, not a percent sign: quoted text,
#: backslash-escaped characters, ``[Red]``/``[<0]``/``[$-414]`` brackets, ``_x`` and ``*x``.
_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|[_*].')
#: Bytes a style sheet with a percent format must hold: a built-in percent id, or a "%" in
#: a custom format code (possibly as a character reference). Without any, nothing is parsed.
_MAYBE_PERCENT = (
    b'numFmtId="9"',
    b'numFmtId="10"',
    b"numFmtId='9'",
    b"numFmtId='10'",
    b"%",
    b"&#37;",
    b"&#x25;",
    b"&#X25;",
)
_CELL_TAG = re.compile(rb"<c\s([^>]*)>")
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_STYLE = re.compile(rb'\bs="([0-9]{1,9})"')


def is_percent_format(code: str) -> bool:
    """Whether the custom number format ``code`` multiplies by 100 and shows ``%``."""
    return "%" in _LITERALS.sub("", code)


def percent_styles(styles_xml: bytes | None) -> frozenset[int]:
    """The cell style indices (``s``) whose number format shows a percentage.

    An unreadable or hostile style sheet has none (the reader reports the part itself).
    """
    if not styles_xml or not any(mark in styles_xml for mark in _MAYBE_PERCENT):
        return frozenset()
    try:
        root = safe_xml.fromstring(styles_xml, forbid_dtd=True)
    except (DefusedXmlException, ParseError):
        return frozenset()
    percent_ids = set(BUILTIN_PERCENT)
    for node in root.iterfind(f"{_NS}numFmts/{_NS}numFmt"):
        number = node.get("numFmtId", "")
        if number.isdigit() and is_percent_format(node.get("formatCode", "")):
            percent_ids.add(int(number))
    found = set()
    for index, xf in enumerate(root.iterfind(f"{_NS}cellXfs/{_NS}xf")):
        number = xf.get("numFmtId", "0")
        if number.isdigit() and int(number) in percent_ids:
            found.add(index)
    return frozenset(found)


def percent_cells(sheet_xml: bytes, styles: frozenset[int]) -> frozenset[tuple[int, int]]:
    """``(row, column)`` of the cells of a worksheet part styled with one of ``styles``."""
    if not styles:
        return frozenset()
    marks = [b's="%d"' % s for s in styles]
    if not any(mark in sheet_xml for mark in marks):
        return frozenset()
    cells = set()
    for tag in _CELL_TAG.finditer(sheet_xml):
        attrs = tag.group(1)
        style = _STYLE.search(attrs)
        if style is None or int(style.group(1)) not in styles:
            continue
        ref = _CELL_REF.search(attrs)
        if ref is not None:
            cells.add((int(ref.group(2)), column_number(ref.group(1).decode("ascii"))))
    return frozenset(cells)
