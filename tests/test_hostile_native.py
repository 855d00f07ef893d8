"""One file never stops a run, memory stays bounded, any file name is safe, a crash is not a
finding (issue 12, items 1, 2, 3 and 10), on hostile returns built in the test run."""

from __future__ import annotations

import faulthandler
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ON_TIME, PERIOD, good_entry
from hostile_native import (
    FAR,
    GIB,
    empty_far_cell_bytes,
    far_cell_bytes,
    lying_zip_bytes,
    prefixed_bytes,
    run_measured,
    sheet_part,
    unreferenced_far_bytes,
    write_raw_name,
)
from hypothesis import given
from hypothesis import strategies as st

import bms_excel.collect as collect_module
from bms_excel.cli import EXIT_INTERNAL, main
from bms_excel.collect import FileOutcome, process_files
from bms_excel.generate import generate_workbooks
from bms_excel.layout import build_layout, sheet_names
from bms_excel.project import Project, init_project
from bms_excel.reader import Limits, read_submission
from bms_excel.simulate import fill_workbook
from bms_excel.submissions import escape_name, unescape_name

SCORECARD = sheet_names("nb").scorecard
BMS = [str(Path(sys.executable).with_name("bms"))]
LATIN1_NAME = "2026-T2_\xe6\xf8\xe5.xlsx".encode("latin-1")  # not UTF-8
FORGED = b"ny\n2026-T2_HEIMDAL.xlsx: info: alt i orden [late-submission].pdf"

needs_posix = pytest.mark.skipif(os.name != "posix", reason="rlimits and raw byte names: POSIX")
needs_fork = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the fault is injected into workers by patching the parent before they fork",
)


@pytest.fixture(scope="module")
def returns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, dict[str, Path]]:
    """A project and three filled returns signed with its secret."""
    root = tmp_path_factory.mktemp("native") / "fylket"
    project = init_project(root, example="stfk", period=PERIOD)
    definition = project.load_definition()
    units = tuple(u.code for u in definition.units[:3])
    result = generate_workbooks(
        definition, PERIOD, out_dir=project.generated_dir, secret=project.secret, units=units
    )
    filled = {}
    for unit, path in zip(units, result.files, strict=True):
        dest = project.root / "ferdig" / path.name
        layout = build_layout(definition, definition.unit(unit), PERIOD)
        fill_workbook(path, dest, layout, good_entry(definition, unit))  # type: ignore[arg-type]
        os.utime(dest, (ON_TIME, ON_TIME))
        filled[unit] = dest
    return project, filled


def _foreign_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"], sheet["B2"] = "Budsjett", 12
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def hostile_project(returns: tuple[Project, dict[str, Path]]) -> tuple[Project, dict[str, str]]:
    """The submissions folder: good returns mixed with every hostile case of this file.

    Returns the project and file name (as shown) → the unit whose values it must deliver or
    the finding code it must get."""
    project, filled = returns
    inbox = project.submissions_dir
    shutil.rmtree(inbox)
    inbox.mkdir()
    (first, a), (second, b), (third, c) = filled.items()
    expect: dict[str, str] = {}

    shutil.copy2(a, inbox / a.name)
    expect[a.name] = first
    good_b = b.read_bytes()
    far = inbox / b.name
    far.write_bytes(far_cell_bytes(good_b, sheet_part(good_b, SCORECARD)))
    os.utime(far, (ON_TIME, ON_TIME))
    expect[far.name] = second  # the far cell is left out, the return is read
    good_c = c.read_bytes()
    bomb = inbox / "zip-bombe.xlsx"
    bomb.write_bytes(lying_zip_bytes(good_c, sheet_part(good_c, SCORECARD)))
    expect[bomb.name] = "zip-bomb"
    latin1 = write_raw_name(inbox, LATIN1_NAME, good_c)
    os.utime(latin1, (ON_TIME, ON_TIME))
    expect[escape_name(latin1.name)] = third
    foreign = _foreign_workbook()
    part = sheet_part(foreign, "Sheet")
    (inbox / "fremmed.xlsx").write_bytes(far_cell_bytes(foreign, part))
    expect["fremmed.xlsx"] = "cells-outside-form"
    (inbox / "uten-adresser.xlsx").write_bytes(unreferenced_far_bytes(foreign, part))
    expect["uten-adresser.xlsx"] = "sheet-too-large"
    write_raw_name(inbox, FORGED, b"%PDF-1.4\n")
    expect[escape_name(os.fsdecode(FORGED))] = "not-a-workbook"
    (inbox / "sub").mkdir()
    (inbox / "sub" / "loop").symlink_to(inbox)
    expect["sub/loop"] = "symlink-loop"
    return project, expect


def _codes(findings: list[dict[str, Any]], file: str) -> set[str]:
    return {f["code"] for f in findings if f["file"] == file}


@needs_posix
def test_collect_reads_every_good_file_beside_hostile_ones_within_1_gib(
    hostile_project: tuple[Project, dict[str, str]],
) -> None:
    project, expect = hostile_project
    rc, out, err, peak = run_measured([*BMS, "collect", "--json"], project.root)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert rc == 1  # error findings (the bomb, the PDF …), and nothing else went wrong
    data = json.loads(out.decode("utf-8"))  # strict UTF-8: a raw Latin-1 byte would fail here
    files = {f["path"]: f for f in data["files"]}
    for name, wanted in expect.items():
        if wanted.isupper():  # a unit code: that unit's return is read and accepted
            assert files[name]["state"] == "accepted", (name, files[name])
            assert files[name]["unit"] == wanted
        else:
            assert wanted in _codes(data["findings"], name), (name, data["findings"])
    far = [f for f in data["findings"] if f["code"] == "cells-outside-form"]
    assert {(f["sheet"], f["cell"]) for f in far} == {(SCORECARD, FAR), ("Sheet", FAR)}
    units = {u["code"]: u["state"] for u in data["units"]}
    assert [units[v] for v in expect.values() if v.isupper()] == ["received"] * 3
    assert peak < GIB, f"peak RSS {peak / 2**20:.0f} MiB"


@needs_posix
def test_a_crafted_name_cannot_forge_or_split_a_finding_line(
    hostile_project: tuple[Project, dict[str, str]],
) -> None:
    project, _ = hostile_project
    rc, out, err, _ = run_measured([*BMS, "collect"], project.root, {"COLUMNS": "400"})
    assert rc == 1 and b"Traceback" not in err
    lines = out.decode("utf-8").splitlines()
    assert not any(line.startswith("2026-T2_HEIMDAL.xlsx: info: alt i orden") for line in lines)
    shown = escape_name(os.fsdecode(FORGED))
    assert "\n" not in shown
    assert any(line.startswith(shown + ": ") and "[not-a-workbook]" in line for line in lines)


@needs_posix
def test_consolidate_keeps_the_raw_name_and_writes_the_master(
    hostile_project: tuple[Project, dict[str, str]],
) -> None:
    project, _ = hostile_project
    rc, _, err, peak = run_measured([*BMS, "consolidate"], project.root)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert rc == 1
    masters = list(project.reports_dir.glob("bms_*.xlsx"))
    assert len(masters) == 1
    with sqlite3.connect(project.root / "bms.sqlite") as db:
        paths = {row[0] for row in db.execute("SELECT path FROM submissions")}
    shown = escape_name(os.fsdecode(LATIN1_NAME))
    assert shown in paths and shown.isascii()
    assert os.fsencode(unescape_name(shown)) == LATIN1_NAME  # the raw name, for the audit trail
    assert peak < GIB


@needs_posix
def test_validate_single_file_with_a_far_cell(returns: tuple[Project, dict[str, Path]]) -> None:
    project, filled = returns
    good = next(iter(filled.values()))
    path = project.root / "vedlegg.xlsx"
    data = good.read_bytes()
    path.write_bytes(far_cell_bytes(data, sheet_part(data, SCORECARD)))
    rc, out, err, peak = run_measured([*BMS, "validate", "--json", str(path)], project.root)
    assert b"Traceback" not in err and rc == 0  # read, with a warning (it was rc 134)
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert "cells-outside-form" in codes
    assert peak < GIB


def test_the_lying_archive_stops_at_its_declared_size(returns: Any, tmp_path: Path) -> None:
    _, filled = returns
    data = next(iter(filled.values())).read_bytes()
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(lying_zip_bytes(data, sheet_part(data, SCORECARD)))
    assert [f.code for f in read_submission(path).findings] == ["zip-bomb"]


def test_cells_beyond_the_area_are_left_out_and_located(returns: Any, tmp_path: Path) -> None:
    _, filled = returns
    data = next(iter(filled.values())).read_bytes()
    part = sheet_part(data, SCORECARD)
    path = tmp_path / "far.xlsx"
    path.write_bytes(far_cell_bytes(data, part, "AA200", "77"))
    inside = read_submission(path, limits=Limits(max_rows=200, max_cols=27))
    assert inside.findings == [] and inside.data is not None
    assert inside.data.values[SCORECARD][(200, 27)] == 77
    outside = read_submission(path, limits=Limits(max_rows=199, max_cols=27))
    assert [(f.code, f.sheet, f.cell) for f in outside.findings] == [
        ("cells-outside-form", SCORECARD, "AA200")
    ]
    assert outside.data is not None and (200, 27) not in outside.data.values[SCORECARD]
    assert {k: v for k, v in inside.data.values[SCORECARD].items() if k != (200, 27)} == (
        outside.data.values[SCORECARD]
    )
    path.write_bytes(empty_far_cell_bytes(data, part))
    empty = read_submission(path, limits=Limits(max_rows=199, max_cols=27))
    assert empty.findings == [] and empty.data is not None  # a formatted empty cell: no value
    assert empty.data.values[SCORECARD] == outside.data.values[SCORECARD]
    path.write_bytes(prefixed_bytes(far_cell_bytes(data, part, "AA200", "77"), part))
    prefixed = read_submission(path, limits=Limits(max_rows=199, max_cols=27))
    assert [(f.code, f.sheet, f.cell) for f in prefixed.findings] == [
        ("cells-outside-form", SCORECARD, "AA200")
    ]  # <x:c> as the Open XML SDK writes it is clipped the same way
    assert prefixed.data is not None
    assert prefixed.data.values[SCORECARD] == outside.data.values[SCORECARD]
    path.write_bytes(unreferenced_far_bytes(data, part, row=210))
    unsure = read_submission(path, limits=Limits(max_rows=209, max_cols=27))
    assert [(f.code, f.sheet) for f in unsure.findings] == [("sheet-too-large", SCORECARD)]
    assert unsure.data is not None and SCORECARD not in unsure.data.values


def _items(
    filled: dict[str, Path], folder: Path, extra: dict[str, bytes]
) -> list[tuple[Path, str]]:
    folder.mkdir(exist_ok=True)
    items = []
    for i in range(6):  # enough files for several tasks on two workers
        for unit, src in filled.items():
            dest = folder / f"{i}_{unit}.xlsx"
            shutil.copy2(src, dest)
            items.append((dest, dest.name))
    for name, blob in extra.items():
        (folder / name).write_bytes(blob)
        items.insert(len(items) // 2, (folder / name, name))
    return items


def _summary(outcomes: list[FileOutcome]) -> list[tuple[str, str, list[str]]]:
    return [(o.path, o.state, sorted(f.code for f in o.findings)) for o in outcomes]


@needs_posix
def test_calamine_aborting_costs_only_its_file(returns: Any, tmp_path: Path) -> None:
    """With the area guard switched off, calamine really aborts on the far cell (SIGABRT)."""
    project, filled = returns
    definition = project.load_definition()
    data = next(iter(filled.values())).read_bytes()
    crash = far_cell_bytes(data, sheet_part(data, SCORECARD))
    items = _items(filled, tmp_path, {"krasj.xlsx": crash})
    unguarded = Limits(max_rows=2_000_000, max_cols=20_000)
    outcomes = list(
        process_files(items, definition, project.secret, PERIOD, processes=2, limits=unguarded)
    )
    got = {o.path: o for o in outcomes}
    assert [f.code for f in got["krasj.xlsx"].findings] == ["reader-crashed"]
    plain = [(p, d) for p, d in items if d != "krasj.xlsx"]
    expected = list(process_files(plain, definition, project.secret, PERIOD, processes=2))
    assert _summary([o for o in outcomes if o.path != "krasj.xlsx"]) == _summary(expected)
    assert all(o.state == "accepted" for o in expected)


_CEILING = """
import json, sys
from pathlib import Path
from bms_excel.collect import process_files
from bms_excel.project import find_project
from bms_excel.reader import Limits
project = find_project(explicit=Path(sys.argv[1]))
items = [(Path(p), Path(p).name) for p in sys.argv[2:]]
unguarded = Limits(max_rows=2_000_000, max_cols=20_000)
outcomes = process_files(items, project.load_definition(), project.secret, "2026-T2",
                         processes=1, limits=unguarded)
print(json.dumps({o.path: [o.state, [f.code for f in o.findings]] for o in outcomes}))
"""


@needs_posix
def test_the_memory_ceiling_stops_a_file_that_needs_gigabytes(returns: Any, tmp_path: Path) -> None:
    """A grid of 300 000 × 200 cells (about 2 GB in calamine) within an unguarded area: the
    worker's ceiling makes the allocation fail in that worker, and the run stays under 1 GiB."""
    project, filled = returns
    good = next(iter(filled.values()))
    data = good.read_bytes()
    big = tmp_path / "stor.xlsx"
    big.write_bytes(far_cell_bytes(data, sheet_part(data, SCORECARD), "GR300000"))
    script = [sys.executable, "-c", _CEILING, str(project.root), str(big), str(good)]
    rc, out, err, peak = run_measured(script, tmp_path)
    assert rc == 0, err.decode(errors="replace")
    assert b"backtrace" not in err and b"Traceback" not in err  # calamine's abort stays quiet
    got = json.loads(out)
    assert got["stor.xlsx"] == ["rejected", ["reader-crashed"]]
    assert got[good.name][0] == "accepted"
    assert peak < GIB, f"peak RSS {peak / 2**20:.0f} MiB"


def _spin_on(name: str) -> Callable[..., Any]:
    original = collect_module.read_submission

    def read(path: Path, **kwargs: Any) -> Any:
        if kwargs.get("display_name") == name:
            while True:  # a native loop would look the same to the kernel's CPU limit
                pass
        return original(path, **kwargs)

    return read


def _abort_on(name: str) -> Callable[..., Any]:
    original = collect_module.read_submission

    def read(path: Path, **kwargs: Any) -> Any:
        if kwargs.get("display_name") == name:
            faulthandler.disable()  # pytest's handler would print the worker's stack
            os.abort()  # what a native library does when it gives up
        return original(path, **kwargs)

    return read


@needs_posix
@needs_fork
def test_a_file_that_never_finishes_is_stopped_by_the_cpu_limit(
    returns: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, filled = returns
    definition = project.load_definition()
    items = _items(filled, tmp_path, {"treg.xlsx": b"x"})
    monkeypatch.setattr(collect_module, "read_submission", _spin_on("treg.xlsx"))
    outcomes = list(
        process_files(
            items, definition, project.secret, PERIOD, processes=2, limits=Limits(time_budget=1)
        )
    )
    got = {o.path: o for o in outcomes}
    assert [f.code for f in got["treg.xlsx"].findings] == ["timeout"]
    assert [o.path for o in outcomes] == [d for _, d in items]
    assert all(o.state == "accepted" for o in outcomes if o.path != "treg.xlsx")


@needs_posix
@needs_fork
def test_a_worker_killed_mid_batch_costs_only_its_file(
    returns: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, filled = returns
    definition = project.load_definition()
    items = _items(filled, tmp_path, {"krasj.xlsx": b"x"})
    monkeypatch.setattr(collect_module, "read_submission", _abort_on("krasj.xlsx"))
    outcomes = list(process_files(items, definition, project.secret, PERIOD, processes=2))
    assert [o.path for o in outcomes] == [d for _, d in items]
    for o in outcomes:
        if o.path == "krasj.xlsx":
            assert [(f.code, f.severity) for f in o.findings] == [("reader-crashed", "error")]
            assert o.sha256 == hashlib.sha256(b"x").hexdigest()  # named in the audit trail
        else:
            assert o.state == "accepted", o


_ABORTING_CLI = """
import os, sys
import bms_excel.collect as collect
original = collect.read_submission
def read(path, **kwargs):
    if kwargs.get("display_name") == "krasj.xlsx":
        os.abort()  # in the worker: what a native library does when it gives up
    return original(path, **kwargs)
collect.read_submission = read
from bms_excel.cli import main
main(sys.argv[1:], prog_name="bms")
"""


@needs_posix
@needs_fork
@pytest.mark.parametrize("command", ["collect", "consolidate", "validate"])
def test_a_dead_worker_is_a_finding_and_exit_code_1(
    returns: tuple[Project, dict[str, Path]], tmp_path: Path, command: str
) -> None:
    project, filled = returns
    root = tmp_path / "fylket"
    skip = shutil.ignore_patterns("bms.sqlite*", "rapporter", project.submissions_dir.name)
    shutil.copytree(project.root, root, ignore=skip, symlinks=True)
    inbox = root / project.submissions_dir.relative_to(project.root)
    inbox.mkdir()
    for src in filled.values():
        shutil.copy2(src, inbox / src.name)
    (inbox / "krasj.xlsx").write_bytes(next(iter(filled.values())).read_bytes() + b" ")
    script = [sys.executable, "-c", _ABORTING_CLI, command, "--json"]
    if command == "validate":  # single files, named as given: the same isolation
        script += ["krasj.xlsx", *(src.name for src in filled.values())]
    rc, out, err, _ = run_measured(script, inbox if command == "validate" else root)
    assert b"Traceback" not in err, err.decode(errors="replace")
    assert rc == 1
    data = json.loads(out)
    if command in ("collect", "validate"):
        assert _codes(data["findings"], "krasj.xlsx") == {"reader-crashed"}
        states = {f["path"]: f["state"] for f in data["files"]}
        assert [states[src.name] for src in filled.values()] == ["accepted"] * 3
    else:
        assert data["units"]["received"] == 3 and data["findings"]["error"] == 1
        assert Path(data["master"]).is_file()  # the master is written from the other files
        with sqlite3.connect(root / "bms.sqlite") as db:
            codes = {row[0] for row in db.execute("SELECT code FROM findings")}
        assert "reader-crashed" in codes


def test_an_internal_failure_has_its_own_exit_code(
    hostile_project: tuple[Project, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = hostile_project

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a bug, not a bad file")

    monkeypatch.setattr("bms_excel.cli.collect.collect_project", broken)
    monkeypatch.delenv("BMS_DEBUG", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(project.root), "collect"])
    assert result.exit_code == EXIT_INTERNAL == 3
    assert "Traceback" not in result.output and "KeyError" in result.output
    monkeypatch.setenv("BMS_DEBUG", "1")
    result = runner.invoke(main, ["--project", str(project.root), "collect"])
    assert isinstance(result.exception, KeyError)  # the traceback, for whoever maintains bms
    usage = runner.invoke(main, ["--project", str(project.root), "collect", "--processes", "0"])
    assert usage.exit_code == 2  # click's usage errors stay 2


_ODD = st.sampled_from(["\udce6", "\udcff", "\ud800", "\n", "\r", "\\", "\x85", "\u2028", "\\x41"])


@given(st.lists(st.one_of(st.characters(), _ODD), max_size=30).map("".join))
def test_escaped_names_are_one_printable_line_and_reversible(raw: str) -> None:
    shown = escape_name(raw)
    shown.encode("utf-8")  # never a lone surrogate
    assert shown.isprintable() or not shown
    assert unescape_name(shown) == raw


def test_escape_name_examples() -> None:
    assert escape_name("2026-T2_HEIMDAL.xlsx") == "2026-T2_HEIMDAL.xlsx"
    assert escape_name(os.fsdecode(LATIN1_NAME)) == "2026-T2_\\xe6\\xf8\\xe5.xlsx"
    assert escape_name("a\nb\\c") == "a\\nb\\\\c"


def test_the_readme_names_the_function_that_recovers_a_raw_name() -> None:
    # The README promises the raw name back from the escaped one "shown in every output"; the
    # function it names must exist where it says and do that.
    import importlib
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    (dotted,) = re.findall(r"raw name can be recovered exactly \(`([\w.]+)`\)", readme)
    module, _, name = dotted.rpartition(".")
    recover = getattr(importlib.import_module(module), name)
    assert recover(escape_name(os.fsdecode(LATIN1_NAME))) == os.fsdecode(LATIN1_NAME)
