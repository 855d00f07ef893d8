"""values.py: what staff type into input cells, read the Norwegian way (Babel ``nb_NO``)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from bms_excel.i18n import catalogue
from bms_excel.values import (
    NOT_APPLICABLE_WORDS,
    ParsedValue,
    format_number,
    is_formula_injection,
    neutralise,
    parse_value,
)

NBSP, NNBSP = "\u00a0", "\u202f"

CASES = [
    # raw, percent, kind, value, code
    (12.5, False, "number", 12.5, None),
    (7, False, "number", 7.0, None),
    (0, False, "number", 0.0, None),
    (Decimal("2.5"), False, "number", 2.5, None),
    (None, False, "missing", None, None),
    ("", False, "missing", None, None),
    ("  \t ", False, "missing", None, None),
    (NBSP + "\u200b", False, "missing", None, None),
    ("i.a.", False, "not-applicable", None, None),
    (" I.A. ", False, "not-applicable", None, None),
    ("ia", False, "not-applicable", None, None),
    ("Ikke aktuelt", False, "not-applicable", None, None),
    ("ikkje  aktuelt", False, "not-applicable", None, None),
    ("-", False, "not-applicable", None, None),
    ("–", False, "not-applicable", None, None),
    ("N/A", False, "not-applicable", None, None),
    ("12,5", False, "number", 12.5, "text-number"),
    ("70", False, "number", 70.0, "text-number"),
    ("70 %", True, "number", 70.0, "text-number"),
    ("70%", True, "number", 70.0, "text-number"),
    (f"70{NBSP}%", True, "number", 70.0, "text-number"),
    ("1 234", False, "number", 1234.0, "text-number"),
    (f"1{NBSP}234", False, "number", 1234.0, "text-number"),
    (f"1{NNBSP}234", False, "number", 1234.0, "text-number"),
    ("1 234,5", False, "number", 1234.5, "text-number"),
    (f"1{NBSP}234{NBSP}567,25", False, "number", 1234567.25, "text-number"),
    ("-3,5", False, "number", -3.5, "text-number"),
    ("\u22123,5", False, "number", -3.5, "text-number"),
    ("+4", False, "number", 4.0, "text-number"),
    ("12.5", False, "number", 12.5, "text-number"),
    (" 0,5 ", False, "number", 0.5, "text-number"),
    ("1.234,5", False, "invalid", None, "not-a-number"),
    ("1.234", False, "invalid", None, "not-a-number"),
    ("1 23", False, "invalid", None, "not-a-number"),
    ("70 %", False, "invalid", None, "not-a-number"),
    ("abc", False, "invalid", None, "not-a-number"),
    ("12 kr", False, "invalid", None, "not-a-number"),
    ("1e5", False, "invalid", None, "not-a-number"),
    ("nan", False, "invalid", None, "not-a-number"),
    ("inf", False, "invalid", None, "not-a-number"),
    ("1_000", False, "invalid", None, "not-a-number"),
    ("\u0661\u0662", False, "invalid", None, "not-a-number"),
    ("12,5,3", False, "invalid", None, "not-a-number"),
    ("%", True, "invalid", None, "not-a-number"),
    (True, False, "invalid", None, "not-a-number"),
    (float("nan"), False, "invalid", None, "not-a-number"),
    (dt.date(2026, 4, 30), False, "invalid", None, "not-a-number"),
]


@pytest.mark.parametrize(("raw", "percent", "kind", "value", "code"), CASES)
def test_parse_value_table(
    raw: object, percent: bool, kind: str, value: float | None, code: str | None
) -> None:
    parsed = parse_value(raw, percent=percent)
    assert (parsed.kind, parsed.value, parsed.code) == (kind, value, code)


def test_text_is_kept_verbatim_and_the_message_names_what_was_read() -> None:
    parsed = parse_value("1 234,5")
    assert parsed.text == "1 234,5"
    assert parsed.message("en") == (
        "The number was typed as text ('1 234,5') and was read as 1\u00a0234,5. "
        "Check the value, and type plain numbers next time."
    )
    assert parse_value(5.0).message() is None


def test_every_reason_is_in_the_catalogue() -> None:
    samples = ["12,5", "abc", "70 %", "1.234", True, dt.date(2026, 1, 1)]
    reasons = {parse_value(s).reason for s in samples}
    assert len(reasons) == 6
    assert reasons <= set(catalogue())


def test_not_applicable_words_are_normalised() -> None:
    assert all(w == w.strip().casefold() for w in NOT_APPLICABLE_WORDS)


@pytest.mark.parametrize(
    ("text", "injection"),
    [
        ('=HYPERLINK("http://x")', True),
        ("+1+cmd|' /C calc'!A0", True),
        ("-2+3", True),
        ("@SUM(A1)", True),
        ("\t=1+1", True),
        ("\r@x", True),
        ("\t-3,5", True),
        ("-3,5", False),
        ("\u22123,5", False),
        ("+4", False),
        ("-", False),
        ("God utvikling", False),
        ("", False),
        ("a=b", False),
    ],
)
def test_formula_injection(text: str, injection: bool) -> None:
    assert is_formula_injection(text) is injection
    assert neutralise(text) == ("'" + text if injection else text)


@given(st.one_of(st.text(), st.none(), st.integers(), st.floats(), st.booleans(), st.binary()))
def test_parse_value_never_raises(raw: object) -> None:
    parsed = parse_value(raw)
    assert isinstance(parsed, ParsedValue)
    assert (parsed.value is not None) == (parsed.kind == "number")
    if parsed.value is not None:
        assert math.isfinite(parsed.value)


@given(st.text())
def test_accepted_text_round_trips(text: str) -> None:
    parsed = parse_value(text, percent=True)
    if parsed.kind == "number":
        assert parsed.value is not None
        again = parse_value(format_number(parsed.value))
        assert again.value == parsed.value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_pass_unchanged_and_their_norwegian_text_parses_back(value: float) -> None:
    assert parse_value(value) == ParsedValue("number", value)
    text = format_number(value)  # Babel format_decimal(locale="nb_NO"), unquantized
    assert parse_value(text).value == value


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9
    )
)
def test_formatted_numbers_parse_back_with_default_babel_format(value: Decimal) -> None:
    text = format_decimal(value, locale="nb_NO")
    assert parse_value(text).value == float(value)
