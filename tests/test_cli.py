"""The CLI as a controller uses it: exit codes, JSON contracts, Norwegian messages."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.definition import load_definition
from bms_excel.examples import example_definition_path
from bms_excel.project import find_project


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_init_creates_a_project_with_a_private_secret(runner: CliRunner, tmp_path: Path) -> None:
    dest = tmp_path / "fylket"
    result = runner.invoke(main, ["init", str(dest), "--example", "stfk"])
    assert result.exit_code == 0, result.output
    cfg = dest / "bms.toml"
    assert cfg.is_file() and (dest / "definition.yaml").is_file()
    assert {p.name for p in dest.iterdir() if p.is_dir()} == {"utsendt", "innkommet", "rapporter"}
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    project = find_project(dest / "innkommet")
    assert project.root == dest.resolve()
    assert len(project.secret) == 64
    assert project.secret.decode() not in result.output
    assert project.secret.decode() not in repr(project)


def test_two_projects_get_different_secrets(runner: CliRunner, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert runner.invoke(main, ["init", str(tmp_path / name)]).exit_code == 0
    assert find_project(tmp_path / "a").secret != find_project(tmp_path / "b").secret


def test_init_refuses_a_non_empty_folder(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("keep me")
    result = runner.invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "ikke tom" in result.output
    assert (tmp_path / "x.txt").read_text() == "keep me"


def test_check_example_exits_0(runner: CliRunner) -> None:
    path = Path(str(example_definition_path("stfk")))
    result = runner.invoke(main, ["check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert all(f["severity"] != "error" for f in data["findings"])
    for f in data["findings"]:
        assert set(f) == {"code", "severity", "message", "file", "sheet", "cell", "line", "path"}


def test_check_broken_definition_exits_1_and_names_the_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = Path(str(example_definition_path("stfk"))).read_text(encoding="utf-8")
    lines = text.splitlines()
    # Break the first indicator's owner line: owner is required (missing-owner is an error).
    idx = next(i for i, line in enumerate(lines) if line.strip().startswith("owner:"))
    del lines[idx]
    bad = tmp_path / "definition.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(bad), "--json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    owners = [f for f in findings if f["code"] == "missing-owner"]
    assert len(owners) == 1
    assert owners[0]["file"].endswith("definition.yaml")
    assert isinstance(owners[0]["line"], int) and abs(owners[0]["line"] - (idx + 1)) < 40


def test_check_schema_error_is_a_finding_with_a_line(runner: CliRunner, tmp_path: Path) -> None:
    text = Path(str(example_definition_path("stfk"))).read_text(encoding="utf-8")
    lines = text.splitlines()
    idx = next(i for i, line in enumerate(lines) if line.strip().startswith("decimals:"))
    indent = lines[idx][: len(lines[idx]) - len(lines[idx].lstrip())]
    lines[idx] = f"{indent}decimals: mange"
    bad = tmp_path / "definition.yaml"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(bad), "--json"])
    assert result.exit_code == 1
    findings = json.loads(result.output)["findings"]
    assert [f["line"] for f in findings if f["severity"] == "error"] == [idx + 1]


def test_check_human_output_is_norwegian(runner: CliRunner, tmp_path: Path) -> None:
    path = Path(str(example_definition_path("stfk")))
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    assert "0 feil" in result.output


def test_check_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "Finner ikke filen" in result.output


def test_commands_without_a_project_say_so(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 2
    assert "bms.toml" in result.output and "bms init" in result.output


def test_check_finds_the_project_from_a_subfolder(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    monkeypatch.chdir(tmp_path / "p" / "innkommet")
    result = runner.invoke(main, ["check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] is not None


def test_lang_option_switches_messages(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--lang", "en", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "File not found" in result.output


def test_demo_json_lists_what_it_made(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(main, ["demo", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert Path(data["project"]) == out.resolve()
    assert Path(data["definition"]).is_file()
    generated = sorted(Path(data["generated"]).glob("*.xlsx"))
    assert len(generated) == 32
    returned = sorted((Path(data["submissions"]) / "2026-T2").rglob("*.xlsx"))
    # 31 returns (one unit missing) plus one forwarded duplicate copy.
    assert len(returned) == 32
    reminders = Path(data["reminders"]).read_text(encoding="utf-8-sig").splitlines()
    assert len(reminders) == 2 and reminders[1].startswith("NAERING;")
    master = Path(data["master"])
    assert master.is_file() and master.parent == out.resolve() / "rapporter"
    import sqlite3

    con = sqlite3.connect(data["history"])
    try:
        states = dict(
            con.execute(
                "SELECT source || ':' || state, COUNT(*) FROM submissions"
                " WHERE period = '2026-T2' GROUP BY 1"
            ).fetchall()
        )
        kostra = con.execute("SELECT COUNT(*) FROM external_values").fetchone()[0]
        dialogue = con.execute(
            "SELECT kind, period, unit FROM dialogue_events ORDER BY id"
        ).fetchall()
        next_states = dict(
            con.execute(
                "SELECT state, COUNT(*) FROM submissions WHERE period = '2026-T3' GROUP BY 1"
            ).fetchall()
        )
    finally:
        con.close()
    # 31 units' workbooks, plus the controller's own county figures (controller.csv); the
    # returned unit's first workbook superseded by its correction.
    assert states == {"unit:accepted": 31, "unit:superseded": 1, "controller:accepted": 1}
    assert kostra == 32
    # The loop: one unit returned, then approved; the next period collected; 2026-T2 closed.
    unit = Path(data["returned_workbook"]).stem.removeprefix("2026-T2_")
    feedback = [d for d in dialogue if d[0] == "feedback"]
    assert [d for d in dialogue if d[0] != "feedback"] == [
        ("returned", "2026-T2", unit),
        ("approved", "2026-T2", unit),
        ("closed", "2026-T2", None),
    ]
    # Feedback to every unit with an accepted return (31), listed for sending.
    assert len(feedback) == 31 and dialogue.index(feedback[0]) == 2
    sent = Path(data["feedback"]) / "manifest.csv"
    assert len(sent.read_text(encoding="utf-8-sig").splitlines()) == 1 + 31
    assert len(list(Path(data["next_generated"]).glob("2026-T3_*.xlsx"))) == 32
    assert next_states["accepted"] == 31 and Path(data["next_master"]).is_file()
    # Running it again replaces its own previous demo ...
    assert runner.invoke(main, ["demo", "--out", str(out), "--json"]).exit_code == 0


def test_demo_never_deletes_a_folder_it_did_not_make(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "precious.xlsx").write_bytes(b"data")
    result = runner.invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "precious.xlsx").read_bytes() == b"data"


def test_installed_console_script_runs() -> None:
    exe = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "bms"
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    import subprocess

    cp = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=False)
    assert cp.returncode == 0 and "check" in cp.stdout


@pytest.mark.parametrize(
    ("in_toml", "option", "expected"),
    [
        (None, None, "nn"),  # bms.toml is silent: the definition's settings.language
        ("en", None, "en"),  # bms.toml before the definition
        ("en", "nb", "nb"),  # --lang before both
    ],
)
def test_the_workbook_language_is_option_then_bms_toml_then_definition(
    runner: CliRunner, tmp_path: Path, in_toml: str | None, option: str | None, expected: str
) -> None:
    from python_calamine import CalamineWorkbook

    from bms_excel.i18n import t

    result = runner.invoke(main, ["init", str(tmp_path / "p"), "--example", "nynorsk"])
    assert result.exit_code == 0, result.output
    config = tmp_path / "p" / "bms.toml"
    lines = [ln for ln in config.read_text(encoding="utf-8").splitlines() if "language" not in ln]
    if in_toml:
        lines.insert(lines.index("[project]") + 1, f'language = "{in_toml}"')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["--project", str(tmp_path / "p"), *(["--lang", option] if option else [])]
    result = runner.invoke(main, [*args, "generate", "--units", "FIRDA", "--json"])
    assert result.exit_code == 0, result.output
    made = Path(json.loads(result.output)["out"]) / json.loads(result.output)["files"][0]["file"]
    book = CalamineWorkbook.from_path(str(made))
    meta = dict(r[:2] for r in book.get_sheet_by_name(t("wb.sheet.meta", expected)).to_python())
    assert meta["language"] == expected


def test_a_broken_definition_without_a_language_in_bms_toml_is_still_checked(
    runner: CliRunner, tmp_path: Path
) -> None:
    # The language rule reads the definition when bms.toml is silent; a definition that does
    # not load must still reach `bms check`, which reports it.
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    config = tmp_path / "p" / "bms.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        "\n".join(ln for ln in text.splitlines() if "language" not in ln), encoding="utf-8"
    )
    (tmp_path / "p" / "definition.yaml").write_text("county: [\n", encoding="utf-8")
    result = runner.invoke(main, ["--project", str(tmp_path / "p"), "check", "--json"])
    assert result.exit_code == 1, result.output
    assert [f["code"] for f in json.loads(result.output)["findings"]] == ["yaml-syntax"]


def test_init_without_example_writes_the_small_starter(runner: CliRunner, tmp_path: Path) -> None:
    """One sector, two units, one indicator per focus area; `bms check` finds no error."""
    assert runner.invoke(main, ["init", str(tmp_path / "p")]).exit_code == 0
    path = tmp_path / "p" / "definition.yaml"
    assert path.read_text(encoding="utf-8").startswith("# ===")  # commented
    defn = load_definition(path)
    assert (len(defn.sectors), len(defn.units)) == (1, 2)
    assert [len([i for g in a.goals for f in g.factors for i in f.indicators])
            for a in defn.focus_areas] == [1] * len(defn.focus_areas)  # fmt: skip
    assert len(defn.focus_areas) == 4
    result = runner.invoke(main, ["check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"] == []
    assert runner.invoke(main, ["--project", str(tmp_path / "p"), "generate"]).exit_code == 0
