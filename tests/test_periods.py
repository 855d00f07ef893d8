"""bms_excel.periods: the one period-code pattern, chronological order and counting back."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from bms_excel.model import Period
from bms_excel.periods import is_period_code, period_sort_key, previous_periods

GOOD = ["2026", "2026-T1", "2026-T3", "2026-Q4", "2026-M01", "2026-M12"]
BAD = ["26", "2026-T4", "2026-T0", "2026-Q5", "2026-M13", "2026-M1", "2026T1", "2026-t1", ""]


@pytest.mark.parametrize("code", GOOD)
def test_good_codes_pass_here_and_in_the_definition(code: str) -> None:
    assert is_period_code(code)
    day = dt.date(2026, 1, 1)
    assert Period(code=code, label=code, end=day, deadline=day).code == code


@pytest.mark.parametrize("code", BAD)
def test_bad_codes_fail_here_and_in_the_definition(code: str) -> None:
    assert not is_period_code(code)
    day = dt.date(2026, 1, 1)
    with pytest.raises(ValidationError):
        Period(code=code, label=code, end=day, deadline=day)


def test_chronological_order() -> None:
    codes = ["2026", "2026-T3", "2025-T2", "2026-T1", "2026-Q2", "2026-M05", "2025"]
    assert sorted(codes, key=period_sort_key) == [
        "2025-T2",
        "2025",
        "2026-T1",
        "2026-M05",
        "2026-Q2",
        "2026-T3",
        "2026",
    ]


def test_previous_periods_cross_the_year() -> None:
    assert previous_periods("2026-T2", 3) == ("2025-T2", "2025-T3", "2026-T1")
    assert previous_periods("2026-M02", 2) == ("2025-M12", "2026-M01")
    assert previous_periods("2026", 2) == ("2024", "2025")
    assert previous_periods("2026-T2", 2, ["2025-T3", "2025", "2026-T1", "2026-T2"]) == (
        "2025",
        "2026-T1",
    )
