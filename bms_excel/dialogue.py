"""The way back to the units ("styring i dialog"): reviews, closed periods, what is carried on.

A controller approves or returns each unit's accepted return (:func:`review_unit`), closes a
period when it is done (:func:`close_period`) and reopens it with a reason
(:func:`reopen_period`). Each decision is one row of the history's ``dialogue_events`` with
who, when and why; nothing is updated in place. What the next period's workbooks carry from
the last one (open actions, what was learned) is computed here too
(:func:`followup_for_generation`). No openpyxl here: the workbooks are written by
:mod:`bms_excel.returned` and :mod:`bms_excel.generate`.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bms_excel.errors import ConfigError
from bms_excel.followup import RedIndicator, is_open, red_without_action
from bms_excel.history import DialogueEvent, History
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.records import ActionRecord, AssessmentRecord, ValueRecord
from bms_excel.unit_results import UnitInputs

#: The controller's two decisions on a return, as the history stores them.
DECISIONS = ("approved", "returned")


class PeriodClosedError(ConfigError):
    """A change to a closed period was asked for (exit code 2 like every usage error)."""


def current_user() -> str:
    """The operating-system user running the command (``--by`` overrides it)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container), no login name
        return "?"


def previous_period_code(definition: Definition, period: str) -> str | None:
    """The period listed before ``period`` in the definition (None for the first)."""
    codes = [p.code for p in definition.periods]
    index = codes.index(period)
    return codes[index - 1] if index > 0 else None


def check_open(db: History, period: str) -> None:
    """Raise :class:`PeriodClosedError` when ``period`` is closed."""
    closed = db.period_closed(period)
    if closed is not None:
        raise PeriodClosedError(
            t("dialogue.period-closed", period=period, by=closed.by, at=closed.at)
        )


def _check_unit(definition: Definition, unit: str) -> None:
    if unit not in {u.code for u in definition.units}:
        known = ", ".join(u.code for u in definition.units)
        raise ConfigError(t("dialogue.unknown-unit", unit=unit, known=known))


def accepted_return(db: History, unit: str, period: str) -> str | None:
    """The sha256 of ``unit``'s accepted workbook of ``period`` (None when it has none)."""
    for sub in reversed(db.submissions(period)):
        if sub.unit == unit and sub.source == "unit" and sub.state == "accepted":
            return sub.sha256
    return None


def review_unit(
    db: History,
    definition: Definition,
    unit: str,
    period: str,
    decision: str,
    *,
    reason: str | None = None,
    by: str | None = None,
    origin: str = "cli",
) -> DialogueEvent:
    """Approve or return ``unit``'s accepted return of ``period``; return the stored event.

    A return needs a reason; a closed period takes no new decisions; a unit without an
    accepted return has nothing to review. All three are :class:`ConfigError` (exit 2).
    """
    if decision not in DECISIONS:
        raise ConfigError(t("dialogue.unknown-decision", decision=decision))
    _check_unit(definition, unit)
    reason = (reason or "").strip() or None
    if decision == "returned" and reason is None:
        raise ConfigError(t("dialogue.reason-required", unit=unit))
    check_open(db, period)
    sha = accepted_return(db, unit, period)
    if sha is None:
        raise ConfigError(t("dialogue.nothing-to-review", unit=unit, period=period))
    return db.record_dialogue_event(
        decision,
        period,
        by=by or current_user(),
        unit=unit,
        reason=reason,
        sha256=sha,
        origin=origin,
    )


def latest_reviews(db: History, period: str) -> dict[str, DialogueEvent]:
    """Each unit's review in force for ``period`` (its latest approve/return)."""
    out: dict[str, DialogueEvent] = {}
    for event in db.dialogue_events(period, kinds=DECISIONS):
        if event.unit is not None:
            out[event.unit] = event
    return out


def close_period(
    db: History,
    definition: Definition,
    period: str,
    *,
    by: str | None = None,
    reason: str | None = None,
) -> DialogueEvent:
    """Close ``period``: consolidation then refuses new returns for it."""
    definition.period(period)  # an unknown period is a ConfigError there
    check_open(db, period)
    return db.record_dialogue_event("closed", period, by=by or current_user(), reason=reason)


def reopen_period(
    db: History, definition: Definition, period: str, *, reason: str, by: str | None = None
) -> DialogueEvent:
    """Reopen a closed ``period``; the reason is required and kept in the audit trail."""
    definition.period(period)
    if not reason.strip():
        raise ConfigError(t("dialogue.reopen-reason-required", period=period))
    if db.period_closed(period) is None:
        raise ConfigError(t("dialogue.not-closed", period=period))
    return db.record_dialogue_event("reopened", period, by=by or current_user(), reason=reason)


# -- what a workbook carries -------------------------------------------------------------------


@dataclass(frozen=True)
class UnitFollowUp:
    """What a unit's workbook for a period carries from the period before it."""

    previous_period: str
    #: Tiltak rows (role → content) of the actions still open, to update and add to.
    actions: tuple[Mapping[str, object], ...] = ()
    #: Focus area code → what the unit had learned last period (shown read-only).
    lessons: Mapping[str, str] = field(default_factory=dict)


def action_row(action: ActionRecord) -> dict[str, object]:
    """An action as a Tiltak row (role → content)."""
    return {
        "code": action.indicator,
        "action": action.action,
        "responsible": action.responsible,
        "deadline": action.deadline,
        "status": action.status,
    }


def followup_for_generation(
    db: History, definition: Definition, period: str, units: Iterable[str] | None = None
) -> dict[str, UnitFollowUp]:
    """Per unit: the open actions and the lessons of its accepted return of the period before
    ``period`` (units without such a return carry nothing)."""
    before = previous_period_code(definition, period)
    if before is None:
        return {}
    chosen = set(units) if units is not None else None
    actions: dict[str, list[ActionRecord]] = {}
    for a in db.accepted_actions(before):
        if is_open(a):
            actions.setdefault(a.unit, []).append(a)
    lessons: dict[str, dict[str, str]] = {}
    for s in db.accepted_assessments(before):
        if (s.learned or "").strip():
            lessons.setdefault(s.unit, {})[s.focus_area] = (s.learned or "").strip()
    out: dict[str, UnitFollowUp] = {}
    for unit in sorted(set(actions) | set(lessons)):
        if chosen is not None and unit not in chosen:
            continue
        rows = tuple(action_row(a) for a in actions.get(unit, []))
        out[unit] = UnitFollowUp(before, rows, lessons.get(unit, {}))
    return out


def returned_inputs(
    values: Iterable[ValueRecord], actions: Iterable[ActionRecord], unit: str
) -> UnitInputs:
    """A returned unit's own return as the input cells of its new workbook: results as it
    typed them (a number, or its text such as «ikke aktuelt»), comments and actions."""
    results: dict[str, object] = {}
    comments: dict[str, object] = {}
    for v in values:
        if v.unit != unit or v.source != "unit":
            continue
        if v.kind == "number" and v.value is not None:
            results[v.indicator] = v.value
        elif v.raw:
            results[v.indicator] = v.raw
        if v.comment:
            comments[v.indicator] = v.comment
    rows = tuple(action_row(a) for a in actions if a.unit == unit)
    return UnitInputs(results=results, comments=comments, actions=rows)


def lessons_by_unit(assessments: Iterable[AssessmentRecord]) -> dict[tuple[str, str], str]:
    """``(unit, focus area) → what was learned`` of a period's assessments."""
    return {
        (s.unit, s.focus_area): (s.learned or "").strip()
        for s in assessments
        if (s.learned or "").strip()
    }


def today() -> dt.date:
    """Today's date where the controller is (overdue actions are counted against it)."""
    return dt.datetime.now().astimezone().date()


# -- what the master shows ---------------------------------------------------------------------


@dataclass
class MasterDialogue:
    """The dialogue as the master workbook shows it for one period."""

    #: Every dialogue event of the period, oldest first (the Om sheet's audit list).
    events: list[DialogueEvent] = field(default_factory=list)
    #: Unit code → the review in force (Innsending's controller column starts from it).
    reviews: dict[str, DialogueEvent] = field(default_factory=dict)
    #: The close in force, None while the period is open.
    closed: DialogueEvent | None = None
    #: The period before, and ``(unit, focus area) → what was learned`` in it.
    previous_period: str | None = None
    previous_lessons: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Red indicators of units that have no open action for them.
    red_without_action: list[RedIndicator] = field(default_factory=list)
    #: The day overdue actions are counted against.
    day: dt.date | None = None


def master_dialogue(
    db: History,
    definition: Definition,
    period: str,
    red: Iterable[RedIndicator],
    actions: Iterable[ActionRecord],
    day: dt.date | None = None,
) -> MasterDialogue:
    """What the master shows of the dialogue for ``period`` (``red``: the units' red
    indicators this period; ``actions``: the actions the master lists)."""
    before = previous_period_code(definition, period)
    lessons = lessons_by_unit(db.accepted_assessments(before)) if before else {}
    return MasterDialogue(
        events=db.dialogue_events(period),
        reviews=latest_reviews(db, period),
        closed=db.period_closed(period),
        previous_period=before,
        previous_lessons=lessons,
        red_without_action=red_without_action(red, actions),
        day=day or today(),
    )
