"""A corrected return, through ``bms consolidate`` (issue 12, item 4).

A unit sends a corrected file while the first one is still in ``innkommet/``: the unit is
``duplicate-conflict`` until the controller removes one of them; the next run uses the file
that is left — the correction, or the first file when the correction was the one removed —
and the history shows what happened, with both files' sha256. Asserted on what a controller
looks at: the Enheter and Fylket cells of the written master, the exit codes, and the audit
rows of the history database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from test_roundtrip import PERIOD, RETURNS, county_rows, fill_returns, make_project

from bms_excel.cli import main
from bms_excel.history import open_history
from bms_excel.project import Project, load_project

CORRECTED = {"B": {**RETURNS["B"], "I_SUM": 55, "I_MEAN": 61}}


@pytest.fixture(scope="module")
def base_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("correction"))
    fill_returns(project)
    return project


@pytest.fixture
def project(base_project: Project, tmp_path: Path) -> Project:
    dest = tmp_path / "p"
    shutil.copytree(base_project.root, dest)
    return load_project(dest / "bms.toml")


def consolidate(project: Project) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["--project", str(project.root), "consolidate", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def enheter_row(master: Path, unit: str) -> dict[str, Any]:
    """The unit's row of the Enheter matrix, by indicator code (the header row of codes)."""
    wb = openpyxl.load_workbook(master)
    try:
        rows = list(wb["Enheter"].iter_rows(values_only=True))
    finally:
        wb.close()
    codes = next(r for r in rows if "I_SUM" in r)
    row = next(r for r in rows if r[0] == unit)
    return {c: v for c, v in zip(codes, row, strict=True) if isinstance(c, str)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def send_correction(project: Project) -> tuple[Path, Path]:
    """B's first file stays (renamed, as a second e-mail attachment would); B sends another."""
    first = project.submissions_dir / f"{PERIOD}_B.xlsx"
    kept = first.with_name(f"{PERIOD}_B_forste.xlsx")
    first.rename(kept)
    time.sleep(1.1)  # a later file: collection orders a unit's files by time
    (corrected,) = fill_returns(project, CORRECTED).values()
    return kept, corrected


def events(project: Project) -> list[tuple[int, str, str, str | None]]:
    with open_history(project.history_path, lock=False) as h:
        return [(e.run_id, e.state, e.sha256, e.other_sha256) for e in h.audit_events("B", PERIOD)]


def test_the_correction_is_used_once_the_wrong_file_is_removed(project: Project) -> None:
    code1, run1 = consolidate(project)
    master = Path(run1["master"])
    assert enheter_row(master, "B")["I_SUM"] == 30
    wrong, corrected = send_correction(project)
    wrong_sha, corrected_sha = sha256(wrong), sha256(corrected)

    code2, run2 = consolidate(project)
    assert code2 == 1  # duplicate-conflict is an error finding
    assert run2["units"]["duplicate"] == 1
    # Neither file is used while both are there, not even the one accepted before.
    b = enheter_row(master, "B")
    assert (b["I_SUM"], b["I_MEAN"]) == (None, None)
    assert county_rows(master)["I_SUM"]["Fylkesverdi"] == 40 + 35

    wrong.unlink()  # the controller removes the wrong file
    code3, run3 = consolidate(project)
    assert code3 == code1 and run3["changed"]
    b = enheter_row(master, "B")
    assert (b["I_SUM"], b["I_MEAN"]) == (55, 61)
    county = county_rows(master)
    assert county["I_SUM"]["Fylkesverdi"] == 40 + 55 + 35
    assert [i["value"] for i in run3["indicators"] if i["code"] == "I_MEAN"] == [(70 + 61 + 90) / 3]
    assert events(project) == [
        (run1["run_id"], "accepted", wrong_sha, None),
        (run2["run_id"], "duplicate", corrected_sha, None),
        (run3["run_id"], "accepted", corrected_sha, wrong_sha),
        (run3["run_id"], "superseded", wrong_sha, corrected_sha),
    ]
    with open_history(project.history_path, lock=False) as h:
        states = {s.sha256: s.state for s in h.submissions(PERIOD) if s.unit == "B"}
        values = {(v.unit, v.indicator): v.value for v in h.accepted_values(PERIOD)}
    assert states == {wrong_sha: "superseded", corrected_sha: "accepted"}
    assert values[("B", "I_SUM")] == 55

    # The same folder again: nothing changes, the master shows the same.
    code4, run4 = consolidate(project)
    assert code4 == code3 and not run4["changed"]
    assert len(events(project)) == 4
    assert enheter_row(master, "B") == b


def test_removing_the_correction_instead_keeps_the_first_file(project: Project) -> None:
    _, run1 = consolidate(project)
    master = Path(run1["master"])
    first, corrected = send_correction(project)
    first_sha, corrected_sha = sha256(first), sha256(corrected)
    _, run2 = consolidate(project)
    os.remove(corrected)  # the controller decides the first file was right
    _, run3 = consolidate(project)
    assert not run3["changed"]
    b = enheter_row(master, "B")
    assert (b["I_SUM"], b["I_MEAN"]) == (30, 80)
    assert events(project) == [
        (run1["run_id"], "accepted", first_sha, None),
        (run2["run_id"], "duplicate", corrected_sha, None),
    ]
