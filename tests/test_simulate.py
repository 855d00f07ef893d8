"""simulate.py: staff type only into unlocked cells; the demo scenarios collect as planned."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from conftest import PERIOD, SECRET, good_entry

from bms_excel.collect import CollectReport, collect_submissions
from bms_excel.generate import generate_workbooks
from bms_excel.layout import Anchors, build_layout
from bms_excel.model import Definition
from bms_excel.simulate import LockedCellError, SimulationPlan, fill_workbook, simulate_returns


def test_fill_refuses_a_locked_cell(
    tmp_path: Path, stfk: Definition, generated: dict[str, Path]
) -> None:
    # A layout one row off puts the first result into the locked group row above it.
    layout = build_layout(
        stfk, stfk.unit("HEIMDAL"), PERIOD, anchors=Anchors(scorecard_header_row=4)
    )
    dest = tmp_path / "out.xlsx"
    with pytest.raises(LockedCellError):
        fill_workbook(generated["HEIMDAL"], dest, layout, good_entry(stfk, "HEIMDAL"))  # type: ignore[arg-type]
    assert not dest.exists()


def test_fill_writes_a_copy_and_leaves_the_original(
    tmp_path: Path, stfk: Definition, generated: dict[str, Path]
) -> None:
    before = generated["HEIMDAL"].read_bytes()
    layout = build_layout(stfk, stfk.unit("HEIMDAL"), PERIOD)
    fill_workbook(generated["HEIMDAL"], tmp_path / "x.xlsx", layout, good_entry(stfk, "HEIMDAL"))  # type: ignore[arg-type]
    assert generated["HEIMDAL"].read_bytes() == before
    assert (tmp_path / "x.xlsx").read_bytes() != before


@pytest.fixture(scope="module")
def simulated(
    tmp_path_factory: pytest.TempPathFactory, stfk: Definition
) -> tuple[SimulationPlan, CollectReport]:
    units = [u.code for u in stfk.units[:9]]
    out = tmp_path_factory.mktemp("sim")
    result = generate_workbooks(stfk, PERIOD, out_dir=out / "utsendt", secret=SECRET, units=units)
    generated = dict(zip(units, result.files, strict=True))
    plan = simulate_returns(stfk, PERIOD, generated, out / "innkommet")
    return plan, collect_submissions(plan.folder, stfk, PERIOD, SECRET)


def test_every_scenario_is_used(simulated: tuple[SimulationPlan, CollectReport]) -> None:
    plan, _ = simulated
    assert (len(plan.missing), len(plan.text_numbers), len(plan.tampered)) == (1, 1, 1)
    assert (len(plan.duplicate), len(plan.late)) == (1, 3)
    assert len(plan.normal) + len(plan.late) == 8


def test_scenarios_collect_to_the_expected_unit_states(
    simulated: tuple[SimulationPlan, CollectReport], stfk: Definition
) -> None:
    plan, report = simulated
    delivered = {*plan.normal, *plan.late}
    states = {u.code: u.state for u in report.units}
    assert states == {u.code: "received" if u.code in delivered else "missing" for u in stfk.units}
    by_unit: dict[str, set[str]] = defaultdict(set)
    unit_of = {o.path: o.unit for o in report.files}
    for f in report.findings:
        by_unit[unit_of.get(f.file or "") or "-"].add(f.code)
    # The only errors: the numbers typed as text («Ugyldig» in the workbook as well).
    errors = {(unit_of.get(f.file or ""), f.code) for f in report.findings if f.severity == "error"}
    assert errors == {(plan.text_numbers[0], "text-number")}
    assert {"protection-removed", "structure-changed"} <= by_unit[plan.tampered[0]]
    assert "duplicate-file" in by_unit[plan.duplicate[0]]
    assert {u for u, codes in by_unit.items() if "late-submission" in codes} == set(plan.late)
    # The tampered workbook still gives all its values (recovered by indicator code).
    tampered = [v for v in report.batch.values if v.unit == plan.tampered[0]]
    assert tampered and all(v.kind == "number" for v in tampered)
    text = {v.indicator: v.kind for v in report.batch.values if v.unit == plan.text_numbers[0]}
    assert sorted(text.values()).count("not-applicable") == 1
    assert sorted(text.values()).count("invalid") == 2
