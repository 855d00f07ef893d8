"""Targets and status limits as text, written one way everywhere (unit workbooks and master).

``7 – 9``, ``80 % – 85 %``, ``−1 – 1``: an en dash with spaces between the ends of a band, a
real minus sign, a percent sign on each end when the indicator is measured in percent, and
the indicator's own decimals. Status is judged on the value as displayed (rounded to those
decimals), so a limit is shown as the first displayed value that meets it: with one decimal,
"yellow from 4,05" is "Gul ≥ 4,1" (a lower bound rounds up, an upper bound down).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Literal

from babel.numbers import format_decimal

from bms_excel.i18n import t
from bms_excel.model import Indicator, Target, plan_end_target
from bms_excel.status import StatusRule

_LOCALES = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}
MINUS = "\u2212"
DASH = " \u2013 "
#: A band as a definition writes it (as ``model.Target`` reads it): ``7-9``, ``5 – 4,5``.
_BAND = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*%?\s*[-–—]\s*([+-]?\d+(?:[.,]\d+)?)")

Bound = Literal["lower", "upper", "nearest"]


def _rounded(value: float, decimals: int, bound: Bound) -> float:
    """``value`` at ``decimals``: up for a lower bound, down for an upper, else half up."""
    scale = 10**decimals
    scaled = round(value * scale, 9)  # 4.05 * 10 is 40.49999…: not a reason to round to 4.0
    if bound == "lower":
        return math.ceil(scaled) / scale
    if bound == "upper":
        return math.floor(scaled) / scale
    return math.floor(scaled + 0.5) / scale


def format_limit(
    value: float,
    decimals: int,
    lang: str | None = None,
    *,
    percent: bool = False,
    bound: Bound = "nearest",
) -> str:
    """One number of a target or limit: ``1 234,5``, ``−1``, ``85 %``."""
    number = _rounded(value, decimals, bound)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(
        Decimal(repr(number)), format=pattern, locale=_LOCALES.get(lang or "nb", "nb_NO")
    )
    text = text.replace("-", MINUS)
    if text.strip(MINUS + "0,.") == "":  # "−0" is 0
        text = text.lstrip(MINUS)
    return f"{text} %" if percent else text


def format_band(
    low: float,
    high: float,
    decimals: int,
    lang: str | None = None,
    *,
    percent: bool = False,
    descending: bool = False,
) -> str:
    """A band ``low – high`` (``high – low`` when ``descending``, as a 1–6 scale is written)."""
    a = format_limit(low, decimals, lang, percent=percent, bound="lower")
    b = format_limit(high, decimals, lang, percent=percent, bound="upper")
    return f"{b}{DASH}{a}" if descending else f"{a}{DASH}{b}"


def is_percent(ind: Indicator) -> bool:
    """Whether ``ind`` is measured in percent (its limits then carry ``%``)."""
    return ind.unit_of_measure.strip() == "%"


def target_text(target: Target | None, ind: Indicator, lang: str | None = None) -> str:
    """The ambition level as shown: ``70``, ``80 % – 85 %``, ``5 – 4,5`` (its written order)."""
    if target is None:
        return "–"
    percent = is_percent(ind) or "%" in (target.text or "")
    if target.value is not None:
        return format_limit(target.value, ind.decimals, lang, percent=percent)
    assert target.low is not None and target.high is not None
    band = _BAND.match(target.text or "")
    first, second = (float(g.replace(",", ".")) for g in band.groups()) if band else (0.0, 0.0)
    descending = first > second
    return format_band(
        target.low, target.high, ind.decimals, lang, percent=percent, descending=descending
    )


def limits_text(rule: StatusRule, ind: Indicator, lang: str | None = None) -> str:
    """The status limits of ``rule`` in words: ``Grønn ≥ 85 % · Gul ≥ 80 %``."""
    percent, decimals = is_percent(ind), ind.decimals
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        bound: Bound = "lower" if rule.direction == "higher" else "upper"
        return t(
            f"wb.limits.{rule.direction}",
            lang,
            green=format_limit(rule.green, decimals, lang, percent=percent, bound=bound),
            yellow=format_limit(rule.yellow, decimals, lang, percent=percent, bound=bound),
        )
    if rule.kind == "band":
        assert rule.low is not None and rule.high is not None
        return t(
            "wb.limits.band",
            lang,
            band=format_band(rule.low, rule.high, decimals, lang, percent=percent),
            tolerance=format_limit(rule.tolerance, max(decimals, 0), lang, percent=percent),
        )
    if rule.kind == "yes_no":
        return t("wb.limits.yes_no", lang, answer=t(f"wb.answer.{rule.wanted}", lang))
    return t("wb.limits.none", lang)


def plan_target_text(ind: Indicator, budget_year: int | None, lang: str | None = None) -> str:
    """The economic plan's end target (``Økonomiplan 2028: 75 %``), "" without yearly targets."""
    end = plan_end_target(ind, budget_year)
    if end is None:
        return ""
    year, target = end
    return t("wb.plan-end", lang, year=year, target=target_text(target, ind, lang))
