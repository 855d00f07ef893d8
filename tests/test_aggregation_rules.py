"""County values a controller reads on Fylket: one per aggregation rule, roll-up counts, figures.

One small tree, seven units, every number below worked out by hand (never by the code under
test). The six rule indicators (I_MEAN … I_WMEAN) get the very same unit values:

    A = 10, B = 20, C = 60          usable          (pupils 1, 2, 3)
    D  no return                    missing         (pupils 4)
    E  "i.a."                       not applicable  (pupils 5)
    F  1000 with an error finding   excluded        (pupils 6)
    G  "mye"                        not a number    (pupils 7)

so each rule gives its own county value and every one is "basert på 3 av 7":

    mean (10+20+60)/3 = 30      median 20      min 10      max 60      sum 90
    weighted mean (10·1 + 20·2 + 60·3)/(1+2+3) = 230/6 = 38.33…

All six have thresholds green ≥ 50, yellow ≥ 25 (0 decimals): score = 50 + 50·(v − 25)/25:

    mean 30 → 60 yellow   median 20 → 40 red   min 10 → 20 red
    max 60 → 100 green    weighted mean 38 (as shown) → 76 yellow

A sum is on another scale than one unit's value: it is judged only by its county target
(green ≥ 150, yellow ≥ 75): sum 90 → 50 + 50·(90 − 75)/75 = 60 yellow. The weighted mean
carries the unit limits as its county thresholds too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from consolidated import Consolidation, consolidate_values

from bms_excel.i18n import get_language, set_language
from bms_excel.master.run import write_master
from bms_excel.master.scorecard import COUNTY_HEADER_ROW, COUNTY_SHEET_COLUMNS
from bms_excel.model import Definition
from bms_excel.records import ValueRecord

PERIOD, BEFORE = "2026-T2", "2026-T1"
RULES = ("mean", "median", "min", "max", "sum", "weighted_mean")
LIMITS = {"thresholds": {"green": 50, "yellow": 25}, "decimals": 0}
FIGURE_LIMITS = {"thresholds": {"green": 10, "yellow": 5}, "decimals": 0}


def ind(code: str, aggregation: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Indikator {code}", "aggregation": aggregation, **extra}


def rule_code(rule: str) -> str:
    return f"I_{rule.upper()}"


DEFINITION = Definition.model_validate(
    {
        "county": {"code": "TF", "name": "Testfylket"},
        "sectors": [{"code": "S1", "name": "Skoler"}, {"code": "S2", "name": "Samferdsel"}],
        "units": [
            {
                "code": u,
                "name": f"Enhet {u}",
                "sector": "S1" if i < 4 else "S2",
                "attributes": {"pupils": i + 1},
            }
            for i, u in enumerate("ABCDEFG")
        ],
        "focus_areas": [
            {
                "code": "F1",
                "name": "Tjenester",
                "goals": [
                    {
                        "code": "G1",
                        "name": "Gode tjenester",
                        "factors": [
                            {
                                "code": "K1",
                                "name": "Nivå",
                                "indicators": [
                                    ind(rule_code(r), r, **LIMITS)
                                    for r in ("mean", "median", "min")
                                ],
                            },
                            {
                                "code": "K2",
                                "name": "Omfang",
                                "indicators": [
                                    ind(rule_code("max"), "max", **LIMITS),
                                    ind(
                                        rule_code("sum"),
                                        "sum",
                                        county_thresholds={"green": 150, "yellow": 75},
                                        **LIMITS,
                                    ),
                                    ind(
                                        rule_code("weighted_mean"),
                                        "weighted_mean",
                                        weight_by="pupils",
                                        county_thresholds={"green": 50, "yellow": 25},
                                        **LIMITS,
                                    ),
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
                                "name": "Fylkestall",
                                "indicators": [
                                    ind("I_CTRL", "mean", **FIGURE_LIMITS),
                                    ind(
                                        "I_KOSTRA",
                                        "none",
                                        source="kostra",
                                        kostra={"table": "12362", "contents": "KOSTRA1"},
                                        scope="county",
                                        **FIGURE_LIMITS,
                                    ),
                                ],
                            },
                            {
                                "code": "K4",
                                "name": "Uten tall",
                                "indicators": [
                                    ind("I_ERRFIG", "mean", **FIGURE_LIMITS),
                                    ind("I_NOFIG", "mean", **FIGURE_LIMITS),
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


def rec(unit: str, indicator: str, kind: str, value: float | None, **kw: Any) -> ValueRecord:
    raw = kw.pop("raw", None if value is None else str(value))
    return ValueRecord(
        unit, PERIOD, indicator, kind, value, raw=raw,  # type: ignore[arg-type]
        file=f"{unit}.xlsx", sha256=f"sha-{unit}", **kw,
    )  # fmt: skip


def rule_records(indicator: str) -> list[ValueRecord]:
    return [
        rec("A", indicator, "number", 10.0),
        rec("B", indicator, "number", 20.0),
        rec("C", indicator, "number", 60.0),
        rec("E", indicator, "not-applicable", None, raw="i.a."),
        rec("F", indicator, "number", 1000.0, has_error=True),
        rec("G", indicator, "invalid", None, raw="mye"),
    ]


RECORDS: list[ValueRecord] = [
    *(r for rule in RULES for r in rule_records(rule_code(rule))),
    # I_CTRL: the units' mean would be (1+2+3)/3 = 2 (red); the controller's figure 7 is given:
    # yellow, score 50 + 50·(7−5)/(10−5) = 70.
    rec("A", "I_CTRL", "number", 1.0),
    rec("B", "I_CTRL", "number", 2.0),
    rec("C", "I_CTRL", "number", 3.0),
    ValueRecord("TF", PERIOD, "I_CTRL", "number", 7.0, source="controller"),
    # I_KOSTRA: a county-only KOSTRA figure 12 → green, 100.
    ValueRecord("", PERIOD, "I_KOSTRA", "number", 12.0, source="kostra"),
    # I_ERRFIG: the units say 20 and 20 (mean 20, green), but the county figure has an error
    # finding: no county value at all, never the units' 20.
    rec("A", "I_ERRFIG", "number", 20.0),
    rec("B", "I_ERRFIG", "number", 20.0),
    ValueRecord("TF", PERIOD, "I_ERRFIG", "number", 8.0, source="controller", has_error=True),
    # I_NOFIG: nobody reports it.
]

#: rule → (county value, status, score); every one "basert på 3 av 7".
EXPECTED_RULES: dict[str, tuple[float, str, float]] = {
    "mean": (30.0, "yellow", 60.0),
    "median": (20.0, "red", 40.0),
    "min": (10.0, "red", 20.0),
    "max": (60.0, "green", 100.0),
    "sum": (90.0, "yellow", 60.0),
    "weighted_mean": (230 / 6, "yellow", 76.0),
}


@pytest.fixture(scope="module", autouse=True)
def bokmal() -> Iterator[None]:
    before = get_language()
    set_language("nb")
    yield
    set_language(before)


@pytest.fixture(scope="module")
def result() -> Consolidation:
    return consolidate_values(DEFINITION, RECORDS, PERIOD)


@pytest.fixture(scope="module")
def fylket(result: Consolidation, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Fylket read back from the master workbook: indicator code → {column key: cell value}."""
    path = tmp_path_factory.mktemp("master") / "bms_TF.xlsx"
    write_master(
        path,
        definition=DEFINITION,
        period=PERIOD,
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
    )
    wb = openpyxl.load_workbook(path)
    try:
        ws = wb["Fylket"]
        rows = {}
        for cells in ws.iter_rows(min_row=COUNTY_HEADER_ROW + 1, values_only=True):
            rows[cells[0]] = dict(zip(COUNTY_SHEET_COLUMNS, cells, strict=False))
        return rows
    finally:
        wb.close()


def county_row(result: Consolidation, code: str) -> dict[str, Any]:
    frame = result.county
    return frame[frame["indicator"] == code].iloc[0].to_dict()


# -- 1. each aggregation rule gives its own county value ----------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_gives_its_own_county_value(
    rule: str, result: Consolidation, fylket: dict[str, dict]
) -> None:
    value, status, the_score = EXPECTED_RULES[rule]
    row = county_row(result, rule_code(rule))
    assert row["value"] == pytest.approx(value, abs=1e-9)
    assert (row["n_used"], row["n_expected"]) == (3, 7)
    assert (row["n_missing"], row["n_not_applicable"], row["n_excluded"]) == (1, 1, 2)
    assert row["based_on"] == "basert på 3 av 7"
    assert (row["status"], row["score"]) == (status, pytest.approx(the_score, abs=1e-9))
    # What the controller reads on Fylket.
    shown = fylket[rule_code(rule)]
    assert shown["county-value"] == pytest.approx(value, abs=1e-9)
    assert shown["basis"] == "basert på 3 av 7"


def test_the_six_rules_give_six_different_values(result: Consolidation) -> None:
    values = [county_row(result, rule_code(r))["value"] for r in RULES]
    assert len({round(v, 6) for v in values}) == len(RULES)


# -- 3. the roll-up counts ------------------------------------------------------------------------

# County roll-up by hand (weights 1, rollup green at 100, yellow at 50):
#   K1 = (60 + 40 + 20)/3 = 40 red, 3 of 3      K2 = (100 + 60 + 76)/3 = 78.67 yellow, 3 of 3
#   G1 = (40 + 78.67)/2 = 59.33 yellow, 2 of 2  F1 = 59.33 yellow, 1 of 1
#   K3 = (70 + 100)/2 = 85 yellow, 2 of 2       K4 = no score (both missing), 0 of 2
#   G2 = 85 yellow, 1 of 2                      F2 = 85 yellow, 1 of 1
#   total = (59.33 + 85)/2 = 72.17 yellow, 2 of 2
EXPECTED_COUNTY_ROLLUP: dict[tuple[str, str], tuple[float | None, str, int, int]] = {
    ("factor", "K1"): (40.0, "red", 3, 3),
    ("factor", "K2"): (78.666666667, "yellow", 3, 3),
    ("goal", "G1"): (59.333333333, "yellow", 2, 2),
    ("focus_area", "F1"): (59.333333333, "yellow", 1, 1),
    ("factor", "K3"): (85.0, "yellow", 2, 2),
    ("factor", "K4"): (None, "missing", 0, 2),
    ("goal", "G2"): (85.0, "yellow", 1, 2),
    ("focus_area", "F2"): (85.0, "yellow", 1, 1),
    ("total", ""): (72.166666667, "yellow", 2, 2),
}


def _rollup(result: Consolidation, level: str, entity: str) -> dict[tuple[str, str], tuple]:
    r = result.rollups
    rows = r[(r["level"] == level) & (r["entity"] == entity)]
    return {
        (row.node_type, row.node): (
            None if row.score != row.score else round(float(row.score), 9),
            row.status,
            int(row.n_scored),
            int(row.n_total),
        )
        for row in rows.itertuples(index=False)
    }


def test_county_rollup_counts_scores_and_statuses(result: Consolidation) -> None:
    assert _rollup(result, "county", "TF") == EXPECTED_COUNTY_ROLLUP


def test_unit_rollup_counts_with_missing_and_not_applicable_children(
    result: Consolidation,
) -> None:
    # A: six reds at 20 (value 10), I_CTRL 1 → 50 + 50·(1−5)/5 = 10, I_ERRFIG 20 → green 100,
    # I_NOFIG missing (I_KOSTRA is county-only: not in A's tree).
    #   K1 = K2 = 20 red; G1 = F1 = 20; K3 = 10 red, 1 of 1; K4 = 100 green, 1 of 2;
    #   G2 = (10 + 100)/2 = 55 yellow; F2 = 55; total = (20 + 55)/2 = 37.5 red.
    assert _rollup(result, "unit", "A") == {
        ("factor", "K1"): (20.0, "red", 3, 3),
        ("factor", "K2"): (20.0, "red", 3, 3),
        ("goal", "G1"): (20.0, "red", 2, 2),
        ("focus_area", "F1"): (20.0, "red", 1, 1),
        ("factor", "K3"): (10.0, "red", 1, 1),
        ("factor", "K4"): (100.0, "green", 1, 2),
        ("goal", "G2"): (55.0, "yellow", 2, 2),
        ("focus_area", "F2"): (55.0, "yellow", 1, 1),
        ("total", ""): (37.5, "red", 2, 2),
    }
    # D delivered nothing: every node counted, none scored, all "missing".
    d = _rollup(result, "unit", "D")
    assert {k: v[1:] for k, v in d.items()} == {
        k: ("missing", 0, n)
        for k, n in {
            ("factor", "K1"): 3, ("factor", "K2"): 3, ("goal", "G1"): 2,
            ("focus_area", "F1"): 1, ("factor", "K3"): 1, ("factor", "K4"): 2,
            ("goal", "G2"): 2, ("focus_area", "F2"): 1, ("total", ""): 2,
        }.items()
    }  # fmt: skip
    # E said "i.a." to all six rule indicators: F1's nodes are "not applicable", 0 scored.
    e = _rollup(result, "unit", "E")
    assert e[("factor", "K1")] == (None, "not-applicable", 0, 3)
    assert e[("goal", "G1")] == (None, "not-applicable", 0, 2)


def test_fylket_and_oversikt_show_the_county_rollup(result: Consolidation, tmp_path: Path) -> None:
    path = tmp_path / "bms_TF.xlsx"
    write_master(
        path,
        definition=DEFINITION,
        period=PERIOD,
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
    )
    wb = openpyxl.load_workbook(path)
    try:
        area_rows = {
            r[0]: r[1]
            for r in wb["Fylket"].iter_rows(min_row=COUNTY_HEADER_ROW + 1, values_only=True)
            if r[0] in ("F1", "F2")
        }
        assert area_rows == {"F1": "Tjenester – poeng 59, Gul", "F2": "Økonomi – poeng 85, Gul"}
        overview = {
            r[0]: r[1] for r in wb["Oversikt"].iter_rows(min_row=6, max_row=8, values_only=True)
        }
        assert overview == {"Tjenester": "Gul", "Økonomi": "Gul", "Samlet": "Gul"}
    finally:
        wb.close()


# -- 7. county figures given by the controller or KOSTRA -----------------------------------------


def test_a_controller_figure_replaces_the_units_aggregate(
    result: Consolidation, fylket: dict[str, dict]
) -> None:
    row = county_row(result, "I_CTRL")
    assert (row["value"], row["status"], row["score"]) == (7.0, "yellow", 70.0)
    assert (row["basis"], row["source"], row["based_on"]) == ("county", "controller", "")
    shown = fylket["I_CTRL"]
    assert shown["county-value"] == 7.0
    assert shown["basis"] == "tall fra controller"
    assert shown["source"] == "controller"


def test_a_kostra_figure_is_the_county_value(
    result: Consolidation, fylket: dict[str, dict]
) -> None:
    row = county_row(result, "I_KOSTRA")
    assert (row["value"], row["status"], row["score"]) == (12.0, "green", 100.0)
    assert (row["basis"], row["source"]) == ("county", "kostra")
    shown = fylket["I_KOSTRA"]
    assert (shown["county-value"], shown["basis"], shown["source"]) == (
        12.0,
        "tall fra KOSTRA",
        "KOSTRA",
    )


def test_an_error_flagged_county_figure_gives_no_value(
    result: Consolidation, fylket: dict[str, dict]
) -> None:
    row = county_row(result, "I_ERRFIG")
    assert row["value"] != row["value"]  # NaN: no value, not the units' 20
    assert row["score"] != row["score"]
    assert row["status"] in ("missing", "invalid")
    assert (row["basis"], row["source"]) == ("county", "controller")
    assert fylket["I_ERRFIG"]["county-value"] is None
    assert fylket["I_ERRFIG"]["basis"] == "tall fra controller"
