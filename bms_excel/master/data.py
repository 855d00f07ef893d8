"""What the master workbook shows: :class:`MasterData` (plain rows, no pandas), the run's
:class:`MasterInfo` and the sheets' keys and names.

:mod:`bms_excel.master.run` turns the consolidation frames into :class:`MasterData`; the
sheet writers (:mod:`~bms_excel.master.overview`, :mod:`~bms_excel.master.scorecard`,
:mod:`~bms_excel.master.lists`) only lay out cells from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bms_excel.collect import FileOutcome, UnitReport
from bms_excel.dialogue import MasterDialogue
from bms_excel.errors import Finding
from bms_excel.i18n import t
from bms_excel.kostra_import import KostraView
from bms_excel.model import Definition
from bms_excel.records import ActionRecord, AssessmentRecord

SHEET_KEYS = (
    "overview",
    "county",
    "units",
    "trend",
    "comments",
    "actions",
    "assessments",
    "submissions",
    "findings",
    "data",
    "about",
)


class Rows(Protocol):
    """Rows that can be counted and iterated more than once (a list is one)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class MasterInfo:
    """What the Om sheet says about the run that made the workbook."""

    run_at: dt.datetime
    tool_version: str
    definition_hash: str
    history_path: str = ""
    run_id: int | None = None


@dataclass
class MasterData:
    """Everything the master shows, as plain rows (``None`` for a missing number)."""

    definition: Definition
    period: str
    lang: str
    info: MasterInfo
    #: The long table, one dict per (unit, indicator); iterated more than once (a list, or
    #: :class:`~bms_excel.master.FrameRows` making the dicts on each pass).
    long: Rows
    county: list[dict[str, Any]]
    #: The roll-ups of focus areas and totals (all the master shows of them).
    rollups: list[dict[str, Any]]
    #: The county's directions of travel (the units' are in the exports).
    trends: list[dict[str, Any]]
    excluded: list[dict[str, Any]] = field(default_factory=list)
    #: (period, {indicator: county value}) and (period, {focus area or "": score}), oldest first.
    history_values: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)
    history_scores: list[tuple[str, dict[str, float | None]]] = field(default_factory=list)
    units: list[UnitReport] = field(default_factory=list)
    files: list[FileOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    previous_period: str | None = None
    #: Where the submissions are, relative to which Avvik links to the files.
    submissions_dir: Path | None = None
    master_dir: Path | None = None
    #: The period's KOSTRA figures per indicator (county, units, comparison groups, series).
    kostra: dict[str, KostraView] = field(default_factory=dict)
    #: Reviews, the period's close, last period's lessons, red indicators without action.
    dialogue: MasterDialogue = field(default_factory=MasterDialogue)
    #: Rows marked «Ta med i rapport» in the master this one replaces: (unit, indicator) on
    #: Kommentarer, (unit, focus area) on Vurderinger.
    marked_comments: frozenset[tuple[str, str]] = frozenset()
    marked_lessons: frozenset[tuple[str, str]] = frozenset()


def sheet_names(lang: str) -> dict[str, str]:
    """The sheet names of the master in ``lang`` (key → name)."""
    return {key: t(f"master.sheet.{key}", lang) for key in SHEET_KEYS}


def long_columns(long: Rows) -> dict[str, list[Any]]:
    """The long table's columns as plain lists (a frame's rows convert a column at a time)."""
    frame, columns = getattr(long, "frame", None), getattr(long, "columns", None)
    if frame is not None and callable(columns):
        return dict(zip([str(c) for c in frame.columns], columns(), strict=True))
    rows = list(long)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in keys}
