"""The reduce step of collecting: duplicates, each unit's state, the batch and the reminder list.

:func:`reduce_outcomes` runs once over the compact :class:`~bms_excel.collect.FileOutcome`
values the worker processes sent back (:mod:`bms_excel.collect`), in time linear in the
number of files.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bms_excel.codes import make_finding
from bms_excel.errors import Finding, OutputError
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.records import SubmissionBatch, SubmissionRecord, SubmissionState, UnitState
from bms_excel.values import neutralise
from bms_excel.xlsx.files import write_atomic

if TYPE_CHECKING:
    from bms_excel.collect import FileOutcome


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
    by_unit = _drop_copies(outcomes, findings)
    conflicted = _resolve_duplicates(by_unit, findings)
    _flag_late(outcomes, definition, period, findings)
    units = _unit_reports(outcomes, definition, by_unit, conflicted, scope)
    batch = _batch(outcomes, period)
    batch.findings = findings
    return CollectReport(period=period, units=units, files=outcomes, findings=findings, batch=batch)


def _drop_copies(
    outcomes: list[FileOutcome], findings: list[Finding]
) -> dict[str, list[FileOutcome]]:
    """Every file's findings into ``findings``; the usable files by unit, a second copy of the
    very same bytes left out as a duplicate."""
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
                make_finding(
                    "duplicate-file",
                    message_key="collect.duplicate-file",
                    file=o.path,
                    other=by_sha[o.sha256].path,
                )
            )
            continue
        if o.sha256 is not None:
            by_sha[o.sha256] = o
        by_unit[o.unit].append(o)
    return by_unit


def _resolve_duplicates(by_unit: dict[str, list[FileOutcome]], findings: list[Finding]) -> set[str]:
    """Several files from one unit: the newest counts when they agree, none when they differ
    (``duplicate-conflict``). Returns the units in conflict."""
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
                make_finding(
                    "duplicate-conflict",
                    message_key="collect.duplicate-conflict",
                    file=newest.path,
                    extra={"files": [f.path for f in files], "indicators": cells},
                    unit=unit,
                    files=", ".join(f.path for f in files),
                    codes=", ".join(cells),
                )
            )
            continue
        for f in files[:-1]:
            f.state = "duplicate"
            findings.append(
                make_finding(
                    "duplicate-identical",
                    message_key="collect.duplicate-identical",
                    file=f.path,
                    newest=newest.path,
                )
            )
    return conflicted


def _unit_reports(
    outcomes: list[FileOutcome],
    definition: Definition,
    by_unit: dict[str, list[FileOutcome]],
    conflicted: set[str],
    scope: set[str | None] | None,
) -> list[UnitReport]:
    """Each unit in scope with its state and files."""
    rejected_by_unit: dict[str, list[str]] = defaultdict(list)
    for o in outcomes:
        if o.unit is not None and not o.usable:
            rejected_by_unit[o.unit].append(o.path)
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
    return units


def _batch(outcomes: list[FileOutcome], period: str) -> SubmissionBatch:
    """The submissions and the accepted files' records; the outcomes let go of their records
    (they live in the batch only)."""
    batch = SubmissionBatch(period=period)
    for o in outcomes:
        state: SubmissionState = (
            "accepted"
            if o.state == "accepted"
            else "duplicate"
            if o.state == "duplicate"
            else "rejected"
        )
        batch.submissions.append(
            SubmissionRecord(
                path=o.path,
                sha256=o.sha256 or "",
                size=o.size or 0,
                unit=o.unit,
                period=o.period,
                state=state,
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
        o.values, o.actions, o.assessments = [], [], []
    return batch


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
                make_finding(
                    "late-submission",
                    message_key="collect.late",
                    file=o.path,
                    date=o.received_at[:10],
                    deadline=deadline.isoformat(),
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
