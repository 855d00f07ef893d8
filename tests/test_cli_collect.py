"""``bms collect`` and ``bms validate`` as a controller runs them: JSON contract, lines, exit codes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ON_TIME, PERIOD, good_entry

from bms_excel.cli import main
from bms_excel.generate import generate_workbooks
from bms_excel.layout import build_layout
from bms_excel.project import Project, init_project
from bms_excel.simulate import fill_workbook

UNITS = ("HEIMDAL", "BYASEN")
LINE = re.compile(
    r"^(?P<file>[^:]+): '(?P<sheet>[^']+)'!(?P<cell>[A-Z]{1,3}\d+): "
    r"(?P<severity>feil|advarsel|info): (?P<message>.+) \[(?P<code>[a-z-]+)\]$"
)


@pytest.fixture(scope="module")
def project_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, dict[str, Path]]:
    """A project and filled returns signed with the project's own secret (copied per test)."""
    root = tmp_path_factory.mktemp("cli") / "fylket"
    project = init_project(root, example="stfk", period=PERIOD)
    definition = project.load_definition()
    result = generate_workbooks(
        definition, PERIOD, out_dir=project.generated_dir, secret=project.secret, units=UNITS
    )
    filled = {}
    for unit, path in zip(UNITS, result.files, strict=True):
        dest = project.root / "ferdig" / path.name
        layout = build_layout(definition, definition.unit(unit), PERIOD)
        fill_workbook(path, dest, layout, good_entry(definition, unit))  # type: ignore[arg-type]
        os.utime(dest, (ON_TIME, ON_TIME))
        filled[unit] = dest
    return project, filled


@pytest.fixture
def project(
    project_files: tuple[Project, dict[str, Path]],
) -> Callable[..., Project]:
    """``project(**{unit: value for R1.1})``: the submissions folder holds the returns."""
    proj, filled = project_files

    def make(**r11: Any) -> Project:
        for old in proj.submissions_dir.iterdir():
            old.unlink()
        for unit, src in filled.items():
            dest = proj.submissions_dir / src.name
            wb = openpyxl.load_workbook(src)
            if unit in r11:
                wb["Målekort"]["I9"] = r11[unit]
            wb.save(dest)
            wb.close()
            os.utime(dest, (ON_TIME, ON_TIME))
        return proj

    return make


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_collect_json_contract(project: Callable[..., Project]) -> None:
    proj = project()
    result = _run("--project", str(proj.root), "collect", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"units", "files", "findings"} <= set(data)
    definition = proj.load_definition()
    assert [u["code"] for u in data["units"]] == [u.code for u in definition.units]
    for u in data["units"]:
        assert {"code", "name", "state", "files"} <= set(u)
        assert u["state"] == ("received" if u["code"] in UNITS else "missing")
    for f in data["files"]:
        assert set(f) == {"path", "sha256", "unit", "period", "state"}
        assert re.fullmatch(r"[0-9a-f]{64}", f["sha256"])
    assert sorted((f["unit"], f["period"], f["state"]) for f in data["files"]) == [
        ("BYASEN", PERIOD, "accepted"),
        ("HEIMDAL", PERIOD, "accepted"),
    ]
    assert data["findings"] == []
    assert Path(data["reminder_csv"]).is_file()


def test_collect_warnings_only_exit_0_and_lines(project: Callable[..., Project]) -> None:
    proj = project(HEIMDAL=None)
    result = _run("--project", str(proj.root), "collect")
    assert result.exit_code == 0, result.output
    lines = [m.groupdict() for m in map(LINE.match, result.stdout.splitlines()) if m]
    assert [(x["file"], x["sheet"], x["cell"], x["severity"], x["code"]) for x in lines] == [
        (f"{PERIOD}_HEIMDAL.xlsx", "Målekort", "I9", "advarsel", "missing-value")
    ]


def test_a_number_typed_as_text_is_an_error_as_in_the_workbook(
    project: Callable[..., Project],
) -> None:
    proj = project(HEIMDAL="2,5")
    result = _run("--project", str(proj.root), "collect")
    assert result.exit_code == 1, result.output
    lines = [m.groupdict() for m in map(LINE.match, result.stdout.splitlines()) if m]
    assert [(x["file"], x["sheet"], x["cell"], x["severity"], x["code"]) for x in lines] == [
        (f"{PERIOD}_HEIMDAL.xlsx", "Målekort", "I9", "feil", "text-number")
    ]


def test_collect_error_exit_1(project: Callable[..., Project]) -> None:
    proj = project(HEIMDAL="abc", BYASEN=25)
    result = _run("--project", str(proj.root), "collect", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert sorted(
        (f["code"], f["severity"], f["file"], f["sheet"], f["cell"]) for f in data["findings"]
    ) == [
        ("not-a-number", "error", f"{PERIOD}_HEIMDAL.xlsx", "Målekort", "I9"),
        ("out-of-range", "error", f"{PERIOD}_BYASEN.xlsx", "Målekort", "I9"),
    ]
    assert all(f["message"] for f in data["findings"])
    human = _run("--project", str(proj.root), "collect")
    assert human.exit_code == 1
    codes = [m["code"] for m in map(LINE.match, human.stdout.splitlines()) if m]
    assert sorted(codes) == ["not-a-number", "out-of-range"]


def test_collect_missing_folder_exit_2(project: Callable[..., Project], tmp_path: Path) -> None:
    proj = project()
    result = _run("--project", str(proj.root), "collect", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert result.stdout == ""


def test_collect_without_project_exit_2(tmp_path: Path) -> None:
    result = _run("--project", str(tmp_path), "collect", str(tmp_path))
    assert result.exit_code == 2


def test_validate_good_and_bad_file(project: Callable[..., Project]) -> None:
    proj = project(BYASEN="abc")
    good = proj.submissions_dir / f"{PERIOD}_HEIMDAL.xlsx"
    bad = proj.submissions_dir / f"{PERIOD}_BYASEN.xlsx"
    ok = _run("--project", str(proj.root), "validate", str(good), "--json")
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["findings"] == []
    assert [(u["code"], u["state"]) for u in data["units"]] == [("HEIMDAL", "received")]
    assert [(f["unit"], f["state"]) for f in data["files"]] == [("HEIMDAL", "accepted")]
    wrong = _run("--project", str(proj.root), "validate", str(bad), "--json")
    assert wrong.exit_code == 1
    data = json.loads(wrong.stdout)
    assert [(f["code"], f["sheet"], f["cell"]) for f in data["findings"]] == [
        ("not-a-number", "Målekort", "I9")
    ]
    missing = _run("--project", str(proj.root), "validate", str(bad.with_name("nope.xlsx")))
    assert missing.exit_code == 2
