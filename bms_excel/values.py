"""Parse what staff type into input cells: numbers, Norwegian text numbers, "not applicable", blanks.

Numbers typed as text are parsed with Babel's ``nb_NO`` rules (``parse_decimal(strict=True)``),
never with a hand-rolled number regex. Before Babel sees the text, only what Excel users
typically vary is normalised:

* any space between digit groups (regular space, U+00A0, U+202F narrow no-break, U+2009 thin)
  becomes U+00A0, the ``nb_NO`` group symbol, so Babel's strict mode still checks the grouping
  (``"1 234"`` is accepted, ``"1 23"`` is not);
* U+2212 MINUS SIGN becomes ``-`` (Babel's strict parser accepts only the ASCII hyphen);
* a trailing ``%`` is removed on a percentage indicator (``"70 %"`` → 70, the number as shown).

Decisions (documented for the validators and the README):

* ``"12.5"`` (a dot as the decimal sign, as in English) is accepted as 12.5, as Babel does;
* ``"1.234"`` and ``"1.234,5"`` (a dot between groups of three digits, the old Norwegian or the
  German grouping) are rejected as ``not-a-number``: the dot could mean a thousands separator or
  a decimal sign, and guessing wrongly would be off by a factor of 1000;
* exponents (``"1e5"``), ``nan``/``inf``, underscores (``"1_000"``) and non-ASCII digits, all of
  which Python's ``Decimal`` would accept behind Babel's back, are rejected;
* a ``%`` on an indicator that is not a percentage is rejected (the unit is probably wrong).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Literal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal

from bms_excel.i18n import t
from bms_excel.status import NO_WORDS, YES_WORDS
from bms_excel.status import NOT_APPLICABLE_WORDS as _STATUS_NA_WORDS

# The texts staff write for "not applicable", compared trimmed and case-folded: status owns the
# list; the en and em dashes (what Word and Outlook make of a typed "-") are added here until
# status lists them too.
NOT_APPLICABLE_WORDS: frozenset[str] = frozenset(_STATUS_NA_WORDS)

ValueKind = Literal["number", "missing", "not-applicable", "invalid"]

LOCALE = "nb_NO"
_NBSP = "\u00a0"
# Enough decimal digits for any float (1.8e308); Babel's default context has 28.
_DECIMAL_PRECISION = 400
# Characters that may occur in a text number once the spaces are normalised; anything else
# (letters, exponents, underscores, non-ASCII digits) makes the text "not a number".
_NUMBER_CHARS = frozenset("0123456789,.-+" + _NBSP)
# Spaces people or Excel put between digit groups.
_GROUP_SPACES = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009]+(?=\d)")
# A dot followed by exactly three digits ending the integer part: ambiguous grouping.
_DOT_GROUPING = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d*)?$")
# Characters str.strip() leaves but that are invisible in a cell (zero-width space, BOM).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# What makes a spreadsheet program treat a text as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@")
_FORMULA_PREFIXES = ("\t", "\r")


@dataclass(frozen=True, slots=True)
class ParsedValue:
    """The reading of one input cell.

    ``code`` is the finding code when text was converted (``text-number``, a warning) or
    rejected (``not-a-number``, an error); ``text`` is the original text; ``reason`` names the
    catalogue message that explains the code (see :meth:`message`).
    """

    kind: ValueKind
    value: float | None
    code: str | None = None
    text: str | None = None
    reason: str | None = None

    def message(self, lang: str | None = None) -> str | None:
        """The Norwegian (or ``lang``) message for ``code``, or ``None`` when there is none."""
        if self.reason is None:
            return None
        if self.kind == "number":
            return t(self.reason, lang, text=self.text or "", value=format_number(self.value))
        return t(self.reason, lang, text=self.text or "")


MISSING = ParsedValue("missing", None)


def format_number(value: float | None) -> str:
    """``value`` the Norwegian way (``1 234,5``) for messages; empty for ``None``."""
    if value is None:
        return ""
    # Babel quantizes in the current decimal context (28 digits), which fails above ~1e25.
    with localcontext() as context:
        context.prec = _DECIMAL_PRECISION
        return format_decimal(value, locale=LOCALE, decimal_quantization=False)


def _invalid(text: str, reason: str = "value.not-a-number") -> ParsedValue:
    return ParsedValue("invalid", None, "not-a-number", text, reason)


def parse_value(raw: object, *, percent: bool = False, answer: bool = False) -> ParsedValue:
    """Read one cell value: a number, missing, not applicable, or invalid; never raises.

    With ``answer`` (a yes/no indicator) a yes word (Ja, yes …) is 1, a no word (Nei, no …) is
    0, and anything but those, 1, 0 and not applicable is invalid.
    """
    if answer:
        return _parse_answer(raw)
    if raw is None:
        return MISSING
    if isinstance(raw, bool):
        return _invalid(str(raw), "value.not-a-number-bool")
    if isinstance(raw, int | float | Decimal):
        number = float(raw)
        if not math.isfinite(number):
            return _invalid(str(raw))
        return ParsedValue("number", number)
    if not isinstance(raw, str):
        # Dates, times and anything else a reader returns for a number cell.
        return _invalid(str(raw), "value.not-a-number-type")
    return _parse_text(raw, percent=percent)


def _parse_answer(raw: object) -> ParsedValue:
    if isinstance(raw, str):
        word = " ".join(raw.strip().strip(_INVISIBLE).casefold().split())
        if word in YES_WORDS:
            return ParsedValue("number", 1.0, None, raw)
        if word in NO_WORDS:
            return ParsedValue("number", 0.0, None, raw)
    parsed = parse_value(raw)
    if parsed.kind == "number" and parsed.value not in (0.0, 1.0):
        return _invalid(str(raw), "value.not-an-answer")
    if parsed.kind == "invalid":
        return _invalid(parsed.text or str(raw), "value.not-an-answer")
    return parsed


def _parse_text(raw: str, *, percent: bool) -> ParsedValue:
    text = raw.strip().strip(_INVISIBLE).strip()
    if not text:
        return MISSING
    if " ".join(text.casefold().split()) in NOT_APPLICABLE_WORDS:
        return ParsedValue("not-applicable", None, None, raw)
    candidate = text
    if candidate.endswith("%"):
        if not percent:
            return _invalid(raw, "value.percent-sign")
        candidate = candidate[:-1].rstrip()
    candidate = _GROUP_SPACES.sub(_NBSP, candidate.replace("\u2212", "-"))
    if not candidate or not set(candidate) <= _NUMBER_CHARS:
        return _invalid(raw)
    if _DOT_GROUPING.match(candidate):
        return _invalid(raw, "value.ambiguous-dot")
    try:
        with localcontext() as context:  # strict mode re-formats the number: see format_number
            context.prec = _DECIMAL_PRECISION
            number = float(parse_decimal(candidate, locale=LOCALE, strict=True))
    except (NumberFormatError, ValueError, ArithmeticError):
        return _invalid(raw)
    if not math.isfinite(number):
        return _invalid(raw)
    return ParsedValue("number", number, "text-number", raw, "value.text-number")


def is_formula_injection(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (``=``, ``+``, ``-``, ``@`` first).

    A leading tab or carriage return before one of those counts too; a text that
    :func:`parse_value` reads as a plain number (``"-3,5"``) does not.
    """
    stripped = text.lstrip(" ")
    body = stripped.lstrip("".join(_FORMULA_PREFIXES))
    if not body.startswith(_FORMULA_STARTS):
        return False
    if body == stripped and parse_value(body, percent=True).kind == "number":
        return False
    return body not in NOT_APPLICABLE_WORDS


def neutralise(text: str) -> str:
    """``text`` made safe for an export: a leading ``'`` when it would run as a formula."""
    return "'" + text if is_formula_injection(text) else text
