"""Compact records passed from collection to consolidation and the history database.

A submission is reduced to these plain, picklable records as soon as it is read (the map
step), so memory grows with the number of values, never with the number of workbooks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from bms_excel.errors import Finding

ValueKind = Literal["number", "missing", "not-applicable", "invalid"]
ValueSource = Literal["unit", "kostra", "controller"]
SubmissionState = Literal["accepted", "superseded", "rejected", "duplicate"]
UnitState = Literal["received", "missing", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class ValueRecord:
    """One reported (or imported) value of one indicator for one unit and period.

    ``value`` is set only when ``kind == "number"``; missing and not-applicable are kept apart
    and never become 0. ``has_error`` marks a value with an error finding: it is listed but
    excluded from aggregates.
    """

    unit: str
    period: str
    indicator: str
    kind: ValueKind
    value: float | None = None
    raw: str | None = None
    comment: str | None = None
    source: ValueSource = "unit"
    file: str | None = None
    sha256: str | None = None
    has_error: bool = False


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One row of a unit's Tiltak sheet."""

    unit: str
    period: str
    indicator: str | None
    action: str
    responsible: str | None
    deadline: dt.date | None
    status: str | None
    file: str | None = None
    sha256: str | None = None
    row: int | None = None


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    """A unit's own assessment and "what have we learned" for one focus area."""

    unit: str
    period: str
    focus_area: str
    assessment: str | None
    learned: str | None
    file: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    """One submitted file and what became of it."""

    path: str
    sha256: str
    size: int
    unit: str | None
    period: str | None
    state: SubmissionState
    kind: str = "xlsx"
    generated_at: str | None = None
    modified_at: str | None = None
    received_at: str | None = None


@dataclass
class SubmissionBatch:
    """Everything collection found in a submissions folder for one period."""

    period: str
    submissions: list[SubmissionRecord] = field(default_factory=list)
    values: list[ValueRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
