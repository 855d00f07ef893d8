"""County and sector targets, yearly ambitions, scope exceptions and counts (issue 15).

A county value is judged only by a county target: five schools' sum against "7 – 9" is no
ambition for the county. The small definition below, by hand (period 2026-T1, budget year 2026):

    unit    sector  I_SUM  I_SUM0  I_MEAN  I_NONE  I_PLAN  I_CNT  I_EXC
    A       S1      6      6       70      1       71      3      1
    B       S1      6      6       90      2       60      4      1
    C       S1      6      6       80      3       69      5      (excluded from the scope)
    D       S2      –      –       –       –       –       –      –  (S2 out of every scope)

* I_SUM   sum 18; units "7 – 9" (6 is red); county "21 – 27" → red (green ≥ 27, yellow ≥ 21).
          Judged by the unit target it would be green (18 ≥ 9): the bug this issue fixes.
* I_SUM0  sum 18, no county target → no colour, "Uten fylkesmål" (and county-target-missing).
* I_MEAN  mean 80 against the units' 80 → green, target shown "80 (mål for enhetene)".
* I_NONE  aggregation none → "Ikke aggregert".
* I_PLAN  targets {2026: 70, 2027: 72, 2028: 75}: 2026-T1 is judged against 70 (yellow from 63):
          A 71 green, B 60 red, C 69 yellow; the plan's end target 75 is shown beside it.
* I_CNT   count, sum 12; a county override for 2026-T1 (target 12) → green; the units keep
          their own target 5 (override for sector S1): A 3 and B 4 red (yellow from 4,5), C 5
          green.
* I_EXC   scope {sectors: [S1], except: [C]}: only A and B report it ("basert på 2 av 2").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from consolidated import Consolidation, consolidate_values
from helpers import load_example_history
from test_generate import generate_one

from bms_excel.checks import check_definition
from bms_excel.examples import EXAMPLES, load_example_definition
from bms_excel.i18n import t
from bms_excel.layout import build_layout
from bms_excel.master.run import write_master
from bms_excel.master.scorecard import COUNTY_HEADER_ROW, COUNTY_SHEET_COLUMNS
from bms_excel.model import (
    Definition,
    Indicator,
    county_target_basis,
    effective_target,
    in_scope,
    plan_end_target,
)
from bms_excel.records import ValueRecord
from bms_excel.status import Status, StatusRule, evaluate, resolve_rule

PERIOD = "2026-T1"

DEFINITION_YAML = """
county: {code: TF, name: Testfylket}
vision: {text: Gode tjenester for alle, strategies: [Lære av resultatene, Dele det som virker]}
settings: {budget_year: 2026}
sectors: [{code: S1, name: Skoler}, {code: S2, name: Veg}]
units:
  - {code: A, name: Enhet A, sector: S1}
  - {code: B, name: Enhet B, sector: S1}
  - {code: C, name: Enhet C, sector: S1}
  - {code: D, name: Enhet D, sector: S2}
periods:
  - {code: 2026-T1, label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}
  - {code: 2026-T2, label: 2. tertial 2026, end: 2026-08-31, deadline: 2026-09-15}
focus_areas:
  - code: F
    name: Tjenester
    description: Det brukerne merker.
    goals:
      - code: G
        name: Gode tjenester
        factors:
          - code: K
            name: Omfang
            indicators:
              - {code: I_SUM, name: TAF-starter, unit_of_measure: antall, aggregation: sum,
                 target: "7 – 9", county_target: "21 – 27", scope: {sectors: [S1]},
                 result_level: 2, timing: lagging, description: LONG}
              - {code: I_SUM0, name: Tiltak, aggregation: sum, target: "7 – 9",
                 scope: {sectors: [S1]}}
              - {code: I_MEAN, name: Trivsel, aggregation: mean, target: 80,
                 scope: {sectors: [S1]}, timing: leading,
                 description: Snitt av elevundersøkelsens trivselsspørsmål.}
              - {code: I_NONE, name: Budsjett, aggregation: none, target: 5,
                 scope: {sectors: [S1]}}
              - code: I_PLAN
                name: Fullført
                unit_of_measure: "%"
                aggregation: mean
                target: 65
                targets: {2026: "70 %", 2027: "72 %", 2028: "75 %"}
                scope: {sectors: [S1]}
              - code: I_CNT
                name: Lærekontrakter
                unit_of_measure: antall
                aggregation: sum
                target: 6
                scope: {sectors: [S1]}
                overrides:
                  - {sector: S1, target: 5}
                  - {county: true, period: 2026-T1, target: 12}
              - {code: I_EXC, name: Bare noen, aggregation: mean, target: 1,
                 scope: {sectors: [S1], except: [C]}}
"""

VALUES: dict[str, dict[str, float]] = {
    "A": {"I_SUM": 6, "I_SUM0": 6, "I_MEAN": 70, "I_NONE": 1, "I_PLAN": 71, "I_CNT": 3},
    "B": {"I_SUM": 6, "I_SUM0": 6, "I_MEAN": 90, "I_NONE": 2, "I_PLAN": 60, "I_CNT": 4},
    "C": {"I_SUM": 6, "I_SUM0": 6, "I_MEAN": 80, "I_NONE": 3, "I_PLAN": 69, "I_CNT": 5},
}
VALUES["A"]["I_EXC"] = VALUES["B"]["I_EXC"] = 1

#: indicator → (county value, status, Fylket status text, Fylket target text)
EXPECTED_COUNTY: dict[str, tuple[float | None, str, str, str]] = {
    "I_SUM": (18.0, "red", "Rød", "21 – 27"),
    "I_SUM0": (18.0, "no-target", "Uten fylkesmål", "Uten fylkesmål"),
    "I_MEAN": (80.0, "green", "Grønn", "80 (mål for enhetene)"),
    "I_NONE": (None, "not-applicable", "Ikke aggregert", "5 (mål for enhetene)"),
    "I_PLAN": (200 / 3, "yellow", "Gul", "70 % (mål for enhetene)\nØkonomiplan 2028: 75 %"),
    "I_CNT": (12.0, "green", "Grønn", "12"),
    "I_EXC": (1.0, "green", "Grønn", "1 (mål for enhetene)"),
}


LONG = "Antall elever som har startet et TAF-løp dette skoleåret. " * 6  # 360 characters


def load() -> Definition:
    return Definition.model_validate(yaml.safe_load(DEFINITION_YAML.replace("LONG", LONG)))


def records(definition: Definition) -> list[ValueRecord]:
    return [
        ValueRecord(unit, PERIOD, code, "number", float(v), raw=str(v), file=f"{unit}.xlsx")
        for unit, row in VALUES.items()
        for code, v in row.items()
    ]


@pytest.fixture(scope="module")
def result() -> Consolidation:
    definition = load()
    return consolidate_values(definition, records(definition), PERIOD)


@pytest.fixture(scope="module")
def master(result: Consolidation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("master") / "bms_TF.xlsx"
    return write_master(
        path,
        definition=load(),
        period=PERIOD,
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
    )


@pytest.fixture(scope="module")
def fylket(master: Path) -> dict[str, dict]:
    wb = openpyxl.load_workbook(master, data_only=True)
    try:
        rows = {}
        for cells in wb["Fylket"].iter_rows(min_row=COUNTY_HEADER_ROW + 1, values_only=True):
            rows[cells[0]] = dict(zip(COUNTY_SHEET_COLUMNS, cells, strict=False))
        return rows
    finally:
        wb.close()


# -- the model ---------------------------------------------------------------------------------


def test_county_target_basis_and_effective_targets() -> None:
    d = load()
    basis = {ind.code: county_target_basis(ind) for *_, ind in d.iter_indicators()}
    assert basis == {
        "I_SUM": "county",
        "I_SUM0": "none",
        "I_MEAN": "unit",
        "I_NONE": "unit",
        "I_PLAN": "unit",
        "I_CNT": "county",
        "I_EXC": "unit",
    }
    a = d.unit("A")
    cnt = d.indicator("I_CNT")
    # The county override applies to the county only, and only in its period.
    assert effective_target(cnt, None, PERIOD)[0].value == 12  # type: ignore[union-attr]
    assert effective_target(cnt, None, "2026-T2") == (None, None)
    assert effective_target(cnt, a, PERIOD)[0].value == 5  # type: ignore[union-attr]
    assert resolve_rule(cnt, d.settings, None, "2026-T2").kind == "none"
    # A yearly ambition replaces the target in its year; the plan ends in 2028.
    plan = d.indicator("I_PLAN")
    assert effective_target(plan, a, PERIOD)[0].value == 70  # type: ignore[union-attr]
    assert effective_target(plan, a, "2030-T1")[0].value == 65  # type: ignore[union-attr]
    end = plan_end_target(plan, 2026)
    assert end is not None and (end[0], end[1].value) == (2028, 75)
    assert plan_end_target(plan, 2027) is not None
    assert plan_end_target(plan, 2029) is None
    # A sum without a county target has no county rule at all.
    assert resolve_rule(d.indicator("I_SUM0"), d.settings, None, PERIOD).kind == "none"


def test_scope_except_leaves_a_unit_out() -> None:
    d = load()
    exc = d.indicator("I_EXC")
    assert [u.code for u in d.units_for_indicator(exc)] == ["A", "B"]
    assert not in_scope(exc, d.unit("C"))
    assert "I_EXC" not in [i.code for i in d.indicators_for_unit(d.unit("C"))]


def test_checks_for_the_new_fields() -> None:
    missing = [f.path for f in check_definition(load()) if f.code == "county-target-missing"]
    assert missing == [_path(load(), "I_SUM0", "aggregation")]
    outside = load().model_copy(
        update={"settings": load().settings.model_copy(update={"budget_year": 2027})}
    )
    codes = [(f.code, f.path) for f in check_definition(outside)]
    assert ("target-year-outside-plan", _path(outside, "I_PLAN", "targets.2026")) in codes


def _path(d: Definition, code: str, field: str) -> str:
    index = [ind.code for *_, ind in d.iter_indicators()].index(code)
    return f"focus_areas[0].goals[0].factors[0].indicators[{index}].{field}"


# -- consolidation and Fylket -----------------------------------------------------------------


def test_county_values_are_judged_by_county_targets(
    result: Consolidation, fylket: dict[str, dict]
) -> None:
    frame = result.county.set_index("indicator")
    for code, (value, status, shown, target) in EXPECTED_COUNTY.items():
        row = frame.loc[code]
        if value is None:
            assert row["value"] != row["value"], code  # NaN: nothing aggregated
        else:
            assert row["value"] == pytest.approx(value), code
        assert row["status"] == status, code
        assert fylket[code]["status"] == shown, code
        assert fylket[code]["target"] == target, code
    assert frame.loc["I_EXC", "based_on"] == "basert på 2 av 2"
    # The balance audit is visible on Fylket: Amdam's result level and leading/lagging.
    assert (fylket["I_SUM"]["result-level"], fylket["I_SUM"]["timing"]) == (2, "Etterslepende")
    assert (fylket["I_MEAN"]["result-level"], fylket["I_MEAN"]["timing"]) == (None, "Ledende")


def test_units_keep_their_own_targets(result: Consolidation) -> None:
    long = result.long
    units = long[long["unit"].notna()]
    status = {(r.unit, r.indicator): r.status for r in units.itertuples()}
    assert {status[(u, "I_SUM")] for u in "ABC"} == {"red"}
    assert [status[(u, "I_PLAN")] for u in "ABC"] == ["green", "red", "yellow"]
    assert [status[(u, "I_CNT")] for u in "ABC"] == ["red", "red", "green"]
    assert ("C", "I_EXC") not in status


def test_the_old_rule_would_have_coloured_the_sum_green() -> None:
    """The fixture is a real case: judged by the unit target, all-red units give green."""
    d = load()
    ind = d.indicator("I_SUM")
    unit_rule = resolve_rule(ind, d.settings, d.unit("A"), PERIOD)
    assert evaluate(unit_rule, 18.0) is Status.GREEN
    assert evaluate(resolve_rule(ind, d.settings, None, PERIOD), 18.0) is Status.RED


def test_oversikt_shows_the_vision_and_focus_areas(master: Path) -> None:
    wb = openpyxl.load_workbook(master)
    try:
        cells = [(r[0], r[1]) for r in wb["Oversikt"].iter_rows(max_col=2, values_only=True)]
    finally:
        wb.close()
    first = [a for a, _ in cells]
    vision = first.index("Gode tjenester for alle")
    assert first[vision + 1 : vision + 3] == ["• Lære av resultatene", "• Dele det som virker"]
    assert ("Tjenester", "Det brukerne merker.") in cells


# -- the unit workbook --------------------------------------------------------------------------


def test_unit_workbook_shows_this_years_and_the_plans_end_target(tmp_path: Path) -> None:
    d = load()
    path = generate_one(d, "A", tmp_path)
    layout = build_layout(d, d.unit("A"), PERIOD)
    wb = openpyxl.load_workbook(path)
    try:
        ws = wb[layout.sheets.scorecard]
        plan = layout.indicator("I_PLAN")
        assert ws[plan.target_ref].value == "70 %\nØkonomiplan 2028: 75 %"
        assert ws[layout.indicator("I_MEAN").target_ref].value == "80"
        # A count accepts whole numbers only; a measure in "%" does not need to.
        cnt = layout.indicator("I_CNT")
        rules = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
        assert f"{cnt.result_ref}=INT({cnt.result_ref})" in rules[cnt.result_ref]
        assert "INT(" not in rules[plan.result_ref]
        assert ws[cnt.target_ref].value == "5"  # the unit's own target, never the county's
        # The description is the result cell's input message, cut to Excel's 255 characters.
        prompts = {str(dv.sqref): dv.prompt for dv in ws.data_validations.dataValidation}
        mean = layout.indicator("I_MEAN")
        assert prompts[mean.result_ref].startswith("Snitt av elevundersøkelsens trivsel")
        long = prompts[layout.indicator("I_SUM").result_ref]
        assert len(long) <= 255 and "…" in long and long.startswith(LONG[:100])
        assert long.endswith("\n\n" + t("wb.dv.result.prompt", "nb", measure="antall"))
    finally:
        wb.close()
    guide = _column_a(path, layout.sheets.guide)
    vision = guide.index("Gode tjenester for alle")
    assert guide[vision + 1 : vision + 3] == ["• Lære av resultatene", "• Dele det som virker"]
    assert "Tjenester: Det brukerne merker." in guide
    assert "I_MEAN Trivsel: Snitt av elevundersøkelsens trivselsspørsmål." in guide
    c_layout = build_layout(d, d.unit("C"), PERIOD)
    assert "I_EXC" not in [cells.code for cells in c_layout.scorecard.indicators]


def _column_a(path: Path, sheet: str) -> list[str]:
    wb = openpyxl.load_workbook(path)
    try:
        return [str(v) for (v,) in wb[sheet].iter_rows(max_col=1, values_only=True) if v]
    finally:
        wb.close()


# -- the bundled examples ------------------------------------------------------------------------


def _red_value(rule: StatusRule) -> float | None:
    """A value just inside red under ``rule`` (None for a rule without colours)."""
    step = 10.0**-rule.decimals
    if rule.kind == "thresholds":
        assert rule.yellow is not None
        return rule.yellow - step if rule.direction == "higher" else rule.yellow + step
    if rule.kind == "band":
        return rule.outer[1] + step
    return None


def _all_red(d: Definition) -> list[ValueRecord]:
    out = []
    for period in d.periods:
        for *_, ind in d.iter_indicators():
            if ind.source != "unit":
                continue
            for unit in d.units_for_indicator(ind):
                v = _red_value(resolve_rule(ind, d.settings, unit, period.code))
                if v is not None:
                    out.append(ValueRecord(unit.code, period.code, ind.code, "number", v))
    return out


def _green_over_all_red(d: Definition, values: list[ValueRecord]) -> list[tuple[str, str]]:
    """(period, indicator) of every green county value whose reporting units are all red."""
    bad = []
    for period in sorted({v.period for v in values}):
        result = consolidate_values(d, values, period)
        long = result.long
        for row in result.county.itertuples():
            if row.status != "green" or row.basis != "units":
                continue
            rows = long[
                (long["indicator"] == row.indicator)
                & long["unit"].notna()
                & (long["kind"] == "number")
            ]
            if len(rows) and (rows["status"] == "red").all():
                bad.append((period, row.indicator))
    return bad


def _with_unit_targets_for_the_county(d: Definition) -> Definition:
    """``d`` as it was judged before county targets: the unit target judges the county."""

    def old(ind: Indicator) -> Indicator:
        update: dict[str, Any] = {
            "county_target": ind.target,
            "county_thresholds": ind.thresholds,
            "overrides": tuple(o for o in ind.overrides if not o.county),
        }
        return ind.model_copy(update=update)

    areas = tuple(
        a.model_copy(
            update={
                "goals": tuple(
                    g.model_copy(
                        update={
                            "factors": tuple(
                                f.model_copy(
                                    update={"indicators": tuple(old(i) for i in f.indicators)}
                                )
                                for f in g.factors
                            )
                        }
                    )
                    for g in a.goals
                )
            }
        )
        for a in d.focus_areas
    )
    return d.model_copy(update={"focus_areas": areas})


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_never_shows_a_green_county_value_over_all_red_units(name: str) -> None:
    d = load_example_definition(name)
    assert _green_over_all_red(d, _all_red(d)) == []
    history = [
        ValueRecord(unit, period, code, "number", float(raw), raw=raw)
        for period, unit, code, raw in load_example_history(name)
        if raw not in ("", "i.a.")
    ]
    assert _green_over_all_red(d, history) == []


def test_the_example_check_can_fail() -> None:
    """Judged by the unit targets, the bundled county shows green over all-red TAF schools."""
    d = _with_unit_targets_for_the_county(load_example_definition("stfk"))
    assert ("2026-T1", "R1.2") in _green_over_all_red(d, _all_red(d))


def test_example_sums_have_county_targets() -> None:
    for name in EXAMPLES:
        d = load_example_definition(name)
        found = [f.code for f in check_definition(d)]
        assert "county-target-missing" not in found
        for *_, ind in d.iter_indicators():
            if ind.aggregation in ("sum", "weighted_mean"):
                assert county_target_basis(ind) == "county", (name, ind.code)
