"""Where everything sits in a unit workbook: sheet names, rows, columns, cell references.

This is the single place that knows coordinates (DESIGN §4). The generator writes with it, the
collector reads with it and the validator compares against it. Pure functions only, no openpyxl:
:func:`build_layout` is deterministic from (definition, unit, period, language, anchors), so a
reader can rebuild the exact layout a workbook was generated with.

References are sheet-local A1 strings (``"G7"``); :func:`sheet_ref` makes a formula reference
with the sheet name quoted.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

from bms_excel.i18n import t
from bms_excel.model import Definition, FocusArea, Unit, in_scope
from bms_excel.periods import previous_periods
from bms_excel.status import NOT_APPLICABLE_WORDS
from bms_excel.xlsx.cells import column_letter

#: Bumped whenever the structure below changes; stored in ``_meta`` and signed.
TEMPLATE_VERSION = "1"

#: Column roles of the Målekort sheet, in order. ``history`` repeats ``history_periods`` times.
SCORECARD_ROLES = (
    "code",
    "name",
    "measure",
    "target",
    "limits",
    "history",
    "result",
    "status",
    "comment_rule",
    "comment",
    "owner",
    "comment_missing",
    "out_of_range",
)
#: Hidden helper columns (1/0 flags per indicator row that Kontroll sums).
HIDDEN_ROLES = ("comment_missing", "out_of_range")
#: Prototype rows below the Målekort header row in the template, in order.
SCORECARD_PROTOTYPES = ("area", "goal", "factor", "input", "readonly")
ACTION_ROLES = ("code", "action", "responsible", "deadline", "status")
ASSESSMENT_ROLES = ("area", "assessment", "learned")
CONTROL_ROLES = ("check", "count", "fix")
CONTROL_CHECKS = ("missing", "invalid", "comment", "owner", "deadline")
#: Vurdering's read-only column beside "what we have learned": last period's lessons.
PREVIOUS_LEARNED_COLUMN = "D"
ACTION_STATUSES = ("planned", "ongoing", "done", "postponed", "dropped")

#: Fields of ``_meta`` that are signed, in this order (``signing.canonical_meta``).
SIGNED_FIELDS = (
    "unit",
    "period",
    "definition_hash",
    "template_version",
    "generated_at",
    "county",
    "language",
    "layout_fingerprint",
)
#: All ``_meta`` rows: the signed fields, the indicator → row map, the signature.
META_FIELDS = (*SIGNED_FIELDS, "rows", "signature")

LIST_NAMES = {"codes": "bms_codes", "action_status": "bms_action_status", "na": "bms_na"}


@dataclass(frozen=True)
class Anchors:
    """Rows the template fixes: each sheet's header row and the size of the Tiltak table."""

    scorecard_header_row: int = 5
    actions_header_row: int = 4
    assessment_header_row: int = 4
    control_header_row: int = 4
    action_rows: int = 30


DEFAULT_ANCHORS = Anchors()


@dataclass(frozen=True)
class SheetNames:
    """The localised sheet names of one workbook."""

    guide: str
    scorecard: str
    actions: str
    assessment: str
    control: str
    lists: str
    meta: str

    def visible(self) -> tuple[str, ...]:
        """The five visible sheets in tab order."""
        return (self.guide, self.scorecard, self.actions, self.assessment, self.control)


@dataclass(frozen=True)
class IndicatorCells:
    """One indicator row on Målekort. ``input`` is False for KOSTRA/controller rows."""

    code: str
    row: int
    input: bool
    source: str
    code_ref: str
    name_ref: str
    measure_ref: str
    target_ref: str
    limits_ref: str
    history_refs: tuple[str, ...]
    result_ref: str
    status_ref: str
    comment_rule_ref: str
    comment_ref: str
    owner_ref: str
    comment_missing_ref: str
    out_of_range_ref: str


@dataclass(frozen=True)
class GroupRow:
    """A group header row on Målekort: a focus area, goal or factor."""

    kind: str
    code: str
    row: int


@dataclass(frozen=True)
class ScorecardLayout:
    """The Målekort sheet: columns by role, group rows and indicator rows."""

    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, str]
    history_columns: tuple[str, ...]
    history_periods: tuple[str, ...]
    groups: tuple[GroupRow, ...]
    indicators: tuple[IndicatorCells, ...]

    def column_range(self, role: str) -> str:
        """``G6:G40``: a role's column over the generated rows."""
        col = self.columns[role]
        return f"{col}{self.first_row}:{col}{max(self.last_row, self.first_row)}"


@dataclass(frozen=True)
class ActionsLayout:
    """The Tiltak input table: ``action_rows`` blank rows below the header."""

    header_row: int
    first_row: int
    last_row: int
    columns: dict[str, str]

    def column_range(self, role: str) -> str:
        """``B5:B34``: a role's column over the input rows."""
        col = self.columns[role]
        return f"{col}{self.first_row}:{col}{self.last_row}"


@dataclass(frozen=True)
class AssessmentRow:
    """One focus area on Vurdering: its name and the two inputs."""

    area: str
    row: int
    area_ref: str
    assessment_ref: str
    learned_ref: str

    @property
    def previous_ref(self) -> str:
        """Read-only: what the unit had learned the period before (beside this period's)."""
        return f"{PREVIOUS_LEARNED_COLUMN}{self.row}"


@dataclass(frozen=True)
class ControlRow:
    """One live check on Kontroll: label, count formula, what to fix."""

    key: str
    row: int
    check_ref: str
    count_ref: str
    fix_ref: str


@dataclass(frozen=True)
class ControlLayout:
    """The Kontroll sheet: one row per check, then the JA/NEI row."""

    header_row: int
    checks: tuple[ControlRow, ...]
    ready: ControlRow


@dataclass(frozen=True)
class ListsLayout:
    """The very hidden list sheet: absolute ranges and the defined names pointing at them."""

    codes: str
    action_status: str
    na: str
    names: dict[str, str] = field(default_factory=lambda: dict(LIST_NAMES))


@dataclass(frozen=True)
class UnitLayout:
    """Everything about where things sit in one unit's workbook."""

    unit: str
    period: str
    language: str
    template_version: str
    anchors: Anchors
    sheets: SheetNames
    scorecard: ScorecardLayout
    actions: ActionsLayout
    assessment: tuple[AssessmentRow, ...]
    control: ControlLayout
    lists: ListsLayout
    meta: dict[str, str]

    def indicator(self, code: str) -> IndicatorCells:
        """The cells of indicator ``code`` (``KeyError`` if not in this unit's scope)."""
        for cells in self.scorecard.indicators:
            if cells.code == code:
                return cells
        raise KeyError(code)

    def row_map(self) -> dict[str, int]:
        """Indicator code → Målekort row."""
        return {c.code: c.row for c in self.scorecard.indicators}

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of this layout (minus the fingerprint itself).

        The JSON of ``dataclasses.asdict`` (tuples and lists both become arrays), made by
        the JSON encoder itself: only the dataclasses go through Python (:func:`_fields_of`).
        """
        text = json.dumps(self, sort_keys=True, ensure_ascii=False, default=_fields_of)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _fields_of(obj: Any) -> dict[str, Any]:
    """A layout dataclass as its fields, for the JSON encoder (the layout is immutable)."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if not hasattr(cls, "__dataclass_fields__"):
            raise TypeError(f"{cls.__name__} is not part of a layout")
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(obj))
    return {name: getattr(obj, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def sheet_ref(sheet: str, ref: str, absolute: bool = False) -> str:
    """A formula reference to ``ref`` on ``sheet``: ``'Målekort'!G7`` (quotes doubled)."""
    if absolute:
        ref = ":".join(re.sub(r"^([A-Z]+)(\d+)$", r"$\1$\2", part) for part in ref.split(":"))
    return "'" + sheet.replace("'", "''") + "'!" + ref


def sheet_names(lang: str) -> SheetNames:
    """The sheet names in ``lang``."""
    return SheetNames(
        guide=t("wb.sheet.guide", lang),
        scorecard=t("wb.sheet.scorecard", lang),
        actions=t("wb.sheet.actions", lang),
        assessment=t("wb.sheet.assessment", lang),
        control=t("wb.sheet.control", lang),
        lists=t("wb.sheet.lists", lang),
        meta=t("wb.sheet.meta", lang),
    )


def _scorecard(definition: Definition, unit: Unit, period: str, a: Anchors) -> ScorecardLayout:
    n_hist = definition.settings.history_periods
    cols: dict[str, str] = {}
    history: list[str] = []
    index = 1
    for role in SCORECARD_ROLES:
        if role == "history":
            for _ in range(n_hist):
                history.append(column_letter(index))
                index += 1
            continue
        cols[role] = column_letter(index)
        index += 1
    row = a.scorecard_header_row + 1
    groups: list[GroupRow] = []
    indicators: list[IndicatorCells] = []
    seen: set[tuple[str, str]] = set()
    for area, goal, factor, ind in definition.iter_indicators():
        if not in_scope(ind, unit):
            continue
        for kind, code in (("area", area.code), ("goal", goal.code), ("factor", factor.code)):
            if (kind, code) not in seen:
                seen.add((kind, code))
                groups.append(GroupRow(kind, code, row))
                row += 1
        indicators.append(
            IndicatorCells(
                code=ind.code,
                row=row,
                input=ind.source == "unit",
                source=ind.source,
                code_ref=f"{cols['code']}{row}",
                name_ref=f"{cols['name']}{row}",
                measure_ref=f"{cols['measure']}{row}",
                target_ref=f"{cols['target']}{row}",
                limits_ref=f"{cols['limits']}{row}",
                history_refs=tuple(f"{c}{row}" for c in history),
                result_ref=f"{cols['result']}{row}",
                status_ref=f"{cols['status']}{row}",
                comment_rule_ref=f"{cols['comment_rule']}{row}",
                comment_ref=f"{cols['comment']}{row}",
                owner_ref=f"{cols['owner']}{row}",
                comment_missing_ref=f"{cols['comment_missing']}{row}",
                out_of_range_ref=f"{cols['out_of_range']}{row}",
            )
        )
        row += 1
    return ScorecardLayout(
        header_row=a.scorecard_header_row,
        first_row=a.scorecard_header_row + 1,
        last_row=row - 1,
        columns=cols,
        history_columns=tuple(history),
        history_periods=_padded(_defined_history(definition, period, n_hist), n_hist),
        groups=tuple(groups),
        indicators=tuple(indicators),
    )


def _defined_history(definition: Definition, period: str, n: int) -> tuple[str, ...]:
    """The up to ``n`` periods before ``period`` that the definition lists (no invented
    ``2025-T3`` before a first period: the history holds values only for defined periods)."""
    codes = [p.code for p in definition.periods]
    return tuple(p for p in previous_periods(period, n, codes) if p in codes)


def _padded(periods: tuple[str, ...], n: int) -> tuple[str, ...]:
    """Right-align ``periods`` in ``n`` history columns ("" where no earlier period exists)."""
    return ("",) * (n - len(periods)) + periods


def unit_focus_areas(definition: Definition, unit: Unit) -> list[FocusArea]:
    """The focus areas with at least one indicator in the unit's scope (all if none has)."""
    areas = [
        area
        for area in definition.focus_areas
        if any(in_scope(ind, unit) for g in area.goals for f in g.factors for ind in f.indicators)
    ]
    return areas or list(definition.focus_areas)


def build_layout(
    definition: Definition,
    unit: Unit,
    period: str,
    lang: str = "nb",
    anchors: Anchors = DEFAULT_ANCHORS,
) -> UnitLayout:
    """The complete layout of ``unit``'s workbook for ``period`` in ``lang``."""
    names = sheet_names(lang)
    scorecard = _scorecard(definition, unit, period, anchors)

    ah = anchors.actions_header_row
    actions = ActionsLayout(
        header_row=ah,
        first_row=ah + 1,
        last_row=ah + anchors.action_rows,
        columns={role: column_letter(i + 1) for i, role in enumerate(ACTION_ROLES)},
    )

    vh = anchors.assessment_header_row
    assessment = tuple(
        AssessmentRow(area.code, vh + 1 + i, f"A{vh + 1 + i}", f"B{vh + 1 + i}", f"C{vh + 1 + i}")
        for i, area in enumerate(unit_focus_areas(definition, unit))
    )

    kh = anchors.control_header_row
    checks = tuple(
        ControlRow(key, kh + 1 + i, f"A{kh + 1 + i}", f"B{kh + 1 + i}", f"C{kh + 1 + i}")
        for i, key in enumerate(CONTROL_CHECKS)
    )
    rr = kh + 1 + len(checks)
    control = ControlLayout(kh, checks, ControlRow("ready", rr, f"A{rr}", f"B{rr}", f"C{rr}"))

    n_codes = max(1, len(scorecard.indicators))
    n_na = len(NOT_APPLICABLE_WORDS)
    lists = ListsLayout(
        codes=sheet_ref(names.lists, f"A1:A{n_codes}", absolute=True),
        action_status=sheet_ref(names.lists, f"B1:B{len(ACTION_STATUSES)}", absolute=True),
        na=sheet_ref(names.lists, f"C1:C{n_na}", absolute=True),
    )
    meta = {name: f"B{i + 1}" for i, name in enumerate(META_FIELDS)}
    return UnitLayout(
        unit=unit.code,
        period=period,
        language=lang,
        template_version=TEMPLATE_VERSION,
        anchors=anchors,
        sheets=names,
        scorecard=scorecard,
        actions=actions,
        assessment=assessment,
        control=control,
        lists=lists,
        meta=meta,
    )
