"""Serialise an openpyxl workbook to .xlsx bytes in memory, reusing the parts that repeat.

openpyxl's own ``Workbook.save`` writes every worksheet to a named temporary file, reads it
back and deletes it, and rebuilds the style sheet, theme and app properties on every save.
For one workbook per unit from the same loaded template that is most of the cost of saving,
so :class:`PartCache` keeps the parts that only depend on state which grows monotonically
(the style tables) or never changes (app properties), and worksheets are written to memory.

openpyxl writes ``<sheetData>`` through lxml one element at a time, which is most of what is
left. :func:`sheet_data` renders the same bytes with string formatting for the cells a unit
workbook holds (inline text, numbers, booleans, plain formulas with their cached results, see
:mod:`bms_excel.xlsx.cached_formula`); a sheet with anything else
(dates, rich text, comments, hyperlinks, array formulas) falls back to openpyxl's writer.
The parts are byte for byte what openpyxl writes once the formulas' results are filled in
(``tests/test_package_writer.py``).
"""

from __future__ import annotations

import io
import re
import time
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.compat import safe_string
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.custom import CustomPropertyList, StringProperty
from openpyxl.packaging.extended import ExtendedProperties
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.stylesheet import write_stylesheet
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook._writer import WorkbookWriter as _WorkbookPartWriter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter
from openpyxl.writer.theme import theme_xml
from openpyxl.xml.constants import (
    ARC_APP,
    ARC_CORE,
    ARC_CUSTOM,
    ARC_ROOT_RELS,
    ARC_STYLE,
    ARC_THEME,
    ARC_WORKBOOK,
    ARC_WORKBOOK_RELS,
    CPROPS_TYPE,
    CUSTPROPS_NS,
    VTYPES_NS,
)
from openpyxl.xml.functions import tostring

from bms_excel.xlsx.cached_formula import Formula, fill_results, formula_cell, sheet_results
from bms_excel.xlsx.cells import column_letter, escape_text

#: zlib level of the package: the default, as openpyxl uses. Level 1 saves about 0.7 ms per
#: unit workbook (3 % of generating it) but makes the file 10 % larger; not worth it.
COMPRESS_LEVEL = 6
_EMPTY_SHEET_DATA = b"<sheetData></sheetData>"
#: Cell value types written here as text or formula (anything else, e.g. rich text or array
#: formulas, goes through openpyxl's writer).
_TEXTS = (str, Formula)


class FrozenCell(Cell):
    """A cell its writer never changes again: :func:`sheet_data` may reuse its row's XML."""

    __slots__ = ()


#: ``(id(ws), row, attributes, id of each cell)`` → the row's cells and ``<row>`` XML, for
#: rows of frozen cells.
RowCache = dict[tuple[object, ...], tuple[tuple[object, ...], str]]


def sheet_data(ws: Worksheet, cache: RowCache | None = None) -> bytes | None:
    """``ws``'s ``<sheetData>`` element as openpyxl would write it, or None to let openpyxl.

    Mirrors ``WorksheetWriter.rows``/``write_row`` and ``lxml_write_cell``: rows in order,
    styled empty rows kept, unstyled empty cells skipped, styles registered as ``style_id``
    does. A row made only of :class:`FrozenCell` objects is kept in ``cache``; when the very
    same cells are in that row again, its XML is reused (their styles are registered since).
    """
    cell_styles = ws.parent._cell_styles
    style_ids = cell_styles._dict  # IndexedList's own value → index map (``add`` hashes twice)
    cells = ws._cells
    rows: dict[int, list[Cell | MergedCell]] = defaultdict(list)
    for key in sorted(cells):
        rows[key[0]].append(cells[key])
    dims = ws.row_dimensions
    for row in dims.keys() - rows.keys():
        rows[row] = []
    default_id = style_ids.get(_DEFAULT_STYLE)
    out = ["<sheetData>"]
    sheet = id(ws)
    for row, row_cells in sorted(rows.items()):
        found = dims.get(row)
        attrs = "" if found is None else _row_attrs(found, default_id)
        frozen = cache is not None and bool(row_cells)
        if frozen:
            for cell in row_cells:
                if type(cell) is not FrozenCell:
                    frozen = False
                    break
        key = None
        if frozen and cache is not None:
            # The cached entry holds its cells, so no other object can have their ids.
            key = (sheet, row, attrs, *map(id, row_cells))
            known = cache.get(key)
            if known is not None:
                out.append(known[1])
                continue
        xml = _row_xml(row, attrs, row_cells, cell_styles, style_ids)
        if xml is None:
            return None
        if key is not None and cache is not None:
            if len(cache) >= 8192:
                cache.clear()
            cache[key] = (tuple(row_cells), xml)
        out.append(xml)
    out.append("</sheetData>")
    # lxml writes the part without an encoding declaration, so non-ASCII as references.
    return "".join(out).encode("ascii", "xmlcharrefreplace")


def _row_xml(
    row: int,
    attrs: str,
    row_cells: list[Cell | MergedCell],
    cell_styles: IndexedList[StyleArray],
    style_ids: dict[StyleArray, int],
) -> str | None:
    """One ``<row>`` element (None when a cell needs openpyxl's writer)."""
    letters = _column_letters()
    out = [f'<row r="{row}"{attrs}>']
    append = out.append
    for cell in row_cells:
        if cell._comment is not None or cell.hyperlink:
            return None
        value, style = cell._value, cell._style
        styled = style is not None and any(style)
        if value is None and not styled:
            continue
        kind = cell.data_type
        start = f'<c r="{letters[cell.column]}{row}"'
        if styled:
            style_id = style_ids.get(style)
            if style_id is None:
                style_id = cell_styles.add(style)
            start += f' s="{style_id}"'
        if kind == "s":
            start += ' t="inlineStr"'
        elif kind != "f":
            start += f' t="{kind}"'
        if value is None or value == "":
            append(f"{start}></c>")
            continue
        value_type = type(value)
        if value_type is str and kind == "s":
            space = ' xml:space="preserve"' if value != value.strip() else ""
            append(f"{start}><is><t{space}>{escape_text(value)}</t></is></c>")
        elif value_type not in _TEXTS and kind in ("f", "s"):
            return None  # rich text, array and data-table formulas
        elif kind == "f":
            append(formula_cell(start, value, escape_text(value[1:])))
        elif kind == "s":
            space = ' xml:space="preserve"' if value != value.strip() else ""
            append(f"{start}><is><t{space}>{escape_text(value)}</t></is></c>")
        elif kind in ("n", "b") and isinstance(value, int | float):
            append(f"{start}><v>{safe_string(value)}</v></c>")
        else:
            return None  # dates, errors
    append("</row>")
    return "".join(out)


_DEFAULT_STYLE = StyleArray()
#: The attributes of unstyled rows by their dimension's values (a few distinct ones per run).
_ROW_ATTRS: dict[tuple[object, ...], str] = {}


def _row_attrs(dim: RowDimension, default_id: int | None) -> str:
    """The ``<row>`` attributes of ``dim`` as openpyxl writes them (``dict(dim)``).

    ``default_id`` is the workbook's index of the default style, which an unstyled row's
    ``s`` names (None when not registered yet: then openpyxl's way, which registers it).
    """
    style = dim._style
    if default_id is None or (style is not None and any(style)):
        return "".join(f' {k}="{v}"' for k, v in dim)  # registers the row's style
    key = (
        dim.hidden,
        dim.outlineLevel,
        dim.collapsed,
        dim.ht,
        dim.thickBot,
        dim.thickTop,
        default_id,
    )
    found = _ROW_ATTRS.get(key)
    if found is None:
        if len(_ROW_ATTRS) >= 4096:
            _ROW_ATTRS.clear()
        found = _ROW_ATTRS[key] = "".join(f' {k}="{v}"' for k, v in dim)
    return found


@lru_cache(maxsize=1)
def _column_letters() -> list[str]:
    """Column number → letters (index 0 unused), for every column Excel has."""
    return ["", *(column_letter(c) for c in range(1, 16385))]


class _SplicingWorksheetWriter(WorksheetWriter):
    """openpyxl's worksheet writer with ``<sheetData>`` from :func:`sheet_data` spliced in."""

    rows_xml: bytes | None = None
    #: The bytes before and after the spliced ``<sheetData>`` (empty when not spliced).
    frame: tuple[bytes, bytes] | None = None

    def write_rows(self) -> None:
        self.rows_xml = sheet_data(self.ws)
        if self.rows_xml is None:
            super().write_rows()
            return
        xf = self.xf.send(True)
        with xf.element("sheetData"):
            pass  # written empty; the rows are spliced into the bytes afterwards
        self.xf.send(None)

    def read(self) -> bytes:
        data: bytes = super().read()
        if self.rows_xml is None:
            return data
        head, found, tail = data.partition(_EMPTY_SHEET_DATA)
        assert found, "openpyxl wrote no empty <sheetData> to splice into"
        self.frame = (head, tail)
        return head + self.rows_xml + tail


@dataclass
class PartCache:
    """Serialised parts that stay the same from one unit's workbook to the next."""

    app: bytes | None = None
    styles: dict[tuple[int, ...], bytes] = field(default_factory=dict)
    #: The caller's key of each worksheet's frame (by ``id``): a text naming everything the
    #: part around ``<sheetData>`` depends on (validations, formats, merged cells, columns,
    #: extent). Sheets with equal title and key get the same frame; only the caller knows
    #: what it wrote, so a sheet without a key is always serialised in full.
    frame_keys: dict[int, str] = field(default_factory=dict)
    frames: dict[tuple[str, str], tuple[bytes, bytes]] = field(default_factory=dict)
    #: ``xl/workbook.xml``, its relationships and the package's, by :func:`_workbook_key`.
    workbook: dict[tuple[object, ...], tuple[bytes, bytes, bytes]] = field(default_factory=dict)
    #: The ``<row>`` XML of rows of frozen cells (:func:`sheet_data`).
    rows: RowCache = field(default_factory=dict)
    #: Part bytes → their CRC-32 and deflated bytes (:func:`write_member`).
    deflated: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)
    #: ``[Content_Types].xml`` by the parts it lists.
    content_types: dict[tuple[object, ...], bytes] = field(default_factory=dict)

    def stylesheet(self, wb: Workbook) -> bytes:
        """``xl/styles.xml`` of ``wb``, rebuilt only when one of its style tables has grown.

        openpyxl's style tables (``IndexedList``) only ever append, so their identities and
        lengths determine the style sheet.
        """
        tables = (
            wb._fonts,
            wb._fills,
            wb._borders,
            wb._number_formats,
            wb._cell_styles,
            wb._named_styles,
            wb._protections,
            wb._alignments,
            wb._differential_styles.styles,
            wb._colors,
        )
        key = (id(wb), *(id(x) for x in tables), *(len(x) for x in tables))
        found = self.styles.get(key)
        if found is None:
            self.styles.clear()  # only the newest state is ever asked for again
            found = self.styles[key] = tostring(write_stylesheet(wb))
        return found


class _MemoryExcelWriter(ExcelWriter):
    """openpyxl's ``ExcelWriter`` with worksheets written in memory and cached parts."""

    def __init__(self, workbook: Workbook, archive: zipfile.ZipFile, parts: PartCache) -> None:
        super().__init__(workbook, archive)
        self.parts = parts

    def write_worksheet(self, ws: Worksheet) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        parts = self.parts
        frame_key = parts.frame_keys.get(id(ws))
        key = (ws.title, frame_key or "")
        frame = parts.frames.get(key) if frame_key is not None else None
        rows = sheet_data(ws, parts.rows) if frame is not None else None
        if frame is not None and rows is not None:
            ws._hyperlinks, ws._comments = [], []  # what WorksheetWriter resets
            ws._rels = RelationshipList()  # a kept frame relates to nothing (``plain``)
            data = frame[0] + rows + frame[1]
        else:
            outline = ws.column_dimensions.max_outline
            writer = _SplicingWorksheetWriter(ws, out=io.BytesIO())
            writer.write()
            ws._rels = writer._rels
            data = writer.read()
            if writer.rows_xml is None:  # openpyxl wrote the rows: add the formulas' results
                data = fill_results(data, sheet_results(ws._cells))
            plain = not (ws._rels or ws._images or ws._charts or ws._tables or ws.legacy_drawing)
            # openpyxl's first save of a sheet with columns lacks the ``outlineLevelCol`` of
            # the later ones (``<cols>`` sets it); keep only frames that would repeat.
            repeats = outline == ws.column_dimensions.max_outline
            if frame_key is not None and plain and repeats and writer.frame:
                if len(parts.frames) >= 512:
                    parts.frames.clear()
                parts.frames[key] = writer.frame
        self._put(ws.path[1:], data)
        self.manifest.append(ws)

    def _put(self, name: str, data: bytes | str) -> None:
        """``archive.writestr(name, data)``, deflating each distinct part once per run."""
        write_member(self._archive, name, data, self.parts.deflated)

    def write_data(self) -> None:
        """The parts in openpyxl's order (``ExcelWriter.write_data``), some from the cache."""
        wb, parts = self.workbook, self.parts
        if parts.app is None:
            parts.app = tostring(ExtendedProperties().to_tree())
        self._put(ARC_APP, parts.app)
        self._put(ARC_CORE, tostring(wb.properties.to_tree()))
        self._put(ARC_THEME, wb.loaded_theme or theme_xml)
        if len(wb.custom_doc_props) >= 1:
            custom = _custom_xml(wb.custom_doc_props)
            if custom is None:
                custom = tostring(wb.custom_doc_props.to_tree())
            self._put(ARC_CUSTOM, custom)
            self.manifest.append(SimpleNamespace(path="/" + ARC_CUSTOM, mime_type=CPROPS_TYPE))
        self._write_worksheets()
        self._write_chartsheets()
        self._write_images()
        self._write_charts()
        self._write_external_links()
        self._put(ARC_STYLE, parts.stylesheet(wb))
        key = _workbook_key(wb)
        found = parts.workbook.get(key) if key is not None else None
        if found is None:
            writer = _WorkbookPartWriter(wb)
            found = (writer.write_root_rels(), writer.write(), writer.write_rels())
            if key is not None:
                if len(parts.workbook) >= 64:
                    parts.workbook.clear()
                parts.workbook[key] = found
        self._put(ARC_ROOT_RELS, found[0])
        self._put(ARC_WORKBOOK, found[1])
        self._put(ARC_WORKBOOK_RELS, found[2])
        self._merge_vba()
        self._write_content_types()

    def _write_content_types(self) -> None:
        """``Manifest._write``, its bytes reused for the same parts."""
        archive, wb, manifest = self._archive, self.workbook, self.manifest
        if wb.vba_archive is not None:
            manifest._write(archive, wb)
            return
        overrides = tuple((o.PartName, o.ContentType) for o in manifest.Override)
        key = (overrides, wb.path, wb.mime_type, tuple(archive.namelist()))
        found = self.parts.content_types.get(key)
        if found is None:
            manifest.append(wb)
            manifest._register_mimetypes(filenames=archive.namelist())
            found = tostring(manifest.to_tree())
            if len(self.parts.content_types) >= 64:
                self.parts.content_types.clear()
            self.parts.content_types[key] = found
        self._put(manifest.path, found)


_CUSTOM_HEAD = f'<Properties xmlns="{CUSTPROPS_NS}">'
_CUSTOM_PROPERTY = (
    '<property name="{}" fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{}">'
    f'<vt:lpwstr xmlns:vt="{VTYPES_NS}">{{}}</vt:lpwstr></property>'
)
#: Texts written as they are in both attributes and text content.
_PLAIN = re.compile(r"[\x20-\x7e]*")


def _custom_xml(props: CustomPropertyList) -> bytes | None:
    """``docProps/custom.xml`` as openpyxl writes it, for text properties of plain ASCII.

    None for anything else (openpyxl serialises those).
    """
    out = [_CUSTOM_HEAD]
    for pid, prop in enumerate(props.props, 2):
        name, value = prop.name, prop.value
        if type(prop) is not StringProperty or not isinstance(value, str):
            return None
        if not (_PLAIN.fullmatch(name) and _PLAIN.fullmatch(value)):
            return None
        if any(c in name or c in value for c in '&<>"'):
            return None
        out.append(_CUSTOM_PROPERTY.format(name, pid, value))
    out.append("</Properties>")
    return "".join(out).encode("ascii")


def _workbook_key(wb: Workbook) -> tuple[object, ...] | None:
    """Everything ``xl/workbook.xml`` and the two relationship parts are made of, or None.

    None (never cached) for what a unit workbook does not have: external links, pivot
    tables, VBA, sheet-local names, auto filters.
    """
    if wb._external_links or wb._pivots or wb.vba_archive is not None:
        return None
    sheets = []
    for ws in wb._sheets:
        if getattr(ws, "defined_names", None) or getattr(ws, "auto_filter", None):
            return None
        titles = getattr(ws, "print_titles", None)
        area = getattr(ws, "print_area", None)
        sheets.append((ws.title, ws.sheet_state, ws.path, ws._rel_type, titles, area))
    names = tuple((n.name, n.value, n.localSheetId, n.hidden) for n in wb.defined_names.values())
    security = wb.security
    protection = (
        None if security is None else tuple(sorted((k, str(v)) for k, v in dict(security).items()))
    )
    views = tuple(tuple(sorted(dict(v).items())) for v in wb.views)
    return (
        id(wb),
        wb.code_name,
        wb.excel_base_date,
        tuple(sheets),
        names,
        wb._active_sheet_index,
        wb.active.sheet_state if wb.active is not None else None,
        protection,
        views,
        tuple(sorted(dict(wb.calculation).items())),
        len(wb.custom_doc_props) >= 1,
    )


#: Parts kept deflated (:attr:`PartCache.deflated`) at most; the repeating ones are few.
_DEFLATED_PARTS = 256


def write_member(
    archive: zipfile.ZipFile,
    name: str,
    data: bytes | str,
    deflated: dict[bytes, tuple[int, bytes]] | None = None,
) -> None:
    """Write part ``name`` as ``archive.writestr(name, data)`` writes it, byte for byte.

    ``deflated`` keeps the deflated bytes of each part: a part equal to one written before
    (the style sheet, theme, relationships, a sheet that did not change from the previous
    unit) is not deflated again. The member is written as ``ZipFile.writestr`` leaves it in
    a seekable archive: local header with CRC and sizes, then the data (what ``mkdir``
    does with the same internals); anything else goes through ``writestr``.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    zf: Any = archive  # its internals, as ``ZipFile.mkdir`` uses them
    zip64 = len(data) * 1.05 > zipfile.ZIP64_LIMIT
    plain = zf.compression == zipfile.ZIP_DEFLATED and zf._seekable and zf.fp is not None
    if deflated is None or zip64 or not plain or zf._writing or name.endswith("/"):
        archive.writestr(name, data)
        return
    found = deflated.get(data)
    if found is None:
        level = zf.compresslevel
        if level is None:
            level = zlib.Z_DEFAULT_COMPRESSION
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        found = (zlib.crc32(data), compressor.compress(data) + compressor.flush())
        if len(deflated) >= _DEFLATED_PARTS:
            deflated.clear()
        deflated[data] = found
    info = zipfile.ZipInfo(filename=name, date_time=time.localtime(time.time())[:6])
    info.compress_type = zf.compression
    info._compresslevel = zf.compresslevel  # type: ignore[attr-defined]
    info.external_attr = 0o600 << 16
    info.file_size = len(data)
    info.CRC, compressed = found
    info.compress_size = len(compressed)
    info.flag_bits = 0
    with zf._lock:
        zf.fp.seek(zf.start_dir)
        info.header_offset = zf.fp.tell()
        zf._writecheck(info)
        zf._didModify = True
        zf.fp.write(info.FileHeader(False))
        zf.fp.write(compressed)
        zf.start_dir = zf.fp.tell()
        zf.filelist.append(info)
        zf.NameToInfo[info.filename] = info


def workbook_bytes(wb: Workbook, parts: PartCache | None = None) -> bytes:
    """``wb`` as .xlsx bytes (what ``wb.save`` would write, minus its ``modified`` stamp).

    openpyxl's save stamps ``properties.modified`` with the current time; here the workbook's
    own value is kept, so a run's files carry the run's time. Raises what openpyxl raises for
    a workbook it cannot write (e.g. ``ValueError`` when no sheet is visible).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=COMPRESS_LEVEL
    ) as archive:
        _MemoryExcelWriter(wb, archive, parts or PartCache()).write_data()
    return buffer.getvalue()
