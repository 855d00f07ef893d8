"""Shared pytest fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

# -- collect / validate fixtures ----------------------------------------------------------------
# The example workbooks are generated once per session (≈150 ms each) and copied per test.

import datetime as dt  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402

import pytest  # noqa: E402

from bms_excel.model import Definition  # noqa: E402

#: The secret the session's workbooks are signed with.
SECRET = b"collect-tests-secret-0123456789abcdef"
PERIOD = "2026-T2"
#: Units generated for the collect tests (the other units of the example are "missing").
GENERATED_UNITS = ("HEIMDAL", "BYASEN", "CHARLOTTENLUND", "THORASTORM")
#: Before the 2026-T2 deadline (2026-09-14): files saved then are on time.
ON_TIME = dt.datetime(2026, 9, 10, 12, 0).timestamp()


def history_from_rows(
    rows: Iterable[Sequence[str]],
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """``(period, unit, indicator, value)`` rows → the ``history`` mapping of ``generate_workbooks``."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for period, unit, indicator, value in rows:
        out.setdefault((unit, indicator), []).append((period, value))
    return out


@pytest.fixture(scope="session")
def stfk() -> Definition:
    """The bundled example definition."""
    from bms_excel.examples import load_example_definition

    return load_example_definition("stfk")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory, stfk: Definition) -> dict[str, Path]:
    """Blank 2026-T2 workbooks for ``GENERATED_UNITS`` signed with ``SECRET`` (read-only use)."""
    from helpers import load_example_history

    from bms_excel.generate import generate_workbooks

    out = tmp_path_factory.mktemp("generated")
    result = generate_workbooks(
        stfk,
        PERIOD,
        out_dir=out,
        secret=SECRET,
        units=GENERATED_UNITS,
        history=history_from_rows(load_example_history("stfk")),
    )
    return {u: p for u, p in zip(GENERATED_UNITS, result.files, strict=True)}


def good_entry(definition: Definition, unit: str) -> object:
    """What a careful person types: every result green, the required comment, one action."""
    from bms_excel.simulate import Entry

    values = {
        "R1.1": 2.0,
        "R1.2": 12,
        "R2.1": 80,
        "T1.2": 2.5,
        "T2.1": 8.5,
        "P1.1": 4.0,
        "P1.2": 5.0,
        "P1.3": 90,
        "P2.1": 100,
        "K1.1": 5.5,
        "O1.1": 0.5,
    }
    from bms_excel.layout import build_layout

    layout = build_layout(definition, definition.unit(unit), PERIOD)
    codes = {c.code for c in layout.scorecard.indicators if c.input}
    return Entry(
        values={k: v for k, v in values.items() if k in codes},
        comments={"O1.1": "Budsjettet er i balanse; æøå «sitat»."} if "O1.1" in codes else {},
        actions=[("R1.1", "Flere læreplasser", "Rektor", dt.date(2026, 10, 15), "Planlagt")],
        assessments={"R": ("Vi er i rute.", "Tett dialog hjelper.")},
    )


@pytest.fixture(scope="session")
def fill(stfk: Definition, generated: dict[str, Path]) -> Callable[..., Path]:
    """``fill(unit, dest, entry=None, mtime=ON_TIME)``: a filled copy of ``unit``'s workbook."""
    from bms_excel.layout import build_layout
    from bms_excel.simulate import fill_workbook

    def _fill(unit: str, dest: Path, entry: object = None, mtime: float = ON_TIME) -> Path:
        layout = build_layout(stfk, stfk.unit(unit), PERIOD)
        fill_workbook(generated[unit], dest, layout, entry or good_entry(stfk, unit))  # type: ignore[arg-type]
        os.utime(dest, (mtime, mtime))
        return dest

    return _fill


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory, fill: Callable[..., Path]) -> dict[str, Path]:
    """Good filled returns of every ``GENERATED_UNITS`` unit (copy before changing one)."""
    out = tmp_path_factory.mktemp("filled")
    return {u: fill(u, out / f"{PERIOD}_{u}.xlsx") for u in GENERATED_UNITS}


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The whole ``bms demo`` cycle, run once per session (read-only use): a
    :class:`bms_excel.demo.DemoResult` whose ``consolidation`` holds the master's frames."""
    from bms_excel.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "demo")


def copy_file(src: Path, dest: Path) -> Path:
    """Copy ``src`` to ``dest`` keeping its modified time."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dest)
    return dest


import pytest  # noqa: E402

from bms_excel.i18n import set_language  # noqa: E402


@pytest.fixture(autouse=True)
def _bokmal_by_default() -> object:
    """Every test starts (and ends) in bokmål, whatever an earlier test switched to."""
    set_language("nb")
    yield
    set_language("nb")
