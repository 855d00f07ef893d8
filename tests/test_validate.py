"""validate.py: identity from the signed ``_meta``, lazy findings, locating by indicator code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PERIOD, SECRET

from bms_excel.model import Definition
from bms_excel.reader import read_workbook
from bms_excel.validate import _locate_indicator, a1, identify, parse_a1, validate_data


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
