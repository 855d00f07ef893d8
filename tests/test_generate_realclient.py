"""Fill a generated workbook as a person would, recalculate in LibreOffice, compare with Python."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from realclient import formula_errors, recalculated_values, require_libreoffice
from test_generate import fill_workbook, generate_one, small_definition

from bms_excel.examples import load_example_definition
from bms_excel.layout import build_layout
from bms_excel.model import Definition
from bms_excel.status import Status, classify_input, evaluate, resolve_rule, status_label

pytestmark = pytest.mark.libreoffice

PERIOD = "2026-T1"


def _expected(
    definition: Definition, unit_code: str, raw: dict[str, Any], comments: dict[str, str]
):
    unit = definition.unit(unit_code)
    layout = build_layout(definition, unit, PERIOD)
    statuses: dict[str, str] = {}
    counts = {"missing": 0, "invalid": 0, "comment": 0}
    for cells in layout.scorecard.indicators:
        if not cells.input:
            continue
        ind = definition.indicator(cells.code)
        rule = resolve_rule(ind, definition.settings, unit, PERIOD)
        value = classify_input(raw.get(cells.code))
        status = evaluate(rule, value)
        statuses[cells.status_ref] = status_label(status)
        counts["missing"] += status is Status.MISSING
        out_of_range = (
            isinstance(value, float)
            and ind.valid_range is not None
            and not ind.valid_range[0] <= value <= ind.valid_range[1]
        )
        counts["invalid"] += status is Status.INVALID or out_of_range
        required = {
            "never": False,
            "when_red": status is Status.RED,
            "when_not_green": status in (Status.RED, Status.YELLOW),
            "always": True,
        }[ind.comment_required]
        counts["comment"] += required and not comments.get(cells.code, "").strip()
    return layout, statuses, counts


def _run(tmp_path: Path, definition: Definition, unit: str, raw: dict[str, Any],
         comments: dict[str, str], actions: list[dict[str, Any]]) -> tuple[Any, dict, dict, dict]:  # fmt: skip
    require_libreoffice()
    path = generate_one(definition, unit, tmp_path / "gen")
    layout, statuses, counts = _expected(definition, unit, raw, comments)
    sc, acts = layout.scorecard, layout.actions
    score_cells = {layout.indicator(code).result_ref: v for code, v in raw.items()}
    score_cells |= {layout.indicator(code).comment_ref: v for code, v in comments.items()}
    action_cells: dict[str, Any] = {}
    for i, action in enumerate(actions):
        for role, value in action.items():
            action_cells[f"{acts.columns[role]}{acts.first_row + i}"] = value
    filled = fill_workbook(
        path,
        {layout.sheets.scorecard: score_cells, layout.sheets.actions: action_cells},
        tmp_path / "filled.xlsx",
    )
    values = recalculated_values(filled, tmp_path / "lo")
    assert formula_errors(values) == []
    del sc
    return layout, values, statuses, counts


def test_filled_workbook_matches_python_status_and_kontroll(tmp_path: Path) -> None:
    definition = load_example_definition("stfk")
    raw = {
        "R1.1": 1.5,  # green at the limit
        "R1.2": "12,5",  # a Norwegian text number: invalid in the cell (not a number)
        "R2.1": "70 %",  # a percent typed as text: invalid
        "T1.2": 9.0,  # lower is better: red, and no comment
        "T2.1": "i.a.",
        "P1.1": 6.04,  # shown 6.0: yellow, comment required when not green
        "P1.2": 7,  # outside the valid range 1-6
        # P1.3 left blank: missing
        "P2.1": 80,
        "K1.1": 4.449,  # shown 4.4: red
        "O1.1": 0.5,
    }
    comments = {"K1.1": "Vi har satt inn tiltak.", "O1.1": "Innenfor budsjett."}
    actions = [
        {"code": "T1.2", "action": "Oppfølging av fravær", "responsible": "Rektor"},  # no deadline
        {
            "code": "K1.1",
            "action": "Brukerundersøkelse",
            "responsible": "Avd.leder",
            "deadline": dt.datetime(2026, 6, 1),
            "status": "Planlagt",
        },
    ]
    layout, values, statuses, counts = _run(tmp_path, definition, "HEIMDAL", raw, comments, actions)
    sheet = values[layout.sheets.scorecard]
    assert {ref: sheet.get(ref) for ref in statuses} == statuses
    assert counts == {"missing": 1, "invalid": 3, "comment": 2}
    ctl = values[layout.sheets.control]
    got = {c.key: ctl[c.count_ref] for c in layout.control.checks}
    assert got == {**counts, "owner": 0, "deadline": 1}
    assert ctl[layout.control.ready.count_ref] == "NEI"
    fixes = {c.key: ctl[c.fix_ref] for c in layout.control.checks}
    assert fixes["owner"] == "OK" and fixes["missing"] != "OK"


def test_correctly_filled_workbook_is_ready(tmp_path: Path) -> None:
    definition = small_definition()
    raw = {"B1.1": 90, "B1.2": 4.2, "B1.3": 8.5, "B1.4": 120, "B1.5": 4.0}
    comments = {"B1.5": "Trivselen har gått ned; vi følger opp.", "B1.4": ""}
    actions = [
        {
            "code": "B1.5",
            "action": "Trivselstiltak",
            "responsible": "Rektor",
            "deadline": dt.datetime(2026, 9, 1),
            "status": "Pågår",
        },
    ]
    layout, values, statuses, counts = _run(tmp_path, definition, "SKOLE1", raw, comments, actions)
    assert counts == {"missing": 0, "invalid": 0, "comment": 0}
    sheet = values[layout.sheets.scorecard]
    assert {ref: sheet.get(ref) for ref in statuses} == statuses
    assert statuses[layout.indicator("B1.5").status_ref] == "Rød"
    assert statuses[layout.indicator("B1.4").status_ref] == "Uten mål"
    ctl = values[layout.sheets.control]
    assert [ctl[c.count_ref] for c in layout.control.checks] == [0, 0, 0, 0, 0]
    assert ctl[layout.control.ready.count_ref] == "JA"
    assert sheet[layout.indicator("O1.1").result_ref] == "Fasit fra KOSTRA"
    assert layout.indicator("O1.1").status_ref not in sheet
