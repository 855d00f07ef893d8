"""Consolidation (DESIGN §5): the long table, county values, roll-ups and trends, with pandas.

Everything here is a pure function of the definition and value records (normally
:meth:`bms_excel.history.History.accepted_values`), built once per period, never one
DataFrame per file. Rows follow definition order (units, then indicators), so the same
records in any order give identical frames.

Rules that matter to readers of the master workbook:

* missing and not-applicable values are never zero: they are not counted in any aggregate;
* a value with an error finding (``has_error``) or one that is not a number gets status
  ``invalid`` and no score; it is listed by :func:`excluded_values` and left out of the county
  value and the roll-ups;
* a county-level figure (a record whose unit is the county's code or empty, e.g. from KOSTRA
  or the controller) is taken as given instead of aggregating the units;
* roll-ups are weighted means of scores (:func:`bms_excel.status.rollup`): indicator → factor →
  goal → focus area → unit total; a sector is the unweighted mean of its units' scores at each
  level; the county rolls up the scores of the county values.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import pandas as pd

from bms_excel.i18n import t
from bms_excel.limit_text import target_text
from bms_excel.model import (
    Definition,
    Indicator,
    Unit,
    effective_target,
    in_scope,
    matching_overrides,
)
from bms_excel.records import ValueRecord
from bms_excel.status import (
    Status,
    StatusRule,
    direction_of_travel,
    evaluate,
    resolve_rule,
    rollup,
    score,
    status_from_score,
)

# fmt: off
#: Columns of the long table, in order (``raw`` is the text as written, for the Data sheet).
LONG_COLUMNS: tuple[str, ...] = (
    "unit", "unit_name", "sector", "period", "focus_area", "goal", "factor", "indicator",
    "indicator_name", "unit_of_measure", "value", "kind", "target", "status", "score", "comment",
    "source", "file", "sha256", "has_error", "raw",
)
#: Columns of the county values. ``basis``: ``units`` (aggregated), ``county`` (a county
#: figure taken as given) or ``none`` (aggregation none); ``based_on``: "basert på 24 av 26".
COUNTY_COLUMNS: tuple[str, ...] = (
    "indicator", "indicator_name", "focus_area", "goal", "factor", "period", "aggregation",
    "weight_by", "value", "n_used", "n_expected", "n_missing", "n_not_applicable", "n_excluded",
    "basis", "based_on", "target", "status", "score", "source",
)
#: Columns of the roll-ups. ``level``: unit/sector/county; ``node_type``: focus_area, goal,
#: factor or total; ``n_scored`` of ``n_total`` children had a score.
ROLLUP_COLUMNS: tuple[str, ...] = (
    "level", "entity", "entity_name", "sector", "node_type", "node", "node_name", "score",
    "status", "n_scored", "n_total",
)
TREND_COLUMNS: tuple[str, ...] = (
    "level", "unit", "indicator", "period", "previous_period", "value", "previous_value", "trend",
)
EXCLUDED_COLUMNS: tuple[str, ...] = (
    "unit", "unit_name", "indicator", "indicator_name", "kind", "value", "raw", "reason",
    "message", "file", "sha256",
)
# fmt: on
_FLOAT = ("value", "score", "previous_value")


def _frame(rows: dict[str, list[Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with fixed dtypes whatever the rows: floats (NaN), bools, objects.

    Counts that may be absent (``n_used`` of a county figure) are Python ints or None in an
    object column, not pandas' ``pd.NA``, whose truth value raises in plain Python code.
    """
    data: dict[str, pd.Series] = {}
    for col in columns:
        values = rows[col]
        if col in _FLOAT:
            data[col] = pd.Series([math.nan if v is None else v for v in values], dtype="float64")
        elif col in ("n_scored", "n_total"):
            data[col] = pd.Series(values, dtype="int64")
        elif col == "has_error":
            data[col] = pd.Series(values, dtype="bool")
        else:
            data[col] = pd.Series(values, dtype="object")
    return pd.DataFrame(data, columns=list(columns))


def _columns(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> dict[str, list[Any]]:
    """Row tuples (each of ``len(columns)`` values) → one list per column."""
    if rows and {len(r) for r in rows} != {len(columns)}:
        raise ValueError(f"rows must have {len(columns)} values")  # pragma: no cover
    return {col: list(map(itemgetter(k), rows)) for k, col in enumerate(columns)}


def _nan_to_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def is_county_record(record: ValueRecord, definition: Definition) -> bool:
    """Whether a record is a county-level figure (unit empty or the county's code)."""
    return record.unit in ("", definition.county.code)


def previous_period(definition: Definition, period: str) -> str | None:
    """The period before ``period`` in the definition's order (None for the first)."""
    codes = [p.code for p in definition.periods]
    index = codes.index(period)
    return codes[index - 1] if index > 0 else None


class RuleCache:
    """Status rules, targets and results per indicator (and unit, when overrides can differ).

    Everything is memoised: the status engine is pure, and a county has many equal values.
    """

    def __init__(self, definition: Definition, period: str) -> None:
        self.settings = definition.settings
        self.period = period
        self._rules: dict[tuple[str, tuple[int, ...]], tuple[StatusRule, str]] = {}
        self._results: dict[tuple[str, tuple[int, ...], Any], tuple[str, float | None]] = {}

    def key(self, ind: Indicator, unit: Unit | None) -> tuple[str, tuple[int, ...]]:
        """What the rule of ``ind`` for ``unit`` depends on: the overrides that apply."""
        if not ind.overrides:
            return (ind.code, ())
        return (ind.code, matching_overrides(ind, unit, self.period))

    def get(self, ind: Indicator, unit: Unit | None) -> StatusRule:
        """The status rule of ``ind`` for ``unit`` in the period."""
        return self.rule_and_target(ind, unit)[0]

    def rule_and_target(self, ind: Indicator, unit: Unit | None) -> tuple[StatusRule, str]:
        """The rule and the target's display text."""
        key = self.key(ind, unit)
        found = self._rules.get(key)
        if found is None:  # any unit with the same overrides gives the same rule
            target, _ = effective_target(ind, unit, self.period)
            found = (
                resolve_rule(ind, self.settings, unit, self.period),
                target_text(target, ind) if target is not None else "",
            )
            self._rules[key] = found
        return found

    def result(self, ind: Indicator, unit: Unit | None, given: Any) -> tuple[str, float | None]:
        """``(status, score)`` of ``given`` under the rule of ``ind`` for ``unit``."""
        key = (*self.key(ind, unit), given)
        found = self._results.get(key)
        if found is None:
            rule = self.get(ind, unit)
            found = (str(evaluate(rule, given)), score(rule, given))
            self._results[key] = found
        return found

    def target_and_result(
        self, ind: Indicator, unit: Unit | None, given: Any
    ) -> tuple[str, str, float | None]:
        """``(target text, status, score)``: :meth:`rule_and_target` and :meth:`result` at
        the cost of one key."""
        key = self.key(ind, unit)
        found = self._results.get((*key, given))
        rule_target = self._rules.get(key)
        if found is None or rule_target is None:
            rule_target = self.rule_and_target(ind, unit)
            found = self.result(ind, unit, given)
        return rule_target[1], found[0], found[1]


class IndicatorScopes:
    """The indicators in scope of each unit (:func:`in_scope`), worked out once per sector.

    A unit named in no indicator's ``units`` or ``except`` has the scope of its sector.
    """

    def __init__(self, indicators: list[Indicator]) -> None:
        self.indicators = indicators
        self.named = {c for ind in indicators for c in (*ind.scope.units, *ind.scope.except_)}
        self._by_sector: dict[str | None, list[int]] = {}
        self._masks: dict[str | None, tuple[bool, ...]] = {}

    def of(self, unit: Unit) -> list[int]:
        """Positions in ``indicators`` of those in ``unit``'s scope, in order."""
        if unit.code in self.named:
            return [k for k, ind in enumerate(self.indicators) if in_scope(ind, unit)]
        found = self._by_sector.get(unit.sector)
        if found is None:
            found = [k for k, ind in enumerate(self.indicators) if in_scope(ind, unit)]
            self._by_sector[unit.sector] = found
        return found

    def mask(self, unit: Unit) -> tuple[bool, ...]:
        """Per indicator, whether it is in ``unit``'s scope."""
        found = self._masks.get(unit.sector) if unit.code not in self.named else None
        if found is None:
            inside = set(self.of(unit))
            found = tuple(k in inside for k in range(len(self.indicators)))
            if unit.code not in self.named:
                self._masks[unit.sector] = found
        return found


def _input(record: ValueRecord | None) -> float | Status | None:
    """What the status engine sees: a usable number or the reason there is none."""
    if record is None or record.kind == "missing":
        return Status.INVALID if record is not None and record.has_error else None
    if record.kind == "invalid" or record.has_error:
        return Status.INVALID
    if record.kind == "not-applicable":
        return Status.NOT_APPLICABLE
    return record.value


def _preference(record: ValueRecord, ind: Indicator) -> tuple[Any, ...]:
    # A total order, so that duplicates resolve the same way whatever the input order: the
    # record from the indicator's own source first, then by content.
    return (
        record.source != ind.source,
        record.sha256 or "",
        record.file or "",
        record.kind,
        record.raw or "",
        -math.inf if record.value is None else record.value,
        record.comment or "",
        record.has_error,
    )


def build_long_table(
    definition: Definition, values: Iterable[ValueRecord], period: str
) -> pd.DataFrame:
    """One row per unit × indicator in scope (non-deliverers as missing), plus county figures."""
    tree = list(definition.iter_indicators())
    by_code = {ind.code: ind for *_, ind in tree}
    unit_codes = {u.code for u in definition.units}
    chosen: dict[tuple[str | None, str], ValueRecord] = {}
    for rec in values:
        ind = by_code.get(rec.indicator)
        if rec.period != period or ind is None:
            continue
        if rec.unit in unit_codes:
            key: tuple[str | None, str] = (rec.unit, rec.indicator)
        elif is_county_record(rec, definition):
            key = (None, rec.indicator)
        else:
            continue
        old = chosen.get(key)
        if old is None or _preference(rec, ind) < _preference(old, ind):
            chosen[key] = rec
    rules = RuleCache(definition, period)
    rows: list[tuple[Any, ...]] = []
    county = definition.county.name
    # Per indicator once: the row's middle part; per unit and indicator only what differs.
    middles = [
        (ind, (period, area.code, goal.code, factor.code, ind.code, ind.name, ind.unit_of_measure))
        for area, goal, factor, ind in tree
    ]

    def add(unit: Unit | None, ind: Indicator, middle: tuple[Any, ...]) -> None:
        rec = chosen.get((unit.code if unit else None, ind.code))
        target, status, the_score = rules.target_and_result(ind, unit, _input(rec))
        head = (unit.code, unit.name, unit.sector) if unit else (None, county, None)
        if rec is None:
            tail: tuple[Any, ...] = (None, "missing", target, status, the_score, None, ind.source)
            rows.append((*head, *middle, *tail, None, None, False, None))
            return
        value = rec.value if rec.kind == "number" else None
        tail = (value, rec.kind, target, status, the_score, rec.comment, rec.source, rec.file)
        rows.append((*head, *middle, *tail, rec.sha256, bool(rec.has_error), rec.raw))

    scopes = IndicatorScopes([ind for ind, _ in middles])
    for unit in definition.units:
        for k in scopes.of(unit):
            add(unit, *middles[k])
    for ind, middle in middles:
        if ind.scope.county_only or (None, ind.code) in chosen:
            add(None, ind, middle)
    return _frame(_columns(rows, LONG_COLUMNS), LONG_COLUMNS)


def _aggregate(
    ind: Indicator, used: pd.DataFrame, weights: dict[str, float]
) -> tuple[float | None, int]:
    """The county value of one indicator from its usable unit rows, and how many were used."""
    values = used["value"]
    if ind.aggregation == "none" or values.empty:
        return None, 0
    if ind.aggregation == "weighted_mean":
        w = used["unit"].map(weights).astype("float64")
        mask = w.notna() & (w >= 0)
        total = float(w[mask].sum())
        if total <= 0:
            return None, 0
        return float((values[mask] * w[mask]).sum() / total), int(mask.sum())
    func = {"sum": "sum", "mean": "mean", "median": "median", "min": "min", "max": "max"}
    return float(values.agg(func[ind.aggregation])), int(values.size)


def aggregate_county(definition: Definition, long: pd.DataFrame, period: str) -> pd.DataFrame:
    """The county value, counts ("basert på 24 av 26"), status and score of every indicator.

    Unit rows with an error, missing or not applicable are never used; a county-level row in
    ``long`` (a KOSTRA/controller figure) is taken as given, with ``n_used``/``n_expected`` NA.
    """
    units = long[long["unit"].notna()]
    county = long[long["unit"].isna()]
    usable_mask = (units["kind"] == "number") & ~units["has_error"] & units["value"].notna()
    groups = {code: g for code, g in units.groupby("indicator", sort=False)}
    usable = {code: g for code, g in units[usable_mask].groupby("indicator", sort=False)}
    given = {row.indicator: row for row in county.itertuples(index=False)}
    empty = units.iloc[0:0]
    rules = RuleCache(definition, period)
    rows: dict[str, list[Any]] = {col: [] for col in COUNTY_COLUMNS}
    for area, goal, factor, ind in definition.iter_indicators():
        group = groups.get(ind.code, empty)
        # Disjoint counts: used + missing + not applicable + excluded = expected (a unit without
        # the weight attribute of a weighted mean is the only one left out of all four).
        kinds = group["kind"].where(~group["has_error"], "error")
        excluded = int(kinds.isin(["invalid", "error"]).sum())
        weights = (
            {
                u.code: u.attributes[ind.weight_by]
                for u in definition.units
                if ind.weight_by in u.attributes
            }
            if ind.weight_by
            else {}
        )
        value, used = _aggregate(ind, usable.get(ind.code, empty), weights)
        n_used: int | None = used
        n_expected: int | None = len(group)
        basis, source = ("units" if ind.aggregation != "none" else "none"), "aggregate"
        figure = given.get(ind.code)
        if figure is not None:
            # A county-level figure (KOSTRA, controller) is taken as given.
            basis, source, n_expected, n_used = "county", figure.source, None, None
            ok = figure.kind == "number" and not figure.has_error
            value = _nan_to_none(figure.value) if ok else None
        rule = rules.get(ind, None)
        if value is None and basis == "none":
            status = Status.NOT_APPLICABLE
            the_score = None
        else:
            status, the_score = evaluate(rule, value), score(rule, value)
        target, _ = effective_target(ind, None, period)
        row = {
            "indicator": ind.code,
            "indicator_name": ind.name,
            "focus_area": area.code,
            "goal": goal.code,
            "factor": factor.code,
            "period": period,
            "aggregation": ind.aggregation,
            "weight_by": ind.weight_by,
            "value": value,
            "n_used": n_used,
            "n_expected": n_expected,
            "n_missing": int((kinds == "missing").sum()),
            "n_not_applicable": int((kinds == "not-applicable").sum()),
            "n_excluded": excluded,
            "basis": basis,
            "based_on": (
                t("consolidate.based-on", used=n_used, expected=n_expected)
                if basis == "units"
                else ""
            ),
            "target": target_text(target, ind) if target is not None else "",
            "status": str(status),
            "score": the_score,
            "source": source,
        }
        for col, v in row.items():
            rows[col].append(v)
    return _frame(rows, COUNTY_COLUMNS)


# -- roll-ups ---------------------------------------------------------------------------------

_Node = tuple[str, str, str]  # node_type, code, name
_Row = tuple[_Node, float | None, str, int, int]  # node, score, status, n_scored, n_total


@functools.lru_cache(maxsize=1 << 16)
def _rollup(children: tuple[tuple[float | None, float], ...]) -> float | None:
    # status.rollup is exact (big-integer arithmetic); units share many identical child
    # tuples (all green, say), so memoising still pays at county and national scale.
    return rollup(children)


def _no_score_status(statuses: Iterable[str]) -> Status:
    """The status of a node without a score: why nothing could be scored."""
    seen = set(statuses)
    if seen and seen <= {Status.NO_TARGET, Status.NOT_APPLICABLE}:
        return Status.NO_TARGET if Status.NO_TARGET in seen else Status.NOT_APPLICABLE
    return Status.MISSING


_LEVELS = ("total", "focus_area", "goal", "factor")


_CHILDREN = ("focus_areas", "goals", "factors", "indicators")


def _children(obj: Any, depth: int) -> tuple[Any, ...]:
    return tuple(getattr(obj, _CHILDREN[depth]))


@dataclass(frozen=True)
class _Plan:
    """The definition's tree as a list of nodes in pre-order (the total first), for
    :func:`_walk` to roll up entity after entity without walking the objects again.

    ``children[i]``: per child of node ``i``, ``(indicator code or None, node index or -1,
    weight)``; ``leaves[i]``: the indicator codes under node ``i``.
    """

    nodes: list[_Node]
    children: list[tuple[tuple[str | None, int, float], ...]]
    leaves: list[tuple[str, ...]]
    green: float
    yellow: float


def _plan(definition: Definition) -> _Plan:
    nodes: list[_Node] = []
    children: list[tuple[tuple[str | None, int, float], ...]] = []
    leaves: list[tuple[str, ...]] = []

    def build(obj: Any, depth: int) -> int:
        index = len(nodes)
        nodes.append(
            (_LEVELS[depth], obj.code, obj.name)
            if depth
            else ("total", "", t("consolidate.node.total"))
        )
        children.append(())
        leaves.append(())
        kids: list[tuple[str | None, int, float]] = []
        under: list[str] = []
        for child in _children(obj, depth):
            if depth + 1 == len(_LEVELS):  # an indicator
                kids.append((child.code, -1, child.weight))
                under.append(child.code)
            else:
                at = build(child, depth + 1)
                kids.append((None, at, child.weight))
                under.extend(leaves[at])
        children[index], leaves[index] = tuple(kids), tuple(under)
        return index

    build(definition, 0)
    settings = definition.settings
    return _Plan(nodes, children, leaves, settings.rollup_green, settings.rollup_yellow)


_ABSENT = object()  # a node without indicators in the entity's scope


def _walk(plan: _Plan, scored: dict[str, tuple[float | None, str]]) -> list[_Row]:
    """Roll up one entity's indicator scores: every node in pre-order, then the total.

    A node without indicators in ``scored`` (outside the entity's scope) is left out. Nodes
    are rolled up children first (the plan in reverse); a node without a score says why
    from the statuses of all the indicators under it.
    """
    values: list[Any] = [_ABSENT] * len(plan.nodes)
    rows: list[_Row | None] = [None] * len(plan.nodes)
    for i in range(len(plan.nodes) - 1, -1, -1):
        pairs = []
        for code, at, weight in plan.children[i]:
            if code is None:
                child = values[at]
                if child is _ABSENT:
                    continue
            else:
                found = scored.get(code)
                if found is None:
                    continue
                child = found[0]
            pairs.append((child, weight))
        if not pairs:
            continue
        value = _rollup(tuple(pairs))
        values[i] = value
        if value is None:
            statuses = (scored[c][1] for c in plan.leaves[i] if c in scored)
            status = str(_no_score_status(statuses))
        else:
            status = _score_status(value, plan.green, plan.yellow)
        n_scored = sum(1 for v, _ in pairs if v is not None)
        rows[i] = (plan.nodes[i], value, status, n_scored, len(pairs))
    out = [r for r in rows[1:] if r is not None]
    return out if rows[0] is None else [*out, rows[0]]


@functools.lru_cache(maxsize=1 << 12)
def _score_status(value: float, green: float, yellow: float) -> str:
    return str(status_from_score(value, green, yellow))


def rollup_scores(definition: Definition, long: pd.DataFrame, county: pd.DataFrame) -> pd.DataFrame:
    """Weighted roll-ups factor → goal → focus area → total per unit, per sector and for the county.

    Nodes appear in definition order (focus area, its goals, each goal's factors), then the
    total; a node without indicators in an entity's scope is left out.
    """
    settings = definition.settings
    rows: list[tuple[Any, ...]] = []

    def emit(level: str, entity: str, name: str, sector: str | None, result: list[_Row]) -> None:
        head = (level, entity, name, sector)
        rows.extend((*head, *node, value, st, n, total) for node, value, st, n, total in result)

    per_unit: dict[str, dict[str, tuple[float | None, str]]] = {}
    unit_rows = long[long["unit"].notna()]
    for unit_code, ind, sc, st in zip(
        unit_rows["unit"],
        unit_rows["indicator"],
        unit_rows["score"],
        unit_rows["status"],
        strict=True,
    ):
        per_unit.setdefault(unit_code, {})[ind] = (_nan_to_none(float(sc)), st)
    # Per unit; remember each node's score for the sector means.
    node_results: dict[str, dict[tuple[str, str], tuple[_Node, float | None, str]]] = {}
    plan = _plan(definition)
    for unit in definition.units:
        result = _walk(plan, per_unit.get(unit.code, {}))
        node_results[unit.code] = {(n[0], n[1]): (n, s, st) for n, s, st, _, _ in result}
        emit("unit", unit.code, unit.name, unit.sector, result)
    # Per sector: the unweighted mean of its units' scores at every node.
    members_of: dict[str, list[str]] = {}
    for unit in definition.units:
        members_of.setdefault(unit.sector, []).append(unit.code)
    order = _node_order(definition)
    for sector in definition.sectors:
        members = members_of.get(sector.code, [])
        nodes: dict[tuple[str, str], _Node] = {}
        for code in members:
            for key, (node, _, _) in node_results[code].items():
                nodes.setdefault(key, node)
        result = []
        for key in sorted(nodes, key=order.__getitem__):
            children = [node_results[c][key] for c in members if key in node_results[c]]
            value = _rollup(tuple((s, 1.0) for _, s, _ in children))
            status = (
                str(status_from_score(value, settings.rollup_green, settings.rollup_yellow))
                if value is not None
                else str(_no_score_status(st for _, _, st in children))
            )
            n_scored = sum(1 for _, s, _ in children if s is not None)
            result.append((nodes[key], value, status, n_scored, len(children)))
        emit("sector", sector.code, sector.name, sector.code, result)
    rows.extend(_county_rows(definition, county))
    return _frame(_columns(rows, ROLLUP_COLUMNS), ROLLUP_COLUMNS)


def _county_rows(definition: Definition, county: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The county's roll-up rows: its own county values' scores."""
    county_scores = {
        ind: (_nan_to_none(float(sc)), st)
        for ind, sc, st in zip(county["indicator"], county["score"], county["status"], strict=True)
    }
    head = ("county", definition.county.code, definition.county.name, None)
    return [
        (*head, *node, value, st, n, total)
        for node, value, st, n, total in _walk(_plan(definition), county_scores)
    ]


def rollup_county(definition: Definition, county: pd.DataFrame) -> pd.DataFrame:
    """Only the county rows of :func:`rollup_scores` (for the trend of earlier periods).

    The unit and sector roll-ups of an earlier period are never shown, and they are most of
    the work.
    """
    rows = _county_rows(definition, county)
    return _frame(_columns(rows, ROLLUP_COLUMNS), ROLLUP_COLUMNS)


def _node_order(definition: Definition) -> dict[tuple[str, str], int]:
    order: dict[tuple[str, str], int] = {}
    for area in definition.focus_areas:
        order[("focus_area", area.code)] = len(order)
        for goal in area.goals:
            order[("goal", goal.code)] = len(order)
            for factor in goal.factors:
                order[("factor", factor.code)] = len(order)
    order[("total", "")] = len(order)
    return order


# -- trends and exclusions --------------------------------------------------------------------


def _period_of(frame: pd.DataFrame) -> str | None:
    return str(frame["period"].iloc[0]) if len(frame) else None


def _usable(frame: pd.DataFrame) -> dict[tuple[str | None, str], float]:
    ok = frame[(frame["kind"] == "number") & ~frame["has_error"] & frame["value"].notna()]
    return {
        (_nan_to_none(u), ind): float(v)
        for u, ind, v in zip(ok["unit"], ok["indicator"], ok["value"], strict=True)
    }


def trend(
    definition: Definition,
    current_long: pd.DataFrame,
    previous_long: pd.DataFrame,
    *,
    county_now: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Direction of travel per unit × indicator and per county value against the previous period.

    ``county_now`` is :func:`aggregate_county` of ``current_long`` when the caller has it.
    """
    period = _period_of(current_long)
    before = _period_of(previous_long)
    rows: list[tuple[Any, ...]] = []
    if period is None:
        return _frame(_columns(rows, TREND_COLUMNS), TREND_COLUMNS)
    rules = RuleCache(definition, period)
    units = {u.code: u for u in definition.units}
    by_code = {ind.code: ind for *_, ind in definition.iter_indicators()}
    now, prev = _usable(current_long), _usable(previous_long)
    memo: dict[tuple[Any, ...], str | None] = {}

    def add(level: str, unit: str | None, ind: Indicator, value: Any, old: Any) -> None:
        who = units.get(unit) if unit else None
        key = (rules.key(ind, who), value, old)
        if key not in memo:
            travel = direction_of_travel(rules.get(ind, who), value, old)
            memo[key] = str(travel) if travel else None
        rows.append((level, unit, ind.code, period, before, value, old, memo[key]))

    unit_rows = current_long[current_long["unit"].notna()]
    for unit, code in zip(unit_rows["unit"], unit_rows["indicator"], strict=True):
        add("unit", unit, by_code[code], now.get((unit, code)), prev.get((unit, code)))
    if county_now is None:
        county_now = aggregate_county(definition, current_long, period)
    old_values: dict[str, Any] = {}
    if before is not None:
        county_before = aggregate_county(definition, previous_long, before)
        old_values = dict(zip(county_before["indicator"], county_before["value"], strict=True))
    for code, value in zip(county_now["indicator"], county_now["value"], strict=True):
        add("county", None, by_code[code], _nan_to_none(value), _nan_to_none(old_values.get(code)))
    return _frame(_columns(rows, TREND_COLUMNS), TREND_COLUMNS)


def excluded_values(long: pd.DataFrame) -> pd.DataFrame:
    """The values left out of aggregates (error findings, not a number), with the reason."""
    bad = long[long["has_error"] | (long["kind"] == "invalid")]
    rows: dict[str, list[Any]] = {col: [] for col in EXCLUDED_COLUMNS}
    for rec in bad.itertuples(index=False):
        reason = "invalid" if rec.kind == "invalid" else "has-error"
        message = (
            t("consolidate.excluded.invalid", raw=rec.raw or "")
            if reason == "invalid"
            else t("consolidate.excluded.has-error")
        )
        values = {
            "unit": rec.unit,
            "unit_name": rec.unit_name,
            "indicator": rec.indicator,
            "indicator_name": rec.indicator_name,
            "kind": rec.kind,
            "value": _nan_to_none(rec.value),
            "raw": rec.raw,
            "reason": reason,
            "message": message,
            "file": rec.file,
            "sha256": rec.sha256,
        }
        for col, v in values.items():
            rows[col].append(v)
    return _frame(rows, EXCLUDED_COLUMNS)
