"""The scorecard definition as typed, validated objects (DESIGN §2). No I/O here.

Glossary (English identifier = Norwegian domain noun):
county = fylkeskommune/konsern, sector = sektor/divisjon, unit = enhet/virksomhet,
focus area = fokusområde, goal = fokusmål, factor = kritisk suksessfaktor,
indicator = styringsindikator, target = ambisjonsnivå, period = periode (tertial, år),
action = tiltak, assessment = vurdering.

Field validation (types, ranges, enumerations) happens here with pydantic; cross-object rules
(references, nesting, cycles, balance) are quality checks in :mod:`bms_excel.definition`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bms_excel.periods import PERIOD_PATTERN

Direction = Literal["higher", "lower", "range"]
Source = Literal["unit", "kostra", "controller"]
Frequency = Literal["tertial", "annual"]
Aggregation = Literal["sum", "mean", "weighted_mean", "median", "min", "max", "none"]
Timing = Literal["leading", "lagging"]
CommentRule = Literal["never", "when_red", "when_not_green", "always"]
StatusRuleKind = Literal["thresholds", "percent_of_target", "band", "none"]
IndicatorKind = Literal["number", "yes_no"]
Answer = Literal["yes", "no"]
PeriodKind = Literal["tertial", "annual", "month", "quarter"]

#: Codes must be safe in file names, sheet names and Excel formulas.
CODE_PATTERN = r"^[A-Za-z0-9ÆØÅæøå][A-Za-z0-9ÆØÅæøå_.\-]{0,39}$"
_NUMBER_RE = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*%?\s*$")
# A band written "5 – 4,5", "70 - 80 %", "70–80": two numbers joined by a dash.
_BAND_RE = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*%?\s*[-–—]\s*([+-]?\d+(?:[.,]\d+)?)\s*%?\s*$")

Code = Annotated[str, Field(pattern=CODE_PATTERN)]


def parse_definition_number(text: str) -> float:
    """Parse a number written in the definition: ``70``, ``4,5``, ``70 %`` (decimal comma allowed)."""
    m = _NUMBER_RE.match(text)
    if not m:
        raise ValueError(f"«{text}» er ikke et tall")
    return float(m.group(1).replace(",", "."))


class _Base(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False
    )


class Contact(_Base):
    """A person to send the workbook to and remind."""

    name: str
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: str | None = None


class County(_Base):
    """The county (or municipality) that owns the scorecard: the top of the organisation."""

    code: Code
    name: str
    org_number: Annotated[str, Field(pattern=r"^\d{9}$")] | None = None
    kostra_region: str | None = None
    contact: Contact | None = None


class Sector(_Base):
    """A sector / division (Opplæring, Samferdsel, ...)."""

    code: Code
    name: str


class Unit(_Base):
    """A reporting unit (virksomhet): a school, a department, county roads."""

    code: Code
    name: str
    sector: str
    contact: Contact | None = None
    attributes: dict[str, float] = Field(default_factory=dict)
    org_number: Annotated[str, Field(pattern=r"^\d{9}$")] | None = None
    kostra_region: str | None = None


class Target(_Base):
    """An ambition level: a single value, or a band ``low``–``high``.

    Written in YAML as a number (``70``), a text (``"70 %"``, ``"5 – 4,5"``) or a mapping
    (``{low: 70, high: 80}``). A band keeps the order it was written in (``text``) for display;
    ``low <= high`` always.
    """

    value: float | None = None
    low: float | None = None
    high: float | None = None
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError("ambisjonsnivå må være et tall eller et intervall")
        if isinstance(data, int | float):
            return {"value": float(data)}
        if isinstance(data, str):
            band = _BAND_RE.match(data)
            if band:
                a = float(band.group(1).replace(",", "."))
                b = float(band.group(2).replace(",", "."))
                return {"low": min(a, b), "high": max(a, b), "text": data}
            return {"value": parse_definition_number(data), "text": data}
        if isinstance(data, dict) and set(data) <= {"low", "high"} and data:
            return {**data, "text": None}
        return data

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.value is None and (self.low is None or self.high is None):
            raise ValueError("ambisjonsnivå må ha en verdi eller både low og high")
        if self.value is not None and (self.low is not None or self.high is not None):
            raise ValueError("ambisjonsnivå kan ikke ha både verdi og intervall")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("ambisjonsnivå: low kan ikke være større enn high")
        return self

    @property
    def is_band(self) -> bool:
        """True for a band (``low``–``high``), False for a single value."""
        return self.value is None


class Thresholds(_Base):
    """Explicit status limits: green from ``green``, yellow from ``yellow`` (mirrored for lower)."""

    green: float
    yellow: float


class TargetOverride(_Base):
    """A target (and optionally thresholds) for one unit, one sector and/or one period.

    ``county: true`` makes it a county-level target: it judges only the county value (Fylket,
    Oversikt), never a unit, and may be limited to one ``period``.
    """

    unit: str | None = None
    sector: str | None = None
    county: bool = False
    period: str | None = None
    target: Target | None = None
    thresholds: Thresholds | None = None

    @model_validator(mode="after")
    def _check(self) -> TargetOverride:
        if self.unit is None and self.sector is None and self.period is None and not self.county:
            raise ValueError(
                "et avvikende mål må gjelde en enhet, en sektor, fylket eller en periode"
            )
        if self.county and (self.unit is not None or self.sector is not None):
            raise ValueError("et avvikende mål for fylket (county) kan ikke også gjelde en enhet")
        if self.target is None and self.thresholds is None:
            raise ValueError("et avvikende mål må angi target eller thresholds")
        return self

    @property
    def specificity(self) -> int:
        """Higher wins: unit beats sector; a period-specific override beats a general one."""
        return (4 if self.unit else 2 if self.sector else 0) + (1 if self.period else 0)


class Scope(_Base):
    """Which units report an indicator: all (gjennomgående), some sectors, or named units.

    ``except`` (``except_`` in Python) names units left out of an otherwise chosen scope:
    ``{sectors: [OPP], except: [FAGOPPL]}``.
    """

    model_config = ConfigDict(**_Base.model_config, populate_by_name=True)

    all: bool = False
    sectors: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    county_only: bool = False
    except_: tuple[str, ...] = Field(default=(), alias="except")

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, data: Any) -> Any:
        if data == "all":
            return {"all": True}
        if data == "county":
            return {"county_only": True}
        return data

    @model_validator(mode="after")
    def _check(self) -> Scope:
        chosen = sum([self.all, bool(self.sectors or self.units), self.county_only])
        if chosen != 1:
            raise ValueError(
                "scope må være «all», «county», eller angi sectors og/eller units (ikke flere)"
            )
        if self.county_only and self.except_:
            raise ValueError("scope «county» kan ikke ha except")
        return self


class KostraSource(_Base):
    """Where an indicator with ``source: kostra`` finds its figure at Statistics Norway."""

    table: str
    contents: str
    region: str | None = None
    unit_regions: dict[str, str] = Field(default_factory=dict)
    comparison: tuple[str, ...] = ()


class Indicator(_Base):
    """A styringsindikator: what is measured, its target and how its status is judged.

    Targets: ``target``/``thresholds`` judge each unit's value; ``targets`` gives the
    economic plan's ambition per year (``{2026: "70 %", 2028: "75 %"}``), which replaces
    ``target`` in the periods of that year; ``overrides`` change it per unit, sector or
    period. ``county_target``/``county_thresholds`` (and overrides with ``county: true``)
    judge the county value; without them a ``sum`` or ``weighted_mean`` gets no colour at
    county level and the other aggregations fall back to the unit target
    (:func:`county_target_basis`).

    ``kind: yes_no`` is a yes/no question ("Plan vedtatt"): staff answer Ja/Nei, the
    ``wanted`` answer (``yes`` by default) is green, the other red; it has no target of its
    own, and its county value (the number of yes answers with ``aggregation: sum``) is judged
    only by a ``county_target``.
    """

    code: Code
    name: str
    kind: IndicatorKind = "number"
    wanted: Answer = "yes"
    description: str | None = None
    unit_of_measure: str = ""
    decimals: Annotated[int, Field(ge=0, le=6)] = 0
    valid_range: tuple[float, float] | None = None
    direction: Direction = "higher"
    target: Target | None = None
    thresholds: Thresholds | None = None
    targets: dict[int, Target] = Field(default_factory=dict)
    county_target: Target | None = None
    county_thresholds: Thresholds | None = None
    status_rule: StatusRuleKind | None = None
    tolerance: Annotated[float, Field(ge=0)] | None = None
    yellow_percent: Annotated[float, Field(gt=0, lt=100)] | None = None
    owner: str | None = None
    source: Source = "unit"
    frequency: Frequency = "tertial"
    aggregation: Aggregation = "mean"
    weight_by: str | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0
    scope: Scope = Field(default_factory=lambda: Scope(all=True))
    result_level: Annotated[int, Field(ge=0, le=4)] | None = None
    timing: Timing | None = None
    comment_required: CommentRule = "when_red"
    overrides: tuple[TargetOverride, ...] = ()
    kostra: KostraSource | None = None

    @field_validator("valid_range", mode="before")
    @classmethod
    def _range(cls, v: Any) -> Any:
        if isinstance(v, dict):
            if "min" not in v or "max" not in v:
                raise ValueError("valid_range må ha både min og max")
            return (v["min"], v["max"])
        return v

    @model_validator(mode="after")
    def _check(self) -> Indicator:
        if self.valid_range is not None and self.valid_range[0] > self.valid_range[1]:
            raise ValueError("valid_range: minste verdi er større enn største")
        if self.aggregation == "weighted_mean" and not self.weight_by:
            raise ValueError("aggregation weighted_mean krever weight_by (en enhetsattributt)")
        if self.source == "kostra" and self.kostra is None:
            raise ValueError("source: kostra krever en kostra-blokk (table, contents)")
        if self.kind == "yes_no" and (
            self.target is not None
            or self.thresholds is not None
            or self.targets
            or self.status_rule not in (None, "none")
            or any(o.unit or o.sector or (o.period and not o.county) for o in self.overrides)
        ):
            raise ValueError(
                "en ja/nei-indikator (kind: yes_no) har ikke target, thresholds eller "
                "status_rule; ønsket svar angis med wanted: yes/no"
            )
        if any(not 1900 <= year <= 2200 for year in self.targets):
            raise ValueError("targets: nøklene må være årstall (2026, 2027 …)")
        return self


class Factor(_Base):
    """A kritisk suksessfaktor (R1, B2 ...) with its indicators."""

    code: Code
    name: str
    weight: Annotated[float, Field(gt=0)] = 1.0
    indicators: tuple[Indicator, ...] = ()


class Goal(_Base):
    """A fokusmål under a focus area."""

    code: Code
    name: str
    weight: Annotated[float, Field(gt=0)] = 1.0
    factors: tuple[Factor, ...] = ()


class FocusArea(_Base):
    """A fokusområde (perspective): ordered, named, coloured."""

    code: Code
    name: str
    colour: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")] = "#1F4E79"
    description: str | None = None
    weight: Annotated[float, Field(gt=0)] = 1.0
    goals: tuple[Goal, ...] = ()


class Link(_Base):
    """A cause–effect link in the strategy map: ``from`` drives ``to`` (goal or factor codes)."""

    model_config = ConfigDict(**_Base.model_config, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    note: str | None = None


class Period(_Base):
    """A reporting period: ``2026-T1`` (tertial), ``2026`` (annual report)."""

    code: Annotated[str, Field(pattern=PERIOD_PATTERN)]
    label: str
    kind: PeriodKind = "tertial"
    start: dt.date | None = None
    end: dt.date
    deadline: dt.date

    @model_validator(mode="after")
    def _check(self) -> Period:
        if self.start is not None and self.start > self.end:
            raise ValueError("periodens start er etter slutt")
        return self

    @property
    def year(self) -> int:
        """The calendar year of the period."""
        return int(self.code[:4])


class Vision(_Base):
    """The county's vision (visjon) and the strategies toward it, shown on Veiledning and
    Oversikt: ``vision: {text: …, strategies: [… , …]}``."""

    text: str
    strategies: tuple[str, ...] = ()


class Settings(_Base):
    """Scorecard-wide settings."""

    language: Literal["nb", "nn", "en"] = "nb"
    max_indicators_per_unit: Annotated[int, Field(ge=1)] = 15
    yellow_percent: Annotated[float, Field(gt=0, lt=100)] = 90.0
    rollup_green: Annotated[float, Field(ge=0, le=100)] = 100.0
    rollup_yellow: Annotated[float, Field(ge=0, le=100)] = 50.0
    history_periods: Annotated[int, Field(ge=0, le=6)] = 3
    max_focus_area_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    min_outcome_share: Annotated[float, Field(ge=0, le=1)] = 0.25
    #: The first year of the economic plan (økonomiplan): yearly ``targets`` cover
    #: ``budget_year`` … ``budget_year + 3`` (:data:`PLAN_YEARS`); the plan's end target is
    #: shown beside each period's target.
    budget_year: Annotated[int, Field(ge=1900, le=2200)] | None = None


#: Years an economic plan covers: the budget year and the three after it.
PLAN_YEARS = 4


class Definition(_Base):
    """A whole scorecard definition (``definition.yaml``)."""

    version: Literal[1] = 1
    county: County
    vision: Vision | None = None
    settings: Settings = Field(default_factory=Settings)
    sectors: tuple[Sector, ...]
    units: tuple[Unit, ...]
    focus_areas: tuple[FocusArea, ...]
    links: tuple[Link, ...] = ()
    periods: tuple[Period, ...]

    # -- navigation -------------------------------------------------------------------------

    def iter_indicators(self) -> Iterator[tuple[FocusArea, Goal, Factor, Indicator]]:
        """Every indicator with its focus area, goal and factor, in definition order."""
        for area in self.focus_areas:
            for goal in area.goals:
                for factor in goal.factors:
                    for ind in factor.indicators:
                        yield area, goal, factor, ind

    def indicator(self, code: str) -> Indicator:
        """The indicator with ``code`` (``KeyError`` if none)."""
        for *_, ind in self.iter_indicators():
            if ind.code == code:
                return ind
        raise KeyError(code)

    def unit(self, code: str) -> Unit:
        """The unit with ``code`` (``KeyError`` if none)."""
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(code)

    def period(self, code: str) -> Period:
        """The period with ``code`` (``KeyError`` if none)."""
        for p in self.periods:
            if p.code == code:
                return p
        raise KeyError(code)

    def sector(self, code: str) -> Sector:
        """The sector with ``code`` (``KeyError`` if none)."""
        for s in self.sectors:
            if s.code == code:
                return s
        raise KeyError(code)

    def indicators_for_unit(self, unit: Unit) -> list[Indicator]:
        """The indicators a unit reports or is shown (its scope), in definition order."""
        return [ind for *_, ind in self.iter_indicators() if in_scope(ind, unit)]

    def units_for_indicator(self, ind: Indicator) -> list[Unit]:
        """The units in an indicator's scope."""
        return [u for u in self.units if in_scope(ind, u)]


#: Units of measure that count whole things: their values have no decimals (``bms check``
#: says ``count-with-decimals`` otherwise, and the workbook accepts only whole numbers).
COUNT_MEASURES: frozenset[str] = frozenset({"antall", "count", "number"})


def is_count(ind: Indicator) -> bool:
    """Whether ``ind`` counts whole things (``unit_of_measure: antall``, no decimals)."""
    return ind.unit_of_measure.strip().casefold() in COUNT_MEASURES and ind.decimals == 0


def in_scope(ind: Indicator, unit: Unit) -> bool:
    """Whether ``unit`` belongs to the scope of ``ind``."""
    s = ind.scope
    if s.county_only or unit.code in s.except_:
        return False
    if s.all:
        return True
    return unit.sector in s.sectors or unit.code in s.units


CountyTargetBasis = Literal["county", "unit", "none"]
#: Aggregations whose county value is on another scale than a unit's (a sum of five schools,
#: a mean weighted by pupils): the unit target cannot judge it.
_OWN_SCALE: frozenset[str] = frozenset({"sum", "weighted_mean"})


def county_target_basis(ind: Indicator) -> CountyTargetBasis:
    """What judges the county value of ``ind``.

    ``county``: its own county target (``county_target``, ``county_thresholds``, an override
    with ``county: true``, or the target of a county-only indicator); ``unit``: the unit
    target, for a mean, median, min or max; ``none``: no colour (a sum or weighted mean
    without a county target).
    """
    if ind.scope.county_only or ind.county_target is not None or ind.county_thresholds:
        return "county"
    if any(o.county for o in ind.overrides):
        return "county"
    return "none" if ind.aggregation in _OWN_SCALE or ind.kind == "yes_no" else "unit"


def period_year(period: str | None) -> int | None:
    """The year of a period code (``2026-T1`` → 2026), None without one."""
    return int(period[:4]) if period and period[:4].isdigit() else None


def year_target(ind: Indicator, period: str | None) -> Target | None:
    """The unit target before overrides: the economic plan's for the period's year, else
    ``target``."""
    year = period_year(period)
    if year is not None and year in ind.targets:
        return ind.targets[year]
    return ind.target


def plan_end_target(ind: Indicator, budget_year: int | None) -> tuple[int, Target] | None:
    """The economic plan's end target ``(year, target)``: the last yearly target within the
    plan (``budget_year`` … ``budget_year + 3``; all years without a budget year)."""
    years = [
        y for y in ind.targets if budget_year is None or budget_year <= y < budget_year + PLAN_YEARS
    ]
    if not years:
        return None
    return max(years), ind.targets[max(years)]


def matching_overrides(ind: Indicator, unit: Unit | None, period: str | None) -> tuple[int, ...]:
    """The positions in ``ind.overrides`` of those that apply to ``unit`` in ``period``.

    Units with the same tuple have the same target, thresholds and status rule, so it keys
    the caches of the thousands of units of a national run. ``unit`` None is the county:
    with a county target only ``county: true`` overrides apply to it, otherwise the general
    (period-only) ones; a county override never applies to a unit.
    """
    county_own = unit is None and county_target_basis(ind) == "county"
    county_only = ind.scope.county_only
    return tuple(
        i
        for i, o in enumerate(ind.overrides)
        if (o.unit is None or (unit is not None and o.unit == unit.code))
        and (o.sector is None or (unit is not None and o.sector == unit.sector))
        and ((county_only or o.county == county_own) if unit is None else not o.county)
        and (o.period is None or o.period == period)
    )


def effective_target(
    ind: Indicator, unit: Unit | None = None, period: str | None = None
) -> tuple[Target | None, Thresholds | None]:
    """The target and thresholds that apply to ``unit`` in ``period`` after overrides.

    The most specific matching override wins (unit > sector > general; a period-specific
    override beats one without a period); fields an override does not set are inherited.
    ``unit`` None is the county (:func:`county_target_basis`): its own county target, the
    unit target as a fallback, or none at all.
    """
    target, thresholds = ind.target, ind.thresholds
    if year_target(ind, period) is not ind.target:
        # A yearly ambition replaces the target; thresholds set for the old one go with it.
        target, thresholds = year_target(ind, period), None
    if unit is None:
        basis = county_target_basis(ind)
        if basis == "none":
            return None, None
        own = ind.county_target is not None or ind.county_thresholds is not None
        # A county-only indicator's target is the county's; a county target replaces it.
        if basis == "county" and (own or not ind.scope.county_only):
            target, thresholds = ind.county_target, ind.county_thresholds
    matching = [ind.overrides[i] for i in matching_overrides(ind, unit, period)]
    for o in sorted(matching, key=lambda o: o.specificity):
        if o.target is not None:
            # A new target without thresholds drops the old thresholds: they were set
            # relative to the old target, and status falls back to the target's own rule.
            target, thresholds = o.target, o.thresholds
        elif o.thresholds is not None:
            thresholds = o.thresholds
    return target, thresholds
