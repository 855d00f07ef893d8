"""The report's data model as a plain dataclass tree (no I/O): what every page shows.

:func:`bms_excel.report.model.build_report` fills it from the history database; the renderers
only format it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: Statuses that are colours (the others say why there is none).
COLOURED = ("green", "yellow", "red")


# -- the tree ----------------------------------------------------------------------------------


@dataclass
class KostraLine:
    """One region of a KOSTRA comparison: the county or a comparison group."""

    name: str
    value: float | None
    value_text: str
    is_county: bool = False


@dataclass
class IndicatorLine:
    """One indicator of the county scorecard, as the master's Fylket row shows it."""

    code: str
    name: str
    unit_of_measure: str
    decimals: int
    value: float | None
    value_text: str
    target: str
    status: str
    status_label: str
    score: float | None
    based_on: str
    trend: str | None
    trend_label: str
    #: (period, county value) over the periods of the same kind, oldest first.
    series: list[tuple[str, float | None]] = field(default_factory=list)
    kostra_year: int | None = None
    kostra: list[KostraLine] = field(default_factory=list)


@dataclass
class FactorSection:
    """A critical success factor with its indicators and the county roll-up."""

    code: str
    name: str
    status: str
    status_label: str
    score: float | None
    indicators: list[IndicatorLine] = field(default_factory=list)


@dataclass
class GoalSection:
    """A focus goal with its factors and the county roll-up."""

    code: str
    name: str
    status: str
    status_label: str
    score: float | None
    factors: list[FactorSection] = field(default_factory=list)


@dataclass
class AreaSection:
    """A focus area: county status, units' green count and what changed since last period."""

    code: str
    name: str
    colour: str
    status: str
    status_label: str
    score: float | None
    previous_status: str | None
    previous_label: str
    green_units: int
    scored_units: int
    goals: list[GoalSection] = field(default_factory=list)

    def indicators(self) -> list[IndicatorLine]:
        """Every indicator of the focus area, in definition order."""
        return [i for g in self.goals for f in g.factors for i in f.indicators]


@dataclass
class StatusChange:
    """An indicator whose county status differs from the previous period's."""

    code: str
    name: str
    before: str
    before_label: str
    now: str
    now_label: str


@dataclass
class UnitValue:
    """One unit's value of one indicator (for the exceptions)."""

    unit: str
    unit_name: str
    indicator: str
    indicator_name: str
    value_text: str
    status_label: str


@dataclass
class ActionLine:
    """An action past its deadline that is not done."""

    unit: str
    unit_name: str
    indicator: str
    action: str
    responsible: str
    deadline: dt.date | None
    status: str


@dataclass
class MissingUnit:
    """A unit in scope without an accepted workbook for the period."""

    code: str
    name: str
    contact: str
    email: str


@dataclass
class CommentLine:
    """A unit's comment on one of its values."""

    unit: str
    unit_name: str
    indicator: str
    indicator_name: str
    value_text: str
    status_label: str
    comment: str


@dataclass
class LessonLine:
    """A unit's own assessment and what it has learned, for one focus area."""

    unit: str
    unit_name: str
    focus_area: str
    focus_area_name: str
    assessment: str
    learned: str


@dataclass
class MapNode:
    """A box of the strategy map: a focus area (a frame), a goal or a factor."""

    id: str
    kind: str  # "focus_area", "goal" or "factor"
    name: str
    status: str
    status_label: str
    parent: str | None


@dataclass
class MapLink:
    """A cause–effect link of the definition (``source`` drives ``target``)."""

    source: str
    source_name: str
    target: str
    target_name: str
    note: str


@dataclass
class MethodNote:
    """How the report was made: definition, basis, sources, run."""

    definition_hash: str
    tool_version: str
    received: int
    expected: int
    periods: list[str]
    sources: dict[str, int]
    kostra_year: int | None
    made_at: dt.datetime


@dataclass
class ReportModel:
    """Everything the report shows, for one county and period, in one language."""

    lang: str
    county_code: str
    county_name: str
    period: str
    period_label: str
    previous_period: str | None
    total_status: str
    total_label: str
    total_score: float | None
    green_indicators: int
    total_indicators: int
    areas: list[AreaSection]
    changes: list[StatusChange]
    red_indicators: list[IndicatorLine]
    red_without_action: list[UnitValue]
    overdue_actions: list[ActionLine]
    missing_units: list[MissingUnit]
    comments: list[CommentLine]
    lessons: list[LessonLine]
    map_nodes: list[MapNode]
    map_links: list[MapLink]
    method: MethodNote

    def indicators(self) -> list[IndicatorLine]:
        """Every indicator of the scorecard, in definition order."""
        return [i for a in self.areas for i in a.indicators()]


@dataclass(frozen=True)
class Selection:
    """The controller's choice of comments and lessons (``None``: all of them)."""

    comments: frozenset[tuple[str, str]] | None = None  # (unit, indicator)
    lessons: frozenset[tuple[str, str]] | None = None  # (unit, focus area)
