"""Period codes, in one place: the pattern, chronological order and counting back.

A period is a year (``2026``, the annual report), a tertial (``2026-T2``), a quarter
(``2026-Q3``) or a month (``2026-M04``). Pure: nothing but ``re`` here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: The pattern of a period code (the definition's schema and the value import check it).
PERIOD_PATTERN = r"^\d{4}(-(T[1-3]|Q[1-4]|M(0[1-9]|1[0-2])))?$"
_PERIOD = re.compile(PERIOD_PATTERN)
#: Year, kind and number of a well-formed code (counting back tolerates ``T4``-like codes).
_PARTS = re.compile(r"^(\d{4})(?:-([TQM])(\d+))?$")
_PER_YEAR = {"T": 3, "Q": 4, "M": 12}


def is_period_code(text: str) -> bool:
    """True for a well-formed period code (``2026``, ``2026-T2``, ``2026-Q4``, ``2026-M01``)."""
    return _PERIOD.match(text) is not None


def period_sort_key(code: str) -> tuple[int, int, int]:
    """Chronological order of period codes: by year, then by the month the period ends.

    The annual report (``2026``) comes after the last tertial of its year (``2026-T3``).
    """
    year = int(code[:4])
    rest = code[5:]
    if not rest:
        return (year, 12, 1)
    kind, number = rest[0], int(rest[1:])
    month = {"T": 4 * number, "Q": 3 * number, "M": number}[kind]
    return (year, month, 0)


def previous_periods(code: str, n: int, periods: Sequence[str] | None = None) -> tuple[str, ...]:
    """The ``n`` periods before ``code``, oldest first.

    With ``periods`` (the definition's period codes, in order) and ``code`` among them, these
    are the periods listed before it — ``2026-T2`` after ``2025-T2, 2025, 2026-T1`` gives
    exactly those, the annual report included. Otherwise they are counted from the code:
    ``2026-T2`` → ``2025-T2, 2025-T3, 2026-T1``.
    """
    if periods is not None and code in periods and n > 0:
        index = list(periods).index(code)
        listed = tuple(periods[max(0, index - n) : index])
        if len(listed) == n:
            return listed
        # Before the first listed period, count back from the code of the earliest one.
        return previous_periods(listed[0] if listed else code, n - len(listed)) + listed
    m = _PARTS.match(code)
    if not m or n <= 0:
        return ()
    year = int(m.group(1))
    kind = m.group(2)
    out: list[str] = []
    if kind is None:
        out = [str(year - i) for i in range(1, n + 1)]
    else:
        num, size = int(m.group(3)), _PER_YEAR[kind]
        for _ in range(n):
            num -= 1
            if num == 0:
                year, num = year - 1, size
            out.append(f"{year}-{kind}{num:02d}" if kind == "M" else f"{year}-{kind}{num}")
    return tuple(reversed(out))
