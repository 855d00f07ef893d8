"""``bms import-values``: the controller's own figures into the history database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.examples import example_dir
from bms_excel.project import init_project

CONTROLLER = Path(str(example_dir("stfk"))) / "controller.csv"


def _run(project_root: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["--project", str(project_root), "import-values", *args])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def test_county_figures_are_stored_once(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    code, data = _run(project.root, str(CONTROLLER), "--json")
    assert code == 0 and (data["values"], data["added"]) == (7, 7)
    code, data = _run(project.root, str(CONTROLLER), "--json")
    assert code == 0 and data["added"] == 0  # the same file again changes nothing
    con = sqlite3.connect(project.history_path)
    try:
        rows = con.execute(
            "SELECT unit, indicator, value FROM accepted_values"
            " WHERE period = '2026-T2' ORDER BY indicator"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("STFK", "O1.1", 0.6), ("STFK", "O2.1", 3.1)]


def test_unknown_names_are_located_and_nothing_is_stored(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "period,unit,indicator,value\n2026-T2,STFK,O2.1,3\n2026-T2,OSLO,O2.1,3\n"
        "2026-T2,STFK,X9.9,1\n2031-T1,STFK,O2.1,1\n",
        encoding="utf-8",
    )
    code, data = _run(project.root, str(bad), "--json")
    assert code == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [
        ("unknown-reference", 3),
        ("unknown-reference", 4),
        ("unknown-reference", 5),
    ]
    assert data["added"] == 0 and not project.history_path.exists()


def test_a_malformed_file_is_a_usage_error_with_its_line(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    bad = tmp_path / "bad.csv"
    bad.write_text("period,unit,indicator,value\n2026-T2,STFK,O2.1,abc\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--project", str(project.root), "import-values", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv:2" in result.output
