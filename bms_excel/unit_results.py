"""What the formulas of a unit workbook compute, in Python: their cached results.

Every formula the generator writes into a unit workbook (Målekort status, the hidden comment
and range flags, the Kontroll counts and «Klar til innsending») is computed here from the
cells it reads, with Excel's semantics for the few functions involved (``TRIM`` removes only
spaces, ``COUNTIF`` compares text case-insensitively, ``ISNUMBER`` is false for booleans). The
generator stores the results as the formulas' cached values (:mod:`bms_excel.xlsx.cached_formula`);
a real-client test recalculates the workbooks in LibreOffice and compares every cell.

No I/O and no openpyxl here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real

from bms_excel.i18n import t
from bms_excel.layout import UnitLayout
from bms_excel.status import (
    Status,
    StatusRule,
    classify_for,
    evaluate,
    percent_from_fraction,
    status_label,
)


@dataclass(frozen=True)
class UnitInputs:
    """What is in a unit workbook's input cells: nothing in a new one; a pre-filled one's values.

    ``results`` and ``comments`` by indicator code (the cell content as Excel stores it: a
    number, a text, ``None``), ``actions`` the Tiltak rows from the first (role → content).
    ``percent`` names the result cells that carry a percent format, as Excel's automatic
    percent entry leaves them (``68 %`` typed → 0.68 shown as a percentage).
    """

    results: Mapping[str, object] = field(default_factory=dict)
    comments: Mapping[str, object] = field(default_factory=dict)
    actions: tuple[Mapping[str, object], ...] = ()
    percent: frozenset[str] = frozenset()


@dataclass
class ScorecardResults:
    """What Målekort's formulas and fixed status texts hold, for the Kontroll counts."""

    status_cells: list[object] = field(default_factory=list)
    comment_flags: list[int] = field(default_factory=list)
    range_flags: list[int] = field(default_factory=list)


def _is_number(raw: object) -> bool:
    """Excel's ``ISNUMBER``: true for numbers (dates are numbers), false for booleans and text."""
    return isinstance(raw, Real) and not isinstance(raw, bool) and math.isfinite(float(raw))


def _len_trim(raw: object) -> int:
    """Excel's ``LEN(TRIM(x))``, as far as "is it empty" goes."""
    if raw is None:
        return 0
    if isinstance(raw, str):
        return len(" ".join(part for part in raw.split(" ") if part))
    return 1  # a number, a date or a boolean shows as some text


def percent_entry(raw: object, percent_formatted: bool) -> object:
    """A cell's content as a ``%`` indicator's formulas read it: a percent-formatted number
    times 100 (:func:`bms_excel.status.percent_entry_value`), anything else as it is."""
    if percent_formatted and _is_number(raw):
        return percent_from_fraction(float(raw))  # type: ignore[arg-type]
    return raw


def status_result(rule: StatusRule, raw: object, lang: str) -> str:
    """The status label the status formula shows for the cell content ``raw``."""
    return status_label(evaluate(rule, classify_for(rule, raw)), lang)


def comment_missing_result(rule: str, status: str, comment: object, lang: str) -> int:
    """The hidden flag: 1 when the comment rule wants a comment that is blank, else 0."""
    red, yellow = status_label(Status.RED, lang), status_label(Status.YELLOW, lang)
    shown = status.casefold()
    wanted = {
        "never": False,
        "when_red": shown == red.casefold(),
        "when_not_green": shown in (red.casefold(), yellow.casefold()),
        "always": True,
    }[rule]
    return 1 if wanted and _len_trim(comment) == 0 else 0


def out_of_range_result(valid_range: tuple[float, float] | None, raw: object) -> int:
    """The hidden flag: 1 when the cell holds a number outside the valid range, else 0."""
    if valid_range is None or not _is_number(raw):
        return 0
    low, high = valid_range
    value = float(raw)  # type: ignore[arg-type]
    return 1 if value < low or value > high else 0


def _countif(cells: Iterable[object], label: str) -> int:
    wanted = label.casefold()
    return sum(1 for v in cells if isinstance(v, str) and v.casefold() == wanted)


def control_results(
    layout: UnitLayout,
    status_cells: Iterable[object],
    comment_flags: Iterable[int],
    range_flags: Iterable[int],
    actions: Sequence[Mapping[str, object]] = (),
) -> dict[str, object]:
    """Kontroll cell → result of its formula (counts, fix texts, readiness).

    ``status_cells`` are the contents of Målekort's status column (formula results and fixed
    texts), the flags the hidden helper columns, ``actions`` the Tiltak rows (role → content).
    """
    lang, ctl = layout.language, layout.control
    statuses = list(status_cells)
    with_action = [row for row in actions if _len_trim(row.get("action")) > 0]
    counts = {
        "missing": _countif(statuses, status_label(Status.MISSING, lang)),
        "invalid": _countif(statuses, status_label(Status.INVALID, lang)) + sum(range_flags),
        "comment": sum(comment_flags),
        "owner": sum(1 for row in with_action if _len_trim(row.get("responsible")) == 0),
        "deadline": sum(1 for row in with_action if row.get("deadline") in (None, "")),
    }
    out: dict[str, object] = {}
    ok = t("wb.control.ok", lang)
    for check in ctl.checks:
        n = counts[check.key]
        out[check.count_ref] = n
        out[check.fix_ref] = t(f"wb.control.{check.key}.fix", lang) if n > 0 else ok
    ready = sum(counts[c.key] for c in ctl.checks) == 0
    out[ctl.ready.count_ref] = t("wb.control.yes" if ready else "wb.control.no", lang)
    out[ctl.ready.fix_ref] = t("wb.control.ready.yes" if ready else "wb.control.ready.no", lang)
    return out
