"""validate.py: identity from the signed ``_meta``, lazy findings, locating by indicator code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PERIOD, SECRET
from reading import read_workbook

from bms_excel.model import Definition
from bms_excel.validate import a1, identify, parse_a1, validate_data
from bms_excel.validate.scorecard import locate_indicator as _locate_indicator


@pytest.mark.parametrize(("ref", "rc"), [("A1", (1, 1)), ("I9", (9, 9)), ("AA10", (10, 27))])
def test_a1_round_trip(ref: str, rc: tuple[int, int]) -> None:
    assert parse_a1(ref) == rc
    assert a1(*rc) == ref


def test_parse_a1_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_a1("9I")


def test_identity_comes_from_meta_not_the_file_name(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    misnamed = tmp_path / f"{PERIOD}_BYASEN.xlsx"
    misnamed.write_bytes(filled["HEIMDAL"].read_bytes())
    ident, findings = identify(read_workbook(misnamed), stfk, SECRET, misnamed.name, PERIOD)
    assert (ident.unit, ident.period, ident.trusted, findings) == ("HEIMDAL", PERIOD, True, [])


def test_wrong_secret_is_never_trusted(stfk: Definition, filled: dict[str, Path]) -> None:
    data = read_workbook(filled["HEIMDAL"])
    ident, findings = identify(data, stfk, b"another-secret-0123456789abcdef!", "f", PERIOD)
    assert not ident.trusted
    assert [f.code for f in findings] == ["bad-signature"]
    extract = validate_data(data, stfk, b"another-secret-0123456789abcdef!", "f")
    assert (extract.usable, extract.values) == (False, [])


def test_expected_period_is_optional(stfk: Definition, filled: dict[str, Path]) -> None:
    data = read_workbook(filled["HEIMDAL"])
    assert [f.code for f in identify(data, stfk, SECRET, "f", "2026-T1")[1]] == ["wrong-period"]
    assert identify(data, stfk, SECRET, "f", None)[1] == []


def test_lazy_every_problem_in_one_pass(stfk: Definition, filled: dict[str, Path]) -> None:
    data = read_workbook(filled["HEIMDAL"])
    cells = data.values["Målekort"]
    cells[(9, 9)] = "abc"
    cells[(10, 9)] = 99
    cells[(12, 9)] = "70 %"
    del cells[(16, 9)]
    extract = validate_data(data, stfk, SECRET, "f", expected_period=PERIOD)
    assert sorted((f.code, f.cell) for f in extract.findings) == [
        ("missing-value", "I16"),
        ("not-a-number", "I9"),
        ("out-of-range", "I10"),
        ("text-number", "I12"),
    ]


def test_locate_indicator_only_when_unambiguous() -> None:
    cells = {(9, 1): "X", (11, 1): "R1.1"}
    assert _locate_indicator(cells, "R1.1", 9, 1) == (11, 1)
    cells[(40, 3)] = "R1.1"  # the code twice: guessing could read the wrong row
    assert _locate_indicator(cells, "R1.1", 9, 1) is None
    assert _locate_indicator({(9, 1): " R1.1 "}, "R1.1", 9, 1) == (9, 1)


def test_error_cells_are_found_in_the_package_xml() -> None:
    from bms_excel.sheet_scan import error_cells

    blob = (
        b'<worksheet><sheetData><row r="1"><c r="A1" t="e"/>'
        b'<c r="B1" s="2" t="e"><v>#N/A</v></c>'
        b"<x:c r='C1' t='e'><x:f>1/0</x:f><x:v>#DIV/0!</x:v></x:c>"
        b'<c r="D1" t="n"><v>1</v></c><c r="E1" t="s"><v>0</v></c>'
        b'<c r="F1" t="e"><v>&lt;script&gt;</v></c></row></sheetData></worksheet>'
    )
    assert error_cells(blob) == {(1, 2): "#N/A", (1, 3): "#DIV/0!", (1, 6): "#?"}
    assert error_cells(b'<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c>') == {}


def test_an_excel_error_value_is_invalid_as_written_never_missing(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    import openpyxl

    from bms_excel.consolidate import build_long_table

    path = tmp_path / f"{PERIOD}_HEIMDAL.xlsx"
    wb = openpyxl.load_workbook(filled["HEIMDAL"])
    wb["Målekort"]["I9"] = "#DIV/0!"  # openpyxl stores an error code as an error value
    wb.save(path)
    extract = validate_data(read_workbook(path), stfk, SECRET, path.name)
    record = next(v for v in extract.values if v.indicator == "R1.1")
    assert (record.kind, record.raw, record.has_error) == ("invalid", "#DIV/0!", True)
    codes = [(f.code, f.sheet, f.cell) for f in extract.findings if f.severity == "error"]
    assert codes == [("excel-error", "Målekort", "I9")]
    long = build_long_table(stfk, extract.values, PERIOD)
    row = long[(long["unit"] == "HEIMDAL") & (long["indicator"] == "R1.1")].iloc[0]
    assert (row["status"], row["raw"]) == ("invalid", "#DIV/0!")
