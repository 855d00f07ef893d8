"""Tests for the pure status engine (bms_excel.status): rules, rounding, scores, roll-up, trend."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from helpers import status_from_label
from hypothesis import assume, given
from hypothesis import strategies as st

from bms_excel.model import Indicator, Settings, Target, TargetOverride, Thresholds, Unit
from bms_excel.status import (
    NOT_APPLICABLE_WORDS,
    Status,
    StatusRule,
    Trend,
    classify_input,
    direction_of_travel,
    evaluate,
    excel_score_formula,
    excel_status_formula,
    resolve_rule,
    rollup,
    round_displayed,
    score,
    status_from_score,
    status_label,
)

SETTINGS = Settings()
RANK = {Status.RED: 0, Status.YELLOW: 1, Status.GREEN: 2}
NO_COLOUR = (Status.MISSING, Status.NOT_APPLICABLE, Status.INVALID, Status.NO_TARGET)


def ind(**kw: object) -> Indicator:
    """An indicator with defaults for the fields a test does not care about."""
    return Indicator.model_validate({"code": "R1.1", "name": "Indikator", **kw})


def thresholds(green: float, yellow: float, direction: str = "higher", decimals: int = 0):
    """A thresholds rule built directly."""
    return StatusRule("thresholds", "thresholds", direction, decimals, green=green, yellow=yellow)  # type: ignore[arg-type]


def band(low: float, high: float, tolerance: float = 0.0, decimals: int = 0) -> StatusRule:
    """A band rule built directly."""
    return StatusRule("band", "band", "range", decimals, low=low, high=high, tolerance=tolerance)


# -- vendor vectors (real-scorecards.md §G) ----------------------------------------------------


def test_clearpoint_percent_of_target() -> None:
    rule = resolve_rule(ind(target=100), SETTINGS)
    assert (rule.kind, rule.origin, rule.direction) == ("thresholds", "percent_of_target", "higher")
    assert (rule.green, rule.yellow) == (100.0, 90.0)
    assert [evaluate(rule, v) for v in (100, 95, 89)] == [Status.GREEN, Status.YELLOW, Status.RED]
    assert [score(rule, v) for v in (100, 95, 89, 120)] == [100.0, 75.0, 45.0, 100.0]


def test_spider_goal_and_red_flag_scores() -> None:
    rule = thresholds(700, 500)
    assert [score(rule, v) for v in (300, 500, 600, 700, 900)] == [0.0, 50.0, 75.0, 100.0, 100.0]
    assert [evaluate(rule, v) for v in (499, 500, 699, 700)] == [
        Status.RED,
        Status.YELLOW,
        Status.YELLOW,
        Status.GREEN,
    ]


def test_spider_higher_is_worse_inverts_colours() -> None:
    rule = thresholds(500, 700, "lower")
    assert [evaluate(rule, v) for v in (400, 500, 600, 700, 701)] == [
        Status.GREEN,
        Status.GREEN,
        Status.YELLOW,
        Status.YELLOW,
        Status.RED,
    ]
    assert [score(rule, v) for v in (600, 700, 800, 900)] == [75.0, 50.0, 25.0, 0.0]


def test_spider_example_thresholds_yellow_between() -> None:
    rule = thresholds(260_000, 255_000)
    assert evaluate(rule, 257_500) is Status.YELLOW
    assert score(rule, 257_500) == 75.0


def test_qpr_parent_of_children_10_and_5() -> None:
    assert rollup([(100.0, 1), (50.0, 1)]) == 75.0


# -- rounding as displayed -----------------------------------------------------------------


def test_value_shown_as_15_is_coloured_as_15() -> None:
    rule = thresholds(15, 10)
    assert evaluate(rule, 14.6) is Status.GREEN
    assert score(rule, 14.6) == 100.0
    assert evaluate(rule, 14.4) is Status.YELLOW
    assert score(rule, 14.4) == 90.0
    assert evaluate(rule, 14.5) is Status.GREEN  # half away from zero, like Excel ROUND
    assert evaluate(thresholds(15, 10, decimals=1), 14.96) is Status.GREEN
    assert evaluate(thresholds(15, 10, decimals=1), 14.94) is Status.YELLOW


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (14.6, 0, 15.0),
        (14.5, 0, 15.0),
        (-14.5, 0, -15.0),
        (0.285, 2, 0.29),  # binary 0.28499999999999998; Excel shows and ROUNDs 0.29
        (1.005, 2, 1.01),
        (2.675, 2, 2.68),
        (0.1 + 0.2, 1, 0.3),
        (1234567.891, 2, 1234567.89),
        (1e20, 2, 1e20),
        (7.0, 3, 7.0),
    ],
)
def test_round_displayed(value: float, decimals: int, expected: float) -> None:
    assert round_displayed(value, decimals) == expected


def test_round_displayed_never_gives_negative_zero() -> None:
    assert math.copysign(1.0, round_displayed(-0.4, 0)) == 1.0


# -- classification: missing, not applicable, invalid, no target ---------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, Status.MISSING),
        ("", Status.MISSING),
        ("   ", Status.MISSING),
        ("\t\n", Status.MISSING),
        ("i.a.", Status.NOT_APPLICABLE),
        (" I.A. ", Status.NOT_APPLICABLE),
        ("IKKE AKTUELT", Status.NOT_APPLICABLE),
        ("ikke   aktuelt", Status.NOT_APPLICABLE),  # Excel TRIM collapses inner spaces
        ("Ikkje aktuelt", Status.NOT_APPLICABLE),
        ("-", Status.NOT_APPLICABLE),
        ("N/A", Status.NOT_APPLICABLE),
        ("ia", Status.NOT_APPLICABLE),
        ("abc", Status.INVALID),
        ("12,5", Status.INVALID),  # Norwegian text numbers are parsed by the validator
        ("0", Status.INVALID),
        (True, Status.INVALID),
        (float("nan"), Status.INVALID),
        (float("inf"), Status.INVALID),
        (0, 0.0),
        (12, 12.0),
        (-3.5, -3.5),
        (Decimal("2.5"), 2.5),
    ],
)
def test_classify_input(raw: object, expected: float | Status) -> None:
    result = classify_input(raw)
    assert result == expected
    assert type(result) is type(expected)


def test_not_applicable_words_are_lower_case_and_trimmed() -> None:
    assert all(w == w.strip().lower() and w for w in NOT_APPLICABLE_WORDS)
    assert {"i.a.", "ikke aktuelt", "ikkje aktuelt", "-", "–", "—", "n/a", "ia"} == set(
        NOT_APPLICABLE_WORDS
    )


def test_missing_not_applicable_invalid_and_no_target_are_never_coloured() -> None:
    rule = thresholds(0, -10)  # 0 would be green: blank must not be
    assert evaluate(rule, 0.0) is Status.GREEN
    assert evaluate(rule, None) is Status.MISSING
    assert evaluate(rule, classify_input("")) is Status.MISSING
    assert evaluate(rule, classify_input("i.a.")) is Status.NOT_APPLICABLE
    assert evaluate(rule, classify_input("abc")) is Status.INVALID
    for value in (None, Status.MISSING, Status.NOT_APPLICABLE, Status.INVALID):
        assert score(rule, value) is None
    monitoring = resolve_rule(ind(), SETTINGS)
    assert monitoring.kind == "none"
    assert evaluate(monitoring, 42.0) is Status.NO_TARGET
    assert score(monitoring, 42.0) is None
    assert evaluate(monitoring, None) is Status.MISSING
    assert evaluate(monitoring, Status.INVALID) is Status.INVALID


# -- resolve_rule ---------------------------------------------------------------------------


def test_tonsberg_descending_band_on_1_to_6_scale() -> None:
    target = Target.model_validate("5 – 4,5")
    rule = resolve_rule(ind(target=target, decimals=1), SETTINGS)
    assert (rule.kind, rule.origin, rule.green, rule.yellow) == ("thresholds", "band", 5.0, 4.5)
    values = (5.0, 4.96, 4.8, 4.45, 4.44, 3.0)
    assert [evaluate(rule, v) for v in values] == [
        Status.GREEN,
        Status.GREEN,
        Status.YELLOW,
        Status.YELLOW,
        Status.RED,
        Status.RED,
    ]
    assert score(rule, 4.75) == 80.0  # shown as 4.8
    assert score(rule, 4.7) == 70.0
    lower = resolve_rule(ind(target=target, direction="lower", decimals=1), SETTINGS)
    assert (lower.green, lower.yellow) == (4.5, 5.0)


def test_lower_is_better_response_time() -> None:
    rule = resolve_rule(ind(target=30, direction="lower", yellow_percent=80), SETTINGS)
    assert (rule.green, rule.yellow, rule.origin) == (30.0, 36.0, "percent_of_target")
    values = (12, 30, 30.4, 30.6, 36, 36.4, 36.5, 50)
    assert [evaluate(rule, v) for v in values] == [
        Status.GREEN,
        Status.GREEN,
        Status.GREEN,
        Status.YELLOW,
        Status.YELLOW,
        Status.YELLOW,
        Status.RED,
        Status.RED,
    ]
    assert score(rule, 33) == 75.0
    assert score(rule, 42) == 0.0


def test_percent_of_target_limits_are_rounded_literals() -> None:
    rule = resolve_rule(ind(target=15.5), SETTINGS)
    assert rule.yellow == 13.95  # 15.5 * 0.9 == 13.950000000000001 in binary
    lower = resolve_rule(ind(target=36, direction="lower", yellow_percent=80), SETTINGS)
    assert lower.yellow == 43.2  # 36 * 1.2 == 43.199999999999996
    assert resolve_rule(ind(target=100), Settings(yellow_percent=80)).yellow == 80.0
    assert (
        resolve_rule(ind(target=100, yellow_percent=95), Settings(yellow_percent=80)).yellow == 95
    )


def test_percent_of_negative_target_keeps_yellow_on_the_worse_side() -> None:
    higher = resolve_rule(ind(target=-10), SETTINGS)
    assert (higher.green, higher.yellow) == (-10.0, -11.0)
    lower = resolve_rule(ind(target=-10, direction="lower"), SETTINGS)
    assert (lower.green, lower.yellow) == (-10.0, -9.0)


def test_explicit_thresholds_win_over_target() -> None:
    rule = resolve_rule(ind(target=100, thresholds={"green": 95, "yellow": 80}), SETTINGS)
    assert (rule.kind, rule.origin, rule.green, rule.yellow) == ("thresholds", "thresholds", 95, 80)


def test_range_direction_gives_band() -> None:
    rule = resolve_rule(ind(direction="range", target="40 – 50", tolerance=5), SETTINGS)
    assert (rule.kind, rule.low, rule.high, rule.tolerance) == ("band", 40.0, 50.0, 5.0)
    values = (39.5, 50.4, 37.4, 35, 34, 56, 60, 30)
    assert [evaluate(rule, v) for v in values] == [
        Status.GREEN,
        Status.GREEN,
        Status.YELLOW,
        Status.YELLOW,
        Status.RED,
        Status.RED,
        Status.RED,
        Status.RED,
    ]
    assert [score(rule, v) for v in values] == [100.0, 100.0, 70.0, 50.0, 40.0, 40.0, 0.0, 0.0]


def test_range_with_single_value_is_band_of_width_zero() -> None:
    rule = resolve_rule(ind(direction="range", target=100), SETTINGS)
    assert (rule.kind, rule.low, rule.high, rule.tolerance) == ("band", 100.0, 100.0, 0.0)
    assert [evaluate(rule, v) for v in (100, 100.4, 99.5, 101)] == [
        Status.GREEN,
        Status.GREEN,
        Status.GREEN,
        Status.RED,
    ]
    assert score(rule, 101) == 0.0


def test_explicit_status_rules_are_honoured() -> None:
    assert resolve_rule(ind(target=80, status_rule="none"), SETTINGS).kind == "none"
    banded = resolve_rule(ind(target=80, status_rule="band", tolerance=2), SETTINGS)
    assert (banded.kind, banded.direction, banded.low, banded.high) == ("band", "higher", 80, 80)
    percent = resolve_rule(
        ind(target=80, thresholds={"green": 1, "yellow": 0}, status_rule="percent_of_target"),
        SETTINGS,
    )
    assert (percent.origin, percent.green, percent.yellow) == ("percent_of_target", 80, 72)
    from_band = resolve_rule(ind(target="70 - 80", status_rule="thresholds"), SETTINGS)
    assert (from_band.green, from_band.yellow) == (80, 70)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"target": "70 - 80", "status_rule": "percent_of_target"}, "single target value"),
        ({"target": 80, "status_rule": "thresholds"}, "needs thresholds or a target band"),
        ({"thresholds": {"green": 1, "yellow": 0}, "direction": "range"}, "needs a target"),
        ({"status_rule": "band"}, "needs a target"),
        ({"target": 80, "direction": "range", "status_rule": "thresholds"}, "direction 'range'"),
        ({"thresholds": {"green": 1, "yellow": 5}}, "disagree with direction"),
        ({"thresholds": {"green": 5, "yellow": 1}, "direction": "lower"}, "disagree"),
    ],
)
def test_impossible_combinations_raise(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=rf"^indicator R1\.1: .*{fragment}"):
        resolve_rule(ind(**fields), SETTINGS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "thresholds", "green": 1.0},
        {"kind": "thresholds", "green": 1.0, "yellow": 2.0},
        {"kind": "thresholds", "green": 1.0, "yellow": 0.0, "direction": "range"},
        {"kind": "thresholds", "green": math.inf, "yellow": 0.0},
        {"kind": "band", "low": 2.0, "high": 1.0, "direction": "range"},
        {"kind": "band", "low": 1.0, "direction": "range"},
        {"kind": "band", "low": 1.0, "high": 2.0, "tolerance": -1.0, "direction": "range"},
        {"kind": "none", "decimals": 10},
    ],
)
def test_status_rule_rejects_inconsistent_rules(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"origin": "none", "direction": "higher", "decimals": 0}
    with pytest.raises(ValueError):
        StatusRule(**{**base, **kwargs})  # type: ignore[arg-type]


def test_overrides_unit_beats_sector_beats_general_and_period_specific() -> None:
    indicator = ind(
        target=80,
        overrides=[
            TargetOverride(sector="OPP", target=Target(value=70)),
            TargetOverride(sector="OPP", period="2026-T2", target=Target(value=65)),
            TargetOverride(unit="S1", target=Target(value=60)),
            TargetOverride(period="2026", thresholds=Thresholds(green=90, yellow=50)),
        ],
    )
    s1 = Unit(code="S1", name="Skole 1", sector="OPP")
    s2 = Unit(code="S2", name="Skole 2", sector="OPP")
    roads = Unit(code="V1", name="Vegavdelingen", sector="SAM")
    greens = {
        (u.code if u else None, p): resolve_rule(indicator, SETTINGS, u, p).green
        for u in (s1, s2, roads, None)
        for p in (None, "2026-T2")
    }
    assert greens == {
        ("S1", None): 60,
        ("S1", "2026-T2"): 60,
        ("S2", None): 70,
        ("S2", "2026-T2"): 65,
        ("V1", None): 80,
        ("V1", "2026-T2"): 80,
        (None, None): 80,
        (None, "2026-T2"): 80,
    }
    annual = resolve_rule(indicator, SETTINGS, roads, "2026")
    assert (annual.origin, annual.green, annual.yellow) == ("thresholds", 90, 50)
    assert evaluate(resolve_rule(indicator, SETTINGS, s1), 61) is Status.GREEN
    assert evaluate(resolve_rule(indicator, SETTINGS, roads), 61) is Status.RED


# -- scores, roll-up ------------------------------------------------------------------------


def test_degenerate_thresholds_score_all_or_nothing() -> None:
    rule = thresholds(10, 10)
    assert [evaluate(rule, v) for v in (9, 10)] == [Status.RED, Status.GREEN]
    assert [score(rule, v) for v in (9, 10, -100)] == [0.0, 100.0, 0.0]


def test_yellow_score_stays_below_100_and_red_below_50() -> None:
    rule = thresholds(15.00000000001, 10, decimals=0)  # 50 + 50*5/5.00000000001 rounds to 100
    assert evaluate(rule, 15) is Status.YELLOW
    assert score(rule, 15) == 99.999999999
    red = thresholds(1e6, 10.0000000001)
    assert evaluate(red, 10) is Status.RED
    assert score(red, 10) == 49.999999999


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, Status.GREEN),
        (99.9999999996, Status.GREEN),
        (99.999999999, Status.YELLOW),
        (50.0, Status.YELLOW),
        (49.999999999, Status.RED),
        (0.0, Status.RED),
        (None, Status.MISSING),
    ],
)
def test_status_from_score(value: float | None, expected: Status) -> None:
    assert status_from_score(value) is expected


def test_status_from_score_custom_limits() -> None:
    assert status_from_score(80, green_at=80, yellow_at=60) is Status.GREEN
    assert status_from_score(70, green_at=80, yellow_at=60) is Status.YELLOW
    assert status_from_score(59, green_at=80, yellow_at=60) is Status.RED


def test_rollup_weighted_mean_ignores_missing() -> None:
    assert rollup([(100.0, 3), (0.0, 1)]) == 75.0
    assert rollup([(100.0, 3), (None, 5), (0.0, 1)]) == 75.0
    assert rollup([(None, 1), (None, 2)]) is None
    assert rollup([]) is None
    assert rollup([(80.0, 0)]) is None
    assert rollup([(0.0, 1)]) == 0.0  # a real 0 counts
    with pytest.raises(ValueError):
        rollup([(50.0, -1)])


_SCORES = st.one_of(st.none(), st.floats(0, 100), st.floats(0, 1e300), st.integers(0, 100))
_WEIGHTS = st.one_of(st.floats(0, 1e6), st.integers(0, 10), st.sampled_from([0.1, 1 / 3, 5e-324]))


@given(st.lists(st.tuples(_SCORES, _WEIGHTS), max_size=8))
def test_rollup_is_the_exact_weighted_mean_correctly_rounded(
    children: list[tuple[float | None, float]],
) -> None:
    """The integer arithmetic of ``rollup`` gives what exact rational arithmetic gives."""
    scored = [(s, w) for s, w in children if s is not None]
    total = sum((Fraction(w) for _, w in scored), Fraction(0))
    expected = (
        None
        if total <= 0
        else float(sum((Fraction(s) * Fraction(w) for s, w in scored), Fraction(0)) / total)
    )
    assert rollup(children) == expected


def test_score_of_every_colour_maps_back_to_the_colour() -> None:
    rule = resolve_rule(ind(target=100), SETTINGS)
    for value in (0, 50, 89.5, 90, 99.4, 99.5, 150):
        assert status_from_score(score(rule, value)) is evaluate(rule, value)


# -- direction of travel --------------------------------------------------------------------


def test_direction_of_travel() -> None:
    higher = thresholds(15, 10)
    lower = thresholds(10, 15, "lower")
    rng = band(40, 50, 5, decimals=1)
    assert direction_of_travel(higher, 12, 10) is Trend.IMPROVED
    assert direction_of_travel(higher, 10, 12) is Trend.WORSENED
    assert direction_of_travel(higher, 14.6, 15.4) is Trend.UNCHANGED  # both shown as 15
    assert direction_of_travel(lower, 10, 12) is Trend.IMPROVED
    assert direction_of_travel(lower, 12, 10) is Trend.WORSENED
    assert direction_of_travel(rng, 38, 35) is Trend.IMPROVED
    assert direction_of_travel(rng, 52, 35) is Trend.IMPROVED
    assert direction_of_travel(rng, 55.1, 45) is Trend.WORSENED
    assert direction_of_travel(rng, 42, 48) is Trend.UNCHANGED  # both inside
    assert direction_of_travel(rng, 38, 52) is Trend.UNCHANGED  # both 2 away
    assert direction_of_travel(band(0.3, 0.5, decimals=1), 0.1, 0.7) is Trend.UNCHANGED
    assert direction_of_travel(higher, None, 10) is None
    assert direction_of_travel(higher, 10, Status.NOT_APPLICABLE) is None
    monitoring = StatusRule("none", "none", "lower", 0)
    assert direction_of_travel(monitoring, 3, 4) is Trend.IMPROVED
    assert direction_of_travel(StatusRule("none", "none", "range", 0), 3, 4) is None


# -- labels and formulas --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_labels_round_trip(lang: str) -> None:
    labels = {status_label(s, lang) for s in Status}
    assert len(labels) == len(Status)
    for s in Status:
        assert status_from_label(status_label(s, lang), lang) is s
        assert status_from_label(f" {status_label(s, lang).upper()} ", lang) is s


def test_labels_and_unknown_label() -> None:
    assert status_label(Status.GREEN) == "Grønn"
    assert status_label(Status.NOT_APPLICABLE, "en") == "Not applicable"
    with pytest.raises(ValueError):
        status_from_label("Blå")


def test_formulas_use_literals_refs_and_stay_short() -> None:
    rule = thresholds(-5, -7.25, decimals=2)
    f = excel_status_formula(rule, "E7")
    assert f.startswith("=IF(ISNUMBER(E7),IF(ROUND(E7,2)>=(-5),")
    assert ">=(-7.25)," in f
    assert ";" not in f
    tiny = excel_score_formula(thresholds(1e-05, 0, decimals=6), "E7")
    assert ">=1E-05," in tiny
    with_refs = excel_status_formula(rule, "E7", refs={"green": "$G$7", "yellow": "$H$7"})
    assert ">=$G$7," in with_refs and ">=$H$7," in with_refs and "(-5)" not in with_refs
    assert excel_score_formula(StatusRule("none", "none", "higher", 0), "E7") == '=""'
    long_ref = "'Målekort for en svært lang enhet'!$E$1048576"
    for r in (rule, band(0.1, 0.3, 0.2, decimals=2)):
        assert len(excel_status_formula(r, long_ref, "nn")) < 8192
        assert len(excel_score_formula(r, long_ref, {"low": "$I$1", "tolerance": "$K$1"})) < 8192
    with pytest.raises(ValueError, match="unknown refs"):
        excel_status_formula(rule, "E7", refs={"target": "$A$1"})


# -- properties -----------------------------------------------------------------------------

limits = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 3))
values = st.floats(min_value=-2e6, max_value=2e6, allow_nan=False, allow_subnormal=False)
decimals = st.integers(min_value=0, max_value=4)


@st.composite
def threshold_rules(draw: st.DrawFn) -> StatusRule:
    """A consistent thresholds rule in either direction."""
    a, b = sorted([draw(limits), draw(limits)])
    direction = draw(st.sampled_from(["higher", "lower"]))
    green, yellow = (b, a) if direction == "higher" else (a, b)
    return thresholds(green, yellow, direction, draw(decimals))


@st.composite
def band_rules(draw: st.DrawFn) -> StatusRule:
    """A band rule with integer limits and tolerance (so exact distances are easy to state)."""
    low = draw(st.integers(-1000, 1000))
    width = draw(st.integers(0, 100))
    tolerance = draw(st.integers(0, 50))
    return band(low, low + width, tolerance, draw(decimals))


any_rule = st.one_of(
    threshold_rules(),
    band_rules(),
    st.builds(StatusRule, st.just("none"), st.just("none"), st.just("higher"), decimals),
)


@given(threshold_rules(), values, values)
def test_thresholds_status_and_score_are_monotone(rule: StatusRule, a: float, b: float) -> None:
    lo, hi = sorted([a, b])
    if rule.direction == "lower":
        lo, hi = hi, lo  # from worse to better
    assert RANK[evaluate(rule, lo)] <= RANK[evaluate(rule, hi)]
    s_lo, s_hi = score(rule, lo), score(rule, hi)
    assert s_lo is not None and s_hi is not None
    assert 0 <= s_lo <= s_hi <= 100
    assert status_from_score(s_lo) is evaluate(rule, lo)


@given(band_rules(), st.lists(values, min_size=2, max_size=6))
def test_band_status_and_score_fall_with_distance(rule: StatusRule, xs: list[float]) -> None:
    assert rule.low is not None and rule.high is not None

    def distance(x: float) -> Decimal:
        shown = Decimal(repr(round_displayed(x, rule.decimals)))
        return max(Decimal(repr(rule.low)) - shown, shown - Decimal(repr(rule.high)), Decimal(0))

    ordered = sorted(xs, key=distance)
    for near, far in itertools.pairwise(ordered):
        if distance(near) == distance(far):
            continue
        assert RANK[evaluate(rule, near)] >= RANK[evaluate(rule, far)]
        s_near, s_far = score(rule, near), score(rule, far)
        assert s_near is not None and s_far is not None
        assert s_near >= s_far
        assert status_from_score(s_far) is evaluate(rule, far)


@given(any_rule, st.sampled_from([None, "", " ", "\t", Status.MISSING]))
def test_blank_never_counts_as_zero(rule: StatusRule, blank: object) -> None:
    status = evaluate(rule, classify_input(blank))
    assert status is Status.MISSING
    assert status is not evaluate(rule, 0.0)
    assert score(rule, classify_input(blank)) is None
    assert (score(rule, 0.0) is None) == (rule.kind == "none")


scores = st.floats(min_value=0, max_value=100, allow_nan=False)
weights = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
children = st.lists(st.tuples(scores, weights), min_size=1, max_size=12)


@given(scores, weights, st.integers(1, 30))
def test_rollup_of_identical_children_is_the_child(s: float, w: float, n: int) -> None:
    assert rollup([(s, w)] * n) == s


@given(children, st.lists(weights, max_size=5), st.randoms(use_true_random=False))
def test_rollup_ignores_none_and_order(kids: list[tuple[float, float]], none_weights, rnd) -> None:
    mixed: list[tuple[float | None, float]] = [*kids, *((None, w) for w in none_weights)]
    rnd.shuffle(mixed)
    result = rollup(mixed)
    assert result == rollup(kids)
    assert result == rollup(list(reversed(kids)))
    assert result is not None
    assert min(s for s, _ in kids) <= result <= max(s for s, _ in kids)


@given(threshold_rules(), values)
def test_no_colour_status_has_no_score(rule: StatusRule, x: float) -> None:
    assume(math.isfinite(x))
    for status in NO_COLOUR[:3]:
        assert score(rule, status) is None
    assert evaluate(rule, x) in RANK
