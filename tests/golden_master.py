"""The golden master: the bundled demo's returns consolidated on a fixed clock.

``tests/fixtures/golden_master/`` holds the demo project as it stood just before ``bms demo``
consolidated (definition, secret, the returns with their modified times, the history database
with the example's history, the controller's figures and KOSTRA), and ``golden.json``: the
sha256 of every part of the master workbook (``docProps/core.xml`` with its timestamps
normalised) and of every table of the history database after the run.

:func:`consolidate_fixture` consolidates a copy of the fixture with the clock fixed at
:data:`RUN_AT`; ``test_master_golden.py`` compares the result with ``golden.json``. When an
output is meant to change, regenerate deliberately and commit the new fixture with the change::

    .venv/bin/python tests/golden_master.py           # golden.json from the current code
    .venv/bin/python tests/golden_master.py --inputs  # also re-capture the demo's returns
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).parent / "fixtures" / "golden_master"
GOLDEN = FIXTURE / "golden.json"
PROJECT = FIXTURE / "project"
#: The fixed clock of the golden run (Norway, summer time).
RUN_AT = dt.datetime(2026, 9, 15, 10, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def part_hashes(path: Path) -> dict[str, str]:
    """sha256 of every part of the package at ``path`` (core.xml timestamps normalised)."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIMES.sub(rb"\1T\2", data)
            out[info.filename] = hashlib.sha256(data).hexdigest()
    return out


def table_hashes(db: Path) -> dict[str, str]:
    """sha256 of every table's rows (in id order where there is one) of the database at ``db``."""
    con = sqlite3.connect(db)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            ).fetchall()
        ]
        out = {}
        for name in names:
            columns = [r[1] for r in con.execute(f"PRAGMA table_info('{name}')")]
            order = "id" if "id" in columns else ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()
            text = json.dumps([columns, rows], ensure_ascii=False, default=repr)
            out[name] = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return out
    finally:
        con.close()


class _FixedDateTime(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> Any:  # type: ignore[override]
        return RUN_AT if tz is None else RUN_AT.astimezone(tz)


class _Clock:
    """The ``datetime`` module as the consolidation's modules see it, stopped at RUN_AT."""

    datetime = _FixedDateTime

    def __getattr__(self, name: str) -> Any:
        return getattr(dt, name)


#: Where the consolidation reads the clock: (module, name, stand-in).
CLOCKS = (
    ("bms_excel.master.run", "dt", _Clock()),
    ("bms_excel.history", "_now", lambda: RUN_AT.astimezone(dt.UTC).isoformat()),
    ("bms_excel.dialogue", "today", lambda: RUN_AT.date()),
)


@contextmanager
def fixed_clock() -> Iterator[None]:
    """The consolidation's clock reads :data:`RUN_AT` inside the block."""
    import importlib

    saved = []
    for module_name, name, stand_in in CLOCKS:
        module = importlib.import_module(module_name)
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, stand_in)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def consolidate_fixture(work: Path) -> tuple[Path, Path]:
    """Consolidate a copy of the fixture project in ``work``; returns (master, history)."""
    from bms_excel.master import consolidate_project
    from bms_excel.project import load_project

    root = work / "project"
    shutil.copytree(PROJECT, root)
    times = json.loads((FIXTURE / "mtimes.json").read_text(encoding="utf-8"))
    for rel, mtime in times.items():
        os.utime(root / rel, (mtime, mtime))
    project = load_project(root / "bms.toml")
    period = json.loads(GOLDEN.read_text(encoding="utf-8"))["period"]
    with fixed_clock():
        result = consolidate_project(project, period=period)
    return result.master, result.history


def _capture_inputs() -> None:
    """Run the demo up to its consolidation and keep the project as it stood then."""
    import bms_excel.demo as demo

    class _Captured(Exception):
        pass

    def capture(project: Any, defn: Any, period: str, **_: Any) -> Any:
        if PROJECT.exists():
            shutil.rmtree(PROJECT)
        PROJECT.mkdir(parents=True)
        times = {}
        keep = [project.config_path, project.definition_path, project.submissions_dir]
        keep.append(project.history_path)
        keep += sorted(project.root.glob(f"{project.history_path.name}-*"))  # -wal, -shm
        for src in keep:
            if src.exists():
                dest = PROJECT / src.relative_to(project.root)
                if src.is_dir():
                    shutil.copytree(src, dest)
                    files = [p for p in src.rglob("*") if p.is_file()]
                else:
                    shutil.copy2(src, dest)
                    files = [src]
                for p in files:
                    times[str(p.relative_to(project.root))] = p.stat().st_mtime
        (FIXTURE / "mtimes.json").write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
        captured["period"] = period
        raise _Captured

    captured: dict[str, str] = {}
    original = demo.consolidate_project
    demo.consolidate_project = capture  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp, suppress(_Captured):
            demo.run_demo(Path(tmp) / "demo")
    finally:
        demo.consolidate_project = original  # type: ignore[assignment]
    GOLDEN.write_text(json.dumps({"period": captured["period"]}) + "\n", encoding="utf-8")


def regenerate(*, inputs: bool = False) -> None:
    """Write ``golden.json`` from the current code (and first the inputs when asked)."""
    if inputs or not GOLDEN.exists():
        _capture_inputs()
    period = json.loads(GOLDEN.read_text(encoding="utf-8"))["period"]
    with tempfile.TemporaryDirectory() as tmp:
        master, history = consolidate_fixture(Path(tmp))
        golden = {
            "period": period,
            "master": part_hashes(master),
            "history": table_hashes(history),
        }
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    regenerate(inputs="--inputs" in sys.argv[1:])
