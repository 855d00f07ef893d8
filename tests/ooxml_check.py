"""Will a workbook open cleanly in Excel? Package, ECMA-376 schema and Excel-rule checks.

The tests' check of a saved workbook (moved out of the runtime package: only tests use it).
Three layers, run in order by :func:`check_workbook`:

* **package** - zip integrity, well-formed XML without DTDs, content types for every part,
  relationship targets that exist. Later layers run only on a sound package.
* **schema** - SpreadsheetML, DrawingML and OPC parts against the ECMA-376 5th edition
  Transitional XSDs copied into ``tests/_xsd/``, after markup-compatibility preprocessing.
* **rules** - Excel's own limits (:mod:`bms_excel.xlsx.limits`) over the saved parts.
"""

from __future__ import annotations

import copy
import posixpath
import re
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from lxml import etree

from bms_excel.xlsx.cells import column_letter, column_number
from bms_excel.xlsx.limits import (
    CELL_TEXT_LIMIT,
    COLUMN_WIDTH_MAX,
    DV_LIMITS,
    HYPERLINK_MAX,
    MAX_COL,
    MAX_ROW,
    PART_SIZE_MAX,
    ROW_HEIGHT_MAX,
    Problem,
    _u16len,
    check_names,
    formula_problems,
    valid_defined_name,
)

_OXML = "http://schemas.openxmlformats.org/"
_NS_MAIN = f"{_OXML}spreadsheetml/2006/main"
_NS_REL = f"{_OXML}package/2006/relationships"
_NS_CT = f"{_OXML}package/2006/content-types"
_NS_MC = f"{_OXML}markup-compatibility/2006"
_NS_XML = "http://www.w3.org/XML/1998/namespace"
_M = f"{{{_NS_MAIN}}}"
_RID = f"{{{_OXML}officeDocument/2006/relationships}}id"
_XSD_DIR = Path(__file__).with_name("_xsd")
_SCHEMA_FOR_NS = {
    _NS_MAIN: "sml.xsd",
    f"{_OXML}drawingml/2006/chart": "dml-chart.xsd",
    f"{_OXML}drawingml/2006/spreadsheetDrawing": "dml-spreadsheetDrawing.xsd",
    f"{_OXML}drawingml/2006/main": "dml-main.xsd",
    f"{_OXML}officeDocument/2006/extended-properties": "shared-documentPropertiesExtended.xsd",
    f"{_OXML}officeDocument/2006/custom-properties": "shared-documentPropertiesCustom.xsd",
    _NS_CT: "opc-contentTypes.xsd",
    _NS_REL: "opc-relationships.xsd",
}
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?$")

Rect = tuple[int, int, int, int]  # min col, min row, max col, max row


def _parse_ref(ref: str) -> Rect | None:
    m = _REF.match(ref.strip())
    if not m:
        return None
    c1, r1 = column_number(m.group(1)), int(m.group(2))
    c2, r2 = (column_number(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def _overlaps(a: Rect, b: Rect) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# ------------------------------------------------------------------ package layer
def parse_xml(data: bytes) -> etree._Element:
    """Parse one package part with a hardened parser: no entity expansion, no network, no huge trees."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    return etree.fromstring(data, parser)


class _Rel(NamedTuple):
    type: str
    target: str
    external: bool
    part: str


def _rels_part(source: str) -> str:
    folder, base = posixpath.split(source)
    return posixpath.join(folder, "_rels", base + ".rels") if source else "_rels/.rels"


class _Package:
    """The zip's parts, parsed lazily and cached."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.names = [n for n in zf.namelist() if not n.endswith("/")]
        self._xml: dict[str, etree._Element] = {}

    def xml(self, name: str) -> etree._Element:
        if name not in self._xml:
            self._xml[name] = parse_xml(self.zf.read(name))
        return self._xml[name]

    def rels(self, source: str) -> dict[str, _Rel]:
        rp = _rels_part(source)
        if rp not in self.names:
            return {}
        out = {}
        for r in self.xml(rp).iter(f"{{{_NS_REL}}}Relationship"):
            target, external = r.get("Target", ""), r.get("TargetMode") == "External"
            if external:
                part = ""
            elif target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
            out[r.get("Id", "")] = _Rel(
                r.get("Type", "").rsplit("/", 1)[-1], target, external, part
            )
        return out


def _check_package(pkg: _Package, rep: _Report) -> None:
    for info in pkg.zf.infolist():
        if info.file_size > PART_SIZE_MAX:
            rep.error(info.filename, "part-too-large", f"inflates to {info.file_size} bytes")
    if rep.problems:
        return
    try:
        bad = pkg.zf.testzip()
    except (EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
        rep.error("", "zip-corrupt", f"a zip member cannot be read: {exc}")  # truncated/encrypted
        return
    if bad:
        rep.error(bad, "zip-corrupt", "zip member fails its CRC check")
        return
    if "[Content_Types].xml" not in pkg.names:
        rep.error("[Content_Types].xml", "content-types-missing", "no [Content_Types].xml")
        return
    for name in pkg.names:
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            root = pkg.xml(name)
        except etree.XMLSyntaxError as exc:
            rep.error(name, "xml-malformed", f"malformed XML: {exc}")
            continue
        if root.getroottree().docinfo.doctype:
            # OPC forbids DTDs in package XML; they are also how entity attacks arrive.
            rep.error(name, "xml-doctype", "part declares a DTD (entities are not expanded)")
    if rep.problems:
        return
    ct = pkg.xml("[Content_Types].xml")
    defaults = {e.get("Extension", "").lower() for e in ct.iter(f"{{{_NS_CT}}}Default")}
    overrides = {e.get("PartName", "").lstrip("/") for e in ct.iter(f"{{{_NS_CT}}}Override")}
    for name in pkg.names:
        ext = name.rsplit(".", 1)[-1].lower()
        if name != "[Content_Types].xml" and name not in overrides and ext not in defaults:
            rep.error(name, "content-type-missing", "part has no content type")
    for name in sorted(overrides - set(pkg.names)):
        rep.error("[Content_Types].xml", "content-type-orphan", f"override for missing /{name}")
    for rp in (n for n in pkg.names if n.endswith(".rels")):
        folder = posixpath.dirname(posixpath.dirname(rp))
        source = "" if rp == "_rels/.rels" else posixpath.join(folder, posixpath.basename(rp)[:-5])
        ids = [r.get("Id") for r in pkg.xml(rp).iter(f"{{{_NS_REL}}}Relationship")]
        if len(ids) != len(set(ids)):
            rep.error(rp, "rel-duplicate-id", "duplicate relationship Id")
        for rid, rel in pkg.rels(source).items():
            if not rel.external and rel.part not in pkg.names:
                rep.error(rp, "rel-target-missing", f"{rid} points to missing part {rel.part}")
    wb = [r.part for r in pkg.rels("").values() if r.type == "officeDocument"]
    if not wb or wb[0] not in pkg.names:
        rep.error("_rels/.rels", "no-workbook", "no workbook part (officeDocument relationship)")


# ------------------------------------------------------------------ schema layer
@cache
def _schema(filename: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(_XSD_DIR / filename), parser))


def _preprocess_mce(root: etree._Element) -> etree._Element:
    """Apply ECMA-376 Part 3 markup compatibility to a copy: drop ignorables, take Fallbacks."""
    root = copy.deepcopy(root)
    mc = f"{{{_NS_MC}}}"
    ignorable: set[str] = set()
    for el in root.iter():
        for prefix in (el.get(mc + "Ignorable") or "").split():
            if el.nsmap.get(prefix):
                ignorable.add(el.nsmap[prefix])
    for alt in list(root.iter(mc + "AlternateContent")):
        parent = alt.getparent()
        if parent is None:
            continue
        index = parent.index(alt)
        fallback = alt.find(mc + "Fallback")
        parent.remove(alt)
        # We understand no mc:Choice requirement, so the Fallback (if any) is what applies.
        for offset, child in enumerate(list(fallback) if fallback is not None else []):
            parent.insert(index + offset, child)
    for el in list(root.iter(etree.Element)):
        for attr in list(el.attrib):
            ns = etree.QName(attr).namespace
            if ns == _NS_MC or ns in ignorable:
                del el.attrib[attr]
        parent = el.getparent()
        if etree.QName(el).namespace in ignorable and parent is not None:
            parent.remove(el)
    # Excel writes xml:space on <t>; the 5th-edition Transitional XSD omits the attribute.
    for t in root.iter(_M + "t"):
        t.attrib.pop(f"{{{_NS_XML}}}space", None)
    etree.cleanup_namespaces(root)
    return root


def _check_schemas(pkg: _Package, rep: _Report) -> None:
    for name in pkg.names:
        if not name.endswith((".xml", ".rels")) or name.startswith("customXml/"):
            continue
        root = pkg.xml(name)
        xsd = _SCHEMA_FOR_NS.get(etree.QName(root).namespace or "")
        if xsd is None:
            continue  # vendor parts, core properties (Dublin Core XSDs), VML
        schema = _schema(xsd)
        if schema.validate(etree.ElementTree(_preprocess_mce(root))):
            continue
        errors = list(schema.error_log)
        for e in errors[:10]:
            rep.error(name, "schema", f"line {e.line}: {e.message}")
        if len(errors) > 10:
            rep.error(name, "schema", f"... and {len(errors) - 10} more schema errors")


# ------------------------------------------------------------------ rules layer
class _Report:
    """Problems found so far plus the workbook-wide facts that the per-sheet checks need."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.macros = False  # a VBA project may define functions we cannot know
        self.names: set[str] = set()  # every defined name; callable when it holds a LAMBDA
        self.global_names: set[str] = set()  # casefolded workbook-scoped names
        self.tables: set[str] = set()  # casefolded table names seen so far
        self.table_ids: set[str] = set()
        self.shared: list[str] = []
        self.n_dxf = 0

    def error(self, part: str, rule: str, message: str) -> None:
        self.problems.append(Problem("error", part, rule, message))

    def formula(self, text: str, part: str, where: str) -> None:
        for p in formula_problems(text, where=where, part=part, known_names=self.names):
            if p.rule == "formula-unknown-function" and self.macros:
                p = Problem("warning", p.part, p.rule, p.message + " (or a VBA function)")
            self.problems.append(p)


class _Sheet(NamedTuple):
    name: str
    state: str
    part: str


def _cell_text(c: etree._Element, shared: Sequence[str]) -> str | None:
    kind, v = c.get("t"), c.find(_M + "v")
    if kind == "s":
        index = _number(v.text if v is not None else None)
        return shared[int(index)] if index is not None and 0 <= index < len(shared) else None
    if kind == "inlineStr":
        return "".join(t.text or "" for t in c.iter(_M + "t"))
    if kind == "str":
        return v.text or "" if v is not None else None
    return None


def _check_rules(pkg: _Package, rep: _Report) -> None:
    wb_part = next(r.part for r in pkg.rels("").values() if r.type == "officeDocument")
    wb, wb_rels = pkg.xml(wb_part), pkg.rels(wb_part)
    rep.macros = any(n.endswith("vbaProject.bin") for n in pkg.names)
    for rel in wb_rels.values():
        if rel.type == "sharedStrings":
            for i, si in enumerate(pkg.xml(rel.part).iter(_M + "si")):
                rep.shared.append("".join(t.text or "" for t in si.iter(_M + "t")))
                if _u16len(rep.shared[-1]) > CELL_TEXT_LIMIT:
                    msg = f"shared string #{i} longer than {CELL_TEXT_LIMIT} characters"
                    rep.error(rel.part, "cell-text-length", msg)
        elif rel.type == "styles":
            dxfs = pkg.xml(rel.part).find(_M + "dxfs")
            rep.n_dxf = len(dxfs) if dxfs is not None else 0
    for sheet in _check_workbook_part(wb, wb_rels, wb_part, rep):
        if sheet.part in pkg.names and etree.QName(pkg.xml(sheet.part)).localname == "worksheet":
            merges = _check_worksheet(pkg, sheet, rep)
            _check_tables(pkg, sheet, merges, rep)


def _check_workbook_part(
    wb: etree._Element, wb_rels: Mapping[str, _Rel], part: str, rep: _Report
) -> list[_Sheet]:
    sheets: list[_Sheet] = []
    for s in wb.iter(_M + "sheet"):
        rel = wb_rels.get(s.get(_RID, ""))
        sheets.append(_Sheet(s.get("name", ""), s.get("state", "visible"), rel.part if rel else ""))
        if not 1 <= (_number(s.get("sheetId")) or 0) <= 65534:
            rep.error(part, "sheet-id", f"sheet {sheets[-1].name!r}: sheetId not 1..65534")
    rep.problems += check_names([s.name for s in sheets], part=part)
    if not any(s.state == "visible" for s in sheets):
        rep.error(part, "no-visible-sheet", "Excel needs at least one visible sheet")
    view = wb.find(f"{_M}bookViews/{_M}workbookView")
    active = int(_number(view.get("activeTab", "0")) or 0) if view is not None else 0
    if sheets and not 0 <= active < len(sheets):
        rep.error(part, "active-tab", f"activeTab {active} points past the last sheet")
    elif sheets and sheets[active].state != "visible":
        msg = f"active sheet {sheets[active].name!r} is hidden"
        rep.problems.append(Problem("warning", part, "active-tab", msg))
    defined = list(wb.iter(_M + "definedName"))
    rep.names = {d.get("name", "") for d in defined}
    scoped: set[tuple[str | None, str]] = set()
    for d in defined:
        name, scope, text = d.get("name", ""), d.get("localSheetId"), (d.text or "").strip()
        reason = valid_defined_name(name)
        if reason:
            rep.error(part, "defined-name", reason)
        if (scope, name.casefold()) in scoped:
            rep.error(part, "defined-name-duplicate", f"{name!r} defined twice in one scope")
        scoped.add((scope, name.casefold()))
        index = _number(scope) if scope is not None else 0
        if index is None or not 0 <= index < len(sheets):
            rep.error(part, "defined-name-scope", f"{name!r}: localSheetId {scope} out of range")
        if not text:
            rep.error(part, "defined-name-empty", f"defined name {name!r} has no formula")
        rep.formula(text, part, f"defined name {name!r}")
    rep.global_names = {n.casefold() for scope, n in scoped if scope is None}
    return sheets


def _check_worksheet(pkg: _Package, sheet: _Sheet, rep: _Report) -> list[tuple[str, Rect]]:
    ws, part, sn = pkg.xml(sheet.part), sheet.part, sheet.name
    for c in ws.iter(_M + "c"):
        ref = c.get("r", "")
        rect = _parse_ref(ref) if ref else (1, 1, 1, 1)
        if rect is None or rect[2] > MAX_COL or rect[3] > MAX_ROW:
            rep.error(part, "cell-ref", f"'{sn}'!{ref}: invalid cell reference")
        f = c.find(_M + "f")
        if f is not None and f.text:
            rep.formula(f.text, part, f"'{sn}'!{ref}")
        text = _cell_text(c, ()) if c.get("t") in ("inlineStr", "str") else None
        if text and _u16len(text) > CELL_TEXT_LIMIT:
            msg = f"'{sn}'!{ref}: text longer than {CELL_TEXT_LIMIT} characters"
            rep.error(part, "cell-text-length", msg)
    for col in ws.iter(_M + "col"):
        if (_number(col.get("width")) or 0) > COLUMN_WIDTH_MAX:
            msg = f"'{sn}': column width {col.get('width')} > {COLUMN_WIDTH_MAX}"
            rep.error(part, "column-width", msg)
    for row in ws.iter(_M + "row"):
        if (_number(row.get("ht")) or 0) > ROW_HEIGHT_MAX:
            msg = f"'{sn}': row {row.get('r')} height {row.get('ht')} > {ROW_HEIGHT_MAX}"
            rep.error(part, "row-height", msg)
    merges: list[tuple[str, Rect]] = []
    for mc in ws.iter(_M + "mergeCell"):
        ref = mc.get("ref", "")
        rect = _parse_ref(ref)
        if rect is None:
            rep.error(part, "merge-ref", f"'{sn}': bad merged range {ref!r}")
            continue
        for other_ref, other in merges:
            if _overlaps(rect, other):
                rep.error(part, "merge-overlap", f"'{sn}': merged {other_ref} and {ref} overlap")
        merges.append((ref, rect))
    rels = pkg.rels(part)
    for h in ws.iter(_M + "hyperlink"):
        rid, where = h.get(_RID), f"'{sn}'!{h.get('ref')}: hyperlink"
        rel = rels.get(rid or "")
        if rid and rel is None:
            rep.error(part, "hyperlink-rel", f"{where} refers to missing relationship {rid}")
        elif (
            max(_u16len(rel.target if rel else ""), _u16len(h.get("location", ""))) > HYPERLINK_MAX
        ):
            rep.error(part, "hyperlink-length", f"{where} longer than {HYPERLINK_MAX} characters")
    _check_validations(ws, part, sn, rep)
    _check_conditional_formats(ws, part, sn, rep)
    return merges


def _check_validations(ws: etree._Element, part: str, sn: str, rep: _Report) -> None:
    for dv in ws.iter(_M + "dataValidation"):
        where = f"'{sn}'!{dv.get('sqref')} data validation"
        for attr in ("prompt", "error", "promptTitle", "errorTitle"):
            n, limit = _u16len(dv.get(attr, "")), DV_LIMITS[attr]
            if n > limit:
                rule = "dv-title-length" if attr.endswith("Title") else f"dv-{attr}-length"
                rep.error(part, rule, f"{where}: {attr} is {n} characters (Excel limit {limit})")
        formulas = [f.text or "" for f in dv if etree.QName(f).localname.startswith("formula")]
        if dv.get("type") == "list" and not formulas:
            rep.error(part, "dv-formula-missing", f"{where}: list validation without formula1")
        for text in formulas:
            if dv.get("type") == "list" and text.startswith('"'):
                n = _u16len(text[1:-1] if text.endswith('"') else text[1:])
                if n > DV_LIMITS["list"]:
                    msg = f"{where}: inline list is {n} characters (Excel drops it above 255)"
                    rep.error(part, "dv-list-length", msg + "; refer to a range or name instead")
            if text.startswith("="):  # unverified in Excel, hence only a warning
                msg = f"{where}: formula has a leading '='"
                rep.problems.append(Problem("warning", part, "dv-formula-equals", msg))
            else:
                rep.formula(text, part, where)


def _check_conditional_formats(ws: etree._Element, part: str, sn: str, rep: _Report) -> None:
    for cf in ws.iter(_M + "conditionalFormatting"):
        for rule in cf.iter(_M + "cfRule"):
            where = f"'{sn}'!{cf.get('sqref')} conditional format ({rule.get('type')})"
            dxf = _number(rule.get("dxfId"))
            if dxf is not None and not 0 <= dxf < rep.n_dxf:
                rep.error(part, "cf-dxf", f"{where}: dxfId {dxf:g} but styles has {rep.n_dxf}")
            if rule.get("type") in ("cellIs", "expression") and rule.find(_M + "formula") is None:
                rep.error(part, "cf-formula-missing", f"{where}: rule needs a <formula>")
            for f in rule.iter(_M + "formula"):
                rep.formula(f.text or "", part, where)
            for kind in ("iconSet", "colorScale", "dataBar"):
                el = rule.find(_M + kind)
                if el is None:
                    continue
                got, colors = len(el.findall(_M + "cfvo")), len(el.findall(_M + "color"))
                if kind == "iconSet":  # "3TrafficLights1", "4Rating", "5Quarters", ...
                    name = el.get("iconSet") or "3TrafficLights1"
                    ok = got == (int(name[0]) if name[0].isdigit() else 3)
                else:
                    ok = got in (2, 3) and colors == got if kind == "colorScale" else got == 2
                if not ok:
                    rep.error(part, "cf-cfvo", f"{where}: wrong number of cfvo ({got}) in {kind}")


def _check_tables(
    pkg: _Package, sheet: _Sheet, merges: Sequence[tuple[str, Rect]], rep: _Report
) -> None:
    rects = list(merges)
    header_cells: dict[str, etree._Element] | None = None
    for rel in pkg.rels(sheet.part).values():
        if rel.type != "table":
            continue
        t, part = pkg.xml(rel.part), rel.part
        name, ref = t.get("displayName") or t.get("name") or "", t.get("ref", "")
        where = f"table {name!r} ('{sheet.name}'!{ref})"
        reason = valid_defined_name(name, "table name")
        if reason:
            rep.error(part, "table-name", reason)
        if name.casefold() in rep.tables | rep.global_names:
            rep.error(part, "table-name-duplicate", f"{where}: name used by another table/name")
        rep.tables.add(name.casefold())
        if t.get("id") in rep.table_ids:
            rep.error(part, "table-id-duplicate", f"{where}: id {t.get('id')} not unique")
        rep.table_ids.add(t.get("id", ""))
        rect = _parse_ref(ref)
        if rect is None:
            rep.error(part, "table-ref", f"{where}: bad ref")
            continue
        for other_ref, other in rects:  # merged ranges first, then earlier tables
            if _overlaps(rect, other):
                rep.error(part, "table-overlap", f"{where}: overlaps {other_ref}")
        rects.append((f"table {name!r}", rect))
        columns = [c.get("name", "") for c in t.iter(_M + "tableColumn")]
        if len(columns) != rect[2] - rect[0] + 1:
            rep.error(part, "table-columns", f"{where}: {len(columns)} tableColumns")
        if len({c.casefold() for c in columns}) != len(columns) or not all(columns):
            rep.error(part, "table-header", f"{where}: empty or duplicate column names")
        if t.get("headerRowCount", "1") != "0":
            if header_cells is None:
                header_cells = {c.get("r", ""): c for c in pkg.xml(sheet.part).iter(_M + "c")}
            for i, column in enumerate(columns):
                cref = f"{column_letter(rect[0] + i)}{rect[1]}"
                c = header_cells.get(cref)
                text = _cell_text(c, rep.shared) if c is not None else None
                if text != column:  # Excel repairs a table whose header cells disagree
                    msg = f"{where}: header cell {cref} is {text!r}, tableColumn says {column!r}"
                    rep.error(part, "table-header", msg)
        af = t.find(_M + "autoFilter")
        if af is not None and t.get("totalsRowCount") in (None, "0") and af.get("ref") != ref:
            rep.error(part, "table-autofilter", f"{where}: autoFilter ref {af.get('ref')}")


# ------------------------------------------------------------------ entry points
def check_workbook(path: str | Path, *, schemas: bool = True) -> list[Problem]:
    """Every problem that may make Excel repair, reject or mis-evaluate the workbook at ``path``.

    Raises ``OSError`` when the file cannot be read; a file that is not a zip package is
    reported as a ``not-a-zip`` problem.
    """
    rep = _Report()
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        return [Problem("error", "", "not-a-zip", f"not an OOXML (zip) package: {exc}")]
    with zf:
        pkg = _Package(zf)
        _check_package(pkg, rep)
        if rep.problems:
            return rep.problems  # the later layers need a sound package
        if schemas:
            _check_schemas(pkg, rep)
        try:
            _check_rules(pkg, rep)
        except etree.XMLSyntaxError as exc:  # a related part without an .xml name
            rep.error("", "xml-malformed", f"a part the workbook relates to is not XML: {exc}")
    return rep.problems


def assert_clean(path: str | Path, *, schemas: bool = True) -> None:
    """Raise ``AssertionError`` listing every error in the workbook (warnings are allowed)."""
    errors = [p for p in check_workbook(path, schemas=schemas) if p.severity == "error"]
    if errors:
        lines = "\n".join(f"  {p}" for p in errors)
        raise AssertionError(f"{path}: {len(errors)} Excel problem(s):\n{lines}")
