"""The benchmark run: county → generate (timed) → fill (untimed) → interleaved timing → report."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import corpus, floors, memory, stages
from bench.county import default_period, load_base, scale_definition
from bench.timing import Method, median, time_interleaved

SCHEMA_VERSION = 1

#: Targets: (must, stretch or None). Issue 8 set them; issue 19 made its stretch ratios and
#: national-case times the must (ratio to the floor per workbook; seconds for totals).
RATIO_TARGETS: dict[str, tuple[float, float | None]] = {
    "collect": (4.0, None),
    "generate": (3.0, None),
}
TOTAL_TARGETS: dict[str, dict[int, tuple[float, float | None]]] = {
    "consolidate": {300: (4.0, 2.0), 10_000: (45.0, None)},
    "generate": {10_000: (60.0, None)},
}
#: Peak RSS allowed while consolidating or generating 10 000 units (MiB).
CONSOLIDATE_RSS_MIB = 1024.0


@dataclass
class Options:
    """What to run; see ``python -m bench --help``."""

    n: int = 300
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    out: Path = Path("bench/results")
    rounds: int | None = None
    keep: bool = False
    work: Path | None = None
    period: str | None = None
    write: bool = True
    check: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    """One filled workbook to time: its file, unit, scorecard sheet and input cells."""

    path: Path
    unit: str
    sheet: str
    cells: tuple[tuple[int, int], ...]


Say = Callable[[str], None]


def default_rounds(n: int) -> int:
    """3 rounds up to 1000 units, 1 above (10 000 × 3 rounds would take most of an hour)."""
    return 3 if n <= 1000 else 1


def _every_tenth(say: Say) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        if total >= 1000 and done % (total // 10) == 0:
            say(f"bench: timing {done}/{total}")

    return progress


def verdict(value: float | None, must: float | None, stretch: float | None) -> str:
    """``stretch`` / ``must`` / ``missed`` (lower is better); ``—`` without value or target."""
    if value is None or must is None:
        return "—"
    if stretch is not None and value <= stretch:
        return "stretch"
    return "must" if value <= must else "missed"


def _ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or not floor:
        return None
    return value / floor


def source_commit() -> str | None:
    """The git commit of the measured code (``+dirty`` with uncommitted changes), if known."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head


def machine() -> dict[str, Any]:
    """Where the numbers come from."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str] = {}
    for pkg in ("openpyxl", "python-calamine", "pandas", "lxml", "bms-excel"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "-"
    try:
        load = list(os.getloadavg())
    except OSError:
        load = []
    return {
        "python": sys.version.split()[0],
        "commit": source_commit(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": load,
        "versions": versions,
    }


def build_items(definition: Any, period: str, files: list[Path]) -> list[Item]:
    """The timing items: every generated file with its unit's input cells (untimed)."""
    from bms_excel.layout import build_layout

    items: list[Item] = []
    for unit, path in zip(definition.units, files, strict=True):
        layout = build_layout(definition, unit, period, "nb")
        refs = [
            ref
            for c in layout.scorecard.indicators
            if c.input
            for ref in (c.result_ref, c.comment_ref)
        ]
        cells = tuple(floors.cell_index(r) for r in refs)
        items.append(Item(path, unit.code, layout.sheets.scorecard, cells))
    return items


def self_check(definition: Any, period: str, items: list[Item], readers: list[Any]) -> list[str]:
    """Before timing: the floors read what the filler typed in and the stages can run."""
    problems: list[str] = []
    units = {u.code: u for u in definition.units}
    for item in items[:3]:
        unit = units[item.unit]
        _, planned = next(corpus.iter_planned(definition, period, [unit]))
        got = floors.calamine_cells(item.path, item.sheet, list(item.cells))
        by_ref = dict(zip(item.cells, got, strict=True))
        for p in planned:
            cell = by_ref[floors.cell_index(p.result_ref)]
            expect = "" if p.value is None else p.value
            if cell != expect and not (
                isinstance(cell, int | float) and p.value is not None and abs(cell - p.value) < 1e-9
            ):
                problems.append(f"{item.path.name} {p.result_ref}: read {cell!r}, typed {expect!r}")
        if floors.unzip_all(item.path) <= 0:
            problems.append(f"{item.path.name}: empty package")
        for label, bound in readers:
            result = bound(_per_file_offered(definition, period, item))
            if getattr(result, "data", True) is None or getattr(result, "sha256", True) is None:
                problems.append(f"{item.path.name}: {label} could not read it")
    return problems


def _per_file_offered(definition: Any, period: str, item: Item) -> dict[str, Any]:
    return {
        "definition": definition,
        "period": period,
        "path": item.path,
        "display": item.path.name,
        "secret": corpus.SECRET,
        "lang": "nb",
    }


def _on_path(prepare: Callable[[Path], Any]) -> Callable[[Item], Any]:
    return lambda item: prepare(item.path)


def fallback_batch(definition: Any, period: str, items: list[Item]) -> Any:
    """A ``SubmissionBatch`` of exactly what the filler typed (used only without collect)."""
    import hashlib

    from bms_excel.records import SubmissionBatch, SubmissionRecord, ValueKind, ValueRecord

    batch = SubmissionBatch(period=period)
    units = {u.code: u for u in definition.units}
    for item in items:
        data = item.path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        name = item.path.name
        batch.submissions.append(
            SubmissionRecord(name, sha, len(data), item.unit, period, "accepted")
        )
        _, planned = next(corpus.iter_planned(definition, period, [units[item.unit]]))
        for p in planned:
            kind: ValueKind = "missing" if p.value is None else "number"
            raw = None if p.value is None else str(p.value)
            batch.values.append(
                ValueRecord(
                    item.unit, period, p.indicator, kind, p.value, raw, p.comment, "unit", name, sha
                )
            )
    return batch


def run(options: Options, say: Say = print) -> dict[str, Any]:
    """Run the whole benchmark and return the report (see ``bench/README.md`` for its shape)."""
    started = dt.datetime.now(dt.UTC)
    rounds = options.rounds or default_rounds(options.n)
    report: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "n": options.n,
        "rounds": rounds,
        "processes": options.processes,
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
    }
    base = load_base()
    definition = scale_definition(base, options.n)
    period = options.period or default_period(definition)
    report["period"] = period
    report["indicators"] = sum(1 for _ in definition.iter_indicators())
    work = options.work or Path(tempfile.mkdtemp(prefix="bms-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    folder = work / "submissions"
    phases: dict[str, float] = {}
    try:
        say(f"bench: N={options.n}, period {period}, work folder {work}")
        memory.reset_peak()
        gen = corpus.generate_corpus(
            definition, period, folder, processes=options.processes, say=say
        )
        phases["generate"] = memory.peak_self_mib()
        say(
            f"bench: generated {len(gen.files)} workbooks ({gen.note}) in {gen.serial_total_s:.1f} s"
        )

        jobs = [(u.code, p) for u, p in zip(definition.units, gen.files, strict=True)]
        fill_s = corpus.fill_corpus(definition, period, jobs, processes=options.processes)
        say(f"bench: filled in {len(jobs)} workbooks in {fill_s:.1f} s (not timed)")
        size = corpus.disk_usage(gen.files)

        items = build_items(definition, period, gen.files)
        collect = stages.collect_per_file()
        read = stages.read_per_file()
        readers = [x for x in (read, collect) if not isinstance(x, stages.NotAvailable)]
        problems = self_check(definition, period, items, readers)
        if problems:
            raise RuntimeError("self-check failed: " + "; ".join(problems[:5]))

        rezip_target = work / "rezip.xlsx"
        methods: list[Method[Item]] = [
            Method("unzip", floors.unzip_all, lambda it: it.path),
            Method(
                "calamine",
                lambda it: floors.calamine_cells(it.path, it.sheet, list(it.cells)),
            ),
            Method(
                "rezip",
                lambda members: floors.rezip(members, rezip_target),
                lambda it: floors.load_members(it.path),
            ),
        ]
        for key, found in (("read", read), ("collect", collect)):
            if not isinstance(found, stages.NotAvailable):
                methods.append(
                    Method(key, found[1], lambda it: _per_file_offered(definition, period, it))
                )
        split = stages.collect_stage_methods(definition, period)
        if not isinstance(split, stages.NotAvailable):
            for key, timed, prepare in split:
                methods.append(Method(key, timed, _on_path(prepare)))
        memory.reset_peak()
        t0 = time.perf_counter()
        per_wb = time_interleaved(items, methods, rounds=rounds, progress=_every_tenth(say))
        phases["per-workbook timing"] = memory.peak_self_mib()
        say(
            f"bench: timed {len(methods)} methods × {len(items)} workbooks × {rounds} rounds in {time.perf_counter() - t0:.1f} s"
        )
        rezip_target.unlink(missing_ok=True)

        serial_collect = None
        if options.processes > 1:
            serial_collect = stages.time_collect_folder(definition, period, folder, processes=1)
        memory.reset_peak()
        before = memory.current_mib()
        cons = stages.run_consolidate(
            definition,
            period,
            folder,
            work,
            lambda: fallback_batch(definition, period, items),
            processes=options.processes,
        )
        # The end-to-end run resets the mark after the stage timings: the phase's peak is the
        # larger of the two.
        phases["consolidate"] = max(cons.stages_peak_mib or 0.0, memory.peak_self_mib())
        say("bench: consolidation timed")

        report["corpus"] = {
            "kind": gen.kind,
            "note": gen.note,
            "files": len(gen.files),
            "bytes_per_workbook": round(size / max(1, len(gen.files))),
            "fill_s": round(fill_s, 3),
            "generate_setup_s": _round(gen.setup_s),
        }
        report["per_workbook"] = _per_workbook_rows(per_wb, gen, read, collect, split)
        report["totals"] = _total_rows(options.n, gen, cons, per_wb)
        speedup = (
            gen.serial_total_s / gen.pool_total_s
            if gen.serial_total_s and gen.pool_total_s
            else None
        )
        report["pool"] = [
            {
                "stage": "generate",
                "processes": gen.pool_processes,
                "serial_s": _round(gen.serial_total_s),
                "pool_s": _round(gen.pool_total_s),
                "speedup": _round(speedup),
                "note": gen.pool_error or ("" if gen.pool_processes else "1 process"),
            },
            _collect_pool(serial_collect, cons, options.processes),
        ]
        # Judged on the end-to-end run with the stage timings' results released (what the
        # CLI needs); the phase peak also counts what the stage timings held alongside.
        cons_peak = cons.end_to_end_peak_mib or phases["consolidate"]
        report["memory"] = {
            "peak_self_mib": round(max(phases.values()), 1),
            "peak_children_mib": round(memory.peak_children_mib(), 1),
            "phases_peak_self_mib": {k: round(v, 1) for k, v in phases.items()},
            "consolidate_rss_before_mib": round(before, 1),
            "consolidate_e2e_peak_mib": _round(cons.end_to_end_peak_mib, 1),
            "consolidate_target_mib": CONSOLIDATE_RSS_MIB if options.n >= 10_000 else None,
            "consolidate_met": (
                verdict(cons_peak, CONSOLIDATE_RSS_MIB, None) if options.n >= 10_000 else "—"
            ),
        }
        report["consolidate"] = {
            "records_from": cons.records_from,
            "values": cons.values,
            "submissions_by_state": cons.states,
            "findings_by_severity": cons.severities,
        }
    finally:
        if options.keep:
            say(f"bench: kept the workbooks in {work}")
        elif options.work is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            corpus.remove_tree(folder)
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with contextlib.suppress(OSError):
        report["machine"]["loadavg_end"] = list(os.getloadavg())
    return report


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _per_workbook_rows(
    per_wb: dict[str, list[float]],
    gen: corpus.GenerateTiming,
    read: Any,
    collect: Any,
    split: Any,
) -> list[dict[str, Any]]:
    unzip = median(per_wb["unzip"])
    rezip = median(per_wb["rezip"])
    rows: list[dict[str, Any]] = []

    def row(key: str, stage: str, value: float | None, floor: str | None, floor_ms: float | None,
            *, target: tuple[float, float | None] | None = None, entry: str = "", note: str = "",
            available: bool = True) -> None:  # fmt: skip
        # Judged on the ratio as reported (2 decimals), so the table never shows "4.0" beside
        # "must" for a 4× stretch target.
        ratio = _round(_ratio(value, floor_ms), 2)
        must, stretch = target or (None, None)
        met = verdict(ratio, must, stretch) if available else "—"
        rows.append({
            "key": key, "stage": stage, "entry": entry, "median_ms": _round(value),
            "floor": floor, "floor_ms": _round(floor_ms), "ratio": ratio,
            "target_must": must, "target_stretch": stretch, "met": met,
            "available": available, "note": note,
            "samples": len(per_wb[key]) if key in per_wb else len(
                gen.floor_ms if key == "rezip_generate" else gen.per_unit_ms
            ),
        })  # fmt: skip

    row("unzip", "floor: unzip all parts", unzip, None, None, entry="zipfile")
    row("calamine", "floor: calamine, input cells only", median(per_wb["calamine"]),
        "unzip", unzip, entry="python_calamine")  # fmt: skip
    row("rezip", "floor: re-zip the parts", rezip, None, None, entry="zipfile")
    for key, found, stage in (
        ("read", read, "read (values + light pass)"),
        ("collect", collect, "collect + validate"),
    ):
        if isinstance(found, stages.NotAvailable):
            row(key, stage, None, "unzip", unzip, target=RATIO_TARGETS["collect"],
                available=False, note=found.reason)  # fmt: skip
        else:
            row(key, stage, median(per_wb[key]), "unzip", unzip,
                target=RATIO_TARGETS["collect"] if key == "collect" else None,
                entry=found[1].name)  # fmt: skip
    for key, stage in stages.COLLECT_STAGES.items():
        if isinstance(split, stages.NotAvailable):
            row(key, stage, None, "unzip", unzip, available=False, note=split.reason)
        else:
            row(
                key,
                stage,
                median(per_wb[key]),
                "unzip",
                unzip,
                entry="bench.stages.collect_stage_methods",
            )
    synthetic = gen.kind != "generator"
    gen_floor, gen_floor_key = rezip, "rezip"
    if gen.floor_ms:
        gen_floor, gen_floor_key = median(gen.floor_ms), "rezip_generate"
        row("rezip_generate", "floor: re-zip, during generate", gen_floor, None, None,
            entry="zipfile", note="after each unit, outside its interval")  # fmt: skip
    row("generate", "generate, per unit", gen.median_ms, gen_floor_key, gen_floor,
        target=None if synthetic else RATIO_TARGETS["generate"], entry=gen.note,
        note="synthetic: not the library" if synthetic else "serial, interval between units")  # fmt: skip
    return rows


def _total_rows(
    n: int, gen: corpus.GenerateTiming, cons: stages.ConsolidateRun, per_wb: dict[str, list[float]]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(key: str, stage: str, seconds: float | None, *, target: tuple[float, float | None] | None = None,
            entry: str = "", note: str = "", available: bool = True) -> None:  # fmt: skip
        must, stretch = target or (None, None)
        rows.append({
            "key": key, "stage": stage, "seconds": _round(seconds), "entry": entry,
            "target_must_s": must, "target_stretch_s": stretch,
            "met": verdict(seconds, must, stretch) if available else "—",
            "available": available, "note": note,
        })  # fmt: skip

    gen_target = TOTAL_TARGETS["generate"].get(n) if gen.kind == "generator" else None
    best = min(s for s in (gen.serial_total_s, gen.pool_total_s) if s is not None)
    row("generate.serial", "generate, 1 process", gen.serial_total_s, entry=gen.note)
    if gen.pool_total_s is not None:
        row("generate.pool", f"generate, pool of {gen.pool_processes}", gen.pool_total_s,
            entry=gen.note)  # fmt: skip
    row("generate.best", "generate, best", best, target=gen_target, entry=gen.note)
    for key in ("unzip", "calamine", "rezip", "read", "collect"):
        if key in per_wb:
            row(f"sum.{key}", f"Σ {key} per workbook (1 process)", sum(per_wb[key]) / 1000)
    cons_target = TOTAL_TARGETS["consolidate"].get(n)
    for stage in cons.stages:
        row(f"consolidate.{stage.name.split()[0]}", f"consolidate: {stage.name}", stage.seconds,
            entry=stage.entry, note=stage.note, available=stage.available)  # fmt: skip
    e2e = cons.end_to_end
    timed = [s for s in cons.stages if s.available and s.seconds is not None]
    if e2e is not None and not e2e.available and timed:
        missing = ", ".join(s.name for s in cons.stages if not s.available)
        row("consolidate.partial", "consolidate: sum of the available stages",
            sum(s.seconds or 0.0 for s in timed), entry=f"partial, without: {missing}")  # fmt: skip
    if e2e is not None:
        row("consolidate.end_to_end", "consolidate end to end", e2e.seconds, target=cons_target,
            entry=e2e.entry, note=e2e.note, available=e2e.available)  # fmt: skip
    return rows


def _collect_pool(
    serial: stages.StageTime | None, cons: stages.ConsolidateRun, processes: int
) -> dict[str, Any]:
    pooled = next((s for s in cons.stages if s.name.startswith("collect")), None)
    ok = serial is not None and serial.available and pooled is not None and pooled.available
    speedup = (
        serial.seconds / pooled.seconds
        if ok and serial and pooled and serial.seconds and pooled.seconds
        else None
    )
    note = ""
    if serial is None:
        note = "1 process"
    elif not serial.available:
        note = serial.note
    elif pooled is None or not pooled.available:
        note = "collect not available"
    return {
        "stage": "collect",
        "processes": processes,
        "serial_s": _round(serial.seconds if serial else None),
        "pool_s": _round(pooled.seconds if pooled and pooled.available else None),
        "speedup": _round(speedup),
        "note": note,
    }
