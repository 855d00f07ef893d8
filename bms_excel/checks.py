"""Quality checks of a loaded scorecard definition (DESIGN §2, ``bms check``).

The schema (:mod:`bms_excel.definition`) says whether a definition can be read; these checks
say whether it is a good scorecard: unique and nested codes, references that resolve, links
without cycles, thresholds that agree with their direction, owners and targets, focus areas in
balance, "dare to leave something out", and Amdam's result levels. Every problem is a located
:class:`~bms_excel.errors.Finding`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bms_excel import model as m
from bms_excel.codes import make_finding, severity_of
from bms_excel.defbook.layout import is_workbook_file
from bms_excel.definition import (
    PathKey,
    Repair,
    SourceMap,
    format_path,
    load_definition_with_source,
    number_text,
    parse_definition_text,
    read_definition_text,
    validate_leniently,
)
from bms_excel.errors import ConfigError, DefinitionError, Finding, Severity
from bms_excel.i18n import t

# -- quality checks --------------------------------------------------------------------------


# fmt: off
#: Every quality-check code (their severities, family and meaning are in the registry).
CHECK_CODES: tuple[str, ...] = (
    "duplicate-code", "code-not-nested", "unknown-reference", "missing-weight-attribute",
    "link-cycle", "threshold-direction", "target-out-of-range", "missing-owner",
    "status-rule-incomplete", "deadline-before-period-end", "missing-target", "missing-contact",
    "focus-area-unused", "focus-areas-unbalanced", "too-many-indicators", "only-activity",
    "periods-unordered", "unit-without-indicators", "empty-sector", "kostra-incomplete",
    "county-target-missing", "target-year-outside-plan", "count-with-decimals",
    "missing-result-level",
)
# fmt: on
#: Each quality-check code's severity, as the registry has it.
CHECK_SEVERITY: dict[str, Severity] = {code: severity_of(code) for code in CHECK_CODES}


def check_definition(defn: m.Definition, source: SourceMap | None = None) -> list[Finding]:
    """Every quality problem of a loaded definition (DESIGN §2), located through ``source``."""
    checker = _Checker(defn, source)
    checker.run()
    # File order reads best; sorted() is stable, so one object's findings keep check order.
    return sorted(checker.findings, key=lambda f: f.line or 0)


#: Check codes that make a status rule impossible to build: no command can use the definition.
UNUSABLE = frozenset({"threshold-direction", "status-rule-incomplete"})


def load_usable_definition(path: Path) -> m.Definition:
    """Load ``path``; raise :class:`DefinitionError` for its schema problems and for every
    :data:`UNUSABLE` check finding (which would otherwise fail deep inside a command)."""
    if is_workbook_file(path):  # the definition workbook (issue 18)
        from bms_excel.defbook.importer import load_definition_workbook

        return load_definition_workbook(path, also=UNUSABLE)
    defn, source = load_definition_with_source(path)
    errors = [f for f in check_definition(defn, source) if f.code in UNUSABLE]
    if errors:
        raise DefinitionError(errors)
    return defn


def check_definition_file(path: Path, *, max_indicators: int | None = None) -> list[Finding]:
    """Every problem of the definition at ``path`` in one list, in file order.

    A file that cannot be read gives that one problem. Otherwise every schema problem is
    reported, the wrong parts are set aside (:func:`~bms_excel.definition.validate_leniently`)
    and the quality checks run on the rest, so a misspelt field never hides other mistakes.
    Check findings that only follow from a part set aside (``missing-owner`` after ``ownr:``)
    are left out. ``max_indicators`` overrides ``settings.max_indicators_per_unit``; a
    ``path`` that is not a file raises :class:`ConfigError`.
    """
    return check_and_load_definition(path, max_indicators=max_indicators)[1]


def check_and_load_definition(
    path: Path, *, max_indicators: int | None = None
) -> tuple[m.Definition | None, list[Finding]]:
    """:func:`check_definition_file`'s findings and the definition they were found in, read
    once (``None`` when the file could not be read or a part had to be set aside)."""
    if not path.is_file():
        raise ConfigError(t("cli.file-not-found", path=str(path)))
    if is_workbook_file(path):  # the definition workbook (issue 18): located to sheet!cell
        from bms_excel.defbook.importer import import_definition

        result = import_definition(path, max_indicators=max_indicators)
        return result.validated, result.findings
    try:
        text, name = read_definition_text(path)
        data, source, problems = parse_definition_text(text, name)
    except DefinitionError as exc:
        return None, list(exc.problems)
    return check_definition_data(data, source, problems, max_indicators=max_indicators)


def check_definition_data(
    data: Any, source: SourceMap, problems: list[Finding], *, max_indicators: int | None = None
) -> tuple[m.Definition | None, list[Finding]]:
    """The definition in plain ``data`` (``None`` when a part had to be set aside) and every
    problem of it, ``problems`` first; see :func:`check_definition_file`."""
    defn, schema, repairs, source = validate_leniently(data, source)
    problems = problems + schema
    checked = defn
    if defn is not None:
        if max_indicators is not None:
            update = {"max_indicators_per_unit": max_indicators}
            defn = defn.model_copy(update={"settings": defn.settings.model_copy(update=update)})
        found = check_definition(defn, source)
        problems += [f for f in found if not _follows_from(f, repairs)]
    return (checked if not repairs else None), sorted(problems, key=lambda f: f.line or 0)


# Check codes that a removed field (or a dropped list item) can cause by its absence alone.
# fmt: off
_CONSEQUENCES: dict[str, frozenset[str]] = {
    "target": frozenset({"missing-target", "threshold-direction", "status-rule-incomplete"}),
    "thresholds": frozenset({"missing-target", "status-rule-incomplete"}),
    "status_rule": frozenset({"status-rule-incomplete", "threshold-direction"}),
    "direction": frozenset({"threshold-direction", "status-rule-incomplete"}),
    "owner": frozenset({"missing-owner"}), "result_level": frozenset({"missing-result-level"}),
    "contact": frozenset({"missing-contact"}), "email": frozenset({"missing-contact"}),
    "kostra": frozenset({"kostra-incomplete"}), "region": frozenset({"kostra-incomplete"}),
    "kostra_region": frozenset({"kostra-incomplete"}),
}
# Counts over the whole definition: not to be trusted once a part is set aside.
_COUNTED = frozenset({
    "focus-area-unused", "focus-areas-unbalanced", "only-activity", "too-many-indicators",
    "unit-without-indicators", "empty-sector", "missing-weight-attribute", "kostra-incomplete",
})
_COUNTING_FIELDS = frozenset({"attributes", "scope", "weight_by", "sector", "settings"})
# fmt: on


def _follows_from(finding: Finding, repairs: list[Repair]) -> bool:
    """Whether ``finding`` may be only the consequence of a part set aside."""
    for r in repairs:
        if r.field is None:  # a dropped list item: counts change, its code no longer resolves
            if finding.code in _COUNTED or finding.extra.get("ref") == r.code:
                return True
            continue
        counted = r.field in _COUNTING_FIELDS or r.path[0] == "settings" or len(r.path) == 1
        if (counted or "attributes" in r.path) and finding.code in _COUNTED:
            return True
        owner = format_path(r.path[:-1])
        here = finding.path is not None and (
            finding.path == owner or finding.path.startswith((owner + ".", owner + "["))
        )
        if here and finding.code in _CONSEQUENCES.get(r.field, frozenset()):
            return True
    return False


IndicatorEntry = tuple[m.FocusArea, m.Factor, m.Indicator, PathKey]


class _Checker:
    def __init__(self, defn: m.Definition, source: SourceMap | None) -> None:
        self.defn = defn
        self.source = source
        self.findings: list[Finding] = []
        self.entries: list[IndicatorEntry] = list(_indicator_entries(defn))
        self.unit_codes = {u.code for u in defn.units}
        self.sector_codes = {s.code for s in defn.sectors}
        self.period_codes = {p.code for p in defn.periods}

    def add(
        self, key: str, path: PathKey, obj: str | None, /, extra: Any = None, **kw: Any
    ) -> None:
        message = t(f"check.{key}", **kw)
        self.findings.append(
            make_finding(
                key.split(".")[0],
                message=f"{obj}: {message}" if obj else message,
                file=self.source.file if self.source else None,
                line=self.source.line(path) if self.source else None,
                path=format_path(path),
                extra=extra,
            )
        )

    def run(self) -> None:
        self.check_codes()
        self.check_references()
        self.check_links()
        for area, factor, ind, path in self.entries:
            self.check_indicator(area, factor, ind, path)
        self.check_balance()
        self.check_units()
        self.check_periods()

    # codes --------------------------------------------------------------------------------

    def check_codes(self) -> None:
        d = self.defn
        scorecard: list[tuple[str, str, PathKey]] = []
        for ai, area in enumerate(d.focus_areas):
            scorecard.append(("focus-area", area.code, ("focus_areas", ai)))
            for gi, goal in enumerate(area.goals):
                gpath: PathKey = ("focus_areas", ai, "goals", gi)
                scorecard.append(("goal", goal.code, gpath))
                for fi, factor in enumerate(goal.factors):
                    scorecard.append(("factor", factor.code, (*gpath, "factors", fi)))
                    if not (factor.code.startswith(area.code) and factor.code != area.code):
                        self.add(
                            "code-not-nested.factor",
                            (*gpath, "factors", fi, "code"),
                            _name("factor", factor.code),
                            code=factor.code,
                            parent=area.code,
                            example=f"{area.code}1",
                        )
        for _, factor, ind, path in self.entries:
            scorecard.append(("indicator", ind.code, path))
            if not ind.code.startswith(factor.code + ".") or ind.code == factor.code + ".":
                self.add(
                    "code-not-nested.indicator",
                    (*path, "code"),
                    _name("indicator", ind.code),
                    code=ind.code,
                    parent=factor.code,
                    example=f"{factor.code}.1",
                )
        self._unique(scorecard)
        self._unique([("unit", u.code, ("units", i)) for i, u in enumerate(d.units)])
        self._unique([("sector", s.code, ("sectors", i)) for i, s in enumerate(d.sectors)])
        self._unique([("period", p.code, ("periods", i)) for i, p in enumerate(d.periods)])

    def _unique(self, items: list[tuple[str, str, PathKey]]) -> None:
        seen: dict[str, str] = {}
        for kind, code, path in items:
            if code in seen:
                obj = _name(kind, code)
                self.add("duplicate-code", (*path, "code"), obj, code=code, other=seen[code])
            else:
                seen[code] = _name(kind, code)

    # references ---------------------------------------------------------------------------

    def check_references(self) -> None:
        for i, unit in enumerate(self.defn.units):
            self._ref(
                unit.sector,
                self.sector_codes,
                "sector",
                ("units", i, "sector"),
                _name("unit", unit.code),
            )
        for _, _, ind, path in self.entries:
            obj = _name("indicator", ind.code)
            for j, sector in enumerate(ind.scope.sectors):
                self._ref(sector, self.sector_codes, "sector", (*path, "scope", "sectors", j), obj)
            for j, unit_code in enumerate(ind.scope.units):
                self._ref(unit_code, self.unit_codes, "unit", (*path, "scope", "units", j), obj)
            for j, unit_code in enumerate(ind.scope.except_):
                self._ref(unit_code, self.unit_codes, "unit", (*path, "scope", "except", j), obj)
            for k, o in enumerate(ind.overrides):
                opath = (*path, "overrides", k)
                self._ref(o.unit, self.unit_codes, "unit", (*opath, "unit"), obj)
                self._ref(o.sector, self.sector_codes, "sector", (*opath, "sector"), obj)
                self._ref(o.period, self.period_codes, "period", (*opath, "period"), obj)
            if ind.kostra is not None:
                for unit_code in ind.kostra.unit_regions:
                    kpath = (*path, "kostra", "unit_regions", unit_code)
                    self._ref(unit_code, self.unit_codes, "unit", kpath, obj)
            if ind.weight_by:
                lacking = [
                    u.code
                    for u in self.defn.units_for_indicator(ind)
                    if ind.weight_by not in u.attributes
                ]
                if lacking:
                    self.add(
                        "missing-weight-attribute",
                        (*path, "weight_by"),
                        obj,
                        {"units": lacking},
                        attribute=ind.weight_by,
                        count=len(lacking),
                        units=_listing(lacking),
                    )

    def _ref(self, ref: str | None, known: set[str], kind: str, path: PathKey, obj: str) -> None:
        if ref is not None and ref not in known:
            self.add(
                "unknown-reference",
                path,
                obj,
                field=format_path(path[-2:] if isinstance(path[-1], int) else path[-1:]),
                extra={"ref": ref},
                kind=t(f"definition.kind.{kind}"),
                ref=ref,
            )

    def check_links(self) -> None:
        targets = {g.code for a in self.defn.focus_areas for g in a.goals}
        targets |= {f.code for a in self.defn.focus_areas for g in a.goals for f in g.factors}
        links = self.defn.links
        for i, link in enumerate(links):
            obj = f"{t('definition.kind.link')} {link.source} → {link.target}"
            for end, ref in (("from", link.source), ("to", link.target)):
                self._ref(ref, targets, "goal-or-factor", ("links", i, end), obj)
        for nodes, first_edge in _find_cycles(links):
            link = links[first_edge]
            self.add(
                "link-cycle",
                ("links", first_edge),
                f"{t('definition.kind.link')} {link.source} → {link.target}",
                {"cycle": [*nodes, nodes[0]]},
                cycle=" → ".join([*nodes, nodes[0]]),
            )

    # indicators ---------------------------------------------------------------------------

    def check_indicator(
        self, area: m.FocusArea, factor: m.Factor, ind: m.Indicator, path: PathKey
    ) -> None:
        obj = _name("indicator", ind.code)
        if not ind.owner:
            self.add("missing-owner", path, obj)
        if ind.target is None and ind.thresholds is None and ind.kind != "yes_no":
            self.add("missing-target", path, obj)
        if ind.direction == "range" and ind.target is None:
            self.add("threshold-direction.range-target", (*path, "direction"), obj)
        if ind.result_level is None:
            self.add("missing-result-level", path, obj)
        self._limits(ind, ind.target, ind.thresholds, path, obj)
        self._rule(ind, ind.target, ind.thresholds, path, obj)
        self._county_target(ind, path, obj)
        self._plan_years(ind, path, obj)
        if ind.unit_of_measure.strip().casefold() in m.COUNT_MEASURES and ind.decimals > 0:
            self.add("count-with-decimals", (*path, "decimals"), obj, decimals=ind.decimals)
        for k, o in enumerate(ind.overrides):
            oobj = f"{obj}, {t('definition.override-number', number=k + 1)}"
            self._limits(ind, o.target, o.thresholds, (*path, "overrides", k), oobj)
            # An override without a target keeps the indicator's (model.effective_target).
            target = o.target if o.target is not None else ind.target
            self._rule(ind, target, o.thresholds, (*path, "overrides", k), oobj)
        if ind.source == "kostra" and ind.kostra is not None:
            county = not (ind.kostra.region or self.defn.county.kostra_region)
            units = [
                u.code
                for u in self.defn.units_for_indicator(ind)
                if u.code not in ind.kostra.unit_regions and not u.kostra_region
            ]
            if county or units:
                names = [t("definition.kind.county")] * county + units
                extra = {"county": county, "units": units}
                self.add(
                    "kostra-incomplete", (*path, "kostra"), obj, extra, missing=_listing(names)
                )

    def _county_target(self, ind: m.Indicator, path: PathKey, obj: str) -> None:
        """A county value that no county target can judge, and county limits that disagree."""
        # A yes/no indicator judges each unit by its wanted answer: it always has a target.
        has_target = (
            ind.target is not None
            or ind.thresholds is not None
            or bool(ind.targets)
            or ind.kind == "yes_no"
        )
        if (
            m.county_target_basis(ind) == "none"
            and has_target
            and ind.aggregation != "none"
            and self.defn.units_for_indicator(ind)
        ):
            self.add("county-target-missing", (*path, "aggregation"), obj, agg=ind.aggregation)
        if ind.county_thresholds is not None:
            green, yellow = ind.county_thresholds.green, ind.county_thresholds.yellow
            kw = {"green": number_text(green), "yellow": number_text(yellow)}
            tpath = (*path, "county_thresholds")
            if ind.direction == "range":
                self.add("threshold-direction.range-thresholds", tpath, obj)
            elif ind.direction == "higher" and green < yellow:
                self.add("threshold-direction.higher", tpath, obj, **kw)
            elif ind.direction == "lower" and green > yellow:
                self.add("threshold-direction.lower", tpath, obj, **kw)
        if ind.county_target is not None or ind.county_thresholds is not None:
            self._rule(ind, ind.county_target, ind.county_thresholds, (*path, "county_target"), obj)

    def _plan_years(self, ind: m.Indicator, path: PathKey, obj: str) -> None:
        """Yearly ambitions outside the economic plan (``settings.budget_year`` + 3)."""
        first = self.defn.settings.budget_year
        if first is None:
            return
        last = first + m.PLAN_YEARS - 1
        for year in ind.targets:
            if not first <= year <= last:
                self.add(
                    "target-year-outside-plan",
                    (*path, "targets", str(year)),
                    obj,
                    year=year,
                    first=first,
                    last=last,
                )

    def _rule(
        self,
        ind: m.Indicator,
        target: m.Target | None,
        thresholds: m.Thresholds | None,
        path: PathKey,
        obj: str,
    ) -> None:
        """What :func:`bms_excel.status.resolve_rule` needs of an explicit ``status_rule``."""
        kind = ind.status_rule
        if kind in ("thresholds", "percent_of_target") and ind.direction == "range":
            self.add("threshold-direction.range-rule", (*path, "status_rule"), obj, rule=kind)
        elif kind == "band" and target is None and ind.direction != "range":
            self.add("status-rule-incomplete.band", (*path, "status_rule"), obj)
        elif kind == "thresholds" and thresholds is None and not (target and target.is_band):
            self.add("status-rule-incomplete.thresholds", (*path, "status_rule"), obj)
        elif kind == "percent_of_target" and (target is None or target.is_band):
            self.add("status-rule-incomplete.percent", (*path, "status_rule"), obj)

    def _limits(
        self,
        ind: m.Indicator,
        target: m.Target | None,
        thresholds: m.Thresholds | None,
        path: PathKey,
        obj: str,
    ) -> None:
        if thresholds is not None:
            tpath = (*path, "thresholds")
            green, yellow = thresholds.green, thresholds.yellow
            kw = {"green": number_text(green), "yellow": number_text(yellow)}
            if ind.direction == "range":
                self.add("threshold-direction.range-thresholds", tpath, obj)
            elif ind.direction == "higher" and green < yellow:
                self.add("threshold-direction.higher", tpath, obj, **kw)
            elif ind.direction == "lower" and green > yellow:
                self.add("threshold-direction.lower", tpath, obj, **kw)
        if ind.valid_range is None:
            return
        low, high = ind.valid_range
        values: list[tuple[str, float | None, PathKey]] = []
        if target is not None:
            for v in (target.value, target.low, target.high):
                values.append(("target", v, (*path, "target")))
        if thresholds is not None:
            values.append(("green", thresholds.green, (*path, "thresholds", "green")))
            values.append(("yellow", thresholds.yellow, (*path, "thresholds", "yellow")))
        for what, value, vpath in values:
            if value is not None and not low <= value <= high:
                self.add(
                    "target-out-of-range",
                    vpath,
                    obj,
                    field=t(f"check.field.{what}"),
                    value=number_text(value),
                    low=number_text(low),
                    high=number_text(high),
                )

    # balance ------------------------------------------------------------------------------

    def check_balance(self) -> None:
        d = self.defn
        total = len(self.entries)
        per_area = Counter(area.code for area, *_ in self.entries)
        share_limit = d.settings.max_focus_area_share
        for ai, area in enumerate(d.focus_areas):
            obj, count = _name("focus-area", area.code), per_area.get(area.code, 0)
            if count == 0:
                self.add("focus-area-unused", ("focus_areas", ai), obj)
            # One focus area cannot be balanced against anything: no balance warning then.
            elif len(d.focus_areas) > 1 and count / total > share_limit:
                self.add(
                    "focus-areas-unbalanced",
                    ("focus_areas", ai),
                    obj,
                    count=count,
                    total=total,
                    share=_percent(count / total),
                    limit=_percent(share_limit),
                )
        levels = Counter(ind.result_level for _, _, ind, _ in self.entries)
        judged = total - levels.get(None, 0)
        if judged:
            share = sum(n for lvl, n in levels.items() if lvl is not None and lvl >= 2) / judged
            if share < d.settings.min_outcome_share:
                distribution = ", ".join(
                    f"{lvl} {t(f'check.result-level.{lvl}')}: {levels.get(lvl, 0)}"
                    for lvl in range(5)
                )
                spath: PathKey = ("settings", "min_outcome_share")
                if self.source is None or spath not in self.source.lines:
                    spath = ("focus_areas",)
                self.add(
                    "only-activity",
                    spath,
                    None,
                    {"levels": {lvl: levels.get(lvl, 0) for lvl in range(5)}, "share": share},
                    share=_percent(share),
                    limit=_percent(d.settings.min_outcome_share),
                    distribution=distribution,
                )

    def check_units(self) -> None:
        d = self.defn
        limit = d.settings.max_indicators_per_unit
        for i, unit in enumerate(d.units):
            obj, path = _name("unit", unit.code), ("units", i)
            if unit.contact is None or unit.contact.email is None:
                cpath = (*path, "contact") if unit.contact is not None else path
                self.add("missing-contact", cpath, obj)
            count = len(d.indicators_for_unit(unit))
            if count == 0:
                self.add("unit-without-indicators", path, obj)
            elif count > limit:
                extra = {"count": count}
                self.add("too-many-indicators", path, obj, extra, count=count, limit=limit)
        used = {u.sector for u in d.units}
        for i, sector in enumerate(d.sectors):
            if sector.code not in used:
                self.add("empty-sector", ("sectors", i), _name("sector", sector.code))

    def check_periods(self) -> None:
        previous: m.Period | None = None
        for i, period in enumerate(self.defn.periods):
            obj = _name("period", period.code)
            if period.deadline < period.end:
                self.add(
                    "deadline-before-period-end",
                    ("periods", i, "deadline"),
                    obj,
                    deadline=period.deadline.isoformat(),
                    end=period.end.isoformat(),
                )
            if previous is not None and period.end < previous.end:
                self.add(
                    "periods-unordered",
                    ("periods", i, "end"),
                    obj,
                    end=period.end.isoformat(),
                    previous=previous.code,
                    previous_end=previous.end.isoformat(),
                )
            previous = period


def _indicator_entries(defn: m.Definition) -> Iterator[IndicatorEntry]:
    for ai, area in enumerate(defn.focus_areas):
        for gi, goal in enumerate(area.goals):
            for fi, factor in enumerate(goal.factors):
                for ii, ind in enumerate(factor.indicators):
                    path = ("focus_areas", ai, "goals", gi, "factors", fi, "indicators", ii)
                    yield area, factor, ind, path


def _find_cycles(links: tuple[m.Link, ...]) -> list[tuple[list[str], int]]:
    """Cycles among ``links`` as (nodes starting at the lowest link index, that index)."""
    graph: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, link in enumerate(links):
        graph[link.source].append((link.target, i))
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = finished
    stack: list[str] = []
    edges: list[int] = []  # edges[k] leads from stack[k] to stack[k + 1]
    found: list[tuple[list[str], int]] = []
    seen: set[frozenset[int]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt, i in graph.get(node, []):
            if state.get(nxt) == 1:
                start = stack.index(nxt)
                nodes, cycle_edges = stack[start:], [*edges[start:], i]
                if frozenset(cycle_edges) not in seen:
                    seen.add(frozenset(cycle_edges))
                    k = cycle_edges.index(min(cycle_edges))
                    found.append((nodes[k:] + nodes[:k], min(cycle_edges)))
            elif nxt not in state:
                edges.append(i)
                visit(nxt)
                edges.pop()
        stack.pop()
        state[node] = 2

    for link in links:
        if link.source not in state:
            visit(link.source)
    return sorted(found, key=lambda c: c[1])


def _name(kind: str, code: str) -> str:
    return f"{t(f'definition.kind.{kind}')} {code}"


def _listing(codes: list[str], limit: int = 10) -> str:
    shown = ", ".join(codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def _percent(share: float) -> str:
    return f"{share * 100:.0f}"
