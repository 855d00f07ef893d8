"""Read KOSTRA key figures as Statistics Norway (SSB) ships them, and match them to indicators.

Two formats: JSON-stat 2.0 from PxWebApi (decoded here, because pyjstat drops the ``status``
map) and statbank CSV exports (``;`` separator, decimal comma, title rows, ISO-8859-1 or
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

import csv
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

from bms_excel.codes import make_finding, severity_of
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

_TIME_NAMES = {"tid", "år", "aar", "year", "time", "periode", "period", "kvartal", "måned"}
_CONTENTS_NAMES = {"statistikkvariabel", "contentscode", "contents", "statistic", "variable"}
_REGION_NAMES = {"region", "kommune", "fylke", "fylkeskommune", "bydel", "kostragruppe"}
_PERIOD_RE = re.compile(r"^(\d{4})(?:[KMHUT]\d{1,2})?$")
_SPAN_RE = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")
# "5001 Trondheim", "1601 Trondheim (-2017)", "EKA50 Trøndelag", "EAKUO Landet uten Oslo".
_REGION_CELL_RE = re.compile(
    r"^(?P<code>\d{1,4}|[A-Z]{1,2}-\d{2,4}|E[A-Z]{2,5}\d{0,3}|[A-Z]{3,5}\d{1,3})"
    r"(?:\s+(?P<name>.*?))?\s*(?:\((?P<since>\d{4})?\s*-\s*(?P<until>\d{4})?\))?$"
)
_SUPERSEDED_RE = re.compile(r"\s*\((?:\d{4})?\s*-\s*(?P<until>\d{4})?\)\s*$")
_CONTENTS_CELL_RE = re.compile(r"^(?P<code>[A-Za-z][A-Za-z_]*\d[A-Za-z0-9_]*)\s+(?P<label>\S.*)$")
_NUMBER_RE = re.compile(r"^[+\-−]?\d+(?:[.,]\d+)?$")
_TABLE_RE = re.compile(r"^\s*(?:[Tt]abell\s*)?(\d{5})\s*:")


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
    m = _REGION_CELL_RE.match(text)
    if m:
        until = m.group("until")
        return m.group("code"), (m.group("name") or None), int(until) if until else None
    sup = _SUPERSEDED_RE.search(text)
    if sup:
        until = sup.group("until")
        return text[: sup.start()].strip(), None, int(until) if until else None
    return text, None, None


def _superseded(label: str | None) -> int | None:
    m = _SUPERSEDED_RE.search(label or "")
    return int(m.group("until")) if m and m.group("until") else None


def kostra_finding(code: str, message: str, file: str | None, **extra: Any) -> Finding:
    """A KOSTRA finding (severity from :mod:`bms_excel.codes`); ``line`` in ``extra`` becomes
    the finding's line, the rest its extra."""
    line = extra.pop("line", None)
    return Finding(code, severity_of(code), message, file=file, line=line, extra=extra)


# -- dispatch ---------------------------------------------------------------------------------


def parse_file(
    path: str | Path, *, table: str | None = None, region: str | None = None
) -> ParseResult:
    """Read one SSB file, JSON-stat or CSV by its content (not its name)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = t("kostra.unreadable", error=exc.strerror or str(exc))
        return ParseResult(findings=[kostra_finding("kostra-unreadable", msg, name)])
    return parse_bytes(data, source_name=name, table=table, region=region)


def parse_bytes(
    data: bytes, *, source_name: str, table: str | None = None, region: str | None = None
) -> ParseResult:
    """Parse SSB data already in memory: ``{`` (after a BOM and blanks) means JSON-stat."""
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if not head:
        msg = t("kostra.empty")
        return ParseResult(findings=[kostra_finding("kostra-empty", msg, source_name)])
    if head[:1] in (b"{", b"["):
        return parse_jsonstat(data, source_name=source_name, table=table, region=region)
    return parse_statbank_csv(data, source_name=source_name, table=table, region=region)


# -- cell values ------------------------------------------------------------------------------


def _parse_cell(text: str) -> tuple[float | None, Status, str | None] | None:
    """Value, status and symbol of a CSV cell; None when it is neither number nor symbol."""
    s = text.strip()
    if s == "":
        return None, "not-available", None
    if s in STATUS_SYMBOLS:
        return None, STATUS_SYMBOLS[s], s
    if s == ZERO_SYMBOL:
        return 0.0, "ok", s
    compact = re.sub(r"[\s\u00a0\u202f]", "", s)
    if _NUMBER_RE.match(compact):
        number = float(compact.replace("−", "-").replace(",", "."))
        return number, "ok", None
    if len(s) <= 3 and not any(ch.isalnum() for ch in s):
        return None, "unknown", s
    return None


# -- JSON-stat --------------------------------------------------------------------------------


class _NotJsonStat(Exception):
    """Internal: the JSON is not a usable JSON-stat dataset; ``key`` names the bad field."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(key)


class _SizeMismatch(Exception):
    """Internal: sizes, categories and values do not agree."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _is_index(key: str) -> bool:
    return key.isascii() and key.isdigit() and len(key) <= 18


def _str_map(obj: Any) -> dict[str, str]:
    if not isinstance(obj, dict):
        return {}
    return {str(k): v for k, v in obj.items() if isinstance(v, str)}


@dataclass
class _Dim:
    id: str
    codes: list[str]
    labels: dict[str, str]
    units: dict[str, tuple[str | None, int | None]]


def _read_dimension(dim_id: str, raw: Any, size: int) -> _Dim:
    if not isinstance(raw, dict) or not isinstance(raw.get("category", {}), dict):
        raise _NotJsonStat(f"dimension.{dim_id}")
    cat = raw.get("category", {})
    labels = _str_map(cat.get("label"))
    index = cat.get("index")
    codes: list[str]
    if index is None:
        # JSON-stat allows omitting the index for a dimension with one category.
        codes = list(labels)
    elif isinstance(index, list) and all(isinstance(c, str) for c in index):
        codes = list(index)
    elif isinstance(index, dict):
        slots: list[str | None] = [None] * len(index)
        for code, pos in index.items():
            if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos < len(index):
                raise _NotJsonStat(f"dimension.{dim_id}.category.index")
            slots[pos] = code
        if any(c is None for c in slots):
            raise _NotJsonStat(f"dimension.{dim_id}.category.index")
        codes = [c for c in slots if c is not None]
    else:
        raise _NotJsonStat(f"dimension.{dim_id}.category.index")
    if len(codes) != size or len(set(codes)) != len(codes):
        raise _SizeMismatch(
            t("kostra.size-mismatch-dimension", dimension=dim_id, actual=len(codes), expected=size)
        )
    units: dict[str, tuple[str | None, int | None]] = {}
    raw_units = cat.get("unit")
    if isinstance(raw_units, dict):
        for code, u in raw_units.items():
            if isinstance(u, dict):
                base = u.get("base") if isinstance(u.get("base"), str) else u.get("label")
                dec = u.get("decimals")
                units[code] = (
                    base if isinstance(base, str) else None,
                    dec if isinstance(dec, int) and not isinstance(dec, bool) else None,
                )
    return _Dim(dim_id, codes, labels, units)


def _pick(ids: list[str], role: Any, role_name: str, names: Iterable[str]) -> str | None:
    if isinstance(role, dict):
        listed = role.get(role_name)
        if isinstance(listed, list):
            for d in listed:
                if d in ids:
                    return str(d)
    wanted = {n.lower() for n in names}
    for d in ids:
        if d.lower() in wanted:
            return d
    return None


def _cells(value: Any, n: int) -> dict[int, Any]:
    """The cells that carry a value: all ``n`` for a list, the given keys for a sparse dict."""
    if isinstance(value, list):
        if len(value) != n:
            raise _SizeMismatch(t("kostra.size-mismatch", expected=n, actual=len(value)))
        return dict(enumerate(value))
    if isinstance(value, dict):
        out: dict[int, Any] = {}
        for key, v in value.items():
            if not _is_index(key) or int(key) >= n:
                raise _SizeMismatch(t("kostra.size-mismatch-key", key=key[:20], expected=n))
            out[int(key)] = v
        return out
    raise _NotJsonStat("value")


def _statuses(raw: Any, n: int, cells: dict[int, Any]) -> dict[int, str]:
    if isinstance(raw, str):
        return dict.fromkeys(cells, raw)
    if isinstance(raw, list):
        return {i: s for i, s in enumerate(raw[:n]) if isinstance(s, str) and s != ""}
    if isinstance(raw, dict):
        out: dict[int, str] = {}
        for key, s in raw.items():
            if _is_index(key) and int(key) < n and isinstance(s, str) and s != "":
                out[int(key)] = s
        return out
    return {}


def _is_number(raw: Any) -> TypeGuard[int | float]:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return False
    try:
        return math.isfinite(float(raw))
    except OverflowError:  # an integer beyond a float's range
        return False


def _json_cell(raw: Any, symbol: str | None) -> tuple[float | None, Status]:
    """Value and status of one JSON-stat cell; a status symbol wins over a value."""
    if symbol == ZERO_SYMBOL:
        return (float(raw) if _is_number(raw) else 0.0), "ok"
    if symbol is not None:
        return None, STATUS_SYMBOLS.get(symbol, "unknown")
    if raw is None:
        return None, "not-available"
    return (float(raw), "ok") if _is_number(raw) else (None, "unknown")


def _table_id(ds: dict[str, Any], label: str | None) -> str | None:
    ext = ds.get("extension")
    px = ext.get("px") if isinstance(ext, dict) else None
    if isinstance(px, dict) and isinstance(px.get("tableid"), str | int):
        return str(px["tableid"]).strip() or None
    m = _TABLE_RE.match(label or "")
    return m.group(1) if m else None


def parse_jsonstat(
    data: bytes | str, *, source_name: str, table: str | None = None, region: str | None = None
) -> ParseResult:
    """Decode a JSON-stat dataset (2.0, or a 1.x ``{"dataset": …}`` bundle) keeping SSB's statuses.

    ``table`` is used when the dataset names none; ``region`` when it has no region dimension.
    """
    result = ParseResult()
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":
            msg = t("kostra.malformed-encoding", position=exc.start)
            result.findings.append(kostra_finding("kostra-malformed", msg, source_name))
            return result
        # Cut inside a multi-byte character: let the JSON parser report the truncation.
        text = exc.object[: exc.start].decode("utf-8-sig")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = t("kostra.malformed", error=exc.msg, line=exc.lineno, column=exc.colno)
        result.findings.append(
            kostra_finding("kostra-malformed", msg, source_name, line=exc.lineno, position=exc.pos)
        )
        return result
    except (ValueError, RecursionError) as exc:
        msg = t("kostra.malformed", error=type(exc).__name__, line="?", column="?")
        result.findings.append(kostra_finding("kostra-malformed", msg, source_name))
        return result
    try:
        _decode_dataset(doc, source_name, result, table, region)
    except _NotJsonStat as exc:
        msg = t("kostra.not-jsonstat", key=exc.key)
        result.figures.clear()
        result.findings.append(kostra_finding("kostra-not-jsonstat", msg, source_name))
    except _SizeMismatch as exc:
        result.figures.clear()
        result.findings.append(kostra_finding("kostra-size-mismatch", exc.message, source_name))
    return result


def _decode_dataset(
    doc: Any, source_name: str, result: ParseResult, table_arg: str | None, region_arg: str | None
) -> None:
    if not isinstance(doc, dict):
        raise _NotJsonStat("class")
    if "class" not in doc and isinstance(doc.get("dataset"), dict):
        doc = doc["dataset"]  # JSON-stat 1.x bundle, as SSB's older API returned
    elif doc.get("class", "dataset" if "dimension" in doc else None) != "dataset":
        raise _NotJsonStat("class")
    dims_raw = doc.get("dimension")
    if not isinstance(dims_raw, dict):
        raise _NotJsonStat("dimension")
    ids = doc.get("id", dims_raw.get("id"))
    sizes = doc.get("size", dims_raw.get("size"))
    role = doc.get("role", dims_raw.get("role"))
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        raise _NotJsonStat("id")
    if (
        not isinstance(sizes, list)
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes)
        or len(set(ids)) != len(ids)
    ):
        raise _NotJsonStat("size")
    if len(sizes) != len(ids):
        raise _SizeMismatch(t("kostra.size-mismatch-ids", ids=len(ids), sizes=len(sizes)))
    if "value" not in doc:
        raise _NotJsonStat("value")
    for d in ids:
        if d not in dims_raw:
            raise _NotJsonStat(f"dimension.{d}")
    dims = [_read_dimension(d, dims_raw[d], s) for d, s in zip(ids, sizes, strict=True)]
    n = math.prod(sizes)
    cells = _cells(doc["value"], n)
    statuses = _statuses(doc.get("status"), n, cells)

    label = doc.get("label") if isinstance(doc.get("label"), str) else None
    table = _table_id(doc, label) or table_arg or ""
    result.table, result.title = table or None, label
    result.updated = doc.get("updated") if isinstance(doc.get("updated"), str) else None
    if not table:
        result.findings.append(make_finding("kostra-no-table", file=source_name))

    time_id = _pick(ids, role, "time", ("Tid", "Time", "Year", "Aar"))
    geo_id = _pick(ids, role, "geo", ("Region", "KOKkommuneregion0000", "KOKfylkesregion0000"))
    if geo_id is None:
        geo_id = next((d for d in ids if "region" in d.lower()), None)
    metric_id = _pick(ids, role, "metric", ("ContentsCode",))
    if time_id is None:
        raise _NotJsonStat("role.time")
    if geo_id is None and not region_arg:
        msg = t("kostra.no-region")
        result.findings.append(kostra_finding("kostra-no-region", msg, source_name))
    by_id = {d.id: d for d in dims}
    bad_periods: dict[str, int] = defaultdict(int)
    unknown: dict[str, list[int]] = defaultdict(list)
    bad_values: list[int] = []
    for i in sorted(set(cells) | set(statuses)):
        coords: dict[str, str] = {}
        rest = i
        for d, size in zip(reversed(dims), reversed(sizes), strict=True):
            coords[d.id] = d.codes[rest % size]
            rest //= size
        period = coords[time_id]
        year = year_of(period) or year_of(by_id[time_id].labels.get(period, ""))
        if year is None:
            bad_periods[period] += 1
            continue
        raw = cells.get(i)
        symbol = statuses.get(i)
        value, status = _json_cell(raw, symbol)
        if status == "unknown" and symbol is not None:
            unknown[symbol].append(i)
        elif status == "unknown":
            bad_values.append(i)
        contents = coords.get(metric_id, "") if metric_id else ""
        unit, decimals = (
            by_id[metric_id].units.get(contents, (None, None)) if metric_id else (None, None)
        )
        region = coords.get(geo_id, "") if geo_id else region_arg or ""
        region_name = by_id[geo_id].labels.get(region) if geo_id else None
        result.figures.append(
            KostraFigure(
                table=table,
                contents=contents,
                region=region,
                region_name=region_name,
                year=year,
                value=value,
                status=status,
                status_symbol=symbol,
                unit=unit,
                period=period,
                contents_label=by_id[metric_id].labels.get(contents) if metric_id else None,
                decimals=decimals,
                superseded_until=_superseded(region_name),
                other=tuple(
                    (d.id, coords[d.id]) for d in dims if d.id not in (time_id, geo_id, metric_id)
                ),
            )
        )
    for period, count in bad_periods.items():
        msg = t("kostra.bad-period", period=period, count=count)
        result.findings.append(kostra_finding("kostra-bad-period", msg, source_name))
    for symbol, where in unknown.items():
        msg = t("kostra.unknown-status", symbol=symbol, count=len(where), where=f"#{where[0]}")
        result.findings.append(kostra_finding("kostra-unknown-status", msg, source_name))
    for i in bad_values[:MAX_CELL_FINDINGS]:
        msg = t("kostra.bad-value", index=i, text=repr(cells.get(i))[:40])
        result.findings.append(kostra_finding("kostra-bad-number", msg, source_name, index=i))
    if len(bad_values) > MAX_CELL_FINDINGS:
        msg = t("kostra.bad-number-more", count=len(bad_values) - MAX_CELL_FINDINGS)
        result.findings.append(kostra_finding("kostra-bad-number", msg, source_name))


# -- statbank CSV -----------------------------------------------------------------------------


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")  # the Windows superset of ISO-8859-1 that SSB writes
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _rows(text: str, delimiter: str) -> list[list[str]]:
    try:
        return [
            [c.strip() for c in row]
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error:
        return []


@dataclass
class _Layout:
    header: int
    kind: Literal["wide", "long"]
    dims: list[int]  # stub / dimension columns
    periods: dict[int, str]  # wide: column → time code
    time_col: int = -1
    value_col: int = -1


def _find_layout(rows: list[list[str]]) -> _Layout | None:
    for r, row in enumerate(rows[:50]):
        cells = list(row)
        while cells and cells[-1] == "":
            cells.pop()
        first = next((j for j, c in enumerate(cells) if year_of(c) is not None), None)
        if (
            first is not None
            and first >= 1
            and all(year_of(c) is not None for c in cells[first:])
            and not any(_NUMBER_RE.match(c) for c in cells[:first])
        ):
            return _Layout(
                r, "wide", list(range(first)), {j: cells[j] for j in range(first, len(cells))}
            )
        names = [c.lower() for c in cells]
        time_col = next((j for j, c in enumerate(names) if c in _TIME_NAMES), None)
        if time_col is not None and len(cells) >= 2 and time_col != len(cells) - 1:
            dims = [j for j in range(len(cells) - 1) if j != time_col]
            return _Layout(r, "long", dims, {}, time_col, len(cells) - 1)
    return None


def _column_roles(
    rows: list[list[str]], layout: _Layout
) -> tuple[int | None, int | None, list[int]]:
    """Which dimension column holds the region and which the contents; the rest are others."""
    header = rows[layout.header]
    region_col = contents_col = None
    unnamed: list[int] = []
    for j in layout.dims:
        name = header[j].lower() if j < len(header) else ""
        if region_col is None and (name in _REGION_NAMES or "region" in name):
            region_col = j
        elif contents_col is None and name in _CONTENTS_NAMES:
            contents_col = j
        else:
            unnamed.append(j)
    data = rows[layout.header + 1 :]
    for j in list(unnamed):
        if region_col is not None:
            break
        values = [row[j] for row in data if j < len(row) and row[j]]
        if values and sum(bool(_REGION_CELL_RE.match(v)) for v in values) >= 0.8 * len(values):
            region_col = j
            unnamed.remove(j)
    if contents_col is None and unnamed:
        contents_col = unnamed.pop()
    return region_col, contents_col, unnamed


def parse_statbank_csv(
    data: bytes, *, source_name: str, table: str | None = None, region: str | None = None
) -> ParseResult:
    """Read an SSB statbank CSV export (wide with years as columns, or long with a year column).

    ``table`` and ``region`` name what the file itself does not say (the statbank export of
    KOSTRA key figures carries neither); what the file names wins over them.
    """
    result = ParseResult()
    text = _decode_text(data)
    rows = _rows(text, ";")
    layout = _find_layout(rows)
    if layout is None:
        for sep, shown in ((",", ","), ("\t", "TAB"), ("|", "|")):
            if _find_layout(_rows(text, sep)) is not None:
                msg = t("kostra.wrong-separator", separator=shown)
                result.findings.append(kostra_finding("kostra-wrong-separator", msg, source_name))
                return result
        result.findings.append(make_finding("kostra-no-header", file=source_name))
        return result

    title_cells = [c for row in rows[: layout.header] for c in row if c]
    result.title = title_cells[0] if title_cells else None
    m = _TABLE_RE.match(result.title or "")
    result.table = (m.group(1) if m else None) or table
    if not result.table:
        result.findings.append(make_finding("kostra-no-table", file=source_name))
    region_col, contents_col, other_cols = _column_roles(rows, layout)
    header = rows[layout.header]
    if region_col is None and not region:
        result.findings.append(make_finding("kostra-no-region", file=source_name))

    bad: list[Finding] = []
    unknown: dict[str, list[str]] = defaultdict(list)
    for r in range(layout.header + 1, len(rows)):
        row = rows[r]
        line = r + 1

        def cell(j: int | None, row: list[str] = row) -> str:
            return row[j] if j is not None and j < len(row) else ""

        if layout.kind == "wide":
            value_cols = [(j, p) for j, p in layout.periods.items()]
        else:
            value_cols = [(layout.value_col, cell(layout.time_col))]
        # Section rows ("Videregående opplæring;;;;") and footnotes carry no value cells.
        if all(cell(j) == "" for j, _ in value_cols):
            continue
        reg_code, reg_name, until = (
            split_region(cell(region_col)) if region_col is not None else (region or "", None, None)
        )
        contents_text = cell(contents_col)
        cm = _CONTENTS_CELL_RE.match(contents_text)
        contents = cm.group("code") if cm else contents_text
        contents_label = cm.group("label") if cm else contents_text or None
        others = tuple((header[j] if j < len(header) else str(j), cell(j)) for j in other_cols)
        for j, period in value_cols:
            year = year_of(period)
            col_name = header[j] if j < len(header) else str(j + 1)
            if year is None:
                msg = t("kostra.bad-period", period=period, count=1)
                bad.append(kostra_finding("kostra-bad-period", msg, source_name, line=line))
                continue
            parsed = _parse_cell(cell(j))
            if parsed is None:
                msg = t("kostra.bad-number", text=cell(j)[:40], row=line, column=col_name)
                bad.append(
                    kostra_finding(
                        "kostra-bad-number",
                        msg,
                        source_name,
                        line=line,
                        row=line,
                        column=j + 1,
                    )
                )
                continue
            value, status, symbol = parsed
            if status == "unknown" and symbol:
                unknown[symbol].append(f"{line}:{col_name}")
            result.figures.append(
                KostraFigure(
                    table=result.table or "",
                    contents=contents,
                    region=reg_code,
                    region_name=reg_name,
                    year=year,
                    value=value,
                    status=status,
                    status_symbol=symbol,
                    unit=None,
                    period=period,
                    contents_label=contents_label,
                    superseded_until=until,
                    other=others,
                )
            )
    result.findings.extend(bad[:MAX_CELL_FINDINGS])
    if len(bad) > MAX_CELL_FINDINGS:
        msg = t("kostra.bad-number-more", count=len(bad) - MAX_CELL_FINDINGS)
        result.findings.append(kostra_finding("kostra-bad-number", msg, source_name))
    for symbol, where in unknown.items():
        msg = t("kostra.unknown-status", symbol=symbol, count=len(where), where=where[0])
        result.findings.append(kostra_finding("kostra-unknown-status", msg, source_name))
    return result
