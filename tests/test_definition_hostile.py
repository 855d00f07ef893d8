"""The definition is hostile input too: every case below is built here, run in a subprocess
with a timeout (a regression fails instead of hanging the test run), and must end with a
located finding with its code, exit code 1 from ``bms check`` (the definition is the data being
checked) and 2 from ``bms generate`` (the project's configuration is broken) — never a
traceback. The library itself must answer within a second."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import load_definition_text

from bms_excel import definition as d
from bms_excel import definition_yaml as dy
from bms_excel.errors import DefinitionError
from bms_excel.project import init_project

BMS = [str(Path(sys.executable).parent / "bms")]
TIMEOUT = 30  # seconds: generous for a loaded 2-core machine; the real work takes < 0.2 s


def alias_bomb() -> bytes:
    """Billion laughs: ten levels of ten aliases, about 800 bytes growing to 10^10 values."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("county: *a9")
    return ("\n".join(lines) + "\n").encode()


def recursive_sequence() -> bytes:
    return b"county: {code: A, name: B}\nunits: &u [*u]\n"


def recursive_mapping() -> bytes:
    return b"county: &c\n  code: A\n  name: B\n  contact: *c\n"


def recursive_merge() -> bytes:
    return b"county: &c\n  code: A\n  <<: *c\n"


def deep_flow_sequence() -> bytes:
    return b"county: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"


def deep_flow_mapping() -> bytes:
    return b"county: " + b"{a: " * 5_000 + b"1" + b"}" * 5_000 + b"\n"


def deep_block() -> bytes:
    return b"county:\n" + b"".join(b" " * (i + 1) + b"- \n" for i in range(3_000))


def nul_byte() -> bytes:
    return b"version: 1\ncounty: {code: A\x00B, name: Fylket}\n"


def bell_character() -> bytes:
    return b"version: 1\n\ncounty: {code: AB, name: Fyl\x07ket}\n"


def huge_county_name() -> bytes:
    return b"county: {code: A, name: " + b"x" * (50 * 1024 * 1024) + b"}\n"


def long_county_name() -> bytes:
    return b"version: 1\ncounty: {code: A, name: " + b"x" * 100_000 + b"}\n"


def many_aliases() -> bytes:
    return b"a: &a x\nb: [" + b"*a, " * (dy.MAX_ALIASES + 1) + b"]\n"


# (generator, code, line of the finding or None)
CASES: list[tuple[Callable[[], bytes], str, int | None]] = [
    (alias_bomb, "alias-expansion", None),
    (recursive_sequence, "recursive-alias", 2),
    (recursive_mapping, "recursive-alias", 4),
    (recursive_merge, "recursive-alias", 1),
    (deep_flow_sequence, "nesting-too-deep", 1),
    (deep_flow_mapping, "nesting-too-deep", 1),
    (deep_block, "nesting-too-deep", None),
    (nul_byte, "invalid-character", 2),
    (bell_character, "invalid-character", 3),
    (huge_county_name, "file-too-large", None),
    (long_county_name, "value-too-long", 2),
    (many_aliases, "too-many-aliases", 2),
]
IDS = [case[0].__name__ for case in CASES]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [*BMS, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, env=env
    )


@pytest.mark.parametrize(("make", "code", "line"), CASES, ids=IDS)
def test_library_gives_the_located_finding_within_a_second(
    tmp_path: Path, make: Callable[[], bytes], code: str, line: int | None
) -> None:
    path = tmp_path / "definition.yaml"
    path.write_bytes(make())
    start = time.perf_counter()
    with pytest.raises(DefinitionError) as info:
        d.load_definition(path)
    elapsed = time.perf_counter() - start
    # The value too long is cut and the rest validated; every other case stops the reading.
    (problem,) = [p for p in info.value.problems if p.code == code]
    if code != "value-too-long":
        assert len(info.value.problems) == 1
    assert problem.file == str(path)
    if line is not None:
        assert problem.line == line
    assert elapsed < 1.0, f"{elapsed:.2f} s"


@pytest.mark.parametrize(("make", "code", "line"), CASES, ids=IDS)
def test_check_and_generate_report_the_code_without_a_traceback(
    tmp_path: Path, make: Callable[[], bytes], code: str, line: int | None
) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    project.definition_path.write_bytes(make())
    check = _run(["check"], project.root)
    assert check.returncode == 1, check.stdout + check.stderr
    generate = _run(["generate"], project.root)
    assert generate.returncode == 2, generate.stdout + generate.stderr
    for result, stream in ((check, check.stdout), (generate, generate.stderr)):
        assert "Traceback" not in result.stdout + result.stderr
        where = f"definition.yaml:{line}: " if line is not None else "definition.yaml"
        hits = [s for s in stream.splitlines() if s.endswith(f"[{code}]")]
        assert len(hits) == 1 and where in hits[0], stream
    assert not (project.generated_dir / "2026-T2").exists()


def test_the_pure_python_parser_keeps_the_same_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libyaml (PyYAML built without it) the same limits hold."""
    monkeypatch.setattr(dy, "_Loader", dy._PyLoader)
    for make, code, _ in CASES:
        path = tmp_path / f"{make.__name__}.yaml"
        path.write_bytes(make())
        with pytest.raises(DefinitionError) as info:
            d.load_definition(path)
        assert code in [p.code for p in info.value.problems], make.__name__


def test_limits_leave_a_large_county_alone() -> None:
    """5000 units sharing one contact through an alias (as people use anchors) load quickly."""
    units = "".join(
        f"  - {{code: U{i}, name: Enhet {i}, sector: S, contact: *kari, attributes: {{n: {i}}}}}\n"
        for i in range(5_000)
    )
    text = (
        "version: 1\ncounty:\n  code: F\n  name: Fylket\n"
        "  contact: &kari {name: Kari Nordmann, email: kari@example.no}\n"
        "sectors: [{code: S, name: Sektor}]\nunits:\n"
        + units
        + "focus_areas: [{code: R, name: Regional}]\n"
        "periods: [{code: 2026-T1, label: T1, end: 2026-04-30, deadline: 2026-05-15}]\n"
    )
    start = time.perf_counter()
    defn = load_definition_text(text)
    assert time.perf_counter() - start < 5.0
    assert len(defn.units) == 5_000
    assert {u.contact.email for u in defn.units if u.contact} == {"kari@example.no"}


def test_too_many_values_is_a_finding_not_a_hang() -> None:
    """A flat list just over the cap (about 1 MB): the composer stops at the cap."""
    text = "- a\n" * (dy.MAX_VALUES + 10)
    with pytest.raises(DefinitionError) as info:
        load_definition_text(text)
    assert [(p.code, p.line) for p in info.value.problems] == [("too-many-values", dy.MAX_VALUES)]
