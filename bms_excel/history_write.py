"""Recording a batch in the history database (:meth:`bms_excel.history.History.record_batch`).

A submission is identified by its sha256: one recorded before is *known* and changes nothing,
unless this batch accepts it where the history did not (it is *promoted*); a newly accepted
submission *supersedes* the earlier accepted one of its unit, period and source. Every state a
submission enters is an event of the run. Values without a file (a controller's rows) become a
synthetic submission named by their content (:func:`content_sha256`). All of it happens in the
one write transaction the caller holds.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from bms_excel.errors import Finding
from bms_excel.records import (
    ActionRecord,
    AssessmentRecord,
    SubmissionBatch,
    SubmissionRecord,
    ValueRecord,
)


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What :meth:`History.record_batch` did; ``changed`` is False for a pure re-run."""

    run_id: int
    new: tuple[str, ...] = ()
    known: tuple[str, ...] = ()
    superseded: tuple[tuple[str, str], ...] = ()
    values_added: int = 0
    #: Files recorded before (as a duplicate, rejected or superseded) that this batch accepts.
    promoted: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether any submission, value or state was added or changed."""
        return bool(self.new or self.superseded or self.promoted)


_FINDINGS = "code, severity, file, sheet, cell, message"
_FINDING_FIELDS = attrgetter(*_FINDINGS.split(", "))
_SUBMISSION_FIELDS = attrgetter(
    "sha256", "path", "unit", "period", "kind", "size", "generated_at", "modified_at"
)
_SUBMISSION_INSERT = (
    "sha256, path, unit, period, kind, size, generated_at, modified_at, source, received_at,"
    " state, run_id"
)
_VALUE_FIELDS = attrgetter("unit", "period", "indicator", "kind")
_VALUE_REST = attrgetter("raw", "comment", "source", "has_error")
_VALUE_INSERT = (
    "submission_id, unit, period, indicator, kind, value, raw, comment, source, has_error"
)
_ACTION_FIELDS = attrgetter("unit", "period", "indicator", "action", "responsible", "status")
_ACTION_INSERT = (
    "submission_id, unit, period, indicator, action, responsible, status, deadline, row"
)
_ASSESSMENT_FIELDS = attrgetter("unit", "period", "focus_area", "assessment", "learned")
_ASSESSMENT_INSERT = "submission_id, unit, period, focus_area, assessment, learned"

#: A submission and its source (``unit`` for a file, else the source of its rows).
Entry = tuple[SubmissionRecord, str]


def batch_entries(
    batch: SubmissionBatch,
) -> tuple[list[Entry], dict[str, list[ValueRecord]], dict[str, str]]:
    """The batch's submissions with their source, their values by sha256, and path → sha256.

    Values without a file of this batch (a controller's or an importer's rows) become one
    synthetic submission per unit, period and source, named by their content.
    """
    subs = list(batch.submissions)
    by_sha = {s.sha256: s for s in subs}
    path_sha = {s.path: s.sha256 for s in subs}
    values_by_sha: dict[str, list[ValueRecord]] = {}
    loose: dict[tuple[str, str, str], list[ValueRecord]] = {}
    for v in batch.values:
        if v.sha256 is not None and v.sha256 in by_sha:
            values_by_sha.setdefault(v.sha256, []).append(v)
        else:  # no file of this batch: a controller's or an importer's rows
            loose.setdefault((v.unit, v.period, v.source), []).append(v)
    synthetic: list[Entry] = []
    for (unit, period, source), rows in sorted(loose.items()):
        sha = content_sha256(rows)
        values_by_sha[sha] = rows
        path = next((r.file for r in rows if r.file), "") or ""
        record = SubmissionRecord(path, sha, 0, unit, period, "accepted", kind=source)
        synthetic.append((record, source))
    return [(s, "unit") for s in subs] + synthetic, values_by_sha, path_sha


def record_findings(
    con: sqlite3.Connection,
    run_id: int,
    findings: Iterable[Finding],
    path_sha: Mapping[str, str],
    known: set[str],
) -> None:
    """Store the batch's findings: those of a file recorded before are stored already;
    findings without a file (a unit that did not deliver ...) belong to this run."""
    rows = [
        (run_id, path_sha.get(f.file or ""), *_FINDING_FIELDS(f))
        for f in findings
        if path_sha.get(f.file or "") not in known
    ]
    con.executemany(insert_sql("findings", "run_id, submission_sha256, " + _FINDINGS), rows)


def record_entries(
    con: sqlite3.Connection,
    run_id: int,
    entries: list[Entry],
    values_by_sha: dict[str, list[ValueRecord]],
    batch: SubmissionBatch,
    received: str,
) -> RecordOutcome:
    """Store ``entries`` (:func:`batch_entries`) in run ``run_id``: the new submissions, the
    known ones this batch accepts again, what they supersede, their values, actions and
    assessments."""
    shas = [s.sha256 for s, _ in entries]
    existing = _states_for(con, shas)
    new, promoted = _triage(entries, existing)
    accepted = [(s, src) for s, src in (*new, *promoted.values()) if s.state == "accepted"]
    accepted_keys = [(s.unit, s.period, src) for s, src in accepted]
    if len(set(accepted_keys)) != len(accepted_keys):
        raise ValueError("a batch holds two accepted submissions for one unit and period")
    con.executemany(
        insert_sql("submissions", _SUBMISSION_INSERT),
        [
            (*_SUBMISSION_FIELDS(s), src, s.received_at or received, s.state, run_id)
            for s, src in new
        ],
    )
    ids = _ids_for(con, [s.sha256 for s, _ in new])
    ids.update((sha, existing[sha][0]) for sha in promoted)
    replaced, superseded = _supersede(con, run_id, accepted, ids)
    _write_states(con, run_id, new, promoted, replaced, ids)
    # The contents of a file are stored once, when it is first accepted: a duplicate or a
    # rejected file has none stored, a superseded one put back has its own already.
    stored = [
        *new,
        *(entry for sha, entry in promoted.items() if existing[sha][1] != "superseded"),
    ]
    content_ids = {s.sha256: ids[s.sha256] for s, _ in stored}
    value_rows = [
        (sid, *_VALUE_FIELDS(v), v.value if v.kind == "number" else None, *_VALUE_REST(v))
        for sha, sid in content_ids.items()
        for v in values_by_sha.get(sha, ())
    ]
    con.executemany(insert_sql("submission_values", _VALUE_INSERT), value_rows)
    _record_dialogue(con, content_ids, stored, batch.actions, batch.assessments)
    return RecordOutcome(
        run_id=run_id,
        new=tuple(s.sha256 for s, _ in new),
        known=tuple(sha for sha in shas if sha in existing),
        superseded=tuple(superseded),
        values_added=len(value_rows),
        promoted=tuple(promoted),
    )


def _record_dialogue(
    con: sqlite3.Connection,
    ids: Mapping[str, int],
    new: list[Entry],
    actions: Sequence[ActionRecord],
    assessments: Sequence[AssessmentRecord],
) -> None:
    """Store actions and assessments of new submissions (by sha256, else by unit+period)."""
    accepted = {(s.unit, s.period): s.sha256 for s, _ in new if s.state == "accepted"}

    def owner(sha: str | None, unit: str, period: str) -> int | None:
        key = sha if sha is not None else accepted.get((unit, period))
        return ids.get(key) if key is not None else None

    action_rows = [
        (sid, *_ACTION_FIELDS(a), a.deadline.isoformat() if a.deadline else None, a.row)
        for a in actions
        if (sid := owner(a.sha256, a.unit, a.period)) is not None
    ]
    con.executemany(insert_sql("actions", _ACTION_INSERT), action_rows)
    assessment_rows = [
        (sid, *_ASSESSMENT_FIELDS(s))
        for s in assessments
        if (sid := owner(s.sha256, s.unit, s.period)) is not None
    ]
    con.executemany(insert_sql("assessments", _ASSESSMENT_INSERT), assessment_rows)


def _states_for(con: sqlite3.Connection, shas: Sequence[str]) -> dict[str, tuple[int, str]]:
    """sha256 → (id, state) of the recorded submissions among ``shas``."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(shas), 500):  # stay below SQLite's bound-variable limit
        chunk = shas[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for sid, sha, state in con.execute(
            f"SELECT id, sha256, state FROM submissions WHERE sha256 IN ({marks})", chunk
        ):
            found[sha] = (sid, state)
    return found


def _ids_for(con: sqlite3.Connection, shas: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(shas), 500):  # stay below SQLite's bound-variable limit
        chunk = shas[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for sid, sha in con.execute(
            f"SELECT id, sha256 FROM submissions WHERE sha256 IN ({marks})", chunk
        ):
            found[sha] = sid
    return found


def _triage(
    entries: list[Entry], existing: Mapping[str, tuple[int, str]]
) -> tuple[list[Entry], dict[str, Entry]]:
    """The batch's submissions new to the history, and those known that it now accepts."""
    fresh: dict[str, Entry] = {}
    promoted: dict[str, Entry] = {}
    for s, src in entries:  # one file copied under two names is one submission:
        found = existing.get(s.sha256)
        if found is not None:
            # A file recorded before that this batch accepts, though the history does not
            # (a correction that was a duplicate while the wrong file was still there, a
            # file the controller put back): it becomes the accepted one now.
            if s.state == "accepted" and found[1] != "accepted" and s.unit and s.period:
                promoted.setdefault(s.sha256, (s, src))
            continue
        old = fresh.get(s.sha256)  # the accepted record of it wins
        if old is None or (s.state == "accepted" and old[0].state != "accepted"):
            fresh[s.sha256] = (s, src)
    return list(fresh.values()), promoted


def _supersede(
    con: sqlite3.Connection, run_id: int, accepted: list[Entry], ids: Mapping[str, int]
) -> tuple[dict[int, int], list[tuple[str, str]]]:
    """The earlier accepted submission of each unit, period and source that ``accepted``
    replace: id of the newly accepted → id of the one it replaced, and (old, new) sha256."""
    superseded: list[tuple[str, str]] = []
    replaced: dict[int, int] = {}
    periods = {s.period for s, _ in accepted}
    for period in sorted(p for p in periods if p is not None):
        rows = con.execute(
            "SELECT id, sha256, unit, source FROM submissions"
            " WHERE period = ? AND state = 'accepted' AND run_id < ?",
            (period, run_id),
        ).fetchall()
        current = {(unit, source): (sid, sha) for sid, sha, unit, source in rows}
        for s, src in accepted:
            if s.period == period and (s.unit, src) in current:
                old_id, old_sha = current[(s.unit, src)]
                replaced[ids[s.sha256]] = old_id
                superseded.append((old_sha, s.sha256))
    return replaced, superseded


def _write_states(
    con: sqlite3.Connection,
    run_id: int,
    new: list[Entry],
    promoted: Mapping[str, Entry],
    replaced: Mapping[int, int],
    ids: Mapping[str, int],
) -> None:
    """The promoted and superseded submissions' new states, and every state's event."""
    # A file rejected before may not have been identified then (an unknown unit that the
    # definition has since gained): it takes the identity it is accepted with.
    con.executemany(
        "UPDATE submissions SET state = 'accepted', unit = ?, period = ?, kind = ?,"
        " superseded_by = NULL, superseded_in_run = NULL WHERE id = ?",
        [(s.unit, s.period, s.kind, ids[sha]) for sha, (s, _) in promoted.items()],
    )
    con.executemany(
        "UPDATE submissions SET state = 'superseded', superseded_by = ?, superseded_in_run = ?"
        " WHERE id = ?",
        [(new_id, run_id, old_id) for new_id, old_id in replaced.items()],
    )
    events = [(run_id, ids[s.sha256], s.state, replaced.get(ids[s.sha256])) for s, _ in new]
    events += [(run_id, ids[sha], "accepted", replaced.get(ids[sha])) for sha in promoted]
    events += [(run_id, old_id, "superseded", new_id) for new_id, old_id in replaced.items()]
    con.executemany(
        insert_sql("submission_events", "run_id, submission_id, state, other_id"), events
    )


def insert_sql(table: str, columns: str) -> str:
    """An INSERT statement with one ``?`` per column."""
    marks = ", ".join("?" * len(columns.split(",")))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"


def content_sha256(values: Iterable[ValueRecord]) -> str:
    """The sha256 of a group of values' canonical text: the identity of a file-less submission."""
    lines = []
    for v in values:
        number = "" if v.value is None else repr(v.value)
        parts = [*_VALUE_FIELDS(v), number, v.raw or "", v.comment or "", v.source]
        lines.append("\t".join([*parts, str(int(v.has_error))]))
    lines.sort()
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
