"""Tests for tests/ooxml_check.py and bms_excel.xlsx.limits: a clean workbook passes, one broken
workbook per rule is caught."""

from __future__ import annotations

import importlib.util
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import ooxml_check
import pytest
import realclient
from lxml import etree
from ooxml_check import assert_clean, check_workbook
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, FormulaRule, IconSetRule
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import PatternFill, Protection
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo

from bms_excel.xlsx import limits
from bms_excel.xlsx.limits import Problem

SHARED_VALIDATOR = Path("/work/shared/tools/ooxml_validate.py")
SHARED_XSD = Path("/work/shared/ooxml-xsd")
SHEET1 = "xl/worksheets/sheet1.xml"  # 'Måltall'
SHEET3 = "xl/worksheets/sheet3.xml"  # 'Veiledning'
WORKBOOK = "xl/workbook.xml"
TABLE = "xl/tables/table1.xml"


def build_clean(path: Path) -> Path:
    """A workbook with every feature the generator uses, written by openpyxl."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Måltall"
    lists = wb.create_sheet("Lister")
    guide = wb.create_sheet("Veiledning")
    lists.sheet_state = "veryHidden"
    for i, value in enumerate(["Grønn", "Gul", "Rød"], start=1):
        lists.cell(i, 1, value)
    wb.defined_names["n_status"] = DefinedName("n_status", attr_text="Lister!$A$1:$A$3")
    ws.defined_names["n_maal"] = DefinedName("n_maal", attr_text="'Måltall'!$B$2:$B$5")

    ws.append(["Indikator", "Mål", "Verdi", "Status", "Kommentar", "Dato"])
    for i, name in enumerate(["Sykefravær", "Brukertilfredshet", "Budsjettavvik", "Åpenhet"]):
        ws.append([name, 50 + i * 10, None, None, None, None])
    table = Table(displayName="tbl_Maal", ref="A1:F5")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws["H1"] = "Sum"
    ws["H2"] = "=SUM(C2:C5)"
    ws["H3"] = '=IFERROR(AVERAGE(C2:C5)/AVERAGE(B2:B5),"")'
    ws["H4"] = '=_xlfn.IFNA(MATCH("Rød",D2:D5,0),0)'
    ws["H5"] = '=COUNTIF(D2:D5,"Grønn")&" av "&ROWS(D2:D5)'
    for row in range(2, 6):
        for col in range(3, 7):
            ws.cell(row, col).protection = Protection(locked=False)
    ws.protection.sheet = True
    ws.protection.password = "bms"

    status = DataValidation(type="list", formula1="n_status", allow_blank=True)
    status.promptTitle, status.prompt = "Status", "Velg Grønn, Gul eller Rød"
    value = DataValidation(type="decimal", operator="between", formula1="0", formula2="100")
    value.promptTitle, value.prompt = "Verdi", "Et tall mellom 0 og 100"
    value.errorTitle, value.error, value.showErrorMessage = "Ugyldig", "Må være 0–100", True
    comment = DataValidation(type="textLength", operator="lessThanOrEqual", formula1="500")
    comment.prompt = "Høyst 500 tegn"
    date = DataValidation(type="date", operator="greaterThan", formula1="DATE(2024,1,1)")
    yes_no = DataValidation(type="list", formula1='"Ja,Nei"')
    for dv, ref in ((status, "D2:D5"), (value, "C2:C5"), (comment, "E2:E5"), (date, "F2:F5")):
        ws.add_data_validation(dv)
        dv.add(ref)
    guide.add_data_validation(yes_no)
    yes_no.add("B6")

    red = PatternFill(start_color="FFC7CE", end_color="FFC7CE", fill_type="solid")
    green = PatternFill(start_color="C6EFCE", end_color="C6EFCE", fill_type="solid")
    ws.conditional_formatting.add(
        "C2:C5", CellIsRule(operator="lessThan", formula=["B2"], fill=red)
    )
    ws.conditional_formatting.add("A2:A5", FormulaRule(formula=['$D2="Grønn"'], fill=green))
    ws.conditional_formatting.add("C2:C5", IconSetRule("3TrafficLights1", "num", [0, 50, 80]))
    ws.freeze_panes = "B2"
    ws.print_area = "A1:H5"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.column_dimensions["A"].width = 40
    ws.row_dimensions[1].height = 30

    guide["A1"] = "Veiledning for målstyring – fyll inn de gule cellene"
    guide.merge_cells("A1:D1")
    guide["A3"] = "Til skjemaet"
    guide["A3"].hyperlink = Hyperlink(ref="A3", location="'Måltall'!A1")
    guide["A4"] = "Nettside"
    guide["A4"].hyperlink = "https://www.example.org/bms"
    chart = BarChart()
    chart.title = "Verdi mot mål"
    chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=5), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=5))
    guide.add_chart(chart, "F2")
    wb.custom_doc_props.append(StringProperty(name="bms_versjon", value="2025.1"))
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_clean(tmp_path_factory.mktemp("ooxml") / "clean.xlsx")


def mutate(src: Path, dst: Path, part: str, edit: Callable[[str], str]) -> Path:
    """Copy ``src`` to ``dst`` with one part's XML text changed by ``edit`` (which must change it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                new = edit(text)
                assert new != text, f"mutation did not change {part}"
                data = new.encode("utf-8")
            zout.writestr(info, data)
    return dst


def sub(pattern: str, repl: str, count: int = 1) -> Callable[[str], str]:
    """An edit that replaces the first ``count`` regex matches."""
    return lambda text: re.sub(pattern, repl, text, count=count)


def errors(problems: list[Problem]) -> set[str]:
    """The rules of the error-severity problems."""
    return {p.rule for p in problems if p.severity == "error"}


LONG = "x" * 300
# (id, part, edit, error rules expected, warning rule expected or None)
ZOO: list[tuple[str, str, Callable[[str], str], set[str], str | None]] = [
    (
        "sheet-name-long",
        WORKBOOK,
        sub('name="Veiledning"', f'name="{"V" * 32}"'),
        {"sheet-name"},
        None,
    ),
    (
        "sheet-name-char",
        WORKBOOK,
        sub('name="Veiledning"', 'name="Veiledning?"'),
        {"sheet-name"},
        None,
    ),
    (
        "sheet-name-apostrophe",
        WORKBOOK,
        sub('name="Veiledning"', 'name="\'Veiledning"'),
        {"sheet-name"},
        None,
    ),
    (
        "sheet-name-history",
        WORKBOOK,
        sub('name="Veiledning"', 'name="history"'),
        {"sheet-name"},
        None,
    ),
    (
        "sheet-name-duplicate",
        WORKBOOK,
        sub('name="Veiledning"', 'name="MÅLTALL"'),
        {"sheet-name-duplicate"},
        None,
    ),
    (
        "no-visible-sheet",
        WORKBOOK,
        sub('state="visible"', 'state="hidden"', 2),
        {"no-visible-sheet"},
        "active-tab",
    ),
    ("defined-name-cell", WORKBOOK, sub('name="n_status"', 'name="KPI1"'), {"defined-name"}, None),
    (
        "defined-name-space",
        WORKBOOK,
        sub('name="n_status"', 'name="n status"'),
        {"defined-name"},
        None,
    ),
    ("defined-name-r", WORKBOOK, sub('name="n_status"', 'name="R"'), {"defined-name"}, None),
    ("defined-name-r1c1", WORKBOOK, sub('name="n_status"', 'name="R1C1"'), {"defined-name"}, None),
    (
        "defined-name-duplicate",
        WORKBOOK,
        sub('name="n_maal" localSheetId="0"', 'name="N_STATUS"'),
        {"defined-name-duplicate"},
        None,
    ),
    (
        "defined-name-scope",
        WORKBOOK,
        sub('localSheetId="0"', 'localSheetId="7"'),
        {"defined-name-scope"},
        None,
    ),
    ("table-name-cell", TABLE, sub("tbl_Maal", "KPI2025", 2), {"table-name"}, None),
    ("table-name-duplicate", TABLE, sub("tbl_Maal", "n_status", 2), {"table-name-duplicate"}, None),
    ("table-header-mismatch", TABLE, sub('name="Verdi"', 'name="Verdien"'), {"table-header"}, None),
    ("table-header-duplicate", TABLE, sub('name="Verdi"', 'name="STATUS"'), {"table-header"}, None),
    (
        "table-header-number",
        SHEET1,
        sub(r'<c r="C1" t="inlineStr"><is><t>Verdi</t></is></c>', '<c r="C1" t="n"><v>1</v></c>'),
        {"table-header"},
        None,
    ),
    (
        "table-overlaps-merge",
        SHEET1,
        sub(
            "<conditionalFormatting",
            '<mergeCells count="1"><mergeCell ref="A2:B2"/></mergeCells><conditionalFormatting',
        ),
        {"table-overlap"},
        None,
    ),
    (
        "dv-list-length",
        SHEET3,
        sub('"Ja,Nei"', '"' + ",".join(["Ja"] * 100) + '"'),
        {"dv-list-length"},
        None,
    ),
    (
        "dv-prompt-length",
        SHEET1,
        sub('prompt="Et tall mellom 0 og 100"', f'prompt="{LONG}"'),
        {"dv-prompt-length"},
        None,
    ),
    (
        "dv-title-length",
        SHEET1,
        sub('promptTitle="Verdi"', f'promptTitle="{"T" * 33}"'),
        {"dv-title-length"},
        None,
    ),
    ("dv-error-length", SHEET1, sub('error="[^"]*"', f'error="{LONG}"'), {"dv-error-length"}, None),
    (
        "dv-formula-equals",
        SHEET1,
        sub("<formula1>n_status", "<formula1>=n_status"),
        set(),
        "dv-formula-equals",
    ),
    (
        "cf-formula-parentheses",
        SHEET1,
        sub("<formula>B2</formula>", "<formula>SUM(B2</formula>"),
        {"formula-parentheses"},
        None,
    ),
    (
        "cf-formula-equals",
        SHEET1,
        sub("<formula>B2</formula>", "<formula>=B2</formula>"),
        {"formula-equals"},
        None,
    ),
    ("cf-dxf", SHEET1, sub('dxfId="1"', 'dxfId="7"'), {"cf-dxf"}, None),
    ("cf-cfvo", SHEET1, sub('<cfvo type="num" val="80"/>', ""), {"cf-cfvo"}, None),
    ("formula-equals", SHEET1, sub("<f>SUM", "<f>=SUM"), {"formula-equals"}, None),
    (
        "formula-separator",
        SHEET1,
        sub(r'AVERAGE\(B2:B5\),""', 'AVERAGE(B2:B5);""'),
        {"formula-separator"},
        None,
    ),
    (
        "formula-parentheses",
        SHEET1,
        sub(r"<f>SUM\(C2:C5\)", "<f>SUM(C2:C5"),
        {"formula-parentheses"},
        None,
    ),
    ("formula-quotes", SHEET1, sub('" av "', '" av '), {"formula-quotes"}, None),
    (
        "formula-length",
        SHEET1,
        sub(r"<f>SUM\(C2:C5\)", "<f>SUM(C2:C5)" + "+1" * 4100),
        {"formula-length"},
        None,
    ),
    (
        "formula-unknown-function",
        SHEET1,
        sub(r"<f>SUM\(", "<f>SUMMER("),
        {"formula-unknown-function"},
        None,
    ),
    ("formula-xlfn", SHEET1, sub(r"_xlfn\.IFNA", "IFNA"), {"formula-xlfn"}, None),
    ("cell-ref", SHEET1, sub('<c r="H5"', '<c r="XFE5"'), {"cell-ref"}, None),
    (
        "merge-overlap",
        SHEET3,
        sub('<mergeCell ref="A1:D1"/>', '<mergeCell ref="A1:D1"/><mergeCell ref="C1:E2"/>'),
        {"merge-overlap"},
        None,
    ),
    (
        "hyperlink-length",
        "xl/worksheets/_rels/sheet3.xml.rels",
        sub("example.org/bms", "example.org/" + "a" * 2100),
        {"hyperlink-length"},
        None,
    ),
    ("column-width", SHEET1, sub('<col width="40"', '<col width="300"'), {"column-width"}, None),
    ("row-height", SHEET1, sub('ht="30"', 'ht="410"'), {"row-height"}, None),
    (
        "cell-text-length",
        SHEET3,
        sub("<t>Nettside</t>", f"<t>{'æ' * 32768}</t>"),
        {"cell-text-length"},
        None,
    ),
    (
        "schema-element-order",
        SHEET1,
        lambda t: re.sub("(<cols>.*?</cols>)(<sheetData>.*?</sheetData>)", r"\2\1", t),
        {"schema"},
        None,
    ),
    (
        "schema-enum",
        SHEET1,
        sub('orientation="landscape"', 'orientation="sideways"'),
        {"schema"},
        None,
    ),
    ("xml-malformed", SHEET3, sub("</sheetData>", ""), {"xml-malformed"}, None),
    (
        "rel-target-missing",
        "xl/_rels/workbook.xml.rels",
        sub("sheet3.xml", "sheet9.xml"),
        {"rel-target-missing"},
        None,
    ),
    (
        "content-type-orphan",
        "[Content_Types].xml",
        sub("/xl/charts/chart1.xml", "/xl/charts/chart9.xml"),
        {"content-type-orphan"},
        None,
    ),
]
# Where /work/shared/tools/ooxml_validate.py is knowingly weaker: it has no known-function
# check and only warns about a missing _xlfn. prefix, though both give #NAME? in Excel.
SHARED_MISSES = {"formula-unknown-function", "formula-xlfn"}


@pytest.fixture(scope="module")
def zoo(clean: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("zoo")
    return {
        case: mutate(clean, folder / f"{case}.xlsx", part, edit) for case, part, edit, *_ in ZOO
    }


def test_clean_workbook_has_no_problems(clean: Path) -> None:
    assert check_workbook(clean) == []
    assert_clean(clean)


@pytest.mark.parametrize(("case", "want_errors", "want_warning"), [(c[0], c[3], c[4]) for c in ZOO])
def test_zoo_case_is_caught_with_its_rule(
    zoo: dict[str, Path], case: str, want_errors: set[str], want_warning: str | None
) -> None:
    problems = check_workbook(zoo[case])
    assert errors(problems) == want_errors, problems
    warnings = {p.rule for p in problems if p.severity == "warning"}
    assert warnings == ({want_warning} if want_warning else set()), problems


def test_schema_cases_need_the_schema_layer(zoo: dict[str, Path]) -> None:
    assert errors(check_workbook(zoo["schema-element-order"], schemas=False)) == set()
    assert errors(check_workbook(zoo["schema-enum"], schemas=False)) == set()


def test_problems_name_the_part(zoo: dict[str, Path]) -> None:
    [problem] = check_workbook(zoo["merge-overlap"])
    assert (problem.part, problem.rule) == (SHEET3, "merge-overlap")
    assert "C1:E2" in problem.message


@pytest.mark.parametrize(("length", "want"), [(224, set()), (225, {"dv-error-length"})])
def test_dv_error_limit_is_224(clean: Path, tmp_path: Path, length: int, want: set[str]) -> None:
    book = mutate(
        clean, tmp_path / "dv.xlsx", SHEET1, sub('error="[^"]*"', f'error="{"e" * length}"')
    )
    assert errors(check_workbook(book)) == want


def test_assert_clean_lists_every_error(clean: Path, tmp_path: Path) -> None:
    once = mutate(clean, tmp_path / "a.xlsx", SHEET1, sub('<col width="40"', '<col width="300"'))
    twice = mutate(once, tmp_path / "b.xlsx", WORKBOOK, sub('name="n_status"', 'name="KPI1"'))
    with pytest.raises(AssertionError) as info:
        assert_clean(twice)
    assert "[column-width]" in str(info.value) and "[defined-name]" in str(info.value)


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK? no, just text")
    assert [p.rule for p in check_workbook(path)] == ["not-a-zip"]


@pytest.mark.libreoffice
def test_libreoffice_resaved_workbook_is_clean(clean: Path, tmp_path: Path) -> None:
    realclient.require_libreoffice()
    resaved = realclient.recalculate(clean, tmp_path)
    with zipfile.ZipFile(resaved) as zf:  # really LibreOffice's file, with its own parts
        assert "xl/sharedStrings.xml" in zf.namelist()
        assert b'appName="Calc"' in zf.read("xl/workbook.xml")
    assert_clean(resaved)


EXCEL_STYLE_MCE = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
    'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
    'mc:Ignorable="x14ac xr" xr:uid="{00000000-0001-0000-0000-000000000000}">'
)


def excel_style(text: str, ignorable: bool = True) -> str:
    """What Excel writes: ignorable attributes, xml:space on <t>, an mc:AlternateContent."""
    head = EXCEL_STYLE_MCE if ignorable else EXCEL_STYLE_MCE.replace(' mc:Ignorable="x14ac xr"', "")
    text = text.replace(
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">', head
    )
    text = text.replace('<row r="1"', '<row r="1" x14ac:dyDescent="0.25"')
    text = text.replace("<t>Nettside</t>", '<t xml:space="preserve">Nettside </t>')
    alternate = (
        '<mc:AlternateContent><mc:Choice Requires="x14ac"><x14ac:future/></mc:Choice>'
        '<mc:Fallback><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        'header="0.3" footer="0.3"/></mc:Fallback></mc:AlternateContent>'
    )
    return re.sub("<pageMargins [^>]*/>", alternate, text)


def test_markup_compatibility_is_applied_before_the_schema(clean: Path, tmp_path: Path) -> None:
    book = mutate(clean, tmp_path / "excel.xlsx", SHEET3, excel_style)
    assert check_workbook(book) == []
    strict = mutate(clean, tmp_path / "strict.xlsx", SHEET3, lambda t: excel_style(t, False))
    assert errors(check_workbook(strict)) == {"schema"}  # x14ac/xr not ignorable: invalid


def test_corrupt_zip_member(clean: Path, tmp_path: Path) -> None:
    stored = tmp_path / "stored.xlsx"
    with zipfile.ZipFile(clean) as zin, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
    data = stored.read_bytes()
    assert data.count(b"Nettside") == 1
    stored.write_bytes(data.replace(b"Nettside", b"Nettsidx"))
    assert [(p.part, p.rule) for p in check_workbook(stored)] == [(SHEET3, "zip-corrupt")]


def test_unknown_function_is_a_warning_in_a_macro_workbook(clean: Path, tmp_path: Path) -> None:
    plain = mutate(clean, tmp_path / "plain.xlsx", SHEET1, sub(r"<f>SUM\(", "<f>MinFunksjon("))
    macro = tmp_path / "macro.xlsm"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(macro, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                bin_type = (
                    '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                )
                data = data.replace(b"<Default ", bin_type.encode() + b"<Default ", 1)
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 not a real VBA project")
    assert errors(check_workbook(plain)) == {"formula-unknown-function"}
    assert [(p.severity, p.rule) for p in check_workbook(macro)] == [
        ("warning", "formula-unknown-function")
    ]


# ------------------------------------------------------------------ hostile XML
def laughs(depth: int) -> str:
    """A DTD whose entity ``lol{depth}`` expands to ``3 * 10**depth`` characters."""
    levels = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, depth + 1))
    return f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY lol0 "lol">{levels}]>'


def test_parse_xml_does_not_expand_internal_entities() -> None:
    # 30 000 characters when expanded: below libxml2's own amplification guard.
    root = ooxml_check.parse_xml((laughs(4) + "<r><t>&lol4;</t></r>").encode())
    assert len("".join(root.itertext())) < 100


def test_parse_xml_refuses_a_billion_laughs() -> None:
    # Refused, or parsed without expanding anything (3·10⁹ characters if it were expanded).
    try:
        root = ooxml_check.parse_xml((laughs(9) + "<r><t>&lol9;</t></r>").encode())
    except etree.XMLSyntaxError:
        pass  # newer libxml2 refuses the amplification outright
    else:
        assert len("".join(root.itertext())) < 100


def test_parse_xml_does_not_read_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    doc = f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]><r>&x;</r>'
    root = ooxml_check.parse_xml(doc.encode())
    assert "TOPSECRET" not in "".join(root.itertext())


@pytest.mark.parametrize("kind", ["billion-laughs", "external"])
def test_workbook_with_a_dtd_is_an_error(clean: Path, tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "big.txt"
    secret.write_text("s" * 40000, encoding="utf-8")
    dtd = (
        laughs(9)
        if kind == "billion-laughs"
        else f'<!DOCTYPE worksheet [<!ENTITY lol9 SYSTEM "{secret.as_uri()}">]>'
    )

    def edit(text: str) -> str:
        return dtd + text.replace("<t>Nettside</t>", "<t>&lol9;</t>")

    book = mutate(clean, tmp_path / "dtd.xlsx", SHEET3, edit)
    problems = check_workbook(book)
    # Not cell-text-length: nothing was expanded. A billion laughs may already be refused by
    # libxml2's amplification guard (xml-malformed), depending on its version.
    assert errors(problems) in ({"xml-doctype"}, {"xml-malformed"}), problems
    assert kind == "billion-laughs" or errors(problems) == {"xml-doctype"}


# ------------------------------------------------------------------ pure helpers
@pytest.mark.parametrize(
    ("name", "is_cell"),
    [
        ("KPI1", True),
        ("T1", True),
        ("ABC2025", True),
        ("xfd1048576", True),
        ("R1C1", True),
        ("R", True),
        ("c", True),
        ("RC", True),
        ("R2", True),
        ("XFE1", False),
        ("A1048577", False),
        ("n_kpi1", False),
        ("tbl_Maal", False),
        ("Rad1", True),
        ("Rader1", False),
    ],
)
def test_is_cell_reference(name: str, is_cell: bool) -> None:
    assert limits.is_cell_reference(name) is is_cell


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("Måltall", True),
        ("Q1 2025", True),
        ("S" * 31, True),
        ("S" * 32, False),
        ("", False),
        ("a/b", False),
        ("a:b", False),
        ("[x]", False),
        ("'x", False),
        ("x'", False),
        ("HISTORY", False),
    ],
)
def test_valid_sheet_name(name: str, ok: bool) -> None:
    assert (limits.valid_sheet_name(name) is None) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("n_status", True),
        ("Målområde", True),
        ("_x.y\\z", True),
        ("\\x", True),
        ("_xlnm.Print_Area", True),
        ("1abc", False),
        ("n status", False),
        ("n-status", False),
        ("KPI1", False),
        ("R", False),
        ("n" * 255, True),
        ("n" * 256, False),
    ],
)
def test_valid_defined_name(name: str, ok: bool) -> None:
    assert (limits.valid_defined_name(name) is None) is ok


def test_check_names_reports_every_clash() -> None:
    problems = limits.check_names(["Data", "DATA", "History"], ["n_a", "KPI1"], ["N_A", "tbl_ok"])
    assert sorted(p.rule for p in problems) == [
        "defined-name",
        "sheet-name",
        "sheet-name-duplicate",
        "table-name-duplicate",
    ]
    assert limits.check_names(["Data", "Lister"], ["n_a"], ["tbl_a"]) == []


def test_limits_for_the_generator() -> None:
    assert limits.cell_text_limit == 32767
    assert dict(limits.DV_LIMITS) == {
        "list": 255,
        "prompt": 255,
        "error": 224,
        "promptTitle": 32,
        "errorTitle": 32,
    }


@pytest.mark.parametrize(
    "formula",
    [
        'IF(A1="(;",1,0)',  # parentheses, ';' and quotes inside a string
        "SUM('Mål (2025)'!A1:A3)",  # parentheses inside a quoted sheet name
        "'It''s'!A1",  # escaped apostrophe
        "SUM({1,2;3,4})",  # ';' is the row separator of an array constant
        "SUM(tbl_Maal[[#This Row],[Verdi (kr)]])",  # structured reference with parentheses
        "_xlfn._xlws.SORT(A1:A3)",
        "_xlfn.XLOOKUP(A1,B1:B3,C1:C3)",
        "_xludf.MinFunksjon(A1)",
        "_xlfn.T.TEST(A1:A3,B1:B3,2,1)",
        "IF(TRUE(),n_status,0)",
    ],
)
def test_formula_without_problems(formula: str) -> None:
    assert limits.formula_problems(formula) == []


@pytest.mark.parametrize(
    ("formula", "rule"),
    [
        ("HVIS(A1>0,1,0)", "formula-unknown-function"),
        ("GJENNOMSNITT(A1:A3)", "formula-unknown-function"),
        ("XLOOKUP(A1,B1:B3,C1:C3)", "formula-xlfn"),
        ("_xlws.SORT(A1:A3)", "formula-xlfn"),
        ("SUM(A1:A3))", "formula-parentheses"),
        ("SUM('Ark 1!A1)", "formula-quotes"),
        ("IF(A1>0;1;0)", "formula-separator"),
    ],
)
def test_formula_problem(formula: str, rule: str) -> None:
    assert [p.rule for p in limits.formula_problems(formula)] == [rule]


def test_defined_names_are_callable() -> None:
    assert limits.formula_problems("MinLambda(A1)", known_names=["MinLambda"]) == []
    assert [p.rule for p in limits.formula_problems("MinLambda(A1)")] == [
        "formula-unknown-function"
    ]


# ------------------------------------------------------------------ cross-check
def test_shared_validator_agrees_on_error_versus_clean(clean: Path, zoo: dict[str, Path]) -> None:
    if not SHARED_VALIDATOR.exists():
        pytest.skip(f"{SHARED_VALIDATOR} is not available outside the development machine")
    spec = importlib.util.spec_from_file_location("shared_ooxml_validate", SHARED_VALIDATOR)
    assert spec is not None and spec.loader is not None
    shared = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shared)
    xsd = str(SHARED_XSD) if SHARED_XSD.is_dir() else None
    verdicts = {}
    for case, path in {"clean": clean, **zoo}.items():
        ours = bool(errors(check_workbook(path)))
        theirs = bool(shared.validate(path, xsd_dir=xsd)["errors"])
        verdicts[case] = (ours, theirs)
    disagree = {case for case, (ours, theirs) in verdicts.items() if ours != theirs}
    assert disagree == SHARED_MISSES, verdicts
    assert all(verdicts[case] == (True, False) for case in SHARED_MISSES)


def test_bundled_schemas_are_self_contained() -> None:
    folder = Path(__file__).with_name("_xsd")
    imported = {
        location
        for xsd in folder.glob("*.xsd")
        for location in re.findall(r'schemaLocation="([^"]+)"', xsd.read_text(encoding="utf-8"))
    }
    assert imported and all((folder / location).is_file() for location in imported), imported
