"""SSB's statbank CSV (as the table pages save it) into :class:`~bms_excel.kostra.figures.KostraFigure` values."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Literal

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.i18n import t
from bms_excel.kostra.figures import (
    MAX_CELL_FINDINGS,
    REGION_CELL_RE,
    STATUS_SYMBOLS,
    TABLE_RE,
    ZERO_SYMBOL,
    KostraFigure,
    ParseResult,
    Status,
    kostra_finding,
    split_region,
    year_of,
)

_TIME_NAMES = {"tid", "år", "aar", "year", "time", "periode", "period", "kvartal", "måned"}
_CONTENTS_NAMES = {"statistikkvariabel", "contentscode", "contents", "statistic", "variable"}
_REGION_NAMES = {"region", "kommune", "fylke", "fylkeskommune", "bydel", "kostragruppe"}
_CONTENTS_CELL_RE = re.compile(r"^(?P<code>[A-Za-z][A-Za-z_]*\d[A-Za-z0-9_]*)\s+(?P<label>\S.*)$")
_NUMBER_RE = re.compile(r"^[+\-−]?\d+(?:[.,]\d+)?$")


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
        if values and sum(bool(REGION_CELL_RE.match(v)) for v in values) >= 0.8 * len(values):
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
        result.findings.append(_no_layout(text, source_name))
        return result

    title_cells = [c for row in rows[: layout.header] for c in row if c]
    result.title = title_cells[0] if title_cells else None
    m = TABLE_RE.match(result.title or "")
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
        others = tuple((header[j] if j < len(header) else str(j), cell(j)) for j in other_cols)
        region_cell = cell(region_col) if region_col is not None else None
        key = _row_key(result.table or "", region_cell, region or "", cell(contents_col), others)
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
                        "kostra-bad-number", msg, source_name, line=line, row=line, column=j + 1
                    )
                )
                continue
            value, status, symbol = parsed
            if status == "unknown" and symbol:
                unknown[symbol].append(f"{line}:{col_name}")
            result.figures.append(
                replace(
                    key, year=year, value=value, status=status, status_symbol=symbol, period=period
                )
            )
    _report_cells(result, source_name, bad, unknown)
    return result


def _row_key(
    table: str,
    region_cell: str | None,
    region: str,
    contents_text: str,
    others: tuple[tuple[str, str], ...],
) -> KostraFigure:
    """What every figure of a row shares (region, contents, other categories); year, value
    and status are per column and replaced in."""
    reg_code, reg_name, until = (
        split_region(region_cell) if region_cell is not None else (region, None, None)
    )
    cm = _CONTENTS_CELL_RE.match(contents_text)
    return KostraFigure(
        table=table,
        contents=cm.group("code") if cm else contents_text,
        region=reg_code,
        region_name=reg_name,
        year=0,
        value=None,
        status="unknown",
        status_symbol=None,
        unit=None,
        contents_label=cm.group("label") if cm else contents_text or None,
        superseded_until=until,
        other=others,
    )


def _no_layout(text: str, source_name: str) -> Finding:
    """Why no header row was found: another separator, or no statbank table at all."""
    for sep, shown in ((",", ","), ("\t", "TAB"), ("|", "|")):
        if _find_layout(_rows(text, sep)) is not None:
            msg = t("kostra.wrong-separator", separator=shown)
            return kostra_finding("kostra-wrong-separator", msg, source_name)
    return make_finding("kostra-no-header", file=source_name)


def _report_cells(
    result: ParseResult, source_name: str, bad: list[Finding], unknown: dict[str, list[str]]
) -> None:
    """The findings about cells that could not be figures (the first few bad ones, counted)."""
    result.findings.extend(bad[:MAX_CELL_FINDINGS])
    if len(bad) > MAX_CELL_FINDINGS:
        msg = t("kostra.bad-number-more", count=len(bad) - MAX_CELL_FINDINGS)
        result.findings.append(kostra_finding("kostra-bad-number", msg, source_name))
    for symbol, where in unknown.items():
        msg = t("kostra.unknown-status", symbol=symbol, count=len(where), where=where[0])
        result.findings.append(kostra_finding("kostra-unknown-status", msg, source_name))
