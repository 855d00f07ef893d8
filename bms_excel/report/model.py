"""The report's data model (the dataclass tree of :mod:`bms_excel.report.tree`), built from the history.

:func:`build_report` reads the period's accepted values from the history database (nothing is
collected again) and runs them through the very functions the master workbook is made with
(:func:`~bms_excel.consolidate.build_long_table`, :func:`~bms_excel.consolidate.aggregate_county`,
:func:`~bms_excel.consolidate.rollup_scores`, :func:`~bms_excel.consolidate.trend`,
:func:`~bms_excel.master.with_kostra`), in the order :func:`bms_excel.master.run_consolidation`
calls them, so every number and status equals the master's for the same period. The renderers
(:mod:`bms_excel.report.render`) only format this tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bms_excel import __version__
from bms_excel.consolidate import previous_period
from bms_excel.errors import ConfigError
from bms_excel.followup import RedIndicator, overdue_actions, red_without_action
from bms_excel.history import History, open_history
from bms_excel.i18n import t
from bms_excel.kostra_import import KostraView
from bms_excel.master.run import PeriodFrames, consolidate_period, rows_of, usable_values
from bms_excel.master.scorecard import county_status_labels, county_target_text
from bms_excel.model import Definition, Indicator, in_scope
from bms_excel.records import ActionRecord, AssessmentRecord
from bms_excel.report.tree import (
    COLOURED,
    ActionLine,
    AreaSection,
    CommentLine,
    FactorSection,
    GoalSection,
    IndicatorLine,
    KostraLine,
    LessonLine,
    MapLink,
    MapNode,
    MethodNote,
    MissingUnit,
    ReportModel,
    Selection,
    StatusChange,
    UnitValue,
)
from bms_excel.signing import definition_hash
from bms_excel.status import Status, round_displayed, status_label
from bms_excel.values import format_number

# -- building ----------------------------------------------------------------------------------


def label(status: str | None, lang: str) -> str:
    """The status word (``Grønn``, ``Mangler`` …) for a status code; empty for none."""
    return status_label(Status(status), lang) if status else ""


def value_text(value: float | None, decimals: int) -> str:
    """A value as displayed: rounded to the indicator's decimals, the Norwegian way."""
    if value is None:
        return ""
    shown = round_displayed(value, decimals)
    return format_number(shown) if decimals == 0 else _fixed(shown, decimals)


def _fixed(value: float, decimals: int) -> str:
    # format_number drops trailing zeros; the report shows the indicator's decimals, as the
    # master's number format does (73,50 for two decimals).
    text = format_number(value)
    whole, _, frac = text.partition(",")
    return f"{whole},{(frac + '0' * decimals)[:decimals]}"


def held_units(history: History, period: str, submissions_dir: Path | None = None) -> set[str]:
    """Units whose latest file is a duplicate still in conflict with an accepted one.

    The master uses none of such a unit's files (``duplicate-conflict``); a duplicate recorded
    after the unit's accepted submission and never accepted itself is such a conflict — while
    its file is still in ``submissions_dir`` (a correction the controller removed leaves the
    first file in force, and the history records no event for that).
    """
    latest_accepted: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for sub in history.submissions(period):
        if sub.unit is None or sub.source != "unit":
            continue
        if sub.state == "accepted":
            latest_accepted[sub.unit] = max(sub.id, latest_accepted.get(sub.unit, 0))
        elif sub.state == "duplicate" and (
            submissions_dir is None or (submissions_dir / sub.path).exists()
        ):
            duplicates[sub.unit] = max(sub.id, duplicates.get(sub.unit, 0))
    return {u for u, i in duplicates.items() if i > latest_accepted.get(u, 0)}


def build_report(
    definition: Definition,
    history_path: Path,
    period: str,
    *,
    lang: str = "nb",
    selection: Selection | None = None,
    submissions_dir: Path | None = None,
) -> ReportModel:
    """The report model of ``period`` from the history database at ``history_path``.

    ``submissions_dir`` (the project's ``innkommet/``) is only looked at to see whether a
    conflicting duplicate is still there (:func:`held_units`); nothing is read from it.
    """
    if not Path(history_path).is_file():
        raise ConfigError(t("report.no-history", path=str(history_path)))
    with open_history(history_path, lock=False) as history:
        held = held_units(history, period, submissions_dir)
        return _build(definition, history, period, lang, selection or Selection(), held)


def _build(
    d: Definition,
    history: History,
    period: str,
    lang: str,
    selection: Selection,
    held: set[str],
) -> ReportModel:
    accepted = usable_values(history, period, held)
    if not any(v.source == "unit" for v in accepted):
        raise ConfigError(t("report.no-values", period=period))
    frames = consolidate_period(history, d, period, accepted)
    before = _previous(d, period)
    series, previous_county, previous_rollup = _series(frames, before)
    nodes = {
        (r["level"], r["entity"], r["node"]): r
        for r in rows_of(frames.rollups)
        if r["level"] in ("county", "unit")
    }
    lines = _Lines(
        d,
        lang,
        {r["indicator"]: r for r in rows_of(frames.county)},
        {r["indicator"]: r["trend"] for r in rows_of(frames.trends) if r["level"] == "county"},
        frames.views,
        series,
    )
    areas = _areas(d, nodes, lines, previous_rollup, lang)
    all_lines = [i for a in areas for i in a.indicators()]
    long_rows = rows_of(frames.long)
    actions = [a for a in history.accepted_actions(period) if a.unit not in held]
    assessments = [a for a in history.accepted_assessments(period) if a.unit not in held]
    delivered = {
        s.unit
        for s in history.submissions(period)
        if s.state == "accepted" and s.source == "unit" and s.unit not in held
    }
    views = frames.views
    cc = d.county.code
    total = _node(nodes, "county", cc, "")
    changes = _changes(all_lines, previous_county, lang)
    names = {u.code: u for u in d.units}
    return ReportModel(
        lang=lang,
        county_code=cc,
        county_name=d.county.name,
        period=period,
        period_label=d.period(period).label,
        previous_period=before,
        total_status=_st(total),
        total_label=label(_st(total), lang),
        total_score=total["score"],
        green_indicators=sum(1 for i in all_lines if i.status == "green"),
        total_indicators=len(all_lines),
        areas=areas,
        changes=changes,
        red_indicators=[i for i in all_lines if i.status == "red"],
        red_without_action=_red_without_action(long_rows, actions, _decimals(d), lang),
        overdue_actions=_overdue(actions, d, period, lang),
        missing_units=_missing_units(d, delivered),
        comments=_comments(long_rows, selection, _decimals(d), lang),
        lessons=_lessons(assessments, d, names, selection),
        map_nodes=_map_nodes(d, nodes, lang),
        map_links=_map_links(d),
        method=MethodNote(
            definition_hash=definition_hash(d),
            tool_version=__version__,
            received=sum(1 for u in delivered if u is not None and _has_indicators(d, u)),
            expected=sum(1 for u in d.units if _has_indicators(d, u.code)),
            periods=[p for p, _ in next(iter(series.values()), [])],
            sources=_sources(long_rows),
            kostra_year=next((v.year for v in views.values()), None),
            made_at=dt.datetime.now().astimezone().replace(microsecond=0),
        ),
    )


def _series(
    frames: PeriodFrames, before: str | None
) -> tuple[dict[str, list[tuple[str, float | None]]], dict[str, str], dict[str, str]]:
    """The trend series (the county values of every period of the same kind with numbers,
    as the master's Trend sheet has them) and the statuses of the period ``before``: per
    indicator and per roll-up node."""
    series: dict[str, list[tuple[str, float | None]]] = {}
    previous_rollup: dict[str, str] = {}
    previous_county: dict[str, str] = {}
    for code, frame, county_rollup in frames.series:
        if code == before:
            previous_county = {r["indicator"]: r["status"] for r in rows_of(frame)}
            previous_rollup = {
                r["node"]: r["status"] for r in rows_of(county_rollup) if r["level"] == "county"
            }
        for r in rows_of(frame):
            series.setdefault(r["indicator"], []).append((code, r["value"]))
    return series, previous_county, previous_rollup


def _changes(
    lines: list[IndicatorLine], previous: Mapping[str, str], lang: str
) -> list[StatusChange]:
    """The indicators whose colour changed since the period before."""
    return [
        StatusChange(
            i.code,
            i.name,
            previous[i.code],
            label(previous[i.code], lang),
            i.status,
            i.status_label,
        )
        for i in lines
        if previous.get(i.code) in COLOURED and previous[i.code] != i.status
    ]


def _missing_units(d: Definition, delivered: Collection[str | None]) -> list[MissingUnit]:
    """The units with indicators that delivered nothing, with their contact."""
    return [
        MissingUnit(
            u.code,
            u.name,
            u.contact.name if u.contact else "",
            (u.contact.email or "") if u.contact else "",
        )
        for u in d.units
        if u.code not in delivered and _has_indicators(d, u.code)
    ]


def _node(nodes: Mapping[tuple[str, str, str], Any], kind: str, entity: str, code: str) -> Any:
    return nodes.get((kind, entity, code), {"status": None, "score": None})


@dataclass
class _Lines:
    """Makes the report's line of an indicator from the county's frames."""

    d: Definition
    lang: str
    county_rows: dict[str, dict[str, Any]]
    trends: dict[str, Any]
    views: Mapping[str, KostraView]
    series: dict[str, list[tuple[str, float | None]]]

    def __call__(self, ind: Indicator) -> IndicatorLine:
        d, lang, series = self.d, self.lang, self.series
        rec = self.county_rows.get(ind.code, {})
        value, st = rec.get("value"), rec.get("status") or "missing"
        travel = self.trends.get(ind.code)
        view = self.views.get(ind.code)
        return IndicatorLine(
            code=ind.code,
            name=ind.name,
            unit_of_measure=ind.unit_of_measure,
            decimals=ind.decimals,
            value=value,
            value_text=value_text(value, ind.decimals),
            target=county_target_text(ind, rec, d, lang),
            status=st,
            # The master's own words for a county value without colour (Ikke aggregert, Uten
            # fylkesmål), so the report says what Fylket says.
            status_label=county_status_labels(ind, lang).get(Status(st)) or label(st, lang),
            score=rec.get("score"),
            based_on=_basis(rec, lang),
            trend=travel,
            trend_label=t(f"trend.{travel}", lang) if travel else "",
            series=series.get(ind.code, []),
            kostra_year=view.year if view else None,
            kostra=_kostra_lines(view, ind, d, lang) if view else [],
        )


def _areas(
    d: Definition,
    nodes: Mapping[tuple[str, str, str], Any],
    line: Callable[[Indicator], IndicatorLine],
    previous_rollup: Mapping[str, str],
    lang: str,
) -> list[AreaSection]:
    """The report's focus areas with their goals, factors and indicator lines."""
    cc = d.county.code

    def node(kind: str, entity: str, code: str) -> Any:
        return _node(nodes, kind, entity, code)

    areas: list[AreaSection] = []
    for area in d.focus_areas:
        n = node("county", cc, area.code)
        unit_nodes = [nodes[k] for u in d.units if (k := ("unit", u.code, area.code)) in nodes]
        goals = []
        for goal in area.goals:
            g = node("county", cc, goal.code)
            factors = []
            for factor in goal.factors:
                f = node("county", cc, factor.code)
                lines = [line(ind) for ind in factor.indicators]
                factors.append(
                    FactorSection(
                        factor.code, factor.name, _st(f), label(_st(f), lang), f["score"], lines
                    )
                )
            goals.append(
                GoalSection(goal.code, goal.name, _st(g), label(_st(g), lang), g["score"], factors)
            )
        prev = previous_rollup.get(area.code)
        areas.append(
            AreaSection(
                code=area.code,
                name=area.name,
                colour=area.colour,
                status=_st(n),
                status_label=label(_st(n), lang),
                score=n["score"],
                previous_status=prev,
                previous_label=label(prev, lang),
                green_units=sum(1 for r in unit_nodes if r["status"] == "green"),
                scored_units=len(unit_nodes),
                goals=goals,
            )
        )
    return areas


def _st(node: Mapping[str, Any]) -> str:
    return str(node["status"]) if node.get("status") else "missing"


def _previous(d: Definition, period: str) -> str | None:
    try:
        return previous_period(d, period)
    except ValueError:
        return None


def _basis(rec: Mapping[str, Any], lang: str) -> str:
    basis = rec.get("basis")
    if basis == "units":
        return t("consolidate.based-on", lang, used=rec["n_used"], expected=rec["n_expected"])
    if basis == "county":
        source = rec.get("source") or "controller"
        return t("master.county.given", lang, source=t(f"master.source.{source}", lang))
    return t("master.county.not-aggregated", lang)


def _kostra_lines(view: KostraView, ind: Indicator, d: Definition, lang: str) -> list[KostraLine]:
    out = []
    if view.county is not None:
        name = t("master.kostra.county-label", lang, name=d.county.name)
        v = view.county.value if view.county.status in (None, "ok") else None
        out.append(KostraLine(name, v, value_text(v, ind.decimals), is_county=True))
    wanted = list(ind.kostra.comparison) if ind.kostra is not None else []
    for region in [*wanted, *(r for r in view.comparisons if r not in wanted)]:
        fig = view.comparisons.get(region)
        if fig is None:
            continue
        v = fig.value if fig.status in (None, "ok") else None
        out.append(KostraLine(fig.region_name or region, v, value_text(v, ind.decimals)))
    return out


def _has_indicators(d: Definition, unit_code: str) -> bool:
    unit = d.unit(unit_code)
    return any(in_scope(ind, unit) for *_, ind in d.iter_indicators())


def _shown(r: Mapping[str, Any], decimals: Mapping[str, int]) -> str:
    if r["value"] is not None:
        return value_text(r["value"], decimals.get(r["indicator"], 0))
    return str(r.get("raw") or "")


def _decimals(d: Definition) -> dict[str, int]:
    return {ind.code: ind.decimals for *_, ind in d.iter_indicators()}


def _red_without_action(
    long_rows: Sequence[Mapping[str, Any]],
    actions: Iterable[ActionRecord],
    decimals: Mapping[str, int],
    lang: str,
) -> list[UnitValue]:
    """The units' red results with no open action on them (the rule of the master's Tiltak)."""
    red = [r for r in long_rows if r["unit"] and r["status"] == "red"]
    uncovered = set(
        red_without_action((RedIndicator(r["unit"], r["indicator"]) for r in red), actions)
    )
    return [
        UnitValue(
            r["unit"],
            r["unit_name"],
            r["indicator"],
            r["indicator_name"],
            _shown(r, decimals),
            label(r["status"], lang),
        )
        for r in red
        if RedIndicator(r["unit"], r["indicator"]) in uncovered
    ]


def _overdue(
    actions: Iterable[ActionRecord], d: Definition, period: str, lang: str
) -> list[ActionLine]:
    """Open actions whose deadline is before the period's end (``followup``'s rule)."""
    names = {u.code: u.name for u in d.units}
    return [
        ActionLine(
            a.unit,
            names.get(a.unit, a.unit),
            a.indicator or "",
            a.action,
            a.responsible or "",
            a.deadline,
            a.status or "",
        )
        for a in overdue_actions(actions, d.period(period).end)
    ]


def _comments(
    long_rows: Sequence[Mapping[str, Any]],
    selection: Selection,
    decimals: Mapping[str, int],
    lang: str,
) -> list[CommentLine]:
    out = []
    for r in long_rows:
        comment = str(r.get("comment") or "").strip()
        if not comment or not r["unit"]:
            continue
        if selection.comments is not None and (r["unit"], r["indicator"]) not in selection.comments:
            continue
        out.append(
            CommentLine(
                r["unit"],
                r["unit_name"],
                r["indicator"],
                r["indicator_name"],
                _shown(r, decimals),
                label(r["status"], lang),
                comment,
            )
        )
    return out


def _lessons(
    assessments: Iterable[AssessmentRecord],
    d: Definition,
    names: Mapping[str, Any],
    selection: Selection,
) -> list[LessonLine]:
    areas = {a.code: a.name for a in d.focus_areas}
    out = []
    for s in assessments:
        if not ((s.assessment or "").strip() or (s.learned or "").strip()):
            continue
        if selection.lessons is not None and (s.unit, s.focus_area) not in selection.lessons:
            continue
        unit = names.get(s.unit)
        out.append(
            LessonLine(
                s.unit,
                unit.name if unit else s.unit,
                s.focus_area,
                areas.get(s.focus_area, s.focus_area),
                (s.assessment or "").strip(),
                (s.learned or "").strip(),
            )
        )
    return out


def _map_nodes(
    d: Definition, nodes: Mapping[tuple[str, str, str], Mapping[str, Any]], lang: str
) -> list[MapNode]:
    cc = d.county.code
    out = []
    for area in d.focus_areas:
        st = _st(nodes.get(("county", cc, area.code), {}))
        out.append(MapNode(area.code, "focus_area", area.name, st, label(st, lang), None))
        for goal in area.goals:
            st = _st(nodes.get(("county", cc, goal.code), {}))
            out.append(MapNode(goal.code, "goal", goal.name, st, label(st, lang), area.code))
            for factor in goal.factors:
                st = _st(nodes.get(("county", cc, factor.code), {}))
                out.append(
                    MapNode(factor.code, "factor", factor.name, st, label(st, lang), goal.code)
                )
    return out


def _map_links(d: Definition) -> list[MapLink]:
    names = {}
    for area in d.focus_areas:
        names[area.code] = area.name
        for goal in area.goals:
            names[goal.code] = goal.name
            for factor in goal.factors:
                names[factor.code] = factor.name
    return [
        MapLink(
            link.source,
            names.get(link.source, link.source),
            link.target,
            names.get(link.target, link.target),
            link.note or "",
        )
        for link in d.links
    ]


def _sources(long_rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in long_rows:
        if r["kind"] == "number" and r.get("source"):
            counts[str(r["source"])] = counts.get(str(r["source"]), 0) + 1
    return counts


__all__ = [
    "COLOURED",
    "AreaSection",
    "IndicatorLine",
    "ReportModel",
    "Selection",
    "build_report",
]
