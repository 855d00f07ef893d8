"""The controller's workbook (DESIGN §8) and the optional Valider button in unit workbooks.

:func:`build_control_workbook` writes, with XlsxWriter, the workbook a controller keeps open
while running a period: an Innstillinger sheet (project folder, period, language, last run),
the form buttons Generer, Samle inn and Konsolider bound to the VBA Subs of
``macros/BmsExcel.bas``, a hidden ``xlwings.conf`` sheet, and the sheets the buttons fill.

Linux cannot compile VBA. With a ``vbaProject.bin`` (compiled once in Excel, or the
LibreOffice stop-gap in ``macros/``) the result is an .xlsm (XlsxWriter's documented route:
``add_vba_project`` + ``insert_button``); without one it is an .xlsx whose buttons are already
bound to the Sub names and whose Innstillinger sheet lists the steps to add the macros.

:func:`add_validate_button` turns a generated unit workbook into an .xlsm with a Valider
button (``bms generate --macros --vba-project FILE``). It edits the package at the part level
and changes nothing else, so the signed ``_meta`` and every cell stay byte-identical.

Cells the buttons read and write are found through defined names (:data:`NAMES`), never by
address, so a controller may move things around.
"""

from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import olefile
import xlsxwriter
from lxml import etree

from bms_excel.errors import ConfigError, OutputError, TemplateError
from bms_excel.i18n import LANGUAGES, t
from bms_excel.layout import sheet_names
from bms_excel.xlsx.cells import elements_after

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

    from bms_excel.generate import GenerateResult

#: The VBA Sub behind each button (macros/BmsExcel.bas).
SUBS = {
    "generate": "BmsGenerate",
    "collect": "BmsCollect",
    "consolidate": "BmsConsolidate",
    "validate": "BmsValidate",
}
#: Defined names of the controller's workbook: settings cells and the output sheets' anchors.
NAMES = {
    "project": "bms_project",
    "period": "bms_period",
    "language": "bms_language",
    "status": "bms_status",
    "collect": "bms_out_collect",
    "county": "bms_out_county",
    "rollup": "bms_out_rollup",
    "trend": "bms_out_trend",
    "excluded": "bms_out_excluded",
    "data": "bms_out_data",
}
#: Output sheets in tab order (keys of ``cwb.sheet.*``) and the button that fills each.
OUTPUT_SHEETS = {
    "collect": "collect",
    "county": "consolidate",
    "rollup": "consolidate",
    "trend": "consolidate",
    "excluded": "consolidate",
    "data": "consolidate",
}
XLWINGS_CONF = "xlwings.conf"
#: Default interpreter for RunPython on Windows (the venv IT installs, see macros/README.md).
DEFAULT_INTERPRETER = r"%LOCALAPPDATA%\bms\venv\Scripts\pythonw.exe"

_SETTINGS_ROWS = ("project", "period", "language", "status")
_FIRST_SETTING_ROW = 4  # 1-based Excel row of "Prosjektmappe"
_BUTTON_COL = "E"
_VBA_RELTYPE = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_VML_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
}
# CT_Worksheet children that must follow <legacyDrawing>.
_AFTER_LEGACY = elements_after("legacyDrawing")


@dataclass(frozen=True)
class ControlWorkbook:
    """What :func:`build_control_workbook` wrote."""

    path: Path
    macros: bool
    settings_sheet: str


def settings_cell(key: str) -> str:
    """The A1 address on Innstillinger of a setting (``project``, ``period``, ...)."""
    return f"B{_FIRST_SETTING_ROW + _SETTINGS_ROWS.index(key)}"


def output_sheet_names(lang: str) -> dict[str, str]:
    """Output key → localised sheet name (``collect`` → ``Innsamling``)."""
    return {key: t(f"cwb.sheet.{key}", lang) for key in OUTPUT_SHEETS}


def check_vba_project(path: Path, subs: Iterable[str] = ()) -> None:
    """Raise ``ConfigError`` unless ``path`` is an OLE ``vbaProject.bin`` holding ``subs``.

    The Sub check needs oletools (a dev dependency); without it only the container is checked.
    """
    try:
        ok = olefile.isOleFile(str(path))
        if ok:
            with olefile.OleFileIO(str(path)) as ole:
                ok = ole.exists("VBA/dir") and ole.exists("PROJECT")
    except OSError as exc:
        raise ConfigError(t("cwb.bad-vba-project", path=str(path))) from exc
    if not ok:
        raise ConfigError(t("cwb.bad-vba-project", path=str(path)))
    wanted = list(subs)
    if not wanted:
        return
    try:
        # oletools' pyparsing grammar uses APIs pyparsing 3 deprecates; that warning is
        # theirs to fix and says nothing about the user's file.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from oletools.olevba import VBA_Parser
    except ImportError:
        return
    parser = VBA_Parser(str(path))
    try:
        source = "\n".join(code for *_, code in parser.extract_macros())
    finally:
        parser.close()
    missing = [s for s in wanted if f"sub {s.lower()}(" not in source.lower()]
    if missing:
        raise ConfigError(t("cwb.missing-subs", path=str(path), subs=", ".join(missing)))


def build_control_workbook(
    out: Path,
    *,
    project_dir: Path | None = None,
    period: str | None = None,
    lang: str = "nb",
    vba_project: Path | None = None,
    interpreter: str = DEFAULT_INTERPRETER,
) -> ControlWorkbook:
    """Write the controller's workbook to ``out`` (.xlsm with ``vba_project``, else .xlsx).

    ``out``'s suffix is corrected to match: Excel refuses an .xlsx that holds macros.
    """
    if lang not in LANGUAGES:
        raise ConfigError(f"language {lang!r}")
    if vba_project is not None:
        check_vba_project(vba_project, [SUBS[k] for k in ("generate", "collect", "consolidate")])
    out = out.with_suffix(".xlsm" if vba_project is not None else ".xlsx")
    settings = t("cwb.sheet.settings", lang)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = _Formats(wb)
    initial = {
        "project": str(project_dir) if project_dir else "",
        "period": period or "",
        "language": lang,
        "status": "",
    }
    ws = _write_settings_sheet(wb, formats, settings, initial, lang)
    _write_buttons(ws, formats, lang, macros=vba_project is not None)
    _write_output_sheets(wb, formats, settings, lang)

    conf = wb.add_worksheet(XLWINGS_CONF)
    conf.write_string("A1", "Interpreter_Win")
    conf.write_string("B1", interpreter)
    conf.hide()

    if vba_project is not None:
        wb.set_vba_name("ThisWorkbook")
        wb.add_vba_project(str(vba_project))
    ws.activate()
    wb.close()
    _write_bytes(out, buffer.getvalue())
    return ControlWorkbook(out, vba_project is not None, settings)


class _Formats:
    """The cell formats of the controller's workbook (added in this order: the styles part)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F4E79"})
        self.label = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
        self.value = wb.add_format({"bg_color": "#FFFFFF", "border": 1, "locked": False})
        self.grey = wb.add_format({"font_color": "#595959", "italic": True})


def _write_settings_sheet(
    wb: xlsxwriter.Workbook, formats: _Formats, settings: str, initial: dict[str, str], lang: str
) -> Worksheet:
    """The settings sheet: title, one named, unlocked cell per setting with its help."""
    ws = wb.add_worksheet(settings)
    ws.set_column("A:A", 22)
    ws.set_column("B:B", 48)
    ws.set_column("C:C", 40)
    ws.set_column("D:D", 4)
    ws.set_column("E:E", 26)
    ws.write("A1", t("cwb.title", lang), formats.title)
    ws.write("A2", t("cwb.intro", lang))
    helps = {"project": "cwb.setting.project.help", "period": "cwb.setting.period.help"}
    for key in _SETTINGS_ROWS:
        ref = settings_cell(key)
        row = int(ref[1:]) - 1
        ws.write(row, 0, t(f"cwb.setting.{key}", lang), formats.label)
        ws.write_string(row, 1, initial[key], formats.value)
        if key in helps:
            ws.write(row, 2, t(helps[key], lang), formats.grey)
        wb.define_name(NAMES[key], f"={_quote(settings)}!$B${row + 1}")
    ws.data_validation(settings_cell("language"), {"validate": "list", "source": list(LANGUAGES)})
    return ws


def _write_buttons(ws: Worksheet, formats: _Formats, lang: str, *, macros: bool) -> None:
    """The three buttons, and below them either a note that the macros are in or the steps
    that put them in."""
    row = _FIRST_SETTING_ROW + 2 * 3 + 1  # 0-based row of the macro note below the settings
    for i, key in enumerate(("generate", "collect", "consolidate")):
        caption = t(f"cwb.button.{key}", lang)
        if not macros:
            # Bound to a Sub this .xlsx does not have yet (the steps below add it, and then the
            # button works as it is): the button itself says so, not only Excel's error.
            caption = t("cwb.button.needs-macros", lang, caption=caption, row=row + 1)
        ws.insert_button(
            f"{_BUTTON_COL}{_FIRST_SETTING_ROW + 2 * i}",
            {
                "macro": SUBS[key],
                "caption": caption,
                "width": 180 if macros else 240,
                "height": 30 if macros else 36,
            },
        )
    if macros:
        ws.write(row, 0, t("cwb.macros.present", lang), formats.grey)
    else:
        ws.write(row, 0, t("cwb.macros.heading", lang), formats.bold)
        for n in range(1, 6):
            ws.write(row + n, 0, t(f"cwb.macros.step{n}", lang))


def _write_output_sheets(
    wb: xlsxwriter.Workbook, formats: _Formats, settings: str, lang: str
) -> None:
    """One named sheet per output, saying which button fills it."""
    captions = {
        "collect": t("cwb.button.collect", lang),
        "consolidate": t("cwb.button.consolidate", lang),
    }
    for key, name in output_sheet_names(lang).items():
        sheet = wb.add_worksheet(name)
        sheet.write("A1", name, formats.title)
        button = captions[OUTPUT_SHEETS[key]]
        sheet.write("A2", t("cwb.placeholder", lang, button=button, sheet=settings), formats.grey)
        sheet.set_column("A:A", 18)
        sheet.set_column("B:H", 16)
        wb.define_name(NAMES[key], f"={_quote(name)}!$A$1")


def add_validate_button(
    xlsx_path: Path,
    vba_project: Path,
    out_path: Path | None = None,
    *,
    cell: str = "E4",
    lang: str | None = None,
) -> Path:
    """Copy a generated unit workbook to an .xlsm with a Valider button on its Kontroll sheet.

    Only parts are added (``xl/vbaProject.bin``, one VML drawing) and four are amended
    (content types, workbook, its relationships, the Kontroll sheet); every cell, the signed
    ``_meta`` and the sheet protection are left exactly as generated. Returns the .xlsm path.
    """
    check_vba_project(vba_project, [SUBS["validate"]])
    out_path = (out_path or xlsx_path).with_suffix(".xlsm")
    with zipfile.ZipFile(xlsx_path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    sheet_part = _control_sheet_part(parts, lang)
    shell = _button_shell(vba_project, cell, lang or _language_of(parts, sheet_part))
    n = 1
    while f"xl/drawings/vmlDrawing{n}.vml" in parts:
        n += 1
    vml_part = f"xl/drawings/vmlDrawing{n}.vml"
    parts[vml_part] = shell["xl/drawings/vmlDrawing1.vml"]
    parts["xl/vbaProject.bin"] = shell["xl/vbaProject.bin"]
    parts["[Content_Types].xml"] = _content_types(parts["[Content_Types].xml"])
    parts["xl/_rels/workbook.xml.rels"] = _add_rel(
        parts["xl/_rels/workbook.xml.rels"], _VBA_RELTYPE, "vbaProject.bin"
    )[0]
    parts["xl/workbook.xml"] = _set_code_name(
        parts["xl/workbook.xml"], "workbookPr", "ThisWorkbook"
    )
    rels_part = posixpath.join(
        posixpath.dirname(sheet_part), "_rels", posixpath.basename(sheet_part) + ".rels"
    )
    empty_rels = f'<Relationships xmlns="{_NS["pr"]}"/>'.encode()
    rels, rid = _add_rel(
        parts.get(rels_part, empty_rels),
        _VML_RELTYPE,
        posixpath.relpath(vml_part, posixpath.dirname(sheet_part)),
    )
    parts[rels_part] = rels
    parts[sheet_part] = _add_legacy_drawing(parts[sheet_part], rid)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    _write_bytes(out_path, buffer.getvalue())
    return out_path


# -- helpers -----------------------------------------------------------------------------------


def _quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(t("cwb.cannot-write", path=str(path), detail=str(exc))) from exc


def _xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(data, parser)


def _dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → part name, from ``xl/workbook.xml`` and its relationships."""
    book = _xml(parts["xl/workbook.xml"])
    rels = _xml(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("pr:Relationship", _NS)}
    out = {}
    for sheet in book.iterfind("m:sheets/m:sheet", _NS):
        target = targets[sheet.get(f"{{{_NS['r']}}}id")]
        part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        out[sheet.get("name", "")] = posixpath.normpath(part)
    return out


def _control_sheet_part(parts: dict[str, bytes], lang: str | None) -> str:
    sheets = _sheet_parts(parts)
    for code in (lang, *LANGUAGES) if lang else LANGUAGES:
        name = sheet_names(code).control
        if name in sheets:
            return sheets[name]
    raise TemplateError(t("cwb.no-control-sheet", sheet=sheet_names(lang or "nb").control))


def _language_of(parts: dict[str, bytes], sheet_part: str) -> str:
    sheets = _sheet_parts(parts)
    for code in LANGUAGES:
        if sheets.get(sheet_names(code).control) == sheet_part:
            return code
    return "nb"


def _button_shell(vba_project: Path, cell: str, lang: str) -> dict[str, bytes]:
    """The VML of one Valider button at ``cell`` and the VBA project, made by XlsxWriter."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.insert_button(
        cell,
        {
            "macro": SUBS["validate"],
            "caption": t("cwb.button.validate", lang),
            "width": 160,
            "height": 30,
        },
    )
    wb.set_vba_name("ThisWorkbook")
    wb.add_vba_project(str(vba_project))
    wb.close()
    with zipfile.ZipFile(buffer) as zf:
        return {n: zf.read(n) for n in ("xl/drawings/vmlDrawing1.vml", "xl/vbaProject.bin")}


def _content_types(data: bytes) -> bytes:
    root = _xml(data)
    defaults = {d.get("Extension", "").lower() for d in root.findall("ct:Default", _NS)}
    for ext, ctype in (
        ("bin", "application/vnd.ms-office.vbaProject"),
        ("vml", "application/vnd.openxmlformats-officedocument.vmlDrawing"),
    ):
        if ext not in defaults:
            el = etree.Element(f"{{{_NS['ct']}}}Default", Extension=ext, ContentType=ctype)
            root.insert(0, el)
    for override in root.findall("ct:Override", _NS):
        if override.get("PartName") == "/xl/workbook.xml":
            override.set("ContentType", _MACRO_MAIN)
    return _dump(root)


def _add_rel(data: bytes, rel_type: str, target: str) -> tuple[bytes, str]:
    root = _xml(data)
    ids = {r.get("Id") for r in root.findall("pr:Relationship", _NS)}
    n = 1
    while f"rId{n}" in ids:
        n += 1
    rid = f"rId{n}"
    etree.SubElement(root, f"{{{_NS['pr']}}}Relationship", Id=rid, Type=rel_type, Target=target)
    return _dump(root), rid


def _set_code_name(data: bytes, element: str, name: str) -> bytes:
    root = _xml(data)
    pr = root.find(f"m:{element}", _NS)
    if pr is None:
        pr = etree.Element(f"{{{_NS['m']}}}{element}")
        # workbookPr follows fileVersion and fileSharing (CT_Workbook order).
        index = sum(
            1 for child in root if etree.QName(child).localname in ("fileVersion", "fileSharing")
        )
        root.insert(index, pr)
    pr.set("codeName", name)
    return _dump(root)


def _add_legacy_drawing(data: bytes, rid: str) -> bytes:
    root = _xml(data)
    if root.find("m:legacyDrawing", _NS) is not None:
        # The sheet already has notes (a VML part); merging two is not supported.
        raise TemplateError(t("cwb.sheet-has-notes"))
    el = etree.Element(f"{{{_NS['m']}}}legacyDrawing")
    el.set(f"{{{_NS['r']}}}id", rid)
    after = [c for c in root if etree.QName(c).localname in _AFTER_LEGACY]
    if after:
        after[0].addprevious(el)
    else:
        root.append(el)
    return _dump(root)


def add_macros_to_generated(result: GenerateResult, vba_project: Path) -> GenerateResult:
    """Give every workbook of a ``bms generate`` run a Valider button (.xlsm) and rewrite the
    manifest with the new file names and checksums; the macro-free .xlsx files are removed."""
    import hashlib

    from bms_excel.generate import write_manifest

    rows = []
    files = []
    for row, path in zip(result.manifest, result.files, strict=True):
        xlsm = add_validate_button(path, vba_project)
        path.unlink()
        digest = hashlib.sha256(xlsm.read_bytes()).hexdigest()
        rows.append(replace(row, file=xlsm.name, sha256=digest))
        files.append(xlsm)
    csv_path, json_path = write_manifest(rows, result.out_dir)
    return replace(
        result, files=files, manifest=rows, manifest_csv=csv_path, manifest_json=json_path
    )
