"""The workbooks the harness times: generated (timed), then filled in as staff would (untimed).

Filling is deterministic: :func:`planned_inputs` is a pure function of (unit, layout), so the
values typed into a workbook can be recomputed later without keeping them in memory.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bms_excel.layout import UnitLayout
    from bms_excel.model import Definition, Unit

#: The shared secret the synthetic county signs its workbooks with.
SECRET = b"bms-bench-secret-not-for-production"
#: Share of result cells filled, share of filled rows that get a comment (as in the floors study).
FILL_SHARE = 0.9
COMMENT_SHARE = 0.3
CHUNK = 16


@dataclass(frozen=True, slots=True)
class PlannedInput:
    """One indicator row as staff fill it in: a result and maybe a comment."""

    indicator: str
    result_ref: str
    comment_ref: str
    value: float | None
    comment: str | None


@dataclass
class GenerateTiming:
    """How generation went: per-unit intervals (serial run) and totals."""

    kind: str  # "generator" or "synthetic"
    note: str
    files: list[Path] = field(default_factory=list)
    per_unit_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)  # re-zip, interleaved with generate
    serial_total_s: float | None = None
    setup_s: float | None = None
    pool_total_s: float | None = None
    pool_processes: int | None = None
    pool_error: str | None = None

    @property
    def median_ms(self) -> float | None:
        """Median of the per-unit intervals."""
        return statistics.median(self.per_unit_ms) if self.per_unit_ms else None


def _unit_rng(unit: str, indicator: str) -> float:
    digest = hashlib.blake2b(f"{unit}/{indicator}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def planned_inputs(definition: Definition, unit: Unit, layout: UnitLayout) -> list[PlannedInput]:
    """What a staff member types into ``unit``'s workbook: ~90% results, ~30% of those commented."""
    out: list[PlannedInput] = []
    for cells in layout.scorecard.indicators:
        if not cells.input:
            continue
        ind = definition.indicator(cells.code)
        r = _unit_rng(unit.code, ind.code)
        if r >= FILL_SHARE:
            out.append(PlannedInput(ind.code, cells.result_ref, cells.comment_ref, None, None))
            continue
        lo, hi = ind.valid_range or (0.0, 100.0)
        frac = r / FILL_SHARE
        value = round(lo + (hi - lo) * frac, ind.decimals)
        comment = None
        if frac < COMMENT_SHARE:
            comment = f"Kommentar fra {unit.code} om {ind.code}: tiltak er satt i gang."
        out.append(PlannedInput(ind.code, cells.result_ref, cells.comment_ref, value, comment))
    return out


# -- generation ----------------------------------------------------------------------------


def generate_with_library(
    definition: Definition,
    period: str,
    out_dir: Path,
    *,
    processes: int,
    say: Callable[[str], None] | None = None,
) -> GenerateTiming:
    """Time ``generate_workbooks``: serially into ``out_dir``, then with a pool into a sibling.

    The serial run's progress callback timestamps give the per-unit intervals; the pool run
    (when ``processes`` > 1) is timed end to end and its files are deleted afterwards.
    """
    import bms_excel.generate as generate
    from bench.floors import load_members, rezip

    # Interleave the write floor with generation: after each unit the callback re-zips the
    # workbook just written (outside the unit's interval), so generate and its floor see the
    # same load on a shared machine.
    starts: list[float] = []  # end of the previous callback = start of the next unit
    ends: list[float] = []  # the generator's call of the callback = end of a unit
    floor_ms: list[float] = []
    scratch = out_dir.parent / "rezip-during-generate.xlsx"

    def progress(done: int, total: int, code: str) -> None:
        ends.append(time.perf_counter())
        path = out_dir / generate.safe_filename(period, code)
        if path.exists():
            members = load_members(path)
            t0 = time.perf_counter()
            rezip(members, scratch)
            floor_ms.append((time.perf_counter() - t0) * 1000)
        if say is not None and total >= 1000 and done % (total // 10) == 0:
            say(f"bench: generated {done}/{total}")
        starts.append(time.perf_counter())

    start = time.perf_counter()
    result = generate.generate_workbooks(
        definition, period, out_dir=out_dir, secret=SECRET, progress=progress
    )
    total = time.perf_counter() - start
    scratch.unlink(missing_ok=True)
    # The send-out list is not a submission: keep it out of the folder collect walks.
    for extra in (result.manifest_csv, result.manifest_json):
        if extra is not None and extra.exists():
            extra.replace(out_dir.parent / extra.name)
    intervals = [(b - a) * 1000 for a, b in zip(starts, ends[1:], strict=False)]
    overhead = sum(b - a for a, b in zip(ends, starts, strict=True))
    timing = GenerateTiming(
        kind="generator",
        note="bms_excel.generate.generate_workbooks",
        files=list(result.files),
        per_unit_ms=intervals,
        floor_ms=floor_ms,
        serial_total_s=total - overhead,
        setup_s=(ends[0] - start - statistics.median(intervals) / 1000) if intervals else None,
    )
    if processes > 1 and len(definition.units) > 1:
        pool_dir = out_dir.parent / (out_dir.name + "-pool")
        try:
            start = time.perf_counter()
            generate.generate_workbooks(
                definition, period, out_dir=pool_dir, secret=SECRET, processes=processes
            )
            timing.pool_total_s = time.perf_counter() - start
            timing.pool_processes = processes
        except TypeError as exc:  # an older generate_workbooks without ``processes``
            timing.pool_error = str(exc)
        finally:
            remove_tree(pool_dir)
    return timing


def generate_synthetic(definition: Definition, period: str, out_dir: Path) -> GenerateTiming:
    """Fallback when the generator is missing: comparable workbooks written with openpyxl.

    One protected scorecard sheet laid out by :func:`bms_excel.layout.build_layout` (code,
    name, target and result/comment cells unlocked) plus a very hidden ``_meta`` sheet.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Protection

    from bms_excel.layout import build_layout

    out_dir.mkdir(parents=True, exist_ok=True)
    timing = GenerateTiming(kind="synthetic", note="synthetic workbooks (generator not available)")
    start = time.perf_counter()
    for unit in definition.units:
        t0 = time.perf_counter()
        layout = build_layout(definition, unit, period, "nb")
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = layout.sheets.scorecard
        for cells in layout.scorecard.indicators:
            ind = definition.indicator(cells.code)
            ws[cells.code_ref] = ind.code
            ws[cells.name_ref] = ind.name
            ws[cells.measure_ref] = ind.unit_of_measure
            ws[cells.target_ref] = ind.target.value if ind.target else None
            for ref in (cells.result_ref, cells.comment_ref):
                ws[ref].protection = Protection(locked=False)
        ws.protection.sheet = True
        meta = wb.create_sheet(layout.sheets.meta)
        meta["A1"], meta["B1"] = "unit", unit.code
        meta["A2"], meta["B2"] = "period", period
        meta.sheet_state = "veryHidden"
        path = out_dir / f"{period}_{unit.code}.xlsx"
        wb.save(path)
        timing.files.append(path)
        timing.per_unit_ms.append((time.perf_counter() - t0) * 1000)
    timing.serial_total_s = time.perf_counter() - start
    return timing


def generate_corpus(
    definition: Definition,
    period: str,
    out_dir: Path,
    *,
    processes: int,
    say: Callable[[str], None] | None = None,
) -> GenerateTiming:
    """Generate with the library when it is there, else write synthetic workbooks."""
    try:
        import bms_excel.generate as generate
    except ImportError:
        generate = None  # type: ignore[assignment]
    if generate is None or not hasattr(generate, "generate_workbooks"):
        return generate_synthetic(definition, period, out_dir)
    return generate_with_library(definition, period, out_dir, processes=processes, say=say)


# -- filling in ----------------------------------------------------------------------------

_FILL_DEFINITION: Definition | None = None
_FILL_PERIOD = ""


def _init_fill(definition: Definition, period: str) -> None:
    global _FILL_DEFINITION, _FILL_PERIOD
    _FILL_DEFINITION, _FILL_PERIOD = definition, period


def _fill_many(jobs: Sequence[tuple[str, str]]) -> int:
    assert _FILL_DEFINITION is not None
    units = {u.code: u for u in _FILL_DEFINITION.units if u.code in {c for c, _ in jobs}}
    for code, path in jobs:
        fill_workbook(_FILL_DEFINITION, units[code], _FILL_PERIOD, Path(path))
    return len(jobs)


def fill_workbook(definition: Definition, unit: Unit, period: str, path: Path) -> None:
    """Open ``path`` with openpyxl, type the planned inputs, save it (one workbook in memory)."""
    from openpyxl import load_workbook

    from bms_excel.layout import build_layout

    layout = build_layout(definition, unit, period, "nb")
    wb = load_workbook(path)
    try:
        ws = wb[layout.sheets.scorecard]
        for item in planned_inputs(definition, unit, layout):
            if item.value is not None:
                ws[item.result_ref] = item.value
            if item.comment is not None:
                ws[item.comment_ref] = item.comment
        wb.save(path)
    finally:
        wb.close()


def fill_corpus(
    definition: Definition,
    period: str,
    jobs: Sequence[tuple[str, Path]],
    *,
    processes: int,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Fill every ``(unit code, path)`` in place; a pool of ``processes`` when > 1. Seconds."""
    start = time.perf_counter()
    chunks = [
        [(code, str(path)) for code, path in jobs[i : i + CHUNK]]
        for i in range(0, len(jobs), CHUNK)
    ]
    if processes > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(
            processes, initializer=_init_fill, initargs=(definition, period)
        ) as pool:
            for done in pool.map(_fill_many, chunks):
                if progress:
                    progress(done)
    else:
        _init_fill(definition, period)
        for chunk in chunks:
            done = _fill_many(chunk)
            if progress:
                progress(done)
    return time.perf_counter() - start


def iter_planned(
    definition: Definition, period: str, units: Sequence[Unit]
) -> Iterator[tuple[Unit, list[PlannedInput]]]:
    """The planned inputs of each unit, recomputed (nothing is kept from the filling)."""
    from bms_excel.layout import build_layout

    for unit in units:
        layout = build_layout(definition, unit, period, "nb")
        yield unit, planned_inputs(definition, unit, layout)


def remove_tree(path: Path) -> None:
    """Delete a folder of generated files (only files directly inside it, then the folder)."""
    if not path.exists():
        return
    for child in path.iterdir():
        if child.is_dir():
            remove_tree(child)
        else:
            child.unlink()
    path.rmdir()


def disk_usage(paths: Sequence[Path]) -> int:
    """Total size of ``paths`` in bytes."""
    return sum(os.stat(p).st_size for p in paths)
