"""The status engine (DESIGN §3): one set of pure rules for Python and for Excel formulas.

An indicator's definition resolves to a :class:`StatusRule`; a cell's content is classified
(number, missing, not applicable, invalid) and evaluated on the value *as displayed*, i.e.
rounded half away from zero to the indicator's decimals like Excel's ``ROUND``. Scores (0–100)
roll up by weighted mean. :func:`excel_status_formula` and :func:`excel_score_formula` emit
Excel 2007 formulas that give exactly what :func:`evaluate` and :func:`score` give; the test
suite proves it by recalculating in LibreOffice.

No I/O and no openpyxl here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from numbers import Real
from typing import Literal

from bms_excel.i18n import t
from bms_excel.model import (
    Indicator,
    Settings,
    Target,
    Thresholds,
    Unit,
    county_target_basis,
    effective_target,
)


class Status(StrEnum):
    """The status of one value; only green, yellow and red are colours."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NO_TARGET = "no-target"
    MISSING = "missing"
    NOT_APPLICABLE = "not-applicable"
    INVALID = "invalid"


class Trend(StrEnum):
    """Direction of travel compared with the previous period."""

    IMPROVED = "improved"
    WORSENED = "worsened"
    UNCHANGED = "unchanged"


#: Lower-case, trimmed cell texts that mean "not applicable" (i.a.).
#: What staff type for "not applicable"; the one list the workbook formulas, its input validation
#: and the collector share (Word and Outlook turn a typed "-" into an en or em dash).
NOT_APPLICABLE_WORDS: tuple[str, ...] = (
    "i.a.",
    "ia",
    "ikke aktuelt",
    "ikkje aktuelt",
    "-",
    "–",
    "—",
    "n/a",
)

#: What staff type for yes and for no in a yes/no indicator (bokmål, nynorsk, English); the
#: one list the status formula, the input dropdown and the collector share.
YES_WORDS: tuple[str, ...] = ("ja", "yes", "j", "y")
NO_WORDS: tuple[str, ...] = ("nei", "no", "n")

#: Fill and font colour (hex RGB) of each status in every workbook: unit workbooks and the
#: master colour traffic lights the same way (the text stays, for grey-scale print).
STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.GREEN: ("C6EFCE", "006100"),
    Status.YELLOW: ("FFEB9C", "7F6000"),
    Status.RED: ("FFC7CE", "9C0006"),
    Status.INVALID: ("F4B183", "833C0B"),
    Status.MISSING: ("EDEDED", "404040"),
    Status.NOT_APPLICABLE: ("EDEDED", "404040"),
    Status.NO_TARGET: ("EDEDED", "404040"),
}
COLOURS: frozenset[Status] = frozenset({Status.GREEN, Status.YELLOW, Status.RED})
# Scores are rounded to this many decimals; the caps keep a yellow score below 100 and a red
# score below 50 even when rounding would lift it onto the next colour's floor.
SCORE_DECIMALS = 9
_YELLOW_CAP = 99.999999999
_RED_CAP = 49.999999999
# Derived limits are rounded so that Python and Excel compare against the same literal.
_LIMIT_DECIMALS = 10
_REF_KEYS = frozenset({"green", "yellow", "low", "high", "tolerance"})


@dataclass(frozen=True)
class StatusRule:
    """How values of one indicator (for one unit and period) are coloured."""

    kind: Literal["thresholds", "band", "none", "yes_no"]
    origin: Literal["thresholds", "percent_of_target", "band", "none", "yes_no"]
    direction: Literal["higher", "lower", "range"]
    decimals: int
    green: float | None = None
    yellow: float | None = None
    low: float | None = None
    high: float | None = None
    tolerance: float = 0.0
    #: A yes/no rule: the answer that is green (the other is red).
    wanted: Literal["yes", "no"] = "yes"

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= 9:
            raise ValueError(f"decimals must be between 0 and 9, not {self.decimals}")
        if self.kind == "thresholds":
            if self.green is None or self.yellow is None:
                raise ValueError("a thresholds rule needs both green and yellow limits")
            _check_finite(self.green, self.yellow)
            if self.direction == "range":
                raise ValueError("thresholds need direction 'higher' or 'lower', not 'range'")
            sign = 1 if self.direction == "higher" else -1
            if sign * self.green < sign * self.yellow:
                raise ValueError(
                    f"thresholds green={self.green}, yellow={self.yellow} disagree with "
                    f"direction {self.direction!r} (green must be the better limit)"
                )
        elif self.kind == "band":
            if self.low is None or self.high is None:
                raise ValueError("a band rule needs both low and high")
            _check_finite(self.low, self.high, self.tolerance)
            if self.low > self.high:
                raise ValueError(f"band low ({self.low}) is above high ({self.high})")
            if self.tolerance < 0:
                raise ValueError(f"tolerance must not be negative, not {self.tolerance}")

    @property
    def outer(self) -> tuple[float, float]:
        """A band's yellow limits: the band widened by the tolerance (rounded to 10 decimals)."""
        assert self.low is not None and self.high is not None
        if self.tolerance == 0:
            return self.low, self.high
        return (
            round(self.low - self.tolerance, _LIMIT_DECIMALS),
            round(self.high + self.tolerance, _LIMIT_DECIMALS),
        )


def _check_finite(*values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"status limits must be finite numbers, not {values}")


def resolve_rule(
    ind: Indicator, settings: Settings, unit: Unit | None = None, period: str | None = None
) -> StatusRule:
    """The status rule of ``ind`` for ``unit`` in ``period`` after target overrides.

    Raises ``ValueError`` (English, for the definition checker) for an impossible combination.
    """
    if ind.kind == "yes_no" and (unit is not None or ind.scope.county_only):
        return StatusRule("yes_no", "yes_no", "higher", 0, wanted=ind.wanted)
    target, thresholds = effective_target(ind, unit, period)
    if (
        unit is None
        and target is None
        and thresholds is None
        and county_target_basis(ind) != "unit"
        and not ind.scope.county_only
    ):
        # The county value without a county target (model.county_target_basis): no colour.
        return StatusRule("none", "none", ind.direction, ind.decimals)
    try:
        return _resolve(ind, settings, target, thresholds)
    except ValueError as exc:
        raise ValueError(f"indicator {ind.code}: {exc}") from exc


def _resolve(
    ind: Indicator, settings: Settings, target: Target | None, thresholds: Thresholds | None
) -> StatusRule:
    direction, decimals, kind = ind.direction, ind.decimals, ind.status_rule
    if kind == "none" or (kind is None and target is None and thresholds is None):
        return StatusRule("none", "none", direction, decimals)
    if kind is None:
        if direction == "range":
            kind = "band"
        elif thresholds is not None or (target is not None and target.is_band):
            kind = "thresholds"  # explicit limits, or a band read as green/yellow limits
        else:
            kind = "percent_of_target"

    if kind == "band":
        if target is None:
            raise ValueError("a band status rule needs a target (a value or a band)")
        low, high = (target.low, target.high) if target.is_band else (target.value, target.value)
        tolerance = ind.tolerance or 0.0
        return StatusRule(
            "band", "band", direction, decimals, low=low, high=high, tolerance=tolerance
        )
    if direction == "range":
        raise ValueError(f"status rule {kind!r} cannot be used with direction 'range'")
    if kind == "thresholds":
        if thresholds is not None:
            green, yellow = thresholds.green, thresholds.yellow
            origin: Literal["thresholds", "band"] = "thresholds"
        elif target is not None and target.low is not None and target.high is not None:
            higher = direction == "higher"
            green, yellow = (target.high, target.low) if higher else (target.low, target.high)
            origin = "band"
        else:
            raise ValueError("a thresholds status rule needs thresholds or a target band")
        return StatusRule("thresholds", origin, direction, decimals, green=green, yellow=yellow)
    if target is None or target.value is None:
        raise ValueError("a percent_of_target status rule needs a single target value")
    value = target.value
    p = (ind.yellow_percent or settings.yellow_percent) / 100
    # Below a negative target, "90 % of it" would lie above it: mirror so yellow stays worse.
    worse_higher = value * p if value >= 0 else value * (2 - p)
    worse_lower = value * (2 - p) if value >= 0 else value * p
    yellow = round(worse_higher if direction == "higher" else worse_lower, _LIMIT_DECIMALS)
    return StatusRule(
        "thresholds", "percent_of_target", direction, decimals, green=value, yellow=yellow
    )


def round_displayed(value: float, decimals: int) -> float:
    """``value`` as Excel displays and ``ROUND``s it: 15 significant digits, half away from zero."""
    if not math.isfinite(value) or value == 0:
        return float(value) + 0.0
    exact = Decimal(f"{value:.15g}")
    if exact.adjusted() >= 14:  # 15 significant digits leave no fraction to round
        return float(exact)
    quantum = Decimal(1).scaleb(-decimals)
    return float(exact.quantize(quantum, rounding=ROUND_HALF_UP)) + 0.0  # no -0.0


def _excel_trim(text: str) -> str:
    # Excel's TRIM removes only spaces (and collapses inner runs); the formula first turns
    # tab, line feed and carriage return into spaces. Python must do exactly the same.
    text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    return " ".join(part for part in text.split(" ") if part)


def classify_input(raw: object) -> float | Status:
    """A cell's content as a number or as missing / not applicable / invalid."""
    if isinstance(raw, Status):
        return raw
    if raw is None:
        return Status.MISSING
    if isinstance(raw, bool):
        return Status.INVALID
    if isinstance(raw, Real | Decimal):
        number = float(raw)
        return number if math.isfinite(number) else Status.INVALID
    if isinstance(raw, str):
        text = _excel_trim(raw).lower()
        if not text:
            return Status.MISSING
        return Status.NOT_APPLICABLE if text in NOT_APPLICABLE_WORDS else Status.INVALID
    return Status.INVALID


def classify_answer(raw: object) -> float | Status:
    """A yes/no cell's content: 1 for yes, 0 for no (any :data:`YES_WORDS`/:data:`NO_WORDS`),
    else as :func:`classify_input` reads it."""
    if isinstance(raw, str):
        text = _excel_trim(raw).lower()
        if text in YES_WORDS:
            return 1.0
        if text in NO_WORDS:
            return 0.0
    return classify_input(raw)


def classify_for(rule: StatusRule, raw: object) -> float | Status:
    """A cell's content as ``rule`` reads it (yes/no words only for a yes/no rule)."""
    return classify_answer(raw) if rule.kind == "yes_no" else classify_input(raw)


def _as_number(value: float | Status | None) -> float | Status:
    if value is None:
        return Status.MISSING
    if isinstance(value, Status):
        return value
    return classify_input(value)


def evaluate(rule: StatusRule, value: float | Status | None) -> Status:
    """The status of ``value`` (rounded as displayed) under ``rule``."""
    number = _as_number(value)
    if isinstance(number, Status):
        return number
    if rule.kind == "none":
        return Status.NO_TARGET
    if rule.kind == "yes_no":
        if number not in (0.0, 1.0):
            return Status.INVALID
        return Status.GREEN if (number == 1.0) == (rule.wanted == "yes") else Status.RED
    shown = round_displayed(number, rule.decimals)
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        sign = 1 if rule.direction == "higher" else -1  # lower is better: mirror
        if sign * shown >= sign * rule.green:
            return Status.GREEN
        return Status.YELLOW if sign * shown >= sign * rule.yellow else Status.RED
    assert rule.low is not None and rule.high is not None
    if rule.low <= shown <= rule.high:
        return Status.GREEN
    outer_low, outer_high = rule.outer
    return Status.YELLOW if outer_low <= shown <= outer_high else Status.RED


def score(rule: StatusRule, value: float | Status | None) -> float | None:
    """The 0–100 score of ``value`` (100 green, 50–<100 yellow, <50 red); None when no colour."""
    number = _as_number(value)
    status = evaluate(rule, number)
    if isinstance(number, Status) or status not in COLOURS:
        return None
    if status is Status.GREEN:
        return 100.0
    if rule.kind == "yes_no":
        return 0.0
    shown = round_displayed(number, rule.decimals)
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        if rule.green == rule.yellow:
            return 0.0
        # One expression for both directions: (shown-yellow)/(green-yellow) is the share of
        # the way from yellow to green. Written in the same order as the Excel formula.
        linear = 50 + 50 * (shown - rule.yellow) / (rule.green - rule.yellow)
    else:
        assert rule.low is not None and rule.high is not None
        if rule.tolerance == 0:
            return 0.0
        distance = rule.low - shown if shown < rule.low else shown - rule.high
        linear = 100 - 50 * distance / rule.tolerance
    rounded = round_displayed(linear, SCORE_DECIMALS)
    if status is Status.YELLOW:
        return min(_YELLOW_CAP, max(50.0, rounded))
    return max(0.0, min(_RED_CAP, rounded))


def status_from_score(
    score: float | None, green_at: float = 100.0, yellow_at: float = 50.0
) -> Status:
    """The colour of a (rolled-up) score; ``MISSING`` when there is no score."""
    if score is None or not math.isfinite(score):
        return Status.MISSING
    rounded = round_displayed(score, SCORE_DECIMALS)
    if rounded >= green_at:
        return Status.GREEN
    return Status.YELLOW if rounded >= yellow_at else Status.RED


def rollup(children: Iterable[tuple[float | None, float]]) -> float | None:
    """Weighted mean of ``(score, weight)`` pairs; children without a score are ignored."""
    scored = []
    for child_score, weight in children:
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"roll-up weights must be finite and not negative, not {weight}")
        if child_score is not None and math.isfinite(child_score):
            scored.append((child_score, weight))
    # Exact arithmetic: the mean is independent of order and n identical children give
    # exactly the child (math.fsum alone still rounds each product and the quotient). Every
    # float is n / 2**e, so the sums are exact integers over a common power of two, and
    # Python's int / int is correctly rounded: the same result as fractions.Fraction, without
    # its gcd on every step (a national run rolls up tens of thousands of nodes).
    if not scored:
        return None
    weights = [_binary(w) for _, w in scored]
    w_exp = max(e for _, e in weights)
    total = sum(n << (w_exp - e) for n, e in weights)
    if total <= 0:
        return None
    products = [
        (sn * wn, se + we)
        for (sn, se), (wn, we) in zip(map(_binary, (s for s, _ in scored)), weights, strict=True)
    ]
    p_exp = max(e for _, e in products)
    numerator = sum(n << (p_exp - e) for n, e in products)
    return (numerator << w_exp) / (total << p_exp)


def _binary(x: float) -> tuple[int, int]:
    """``x`` as ``(n, e)`` with ``x == n / 2**e`` exactly (a float's denominator is a power of 2)."""
    n, d = x.as_integer_ratio()
    return n, d.bit_length() - 1


def _distance_to_band(rule: StatusRule, value: float) -> Decimal | None:
    if rule.low is None or rule.high is None:
        return None
    # Decimal arithmetic on the shown digits: 0.3 - 0.1 must equal 0.2 here.
    v, low, high = (Decimal(repr(x)) for x in (value, rule.low, rule.high))
    return max(low - v, v - high, Decimal(0))


def direction_of_travel(
    rule: StatusRule, current: float | Status | None, previous: float | Status | None
) -> Trend | None:
    """Improved / worsened / unchanged between two displayed values; None if one is no number."""
    now, before = _as_number(current), _as_number(previous)
    if isinstance(now, Status) or isinstance(before, Status):
        return None
    now, before = round_displayed(now, rule.decimals), round_displayed(before, rule.decimals)
    if now == before:
        return Trend.UNCHANGED
    if rule.direction == "higher":
        return Trend.IMPROVED if now > before else Trend.WORSENED
    if rule.direction == "lower":
        return Trend.IMPROVED if now < before else Trend.WORSENED
    d_now, d_before = _distance_to_band(rule, now), _distance_to_band(rule, before)
    if d_now is None or d_before is None:
        return None
    if d_now == d_before:
        return Trend.UNCHANGED
    return Trend.IMPROVED if d_now < d_before else Trend.WORSENED


def status_label(status: Status, lang: str = "nb") -> str:
    """The user-visible label of ``status`` (``Grønn``, ``Mangler`` ...)."""
    return t(f"status.{status}", lang)


# -- Excel formulas ---------------------------------------------------------------------------
# Excel 2007 functions only, English names, "," separators. Limits are literals computed in
# Python (LibreOffice compares with approxEqual and subtracts with approxSub, Python does not;
# literals keep both sides on the same numbers), or cell references given in ``refs``.


def _num(x: float) -> str:
    text = repr(float(x) + 0.0)
    text = text.removesuffix(".0").replace("e", "E")
    return f"({text})" if text.startswith("-") else text


def _str(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _limits(rule: StatusRule, refs: Mapping[str, str] | None) -> dict[str, str]:
    refs = dict(refs or {})
    unknown = set(refs) - _REF_KEYS
    if unknown:
        raise ValueError(f"unknown refs {sorted(unknown)}; use {sorted(_REF_KEYS)}")
    out = {}
    for key in _REF_KEYS:
        literal = getattr(rule, key)
        out[key] = refs[key] if key in refs else ("" if literal is None else _num(literal))
    if rule.kind == "band":
        outer_low, outer_high = rule.outer
        if {"low", "tolerance"} & refs.keys():
            out["outer_low"] = f"({out['low']}-{out['tolerance']})"
        else:
            out["outer_low"] = _num(outer_low)
        if {"high", "tolerance"} & refs.keys():
            out["outer_high"] = f"({out['high']}+{out['tolerance']})"
        else:
            out["outer_high"] = _num(outer_high)
    return out


def _conditions(rule: StatusRule, shown: str, lim: dict[str, str]) -> tuple[str, str]:
    """The Excel conditions for green and for yellow (given not green)."""
    if rule.kind == "thresholds":
        op = ">=" if rule.direction == "higher" else "<="
        return f"{shown}{op}{lim['green']}", f"{shown}{op}{lim['yellow']}"
    green = f"AND({shown}>={lim['low']},{shown}<={lim['high']})"
    yellow = f"AND({shown}>={lim['outer_low']},{shown}<={lim['outer_high']})"
    return green, yellow


def percent_entry_value(value_ref: str) -> str:
    """The number a ``%`` indicator's cell means: a percent-formatted fraction times 100.

    Typing ``68 %`` into a cell makes Excel store 0.68 with a percent format;
    ``CELL("format", …)`` starts with ``P`` for exactly those formats (Excel and LibreOffice).
    The product is rounded as :func:`percent_from_fraction` rounds it.
    """
    scaled = f"ROUND({value_ref}*100,{_PERCENT_DECIMALS})"
    return f'IF(LEFT(CELL("format",{value_ref}),1)="P",{scaled},{value_ref})'


#: 0.145 * 100 is 14.499999999999998 in binary: without rounding the product, "14,5 %" would
#: be judged as 14 (and LibreOffice and Excel disagree that close to a tie).
_PERCENT_DECIMALS = 10


def percent_from_fraction(fraction: float) -> float:
    """The percentage a percent-formatted fraction shows (0.145 → 14.5), as the formulas get it."""
    return round_displayed(fraction * 100, _PERCENT_DECIMALS)


def excel_status_formula(
    rule: StatusRule,
    value_ref: str,
    lang: str = "nb",
    refs: Mapping[str, str] | None = None,
    *,
    percent_entry: bool = False,
    labels: Mapping[Status, str] | None = None,
) -> str:
    """An Excel formula giving ``status_label(evaluate(rule, classify_input(cell)), lang)``.

    With ``percent_entry`` a percent-formatted number is judged times 100 (Excel's automatic
    percent entry, see :func:`percent_entry_value`), as the collector reads it. ``labels``
    replaces the text of some statuses (Fylket's "Uten fylkesmål" for :attr:`Status.NO_TARGET`).
    """
    label = {s: _str((labels or {}).get(s) or status_label(s, lang)) for s in Status}
    lim = _limits(rule, refs)
    text = f'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE({value_ref},CHAR(9)," "),CHAR(10)," "),CHAR(13)," ")'
    norm = f"LOWER(TRIM({text}))"
    if rule.kind == "yes_no":
        return _yes_no_formula(rule, value_ref, norm, label)
    if rule.kind == "none":
        numeric = label[Status.NO_TARGET]
    else:
        number = percent_entry_value(value_ref) if percent_entry else value_ref
        shown = f"ROUND({number},{rule.decimals})"
        green, yellow = _conditions(rule, shown, lim)
        numeric = (
            f"IF({green},{label[Status.GREEN]},"
            f"IF({yellow},{label[Status.YELLOW]},{label[Status.RED]}))"
        )
    not_applicable = ",".join(f"{norm}={_str(word)}" for word in NOT_APPLICABLE_WORDS)
    formula = (
        f"=IF(ISNUMBER({value_ref}),{numeric},"
        f"IF(ISERROR({value_ref}),{label[Status.INVALID]},"
        f'IF({norm}="",{label[Status.MISSING]},'
        f"IF(OR({not_applicable}),{label[Status.NOT_APPLICABLE]},{label[Status.INVALID]}))))"
    )
    _check_length(formula)
    return formula


def _yes_no_formula(rule: StatusRule, value_ref: str, norm: str, label: dict[Status, str]) -> str:
    """The status formula of a yes/no rule: 1 or a yes word is yes, 0 or a no word is no."""
    yes, no = (
        (label[Status.GREEN], label[Status.RED])
        if rule.wanted == "yes"
        else (label[Status.RED], label[Status.GREEN])
    )
    yes_words = ",".join(f"{norm}={_str(w)}" for w in YES_WORDS)
    no_words = ",".join(f"{norm}={_str(w)}" for w in NO_WORDS)
    not_applicable = ",".join(f"{norm}={_str(w)}" for w in NOT_APPLICABLE_WORDS)
    formula = (
        f"=IF(ISNUMBER({value_ref}),IF({value_ref}=1,{yes},IF({value_ref}=0,{no},"
        f"{label[Status.INVALID]})),"
        f"IF(ISERROR({value_ref}),{label[Status.INVALID]},"
        f'IF({norm}="",{label[Status.MISSING]},'
        f"IF(OR({yes_words}),{yes},IF(OR({no_words}),{no},"
        f"IF(OR({not_applicable}),{label[Status.NOT_APPLICABLE]},{label[Status.INVALID]}))))))"
    )
    _check_length(formula)
    return formula


def excel_score_formula(
    rule: StatusRule, value_ref: str, refs: Mapping[str, str] | None = None
) -> str:
    """An Excel formula giving ``score(rule, classify_input(cell))``, or ``""`` without colour."""
    lim = _limits(rule, refs)
    if rule.kind == "none":
        return '=""'
    if rule.kind == "yes_no":
        # The score of an answer: 100 for the wanted one, 0 for the other (numbers 1/0 only,
        # as the master holds them; a unit workbook has no score cells).
        good, bad = ("1", "0") if rule.wanted == "yes" else ("0", "1")
        return (
            f'=IF(ISNUMBER({value_ref}),IF({value_ref}={good},100,IF({value_ref}={bad},0,"")),"")'
        )
    refs = refs or {}
    shown = f"ROUND({value_ref},{rule.decimals})"
    green, yellow = _conditions(rule, shown, lim)
    if rule.kind == "thresholds":
        linear = f"50+50*({shown}-{lim['yellow']})/({lim['green']}-{lim['yellow']})"
        if {"green", "yellow"} & refs.keys():
            linear = f"IF({lim['green']}={lim['yellow']},0,{linear})"
        elif rule.green == rule.yellow:
            linear = "0"
    else:
        distance = f"IF({shown}<{lim['low']},{lim['low']}-{shown},{shown}-{lim['high']})"
        linear = f"100-50*{distance}/{lim['tolerance']}"
        if "tolerance" in refs:
            linear = f"IF({lim['tolerance']}>0,{linear},0)"
        elif rule.tolerance == 0:
            linear = "0"
    rounded = f"ROUND({linear},{SCORE_DECIMALS})"
    formula = (
        f"=IF(ISNUMBER({value_ref}),IF({green},100,IF({yellow},"
        f"MIN({_num(_YELLOW_CAP)},MAX(50,{rounded})),"
        f'MAX(0,MIN({_num(_RED_CAP)},{rounded})))),"")'
    )
    _check_length(formula)
    return formula


def _check_length(formula: str) -> None:
    # Excel refuses formulas longer than 8192 characters (the "repair" dialog).
    if len(formula) >= 8192:
        raise ValueError(f"formula is {len(formula)} characters; Excel allows at most 8191")
