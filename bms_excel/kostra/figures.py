"""KOSTRA key figures as Statistics Norway (SSB) ships them: the values, statuses and regions.

Two formats: JSON-stat 2.0 from PxWebApi (:mod:`bms_excel.kostra.jsonstat`, decoded by hand
because pyjstat drops the ``status`` map) and statbank CSV exports
(:mod:`bms_excel.kostra.statbank`: ``;`` separator, decimal comma, title rows, ISO-8859-1 or
UTF-8). Every cell becomes a :class:`KostraFigure`; SSB's symbols stay statuses, never zeros:

=========  ==================  ===================================================
symbol     status              SSB's meaning
=========  ==================  ===================================================
``.``      ``not-applicable``  ikke mulig å oppgi tall (the category did not exist)
``..``     ``not-available``   tallgrunnlag mangler / tall foreligger ikke
``...``    ``not-available``   oppgave mangler foreløpig (kept as written)
``:``      ``confidential``    vises ikke av konfidensialitetshensyn
``-``      ``ok``, value 0.0   null: SSB's sign for a true zero
=========  ==================  ===================================================

Any other symbol gives ``unknown`` (and a ``kostra-unknown-status`` finding). A figure whose
status is not ``ok`` has ``value`` None. Problems in a file are :class:`Finding` values; this
module never raises for bad data. It does no database or workbook I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.i18n import t

Status = Literal["ok", "not-applicable", "not-available", "confidential", "unknown"]
Role = Literal["county", "unit", "comparison"]

#: SSB's table symbols that stand in for a missing value.
STATUS_SYMBOLS: dict[str, Status] = {
    ".": "not-applicable",
    "..": "not-available",
    "...": "not-available",
    "…": "not-available",
    ":": "confidential",
}
#: SSB's sign for a true zero ("Null").
ZERO_SYMBOL = "-"
#: Bad-number findings per file before they are summarised in one.
MAX_CELL_FINDINGS = 20

_PERIOD_RE = re.compile(r"^(\d{4})(?:[KMHUT]\d{1,2})?$")
_SPAN_RE = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
# "5001 Trondheim", "1601 Trondheim (-2017)", "EKA50 Trøndelag", "EAKUO Landet uten Oslo".
REGION_CELL_RE = re.compile(
    r"^(?P<code>\d{1,4}|[A-Z]{1,2}-\d{2,4}|E[A-Z]{2,5}\d{0,3}|[A-Z]{3,5}\d{1,3})"
    r"(?:\s+(?P<name>.*?))?\s*(?:\((?P<since>\d{4})?\s*-\s*(?P<until>\d{4})?\))?$"
)
_SUPERSEDED_RE = re.compile(r"\s*\((?:\d{4})?\s*-\s*(?P<until>\d{4})?\)\s*$")
TABLE_RE = re.compile(r"^\s*(?:[Tt]abell\s*)?(\d{5})\s*:")


@dataclass(frozen=True, slots=True)
class KostraFigure:
    """One cell of an SSB table: a value or a status, for one table/contents/region/year.

    ``region`` is ``""`` when the file names no region. ``other`` holds the categories of any
    further dimensions (``(("Kjonn", "2"),)``); ``period`` is SSB's time code as written.
    """

    table: str
    contents: str
    region: str
    region_name: str | None
    year: int
    value: float | None
    status: Status
    status_symbol: str | None
    unit: str | None
    period: str = ""
    contents_label: str | None = None
    decimals: int | None = None
    superseded_until: int | None = None
    other: tuple[tuple[str, str], ...] = ()


@dataclass
class ParseResult:
    """The figures read from one file and every problem found in it."""

    figures: list[KostraFigure] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    table: str | None = None
    title: str | None = None
    updated: str | None = None


def status_label(status: Status, lang: str | None = None) -> str:
    """The Norwegian (or nn/en) text for a figure status, with SSB's symbol."""
    keys: dict[str, str] = {
        "ok": "kostra.status.ok",
        "not-applicable": "kostra.status.not-applicable",
        "not-available": "kostra.status.not-available",
        "confidential": "kostra.status.confidential",
        "unknown": "kostra.status.unknown",
    }
    return t(keys[status], lang)


def year_of(code: str) -> int | None:
    """The calendar year of an SSB time code (``2024``, ``2024K1``, ``2024M03``, ``2014-2020``)."""
    text = code.strip()
    m = _PERIOD_RE.match(text)
    if m:
        return int(m.group(1))
    span = _SPAN_RE.match(text)
    # A cohort span ("2014-2020") is reported in its last year.
    return int(span.group(2)) if span else None


def split_region(text: str) -> tuple[str, str | None, int | None]:
    """Split ``1601 Trondheim (-2017)`` into code, name and the last year the code was valid."""
    text = text.strip()
    m = REGION_CELL_RE.match(text)
    if m:
        until = m.group("until")
        return m.group("code"), (m.group("name") or None), int(until) if until else None
    sup = _SUPERSEDED_RE.search(text)
    if sup:
        until = sup.group("until")
        return text[: sup.start()].strip(), None, int(until) if until else None
    return text, None, None


def superseded_until(label: str | None) -> int | None:
    m = _SUPERSEDED_RE.search(label or "")
    return int(m.group("until")) if m and m.group("until") else None


def kostra_finding(code: str, message: str, file: str | None, **extra: Any) -> Finding:
    """A KOSTRA finding (severity from :mod:`bms_excel.codes`); ``line`` in ``extra`` becomes
    the finding's line, the rest its extra."""
    line = extra.pop("line", None)
    return make_finding(code, message=message, file=file, line=line, extra=extra)
