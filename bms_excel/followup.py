"""Actions followed up: which actions are open, which are overdue, which red indicators have none.

Pure functions over records (no I/O), shared by the master workbook, the next period's unit
workbooks and any report that reads the history.

An action is *open* unless its status is «Fullført» (done) or «Avbrutt» (dropped) in any of
the catalogue's languages; a blank status is open. It is *overdue* when it is open and its
deadline is before the given day. A red indicator of a unit is *without action* when the unit
has no open action whose indicator code is that indicator's.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from bms_excel.i18n import LANGUAGES, t
from bms_excel.records import ActionRecord

#: Action statuses (keys of ``wb.action-status.*``) that close an action.
CLOSED_STATUSES = ("done", "dropped")


@functools.cache
def _closed_labels() -> frozenset[str]:
    return frozenset(
        t(f"wb.action-status.{key}", lang).casefold()
        for key in CLOSED_STATUSES
        for lang in LANGUAGES
    )


def is_open(action: ActionRecord) -> bool:
    """Whether ``action`` still needs following up (not done, not dropped)."""
    return (action.status or "").strip().casefold() not in _closed_labels()


def overdue_actions(actions: Iterable[ActionRecord], day: dt.date) -> list[ActionRecord]:
    """The open actions whose deadline is before ``day``, in the given order."""
    return [a for a in actions if is_open(a) and a.deadline is not None and a.deadline < day]


@dataclass(frozen=True, slots=True)
class RedIndicator:
    """One unit's indicator with status red in a period."""

    unit: str
    indicator: str


def red_without_action(
    red: Iterable[RedIndicator], actions: Iterable[ActionRecord]
) -> list[RedIndicator]:
    """The red indicators (of ``red``) for which their unit has no open action."""
    covered = {(a.unit, (a.indicator or "").strip()) for a in actions if is_open(a)}
    return [r for r in red if (r.unit, r.indicator) not in covered]
