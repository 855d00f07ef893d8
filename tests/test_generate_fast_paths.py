"""The short cuts generation takes for speed (issue 19) give what the long way gives."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import Cell

from bms_excel.examples import load_example_definition
from bms_excel.generate import WorkbookWriter
from bms_excel.layout import build_layout
from bms_excel.resources import workbook_template
from bms_excel.unit_sheets import CellWriter
from bms_excel.xlsx.cached_formula import Formula
from bms_excel.xlsx.cells import escape_text
from bms_excel.xlsx.package import PartCache, workbook_bytes

SECRET = b"fast-path-secret-0123456789abcdef0123"
NOW = dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.UTC)


def test_put_cleans_control_characters_and_keeps_a_formulas_result() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    out = CellWriter(wb)
    plain = out.put(ws, "A1", "Fylkes\x07veg")
    formula = out.put(ws, "A2", Formula("=1\x07+1", 2))
    clean = out.put(ws, "A3", Formula('=IF(A1="","x","y")', "y"))
    assert (plain.value, plain.data_type) == ("Fylkesveg", "s")
    assert (str(formula.value), formula.value.result, formula.data_type) == ("=1+1", 2, "f")
    assert (clean.value.result, clean.data_type) == ("y", "f")
    reference = Cell(ws, row=4, column=1)
    for cell in (plain, formula, clean):
        assert type(cell) is Cell and cell.parent is ws and cell._style is None
        assert (cell._hyperlink, cell._comment) == (reference._hyperlink, reference._comment)


def test_escape_text_escapes_what_lxml_escapes() -> None:
    assert escape_text("a&<b>\r\n&amp;") == "a&amp;&lt;b&gt;&#13;\n&amp;amp;"
    assert escape_text("plain «æøå»") == "plain «æøå»"


def test_a_header_naming_the_unit_is_rendered_per_unit(tmp_path: Path) -> None:
    definition = load_example_definition("stfk")
    units = [definition.unit("HEIMDAL"), definition.unit("BYASEN")]
    wb = openpyxl.load_workbook(workbook_template())
    header = build_layout(definition, units[0], "2026-T1").scorecard
    ref = f"{header.columns['name']}{header.header_row}"
    wb.worksheets[1][ref] = "Indikator – {{ unit.code }}"
    template = tmp_path / "mal.xlsx"
    wb.save(template)
    writer = WorkbookWriter(definition, "2026-T1", secret=SECRET, template=template, now=NOW)
    for unit in units:
        book, _ = writer.fill(unit)
        assert book.worksheets[1][ref].value == f"Indikator – {unit.code}"


def test_cached_workbook_parts_follow_a_change_of_sheet_state() -> None:
    wb = openpyxl.Workbook()
    wb.create_sheet("To")
    parts = PartCache()
    first = workbook_bytes(wb, parts)
    wb["To"].sheet_state = "hidden"
    second = workbook_bytes(wb, parts)
    expected = io.BytesIO()
    wb.save(expected)

    def part(data: bytes) -> bytes:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.read("xl/workbook.xml")

    assert part(first) != part(second) == part(expected.getvalue())
    assert b'state="hidden"' in part(second)


def test_custom_properties_are_written_as_openpyxl_writes_them() -> None:
    from openpyxl.packaging.custom import CustomPropertyList, StringProperty

    for values in (["U00001", "2026-T1"], ["Ås & <x>", 'a "b"']):
        wb = openpyxl.Workbook()
        wb.custom_doc_props = CustomPropertyList()
        for i, value in enumerate(values):
            wb.custom_doc_props.append(StringProperty(name=f"bms.f{i}", value=value))
        ours = workbook_bytes(wb, PartCache())
        expected = io.BytesIO()
        wb.save(expected)
        with (
            zipfile.ZipFile(io.BytesIO(ours)) as a,
            zipfile.ZipFile(io.BytesIO(expected.getvalue())) as b,
        ):
            assert a.read("docProps/custom.xml") == b.read("docProps/custom.xml")


def test_write_member_writes_what_writestr_writes() -> None:
    from bms_excel.xlsx.package import write_member

    members = [
        ("xl/styles.xml", b"<styleSheet/>" * 300),
        ("xl/theme/theme1.xml", "tema «æøå» " * 200),
        ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
        ("xl/worksheets/sheet2.xml", b"<styleSheet/>" * 300),  # the same bytes again
    ]

    def build(ours: bool) -> bytes:
        buffer, cache = io.BytesIO(), {}  # type: ignore[var-annotated]
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name, data in members:
                if ours:
                    write_member(zf, name, data, cache)
                else:
                    zf.writestr(name, data)
        return buffer.getvalue()

    for _ in range(5):  # both within one second: the members' dates are the time of writing
        theirs, mine = build(False), build(True)
        if theirs[10:14] == mine[10:14]:
            break
    assert mine == theirs
    with zipfile.ZipFile(io.BytesIO(mine)) as zf:
        assert zf.testzip() is None
        assert zf.read("xl/worksheets/sheet2.xml") == members[0][1]
