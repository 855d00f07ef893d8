"""Collect a submissions folder: who delivered, what is wrong, and the records to consolidate.

The map step (:func:`process_file`: one file → compact records and findings) is a pure function
of the file and the definition, always run in worker processes (:func:`process_files`), so that
no file can stop the run: each worker has a memory ceiling and a hard CPU-time limit per file,
and a worker that dies anyway (a native abort, out of memory, a signal) costs only the file it
was reading (``reader-crashed`` or ``timeout``) — the pool is replaced and every other file is
read as usual. The reduce step (duplicates, unit states, the reminder list;
:mod:`bms_excel.collect_report`) runs once over those compact results, in time linear in the
number of files. Submissions are only ever read: never modified, re-saved or run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import multiprocessing
import os
import signal
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bms_excel.codes import make_finding
from bms_excel.collect_report import (
    CollectReport,
    UnitReport,
    reduce_outcomes,
    reminder_rows,
    write_reminder_csv,
    write_text_atomic,
)
from bms_excel.errors import Finding
from bms_excel.i18n import t
from bms_excel.layout import DEFAULT_ANCHORS
from bms_excel.model import Definition
from bms_excel.reader import MAX_FILE_SIZE, Limits, read_submission
from bms_excel.records import ActionRecord, AssessmentRecord, ValueRecord
from bms_excel.submissions import escape_name, walk_submissions
from bms_excel.validate import UNREAD_SHEETS, Extract, validate_data

__all__ = [
    "CollectReport",
    "FileOutcome",
    "UnitReport",
    "collect_submissions",
    "crashed_outcome",
    "form_limits",
    "process_file",
    "process_files",
    "reduce_outcomes",
    "reminder_rows",
    "validate_files",
    "write_reminder_csv",
    "write_text_atomic",
]

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
    return _failed_outcome(path, display, "reader-crashed", reason=reason)


def _failed_outcome(path: Path, display: str, code: str, **params: Any) -> FileOutcome:
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
    finding = make_finding(code, file=display, **params)
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
        return _failed_outcome(path, display, "timeout", seconds=f"{limits.time_budget:g}")
    reason = (
        t("reader.crash.signal", signal=signal.Signals(-code).name)
        if code < 0 and -code in signal.valid_signals()
        else t("reader.crash.signal", signal=str(code))
    )
    return crashed_outcome(path, display, reason)


# -- the whole folder (the reduce step is bms_excel.collect_report) -----------------------------


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
