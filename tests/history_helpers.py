"""History helpers of the tests: the audit trail of a unit and period read straight from the
database (the README promises that a superseded submission stays in the history with its values
and findings; the tests prove it by reading them back), and seeding from a history CSV."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.errors import BmsError, Finding
from bms_excel.history import History, RecordOutcome, StoredSubmission
from bms_excel.import_values import read_values_csv
from bms_excel.records import ValueRecord


@dataclass(frozen=True)
class AuditEntry:
    """One submission of a unit and period with everything recorded from it."""

    submission: StoredSubmission
    values: list[ValueRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


_VALUES = (
    "SELECT v.unit, v.period, v.indicator, v.kind, v.value, v.raw, v.comment, v.source,"
    " NULLIF(s.path, ''), s.sha256, v.has_error FROM submission_values v"
    " JOIN submissions s ON s.id = v.submission_id WHERE s.id = ? ORDER BY v.id"
)
_FINDINGS = (
    "SELECT code, severity, message, file, sheet, cell FROM findings"
    " WHERE submission_sha256 = ? ORDER BY id"
)


def audit_trail(history: History, unit: str, period: str) -> list[AuditEntry]:
    """Every submission of ``unit`` in ``period`` (accepted, superseded, rejected ...) with
    its values and findings, oldest first."""
    subs = [s for s in history.submissions(period) if s.unit == unit]
    con = sqlite3.connect(f"file:{history.path}?mode=ro", uri=True)
    try:
        entries = []
        for sub in subs:
            values = [
                ValueRecord(*row[:10], has_error=bool(row[10]))
                for row in con.execute(_VALUES, (sub.id,))
            ]
            findings = [Finding(*row) for row in con.execute(_FINDINGS, (sub.sha256,))]
            entries.append(AuditEntry(sub, values, findings))
        return entries
    finally:
        con.close()


def import_history_csv(
    history: History, source: str | Path | Iterable[Mapping[str, str]], *, name: str = ""
) -> RecordOutcome:
    """Seed earlier periods from ``history.csv`` rows as controller-loaded values (what
    ``bms import-values`` stores, without the project around it)."""
    found = read_values_csv(source, name=name)
    if found.findings:  # a file known to be good: the first problem stops the test
        first = found.findings[0]
        raise BmsError(first.message, first.location(), code=first.code)
    return history.record_values(found.values)
