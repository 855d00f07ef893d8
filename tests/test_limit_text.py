"""Targets and limits are written one way (``bms_excel.limit_text``), with the indicator's
decimals, in the unit workbooks and in the master alike."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from bms_excel.limit_text import format_band, format_limit, limits_text, target_text
from bms_excel.model import Indicator, Target
from bms_excel.status import StatusRule

M = "\u2212"  # minus sign


def _ind(decimals: int = 0, measure: str = "") -> Indicator:
    return Indicator(code="X1.1", name="X", unit_of_measure=measure, decimals=decimals)


@pytest.mark.parametrize(
    ("target", "decimals", "measure", "expected"),
    [
        (7, 0, "", "7"),
        ("7-9", 0, "", "7 – 9"),
        ("7–9", 0, "antall", "7 – 9"),
        ({"low": 80, "high": 85}, 0, "%", "80 % – 85 %"),
        ("80 % - 85 %", 0, "", "80 % – 85 %"),
        ("-1 - 1", 0, "", f"{M}1 – 1"),
        ("5 – 4,5", 1, "skår 1–6", "5,0 – 4,5"),  # the order it was written in is kept
        (1234.5, 1, "kr", "1 234,5"),
        (70, 0, "%", "70 %"),
    ],
)
def test_target_text(target: object, decimals: int, measure: str, expected: str) -> None:
    ind = _ind(decimals, measure)
    got = target_text(Target.model_validate(target), ind, "nb")
    assert got.replace("\xa0", " ") == expected


@pytest.mark.parametrize(
    ("rule", "decimals", "measure", "expected"),
    [
        # 90 % of a 4.5 target is 4.05: with one decimal the first yellow value shown is 4,1.
        (("thresholds", "higher", 4.5, 4.05), 1, "", "Grønn ≥ 4,5 · Gul ≥ 4,1"),
        (("thresholds", "lower", 10, 12.34), 0, "dager", "Grønn ≤ 10 · Gul ≤ 12"),
        (("thresholds", "higher", 85, 80), 0, "%", "Grønn ≥ 85 % · Gul ≥ 80 %"),
        (("thresholds", "higher", -1, -2), 0, "", f"Grønn ≥ {M}1 · Gul ≥ {M}2"),
        (("band", "range", 7, 9), 0, "", "Grønn 7 – 9 · Gul ± 1"),
        (("band", "range", -1, 1), 1, "", f"Grønn {M}1,0 – 1,0 · Gul ± 1,0"),
        (("none", "higher", None, None), 0, "", "Kun til oppfølging (uten mål)"),
    ],
)
def test_limits_text(rule: tuple, decimals: int, measure: str, expected: str) -> None:
    kind, direction, a, b = rule
    if kind == "thresholds":
        r = StatusRule(kind, kind, direction, decimals, green=a, yellow=b)
    elif kind == "band":
        r = StatusRule(kind, kind, direction, decimals, low=a, high=b, tolerance=1.0)
    else:
        r = StatusRule("none", "none", direction, decimals)
    assert limits_text(r, _ind(decimals, measure), "nb").replace("\xa0", " ") == expected


def test_bounds_round_towards_the_values_that_meet_them() -> None:
    assert format_limit(4.05, 1, bound="lower") == "4,1"
    assert format_limit(4.05, 1, bound="upper") == "4,0"
    assert format_limit(4.05, 2, bound="lower") == "4,05"
    assert format_limit(-0.01, 0) == "0"
    assert format_band(80, 85, 0, "en", percent=True) == "80 % – 85 %"
    assert format_limit(1234.5, 1, "en") == "1,234.5"


def test_unit_workbook_and_master_show_the_same_text(generated: dict[str, Path]) -> None:
    """Målekort's ambition level column is made by the same function as the master's target."""
    wb = openpyxl.load_workbook(generated["HEIMDAL"])
    try:
        ws = wb["Målekort"]
        shown = [c.value for c in ws["D"] if isinstance(c.value, str) and "–" in c.value]
    finally:
        wb.close()
    assert shown, "the example has band targets"
    assert all(" – " in s and "-" not in s.replace(" – ", "") for s in shown), shown
