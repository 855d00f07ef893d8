"""The report uses what the master uses when a unit sent a correction (duplicate-conflict).

While both files are in ``innkommet/`` the master uses neither; once the controller removes one
and consolidates, it uses the one left. The report, built from the history afterwards, must
show the same county values in both states (issue 17: every number equals the master's).
"""

from __future__ import annotations

import os
from pathlib import Path

import test_correction
from test_correction import consolidate, send_correction
from test_roundtrip import PERIOD, county_rows

from bms_excel.project import Project
from bms_excel.report.model import build_report

base_project = test_correction.base_project  # the correction tests' fixtures, shared
project = test_correction.project


def report_values(p: Project) -> dict[str, float | None]:
    m = build_report(
        p.load_definition(),
        p.history_path,
        PERIOD,
        submissions_dir=p.submissions_dir,
    )
    return {i.code: i.value for i in m.indicators()}


def master_values(master: Path) -> dict[str, float | None]:
    # «i.a.» (aggregation none) is no number: the report's value is None there.
    rows = county_rows(master).items()
    return {code: v if not isinstance(v := row["Fylkesverdi"], str) else None for code, row in rows}


def test_report_follows_the_master_through_a_correction(project: Project) -> None:
    _, run1 = consolidate(project)
    master = Path(run1["master"])
    assert report_values(project)["I_SUM"] == master_values(master)["I_SUM"] == 40 + 30 + 35
    _, corrected = send_correction(project)
    consolidate(project)  # duplicate-conflict: B is used by neither
    assert report_values(project)["I_SUM"] == master_values(master)["I_SUM"] == 40 + 35
    os.remove(corrected)  # the controller keeps the first file
    consolidate(project)
    assert report_values(project)["I_SUM"] == master_values(master)["I_SUM"] == 40 + 30 + 35
    assert report_values(project) == master_values(master)
