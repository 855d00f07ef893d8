"""Recognise and open submitted files defensively: by content, within limits, read-only.

Submissions come by e-mail from hundreds of people, so every file is untrusted:

* :func:`~bms_excel.submissions.walk_submissions` lists a folder, skipping lock, hidden and
  temporary files and never following a symbolic link out of the folder, and
  :func:`~bms_excel.submissions.sniff` tells what a file is by its bytes, never by its name
  (both in :mod:`bms_excel.submissions`);
* :func:`read_submission` reads one file into a :class:`ReadResult` and never raises for a bad
  file: every problem is a :class:`~bms_excel.errors.Finding`.

The file is read into memory once (it is at most ``MAX_FILE_SIZE``); the SHA-256 therefore
names exactly the bytes that were checked. Zip limits are judged from the central directory
before anything is inflated; every XML part is then inflated as a stream in small steps with a
running cap at its declared size, so a member that lies about its size is a ``zip-bomb`` after
at most one step beyond it. Before python-calamine sees a sheet, the cell references in the
sheet part (not its ``<dimension>``, which can lie) give the sheet's extent: calamine allocates
the whole grid from A1 to the farthest cell, so a single cell in XFD1048576 would ask for
hundreds of GiB. Cells beyond :attr:`Limits.max_rows` × :attr:`Limits.max_cols` are left out of
the package calamine reads (``cells-outside-form``; the byte scans are
:mod:`bms_excel.sheet_extent`). Cell values come from python-calamine;
sheet states, protection, document properties and formula cells come from a light pass
(defusedxml on the small parts, a byte scan of the sheet data, which is never parsed as XML).
Nothing is ever written, re-saved or executed.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import re
import stat
import zipfile
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError, fromstring

import defusedxml.ElementTree as safe_xml
import python_calamine
from defusedxml import DefusedXmlException

from bms_excel.archive import Deadline, check_zip_limits, fail, inflate_xml_parts, stored_zip
from bms_excel.codes import severity_of
from bms_excel.errors import Finding, WorkbookReadError
from bms_excel.i18n import t
from bms_excel.number_formats import percent_cells, percent_styles
from bms_excel.sheet_extent import clip_sheet, fits_limits, plainly_within, sheet_extent
from bms_excel.submissions import FileKind, escape_name, sniff_stream
from bms_excel.xlsx.cells import a1, column_number

SheetState = Literal["visible", "hidden", "veryHidden"]
CellValue = int | float | str | bool | date | datetime | dtime | timedelta
PropertyValue = str | int | float | bool | datetime

MAX_FILE_SIZE = 50 * 1024 * 1024
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small parts of real workbooks (rows of empty styled cells) can compress more than 100×;
# the ratio is judged only for members that inflate beyond this size.
RATIO_MIN_SIZE = 1024 * 1024
MAX_PARTS = 2000
TIME_BUDGET = 10.0
# The largest sheet calamine is asked for (1-based last row and column). Collection passes the
# form's own area (bms_excel.collect.form_limits); this default bounds any other caller.
MAX_ROWS = 10_000
MAX_COLS = 256

_NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_STATES: dict[str, SheetState] = {"hidden": "hidden", "veryHidden": "veryHidden"}
_A1 = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_PROTECTION_TAG = re.compile(rb"<sheetProtection\b[^>]*>")


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits applied before a file is opened further (defaults: the module constants)."""

    max_file_size: int = MAX_FILE_SIZE
    max_total_uncompressed: int = MAX_TOTAL_UNCOMPRESSED
    max_compression_ratio: float = MAX_COMPRESSION_RATIO
    ratio_min_size: int = RATIO_MIN_SIZE
    max_parts: int = MAX_PARTS
    time_budget: float = TIME_BUDGET
    max_rows: int = MAX_ROWS
    max_cols: int = MAX_COLS


@dataclass(frozen=True, slots=True)
class SheetInfo:
    """One sheet as ``xl/workbook.xml`` lists it; ``protection`` holds the ``<sheetProtection>``
    attributes (``None`` when the sheet has none or the format does not tell)."""

    name: str
    state: SheetState = "visible"
    protection: dict[str, str] | None = None

    @property
    def protected(self) -> bool:
        """Whether sheet protection is switched on."""
        return self.protection is not None and _truthy(self.protection.get("sheet"))


@dataclass(slots=True)
class WorkbookData:
    """What a workbook holds, compact enough to pickle back from a worker process.

    ``values`` maps sheet name → ``{(row, col): value}`` with 1-based coordinates (A1 is
    ``(1, 1)``) and only non-empty cells; ``formulas`` maps sheet name → the cells that carry a
    formula. With ``structure_known=False`` (an .ods or .xls) only ``values`` and the sheet
    names and states are known.
    """

    kind: FileKind
    structure_known: bool
    sheets: list[SheetInfo] = field(default_factory=list)
    values: dict[str, dict[tuple[int, int], CellValue]] = field(default_factory=dict)
    formulas: dict[str, frozenset[tuple[int, int]]] = field(default_factory=dict)
    #: sheet → the cells holding an Excel error value (``#DIV/0!``, ``#N/A`` …) and its text;
    #: python-calamine reads such a cell as empty.
    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)
    #: Sheet name → the cells with a percent number format (:mod:`bms_excel.number_formats`).
    percent: dict[str, frozenset[tuple[int, int]]] = field(default_factory=dict)
    workbook_protection: dict[str, str] | None = None
    defined_names: dict[str, str] = field(default_factory=dict)
    custom_properties: dict[str, PropertyValue] = field(default_factory=dict)
    created: datetime | None = None
    modified: datetime | None = None
    # (code, message, location) of what the reader left out; turned into findings.
    notes: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    @property
    def structure_locked(self) -> bool:
        """Whether the workbook structure is protected (``lockStructure``)."""
        prot = self.workbook_protection or {}
        return _truthy(prot.get("lockStructure"))

    def sheet(self, name: str) -> SheetInfo | None:
        """The sheet called ``name``, or ``None``."""
        return next((s for s in self.sheets if s.name == name), None)


@dataclass(slots=True)
class ReadResult:
    """The outcome of reading one submission: ``data`` is ``None`` when it could not be read."""

    path: str
    kind: FileKind | None
    data: WorkbookData | None
    findings: list[Finding]
    sha256: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class Wanted:
    """The sheets whose values and formula cells are read: ``only`` (None: all) less ``skip``."""

    only: Sequence[str] | None
    skip: frozenset[str]

    def names(self, present: Sequence[str]) -> list[str]:
        """The wanted names, in the order asked for (else the workbook's order)."""
        return [n for n in (present if self.only is None else self.only) if n not in self.skip]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "on"}


def _finding(
    code: str, file: str, message: str, sheet: str | None = None, cell: str | None = None
) -> Finding:
    return Finding(code, severity_of(code), message, file=file, sheet=sheet, cell=cell)


def read_submission(
    path: str | os.PathLike[str],
    *,
    sheets: Sequence[str] | None = None,
    skip_sheets: Collection[str] = (),
    display_name: str | None = None,
    limits: Limits | None = None,
) -> ReadResult:
    """Read one submitted file; every problem with it is a finding, never an exception.

    ``sheets`` (default: all) are the sheets whose values and formula cells are read, less
    ``skip_sheets``; every sheet's name, state and protection is read whatever they say.
    """
    limits = limits or Limits()
    name = display_name or escape_name(os.fsdecode(path))
    deadline = Deadline(limits.time_budget)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise fail("unreadable-file", error=t("reader.not-a-regular-file"))
        if info.st_size > limits.max_file_size:
            raise _too_large(info.st_size, limits.max_file_size)
        with open(path, "rb") as handle:
            data = handle.read(limits.max_file_size + 1)
    except OSError as exc:
        message = t("reader.unreadable-file", error=exc.strerror or type(exc).__name__)
        return ReadResult(
            name, None, None, [_finding("unreadable-file", name, message)], None, None
        )
    except WorkbookReadError as exc:
        return ReadResult(name, None, None, [_finding(exc.code, name, exc.message)], None, None)
    sha256 = hashlib.sha256(data).hexdigest()
    kind: FileKind | None = None
    findings: list[Finding] = []
    workbook: WorkbookData | None = None
    try:
        if len(data) > limits.max_file_size:  # the file grew after stat
            raise _too_large(len(data), limits.max_file_size)
        kind, archive = sniff_stream(io.BytesIO(data))
        notice = _kind_notice(kind)
        if notice:
            findings.append(_finding(notice[0], name, notice[1]))
        try:
            wanted = Wanted(sheets, frozenset(skip_sheets))
            workbook = _read_bytes(data, kind, archive, wanted, limits, deadline)
            findings += [_finding(code, name, msg, **loc) for code, msg, loc in workbook.notes]
            workbook.notes = []
        finally:
            if archive is not None:
                archive.close()
    except WorkbookReadError as exc:
        findings.append(_finding(exc.code, name, exc.message))
        workbook = None
    return ReadResult(name, kind, workbook, findings, sha256, len(data))


def _too_large(size: int, limit: int) -> WorkbookReadError:
    mb = 1024 * 1024
    return fail("too-large", "reader.too-large.file", size=f"{size / mb:.1f}", limit=limit // mb)


def _kind_notice(kind: FileKind) -> tuple[str, str] | None:
    """The finding a kind always gets (errors stop the reading in :func:`_read_bytes`)."""
    if kind == "xlsm":
        return "macro-workbook", t("reader.macro-workbook")
    if kind == "ods":
        return "saved-as-ods", t("reader.saved-as-ods")
    if kind == "xls":
        return "saved-as-xls", t("reader.saved-as-xls")
    return None


def _read_bytes(
    data: bytes,
    kind: FileKind,
    archive: zipfile.ZipFile | None,
    sheets: Wanted,
    limits: Limits,
    deadline: Deadline,
) -> WorkbookData:
    if kind == "empty":
        raise fail("empty-file")
    if kind == "encrypted":
        raise fail("encrypted")
    if kind == "corrupt-zip":
        raise fail("corrupt-zip")
    if kind == "xlsb":
        raise fail("xlsb-unsupported")
    if kind in ("pdf", "csv", "text", "unknown"):
        raise fail("not-a-workbook", kind=t(f"reader.kind.{kind}"))
    deadline.check()
    if kind == "xls":
        return _read_values_only(data, kind, sheets, deadline)
    if archive is None:  # a zip kind always comes with its open archive
        raise fail("corrupt-zip")
    if kind == "ods":
        _inflated(data, archive, limits, deadline)  # the same checks before calamine reads it
        return _read_values_only(data, kind, sheets, deadline)
    workbook, view, wanted = light_pass(data, archive, kind, sheets, limits, deadline)
    deadline.check()
    read_values(view, workbook, wanted, deadline)
    return workbook


def light_pass(
    data: bytes,
    archive: zipfile.ZipFile,
    kind: FileKind,
    sheets: Wanted,
    limits: Limits,
    deadline: Deadline,
) -> tuple[WorkbookData, bytes, Wanted]:
    """Everything but the values of an .xlsx or .xlsm: the zip limits, every XML part inflated
    and checked, the structure (sheets, protection, formula and error cells, properties) and
    each sheet measured. Returns the workbook without values, the package python-calamine is
    to read (:func:`_bounded_view`) and the sheets it is to read there."""
    parts, infos = _inflated(data, archive, limits, deadline)
    workbook = _read_structure(parts, kind, sheets, deadline)
    view, unread = _bounded_view(parts, infos, workbook, limits)
    return workbook, view, Wanted(sheets.only, sheets.skip | unread)


def _inflated(
    data: bytes, archive: zipfile.ZipFile, limits: Limits, deadline: Deadline
) -> tuple[dict[str, bytes], dict[str, zipfile.ZipInfo]]:
    try:
        check_zip_limits(archive.infolist(), limits)
        parts, infos = inflate_xml_parts(data, archive, deadline)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise fail("corrupt-zip") from exc
    deadline.check()
    return parts, infos


def _parse_xml(blob: bytes, part: str) -> Element:
    """``blob`` parsed, refusing a DTD (``hostile-xml``); a part plainly without one is parsed
    by the C parser, anything else by defusedxml's guarded (and much slower) parser."""
    if _plainly_without_dtd(blob):
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


def _plainly_without_dtd(blob: bytes) -> bool:
    """Whether ``blob`` certainly declares no DTD (so no entity either).

    It starts with ``<`` (after a UTF-8 byte-order mark): an ASCII-compatible encoding, and
    expat accepts no other kind for such a document (every encoding it reads maps the ASCII
    characters of markup to the same single bytes), so a DTD would show as ``<!DOCTYPE``.
    UTF-16 (a mark or NUL bytes first) and anything unusual take the guarded parser.
    """
    body = blob[3:] if blob.startswith(b"\xef\xbb\xbf") else blob
    return body[:1] == b"<" and body[1:2] != b"\x00" and b"<!DOCTYPE" not in body


def _read_structure(
    parts: dict[str, bytes], kind: FileKind, sheets: Wanted, deadline: Deadline
) -> WorkbookData:
    if "xl/workbook.xml" not in parts:
        raise fail("corrupt-workbook", part="xl/workbook.xml")
    book = _parse_xml(parts["xl/workbook.xml"], "xl/workbook.xml")
    targets = _relationships(parts.get("xl/_rels/workbook.xml.rels"))
    workbook = WorkbookData(kind=kind, structure_known=True)
    prot = book.find(f"{_NS_MAIN}workbookProtection")
    workbook.workbook_protection = dict(prot.attrib) if prot is not None else None
    sheet_nodes = book.findall(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet")
    names = [node.get("name", "") for node in sheet_nodes]
    for node in book.iterfind(f"{_NS_MAIN}definedNames/{_NS_MAIN}definedName"):
        local = node.get("localSheetId")
        key = node.get("name", "")
        if local is not None and local.isdigit() and int(local) < len(names):
            key = f"{names[int(local)]}!{key}"
        workbook.defined_names[key] = node.text or ""
    wanted = set(sheets.names(names))
    percent_styles_found = percent_styles(parts.get("xl/styles.xml"))
    for node, name in zip(sheet_nodes, names, strict=True):
        state: SheetState = _STATES.get(node.get("state", ""), "visible")
        target = targets.get(node.get(f"{_NS_REL}id", ""), "")
        blob = parts.get(target.lower())
        protection: dict[str, str] | None = None
        if blob is not None:
            protection, formulas = _scan_sheet(blob, target, want_formulas=name in wanted)
            if name in wanted:
                workbook.formulas[name] = formulas
                workbook.errors[name] = error_cells(blob)
                workbook.percent[name] = percent_cells(blob, percent_styles_found)
        workbook.sheets.append(SheetInfo(name, state, protection))
        deadline.check()
    _read_properties(parts, workbook)
    return workbook


def _bounded_view(
    parts: dict[str, bytes],
    infos: dict[str, zipfile.ZipInfo],
    workbook: WorkbookData,
    limits: Limits,
) -> tuple[bytes, frozenset[str]]:
    """The package python-calamine may read, and the sheets it must not read at all.

    The package is the XML parts already inflated and checked, stored uncompressed in memory
    (:func:`bms_excel.archive.stored_zip`; the file is never changed), so calamine inflates
    nothing a second time. calamine builds a dense grid from the first to the last cell of a
    sheet, so every sheet part is measured by the cell references it holds before calamine
    sees it. A sheet within ``limits.max_rows`` × ``limits.max_cols`` goes in as it is.
    Otherwise the cells beyond are left out of the package with a ``cells-outside-form``
    note; a sheet whose cells cannot be located one by one (cells without references,
    prefixed or CDATA) is emptied there and not read (``sheet-too-large``).
    """
    replaced: dict[str, bytes] = {}
    unread: set[str] = set()
    by_part: dict[str, str] | None = None
    for part, blob in parts.items():
        start = blob.find(b"sheetData")
        if start < 0:
            continue
        end = blob.rfind(b"sheetData")
        if plainly_within(blob, start, end, limits):
            continue
        rows, cols, regular = sheet_extent(blob, start, end)
        if rows <= limits.max_rows and cols <= limits.max_cols:
            continue
        if by_part is None:
            by_part = _sheet_parts(parts)
        sheet = by_part.get(part, infos[part].filename)
        if regular:
            clipped, dropped, farthest = clip_sheet(blob, limits)
            regular = fits_limits(clipped, limits)  # e.g. a ">" in an attribute hid a cell
        if regular:
            replaced[part] = clipped
            message = t(
                "reader.cells-outside-form",
                count=dropped,
                cell=farthest,
                area=a1(limits.max_rows, limits.max_cols),
            )
            workbook.notes.append(
                ("cells-outside-form", message, {"sheet": sheet, "cell": farthest})
            )
            continue
        opening = blob.rfind(b"<", 0, start)
        closing = blob.find(b">", end) if end > start else blob.find(b">", start)
        replaced[part] = blob[:opening] + b"<sheetData/>" + blob[closing + 1 :]
        unread.add(sheet)
        message = t(
            "reader.sheet-too-large",
            cell=a1(min(rows, 1_048_576), min(cols, 16_384)),
            area=a1(limits.max_rows, limits.max_cols),
        )
        workbook.notes.append(("sheet-too-large", message, {"sheet": sheet}))
    view = stored_zip(
        (
            infos[part].filename,
            *((replaced[part], None) if part in replaced else (blob, infos[part].CRC)),
        )
        for part, blob in parts.items()
    )
    return view, frozenset(unread)


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet part (lower-cased) → sheet name, as ``xl/workbook.xml`` relates them."""
    try:
        book = _parse_xml(parts["xl/workbook.xml"], "xl/workbook.xml")
        targets = _relationships(parts.get("xl/_rels/workbook.xml.rels"))
    except (KeyError, WorkbookReadError):
        return {}
    found: dict[str, str] = {}
    for node in book.iterfind(f"{_NS_MAIN}sheets/{_NS_MAIN}sheet"):
        target = targets.get(node.get(f"{_NS_REL}id", ""), "")
        found.setdefault(target.lower(), node.get("name", ""))
    return found


def _relationships(blob: bytes | None) -> dict[str, str]:
    """Relationship id → part name (``xl/worksheets/sheet1.xml``) for the workbook part."""
    if blob is None:
        return {}
    root = _parse_xml(blob, "xl/_rels/workbook.xml.rels")
    found: dict[str, str] = {}
    for node in root:
        target = node.get("Target", "")
        if node.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        found[node.get("Id", "")] = posixpath.normpath(path)
    return found


def _scan_sheet(
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
        if blob.find(b"<!", first, last) >= 0 and (  # one scan in the common case
            blob.find(b"<!--", first, last) >= 0 or blob.find(b"<![CDATA[", first, last) >= 0
        ):
            found = []
            break
        found += _PROTECTION_TAG.findall(blob, first, last)
    else:
        if not found:
            return None
        if len(found) == 1:
            attributes = _plain_attributes(found[0])
            if attributes is not None:
                return attributes
            tag = found[0]
            if not tag.endswith(b"/>"):
                tag = tag[:-1] + b"/>"
            try:
                # One start tag cannot declare a DTD (and no part holding one got this far),
                # so the plain parser is safe here and much cheaper to set up.
                return dict(fromstring(tag).attrib)
            except ParseError:
                pass
    root = _parse_xml(blob[:start] + blob[tail_start:], part)
    node = root.find(f"{_NS_MAIN}sheetProtection")
    return dict(node.attrib) if node is not None else None


_PLAIN_TAG = re.compile(rb'<sheetProtection((?: +[A-Za-z_][\w.-]*="[^"<&\x00-\x1f]*")*) */?>')
_PLAIN_ATTRIBUTE = re.compile(rb'([A-Za-z_][\w.-]*)="([^"]*)"')


def _plain_attributes(tag: bytes) -> dict[str, str] | None:
    """The attributes of a start tag whose attributes are all plain (unprefixed ASCII names,
    double-quoted values without references or control characters, separated by spaces), as
    an XML parser reads them; ``None`` for any other tag."""
    match = _PLAIN_TAG.fullmatch(tag)
    if match is None:
        return None
    pairs = _PLAIN_ATTRIBUTE.findall(match.group(1))
    try:
        attributes = {name.decode("ascii"): value.decode("utf-8") for name, value in pairs}
    except UnicodeDecodeError:
        return None
    return attributes if len(attributes) == len(pairs) else None


def _scan_sheet_fully(
    blob: bytes, part: str
) -> tuple[dict[str, str] | None, frozenset[tuple[int, int]]]:
    """The slow path for unusual sheets (prefixed XML, cells without ``r``): a full safe parse."""
    root = _parse_xml(blob, part)
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


def _read_properties(parts: dict[str, bytes], workbook: WorkbookData) -> None:
    core = parts.get("docprops/core.xml")
    if core is not None:
        root = _parse_xml(core, "docProps/core.xml")
        for node in root:
            tag = node.tag.rsplit("}", 1)[-1]
            if tag in ("created", "modified"):
                setattr(workbook, tag, _parse_datetime(node.text))
    custom = parts.get("docprops/custom.xml")
    if custom is not None:
        root = _parse_xml(custom, "docProps/custom.xml")
        for node in root:
            name = node.get("name")
            if name is not None and len(node):
                workbook.custom_properties[name] = _property_value(node[0])


def _parse_datetime(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _property_value(node: Element) -> PropertyValue:
    kind, text = node.tag.rsplit("}", 1)[-1], (node.text or "")
    try:
        if kind in ("i1", "i2", "i4", "i8", "int", "ui1", "ui2", "ui4", "ui8", "uint"):
            return int(text)
        if kind in ("r4", "r8", "decimal"):
            return float(text)
    except ValueError:
        return text
    if kind == "bool":
        return _truthy(text)
    if kind in ("filetime", "date"):
        return _parse_datetime(text) or text
    return text


def _open_calamine(data: bytes) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise fail("encrypted") from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise fail("corrupt-workbook", part="workbook") from exc


def _sheet_values(
    book: python_calamine.CalamineWorkbook, name: str
) -> dict[tuple[int, int], CellValue]:
    try:
        sheet = book.get_sheet_by_name(name)
        rows = sheet.to_python(skip_empty_area=True)
        start = sheet.start
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise fail("corrupt-workbook", part=name) from exc
    row0, col0 = start if start is not None else (0, 0)
    # calamine fills the grid with "" for empty cells; 0, False and timedelta(0) are kept.
    return {
        (r, c): value
        for r, row in enumerate(rows, row0 + 1)
        for c, value in enumerate(row, col0 + 1)
        if value or type(value) is not str
    }


def read_values(data: bytes, workbook: WorkbookData, sheets: Wanted, deadline: Deadline) -> None:
    """The values of the ``sheets`` of the package ``data`` into ``workbook`` (python-calamine)."""
    book = _open_calamine(data)
    try:
        present = set(book.sheet_names)
        for name in sheets.names(book.sheet_names):
            if name in present:
                workbook.values[name] = _sheet_values(book, name)
                deadline.check()
    finally:
        book.close()


def _read_values_only(
    data: bytes, kind: FileKind, sheets: Wanted, deadline: Deadline
) -> WorkbookData:
    """Values and sheet states of an .ods or .xls: the structure did not survive the format."""
    book = _open_calamine(data)
    try:
        workbook = WorkbookData(kind=kind, structure_known=False)
        for meta in book.sheets_metadata:
            workbook.sheets.append(SheetInfo(meta.name, _calamine_state(meta.visible)))
        for name in sheets.names(book.sheet_names):
            if name in book.sheet_names:
                workbook.values[name] = _sheet_values(book, name)
                deadline.check()
        return workbook
    finally:
        book.close()


def _calamine_state(visible: Any) -> SheetState:
    # SheetVisibleEnum members are not hashable, so no lookup table.
    if visible == python_calamine.SheetVisibleEnum.VeryHidden:
        return "veryHidden"
    if visible == python_calamine.SheetVisibleEnum.Hidden:
        return "hidden"
    return "visible"
