"""Adapters from the harness to the library: one small function per timed stage.

Each adapter imports the library lazily and returns either a ready callable or
:class:`NotAvailable` with the reason, so the harness runs while modules are still missing and
reports those stages as "not available" instead of faking them. When a library entry point
lands or is renamed, only the candidate names below need to change.

Library functions are called by parameter name (:func:`bind`): the harness offers what it has
(``definition``, ``period``, ``path``, ``folder`` …) and a function whose required parameters
it cannot supply is reported as not available, with its signature.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import memory

#: Per-file collect + validate: the first of these in ``bms_excel.collect`` is timed.
COLLECT_FILE_CANDIDATES = ("process_file", "collect_file", "collect_workbook", "collect_submission")
#: Whole-folder collect (read + validate) in ``bms_excel.collect``.
COLLECT_FOLDER_CANDIDATES = ("collect_folder", "collect_submissions", "collect")
#: A consolidate end-to-end call (CLI equivalent), module → names.
CONSOLIDATE_E2E_CANDIDATES = (
    ("bms_excel.master.run", ("run_consolidation",)),
    ("bms_excel.consolidate", ("consolidate_folder", "run_consolidation", "consolidate_period")),
)
#: Writing the master workbook.
MASTER_CANDIDATES = (("bms_excel.master.run", ("write_master",)),)

#: Parameter names accepted for each thing the harness can offer.
ALIASES: dict[str, tuple[str, ...]] = {
    "definition": ("definition", "defn"),
    "period": ("period", "period_code"),
    "path": ("path", "file", "filename", "workbook"),
    "display": ("display", "display_name"),
    "folder": ("folder", "submissions", "directory", "in_dir", "submissions_dir"),
    "master": ("path", "out", "out_path", "output", "master_path", "path_out"),
    "secret": ("secret",),
    "lang": ("lang", "language"),
    "db": ("db", "db_path", "history_path", "database"),
    "history": ("history",),
    "long": ("long", "long_table"),
    "county": ("county", "county_values"),
    "rollups": ("rollups", "rollup", "scores"),
    "trends": ("trends",),
    "report": ("report",),
    "actions": ("actions",),
    "assessments": ("assessments",),
    "batch": ("batch",),
    "values": ("values", "records"),
    "processes": ("processes",),
}


@dataclass(frozen=True)
class NotAvailable:
    """A stage the library cannot run yet, and why."""

    reason: str


@dataclass
class Bound:
    """A library function with its arguments bound by name."""

    name: str
    fn: Callable[..., Any]
    names: dict[str, str] = field(default_factory=dict)  # parameter → offered key

    def __call__(self, offered: dict[str, Any]) -> Any:
        """Call with the offered values under the bound parameter names."""
        return self.fn(**{param: offered[key] for param, key in self.names.items()})


def _lookup(module: str, names: tuple[str, ...]) -> tuple[str, Callable[..., Any]] | NotAvailable:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return NotAvailable(f"{module} does not exist yet")
        raise
    for name in names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return f"{module}.{name}", fn
    return NotAvailable(f"{module} has none of {', '.join(names)}")


def bind(name: str, fn: Callable[..., Any], offered: set[str]) -> Bound | NotAvailable:
    """Bind ``fn``'s parameters to the offered keys by name (``NotAvailable`` if one is missing)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return NotAvailable(f"{name}: signature unknown")
    names: dict[str, str] = {}
    for param in sig.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind is param.POSITIONAL_ONLY:
            return NotAvailable(f"{name}{sig}: positional-only parameters")
        key = next((k for k, al in ALIASES.items() if param.name in al and k in offered), None)
        if key is not None:
            names[param.name] = key
        elif param.default is param.empty:
            return NotAvailable(f"{name}{sig}: cannot supply '{param.name}'")
    return Bound(name, fn, names)


def find(
    candidates: tuple[tuple[str, tuple[str, ...]], ...], offered: set[str]
) -> Bound | NotAvailable:
    """The first candidate that exists and can be bound; else why none could."""
    reasons: list[str] = []
    for module, names in candidates:
        found = _lookup(module, names)
        if isinstance(found, NotAvailable):
            reasons.append(found.reason)
            continue
        bound = bind(found[0], found[1], offered)
        if isinstance(bound, Bound):
            return bound
        reasons.append(bound.reason)
    return NotAvailable("; ".join(reasons))


# -- per workbook --------------------------------------------------------------------------

PER_FILE_OFFERED = {"definition", "period", "path", "display", "secret", "lang"}


def collect_per_file() -> tuple[str, Bound] | NotAvailable:
    """The per-workbook collect + validate stage (read, identify, validate one file)."""
    found = find((("bms_excel.collect", COLLECT_FILE_CANDIDATES),), PER_FILE_OFFERED)
    if isinstance(found, Bound):
        return "collect + validate", found
    return found


def read_per_file() -> tuple[str, Bound] | NotAvailable:
    """The per-workbook read stage alone (values + light structure pass)."""
    found = find((("bms_excel.reader", ("read_submission",)),), PER_FILE_OFFERED)
    if isinstance(found, Bound):
        return "read", found
    return found


#: The stages of collect + validate, each timed on its own (issue 19): key → row label. The
#: light pass covers the sniffing, the zip limits, inflating and checking every XML part, the
#: structure and the sheet extent; calamine reads the values from the package the light pass
#: prepared; identify + validate works on the values read.
COLLECT_STAGES = {
    "stage.light": "  stage: light pass + sheet extent",
    "stage.calamine": "  stage: calamine read (values)",
    "stage.validate": "  stage: identify + validate",
}

#: One stage: its key, the timed callable and the untimed preparation of its argument from a
#: workbook's path.
StageMethod = tuple[str, Callable[[Any], Any], Callable[[Path], Any]]


def collect_stage_methods(definition: Any, period: str) -> list[StageMethod] | NotAvailable:
    """The stages of :data:`COLLECT_STAGES` as the library runs them inside ``process_file``."""
    try:
        from bms_excel.archive import Deadline
        from bms_excel.collect import form_limits
        from bms_excel.reader import Wanted, light_pass, read_submission, read_values
        from bms_excel.submissions import sniff_stream
        from bms_excel.validate import UNREAD_SHEETS, validate_data
    except ImportError as exc:
        return NotAvailable(f"collect stages: {exc}")
    limits = form_limits(definition)
    wanted = Wanted(None, frozenset(UNREAD_SHEETS))
    secret = _secret()

    def light(data: bytes) -> Any:
        kind, archive = sniff_stream(io.BytesIO(data))
        if archive is None:
            raise RuntimeError(f"not a zip package: {kind}")
        try:
            return light_pass(data, archive, kind, wanted, limits, Deadline(limits.time_budget))
        finally:
            archive.close()

    def calamine(prepared: Any) -> None:
        workbook, view, sheets = prepared
        read_values(view, workbook, sheets, Deadline(limits.time_budget))

    def read(path: Path) -> Any:
        return read_submission(
            path, display_name=path.name, skip_sheets=UNREAD_SHEETS, limits=limits
        )

    def validate(result: Any) -> Any:
        return validate_data(
            result.data,
            definition,
            secret,
            result.path,
            sha256=result.sha256,
            expected_period=period,
        )

    return [
        ("stage.light", light, lambda path: path.read_bytes()),
        ("stage.calamine", calamine, lambda path: light(path.read_bytes())),
        ("stage.validate", validate, read),
    ]


# -- consolidate stages --------------------------------------------------------------------


@dataclass
class StageTime:
    """One consolidate stage: seconds, or why it was not run."""

    name: str
    seconds: float | None = None
    entry: str = ""
    note: str = ""
    available: bool = True


@dataclass
class ConsolidateRun:
    """The stage split of one consolidation."""

    stages: list[StageTime] = field(default_factory=list)
    end_to_end: StageTime | None = None
    #: Peak RSS of this process during the end-to-end run alone, started with the stage
    #: results released (what ``bms consolidate`` itself needs, plus the harness's baseline).
    end_to_end_peak_mib: float | None = None
    #: Peak RSS while the stages were timed one by one (before the end-to-end run).
    stages_peak_mib: float | None = None
    records_from: str = ""
    values: int = 0
    states: dict[str, int] = field(default_factory=dict)
    severities: dict[str, int] = field(default_factory=dict)


def _timed(name: str, entry: str, fn: Callable[[], Any]) -> tuple[StageTime, Any]:
    start = time.perf_counter()
    result = fn()
    return StageTime(name, time.perf_counter() - start, entry), result


def run_consolidate(
    definition: Any,
    period: str,
    folder: Path,
    work: Path,
    fallback_batch: Callable[[], Any],
    *,
    processes: int,
) -> ConsolidateRun:
    """Time consolidation of ``folder`` stage by stage, with whatever the library has.

    ``fallback_batch`` builds the ``SubmissionBatch`` from the values typed in by the filler;
    it is used (and said so) only when collect is not available, so the later stages still
    run on a batch of the right size.
    """
    run = ConsolidateRun()
    offered: dict[str, Any] = {
        "definition": definition,
        "period": period,
        "folder": folder,
        "secret": _secret(),
        "lang": "nb",
        "db": work / "bench-history.sqlite",
        "master": work / "bench-master.xlsx",
        "processes": processes,
    }

    collect = find((("bms_excel.collect", COLLECT_FOLDER_CANDIDATES),), set(offered))
    if isinstance(collect, Bound):
        stage, result = _timed("collect (read + validate)", collect.name, lambda: collect(offered))
        # collect_submissions returns a report whose ``batch`` is what consolidation consumes.
        batch = getattr(result, "batch", result)
        if batch is not result:
            offered["report"] = result
        run.records_from = collect.name
    else:
        stage = StageTime("collect (read + validate)", available=False, note=collect.reason)
        batch = fallback_batch()
        run.records_from = "the filler's typed-in values (collect not available)"
    run.stages.append(stage)
    offered["batch"] = batch
    offered["actions"] = getattr(batch, "actions", None)
    offered["assessments"] = getattr(batch, "assessments", None)
    values = getattr(batch, "values", None)
    run.values = len(values) if values is not None else 0
    for sub in getattr(batch, "submissions", ()):
        run.states[sub.state] = run.states.get(sub.state, 0) + 1
    for finding in getattr(batch, "findings", ()):
        run.severities[finding.severity] = run.severities.get(finding.severity, 0) + 1

    run.stages.append(_database(offered, period, values))
    run.stages.append(_aggregate(offered, definition, period))
    run.stages.append(_master(offered))

    stage_only = {
        "batch",
        "long",
        "county",
        "rollups",
        "trends",
        "report",
        "actions",
        "assessments",
    }
    e2e = find(CONSOLIDATE_E2E_CANDIDATES, set(offered) - stage_only)
    if isinstance(e2e, Bound):
        for p in work.glob("bench-*"):
            p.unlink(missing_ok=True)
        # Release what the stage timings kept, so the peak below is the end-to-end run's own.
        for key in (*stage_only, "values"):
            offered.pop(key, None)
        batch = values = result = None
        run.stages_peak_mib = memory.peak_self_mib()
        gc.collect()
        memory.reset_peak()
        run.end_to_end, _ = _timed("consolidate end to end", e2e.name, lambda: e2e(offered))
        run.end_to_end_peak_mib = memory.peak_self_mib()
    elif all(s.available for s in run.stages):
        total = sum(s.seconds or 0.0 for s in run.stages)
        run.end_to_end = StageTime(
            "consolidate end to end", total, "sum of the stages", note=e2e.reason
        )
    else:
        missing = [s.name for s in run.stages if not s.available]
        run.end_to_end = StageTime(
            "consolidate end to end",
            available=False,
            note=f"{e2e.reason}; stages missing: {', '.join(missing)}",
        )
    return run


def _secret() -> bytes:
    from bench.corpus import SECRET

    return SECRET


def _database(offered: dict[str, Any], period: str, values: Any) -> StageTime:
    name = "database (record batch, read accepted)"
    try:
        from bms_excel.history import RunInfo, open_history
    except ImportError as exc:
        return StageTime(name, available=False, note=f"bms_excel.history: {exc}")
    if values is None:
        return StageTime(name, available=False, note="collect returned no SubmissionBatch")
    db: Path = offered["db"]
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    batch = offered["batch"]

    def record() -> Any:
        with open_history(db) as history:
            history.record_batch(batch, run_info=RunInfo(command="bench", period=period))
            return history.accepted_values(period)

    stage, accepted = _timed(name, "History.record_batch + accepted_values", record)
    offered["values"] = accepted
    return stage


def _aggregate(offered: dict[str, Any], definition: Any, period: str) -> StageTime:
    name = "aggregate (long table, county, roll-ups, trend)"
    try:
        from bms_excel.consolidate import (
            aggregate_county,
            build_long_table,
            previous_period,
            rollup_scores,
            trend,
        )
    except ImportError as exc:
        return StageTime(name, available=False, note=f"bms_excel.consolidate: {exc}")
    values = offered.get("values")
    if values is None:
        values = getattr(offered.get("batch"), "values", None)
    if values is None:
        return StageTime(name, available=False, note="no value records")

    def aggregate() -> tuple[Any, Any, Any, Any]:
        long = build_long_table(definition, values, period)
        county = aggregate_county(definition, long, period)
        rollups = rollup_scores(definition, long, county)
        # The synthetic county has no earlier period in its database: trend against empty.
        before = previous_period(definition, period) or period
        trends = trend(definition, long, build_long_table(definition, [], before))
        return long, county, rollups, trends

    stage, (long, county, rollups, trends) = _timed(
        name, "build_long_table + aggregate_county + rollup_scores + trend", aggregate
    )
    offered.update(long=long, county=county, rollups=rollups, trends=trends)
    return stage


def _master(offered: dict[str, Any]) -> StageTime:
    name = "write master"
    master = find(MASTER_CANDIDATES, set(offered))
    if isinstance(master, NotAvailable):
        return StageTime(name, available=False, note=master.reason)
    stage, _ = _timed(name, master.name, lambda: master(offered))
    return stage


def time_collect_folder(definition: Any, period: str, folder: Path, *, processes: int) -> StageTime:
    """Collect the whole folder once with ``processes`` (for the pool speed-up)."""
    offered: dict[str, Any] = {
        "definition": definition,
        "period": period,
        "folder": folder,
        "secret": _secret(),
        "lang": "nb",
        "processes": processes,
    }
    collect = find((("bms_excel.collect", COLLECT_FOLDER_CANDIDATES),), set(offered))
    name = f"collect, {processes} process{'es' if processes > 1 else ''}"
    if isinstance(collect, NotAvailable):
        return StageTime(name, available=False, note=collect.reason)
    if "processes" not in collect.names:
        return StageTime(name, available=False, note=f"{collect.name} takes no processes")
    stage, _ = _timed(name, collect.name, lambda: collect(offered))
    return stage
