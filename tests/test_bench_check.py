"""``bench.check`` and ``make bench-check``: a missed must-target fails, a met one passes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.check import check_files, missed_targets


def _report(**over: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "n": 10_000,
        "per_workbook": [
            {"stage": "floor: unzip all parts", "ratio": None, "floor": None,
             "target_must": None, "met": "—", "available": True, "note": ""},
            {"stage": "collect + validate", "ratio": 3.6, "floor": "unzip",
             "target_must": 4.0, "met": "must", "available": True, "note": ""},
            {"stage": "generate, per unit", "ratio": 2.9, "floor": "rezip_generate",
             "target_must": 3.0, "met": "must", "available": True, "note": ""},
        ],
        "totals": [
            {"stage": "generate, best", "seconds": 55.0, "target_must_s": 60.0, "met": "must",
             "available": True, "note": ""},
            {"stage": "consolidate end to end", "seconds": 44.0, "target_must_s": 45.0,
             "met": "must", "available": True, "note": ""},
        ],
        "memory": {"consolidate_met": "must", "consolidate_e2e_peak_mib": 700.0,
                   "phases_peak_self_mib": {"generate": 300.0}, "peak_children_mib": 200.0},
    }  # fmt: skip
    for key, value in over.items():
        report[key] = value
    return report


def test_a_report_that_meets_every_target_passes() -> None:
    assert missed_targets(_report()) == []


def test_each_missed_target_is_named() -> None:
    report = _report()
    report["per_workbook"][2].update(ratio=6.9, met="missed")
    report["totals"][1].update(seconds=70.4, met="missed")
    report["memory"].update(consolidate_met="missed", consolidate_e2e_peak_mib=1100.0)
    report["memory"]["phases_peak_self_mib"]["generate"] = 2048.0
    missed = missed_targets(report)
    assert len(missed) == 4
    assert missed[0].startswith("generate, per unit: 6.9×")
    assert missed[1].startswith("consolidate end to end: 70.4 s")
    assert "1100" in missed[2] and "2048" in missed[3]


def test_a_stage_with_a_target_that_was_not_measured_fails() -> None:
    report = _report()
    report["per_workbook"][1].update(ratio=None, available=False, met="—", note="no collect")
    assert missed_targets(report) == ["collect + validate: not measured (no collect)"]


def test_memory_of_generation_is_judged_only_at_the_national_size() -> None:
    report = _report(n=300)
    report["memory"]["phases_peak_self_mib"]["generate"] = 2048.0
    assert missed_targets(report) == []


def test_check_files_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_report()), encoding="utf-8")
    bad_report = copy.deepcopy(_report())
    bad_report["totals"][0].update(seconds=119.0, met="missed")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_report), encoding="utf-8")
    assert check_files([good]) == 0
    assert check_files([good, bad]) == 1
    assert "generate, best: 119 s" in capsys.readouterr().err
    assert check_files([tmp_path / "missing.json"]) == 1
