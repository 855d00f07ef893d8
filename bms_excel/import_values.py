"""The controller's own figures and earlier periods' results from a CSV (``bms import-values``).

The file is read as a Norwegian Excel saves it, and as a program writes it:

* encoding: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"),
  else Windows-1252 (Excel's "CSV (semikolondelt)" on a Norwegian Windows);
* separator: ``;`` (Norwegian Excel), tab or ``,``, whichever makes the header hold the four
  columns ``period``, ``unit``, ``indicator``, ``value`` (or ``periode``, ``enhet``,
  ``indikator``, ``verdi``);
* numbers: with ``;`` or tab, Norwegian numbers as staff type them (``12,5``, ``1 234``,
  ``70 %`` on a percentage indicator) through :func:`bms_excel.values.parse_value`; with ``,`` a
  dot is the decimal sign (``12.5``); blank is missing and ``i.a.`` not applicable, never 0.

Every bad line is a :class:`~bms_excel.errors.Finding` located ``file:line``, all at once; a
figure that differs from a unit's own accepted return for the same period, unit and indicator
is a ``value-conflict`` warning that says which one consolidation uses. Nothing is stored while
a line has an error.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.periods import is_period_code
from bms_excel.records import ValueRecord
from bms_excel.values import format_number, parse_value

COLUMNS = ("period", "unit", "indicator", "value")
# Header names as a Norwegian controller may write them (compared case-folded).
_HEADER_NAMES = {
    "period": "period", "periode": "period",
    "unit": "unit", "enhet": "unit", "eining": "unit",
    "indicator": "indicator", "indikator": "indicator",
    "value": "value", "verdi": "value",
}  # fmt: skip
_DELIMITERS = (";", "\t", ",")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
#: Every finding code of an import (the README's table lists them).
CODES = (
    "values-unreadable", "values-columns", "values-fields", "values-bad-period",
    "values-empty-key", "not-a-number", "unknown-reference", "values-duplicate", "value-conflict",
)  # fmt: skip
#: A controller's file is a few thousand lines; anything far larger is not one.
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class ValuesFile:
    """The rows of one CSV: each value with its line, and every problem found."""

    name: str
    values: list[ValueRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    def error(self, code: str, line: int | None, message: str) -> None:
        """Add a finding (all of this file's codes are errors) located at ``line``."""
        self.findings.append(make_finding(code, message=message, file=self.name, line=line))


@dataclass(frozen=True)
class ImportResult:
    """What ``bms import-values`` did: the figures read, those newly stored, every finding."""

    file: str
    values: int
    added: int
    findings: list[Finding]


def decode_csv(raw: bytes) -> tuple[str, str] | None:
    """The text of a CSV and its encoding's name, or ``None`` when it is none we know."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # Windows-1252 leaves five bytes undefined: a file with one is neither encoding.
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return None


def read_values_csv(
    source: str | Path | Iterable[Mapping[str, str]],
    *,
    name: str = "",
    percent: frozenset[str] = frozenset(),
    answers: frozenset[str] = frozenset(),
) -> ValuesFile:
    """Read ``period,unit,indicator,value`` rows; every bad line becomes a finding.

    ``source`` is a file or rows already split (the header being line 1); ``percent`` names the
    indicators measured in per cent, where ``70 %`` reads as 70; ``answers`` the yes/no
    indicators, where ``Ja``/``Nei`` read as 1/0.
    """
    if not isinstance(source, str | Path):
        out = ValuesFile(name or "history.csv", delimiter=",")
        for line, row in enumerate(source, start=2):
            _read_row(out, line, {k: row.get(k) for k in COLUMNS}, out.delimiter, percent, answers)
        return out
    path = Path(source)
    out = ValuesFile(name or path.name)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        out.error("values-unreadable", None, t("values.unreadable", reason=exc.strerror or exc))
        return out
    decoded = decode_csv(raw) if len(raw) <= MAX_BYTES else None
    if decoded is None or not decoded[0].strip():
        key = "values.too-large" if len(raw) > MAX_BYTES else "values.unknown-encoding"
        if decoded is not None:
            key = "values.empty"
        out.error("values-unreadable", None, t(key, limit=f"{MAX_BYTES // 2**20} MB"))
        return out
    text, out.encoding = decoded
    header_line = text.split("\n", 1)[0]
    for delimiter in _DELIMITERS:
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        index = _header_index(header)
        if all(column in index for column in COLUMNS):
            break
    else:
        index = max(
            (_header_index(next(csv.reader([header_line], delimiter=d), []))
             for d in _DELIMITERS),
            key=len,
        )  # fmt: skip
        missing = ", ".join(c for c in COLUMNS if c not in index)
        out.error("values-columns", 1, t("values.columns", columns=missing))
        return out
    out.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(reader)
    width = len(header)
    start = reader.line_num + 1
    for fields in reader:
        line, start = start, reader.line_num + 1  # a quoted field may span several lines
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            out.error(
                "values-fields",
                line,
                t("values.fields", found=len(fields), expected=width, sep=_shown(delimiter)),
            )
            continue
        row = {column: fields[i] for column, i in index.items()}
        _read_row(out, line, row, delimiter, percent, answers)
    return out


def _header_index(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, text in enumerate(header):
        column = _HEADER_NAMES.get(text.strip().strip("\ufeff").casefold())
        if column is not None and column not in index:
            index[column] = i
    return index


def _shown(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter


def _read_row(
    out: ValuesFile,
    line: int,
    row: Mapping[str, str | None],
    delimiter: str | None,
    percent: frozenset[str],
    answers: frozenset[str] = frozenset(),
) -> None:
    missing = [c for c in COLUMNS if row.get(c) is None]
    if missing:
        out.error("values-columns", 1, t("values.columns", columns=", ".join(missing)))
        return
    period, unit, indicator, raw = (str(row[c] or "").strip() for c in COLUMNS)
    ok = True
    if not is_period_code(period):
        out.error("values-bad-period", line, t("values.bad-period", period=period))
        ok = False
    if not unit or not indicator:
        out.error("values-empty-key", line, t("values.empty-key"))
        ok = False
    record = ValueRecord(unit, period, indicator, "missing", source="controller", file=out.name)
    if delimiter == "," and _DOT_DECIMAL.match(raw):
        # A comma-separated file cannot hold an unquoted decimal comma: the dot is decimal.
        record = replace(record, kind="number", value=float(raw), raw=raw)
    else:
        parsed = parse_value(raw, percent=indicator in percent, answer=indicator in answers)
        if parsed.kind == "invalid":
            out.error("not-a-number", line, parsed.message() or raw)
            ok = False
        elif parsed.kind == "number":
            record = replace(record, kind="number", value=parsed.value, raw=raw)
        elif parsed.kind == "not-applicable":
            record = replace(record, kind="not-applicable", raw=raw)
    if ok:
        out.values.append(record)
        out.lines.append(line)


def check_values(found: ValuesFile, definition: Definition) -> list[Finding]:
    """Rows naming a unit, indicator or period the definition lacks, and keys given twice."""
    units = {u.code for u in definition.units} | {definition.county.code}
    indicators = {i.code for *_, i in definition.iter_indicators()}
    periods = {p.code for p in definition.periods}
    findings: list[Finding] = []
    first: dict[tuple[str, str, str], int] = {}
    for v, line in zip(found.values, found.lines, strict=True):
        for ok, key, value in (
            (v.unit in units, "values.unknown-unit", v.unit),
            (v.indicator in indicators, "values.unknown-indicator", v.indicator),
            (v.period in periods, "values.unknown-period", v.period),
        ):
            if not ok:
                findings.append(
                    make_finding(
                        "unknown-reference",
                        message_key=key,
                        file=found.name,
                        line=line,
                        value=value,
                    )
                )
        key3 = (v.period, v.unit, v.indicator)
        if key3 in first:
            message = t("values.duplicate", line=first[key3])
            findings.append(
                make_finding("values-duplicate", message=message, file=found.name, line=line)
            )
        else:
            first[key3] = line
    return findings


def find_conflicts(
    found: ValuesFile, returned: Iterable[ValueRecord], definition: Definition
) -> list[Finding]:
    """A ``value-conflict`` warning for each figure that differs from a unit's own accepted
    return (``returned``) for the same period, unit and indicator, naming the one used."""
    own = {(r.period, r.unit, r.indicator): r for r in returned if r.source == "unit"}
    findings = []
    for v, line in zip(found.values, found.lines, strict=True):
        unit_value = own.get((v.period, v.unit, v.indicator))
        if unit_value is not None and not _same(unit_value, v):
            findings.append(_conflict(v, unit_value, definition, file=found.name, line=line))
    return findings


def conflicts_in(values: Iterable[ValueRecord], definition: Definition) -> list[Finding]:
    """``value-conflict`` warnings among the accepted values of a consolidation: a controller
    figure that differs from the unit's own return, whichever of the two came last (a unit
    that returns after the controller's import is caught here, not at import time)."""
    controller: dict[tuple[str, str, str], ValueRecord] = {}
    own: dict[tuple[str, str, str], ValueRecord] = {}
    for v in values:
        key = (v.period, v.unit, v.indicator)
        if v.source == "controller":
            controller[key] = v
        elif v.source == "unit":
            own[key] = v
    return [
        _conflict(figure, own[key], definition, file=own[key].file)
        for key, figure in sorted(controller.items())
        if key in own and not _same(own[key], figure)
    ]


def _conflict(
    figure: ValueRecord,
    unit_value: ValueRecord,
    definition: Definition,
    *,
    file: str | None,
    line: int | None = None,
) -> Finding:
    sources = {i.code: i.source for *_, i in definition.iter_indicators()}
    # Consolidation prefers the figure from the indicator's own source (unit/controller).
    key = {"controller": "values.conflict-controller", "unit": "values.conflict-unit"}.get(
        sources.get(figure.indicator, ""), "values.conflict"
    )
    message = t(
        key,
        unit=figure.unit,
        indicator=figure.indicator,
        period=figure.period,
        ours=_text(figure),
        theirs=_text(unit_value),
        file=unit_value.file or "",
    )
    return make_finding("value-conflict", message=message, file=file, line=line)


def _same(a: ValueRecord, b: ValueRecord) -> bool:
    return a.kind == b.kind and (a.kind != "number" or a.value == b.value)


def _text(v: ValueRecord) -> str:
    if v.kind == "number":
        return format_number(v.value)
    return t("values.kind-na") if v.kind == "not-applicable" else t("values.kind-missing")


def import_values(path: Path, definition: Definition, history_path: Path) -> ImportResult:
    """Read ``path``, check it against the definition and the units' returns, and store it in
    the history database when no line has an error (the library side of ``bms import-values``).
    """
    from bms_excel.history import open_history

    percent = frozenset(
        i.code for *_, i in definition.iter_indicators() if i.unit_of_measure.strip() == "%"
    )
    answers = frozenset(i.code for *_, i in definition.iter_indicators() if i.kind == "yes_no")
    found = read_values_csv(path, name=path.name, percent=percent, answers=answers)
    findings = found.findings + check_values(found, definition)
    added = 0
    if not any(f.severity == "error" for f in findings) and found.values:
        with open_history(history_path) as db:
            periods = sorted({v.period for v in found.values})
            returned = [r for p in periods for r in db.accepted_values(p)]
            findings += find_conflicts(found, returned, definition)
            added = db.record_values(found.values).values_added
    findings.sort(key=lambda f: f.line or 0)
    return ImportResult(str(path), len(found.values), added, findings)
