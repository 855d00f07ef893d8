"""Recognise and open submitted files defensively: by content, within limits, read-only.

Submissions come by e-mail from hundreds of people, so every file is untrusted:

* :func:`~bms_excel.submissions.walk_submissions` lists a folder, skipping lock, hidden and
  temporary files and never following a symbolic link out of the folder, and
  :func:`~bms_excel.submissions.sniff` tells what a file is by its bytes, never by its name
  (both in :mod:`bms_excel.submissions`);
* :func:`read_submission` reads one file into a :class:`ReadResult` and never raises for a bad
  file: every problem is a :class:`~bms_excel.errors.Finding`.

The file is read into memory once (it is at most ``MAX_FILE_SIZE``); the SHA-256 therefore
names exactly the bytes that were checked. Reading an .xlsx is two steps, timed apart by the
bench: :func:`light_pass` judges the zip limits from the central directory before anything is
inflated, inflates every XML part as a stream in small steps with a running cap at its
declared size (a member that lies about its size is a ``zip-bomb`` after at most one step
beyond it; :mod:`bms_excel.archive`), reads the structure, and measures every sheet: the cell
references in the sheet part (not its ``<dimension>``, which can lie) give its extent, since
calamine allocates the whole grid from A1 to the farthest cell and a single cell in
XFD1048576 would ask for hundreds of GiB. Cells beyond :attr:`Limits.max_rows` ×
:attr:`Limits.max_cols` are left out of the package calamine reads (``cells-outside-form``;
the byte scans are :mod:`bms_excel.sheet_extent`). Then :func:`read_values` has
python-calamine read the values from that package: the checked parts, stored uncompressed in
memory, so nothing is inflated twice and calamine sees no byte the checks did not. Sheet
states, protection, document properties and formula cells come from the light pass
(:mod:`bms_excel.sheet_scan`: the C XML parser on the small parts when they plainly declare no
DTD, defusedxml otherwise; byte scans of the sheet data, which is never parsed as XML).
Nothing is ever written, re-saved or executed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import posixpath
import stat
import zipfile
import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Literal
from xml.etree.ElementTree import Element

import python_calamine

from bms_excel.archive import Deadline, check_zip_limits, fail, inflate_xml_parts, stored_zip
from bms_excel.codes import make_finding
from bms_excel.errors import Finding, WorkbookReadError
from bms_excel.i18n import t
from bms_excel.number_formats import percent_cells, percent_styles
from bms_excel.sheet_extent import clip_sheet, fits_limits, plainly_within, sheet_extent
from bms_excel.sheet_scan import NS_MAIN, error_cells, parse_xml, scan_sheet
from bms_excel.submissions import FileKind, escape_name, sniff_stream
from bms_excel.xlsx.cells import a1

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

_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_STATES: dict[str, SheetState] = {"hidden": "hidden", "veryHidden": "veryHidden"}


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
    return make_finding(code, message=message, file=file, sheet=sheet, cell=cell)


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


_percent_styles = functools.lru_cache(maxsize=8)(percent_styles)


def _read_structure(
    parts: dict[str, bytes], kind: FileKind, sheets: Wanted, deadline: Deadline
) -> WorkbookData:
    if "xl/workbook.xml" not in parts:
        raise fail("corrupt-workbook", part="xl/workbook.xml")
    book = parse_xml(parts["xl/workbook.xml"], "xl/workbook.xml")
    targets = _relationships(parts.get("xl/_rels/workbook.xml.rels"))
    workbook = WorkbookData(kind=kind, structure_known=True)
    prot = book.find(f"{NS_MAIN}workbookProtection")
    workbook.workbook_protection = dict(prot.attrib) if prot is not None else None
    sheet_nodes = book.findall(f"{NS_MAIN}sheets/{NS_MAIN}sheet")
    names = [node.get("name", "") for node in sheet_nodes]
    for node in book.iterfind(f"{NS_MAIN}definedNames/{NS_MAIN}definedName"):
        local = node.get("localSheetId")
        key = node.get("name", "")
        if local is not None and local.isdigit() and int(local) < len(names):
            key = f"{names[int(local)]}!{key}"
        workbook.defined_names[key] = node.text or ""
    wanted = set(sheets.names(names))
    styles = parts.get("xl/styles.xml")
    # The returns of one county share their style sheet: a small one is judged once a process.
    small = styles is None or len(styles) <= 256 * 1024
    percent_styles_found = _percent_styles(styles) if small else percent_styles(styles)
    for node, name in zip(sheet_nodes, names, strict=True):
        state: SheetState = _STATES.get(node.get("state", ""), "visible")
        target = targets.get(node.get(f"{_NS_REL}id", ""), "")
        blob = parts.get(target.lower())
        protection: dict[str, str] | None = None
        if blob is not None:
            protection, formulas = scan_sheet(blob, target, want_formulas=name in wanted)
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
        book = parse_xml(parts["xl/workbook.xml"], "xl/workbook.xml")
        targets = _relationships(parts.get("xl/_rels/workbook.xml.rels"))
    except (KeyError, WorkbookReadError):
        return {}
    found: dict[str, str] = {}
    for node in book.iterfind(f"{NS_MAIN}sheets/{NS_MAIN}sheet"):
        target = targets.get(node.get(f"{_NS_REL}id", ""), "")
        found.setdefault(target.lower(), node.get("name", ""))
    return found


def _relationships(blob: bytes | None) -> dict[str, str]:
    """Relationship id → part name (``xl/worksheets/sheet1.xml``) for the workbook part."""
    if blob is None:
        return {}
    root = parse_xml(blob, "xl/_rels/workbook.xml.rels")
    found: dict[str, str] = {}
    for node in root:
        target = node.get("Target", "")
        if node.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        found[node.get("Id", "")] = posixpath.normpath(path)
    return found


def _read_properties(parts: dict[str, bytes], workbook: WorkbookData) -> None:
    core = parts.get("docprops/core.xml")
    if core is not None:
        root = parse_xml(core, "docProps/core.xml")
        for node in root:
            tag = node.tag.rsplit("}", 1)[-1]
            if tag in ("created", "modified"):
                setattr(workbook, tag, _parse_datetime(node.text))
    custom = parts.get("docprops/custom.xml")
    if custom is not None:
        root = parse_xml(custom, "docProps/custom.xml")
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
