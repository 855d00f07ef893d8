"""The light pass over a package's XML: the small parts parsed safely, the sheet parts scanned
as bytes (sheet data is never parsed as XML; the full parse is the slow path for unusual
sheets).

:func:`parse_xml` uses the C parser on a part that plainly declares no DTD and defusedxml's
guarded parser on anything else; :func:`scan_sheet` gives a sheet's protection and formula
cells, :func:`error_cells` its Excel error values. Each fast path gives what the full parse
gives, or steps aside for it.
"""

from __future__ import annotations

import functools
import re
from xml.etree.ElementTree import Element, ParseError, fromstring

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from bms_excel.archive import fail
from bms_excel.xlsx.cells import column_number

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_A1 = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_PROTECTION_TAG = re.compile(rb"<sheetProtection\b[^>]*>")


def parse_xml(blob: bytes, part: str) -> Element:
    """``blob`` parsed, refusing a DTD (``hostile-xml``); a part plainly without one is parsed
    by the C parser, anything else by defusedxml's guarded (and much slower) parser."""
    if plainly_without_dtd(blob):
        try:
            return fromstring(blob)
        except ParseError as exc:
            raise fail("corrupt-workbook", part=part) from exc
    try:
        return safe_xml.fromstring(blob, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise fail("hostile-xml", part=part) from exc
    except ParseError as exc:
        raise fail("corrupt-workbook", part=part) from exc


def plainly_without_dtd(blob: bytes) -> bool:
    """Whether ``blob`` certainly declares no DTD (so no entity either).

    It starts with ``<`` (after a UTF-8 byte-order mark): an ASCII-compatible encoding, and
    expat accepts no other kind for such a document (every encoding it reads maps the ASCII
    characters of markup to the same single bytes), so a DTD would show as ``<!DOCTYPE``.
    UTF-16 (a mark or NUL bytes first) and anything unusual take the guarded parser.
    """
    body = blob[3:] if blob.startswith(b"\xef\xbb\xbf") else blob
    return body[:1] == b"<" and body[1:2] != b"\x00" and b"<!DOCTYPE" not in body


def scan_sheet(
    blob: bytes, part: str, *, want_formulas: bool
) -> tuple[dict[str, str] | None, frozenset[tuple[int, int]]]:
    """Sheet protection from the XML around ``<sheetData>``, formula cells from a byte scan."""
    start = blob.find(b"<sheetData")
    open_end = blob.find(b">", start) if start >= 0 else -1
    if open_end < 0:
        return _scan_sheet_fully(blob, part)
    if blob[open_end - 1 : open_end] == b"/":
        body_start = body_end = tail_start = open_end + 1
    else:
        body_start = open_end + 1
        body_end = blob.find(b"</sheetData>", body_start)
        if body_end < 0:
            raise fail("corrupt-workbook", part=part)
        tail_start = body_end + len(b"</sheetData>")
    protection = _sheet_protection(blob, start, tail_start, part)
    if not want_formulas:
        return protection, frozenset()
    cells: set[tuple[int, int]] = set()
    pos = blob.find(b"<f", body_start, body_end)
    while pos >= 0:
        if blob[pos + 2 : pos + 3] in (b">", b" ", b"/"):
            # <f> is the first child of its <c>: the nearest cell start tag before it owns it.
            start_tag = blob.rfind(b"<c", body_start, pos)
            ref = _CELL_REF.search(blob, start_tag, blob.find(b">", start_tag, pos))
            if start_tag < 0 or ref is None:  # a cell without r="…": needs the full parse
                return _scan_sheet_fully(blob, part)
            cells.add((int(ref.group(2)), column_number(ref.group(1).decode("ascii"))))
        pos = blob.find(b"<f", pos + 2, body_end)
    return protection, frozenset(cells)


_ERROR_CELL = re.compile(
    rb"<(?:\w+:)?c\s[^>]*?\bt\s*=\s*[\"']e[\"'][^>]*?(?<!/)>(.*?)</(?:\w+:)?c>", re.S
)
_ERROR_VALUE = re.compile(rb"<(?:\w+:)?v>\s*(#[A-Z0-9/!?_.]{1,16})\s*</")
_ERROR_REF = re.compile(rb'\br\s*=\s*["\']([A-Z]{1,3})([0-9]{1,7})["\']')


def error_cells(blob: bytes) -> dict[tuple[int, int], str]:
    """The cells of a worksheet part that hold an Excel error value (``t="e"``), with its text
    (``#DIV/0!``; ``#?`` when the value is not an error code). A byte scan, like the formula
    scan: python-calamine returns such a cell as an empty string."""
    found: dict[tuple[int, int], str] = {}
    # "'" (a memchr) first: package XML rarely holds any, so "'e'" is rarely looked for.
    if b'"e"' not in blob and (b"'" not in blob or b"'e'" not in blob):
        return found
    for match in _ERROR_CELL.finditer(blob):
        ref = _ERROR_REF.search(match.group(0), 0, match.start(1) - match.start())
        if ref is None:  # a cell without r="…": the formula scan has parsed the part fully
            continue
        value = _ERROR_VALUE.search(match.group(1))
        text = value.group(1).decode("ascii") if value is not None else "#?"
        found[(int(ref.group(2)), column_number(ref.group(1).decode("ascii")))] = text
    return found


def _sheet_protection(blob: bytes, start: int, tail_start: int, part: str) -> dict[str, str] | None:
    """The ``<sheetProtection>`` attributes from the XML around ``<sheetData>``.

    The common case reads only the one element, by byte scans (plain double-quoted attributes
    without references) or else by parsing that one start tag; anything unusual (a comment or
    CDATA that could hide or fake the element, a second one, prefixed attributes) parses the
    whole head and tail as before.
    """
    found: list[bytes] = []
    for first, last in ((0, start), (tail_start, len(blob))):
        if blob.find(b"<!--", first, last) >= 0 or blob.find(b"<![CDATA[", first, last) >= 0:
            found = []
            break
        found += _protection_tags(blob, first, last)
    else:
        if not found:
            return None
        if len(found) == 1:
            attributes = _plain_attributes_of(found[0])
            if attributes is not None:
                return dict(attributes)  # a copy: the cached one is shared
            tag = found[0]
            if not tag.endswith(b"/>"):
                tag = tag[:-1] + b"/>"
            try:
                # One start tag cannot declare a DTD (and no part holding one got this far),
                # so the plain parser is safe here and much cheaper to set up.
                return dict(fromstring(tag).attrib)
            except ParseError:
                pass
    root = parse_xml(blob[:start] + blob[tail_start:], part)
    node = root.find(f"{NS_MAIN}sheetProtection")
    return dict(node.attrib) if node is not None else None


def _protection_tags(blob: bytes, first: int, last: int) -> list[bytes]:
    """``_PROTECTION_TAG.findall(blob, first, last)``, the long literal found by a byte search
    (far faster than the regex engine's scan for it)."""
    tags: list[bytes] = []
    pos = blob.find(b"<sheetProtection", first, last)
    while pos >= 0:
        match = _PROTECTION_TAG.match(blob, pos, last)
        if match is not None:
            tags.append(match.group(0))
        pos = blob.find(b"<sheetProtection", match.end() if match else pos + 1, last)
    return tags


_PLAIN_TAG = re.compile(rb'<sheetProtection((?: +[A-Za-z_][\w.-]*="[^"<&\x00-\x1f]*")*) */?>')
_PLAIN_ATTRIBUTE = re.compile(r'([A-Za-z_][\w.-]*)="([^"]*)"')


def _plain_attributes_of(tag: bytes) -> dict[str, str] | None:
    """:func:`_plain_attributes`, remembered for short tags: the returns of one county carry
    the same few protection tags."""
    return _cached_plain_attributes(tag) if len(tag) <= 1024 else _plain_attributes(tag)


def _plain_attributes(tag: bytes) -> dict[str, str] | None:
    """The attributes of a start tag whose attributes are all plain (unprefixed ASCII names,
    double-quoted values without references or control characters, separated by spaces), as
    an XML parser reads them; ``None`` for any other tag."""
    match = _PLAIN_TAG.fullmatch(tag)
    if match is None:
        return None
    try:
        text = match.group(1).decode("utf-8")  # the names are ASCII (the pattern says so)
    except UnicodeDecodeError:
        return None
    pairs = _PLAIN_ATTRIBUTE.findall(text)
    attributes = dict(pairs)
    return attributes if len(attributes) == len(pairs) else None


def _scan_sheet_fully(
    blob: bytes, part: str
) -> tuple[dict[str, str] | None, frozenset[tuple[int, int]]]:
    """The slow path for unusual sheets (prefixed XML, cells without ``r``): a full safe parse."""
    root = parse_xml(blob, part)
    protection: dict[str, str] | None = None
    cells: set[tuple[int, int]] = set()
    row_number = 0
    for node in root.iter():
        tag = node.tag.rsplit("}", 1)[-1]
        if tag == "sheetProtection":
            protection = dict(node.attrib)
        elif tag == "row":
            row_number = int(node.get("r") or row_number + 1)
            col = 0
            for cell in node:
                if cell.tag.rsplit("}", 1)[-1] != "c":
                    continue
                ref = _A1.fullmatch(cell.get("r") or "")
                col = column_number(ref.group(1)) if ref else col + 1
                if any(child.tag.rsplit("}", 1)[-1] == "f" for child in cell):
                    cells.add((row_number, col))
    return protection, frozenset(cells)


_cached_plain_attributes = functools.lru_cache(maxsize=64)(_plain_attributes)
