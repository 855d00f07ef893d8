"""Collect a submissions folder: who delivered, what is wrong, and the records to consolidate.

The map step (:func:`process_file`: one file → compact records and findings) is a pure function
of the file and the definition, always run in worker processes (:func:`process_files`), so that
no file can stop the run: each worker has a memory ceiling and a hard CPU-time limit per file,
and a worker that dies anyway (a native abort, out of memory, a signal) costs only the file it
was reading (``reader-crashed`` or ``timeout``) — the pool is replaced and every other file is
read as usual. The reduce step (duplicates, unit states, the reminder list) runs once over
those compact results, in time linear in the number of files. Submissions are only ever read:
never modified, re-saved or run.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import math
import multiprocessing
import os
import signal
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bms_excel.codes import severity_of
from bms_excel.errors import Finding, OutputError
from bms_excel.i18n import t
from bms_excel.layout import DEFAULT_ANCHORS
from bms_excel.model import Definition
from bms_excel.reader import MAX_FILE_SIZE, Limits, read_submission
from bms_excel.records import (
    ActionRecord,
    AssessmentRecord,
    SubmissionBatch,
    SubmissionRecord,
    UnitState,
    ValueRecord,
)
from bms_excel.submissions import escape_name, walk_submissions
from bms_excel.validate import UNREAD_SHEETS, Extract, validate_data
from bms_excel.values import neutralise
from bms_excel.xlsx.files import write_atomic

#: Files per task sent to a worker (fewer when the batch is small, so both workers get work).
CHUNK_SIZE = 16
#: How much address space a worker may take beyond what it holds when it starts
#: (``RLIMIT_AS``): a file that needs more fails alone, and the machine keeps its memory.
MEMORY_BUDGET = 768 * 1024 * 1024
#: Seconds of CPU time beyond the reader's own budget before the kernel stops a worker
#: (``RLIMIT_CPU``): the budget is checked between steps, this limit also inside native code.
HARD_TIME_GRACE = 2.0
#: Form rows beyond the definition's own rows: rows a unit may insert, and the fixed sheets.
FORM_ROW_SLACK = 1000
#: Columns of any form sheet (the widest uses about 15).
FORM_COLUMNS = 64

Progress = Callable[[int, int], None]


@dataclass
class FileOutcome:
    """The compact result of one file (what a worker process sends back)."""

    path: str
    sha256: str | None
    size: int | None
    kind: str | None
    unit: str | None = None
    period: str | None = None
    generated_at: str | None = None
    modified_at: str | None = None
    received_at: str | None = None
    usable: bool = False
    state: str = "rejected"
    values: list[ValueRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass
class UnitReport:
    """One unit in scope and what came in from it."""

    code: str
    name: str
    state: UnitState
    files: list[str] = field(default_factory=list)
    contact_name: str | None = None
    email: str | None = None


@dataclass
class CollectReport:
    """Everything a collection found; ``batch`` is what consolidation consumes."""

    period: str
    units: list[UnitReport]
    files: list[FileOutcome]
    findings: list[Finding]
    batch: SubmissionBatch
    reminder_csv: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of ``bms collect`` / ``bms validate``."""
        return {
            "period": self.period,
            "units": [
                {"code": u.code, "name": u.name, "state": u.state, "files": u.files}
                | ({"contact": u.contact_name, "email": u.email} if u.state != "received" else {})
                for u in self.units
            ],
            "files": [
                {
                    "path": f.path,
                    "sha256": f.sha256,
                    "unit": f.unit,
                    "period": f.period,
                    "state": f.state,
                }
                for f in self.files
            ],
            "findings": [f.to_dict() for f in self.findings],
        }


# -- map: one file -----------------------------------------------------------------------------


def form_limits(definition: Definition) -> Limits:
    """Reader limits whose sheet area is the largest form this definition can produce.

    Every focus area, goal, factor and indicator is at most one row of Målekort, the Tiltak
    table has a fixed number of rows, and ``FORM_ROW_SLACK`` leaves room for inserted rows;
    nothing a reader is asked for goes beyond that.
    """
    rows = DEFAULT_ANCHORS.scorecard_header_row + DEFAULT_ANCHORS.action_rows
    for area in definition.focus_areas:
        rows += 1
        for goal in area.goals:
            rows += 1 + sum(1 + len(factor.indicators) for factor in goal.factors)
    return Limits(max_rows=rows + FORM_ROW_SLACK, max_cols=FORM_COLUMNS)


def process_file(
    path: Path,
    display: str,
    definition: Definition,
    secret: bytes,
    period: str | None,
    limits: Limits | None = None,
) -> FileOutcome:
    """Read, identify and validate one file; never raises for a bad file."""
    result = read_submission(
        path,
        display_name=display,
        skip_sheets=UNREAD_SHEETS,
        limits=limits or form_limits(definition),
    )
    outcome = FileOutcome(
        path=display,
        sha256=result.sha256,
        size=result.size,
        kind=result.kind,
        findings=list(result.findings),
    )
    with contextlib.suppress(OSError):
        outcome.received_at = dt.datetime.fromtimestamp(path.stat().st_mtime).isoformat(
            timespec="seconds"
        )
    if result.data is None:
        return outcome
    outcome.modified_at = result.data.modified.isoformat() if result.data.modified else None
    extract: Extract = validate_data(
        result.data,
        definition,
        secret,
        display,
        sha256=result.sha256,
        expected_period=period,
    )
    outcome.findings.extend(extract.findings)
    ident = extract.identity
    outcome.unit, outcome.period = ident.unit, ident.period
    outcome.generated_at = ident.generated_at
    outcome.usable = extract.usable
    if extract.usable:
        outcome.state = "accepted"
        outcome.values, outcome.actions = extract.values, extract.actions
        outcome.assessments = extract.assessments
    return outcome


_WORKER: dict[str, Any] = {}


def _init_worker(
    definition: Definition,
    secret: bytes,
    period: str | None,
    limits: Limits,
    states: Any = None,
) -> None:
    _WORKER.update(definition=definition, secret=secret, period=period, limits=limits)
    _WORKER["states"] = states
    _WORKER["memory_limit"] = _limit_worker()
    if not os.environ.get("BMS_DEBUG"):
        # A native library that aborts prints its own stack (Rust: "memory allocation of …
        # failed", a backtrace) on the worker's stderr; the finding says it, once, in Norwegian.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)


def _limit_worker() -> int | None:
    """No core dumps, and an address-space ceiling of what the worker holds plus
    ``MEMORY_BUDGET``; returns the ceiling in bytes (``None`` where it cannot be set)."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits; a worker that dies still fails alone
        return None
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    ceiling = pages * os.sysconf("SC_PAGE_SIZE") + MEMORY_BUDGET
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY and hard < ceiling:
        ceiling = hard
    try:
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    except (ValueError, OSError):
        return None
    return ceiling


def _arm_cpu_limit(budget: float) -> None:
    """Let the kernel stop this worker (SIGXCPU) when the next file takes more CPU time than
    the budget and grace: a hard limit even inside a native call that never returns."""
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + budget + HARD_TIME_GRACE)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _work_one(index: int, path: Path, display: str) -> FileOutcome:
    limits: Limits = _WORKER["limits"]
    states = _WORKER.get("states")
    if states is not None:
        states[index] = 1  # started: suspect if this worker dies now
    _arm_cpu_limit(limits.time_budget)
    try:
        outcome = process_file(
            path, display, _WORKER["definition"], _WORKER["secret"], _WORKER["period"], limits
        )
    except MemoryError:  # the RLIMIT_AS ceiling reached in Python code: this file only
        limit = (_WORKER.get("memory_limit") or MEMORY_BUDGET) // (1024 * 1024)
        outcome = crashed_outcome(path, display, t("reader.crash.memory", limit=limit))
    if states is not None:
        states[index] = 2
    return outcome


def _work(chunk: list[tuple[int, Path, str]]) -> list[tuple[int, FileOutcome]]:
    return [(index, _work_one(index, path, display)) for index, path, display in chunk]


def crashed_outcome(path: Path, display: str, reason: str) -> FileOutcome:
    """The outcome of a file whose reading process died: one ``reader-crashed`` finding."""
    return _failed_outcome(
        path, display, "reader-crashed", t("reader.reader-crashed", reason=reason)
    )


def _failed_outcome(path: Path, display: str, code: str, message: str) -> FileOutcome:
    """A file its worker could not finish: its size and sha256 (for the audit trail, read here
    without parsing anything) and one finding."""
    size: int | None = None
    sha256: str | None = None
    with contextlib.suppress(OSError):
        info = path.stat()
        size = info.st_size
        if stat.S_ISREG(info.st_mode) and size <= MAX_FILE_SIZE:
            with open(path, "rb") as fh:
                sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
    finding = Finding(code, severity_of(code), message, file=display)
    return FileOutcome(path=display, sha256=sha256, size=size, kind=None, findings=[finding])


def process_files(
    items: list[tuple[Path, str]],
    definition: Definition,
    secret: bytes,
    period: str | None,
    *,
    processes: int | None = None,
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> Iterator[FileOutcome]:
    """Process ``(path, display name)`` items in worker processes; outcomes in item order.

    A worker that dies takes down the pool's pending tasks, not their files: the files it had
    started are read again, one process each, to tell the file that killed it
    (``reader-crashed``, or ``timeout`` when the kernel's CPU limit stopped it) from the
    bystanders; the rest go to a fresh pool.
    """
    total = len(items)
    if not total:
        return
    limits = limits or form_limits(definition)
    workers = max(1, min(processes or os.cpu_count() or 1, total))
    chunk = max(1, min(CHUNK_SIZE, math.ceil(total / (workers * 4))))
    states = multiprocessing.RawArray("b", total)
    results: dict[int, FileOutcome] = {}

    def done(index: int, outcome: FileOutcome) -> None:
        results[index] = outcome
        if progress:
            progress(len(results), total)

    remaining = list(range(total))
    while remaining:
        broken = False
        with ProcessPoolExecutor(
            max_workers=min(workers, len(remaining)),
            initializer=_init_worker,
            initargs=(definition, secret, period, limits, states),
        ) as pool:
            tasks = [
                pool.submit(_work, [(i, *items[i]) for i in remaining[k : k + chunk]])
                for k in range(0, len(remaining), chunk)
            ]
            for task in as_completed(tasks):
                try:
                    for index, outcome in task.result():
                        done(index, outcome)
                except BrokenProcessPool:
                    broken = True
        remaining = [i for i in remaining if i not in results]
        if not broken:
            break
        suspects = [i for i in remaining if states[i] == 1] or remaining
        for index in suspects:
            path, display = items[index]
            done(index, _process_alone(path, display, definition, secret, period, limits))
        remaining = [i for i in remaining if i not in results]
    for index in range(total):
        yield results[index]


def _alone(
    conn: Connection,
    path: Path,
    display: str,
    definition: Definition,
    secret: bytes,
    period: str | None,
    limits: Limits,
) -> None:
    _init_worker(definition, secret, period, limits)
    conn.send(_work_one(0, path, display))
    conn.close()


def _process_alone(
    path: Path,
    display: str,
    definition: Definition,
    secret: bytes,
    period: str | None,
    limits: Limits,
) -> FileOutcome:
    """One file in a process of its own: its outcome, or the finding for how the process died."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    proc = multiprocessing.Process(
        target=_alone, args=(sender, path, display, definition, secret, period, limits)
    )
    proc.start()
    sender.close()
    outcome: FileOutcome | None = None
    killed = False
    try:
        if receiver.poll(limits.time_budget + HARD_TIME_GRACE + 5):
            outcome = receiver.recv()
    except (EOFError, OSError):  # the process died before it sent anything
        outcome = None
    finally:
        receiver.close()
        proc.join(timeout=5)
        if proc.is_alive():  # still busy past the wall-clock budget (or stuck): stop it
            killed = True
            proc.kill()
            proc.join()
    if outcome is not None:
        return outcome
    code = proc.exitcode or 0
    if killed or code == -getattr(signal, "SIGXCPU", 0):
        return _failed_outcome(
            path, display, "timeout", t("reader.timeout", seconds=f"{limits.time_budget:g}")
        )
    reason = (
        t("reader.crash.signal", signal=signal.Signals(-code).name)
        if code < 0 and -code in signal.valid_signals()
        else t("reader.crash.signal", signal=str(code))
    )
    return crashed_outcome(path, display, reason)


# -- reduce: the whole folder ------------------------------------------------------------------


def collect_submissions(
    folder: Path,
    definition: Definition,
    period: str,
    secret: bytes,
    *,
    processes: int | None = None,
    progress: Progress | None = None,
) -> CollectReport:
    """Collect every file under ``folder`` (recursively) for ``period``."""
    findings: list[Finding] = []
    items: list[tuple[Path, str]] = []
    for cand in walk_submissions(folder):
        skipped = cand.finding()
        if skipped is not None:
            findings.append(skipped)
        else:
            items.append((cand.path, cand.relpath))
    outcomes = list(
        process_files(items, definition, secret, period, processes=processes, progress=progress)
    )
    return reduce_outcomes(outcomes, definition, period, findings)


def validate_files(
    paths: Iterable[Path],
    definition: Definition,
    secret: bytes,
    period: str | None = None,
) -> CollectReport:
    """The same checks for single files (an e-mail attachment, the Valider button)."""
    items = [(p, escape_name(os.fsdecode(p))) for p in paths]
    outcomes = list(process_files(items, definition, secret, period, processes=1))
    units = {o.unit for o in outcomes if o.usable}
    report = reduce_outcomes(outcomes, definition, period or "", [], scope=units)
    return report


def _sort_key(o: FileOutcome) -> tuple[str, str, str]:
    return (o.modified_at or "", o.generated_at or "", o.path)


def _value_signature(o: FileOutcome) -> dict[str, tuple[Any, ...]]:
    return {v.indicator: (v.kind, v.value, v.comment) for v in o.values}


def reduce_outcomes(
    outcomes: list[FileOutcome],
    definition: Definition,
    period: str,
    findings: list[Finding],
    scope: set[str | None] | None = None,
) -> CollectReport:
    """Resolve duplicates, decide each unit's state and assemble the batch."""
    by_unit: dict[str, list[FileOutcome]] = defaultdict(list)
    by_sha: dict[str, FileOutcome] = {}
    for o in outcomes:
        findings.extend(o.findings)
        if not o.usable or o.unit is None:
            continue
        if o.sha256 is not None and o.sha256 in by_sha:
            # The very same bytes twice (a copy, a link): keep one, report the other.
            o.state = "duplicate"
            findings.append(
                Finding(
                    "duplicate-file",
                    "info",
                    t("collect.duplicate-file", other=by_sha[o.sha256].path),
                    file=o.path,
                )
            )
            continue
        if o.sha256 is not None:
            by_sha[o.sha256] = o
        by_unit[o.unit].append(o)

    conflicted: set[str] = set()
    for unit, files in by_unit.items():
        if len(files) < 2:
            continue
        files.sort(key=_sort_key)
        newest = files[-1]
        newest_sig = _value_signature(newest)
        differing = [f for f in files[:-1] if _value_signature(f) != newest_sig]
        if differing:
            conflicted.add(unit)
            cells = _differing_codes([*differing, newest])
            for f in files:
                f.state = "duplicate"
            findings.append(
                Finding(
                    "duplicate-conflict",
                    "error",
                    t(
                        "collect.duplicate-conflict",
                        unit=unit,
                        files=", ".join(f.path for f in files),
                        codes=", ".join(cells),
                    ),
                    file=newest.path,
                    extra={"files": [f.path for f in files], "indicators": cells},
                )
            )
        else:
            for f in files[:-1]:
                f.state = "duplicate"
                findings.append(
                    Finding(
                        "duplicate-identical",
                        "info",
                        t("collect.duplicate-identical", newest=newest.path),
                        file=f.path,
                    )
                )

    _flag_late(outcomes, definition, period, findings)
    rejected_by_unit: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.unit is not None and not o.usable:
            rejected_by_unit[o.unit].append(o.path)
    batch = SubmissionBatch(period=period)
    units: list[UnitReport] = []
    for u in definition.units:
        if scope is not None and u.code not in scope:
            continue
        files = by_unit.get(u.code, [])
        rejected = rejected_by_unit.get(u.code, [])
        state: UnitState
        if u.code in conflicted:
            state = "duplicate"
        elif files:
            state = "received"
        elif rejected:
            state = "rejected"
        else:
            state = "missing"
        units.append(
            UnitReport(
                code=u.code,
                name=u.name,
                state=state,
                files=sorted({*(f.path for f in files), *rejected}),
                contact_name=u.contact.name if u.contact else None,
                email=u.contact.email if u.contact else None,
            )
        )
    for o in outcomes:
        batch.submissions.append(
            SubmissionRecord(
                path=o.path,
                sha256=o.sha256 or "",
                size=o.size or 0,
                unit=o.unit,
                period=o.period,
                state="accepted"
                if o.state == "accepted"
                else "duplicate"
                if o.state == "duplicate"
                else "rejected",
                kind=o.kind or "unknown",
                generated_at=o.generated_at,
                modified_at=o.modified_at,
                received_at=o.received_at,
            )
        )
        if o.state == "accepted":
            batch.values.extend(o.values)
            batch.actions.extend(o.actions)
            batch.assessments.extend(o.assessments)
        o.values, o.actions, o.assessments = [], [], []  # records live in the batch only
    batch.findings = findings
    return CollectReport(period=period, units=units, files=outcomes, findings=findings, batch=batch)


def _flag_late(
    outcomes: list[FileOutcome], definition: Definition, period: str, findings: list[Finding]
) -> None:
    """An info finding for each accepted file saved after the period's deadline."""
    try:
        deadline = definition.period(period).deadline
    except KeyError:
        return
    for o in outcomes:
        if o.state == "accepted" and o.received_at and o.received_at[:10] > deadline.isoformat():
            findings.append(
                Finding(
                    "late-submission",
                    "info",
                    t("collect.late", date=o.received_at[:10], deadline=deadline.isoformat()),
                    file=o.path,
                )
            )


def _differing_codes(files: list[FileOutcome]) -> list[str]:
    sigs = [_value_signature(f) for f in files]
    codes = sorted({c for s in sigs for c in s})
    return [c for c in codes if len({s.get(c) for s in sigs}) > 1]


# -- reminder list -----------------------------------------------------------------------------


def reminder_rows(report: CollectReport, definition: Definition) -> list[dict[str, str]]:
    """Units to follow up (missing, rejected, duplicate) with contact and deadline."""
    deadline = ""
    with contextlib.suppress(KeyError):
        deadline = definition.period(report.period).deadline.isoformat()
    return [
        {
            t("collect.csv.unit"): u.code,
            t("collect.csv.name"): u.name,
            t("collect.csv.state"): t(f"collect.state.{u.state}"),
            t("collect.csv.contact"): u.contact_name or "",
            t("collect.csv.email"): u.email or "",
            t("collect.csv.deadline"): deadline,
            t("collect.csv.files"): "; ".join(u.files),
        }
        for u in report.units
        if u.state != "received"
    ]


def write_reminder_csv(report: CollectReport, definition: Definition, out_dir: Path) -> Path:
    """Write the reminder list (``purreliste_<period>.csv``, ``;``-separated, UTF-8 with BOM so
    Excel opens it with æøå intact) atomically and return its path."""
    rows = reminder_rows(report, definition)
    headers = [
        t(f"collect.csv.{k}")
        for k in ("unit", "name", "state", "contact", "email", "deadline", "files")
    ]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=headers, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    path = out_dir / f"purreliste_{report.period}.csv"
    write_text_atomic(path, "\ufeff" + buf.getvalue())
    report.reminder_csv = path
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    try:
        write_atomic(path, text, prefix=f".{path.name}.", create_folder=True)
    except OSError as exc:
        raise OutputError(t("collect.cannot-write", path=str(path), error=str(exc))) from exc
