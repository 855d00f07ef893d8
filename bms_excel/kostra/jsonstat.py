"""SSB's JSON-stat 2.0 datasets (the API's answers) into :class:`~bms_excel.kostra.figures.KostraFigure` values."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from bms_excel.codes import make_finding
from bms_excel.i18n import t
from bms_excel.kostra.figures import (
    MAX_CELL_FINDINGS,
    STATUS_SYMBOLS,
    TABLE_RE,
    ZERO_SYMBOL,
    KostraFigure,
    ParseResult,
    Status,
    kostra_finding,
    superseded_until,
    year_of,
)

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
    m = TABLE_RE.match(label or "")
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


def _dataset_shape(doc: Any) -> tuple[dict[str, Any], list[str], list[int], Any, dict[str, Any]]:
    """The dataset, its dimension ids, sizes, roles and raw dimensions; ``_NotJsonStat`` or
    ``_SizeMismatch`` when the document is not a well-formed JSON-stat dataset."""
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
    return doc, ids, sizes, role, dims_raw


def _decode_dataset(
    doc: Any, source_name: str, result: ParseResult, table_arg: str | None, region_arg: str | None
) -> None:
    doc, ids, sizes, role, dims_raw = _dataset_shape(doc)
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
                superseded_until=superseded_until(region_name),
                other=tuple(
                    (d.id, coords[d.id]) for d in dims if d.id not in (time_id, geo_id, metric_id)
                ),
            )
        )
    _report_cells(result, source_name, cells, bad_periods, unknown, bad_values)


def _report_cells(
    result: ParseResult,
    source_name: str,
    cells: dict[int, Any],
    bad_periods: dict[str, int],
    unknown: dict[str, list[int]],
    bad_values: list[int],
) -> None:
    """The findings about cells that could not be figures: periods, symbols, values."""
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
