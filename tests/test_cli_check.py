"""``bms check`` and ``bms generate`` print definition problems in the README's one-line
format ``file:line: severity: message [code]``, in the chosen language, all at once."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.project import init_project

DEFS = Path(__file__).parent / "definitions"
BMS = str(Path(sys.executable).parent / "bms")
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<sev>[a-z]+): .+ \[(?P<code>[a-z0-9-]+)\]$")
MISTAKES = [
    ("owner: Rektor\n", "ownr: Rektor\n"),
    ("{green: 85, yellow: 80}", "{green: 80, yellow: 85}"),
    ("- code: O1.2", "- code: O1.1"),
    ("deadline: 2026-05-15", "deadline: 2026-04-15"),
]
CODES = ["threshold-direction", "unknown-field", "duplicate-code", "deadline-before-period-end"]


def _broken(folder: Path) -> Path:
    text = (DEFS / "minimal_ok.yaml").read_text(encoding="utf-8")
    for old, new in MISTAKES:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = folder / "definition.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_piped_check_prints_one_line_per_finding_then_the_summary(tmp_path: Path) -> None:
    _broken(tmp_path)
    result = subprocess.run(
        [BMS, "check", "definition.yaml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 1
    *lines, summary = result.stdout.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [(m["file"], m["sev"], m["code"]) for m in matches if m] == [
        ("definition.yaml", "feil", code) for code in CODES
    ]
    assert summary == "definition.yaml: 4 feil, 0 advarsler"


def test_check_speaks_the_chosen_language(tmp_path: Path) -> None:
    _broken(tmp_path)
    result = CliRunner().invoke(main, ["--lang", "en", "check", str(tmp_path / "definition.yaml")])
    assert result.exit_code == 1
    lines = result.output.splitlines()[:-1]
    assert [m["sev"] for m in map(LINE.match, lines) if m] == ["error"] * 4
    assert "mente du" not in result.output and "did you mean 'owner'?" in result.output


def test_on_a_narrow_terminal_the_table_never_cuts_a_code(tmp_path: Path) -> None:
    _broken(tmp_path)
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "70", "TERM": "dumb"}
    proc = subprocess.Popen(
        [BMS, "check", "definition.yaml"], cwd=tmp_path, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=60) == 1
    os.close(leader)
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "┃" in output  # a table on a terminal
    for code in CODES:
        assert re.search(rf"│ {re.escape(code)} +│", output), code


def _rule_mistake(root: Path) -> tuple[Path, int]:
    """A project whose R2.1 is lower-is-better with thresholds the wrong way round."""
    project = init_project(root, example="stfk", period="2026-T2")
    text = project.definition_path.read_text(encoding="utf-8")
    old = "                direction: higher\n                # Ambisjonsnivået fra Heimdals"
    assert text.count(old) == 1
    text = text.replace(old, old.replace("higher", "lower"))
    text = text.replace('target: "70 %"', "thresholds: {green: 5, yellow: 3}", 1)
    project.definition_path.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "{green: 5, yellow: 3}" in s)
    return project.root, line


def test_generate_prints_definition_errors_in_the_same_format(tmp_path: Path) -> None:
    root, line = _rule_mistake(tmp_path / "p")
    for lang, severity in (("nb", "feil"), ("en", "error")):
        result = subprocess.run(
            [BMS, "--lang", lang, "generate"], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 2
        assert result.stdout == ""
        lines = [m for m in map(LINE.match, result.stderr.splitlines()) if m]
        assert [(m["line"], m["sev"], m["code"]) for m in lines] == [
            (str(line), severity, "threshold-direction")
        ]
        assert "disagree" not in result.stderr and "green=" not in result.stderr
        assert "Traceback" not in result.stderr
    assert not (root / "utsendt" / "2026-T2").exists()


def test_every_command_stops_on_a_status_rule_that_cannot_be_built(tmp_path: Path) -> None:
    """collect and consolidate too: the located finding, exit 2, never a ValueError."""
    root, line = _rule_mistake(tmp_path / "p")
    for command in (["collect"], ["consolidate"], ["import-values", "bms.toml"]):
        result = subprocess.run([BMS, *command], cwd=root, capture_output=True, text=True)
        assert result.returncode == 2, (command, result.stderr)
        lines = [m for m in map(LINE.match, result.stderr.splitlines()) if m]
        assert [(m["line"], m["code"]) for m in lines] == [(str(line), "threshold-direction")]
        assert "Traceback" not in result.stderr and "disagree" not in result.stderr
