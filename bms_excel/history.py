"""The history database: every run, submission, value and finding, in one SQLite file (DESIGN §5).

Nothing is overwritten. A submission is identified by its sha256: recording the same file
again changes nothing, and a new accepted file for a unit and period *supersedes* the earlier
one (``state = superseded``, ``superseded_by`` set), which stays in the audit trail with its
values. Supersession is per ``(unit, period, source)``: a controller's figures never replace a
unit's own workbook, and vice versa; consolidation chooses between sources per indicator.

Values without a file (controller-loaded rows such as ``history.csv``) are stored as a
synthetic submission per unit and period whose ``sha256`` is the hash of its canonical rows,
so re-importing the same rows is idempotent too.

Concurrency: a writer holds an advisory lock on ``<db>.lock`` for as long as the database is
open (released by the operating system even after ``kill -9``), and every write transaction
is ``BEGIN IMMEDIATE`` with a short busy timeout, so a second writer fails fast with a clear
:class:`~bms_excel.errors.OutputError` instead of waiting or corrupting anything.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from bms_excel import __version__
from bms_excel.errors import Finding, OutputError
from bms_excel.history_schema import MIGRATIONS, SCHEMA_VERSION
from bms_excel.history_write import RecordOutcome as RecordOutcome
from bms_excel.history_write import (
    batch_entries,
    insert_sql,
    record_entries,
    record_findings,
)
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.periods import period_sort_key, previous_periods
from bms_excel.records import (
    ActionRecord,
    AssessmentRecord,
    SubmissionBatch,
    ValueRecord,
)

#: How long a writer waits for another writer's transaction before giving up (milliseconds).
BUSY_TIMEOUT_MS = 1500


_VALUE_COLUMNS = (
    "unit, period, indicator, kind, value, raw, comment, source, file, sha256, has_error"
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What a run is: the command, its period and the definition it used."""

    command: str
    period: str | None = None
    definition_hash: str | None = None
    tool_version: str = __version__
    started_at: str | None = None


@dataclass(frozen=True, slots=True)
class StoredSubmission:
    """A submission as stored, with its database id and audit fields."""

    id: int
    sha256: str
    path: str
    unit: str | None
    period: str | None
    kind: str
    source: str
    size: int
    received_at: str | None
    generated_at: str | None
    state: str
    run_id: int
    superseded_by: int | None
    superseded_in_run: int | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One state a submission entered in a run; ``other`` is the submission it replaced
    (``accepted``) or the one that superseded it (``superseded``)."""

    run_id: int
    run_started_at: str
    state: str
    sha256: str
    path: str
    other_sha256: str | None = None
    other_path: str | None = None


@dataclass(frozen=True, slots=True)
class DialogueEvent:
    """One decision on the way back to the units: a review (``approved``/``returned``), a
    ``feedback`` workbook, a period ``closed`` or ``reopened``; who took it, when and why."""

    id: int
    at: str
    by: str
    kind: str
    period: str
    unit: str | None = None
    reason: str | None = None
    #: The sha256 of the unit's accepted return the decision was about (reviews).
    sha256: str | None = None
    origin: str = "cli"


@dataclass(frozen=True, slots=True)
class ExternalFigure:
    """One figure from outside the units' workbooks (KOSTRA, controller); ``unit`` None = county."""

    source: str
    period: str
    value: float | None
    table_id: str = ""
    contents: str = ""
    region: str = ""
    status: str | None = None
    indicator: str | None = None
    unit: str | None = None
    file_sha256: str = ""
    role: str = "county"
    status_symbol: str | None = None
    region_name: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@contextmanager
def open_history(path: str | os.PathLike[str], *, lock: bool = True) -> Iterator[History]:
    """Open (create, migrate) the history database at ``path``; a writer holds the project lock."""
    history = History(Path(path), lock=lock)
    try:
        yield history
    finally:
        history.close()


class _FileLock:
    """An exclusive, non-blocking advisory lock that the OS releases when the process dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open for the lock's lifetime
        try:
            if sys.platform == "win32":
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor releases flock/msvcrt locks
            self._handle = None


class History:
    """A connection to the history database. Use :func:`open_history` to get one."""

    def __init__(self, path: Path, *, lock: bool = True) -> None:
        self.path = path
        self._lock: _FileLock | None = None
        if lock:
            self._lock = _FileLock(path.with_name(path.name + ".lock"))
            try:
                acquired = self._lock.acquire()
            except OSError as exc:  # no such folder, no permission
                error = t("history.not-a-database", error=exc.strerror or str(exc))
                raise OutputError(error, str(path)) from exc
            if not acquired:
                self._lock = None
                raise OutputError(t("history.locked", path=str(path)), str(path))
        try:
            self._con = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            self._con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._con.execute("PRAGMA journal_mode = WAL")
            self._migrate()  # before foreign keys are on: a migration may rebuild a table
            self._con.execute("PRAGMA foreign_keys = ON")
            #: Runs a dead process left unfinished, marked ``aborted`` now (writers only).
            self.aborted_runs: tuple[int, ...] = self._abort_stale_runs() if lock else ()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise OutputError(t("history.not-a-database", error=str(exc)), str(path)) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection and release the lock."""
        con = getattr(self, "_con", None)
        if con is not None:
            con.close()
            self._con = None  # type: ignore[assignment]
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- transactions and schema -------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; a busy database is a clear OutputError."""
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise OutputError(t("history.locked", path=str(self.path)), str(self.path)) from exc
            raise
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        """The schema version stored in the file (``PRAGMA user_version``)."""
        return int(self._con.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        if self.schema_version > SCHEMA_VERSION:
            raise OutputError(
                t("history.newer-schema", found=self.schema_version, known=SCHEMA_VERSION),
                str(self.path),
            )
        while self.schema_version < SCHEMA_VERSION:
            with self._write() as con:
                current = self.schema_version  # re-read inside the lock: another may have run
                if current >= SCHEMA_VERSION:
                    break
                for statement in MIGRATIONS[current]:
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {current + 1}")

    def _abort_stale_runs(self) -> tuple[int, ...]:
        """Mark every run still ``recorded`` as ``aborted``; return their ids.

        Only a writer holding the project lock calls this. Every writer holds that lock from
        before it records its run until it has finished it, and the operating system releases
        the lock when a process dies (``kill -9``, power loss), so a run still ``recorded``
        when the lock could be taken belongs to a process that is gone.
        """
        with self._write() as con:
            stale = [rid for (rid,) in con.execute("SELECT id FROM runs WHERE status = 'recorded'")]
            con.executemany(
                "UPDATE runs SET status = 'aborted', finished_at = ? WHERE id = ?",
                [(_now(), rid) for rid in stale],
            )
        return tuple(stale)

    # -- writing -----------------------------------------------------------------------------

    def record_batch(self, batch: SubmissionBatch, *, run_info: RunInfo) -> RecordOutcome:
        """Record a collected batch in one transaction: idempotent by sha256, supersedes by unit
        (:mod:`bms_excel.history_write`)."""
        entries, values_by_sha, path_sha = batch_entries(batch)
        with self._write() as con:
            run_id = self._insert_run(con, run_info, batch.period)
            outcome = record_entries(con, run_id, entries, values_by_sha, batch, _now())
            record_findings(con, run_id, batch.findings, path_sha, set(outcome.known))
        return outcome

    def finish_run(self, run_id: int, status: str = "ok") -> None:
        """Mark a run finished (``ok`` or ``failed``) once its outputs are written."""
        with self._write() as con:
            con.execute(
                "UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (_now(), status, run_id)
            )

    def _insert_run(self, con: sqlite3.Connection, info: RunInfo, period: str | None) -> int:
        row = (info.started_at or _now(), info.command, info.period or period or None)
        cur = con.execute(
            insert_sql(
                "runs", "started_at, command, period, definition_hash, tool_version, status"
            ),
            (*row, info.definition_hash, info.tool_version, "recorded"),
        )
        return int(cur.lastrowid or 0)

    def record_external(self, figures: Iterable[ExternalFigure]) -> int:
        """Store KOSTRA/controller figures; the same figure from the same file is kept once."""
        now = _now()
        rows = [(*_EXTERNAL_FIELDS(f), now) for f in figures]
        sql = insert_sql("external_values", _EXTERNAL + ", imported_at")
        with self._write() as con:
            before = con.total_changes
            con.executemany(sql.replace("INSERT", "INSERT OR IGNORE", 1), rows)
            return con.total_changes - before

    def record_values(self, values: Sequence[ValueRecord]) -> RecordOutcome:
        """Store controller-loaded values (``bms import-values``, ``history.csv``): one
        file-less submission per unit and period, superseding that source's earlier one."""
        if not values:
            return RecordOutcome(run_id=0)
        batch = SubmissionBatch(period="", values=list(values))
        outcome = self.record_batch(batch, run_info=RunInfo("import-history"))
        self.finish_run(outcome.run_id)  # nothing more to write: the run is complete
        return outcome

    # -- reading -----------------------------------------------------------------------------

    def _values(self, where: str, params: Sequence[Any]) -> list[ValueRecord]:
        rows = self._con.execute(
            f"SELECT {_VALUE_COLUMNS} FROM accepted_values WHERE {where}"
            " ORDER BY period, unit, indicator, value_id",
            params,
        ).fetchall()
        return [_value(row) for row in rows]

    def accepted_values(
        self, period: str, *, as_of_run: int | None = None, external: bool = True
    ) -> list[ValueRecord]:
        """The accepted values of ``period`` (now, or as they stood after run ``as_of_run``)."""
        if as_of_run is None:
            values = self._values("period = ?", (period,))
        else:
            # A submission's state after a run is the last state it entered up to that run.
            rows = self._con.execute(
                f"SELECT {_JOINED_VALUES} WHERE v.period = ? AND ("
                " SELECT e.state FROM submission_events e"
                " WHERE e.submission_id = s.id AND e.run_id <= ?"
                " ORDER BY e.run_id DESC, e.id DESC LIMIT 1) = 'accepted'"
                " ORDER BY v.period, v.unit, v.indicator, v.id",
                (period, as_of_run),
            ).fetchall()
            values = [_value(row) for row in rows]
        if external:
            values.extend(self.external_values(period))
        return values

    def external_values(self, period: str | None = None) -> list[ValueRecord]:
        """The latest imported external figure per indicator and unit, as value records."""
        where = "indicator IS NOT NULL AND role != 'comparison'" + (
            " AND period = ?" if period else ""
        )
        rows = self._con.execute(
            "SELECT unit, period, indicator, value, source, file_sha256"
            f" FROM external_values WHERE {where} ORDER BY id",
            (period,) if period else (),
        ).fetchall()
        latest = {(p, u or "", i): (u, p, i, v, src, sha) for u, p, i, v, src, sha in rows}
        out = []
        for u, p, i, v, src, sha in latest.values():  # later imports won above
            kind = "missing" if v is None else "number"
            out.append(_value((u or "", p, i, kind, v, None, None, src, None, sha or None, 0)))
        return sorted(out, key=lambda v: (period_sort_key(v.period), v.unit, v.indicator))

    def external_figures(
        self, *, role: str | None = None, indicator: str | None = None
    ) -> list[ExternalFigure]:
        """Every stored external figure (latest import per cell), optionally of one role."""
        clauses, params = ["1 = 1"], []
        if role is not None:
            clauses.append("role = ?")
            params.append(role)
        if indicator is not None:
            clauses.append("indicator = ?")
            params.append(indicator)
        rows = self._con.execute(
            f"SELECT {_EXTERNAL} FROM external_values WHERE {' AND '.join(clauses)} ORDER BY id",
            params,
        ).fetchall()
        latest: dict[tuple[Any, ...], ExternalFigure] = {}
        names = _EXTERNAL.replace(" ", "").split(",")
        for row in rows:
            fig = ExternalFigure(**dict(zip(names, row, strict=True)))
            latest[(fig.source, fig.indicator, fig.role, fig.unit, fig.region, fig.period)] = fig
        return sorted(
            latest.values(),
            key=lambda f: (f.indicator or "", f.role, f.region, period_sort_key(f.period)),
        )

    def values_for_trend(
        self,
        indicator: str | None = None,
        unit: str | None = None,
        periods: Sequence[str] | None = None,
    ) -> list[ValueRecord]:
        """Accepted values over periods, optionally for one indicator, unit and set of periods."""
        clauses, params = ["1 = 1"], []
        for column, wanted in (("indicator", indicator), ("unit", unit)):
            if wanted is not None:
                clauses.append(f"{column} = ?")
                params.append(wanted)
        if periods is not None:  # a short list: the index on (period, unit, indicator) serves it
            clauses.append(f"period IN ({', '.join('?' * len(periods))})")
            params.extend(periods)
        values = self._values(" AND ".join(clauses), params)
        external = (
            [v for p in dict.fromkeys(periods) for v in self.external_values(p)]
            if periods is not None
            else self.external_values()
        )
        values.extend(
            v
            for v in external
            if (indicator is None or v.indicator == indicator) and (unit is None or v.unit == unit)
        )
        return sorted(values, key=lambda v: (period_sort_key(v.period), v.unit, v.indicator))

    def last_results(
        self,
        unit: str,
        indicators: Sequence[str],
        before_period: str,
        n: int,
        *,
        periods: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """The results of the ``n`` periods before ``before_period``, oldest first, as texts.

        The periods are those the unit workbook shows (:func:`bms_excel.layout.previous_periods`:
        the same kind of period, ``2026-T2`` → ``2025-T2, 2025-T3, 2026-T1``) unless ``periods``
        names them. Every requested indicator gets one entry per period (``""`` when nothing
        was recorded), so the generator can write aligned columns.
        """
        shown = list(periods) if periods is not None else list(previous_periods(before_period, n))
        wanted = set(indicators)
        texts: dict[tuple[str, str], str] = {}
        for v in self.values_for_trend(unit=unit, periods=shown):
            if v.indicator in wanted:
                texts[(v.period, v.indicator)] = display_text(v) or ""
        return {(unit, ind): [(p, texts.get((p, ind), "")) for p in shown] for ind in indicators}

    def history_for_generation(
        self, definition: Definition, period: str, units: Iterable[str] | None = None
    ) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """The "last periods" results of every unit's workbook for ``period`` (the generator's
        ``history`` argument), in the columns :func:`bms_excel.layout.build_layout` makes."""
        codes = [p.code for p in definition.periods]
        shown = [
            p
            for p in previous_periods(period, definition.settings.history_periods, codes)
            if p in codes
        ]
        chosen = set(units) if units is not None else None
        out: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for unit in definition.units:
            if chosen is not None and unit.code not in chosen:
                continue
            indicators = [i.code for i in definition.indicators_for_unit(unit)]
            out.update(self.last_results(unit.code, indicators, period, 0, periods=shown))
        return out

    def submissions(self, period: str | None = None) -> list[StoredSubmission]:
        """Every recorded submission (of ``period``), in the order they were recorded."""
        where, params = ("WHERE period = ?", (period,)) if period else ("", ())
        rows = self._con.execute(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions {where} ORDER BY id", params
        ).fetchall()
        return [StoredSubmission(*row) for row in rows]

    def audit_events(self, unit: str, period: str) -> list[AuditEvent]:
        """Every state the submissions of ``unit`` in ``period`` entered, in order.

        A correction reads: A ``accepted``; B ``duplicate`` (while both files were there);
        B ``accepted`` replacing A and A ``superseded`` by B, in the run after A was removed.
        """
        rows = self._con.execute(
            "SELECT e.run_id, r.started_at, e.state, s.sha256, s.path, o.sha256, o.path"
            " FROM submission_events e JOIN submissions s ON s.id = e.submission_id"
            " JOIN runs r ON r.id = e.run_id LEFT JOIN submissions o ON o.id = e.other_id"
            " WHERE s.unit = ? AND s.period = ? ORDER BY e.run_id, e.id",
            (unit, period),
        ).fetchall()
        return [AuditEvent(*row) for row in rows]

    def _findings(self, where: str, params: Sequence[Any]) -> list[Finding]:
        rows = self._con.execute(
            f"SELECT code, severity, message, file, sheet, cell FROM findings WHERE {where}"
            " ORDER BY id",
            params,
        ).fetchall()
        return [Finding(*row) for row in rows]

    def findings(self, period: str) -> list[Finding]:
        """The findings of ``period``: those of its submissions plus its latest run's own."""
        latest = self._con.execute("SELECT max(id) FROM runs WHERE period = ?", (period,))
        run_id = latest.fetchone()[0]
        return self._findings(
            "submission_sha256 IN (SELECT sha256 FROM submissions WHERE period = ?)"
            " OR (submission_sha256 IS NULL AND run_id = ?)",
            (period, run_id),
        )

    def accepted_actions(self, period: str) -> list[ActionRecord]:
        """The actions (Tiltak) of the accepted submissions of ``period``."""
        rows = self._con.execute(
            "SELECT a.unit, a.period, a.indicator, a.action, a.responsible, a.deadline, a.status,"
            " s.path, s.sha256, a.row FROM actions a JOIN submissions s ON s.id = a.submission_id"
            " WHERE s.state = 'accepted' AND a.period = ? ORDER BY a.unit, a.id",
            (period,),
        ).fetchall()
        return [
            ActionRecord(u, p, i, a, r, dt.date.fromisoformat(d) if d else None, st, f, sha, row)
            for u, p, i, a, r, d, st, f, sha, row in rows
        ]

    def accepted_assessments(self, period: str) -> list[AssessmentRecord]:
        """The assessments (Vurdering) of the accepted submissions of ``period``."""
        rows = self._con.execute(
            "SELECT a.unit, a.period, a.focus_area, a.assessment, a.learned, s.path, s.sha256"
            " FROM assessments a JOIN submissions s ON s.id = a.submission_id"
            " WHERE s.state = 'accepted' AND a.period = ? ORDER BY a.unit, a.id",
            (period,),
        ).fetchall()
        return [AssessmentRecord(*row) for row in rows]

    # -- the dialogue: reviews, feedback, closed periods ---------------------------------------

    def record_dialogue_event(
        self,
        kind: str,
        period: str,
        *,
        by: str,
        unit: str | None = None,
        reason: str | None = None,
        sha256: str | None = None,
        origin: str = "cli",
        at: str | None = None,
    ) -> DialogueEvent:
        """Append one dialogue event (never updates one); return it as stored."""
        with self._write() as con:
            sub = None
            if sha256 is not None:
                found = con.execute("SELECT id FROM submissions WHERE sha256 = ?", (sha256,))
                sub = (found.fetchone() or (None,))[0]
            row = (at or _now(), by, kind, period, unit, reason, sub, origin)
            cur = con.execute(
                insert_sql(
                    "dialogue_events",
                    "at, by_user, kind, period, unit, reason, submission_id, origin",
                ),
                row,
            )
        return DialogueEvent(int(cur.lastrowid or 0), *row[:6], sha256, origin)

    def dialogue_events(
        self, period: str | None = None, *, kinds: Iterable[str] = ()
    ) -> list[DialogueEvent]:
        """The dialogue events (of ``period``, of ``kinds``), oldest first."""
        where, params = ["1 = 1"], []
        if period is not None:
            where.append("e.period = ?")
            params.append(period)
        wanted = list(kinds)
        if wanted:
            where.append(f"e.kind IN ({', '.join('?' * len(wanted))})")
            params += wanted
        rows = self._con.execute(
            "SELECT e.id, e.at, e.by_user, e.kind, e.period, e.unit, e.reason, s.sha256, e.origin"
            " FROM dialogue_events e LEFT JOIN submissions s ON s.id = e.submission_id"
            f" WHERE {' AND '.join(where)} ORDER BY e.id",
            params,
        ).fetchall()
        return [DialogueEvent(*row) for row in rows]

    def period_closed(self, period: str) -> DialogueEvent | None:
        """The ``closed`` event in force for ``period`` (None when open or reopened since)."""
        events = self.dialogue_events(period, kinds=("closed", "reopened"))
        return events[-1] if events and events[-1].kind == "closed" else None

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, as dicts (for the Om sheet and ``--json``)."""
        cur = self._con.execute(
            "SELECT id, started_at, finished_at, command, period, definition_hash,"
            " tool_version, status FROM runs ORDER BY id"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


_JOINED_VALUES = (
    "v.unit, v.period, v.indicator, v.kind, v.value, v.raw, v.comment, v.source, NULLIF(s.path, ''),"
    " s.sha256, v.has_error FROM submission_values v JOIN submissions s ON s.id = v.submission_id"
)
_EXTERNAL = (
    "source, table_id, contents, region, period, value, status, indicator, unit, file_sha256,"
    " role, status_symbol, region_name"
)
_EXTERNAL_FIELDS = attrgetter(*_EXTERNAL.split(", "))


_SUBMISSION_COLUMNS = (
    "id, sha256, path, unit, period, kind, source, size, received_at, generated_at, state,"
    " run_id, superseded_by, superseded_in_run"
)


def _value(row: Sequence[Any]) -> ValueRecord:
    unit, period, indicator, kind, value, raw, comment, source, file, sha, error = row
    return ValueRecord(
        unit, period, indicator, kind, value, raw, comment, source, file, sha, bool(error)
    )


def display_text(v: ValueRecord) -> str | None:
    """What to show for a stored value: the text as written, else the number, else None."""
    if v.raw not in (None, ""):
        return v.raw
    if v.kind == "number" and v.value is not None:
        return format_plain(v.value)
    if v.kind == "not-applicable":
        return "i.a."
    return None


def format_plain(value: float) -> str:
    """A number without a spurious ``.0`` (``12`` not ``12.0``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
