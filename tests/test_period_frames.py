"""The master and the report consolidate a period through one function (issue 14).

:func:`bms_excel.master.run.consolidate_period` is the only sequence of long table, county
values, roll-ups, trends and trend series; the consolidation run and the report both call it,
so what the report says of a period is what the master shows.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
from golden_master import GOLDEN, consolidate_fixture

from bms_excel.history import open_history
from bms_excel.master.run import consolidate_period, usable_values
from bms_excel.project import load_project
from bms_excel.report.model import build_report, held_units

PACKAGE = Path(__file__).parents[1] / "bms_excel"
#: The frame builders: only consolidate_period (and the code they live in) may call them.
BUILDERS = {"build_long_table", "aggregate_county", "rollup_scores", "rollup_county", "trend"}


def _calls(path: Path, function: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = [tree]
    if function is not None:
        nodes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
        assert nodes, f"{function} not in {path}"
    return {
        c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", "")
        for n in nodes
        for c in ast.walk(n)
        if isinstance(c, ast.Call)
    }


def test_the_report_builds_no_frames_of_its_own() -> None:
    calls = _calls(PACKAGE / "report" / "model.py")
    assert "consolidate_period" in calls and "usable_values" in calls
    assert calls & BUILDERS == set()


def test_the_master_builds_its_frames_only_in_consolidate_period() -> None:
    run = PACKAGE / "master" / "run.py"
    assert _calls(run, "consolidate_period") >= BUILDERS
    assert "consolidate_period" in _calls(run, "_consolidate_and_write")
    others = _calls(run) - _calls(run, "consolidate_period")
    assert others & BUILDERS == set()


def test_the_report_shows_the_masters_county_statuses(tmp_path: Path) -> None:
    # The demo's returns consolidated (the golden fixture): the report's focus areas and
    # indicators carry the county statuses and scores of the consolidation's own frames.
    master, history_path = consolidate_fixture(tmp_path)
    project = load_project(history_path.parent / "bms.toml")
    definition = project.load_definition()
    period = json.loads(GOLDEN.read_text(encoding="utf-8"))["period"]
    with open_history(history_path, lock=False) as history:
        held = held_units(history, period, project.submissions_dir)
        frames = consolidate_period(
            history, definition, period, usable_values(history, period, held)
        )
    model = build_report(definition, history_path, period, submissions_dir=project.submissions_dir)
    rollups = frames.rollups[frames.rollups["level"] == "county"]
    area_status = dict(zip(rollups["node"], rollups["status"], strict=True))
    assert [a.status for a in model.areas] == [area_status[a.code] for a in model.areas]
    county = frames.county.set_index("indicator")
    lines = [i for a in model.areas for i in a.indicators()]
    assert len(lines) == len(county) > 10
    for line in lines:
        assert line.status == county.at[line.code, "status"]
        expected = county.at[line.code, "value"]
        assert (line.value is None and pd.isna(expected)) or line.value == expected
    assert master.is_file()
