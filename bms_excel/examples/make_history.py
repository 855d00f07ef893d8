"""Generate the bundled examples' ``history.csv`` (seeded, so re-running gives the same file).

Run from the repository root::

    python -m bms_excel.examples.make_history            # all examples
    python -m bms_excel.examples.make_history stfk       # one example

For every unit and every indicator in its scope that the unit reports itself (``source:
unit``), a value is written for each history period: tertial indicators in every period,
annual indicators only in the annual period (årsrapport). Values scatter around the effective
target (overrides applied) by a per-unit quality, a per-unit trend (some units improve, some
decline, some hold) and noise, then are clamped to the valid range and rounded to the
indicator's decimals. A few values are left blank (missing) and a few are ``i.a.`` (not
applicable).
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from bms_excel.examples import (
    EXAMPLES,
    HISTORY_FILE,
    HISTORY_HEADER,
    example_dir,
    load_example_definition,
)
from bms_excel.model import Definition, Indicator, Unit, effective_target

NOT_APPLICABLE = "i.a."

#: Per example: random seed, history periods (oldest first), number of blank (missing) values.
CONFIG: dict[str, tuple[int, tuple[str, ...], int]] = {
    "stfk": (2002, ("2025-T1", "2025-T2", "2025", "2026-T1"), 6),
    "nynorsk": (2013, ("2025-T1", "2025-T2", "2025"), 1),
}

#: (unit, indicator, period or None = every period) reported as not applicable, with reasons.
NOT_APPLICABLE_ROWS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "stfk": (
        # Only programmes for general studies: no alternative learning arenas.
        ("KATEDRALSKOLEN", "R1.1", None),
        # Mostly adult and special education: no ordinary Vg1 applicants.
        ("ADOLFOIEN", "R2.1", None),
    ),
    "nynorsk": (
        # No staff meetings in the summer tertial.
        ("SOGNDAL", "L1.1", "2025-T2"),
    ),
}

#: How far one "quality step" moves a value, where 10 % of the target is a poor guess.
SPREAD: dict[str, float] = {
    "R1.1": 0.6,
    "R1.2": 2.0,
    "T1.2": 1.2,
    "I1.1": 1.2,
    "T5.2": 500.0,
    "P1.1": 1.2,
    "M1.1": 1.2,
    "K3.1": 2.5,
    "L1.1": 20.0,
}


def _reference(ind: Indicator, unit: Unit, period: str) -> tuple[float, float]:
    """The value a unit "aims at" in ``period`` and the half-width of its band (0 if none)."""
    target, _ = effective_target(ind, unit, period)
    if target is None:
        lo, hi = ind.valid_range or (0.0, 100.0)
        return (lo + hi) / 2, 0.0
    if target.value is not None:
        return target.value, 0.0
    assert target.low is not None and target.high is not None
    return (target.low + target.high) / 2, (target.high - target.low) / 2


def _format(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals and ``.`` as separator; never ``-0``."""
    return f"{round(value, decimals) + 0.0:.{decimals}f}"


def _value(ind: Indicator, unit: Unit, period: str, score: float, side: int) -> str:
    """One value: ``score`` > 0 is better than the target, < 0 worse."""
    ref, half = _reference(ind, unit, period)
    if ind.direction == "range":
        # Good units sit near the middle of the band, poor ones outside it.
        value = ref + side * half * max(0.0, 0.7 - score)
    else:
        spread = SPREAD.get(ind.code, max(abs(ref) * 0.1, half, 0.1))
        sign = 1 if ind.direction == "higher" else -1
        value = ref + sign * score * spread
    if ind.valid_range is not None:
        lo, hi = ind.valid_range
        value = min(max(value, lo), hi)
    return _format(value, ind.decimals)


def generate(defn: Definition, name: str) -> list[tuple[str, str, str, str]]:
    """The history rows for example ``name`` (period, unit, indicator, value text)."""
    seed, periods, n_missing = CONFIG[name]
    not_applicable = NOT_APPLICABLE_ROWS.get(name, ())
    rng = random.Random(seed)
    rows: list[tuple[str, str, str, str]] = []
    for unit in defn.units:
        quality = rng.uniform(-1.0, 1.0)
        trend = rng.choice((-1, 0, 1))
        for ind in defn.indicators_for_unit(unit):
            if ind.source != "unit":
                continue
            own = rng.gauss(0.0, 0.5)
            side = rng.choice((-1, 1))
            for step, code in enumerate(periods):
                if ind.frequency == "annual" and defn.period(code).kind != "annual":
                    continue
                score = quality + own + 0.35 * trend * step + rng.gauss(0.0, 0.25)
                text = _value(ind, unit, code, score, side)
                if any(
                    (u, i, p or code) == (unit.code, ind.code, code) for u, i, p in not_applicable
                ):
                    text = NOT_APPLICABLE
                rows.append((code, unit.code, ind.code, text))
    order = {code: i for i, code in enumerate(periods)}
    rows.sort(key=lambda r: order[r[0]])
    reported = [i for i, row in enumerate(rows) if row[3] != NOT_APPLICABLE]
    for index in rng.sample(reported, n_missing):
        rows[index] = (*rows[index][:3], "")
    return rows


def render(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """The CSV text (UTF-8, comma-separated, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_HEADER)
    writer.writerows(rows)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(EXAMPLES)
    for name in names:
        rows = generate(load_example_definition(name), name)
        path = Path(str(example_dir(name))) / HISTORY_FILE
        path.write_text(render(rows), encoding="utf-8", newline="")
        print(f"{path}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
