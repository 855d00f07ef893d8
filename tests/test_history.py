"""The history database: schema, idempotency, supersession, audit trail, locking, seeding."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from history_helpers import audit_trail, import_history_csv

from bms_excel.errors import BmsError, Finding, OutputError
from bms_excel.history import (
    SCHEMA_VERSION,
    ExternalFigure,
    RunInfo,
    open_history,
)
from bms_excel.records import (
    ActionRecord,
    AssessmentRecord,
    SubmissionBatch,
    SubmissionRecord,
    ValueRecord,
)

RUN = RunInfo("consolidate", definition_hash="abc")
TABLES = ("runs", "submissions", "submission_values", "actions", "assessments", "findings")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def submission(unit: str, period: str, tag: str, state: str = "accepted") -> SubmissionRecord:
    return SubmissionRecord(
        path=f"inn/{period}_{unit}_{tag}.xlsx",
        sha256=sha(f"{unit}{period}{tag}"),
        size=1000,
        unit=unit,
        period=period,
        state=state,  # type: ignore[arg-type]
    )


def values_for(sub: SubmissionRecord, numbers: dict[str, float | None]) -> list[ValueRecord]:
    assert sub.unit and sub.period
    return [
        ValueRecord(
            sub.unit,
            sub.period,
            ind,
            "number" if v is not None else "missing",
            v,
            raw=None if v is None else str(v),
            file=sub.path,
            sha256=sub.sha256,
        )
        for ind, v in numbers.items()
    ]


def batch_of(
    period: str, *parts: tuple[SubmissionRecord, dict[str, float | None]]
) -> SubmissionBatch:
    batch = SubmissionBatch(period=period)
    for sub, numbers in parts:
        batch.submissions.append(sub)
        batch.values.extend(values_for(sub, numbers))
    return batch


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def snapshot(path: Path, table: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        con.close()


def accepted(path: Path, period: str) -> set[tuple[str, str, float | None, str | None]]:
    with open_history(path) as h:
        return {(v.unit, v.indicator, v.value, v.sha256) for v in h.accepted_values(period)}


# -- schema ---------------------------------------------------------------------------------


def test_schema_is_created_and_migrated_from_an_empty_file(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    db.write_bytes(b"")  # an empty file is an empty database at user_version 0
    with open_history(db) as h:
        assert h.schema_version == SCHEMA_VERSION == 4
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    finally:
        con.close()
    assert set(TABLES) | {"external_values", "accepted_values"} <= names
    # Opening again migrates nothing and keeps the version.
    with open_history(db) as h:
        assert h.schema_version == SCHEMA_VERSION


def test_a_version_1_database_is_migrated_keeping_its_figures(tmp_path: Path) -> None:
    from bms_excel.history import MIGRATIONS, ExternalFigure

    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute(
        "INSERT INTO external_values (source, table_id, contents, region, period, value,"
        " status, indicator, unit, imported_at, file_sha256)"
        " VALUES ('kostra', '12367', 'K', '50', '2025', 186400, 'ok', 'T2.2', NULL, 'x', 'f')"
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with open_history(db) as h:
        assert h.schema_version == SCHEMA_VERSION
        (fig,) = h.external_figures()
        assert (fig.indicator, fig.role, fig.value) == ("T2.2", "county", 186400.0)
        h.record_external(
            [
                ExternalFigure(
                    "kostra",
                    "2025",
                    190700.0,
                    "12367",
                    "K",
                    "EAFKUO",
                    "ok",
                    "T2.2",
                    role="comparison",
                    region_name="Landet uten Oslo",
                )
            ]
        )
        assert [(f.role, f.region) for f in h.external_figures(indicator="T2.2")] == [
            ("comparison", "EAFKUO"),
            ("county", "50"),
        ]
        # The comparison group never stands in for the county's own value.
        assert [v.value for v in h.external_values("2025")] == [186400.0]


def test_newer_schema_and_non_database_are_clear_errors(tmp_path: Path) -> None:
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(OutputError) as err, open_history(newer):
        pass
    assert "nyere versjon" in err.value.message
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(OutputError), open_history(junk):
        pass
    # The failed opens released the lock: a normal open works.
    with open_history(tmp_path / "fresh.sqlite") as h:
        assert h.schema_version == SCHEMA_VERSION


# -- recording ------------------------------------------------------------------------------


def test_recording_the_same_files_twice_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    a, b = submission("A", "2026-T1", "v1"), submission("B", "2026-T1", "v1")
    batch = batch_of("2026-T1", (a, {"R1": 10.0, "R2": None}), (b, {"R1": 20.0, "R2": 5.0}))
    batch.findings.append(
        Finding("text-number", "warning", "tall som tekst", a.path, "Målekort", "F7")
    )
    batch.findings.append(Finding("missing-unit", "warning", "C har ikke levert"))
    batch.actions.append(
        ActionRecord("A", "2026-T1", "R1", "Tiltak", "Kari", None, "Pågår", a.path, a.sha256, 5)
    )
    batch.assessments.append(AssessmentRecord("A", "2026-T1", "F1", "Bra", "Mye", a.path, a.sha256))
    with open_history(db) as h:
        first = h.record_batch(batch, run_info=RUN)
    assert first.changed and set(first.new) == {a.sha256, b.sha256} and first.values_added == 4
    before = counts(db)
    assert before == {
        "runs": 1,
        "submissions": 2,
        "submission_values": 4,
        "actions": 1,
        "assessments": 1,
        "findings": 2,
    }
    subs_before = snapshot(db, "submissions")
    values_before = snapshot(db, "submission_values")
    # The same batch again, in another order.
    again = SubmissionBatch(
        period="2026-T1",
        submissions=list(reversed(batch.submissions)),
        values=list(reversed(batch.values)),
        actions=batch.actions,
        assessments=batch.assessments,
        findings=[batch.findings[0]],
    )
    with open_history(db) as h:
        second = h.record_batch(again, run_info=RUN)
    assert not second.changed and second.new == () and second.values_added == 0
    assert set(second.known) == {a.sha256, b.sha256}
    assert second.run_id == first.run_id + 1
    assert counts(db) == {**before, "runs": 2}
    assert snapshot(db, "submissions") == subs_before
    assert snapshot(db, "submission_values") == values_before


def test_a_corrected_file_supersedes_exactly_that_unit(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    a1, b1 = submission("A", "2026-T1", "v1"), submission("B", "2026-T1", "v1")
    with open_history(db) as h:
        run1 = h.record_batch(
            batch_of("2026-T1", (a1, {"R1": 10.0, "R2": 1.0}), (b1, {"R1": 20.0, "R2": 2.0})),
            run_info=RUN,
        ).run_id
    old = accepted(db, "2026-T1")
    a2 = submission("A", "2026-T1", "v2")
    with open_history(db) as h:
        outcome = h.record_batch(
            batch_of("2026-T1", (a2, {"R1": 11.0, "R2": 1.0}), (b1, {"R1": 20.0, "R2": 2.0})),
            run_info=RUN,
        )
        trail = audit_trail(h, "A", "2026-T1")
        b_trail = audit_trail(h, "B", "2026-T1")
        as_before = {
            (v.unit, v.indicator, v.value, v.sha256)
            for v in h.accepted_values("2026-T1", as_of_run=run1)
        }
    assert outcome.changed and outcome.superseded == ((a1.sha256, a2.sha256),)
    new = accepted(db, "2026-T1")
    # Only A's rows changed; B's are untouched.
    assert old - new == {("A", "R1", 10.0, a1.sha256), ("A", "R2", 1.0, a1.sha256)}
    assert new - old == {("A", "R1", 11.0, a2.sha256), ("A", "R2", 1.0, a2.sha256)}
    # The superseded file stays in the audit trail with its values.
    assert [(e.submission.sha256, e.submission.state) for e in trail] == [
        (a1.sha256, "superseded"),
        (a2.sha256, "accepted"),
    ]
    assert trail[0].submission.superseded_by == trail[1].submission.id
    assert [(v.indicator, v.value) for v in trail[0].values] == [("R1", 10.0), ("R2", 1.0)]
    assert [e.submission.state for e in b_trail] == ["accepted"]
    # The earlier run can be reproduced.
    assert as_before == old


def test_rejected_file_is_recorded_with_findings_and_changes_no_values(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    a1 = submission("A", "2026-T1", "v1")
    with open_history(db) as h:
        h.record_batch(batch_of("2026-T1", (a1, {"R1": 10.0})), run_info=RUN)
    bad = submission("A", "2026-T1", "bad", state="rejected")
    batch = batch_of("2026-T1", (bad, {}))
    batch.findings.append(
        Finding("bad-signature", "error", "signaturen stemmer ikke", bad.path, "_meta", "B2")
    )
    with open_history(db) as h:
        outcome = h.record_batch(batch, run_info=RUN)
        trail = audit_trail(h, "A", "2026-T1")
        findings = h.findings("2026-T1")
    assert outcome.superseded == ()
    assert [e.submission.state for e in trail] == ["accepted", "rejected"]
    assert [(f.code, f.sheet, f.cell) for f in trail[1].findings] == [
        ("bad-signature", "_meta", "B2")
    ]
    assert [(f.code, f.file) for f in findings] == [("bad-signature", bad.path)]
    assert accepted(db, "2026-T1") == {("A", "R1", 10.0, a1.sha256)}


def test_a_second_writer_gets_a_clear_error_quickly(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with open_history(db):
                pass
        except OutputError as exc:
            errors.append(exc)

    with open_history(db):
        # The holder never lets go while the second writer tries: a writer that waited for
        # the lock would never return (the join's bound only keeps a broken build from
        # hanging the suite; it is not a speed claim).
        thread = threading.Thread(target=second_writer, daemon=True)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the second writer waits for the lock"
    assert len(errors) == 1 and isinstance(errors[0], OutputError)
    assert "En annen konsolidering" in errors[0].message
    # Without the project lock, SQLite's own write lock still refuses a second writer.
    with open_history(db, lock=False) as reader:
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            # SQLite waits at most its busy timeout (a setting, not a measured time) and then
            # the writer gets the clear error.
            busy_ms = reader._con.execute("PRAGMA busy_timeout").fetchone()[0]
            assert 0 < busy_ms <= 5000
            with pytest.raises(OutputError):
                reader.record_batch(SubmissionBatch(period="2026-T1"), run_info=RUN)
        finally:
            con.execute("ROLLBACK")
            con.close()
    with open_history(db) as h:  # nothing half-written: no run was recorded
        assert h.runs() == []


def test_many_units_are_recorded_in_one_fast_transaction(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    batch = SubmissionBatch(period="2026-T1")
    for i in range(2000):
        sub = submission(f"U{i}", "2026-T1", "v1")
        batch.submissions.append(sub)
        batch.values.extend(values_for(sub, {f"I{j}": float(i + j) for j in range(30)}))
    # Count the work, not the seconds: one transaction, one insert per row, and lookups in
    # chunks (a query per unit would be 2000 of them).
    statements: Counter[str] = Counter()
    with open_history(db) as h:
        h._con.set_trace_callback(lambda sql: statements.update([sql.split()[0].upper()]))
        outcome = h.record_batch(batch, run_info=RUN)
        h._con.set_trace_callback(None)
    assert (statements["BEGIN"], statements["COMMIT"], statements["ROLLBACK"]) == (1, 1, 0)
    # the run, the submissions, one audit event per submission (accepted), the values
    assert statements["INSERT"] == 1 + 2000 + 2000 + 60_000
    assert statements["SELECT"] < 20
    assert outcome.values_added == 60_000
    assert counts(db)["submission_values"] == 60_000


# -- reading --------------------------------------------------------------------------------


def test_last_results_gives_aligned_periods_oldest_first(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    rows = [
        {"period": "2025-T2", "unit": "A", "indicator": "R1", "value": "7.5"},
        {"period": "2025-T3", "unit": "A", "indicator": "R1", "value": "i.a."},
        {"period": "2026-T1", "unit": "A", "indicator": "R1", "value": "9"},
        {"period": "2026-T1", "unit": "A", "indicator": "R2", "value": ""},
        {"period": "2026-T1", "unit": "B", "indicator": "R1", "value": "1"},
        {"period": "2025", "unit": "A", "indicator": "R1", "value": "8"},
    ]
    with open_history(db) as h:
        import_history_csv(h, rows)
        got = h.last_results("A", ["R1", "R2", "R3"], "2026-T2", 3)
        annual = h.last_results("A", ["R1"], "2026", 2)
    assert got == {
        ("A", "R1"): [("2025-T2", "7.5"), ("2025-T3", "i.a."), ("2026-T1", "9")],
        ("A", "R2"): [("2025-T2", ""), ("2025-T3", ""), ("2026-T1", "")],
        ("A", "R3"): [("2025-T2", ""), ("2025-T3", ""), ("2026-T1", "")],
    }
    assert annual == {("A", "R1"): [("2024", ""), ("2025", "8")]}


def test_seeding_from_history_csv(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    csv_file = tmp_path / "history.csv"
    csv_file.write_text(
        "period,unit,indicator,value\n"
        "2025-T1,A,R1,1.8\n2025-T1,A,R2,\n2025-T1,B,R1,i.a.\n2025-T2,A,R1,-2.25\n",
        encoding="utf-8",
    )
    with open_history(db) as h:
        first = import_history_csv(h, csv_file)
        second = import_history_csv(h, csv_file)
        t1 = h.accepted_values("2025-T1")
        trend = h.values_for_trend(indicator="R1", unit="A")
    assert first.changed and not second.changed
    assert [(v.unit, v.indicator, v.kind, v.value, v.source) for v in t1] == [
        ("A", "R1", "number", 1.8, "controller"),
        ("A", "R2", "missing", None, "controller"),
        ("B", "R1", "not-applicable", None, "controller"),
    ]
    assert [(v.period, v.value) for v in trend] == [("2025-T1", 1.8), ("2025-T2", -2.25)]
    # Correcting one unit's row supersedes that unit and period only.
    csv_file.write_text(
        "period,unit,indicator,value\n"
        "2025-T1,A,R1,1.9\n2025-T1,A,R2,\n2025-T1,B,R1,i.a.\n2025-T2,A,R1,-2.25\n",
        encoding="utf-8",
    )
    with open_history(db) as h:
        third = import_history_csv(h, csv_file)
        assert [v.value for v in h.accepted_values("2025-T1") if v.indicator == "R1"] == [1.9, None]
    assert len(third.new) == 1 and len(third.superseded) == 1


def test_bad_history_csv_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "history.csv"
    bad.write_text(
        "period,unit,indicator,value\n2025-T1,A,R1,1\n2025-T1,A,R2,12,5\n", encoding="utf-8"
    )
    with open_history(tmp_path / "bms.sqlite") as h, pytest.raises(BmsError) as err:
        import_history_csv(h, bad)
    assert err.value.location == "history.csv:3"
    with open_history(tmp_path / "bms.sqlite") as h:
        assert h.accepted_values("2025-T1") == []  # nothing was recorded


def test_external_figures_are_kept_once_and_the_latest_wins(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    prelim = ExternalFigure(
        "kostra", "2025", 80.0, "12345", "KOSGR", "50", indicator="K1", file_sha256="f1"
    )
    final = ExternalFigure(
        "kostra", "2025", 82.0, "12345", "KOSGR", "50", indicator="K1", file_sha256="f2"
    )
    unit_fig = ExternalFigure(
        "kostra", "2025", 5.0, "12345", "KOSGR", "5001", indicator="K1", unit="A", file_sha256="f2"
    )
    with open_history(db) as h:
        assert h.record_external([prelim]) == 1
        assert h.record_external([prelim]) == 0
        assert h.record_external([final, unit_fig]) == 2
        got = h.accepted_values("2025")
    assert [(v.unit, v.indicator, v.value, v.source) for v in got] == [
        ("", "K1", 82.0, "kostra"),
        ("A", "K1", 5.0, "kostra"),
    ]


def test_a_writer_in_another_process_blocks_and_its_death_releases_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bms_excel.history import open_history\n"
            "with open_history(sys.argv[1]):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(60)\n",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputError), open_history(db):
            pass
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    with open_history(db) as h:  # the operating system released the lock
        assert h.schema_version == SCHEMA_VERSION


def test_bad_period_and_missing_folder_are_clear_errors(tmp_path: Path) -> None:
    with open_history(tmp_path / "bms.sqlite") as h, pytest.raises(BmsError) as err:
        import_history_csv(h, [{"period": "2025-T4", "unit": "A", "indicator": "R1", "value": "1"}])
    assert err.value.location == "history.csv:2"
    with pytest.raises(OutputError), open_history(tmp_path / "no" / "such" / "bms.sqlite"):
        pass


def test_one_file_under_two_names_is_one_submission_and_the_accepted_record_wins(
    tmp_path: Path,
) -> None:
    a = submission("A", "2026-T1", "v1")
    copy = SubmissionRecord("inn/kopi.xlsx", a.sha256, a.size, "A", "2026-T1", "duplicate")
    batch = batch_of("2026-T1", (a, {"R1": 1.0}))
    batch.submissions.insert(0, copy)
    with open_history(tmp_path / "bms.sqlite") as h:
        outcome = h.record_batch(batch, run_info=RUN)
        subs = h.submissions("2026-T1")
    assert outcome.new == (a.sha256,)
    assert [(s.path, s.state) for s in subs] == [(a.path, "accepted")]


# -- a correction sent while the wrong file is still there (issue 12, item 4) -----------------


def _events(db: Path, unit: str) -> list[tuple[int, str, str, str | None]]:
    with open_history(db, lock=False) as h:
        return [
            (e.run_id, e.state, e.sha256, e.other_sha256) for e in h.audit_events(unit, "2026-T1")
        ]


def _record(db: Path, *parts: tuple[SubmissionRecord, dict[str, float | None]]) -> tuple[int, bool]:
    batch = SubmissionBatch(period="2026-T1")
    for sub, numbers in parts:  # as collection makes it: only accepted files bring values
        batch.submissions.append(sub)
        if sub.state == "accepted":
            batch.values.extend(values_for(sub, numbers))
    with open_history(db) as h:
        outcome = h.record_batch(batch, run_info=RUN)
        h.finish_run(outcome.run_id)
    return outcome.run_id, outcome.changed


def test_a_correction_that_was_a_duplicate_takes_effect_when_the_wrong_file_is_removed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bms.sqlite"
    wrong, fixed = submission("A", "2026-T1", "v1"), submission("A", "2026-T1", "v2")
    run1, _ = _record(db, (wrong, {"R1": 10.0}))
    # Both files in the folder with different values: collection uses neither.
    run2, _ = _record(
        db,
        (submission("A", "2026-T1", "v1", "duplicate"), {}),
        (submission("A", "2026-T1", "v2", "duplicate"), {}),
    )
    # The controller removed the wrong file.
    run3, changed = _record(db, (fixed, {"R1": 12.0}))
    assert changed
    assert accepted(db, "2026-T1") == {("A", "R1", 12.0, fixed.sha256)}
    assert _events(db, "A") == [
        (run1, "accepted", wrong.sha256, None),
        (run2, "duplicate", fixed.sha256, None),
        (run3, "accepted", fixed.sha256, wrong.sha256),
        (run3, "superseded", wrong.sha256, fixed.sha256),
    ]
    with open_history(db, lock=False) as h:
        trail = audit_trail(h, "A", "2026-T1")
        # Every run reproduces as it was: the correction was a duplicate in run 2.
        as_of = {r: {v.value for v in h.accepted_values("2026-T1", as_of_run=r)} for r in (1, 2, 3)}
    assert [(e.submission.sha256, e.submission.state) for e in trail] == [
        (wrong.sha256, "superseded"),
        (fixed.sha256, "accepted"),
    ]
    assert trail[0].submission.superseded_by == trail[1].submission.id
    assert [(v.indicator, v.value) for v in trail[1].values] == [("R1", 12.0)]
    assert as_of == {1: {10.0}, 2: {10.0}, 3: {12.0}}
    # The same folder consolidated again changes nothing.
    before = counts(db), snapshot(db, "submissions"), _events(db, "A")
    _, changed = _record(db, (fixed, {"R1": 12.0}))
    assert not changed
    assert (counts(db), snapshot(db, "submissions"), _events(db, "A")) == (
        {**before[0], "runs": before[0]["runs"] + 1},
        before[1],
        before[2],
    )


def test_removing_the_correction_instead_keeps_the_first_file(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    wrong = submission("A", "2026-T1", "v1")
    _record(db, (wrong, {"R1": 10.0}))
    _record(
        db,
        (submission("A", "2026-T1", "v1", "duplicate"), {}),
        (submission("A", "2026-T1", "v2", "duplicate"), {}),
    )
    _, changed = _record(db, (wrong, {"R1": 10.0}))
    assert not changed
    assert accepted(db, "2026-T1") == {("A", "R1", 10.0, wrong.sha256)}
    assert [s for _, s, _, _ in _events(db, "A")] == ["accepted", "duplicate"]


def test_a_superseded_file_put_back_alone_is_accepted_again_without_copying_its_values(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bms.sqlite"
    first, second = submission("A", "2026-T1", "v1"), submission("A", "2026-T1", "v2")
    _record(db, (first, {"R1": 10.0}))
    _record(db, (second, {"R1": 12.0}))
    rows_before = counts(db)["submission_values"]
    run3, changed = _record(db, (first, {"R1": 10.0}))
    assert changed
    assert accepted(db, "2026-T1") == {("A", "R1", 10.0, first.sha256)}
    assert counts(db)["submission_values"] == rows_before
    assert _events(db, "A")[-2:] == [
        (run3, "accepted", first.sha256, second.sha256),
        (run3, "superseded", second.sha256, first.sha256),
    ]


# -- a run that died (issue 12, item 9) ---------------------------------------------------------


def test_a_run_left_recorded_by_a_dead_process_is_marked_aborted_by_the_next_writer(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bms.sqlite"
    with open_history(db) as h:
        done = h.record_batch(SubmissionBatch(period="2026-T1"), run_info=RUN).run_id
        h.finish_run(done)
        # A run whose process dies before finish_run (kill -9 mid-write): never finished.
        dead = h.record_batch(SubmissionBatch(period="2026-T1"), run_info=RUN).run_id
    # A reader without the lock cannot know whether a writer is still running: no change.
    with open_history(db, lock=False) as reader:
        assert reader.aborted_runs == ()
        assert [r["status"] for r in reader.runs()] == ["ok", "recorded"]
    with open_history(db) as h:
        assert h.aborted_runs == (dead,)
        runs = h.runs()
    assert [(r["id"], r["status"]) for r in runs] == [(done, "ok"), (dead, "aborted")]
    assert runs[1]["finished_at"] is not None
    with open_history(db) as h:
        assert h.aborted_runs == ()


def test_importing_values_finishes_its_run(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    with open_history(db) as h:
        import_history_csv(h, [{"period": "2025-T3", "unit": "A", "indicator": "R1", "value": "1"}])
        assert [r["status"] for r in h.runs()] == ["ok"]


def test_a_version_2_database_gets_run_states_and_a_replayable_audit_trail(tmp_path: Path) -> None:
    from bms_excel.history import MIGRATIONS

    db = tmp_path / "v2.sqlite"
    con = sqlite3.connect(db)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            con.execute(statement)
    con.executescript(
        """
        INSERT INTO runs VALUES (1, 't1', NULL, 'import-history', NULL, NULL, '1', 'recorded');
        INSERT INTO runs VALUES (2, 't2', 't2', 'consolidate', '2026-T1', 'h', '1', 'ok');
        INSERT INTO runs VALUES (3, 't3', NULL, 'consolidate', '2026-T1', 'h', '1', 'recorded');
        INSERT INTO submissions (id, sha256, path, unit, period, kind, size, state, run_id,
            superseded_by, superseded_in_run)
            VALUES (1, 'a1', 'a1.xlsx', 'A', '2026-T1', 'xlsx', 1, 'superseded', 2, 2, 3),
                   (2, 'a2', 'a2.xlsx', 'A', '2026-T1', 'xlsx', 1, 'accepted', 3, NULL, NULL);
        INSERT INTO submission_values (submission_id, unit, period, indicator, kind, value,
            source) VALUES (1, 'A', '2026-T1', 'R1', 'number', 1.0, 'unit'),
                           (2, 'A', '2026-T1', 'R1', 'number', 2.0, 'unit');
        PRAGMA user_version = 2;
        """
    )
    con.close()
    with open_history(db) as h:
        assert h.schema_version == SCHEMA_VERSION
        # The import had nothing left to do; the consolidation never finished.
        assert [r["status"] for r in h.runs()] == ["ok", "ok", "aborted"]
        assert h.aborted_runs == (3,)
        events = [
            (e.run_id, e.state, e.sha256, e.other_sha256) for e in h.audit_events("A", "2026-T1")
        ]
        assert events == [
            (2, "accepted", "a1", None),
            (3, "accepted", "a2", None),
            (3, "superseded", "a1", "a2"),
        ]
        assert [v.value for v in h.accepted_values("2026-T1", as_of_run=2)] == [1.0]
        assert [v.value for v in h.accepted_values("2026-T1", as_of_run=3)] == [2.0]
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()


def test_a_file_rejected_unidentified_and_accepted_later_can_be_corrected(tmp_path: Path) -> None:
    db = tmp_path / "bms.sqlite"
    first = submission("A", "2026-T1", "v1")
    unknown = SubmissionRecord(first.path, first.sha256, first.size, None, None, "rejected")
    _record(db, (unknown, {}))  # the unit was not in the definition yet
    _record(db, (first, {"R1": 10.0}))
    assert accepted(db, "2026-T1") == {("A", "R1", 10.0, first.sha256)}
    fixed = submission("A", "2026-T1", "v2")
    _record(db, (fixed, {"R1": 12.0}))
    assert accepted(db, "2026-T1") == {("A", "R1", 12.0, fixed.sha256)}
    assert [s for _, s, _, _ in _events(db, "A")] == [
        "rejected",
        "accepted",
        "accepted",
        "superseded",
    ]
