"""The in-memory package writer writes exactly the parts openpyxl's own save writes."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
from conftest import history_from_rows
from helpers import load_example_history
from openpyxl.styles import Font

from bms_excel.examples import load_example_definition
from bms_excel.generate import WorkbookWriter
from bms_excel.xlsx.cached_formula import ErrorValue, Formula, fill_results, sheet_results
from bms_excel.xlsx.package import PartCache, sheet_data, workbook_bytes

SECRET = b"test-secret-0123456789abcdef0123456789"
_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>")


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    # openpyxl's save stamps the time of saving; ours keeps the run's time.
    parts["docProps/core.xml"] = _MODIFIED.sub(b"", parts["docProps/core.xml"])
    return parts


def test_every_part_of_every_example_workbook_is_what_openpyxl_writes() -> None:
    definition = load_example_definition("stfk")
    history = history_from_rows(load_example_history("stfk"))
    writer = WorkbookWriter(definition, "2026-T1", secret=SECRET, history=history, lang="nn")
    # Twice round: the second pass reuses cached frames of sheets laid out the same way.
    units = list(definition.units) * 2
    for i, unit in enumerate(units):
        wb, _ = writer.fill(unit)
        ours = workbook_bytes(wb, writer.parts)
        buffer = io.BytesIO()
        wb.save(buffer)
        if i == 0:
            # openpyxl's first save of a sheet lacks the outlineLevelCol="0" of later saves
            # (it is set while writing <cols>); from the second workbook on both agree.
            continue
        theirs, mine = _parts(buffer.getvalue()), _parts(ours)
        assert list(mine) == list(theirs), unit.code
        results = {ws.path.lstrip("/"): sheet_results(ws._cells) for ws in wb.worksheets}
        filled = 0
        for name in theirs:
            # openpyxl writes formulas without results; ours carry them.
            expected = fill_results(theirs[name], results.get(name, {}))
            filled += expected != theirs[name]
            assert mine[name] == expected, (unit.code, name)
        assert filled == 2  # Målekort and Kontroll


def test_sheet_data_matches_openpyxl_for_awkward_text_and_falls_back_for_dates() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = " lead & <tag> \r\n\tæøå – 😀 "
    ws["B1"] = "=SUM(C1:C2)"
    ws["C1"], ws["D1"], ws["E1"] = 1.5, True, "#N/A"
    ws["A2"].font = Font(bold=True)  # styled, empty
    ws.row_dimensions[4].height = 30  # a row with a height and no cells
    ours = workbook_bytes(wb, PartCache())
    buffer = io.BytesIO()
    wb.save(buffer)
    assert (
        _parts(ours)["xl/worksheets/sheet1.xml"]
        == _parts(buffer.getvalue())["xl/worksheets/sheet1.xml"]
    )
    ws["F1"] = dt.date(2026, 4, 30)
    assert sheet_data(ws) is None  # dates go through openpyxl's own writer
    assert zipfile.ZipFile(io.BytesIO(workbook_bytes(wb))).testzip() is None


def test_formula_results_are_written_as_cached_values_by_both_row_writers() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    results: dict[str, object] = {
        "A1": "Grønn & <rød>",
        "B1": 92.857142857,
        "C1": 0,
        "D1": True,
        "E1": ErrorValue("#DIV/0!"),
        "F1": "",
        "G1": None,
    }
    for ref, result in results.items():
        ws[ref] = "=1"
        ws[ref]._value = Formula(f'=IF(A2<1,"x&y",{ref[0]}3)', result)
    expected = (
        b'<c r="A1" t="str"><f>IF(A2&lt;1,"x&amp;y",A3)</f><v>Gr&#248;nn &amp; &lt;r&#248;d&gt;</v></c>'
        b'<c r="B1"><f>IF(A2&lt;1,"x&amp;y",B3)</f><v>92.857142857</v></c>'
        b'<c r="C1"><f>IF(A2&lt;1,"x&amp;y",C3)</f><v>0</v></c>'
        b'<c r="D1" t="b"><f>IF(A2&lt;1,"x&amp;y",D3)</f><v>1</v></c>'
        b'<c r="E1" t="e"><f>IF(A2&lt;1,"x&amp;y",E3)</f><v>#DIV/0!</v></c>'
        b'<c r="F1" t="str"><f>IF(A2&lt;1,"x&amp;y",F3)</f><v></v></c>'
        b'<c r="G1"><f>IF(A2&lt;1,"x&amp;y",G3)</f><v></v></c>'
    )
    fast = _parts(workbook_bytes(wb))["xl/worksheets/sheet1.xml"]
    assert expected in fast
    ws["A5"] = dt.date(2026, 4, 30)  # openpyxl's own writer, results filled in afterwards
    assert sheet_data(ws) is None
    slow = _parts(workbook_bytes(wb))["xl/worksheets/sheet1.xml"]
    assert expected in slow
