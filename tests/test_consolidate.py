"""Consolidation: the long table, county values, roll-ups and trends against hand-computed numbers.

Four units: A and B in sector S1, C and D in S2; D delivers nothing. B reports "i.a." for
I_MEAN; C's I_WMEAN has an error finding; A's I_MON is not a number. Every expected number
below is worked out by hand in the comments, never by calling the code under test.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from consolidated import consolidate_values
from history_helpers import import_history_csv
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_excel.consolidate import (
    LONG_COLUMNS,
    aggregate_county,
    build_long_table,
    excluded_values,
    previous_period,
    rollup_county,
    rollup_scores,
    trend,
)
from bms_excel.definition import load_definition
from bms_excel.history import open_history
from bms_excel.i18n import get_language, set_language
from bms_excel.model import Definition
from bms_excel.records import ValueRecord

PERIOD, BEFORE = "2026-T2", "2026-T1"


def ind(code: str, aggregation: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Indikator {code}", "aggregation": aggregation, **extra}


DEFINITION = Definition.model_validate(
    {
        "county": {"code": "TF", "name": "Testfylket"},
        "sectors": [{"code": "S1", "name": "Opplæring"}, {"code": "S2", "name": "Samferdsel"}],
        "units": [
            {"code": "A", "name": "Skole A", "sector": "S1", "attributes": {"pupils": 100}},
            {"code": "B", "name": "Skole B", "sector": "S1", "attributes": {"pupils": 300}},
            {"code": "C", "name": "Enhet C", "sector": "S2", "attributes": {"pupils": 600}},
            {"code": "D", "name": "Enhet D", "sector": "S2", "attributes": {"pupils": 1000}},
        ],
        "focus_areas": [
            {
                "code": "F1",
                "name": "Tjenester",
                "weight": 3,
                "goals": [
                    {
                        "code": "G1",
                        "name": "Gode tjenester",
                        "factors": [
                            {
                                "code": "K1",
                                "name": "Faktor 1",
                                "weight": 2,
                                "indicators": [
                                    ind(
                                        "I_SUM",
                                        "sum",
                                        weight=2,
                                        thresholds={"green": 100, "yellow": 50},
                                        county_thresholds={"green": 100, "yellow": 50},
                                    ),
                                    ind("I_MEAN", "mean", thresholds={"green": 80, "yellow": 60}),
                                    ind(
                                        "I_WMEAN",
                                        "weighted_mean",
                                        weight_by="pupils",
                                        thresholds={"green": 80, "yellow": 60},
                                        county_thresholds={"green": 80, "yellow": 60},
                                    ),
                                ],
                            },
                            {
                                "code": "K2",
                                "name": "Faktor 2",
                                "indicators": [
                                    ind(
                                        "I_MEDIAN",
                                        "median",
                                        direction="lower",
                                        thresholds={"green": 10, "yellow": 20},
                                    ),
                                    ind("I_MIN", "min", target=10, yellow_percent=90, decimals=1),
                                ],
                            },
                        ],
                    }
                ],
            },
            {
                "code": "F2",
                "name": "Økonomi",
                "goals": [
                    {
                        "code": "G2",
                        "name": "Sunn økonomi",
                        "factors": [
                            {
                                "code": "K3",
                                "name": "Faktor 3",
                                "indicators": [
                                    ind(
                                        "I_MAX",
                                        "max",
                                        direction="range",
                                        target={"low": 40, "high": 60},
                                        tolerance=10,
                                    ),
                                    ind("I_NONE", "none", thresholds={"green": 1, "yellow": 0}),
                                ],
                            },
                            {
                                "code": "K4",
                                "name": "Faktor 4",
                                "indicators": [
                                    ind("I_MON", "mean"),
                                    ind(
                                        "I_CTY",
                                        "none",
                                        source="controller",
                                        scope="county",
                                        thresholds={"green": 10, "yellow": 5},
                                    ),
                                ],
                            },
                        ],
                    }
                ],
            },
        ],
        "periods": [
            {
                "code": BEFORE,
                "label": "1. tertial 2026",
                "end": "2026-04-30",
                "deadline": "2026-05-15",
            },
            {
                "code": PERIOD,
                "label": "2. tertial 2026",
                "end": "2026-08-31",
                "deadline": "2026-09-15",
            },
        ],
    }
)
UNITS = ("A", "B", "C", "D")
INDICATORS = ("I_SUM", "I_MEAN", "I_WMEAN", "I_MEDIAN", "I_MIN", "I_MAX", "I_NONE", "I_MON")


def num(unit: str, indicator: str, value: float, period: str = PERIOD, **kw: Any) -> ValueRecord:
    return ValueRecord(
        unit,
        period,
        indicator,
        "number",
        value,
        raw=str(value),
        file=f"{unit}.xlsx",
        sha256=f"sha-{unit}",
        **kw,
    )


RECORDS: list[ValueRecord] = [
    # A
    num("A", "I_SUM", 40), num("A", "I_MEAN", 90), num("A", "I_WMEAN", 50),
    num("A", "I_MEDIAN", 5), num("A", "I_MIN", 12), num("A", "I_MAX", 45), num("A", "I_NONE", 1),
    ValueRecord("A", PERIOD, "I_MON", "invalid", None, raw="abc", file="A.xlsx", sha256="sha-A"),
    # B: not applicable for I_MEAN
    num("B", "I_SUM", 30),
    ValueRecord("B", PERIOD, "I_MEAN", "not-applicable", None, raw="i.a.", file="B.xlsx", sha256="sha-B"),
    num("B", "I_WMEAN", 70), num("B", "I_MEDIAN", 15), num("B", "I_MIN", 9.5), num("B", "I_MAX", 65),
    num("B", "I_NONE", 0), num("B", "I_MON", 4),
    # C: I_WMEAN has an error finding
    num("C", "I_SUM", 20), num("C", "I_MEAN", 60), num("C", "I_WMEAN", 10, has_error=True),
    num("C", "I_MEDIAN", 30), num("C", "I_MIN", 11), num("C", "I_MAX", 75), num("C", "I_NONE", 1),
    num("C", "I_MON", 5),
    # The controller's county figure, and noise that must be ignored.
    ValueRecord("TF", PERIOD, "I_CTY", "number", 12.0, source="controller"),
    num("A", "I_SUM", 999, period=BEFORE),
    num("ZZ", "I_SUM", 999),
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def bokmal() -> Iterator[None]:
    # Another test module may have switched language in this context: pin bokmål here.
    before = get_language()
    set_language("nb")
    yield
    set_language(before)


@pytest.fixture(scope="module")
def long() -> pd.DataFrame:
    return build_long_table(DEFINITION, RECORDS, PERIOD)


@pytest.fixture(scope="module")
def county(long: pd.DataFrame) -> pd.DataFrame:
    return aggregate_county(DEFINITION, long, PERIOD)


def test_long_table_has_every_unit_and_indicator_including_non_deliverers(
    long: pd.DataFrame,
) -> None:
    assert tuple(long.columns) == LONG_COLUMNS
    unit_rows = long[long["unit"].notna()]
    assert list(zip(unit_rows["unit"], unit_rows["indicator"], strict=True)) == [
        (u, i) for u in UNITS for i in INDICATORS
    ]
    county_rows = long[long["unit"].isna()]
    assert list(county_rows["indicator"]) == ["I_CTY"]
    d = unit_rows[unit_rows["unit"] == "D"]
    assert set(d["kind"]) == {"missing"} and set(d["status"]) == {"missing"}
    assert d["value"].isna().all() and d["score"].isna().all()
    row = long[(long["unit"] == "B") & (long["indicator"] == "I_MAX")].iloc[0]
    assert (row["sector"], row["focus_area"], row["goal"], row["factor"]) == (
        "S1",
        "F2",
        "G2",
        "K3",
    )
    assert (row["value"], row["status"], row["score"], row["target"]) == (
        65.0,
        "yellow",
        75.0,
        "40 – 60",
    )
    assert (row["file"], row["sha256"], row["unit_name"]) == ("B.xlsx", "sha-B", "Skole B")


# Per-unit (status, score), by hand from the rules:
# thresholds higher: yellow score = 50 + 50*(v - yellow)/(green - yellow), red the same capped <50
# I_MEDIAN lower 10/20: 5 green; 15 → 50+50*(15-20)/(10-20) = 75; 30 → 50+50*10/-10 = 0 red
# I_MIN 90 % of 10 → green 10, yellow 9: 12 green, 9.5 → 75, 11 green
# I_MAX band 40–60 ± 10: 45 green, 65 → 100-50*5/10 = 75, 75 → 100-50*15/10 = 25 red
EXPECTED_UNIT = {
    ("A", "I_SUM"): ("red", 40.0), ("B", "I_SUM"): ("red", 30.0), ("C", "I_SUM"): ("red", 20.0),
    ("A", "I_MEAN"): ("green", 100.0), ("B", "I_MEAN"): ("not-applicable", None),
    ("C", "I_MEAN"): ("yellow", 50.0),
    ("A", "I_WMEAN"): ("red", 25.0), ("B", "I_WMEAN"): ("yellow", 75.0),
    ("C", "I_WMEAN"): ("invalid", None),
    ("A", "I_MEDIAN"): ("green", 100.0), ("B", "I_MEDIAN"): ("yellow", 75.0),
    ("C", "I_MEDIAN"): ("red", 0.0),
    ("A", "I_MIN"): ("green", 100.0), ("B", "I_MIN"): ("yellow", 75.0), ("C", "I_MIN"): ("green", 100.0),
    ("A", "I_MAX"): ("green", 100.0), ("B", "I_MAX"): ("yellow", 75.0), ("C", "I_MAX"): ("red", 25.0),
    ("A", "I_NONE"): ("green", 100.0), ("B", "I_NONE"): ("yellow", 50.0),
    ("C", "I_NONE"): ("green", 100.0),
    ("A", "I_MON"): ("invalid", None), ("B", "I_MON"): ("no-target", None),
    ("C", "I_MON"): ("no-target", None),
}  # fmt: skip


def test_unit_status_and_score(long: pd.DataFrame) -> None:
    rows = long[long["unit"].isin(["A", "B", "C"])]
    got = {
        (u, i): (s, None if math.isnan(sc) else sc)
        for u, i, s, sc in zip(
            rows["unit"], rows["indicator"], rows["status"], rows["score"], strict=True
        )
    }
    assert got == EXPECTED_UNIT


# County values by hand (D missing everywhere, n_expected = 4 units in scope):
# sum 40+30+20 = 90; mean (90+60)/2 = 75 (B n/a); weighted (50*100 + 70*300)/400 = 65 (C error);
# median of 5, 15, 30 = 15; min 12, 9.5, 11 = 9.5; max 45, 65, 75 = 75; none: no value;
# I_MON mean of 4, 5 = 4.5 (A invalid); I_CTY given by the controller = 12.
EXPECTED_COUNTY = {
    # indicator: (value, n_used, n_expected, n_missing, n_na, n_excluded, status, score)
    "I_SUM": (90.0, 3, 4, 1, 0, 0, "yellow", 90.0),  # 50+50*40/50
    "I_MEAN": (75.0, 2, 4, 1, 1, 0, "yellow", 87.5),  # 50+50*15/20
    "I_WMEAN": (65.0, 2, 4, 1, 0, 1, "yellow", 62.5),  # 50+50*5/20
    "I_MEDIAN": (15.0, 3, 4, 1, 0, 0, "yellow", 75.0),
    "I_MIN": (9.5, 3, 4, 1, 0, 0, "yellow", 75.0),
    "I_MAX": (75.0, 3, 4, 1, 0, 0, "red", 25.0),
    "I_NONE": (None, 0, 4, 1, 0, 0, "not-applicable", None),
    "I_MON": (4.5, 2, 4, 1, 0, 1, "no-target", None),
    "I_CTY": (12.0, None, None, 0, 0, 0, "green", 100.0),
}


def test_county_values_counts_and_status(county: pd.DataFrame) -> None:
    assert list(county["indicator"]) == list(EXPECTED_COUNTY)
    for row in county.itertuples(index=False):
        value, n_used, n_expected, n_missing, n_na, n_excluded, status, score = EXPECTED_COUNTY[
            row.indicator
        ]
        if value is None:
            assert math.isnan(row.value), row.indicator
        else:
            assert row.value == pytest.approx(value), row.indicator
        assert (None if pd.isna(row.n_used) else row.n_used) == n_used, row.indicator
        assert (None if pd.isna(row.n_expected) else row.n_expected) == n_expected
        assert (row.n_missing, row.n_not_applicable, row.n_excluded) == (
            n_missing,
            n_na,
            n_excluded,
        ), row.indicator
        assert row.status == status, row.indicator
        assert (None if math.isnan(row.score) else pytest.approx(row.score)) == score, row.indicator
    by = county.set_index("indicator")
    assert by.loc["I_SUM", "based_on"] == "basert på 3 av 4"
    assert (by.loc["I_CTY", "basis"], by.loc["I_CTY", "source"]) == ("county", "controller")


def test_missing_and_not_applicable_never_count_as_zero() -> None:
    # If B's "i.a." or D's blank were zeros, the mean would drop and min would be 0.
    only = [r for r in RECORDS if r.indicator in ("I_MEAN", "I_MIN") and r.unit != "ZZ"]
    county = aggregate_county(DEFINITION, build_long_table(DEFINITION, only, PERIOD), PERIOD)
    by = county.set_index("indicator")
    assert by.loc["I_MEAN", "value"] == 75.0 and by.loc["I_MIN", "value"] == 9.5


# Roll-ups by hand (weights: I_SUM 2, K1 2, F1 3; all others 1):
# A: K1 (40*2 + 100 + 25)/4 = 51.25; K2 100; G1 = F1 = (51.25*2 + 100)/3 = 67.5;
#    K3 100; K4 none (I_MON invalid → missing); F2 100; total (67.5*3 + 100)/4 = 75.625
# B: K1 (30*2 + 75)/3 = 45; K2 75; F1 (45*2 + 75)/3 = 55; K3 (75+50)/2 = 62.5; K4 no-target;
#    F2 62.5; total (55*3 + 62.5)/4 = 56.875
# C: K1 (20*2 + 50)/3 = 30; K2 (0+100)/2 = 50; F1 (30*2+50)/3 = 36.667; K3 (25+100)/2 = 62.5;
#    F2 62.5; total (110 + 62.5)/4 = 43.125
# County: K1 (90*2 + 87.5 + 62.5)/4 = 82.5; K2 75; F1 (82.5*2 + 75)/3 = 80; K3 25 (I_NONE has
#    no value); K4 100 (I_CTY); F2 (25 + 100)/2 = 62.5; total (80*3 + 62.5)/4 = 75.625
# Sectors: S1 total (75.625 + 56.875)/2 = 66.25; S2 total 43.125 (D has no score: 1 of 2)
EXPECTED_ROLLUP = {
    ("unit", "A", "factor", "K1"): (51.25, "yellow"),
    ("unit", "A", "goal", "G1"): (67.5, "yellow"),
    ("unit", "A", "focus_area", "F1"): (67.5, "yellow"),
    ("unit", "A", "factor", "K4"): (None, "missing"),
    ("unit", "A", "focus_area", "F2"): (100.0, "green"),
    ("unit", "A", "total", ""): (75.625, "yellow"),
    ("unit", "B", "factor", "K1"): (45.0, "red"),
    ("unit", "B", "focus_area", "F1"): (55.0, "yellow"),
    ("unit", "B", "factor", "K4"): (None, "no-target"),
    ("unit", "B", "focus_area", "F2"): (62.5, "yellow"),
    ("unit", "B", "total", ""): (56.875, "yellow"),
    ("unit", "C", "focus_area", "F1"): (110 / 3, "red"),
    ("unit", "C", "total", ""): (43.125, "red"),
    ("unit", "D", "total", ""): (None, "missing"),
    ("sector", "S1", "focus_area", "F1"): ((67.5 + 55) / 2, "yellow"),
    ("sector", "S1", "total", ""): (66.25, "yellow"),
    ("sector", "S2", "total", ""): (43.125, "red"),
    ("county", "TF", "factor", "K1"): (82.5, "yellow"),
    ("county", "TF", "focus_area", "F1"): (80.0, "yellow"),
    ("county", "TF", "factor", "K3"): (25.0, "red"),
    ("county", "TF", "factor", "K4"): (100.0, "green"),
    ("county", "TF", "focus_area", "F2"): (62.5, "yellow"),
    ("county", "TF", "total", ""): (75.625, "yellow"),
}


def test_rollups(long: pd.DataFrame, county: pd.DataFrame) -> None:
    roll = rollup_scores(DEFINITION, long, county)
    got = {
        (lv, e, nt, n): (None if math.isnan(s) else s, st)
        for lv, e, nt, n, s, st in zip(
            roll["level"],
            roll["entity"],
            roll["node_type"],
            roll["node"],
            roll["score"],
            roll["status"],
            strict=True,
        )
    }
    for key, (score, status) in EXPECTED_ROLLUP.items():
        assert key in got, key
        assert got[key][1] == status, key
        assert got[key][0] == (None if score is None else pytest.approx(score)), key
    s2 = roll[
        (roll["level"] == "sector") & (roll["entity"] == "S2") & (roll["node_type"] == "total")
    ]
    assert (s2["n_scored"].iloc[0], s2["n_total"].iloc[0]) == (1, 2)
    # Nodes in pre-order (focus area, goal, factors), then the total.
    a = roll[(roll["level"] == "unit") & (roll["entity"] == "A")]
    assert list(a["node"]) == ["F1", "G1", "K1", "K2", "F2", "G2", "K3", "K4", ""]
    assert list(roll["level"].unique()) == ["unit", "sector", "county"]


def test_rollup_county_is_the_county_part_of_rollup_scores(
    long: pd.DataFrame, county: pd.DataFrame
) -> None:
    roll = rollup_scores(DEFINITION, long, county)
    only = rollup_county(DEFINITION, county)
    expected = roll[roll["level"] == "county"].reset_index(drop=True)
    assert len(only) == len(expected) > 0
    pd.testing.assert_frame_equal(only, expected)


def test_excluded_values_lists_errors_and_non_numbers(long: pd.DataFrame) -> None:
    ex = excluded_values(long)
    assert list(zip(ex["unit"], ex["indicator"], ex["reason"], strict=True)) == [
        ("A", "I_MON", "invalid"),
        ("C", "I_WMEAN", "has-error"),
    ]
    assert "abc" in ex["message"].iloc[0]


def test_trend_against_the_previous_period(long: pd.DataFrame) -> None:
    assert previous_period(DEFINITION, PERIOD) == BEFORE
    assert previous_period(DEFINITION, BEFORE) is None
    before = [
        num("A", "I_SUM", 30, BEFORE),  # 30 → 40, higher is better: improved
        num("A", "I_MEDIAN", 3, BEFORE),  # 3 → 5, lower is better: worsened
        num("A", "I_MAX", 80, BEFORE),  # 80 → 45: into the band: improved
        num("B", "I_SUM", 30, BEFORE),  # unchanged
        num("C", "I_SUM", 50, BEFORE),  # county sum 30+30+50 = 110 → 90: worsened
    ]
    prev_long = build_long_table(DEFINITION, before, BEFORE)
    tr = trend(DEFINITION, long, prev_long)
    got = {
        (lv, u, i): tt
        for lv, u, i, tt in zip(tr["level"], tr["unit"], tr["indicator"], tr["trend"], strict=True)
    }
    assert got[("unit", "A", "I_SUM")] == "improved"
    assert got[("unit", "A", "I_MEDIAN")] == "worsened"
    assert got[("unit", "A", "I_MAX")] == "improved"
    assert got[("unit", "B", "I_SUM")] == "unchanged"
    assert got[("unit", "B", "I_MEAN")] is None  # no number in either period
    assert got[("county", None, "I_SUM")] == "worsened"
    assert got[("county", None, "I_MEDIAN")] == "worsened"  # median 3 (A only) → 15, lower better
    assert got[("county", None, "I_NONE")] is None  # no county value in either period
    assert set(tr["previous_period"]) == {BEFORE}


@settings(max_examples=25, deadline=None)
@given(st.permutations(RECORDS))
def test_record_order_does_not_matter(shuffled: list[ValueRecord]) -> None:
    long = build_long_table(DEFINITION, RECORDS, PERIOD)
    long2 = build_long_table(DEFINITION, shuffled, PERIOD)
    pd.testing.assert_frame_equal(long, long2)
    county = aggregate_county(DEFINITION, long, PERIOD)
    pd.testing.assert_frame_equal(county, aggregate_county(DEFINITION, long2, PERIOD))
    pd.testing.assert_frame_equal(
        rollup_scores(DEFINITION, long, county), rollup_scores(DEFINITION, long2, county)
    )


def test_consolidate_values_bundles_the_steps() -> None:
    result = consolidate_values(DEFINITION, RECORDS, PERIOD, [num("A", "I_SUM", 30, BEFORE)])
    pd.testing.assert_frame_equal(result.long, build_long_table(DEFINITION, RECORDS, PERIOD))
    trends = result.trends.set_index(["level", "unit", "indicator"])
    assert trends.loc[("unit", "A", "I_SUM"), "trend"] == "improved"
    first = consolidate_values(DEFINITION, RECORDS, BEFORE)  # the first period has no trend
    assert first.trends["trend"].isna().all() and first.trends["previous_period"].isna().all()


def test_example_history_consolidates_against_the_example_definition(tmp_path: Path) -> None:
    # The shipped example: its history.csv seeded into the database gives a long table with
    # one row per unit and indicator in scope, whose numbers are exactly the CSV's numbers.
    example = Path(__file__).parents[1] / "bms_excel" / "examples" / "stfk"
    definition = load_definition(example / "definition.yaml")
    with (example / "history.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    period = "2025-T2"
    with open_history(tmp_path / "bms.sqlite") as h:
        import_history_csv(h, example / "history.csv")
        values = h.accepted_values(period)
    long = build_long_table(definition, values, period)
    expected_rows = [
        (u.code, i.code) for u in definition.units for i in definition.indicators_for_unit(u)
    ]
    unit_rows = long[long["unit"].notna()]
    assert list(zip(unit_rows["unit"], unit_rows["indicator"], strict=True)) == expected_rows
    in_scope = set(expected_rows)
    numbers = {
        (r["unit"], r["indicator"]): float(r["value"])
        for r in rows
        if r["period"] == period
        and r["value"] not in ("", "i.a.")
        and (r["unit"], r["indicator"]) in in_scope
    }
    got = {
        (u, i): v
        for u, i, v in zip(
            unit_rows["unit"], unit_rows["indicator"], unit_rows["value"], strict=True
        )
        if not math.isnan(v)
    }
    assert got == numbers
    county = aggregate_county(definition, long, period)
    assert list(county["indicator"]) == [i.code for *_, i in definition.iter_indicators()]
    rollup_scores(definition, long, county)  # runs on the real definition
