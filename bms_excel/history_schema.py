"""The history database's schema: ordered migrations (``PRAGMA user_version`` counts them).

Migration i brings the schema from ``user_version`` i to i + 1, in one transaction
(:meth:`bms_excel.history.History` applies them on open). Never edit a released migration;
append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            command TEXT NOT NULL, period TEXT, definition_hash TEXT, tool_version TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('recorded', 'ok', 'failed')))""",
        # source: who reported (unit workbook, controller, kostra); supersession is per
        # (unit, period, source). superseded_in_run lets a run be reproduced as it was.
        """CREATE TABLE submissions (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL, unit TEXT, period TEXT, kind TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT 'unit', size INTEGER NOT NULL, received_at TEXT,
            generated_at TEXT, modified_at TEXT, state TEXT NOT NULL
                CHECK (state IN ('accepted', 'superseded', 'rejected', 'duplicate')),
            run_id INTEGER NOT NULL REFERENCES runs(id),
            superseded_by INTEGER REFERENCES submissions(id),
            superseded_in_run INTEGER REFERENCES runs(id))""",
        "CREATE INDEX submissions_unit_period ON submissions(period, unit, source, state)",
        """CREATE TABLE submission_values (id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id), unit TEXT NOT NULL,
            period TEXT NOT NULL, indicator TEXT NOT NULL, kind TEXT NOT NULL
                CHECK (kind IN ('number', 'missing', 'not-applicable', 'invalid')),
            value REAL, raw TEXT, comment TEXT, source TEXT NOT NULL,
            has_error INTEGER NOT NULL DEFAULT 0)""",
        "CREATE INDEX submission_values_submission ON submission_values(submission_id)",
        "CREATE INDEX submission_values_period ON submission_values(period, unit, indicator)",
        """CREATE TABLE actions (id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id), unit TEXT NOT NULL,
            period TEXT NOT NULL, indicator TEXT, action TEXT NOT NULL, responsible TEXT,
            deadline TEXT, status TEXT, row INTEGER)""",
        "CREATE INDEX actions_submission ON actions(submission_id)",
        """CREATE TABLE assessments (id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id), unit TEXT NOT NULL,
            period TEXT NOT NULL, focus_area TEXT NOT NULL, assessment TEXT, learned TEXT)""",
        "CREATE INDEX assessments_submission ON assessments(submission_id)",
        """CREATE TABLE findings (id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            submission_sha256 TEXT REFERENCES submissions(sha256), code TEXT NOT NULL,
            severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
            file TEXT, sheet TEXT, cell TEXT, message TEXT NOT NULL)""",
        "CREATE INDEX findings_submission ON findings(submission_sha256)",
        "CREATE INDEX findings_run ON findings(run_id)",
        # KOSTRA / controller figures; unit NULL = the county. Every import is kept.
        """CREATE TABLE external_values (id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('kostra', 'controller')),
            table_id TEXT NOT NULL DEFAULT '', contents TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '', period TEXT NOT NULL, value REAL, status TEXT,
            indicator TEXT, unit TEXT, imported_at TEXT NOT NULL,
            file_sha256 TEXT NOT NULL DEFAULT '',
            UNIQUE (source, table_id, contents, region, period, file_sha256))""",
        "CREATE INDEX external_values_period ON external_values(period, indicator)",
        # The accepted values of every period: what consolidation and trends read.
        """CREATE VIEW accepted_values AS
            SELECT v.unit, v.period, v.indicator, v.kind, v.value, v.raw, v.comment,
                   v.source, NULLIF(s.path, '') AS file, s.sha256, v.has_error, v.id AS value_id
            FROM submission_values v JOIN submissions s ON s.id = v.submission_id
            WHERE s.state = 'accepted'""",
    ),
)
_EXTERNAL_V1 = (
    "id, source, table_id, contents, region, period, value, status, indicator, unit,"
    " imported_at, file_sha256"
)
MIGRATIONS += (
    # 2: KOSTRA comparison groups (Landet uten Oslo, a KOSTRA group) are stored beside the
    # county's own figure and the units'; ``role`` keeps them apart (county | unit | comparison)
    # and is part of what makes a figure unique. SQLite cannot change a table constraint, so
    # the table is rebuilt (every row kept).
    (
        """CREATE TABLE external_values_v2 (id INTEGER PRIMARY KEY,
            source TEXT NOT NULL CHECK (source IN ('kostra', 'controller')),
            table_id TEXT NOT NULL DEFAULT '', contents TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '', period TEXT NOT NULL, value REAL, status TEXT,
            indicator TEXT, unit TEXT, imported_at TEXT NOT NULL,
            file_sha256 TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'county'
                CHECK (role IN ('county', 'unit', 'comparison')),
            status_symbol TEXT, region_name TEXT)""",
        f"INSERT INTO external_values_v2 ({_EXTERNAL_V1}) SELECT {_EXTERNAL_V1} FROM external_values",
        "DROP TABLE external_values",
        "ALTER TABLE external_values_v2 RENAME TO external_values",
        "CREATE INDEX external_values_period ON external_values(period, indicator)",
        """CREATE UNIQUE INDEX external_values_cell ON external_values(source, table_id,
            contents, region, period, file_sha256, role, COALESCE(unit, ''))""",
    ),
)
_RUNS_V2 = "id, started_at, finished_at, command, period, definition_hash, tool_version"
MIGRATIONS += (
    # 3: a run whose process died before it finished (killed mid-write) is marked ``aborted``
    # by the next writer; and every state a submission enters is an event of the run that
    # put it there, so the audit trail shows a correction as it happened (B recorded as a
    # duplicate, later accepted in place of A; A superseded by B) and a run can be reproduced
    # even when a file that was a duplicate then is the accepted one now. The runs table is
    # rebuilt for its CHECK constraint (with foreign keys off: History migrates before it
    # turns them on). Runs of commands that have no outputs to finish were left ``recorded``
    # by earlier versions: they are complete, so ``ok``.
    (
        """CREATE TABLE runs_v3 (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL,
            finished_at TEXT, command TEXT NOT NULL, period TEXT, definition_hash TEXT,
            tool_version TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('recorded', 'ok', 'failed', 'aborted')))""",
        f"""INSERT INTO runs_v3 ({_RUNS_V2}, status) SELECT {_RUNS_V2},
            CASE WHEN status = 'recorded' AND command != 'consolidate' THEN 'ok' ELSE status END
            FROM runs""",
        "DROP TABLE runs",
        "ALTER TABLE runs_v3 RENAME TO runs",
        # other_id: the submission an accepted one replaced, or the one that superseded it.
        """CREATE TABLE submission_events (id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES runs(id),
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            state TEXT NOT NULL
                CHECK (state IN ('accepted', 'superseded', 'rejected', 'duplicate')),
            other_id INTEGER REFERENCES submissions(id))""",
        "CREATE INDEX submission_events_submission ON submission_events(submission_id, run_id)",
        """INSERT INTO submission_events (run_id, submission_id, state)
            SELECT run_id, id, CASE state WHEN 'superseded' THEN 'accepted' ELSE state END
            FROM submissions ORDER BY id""",
        """INSERT INTO submission_events (run_id, submission_id, state, other_id)
            SELECT superseded_in_run, id, 'superseded', superseded_by FROM submissions
            WHERE state = 'superseded' AND superseded_in_run IS NOT NULL
            ORDER BY superseded_in_run, id""",
    ),
)
MIGRATIONS += (
    # 4: the way back to the units ("styring i dialog"). Every decision a controller takes
    # about a unit's return (approved, returned with a reason), every feedback workbook sent
    # and every close or reopen of a period is one row: who (the OS user or ``--by``), when,
    # why. Nothing is updated in place: a period is closed while its latest close/reopen row
    # says ``closed``; a unit's review is its latest row for the period.
    (
        """CREATE TABLE dialogue_events (id INTEGER PRIMARY KEY, at TEXT NOT NULL,
            by_user TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('approved', 'returned', 'feedback', 'closed', 'reopened')),
            period TEXT NOT NULL, unit TEXT, reason TEXT,
            submission_id INTEGER REFERENCES submissions(id),
            origin TEXT NOT NULL DEFAULT 'cli')""",
        "CREATE INDEX dialogue_events_period ON dialogue_events(period, unit, kind)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
