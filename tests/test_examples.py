"""The bundled example scorecards (bms_excel/examples): valid, consistent, true to the seeds."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from helpers import load_example_history

from bms_excel.examples import (
    EXAMPLES,
    example_definition_path,
    example_dir,
    load_example_definition,
)
from bms_excel.examples.make_history import generate, render
from bms_excel.model import Definition, effective_target, in_scope

SEED_FOCUS_AREAS = [
    ("R", "Regional utvikling"),
    ("T", "Tjenesteproduksjon"),
    ("P", "Personal og kompetanse"),
    ("K", "Kvalitet og service"),
    ("O", "Økonomi"),
]
CLASSIC_FOCUS_AREAS = [
    "Økonomi",
    "Brukarar",
    "Interne prosessar",
    "Medarbeidarar",
    "Læring og fornying",
]
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@pytest.fixture(scope="module", params=EXAMPLES)
def example(request: pytest.FixtureRequest) -> tuple[str, Definition]:
    return request.param, load_example_definition(request.param)


@pytest.fixture(scope="module")
def stfk() -> Definition:
    return load_example_definition("stfk")


# -- API -------------------------------------------------------------------------------------


def test_api_paths_and_unknown_name() -> None:
    for name in EXAMPLES:
        assert example_dir(name).is_dir()
        assert example_definition_path(name).is_file()
        # A real path, so ``bms init`` can copy it.
        assert Path(str(example_definition_path(name))).is_file()
    for call in (example_dir, example_definition_path, load_example_history):
        with pytest.raises(KeyError):
            call("finnes-ikke")


def test_history_rows_are_text_tuples() -> None:
    rows = load_example_history("stfk")
    assert rows
    assert all(isinstance(r, tuple) and len(r) == 4 for r in rows)
    assert all(isinstance(x, str) for r in rows for x in r)


# -- both examples ---------------------------------------------------------------------------


def test_validates_against_model(example: tuple[str, Definition]) -> None:
    name, _ = example
    text = example_definition_path(name).read_text(encoding="utf-8")
    Definition.model_validate(yaml.safe_load(text))


def test_quality_checks_give_no_errors(example: tuple[str, Definition]) -> None:
    if importlib.util.find_spec("bms_excel.definition") is None:
        pytest.skip("bms_excel.definition not available")
    from bms_excel.checks import check_definition

    name, defn = example
    errors = [f for f in check_definition(defn) if f.severity == "error"]
    assert errors == [], f"{name}: {errors}"


def test_every_indicator_has_an_owner_and_target(example: tuple[str, Definition]) -> None:
    _, defn = example
    for *_, ind in defn.iter_indicators():
        assert ind.owner, ind.code
        assert ind.target is not None, ind.code


def test_codes_nest(example: tuple[str, Definition]) -> None:
    _, defn = example
    for area, _goal, factor, ind in defn.iter_indicators():
        assert factor.code.startswith(area.code), factor.code
        assert ind.code.startswith(factor.code + "."), ind.code


def test_units_within_max_indicators(example: tuple[str, Definition]) -> None:
    _, defn = example
    limit = defn.settings.max_indicators_per_unit
    for unit in defn.units:
        count = len(defn.indicators_for_unit(unit))
        assert 1 <= count <= limit, (unit.code, count)


def test_history_rows_are_consistent(example: tuple[str, Definition]) -> None:
    name, defn = example
    rows = load_example_history(name)
    assert rows, name
    periods = {p.code for p in defn.periods}
    seen: set[tuple[str, str, str]] = set()
    blanks = not_applicable = 0
    for period, unit_code, ind_code, value in rows:
        assert period in periods, period
        unit = defn.unit(unit_code)
        ind = defn.indicator(ind_code)
        assert in_scope(ind, unit), (unit_code, ind_code)
        assert ind in defn.indicators_for_unit(unit)
        assert ind.source == "unit", ind_code
        key = (period, unit_code, ind_code)
        assert key not in seen, key
        seen.add(key)
        if value == "":
            blanks += 1
            continue
        if value == "i.a.":
            not_applicable += 1
            continue
        assert NUMBER.match(value), value
        decimals = len(value.split(".")[1]) if "." in value else 0
        assert decimals == ind.decimals, (ind_code, value)
        if ind.valid_range is not None:
            low, high = ind.valid_range
            assert low <= float(value) <= high, (key, value)
    assert blanks >= 1 and not_applicable >= 1


def test_history_covers_every_reporting_unit(example: tuple[str, Definition]) -> None:
    name, defn = example
    rows = load_example_history(name)
    history_periods = sorted({r[0] for r in rows})
    annual = [p for p in history_periods if defn.period(p).kind == "annual"]
    have = {(r[0], r[1], r[2]) for r in rows}
    for unit in defn.units:
        for ind in defn.indicators_for_unit(unit):
            if ind.source != "unit":
                continue
            wanted = annual if ind.frequency == "annual" else history_periods
            for period in wanted:
                assert (period, unit.code, ind.code) in have


def test_history_file_is_reproducible(example: tuple[str, Definition]) -> None:
    name, defn = example
    committed = (example_dir(name) / "history.csv").read_text(encoding="utf-8")
    assert render(generate(defn, name)) == committed


def test_links_point_to_goals_or_factors(example: tuple[str, Definition]) -> None:
    _, defn = example
    codes = {g.code for a in defn.focus_areas for g in a.goals}
    codes |= {f.code for a in defn.focus_areas for g in a.goals for f in g.factors}
    for link in defn.links:
        assert link.source in codes and link.target in codes, link


# -- STFK: true to the seeds -----------------------------------------------------------------


def test_stfk_focus_areas_in_seed_order(stfk: Definition) -> None:
    assert [(a.code, a.name) for a in stfk.focus_areas] == SEED_FOCUS_AREAS
    assert stfk.county.code == "STFK"
    assert stfk.settings.language == "nb"
    assert stfk.settings.max_indicators_per_unit == 12


def test_stfk_has_26_schools_including_heimdal(stfk: Definition) -> None:
    schools = [u for u in stfk.units if u.sector == "OPP"]
    assert len(schools) == 26
    assert len({u.name for u in schools}) == 26
    assert stfk.unit("HEIMDAL").name == "Heimdal videregående skole"
    for unit in schools:
        assert unit.attributes["elever"] > 0 and unit.attributes["ansatte"] > 0
    for unit in stfk.units:
        assert unit.contact is not None and unit.contact.email, unit.code
        assert unit.contact.email.endswith("@stfk.no")
        assert len(unit.code) <= 20 and unit.code.isascii()
        assert "ansatte" in unit.attributes


def test_stfk_heimdal_indicators(stfk: Definition) -> None:
    goal = stfk.focus_areas[0].goals[0]
    assert goal.name.startswith("VGO i Sør-Trøndelag")
    assert [f.code for f in goal.factors] == ["R1", "R2"]
    assert goal.factors[0].name == "God kontakt med samfunnets arbeidsliv"
    assert goal.factors[1].name == "Å høyne skolens status"
    assert stfk.indicator("R1.1").name == "Omfang/bruk av alternative opplæringsarenaer"
    assert stfk.indicator("R1.2").name == "TAF-igangsetting"
    r21 = stfk.indicator("R2.1")
    assert r21.name == "Andel primærsøkere"
    assert r21.target is not None and r21.target.value == 70
    heimdal = stfk.unit("HEIMDAL")
    for code in ("R1.1", "R1.2", "R2.1"):
        assert in_scope(stfk.indicator(code), heimdal)


def test_stfk_tonsberg_user_indicators(stfk: Definition) -> None:
    expected = {
        "K1.1": "Brukertilfredshet – kvalitet på tjenester",
        "K2.1": "Brukernes kjennskap til tjenestene",
        "K2.2": "Brukertilfredshet – informasjon",
        "K3.1": "Responstid henvendelser",
        "K3.2": "Brukertilfredshet – service",
    }
    for code, name in expected.items():
        ind = stfk.indicator(code)
        assert ind.name == name
        if code == "K3.1":
            assert ind.direction == "lower" and ind.unit_of_measure == "dager"
            continue
        assert ind.target is not None
        assert (ind.target.low, ind.target.high, ind.target.text) == (4.5, 5.0, "5 – 4,5")
        assert ind.valid_range == (1, 6) and ind.decimals == 1


def test_stfk_uses_the_whole_model(stfk: Definition) -> None:
    inds = [ind for *_, ind in stfk.iter_indicators()]
    assert 25 <= len(inds) <= 35
    assert {i.direction for i in inds} == {"higher", "lower", "range"}
    assert {i.source for i in inds} == {"unit", "kostra", "controller"}
    assert {i.frequency for i in inds} == {"tertial", "annual"}
    assert {"mean", "weighted_mean", "sum", "median", "max", "min", "none"} <= {
        i.aggregation for i in inds
    }
    assert {i.timing for i in inds} == {"leading", "lagging"}
    assert {"when_red", "when_not_green", "always"} <= {i.comment_required for i in inds}
    assert {i.result_level for i in inds} == {0, 1, 2, 3, 4}
    assert sum(1 for i in inds if (i.result_level or 0) >= 2) >= len(inds) / 4
    scopes = [i.scope for i in inds]
    assert any(s.all for s in scopes) and any(s.county_only for s in scopes)
    assert any(s.sectors for s in scopes) and any(s.units for s in scopes)
    targets = [i.target for i in inds if i.target is not None]
    assert any(t.text is None and not t.is_band for t in targets)  # plain number
    assert any(t.text == "70 %" for t in targets)  # text
    assert any(t.is_band and t.text for t in targets)  # band written as text
    assert any(t.is_band and t.text is None for t in targets)  # band as mapping
    assert sum(1 for i in inds if i.thresholds) >= 3
    assert any(i.yellow_percent for i in inds) and any(i.tolerance for i in inds)
    assert any(i.kostra for i in inds) and all(i.kostra for i in inds if i.source == "kostra")
    overrides = [o for i in inds for o in i.overrides]
    assert any(o.unit == "HEIMDAL" for o in overrides)
    assert any(o.sector for o in overrides)
    assert any(o.period for o in overrides)
    assert all(i.weight_by in {"elever", "ansatte"} for i in inds if i.weight_by)


def test_stfk_periods(stfk: Definition) -> None:
    assert [p.code for p in stfk.periods] == [
        "2025-T1",
        "2025-T2",
        "2025",
        "2026-T1",
        "2026-T2",
        "2026-T3",  # the demo's next period (the dialogue loop)
        "2026",
    ]
    for period in stfk.periods:
        assert period.end.strftime("%d.%m") in {"30.04", "31.08", "31.12"}
        assert 10 <= (period.deadline - period.end).days <= 20
        assert period.kind == ("annual" if "-" not in period.code else "tertial")


def test_stfk_history_shows_trends_and_all_statuses(stfk: Definition) -> None:
    """Sick leave (P1.1, lower is better): some units improve, some decline; green and red."""
    series: dict[str, list[float]] = {}
    colours: set[str] = set()
    for period, unit_code, ind_code, value in load_example_history("stfk"):
        if ind_code != "P1.1" or value in ("", "i.a."):
            continue
        unit = stfk.unit(unit_code)
        series.setdefault(unit_code, []).append(float(value))
        _, thresholds = effective_target(stfk.indicator("P1.1"), unit, period)
        assert thresholds is not None
        x = float(value)
        colours.add(
            "green" if x <= thresholds.green else "yellow" if x <= thresholds.yellow else "red"
        )
    full = [v for v in series.values() if len(v) == 3]
    assert any(v[2] < v[0] for v in full) and any(v[2] > v[0] for v in full)
    assert colours == {"green", "yellow", "red"}


def test_history_statuses_mix(example: tuple[str, Definition]) -> None:
    """Under the product's own status rules the history has green, yellow and red values."""
    if importlib.util.find_spec("bms_excel.status") is None:
        pytest.skip("bms_excel.status not available")
    from bms_excel.status import Status, evaluate, resolve_rule

    name, defn = example
    seen: set[Status] = set()
    for period, unit_code, ind_code, value in load_example_history(name):
        if value in ("", "i.a."):
            continue
        rule = resolve_rule(defn.indicator(ind_code), defn.settings, defn.unit(unit_code), period)
        seen.add(evaluate(rule, float(value)))
    assert {Status.GREEN, Status.YELLOW, Status.RED} <= seen


# -- nynorsk ---------------------------------------------------------------------------------


def test_nynorsk_example() -> None:
    defn = load_example_definition("nynorsk")
    assert defn.settings.language == "nn"
    assert [a.name for a in defn.focus_areas] == CLASSIC_FOCUS_AREAS
    assert len(defn.units) == 3
    assert 6 <= sum(1 for _ in defn.iter_indicators()) <= 10
