"""Excel's automatic percent entry: percent-formatted fractions of % indicators read as percents."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import PERIOD, SECRET
from reading import read_workbook

from bms_excel.layout import build_layout
from bms_excel.model import Definition
from bms_excel.number_formats import is_percent_format, percent_cells, percent_styles
from bms_excel.validate import validate_data


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0%", True),
        ("0.0 %", True),
        ("#,##0.00%;[Red]-#,##0.00%", True),
        ("[Red]0%", True),
        ("#,##0.0", False),
        ('0" %"', False),  # a literal sign: the number is not multiplied by 100
        ("0\\%", False),
        ("0_%", False),
        ("General", False),
    ],
)
def test_is_percent_format(code: str, percent: bool) -> None:
    assert is_percent_format(code) is percent


_STYLES = b"""<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="0.0 %"/>
<numFmt numFmtId="165" formatCode="0&quot; %&quot;"/></numFmts>
<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="9"/><xf numFmtId="164"/><xf numFmtId="165"/>
<xf numFmtId="10"/></cellXfs></styleSheet>"""


def test_percent_styles_and_cells_from_the_package_parts() -> None:
    assert percent_styles(_STYLES) == {1, 2, 4}
    assert percent_styles(None) == frozenset()
    escaped = b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts><numFmt numFmtId="170" formatCode="0&#37;"/></numFmts><cellXfs><xf numFmtId="170"/></cellXfs></styleSheet>'
    assert percent_styles(escaped) == {0}
    assert percent_styles(b"<styleSheet><cellXfs><xf numFmtId='9'") == frozenset()  # broken
    assert percent_styles(b'<!DOCTYPE x [<!ENTITY a "b">]><styleSheet/>') == frozenset()
    sheet = (
        b'<worksheet><sheetData><row r="3"><c r="B3" s="1"><v>0.68</v></c>'
        b'<c s="2" r="AA3" t="n"><v>1</v></c><c r="C3" s="3"><v>1</v></c>'
        b'<c r="D3" s="10"><v>1</v></c></row></sheetData></worksheet>'
    )
    assert percent_cells(sheet, frozenset({1, 2, 4})) == {(3, 2), (3, 27)}
    assert percent_cells(sheet, frozenset()) == frozenset()


def test_a_percent_entry_is_read_as_the_percentage_it_shows(
    stfk: Definition, filled: dict[str, Path], tmp_path: Path
) -> None:
    unit = stfk.unit("HEIMDAL")
    layout = build_layout(stfk, unit, PERIOD, "nb")
    inputs = [c for c in layout.scorecard.indicators if c.input]
    percent = [c for c in inputs if stfk.indicator(c.code).unit_of_measure == "%"]
    other = next(c for c in inputs if stfk.indicator(c.code).unit_of_measure != "%")
    path = shutil.copy2(filled["HEIMDAL"], tmp_path / "heimdal.xlsx")
    # What Excel saves after "68 %" and "71,5 %" were typed, and a fraction in an ordinary one.
    wb = openpyxl.load_workbook(path)
    ws = wb[layout.sheets.scorecard]
    ws[percent[0].result_ref].value, ws[percent[0].result_ref].number_format = 0.68, "0%"
    ws[percent[1].result_ref].value, ws[percent[1].result_ref].number_format = 0.715, "0.0 %"
    ws[percent[2].result_ref].value, ws[percent[2].result_ref].number_format = 0.5, '0" %"'
    ws[other.result_ref].number_format = "0%"
    original = ws[other.result_ref].value
    wb.save(path)
    wb.close()
    data = read_workbook(path)
    extract = validate_data(data, stfk, SECRET, "f", expected_period=PERIOD)
    entries = sorted(f.cell or "" for f in extract.findings if f.code == "percent-entry")
    assert entries == sorted([percent[0].result_ref, percent[1].result_ref])
    values = {v.indicator: v.value for v in extract.values}
    assert values[percent[0].code] == 68
    assert values[percent[1].code] == 71.5
    assert values[percent[2].code] == 0.5  # a literal "%" in the format is no percent entry
    assert values[other.code] == original  # not a % indicator: the number as it is
