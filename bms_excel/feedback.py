"""``bms feedback``: one workbook per unit with what the county makes of its return.

Per unit with an accepted return for the period: its results against its targets beside the
county's and its sector's value, its last periods, the KOSTRA comparison where the indicator
has one, the controller's comments per focus area (a CSV ``unit;focus_area;comment``, or the
column *Kommentar fra controller* of a master's Vurderinger sheet, read with the defensive
reader and never changed), and what the county as a whole learned (every unit's "what have
we learned", per focus area). The workbooks are named ``<period>_<unit>_tilbakemelding.xlsx``,
signed like the unit workbooks (HMAC of the signed fields in the ``bms.*`` document
properties), protected, and listed in ``manifest.csv``/``.json`` for sending. Each one sent
is a ``feedback`` event in the history.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.packaging.custom import CustomPropertyList, StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.codes import make_finding
from bms_excel.consolidate import aggregate_county, build_long_table
from bms_excel.dialogue import current_user
from bms_excel.errors import Finding, OutputError
from bms_excel.generate import ManifestRow, guard_workbook, safe_filename, write_manifest
from bms_excel.history import History
from bms_excel.i18n import LANGUAGES, t
from bms_excel.kostra_import import KostraView, kostra_views
from bms_excel.layout import unit_focus_areas
from bms_excel.limit_text import target_text
from bms_excel.master.run import rows_of, with_kostra
from bms_excel.master.save import save_workbook_atomic
from bms_excel.model import Definition, Indicator, Unit, effective_target
from bms_excel.reader import read_submission
from bms_excel.signing import definition_hash, protection_password, sign_meta
from bms_excel.status import Status, status_label

#: The signed ``template_version`` of a feedback workbook (not a unit workbook to return).
FEEDBACK_VERSION = "feedback-1"
_FILLS = {Status.GREEN: "C6EFCE", Status.YELLOW: "FFEB9C", Status.RED: "FFC7CE"}
_BOLD = Font(name="Calibri", size=11, bold=True)
_TITLE = Font(name="Calibri", size=14, bold=True)
_BODY = Font(name="Calibri", size=10)
_WRAP = Alignment(wrap_text=True, vertical="top")
_NO_WRAP = Alignment(wrap_text=False, vertical="top")


@dataclass
class FeedbackResult:
    """What ``bms feedback`` wrote."""

    period: str
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    manifest: list[ManifestRow] = field(default_factory=list)
    manifest_csv: Path | None = None
    manifest_json: Path | None = None
    findings: list[Finding] = field(default_factory=list)


# -- the controller's comments -----------------------------------------------------------------


def read_comments_csv(
    path: Path, definition: Definition
) -> tuple[dict[tuple[str, str], str], list[Finding]]:
    """``(unit, focus area) → comment`` from a ``unit;focus_area;comment`` CSV (Norwegian
    headers ``enhet;fokusområde;kommentar`` too; UTF-8 or Windows-1252)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    units = {u.code for u in definition.units}
    areas = {a.code for a in definition.focus_areas}
    out: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    for line, row in enumerate(reader, start=1):
        if line == 1 or not any(cell.strip() for cell in row):
            continue  # the header, blank lines
        cells = [c.strip() for c in row] + ["", "", ""]
        unit, area, comment = cells[0], cells[1], delimiter.join(row[2:]).strip()
        if unit not in units or area not in areas:
            findings.append(
                make_finding(
                    "feedback-unknown-reference", file=path.name, line=line, unit=unit, area=area
                )
            )
            continue
        if comment:
            out[(unit, area)] = comment
    return out, findings


def read_comments_master(
    path: Path, definition: Definition
) -> tuple[dict[tuple[str, str], str], list[Finding]]:
    """``(unit, focus area) → comment`` from the column *Kommentar fra controller* of a
    master's Vurderinger sheet (read-only, by its header in any language)."""
    result = read_submission(path, display_name=path.name)
    if result.data is None:
        return {}, result.findings
    sheet_names = {t("master.sheet.assessments", lang).casefold() for lang in LANGUAGES}
    sheet = next((s for s in result.data.values if s.casefold() in sheet_names), None)
    cells = result.data.values.get(sheet, {}) if sheet else {}
    header = {col: str(v).strip().casefold() for (row, col), v in cells.items() if row == 3}
    wanted = {t("master.col.controller-comment", lang).casefold() for lang in LANGUAGES}
    area_names = {t("master.col.focus-area", lang).casefold() for lang in LANGUAGES}
    comment_col = next((c for c, h in header.items() if h in wanted), None)
    area_col = next((c for c, h in header.items() if h in area_names), None)
    if sheet is None or comment_col is None or area_col is None:
        message = t("feedback.not-a-master", path=path.name)  # {path}: not the finding's path
        return {}, [make_finding("feedback-not-a-master", message=message, file=path.name)]
    out: dict[tuple[str, str], str] = {}
    last = max((row for row, _ in cells), default=3)
    for row in range(4, last + 1):
        comment = str(cells.get((row, comment_col)) or "").strip()
        if comment:
            unit = str(cells.get((row, 1)) or "").strip()
            out[(unit, str(cells.get((row, area_col)) or "").strip())] = comment
    return out, []


# -- the figures -------------------------------------------------------------------------------


@dataclass
class _Figures:
    long: list[dict[str, Any]]
    county: dict[str, dict[str, Any]]
    sectors: dict[str, dict[str, dict[str, Any]]]
    trend: dict[tuple[str, str], list[tuple[str, str]]]
    kostra: dict[str, KostraView]
    learned: dict[str, list[tuple[str, str]]]


def _figures(db: History, definition: Definition, period: str) -> _Figures:
    views = kostra_views(db, definition, definition.period(period))
    long = build_long_table(
        definition, with_kostra(db.accepted_values(period), views, period), period
    )
    county = {r["indicator"]: r for r in rows_of(aggregate_county(definition, long, period))}
    sectors = {}
    for sector in definition.sectors:
        members = [u.code for u in definition.units if u.sector == sector.code]
        part = long[long["unit"].isin(members)]
        frame = aggregate_county(definition, part, period)
        sectors[sector.code] = {r["indicator"]: r for r in rows_of(frame)}
    learned: dict[str, list[tuple[str, str]]] = {}
    names = {u.code: u.name for u in definition.units}
    for s in db.accepted_assessments(period):
        text = (s.learned or "").strip()
        if text:
            learned.setdefault(s.focus_area, []).append((names.get(s.unit, s.unit), text))
    return _Figures(
        rows_of(long),
        county,
        sectors,
        db.history_for_generation(definition, period),
        views,
        learned,
    )


# -- the workbook ------------------------------------------------------------------------------


def _put(
    ws: Worksheet,
    row: int,
    col: int,
    value: Any,
    *,
    font: Font = _BODY,
    fill: str | None = None,
    number_format: str | None = None,
    wrap: bool = True,
) -> None:
    cell = ws.cell(row, col, value)
    cell.font = font
    cell.alignment = _WRAP if wrap else _NO_WRAP
    if fill:
        cell.fill = PatternFill("solid", start_color=fill, end_color=fill)
    if number_format:
        cell.number_format = number_format


def _text_row(ws: Worksheet, row: int, label: str, text: str, last_col: int) -> None:
    """A focus area's name (columns A–B) and a text over the rest of the row, tall enough."""
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    _put(ws, row, 1, label, font=_BOLD)
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=last_col)
    text = text[:32_000]
    _put(ws, row, 3, text)
    lines = sum(1 + len(part) // 110 for part in text.split("\n"))
    ws.row_dimensions[row].height = min(409.0, 13.5 * max(2, lines))


def _number_format(ind: Indicator) -> str:
    return "#,##0" + ("." + "0" * ind.decimals if ind.decimals else "")


def _status(row: Mapping[str, Any] | None) -> Status | None:
    value = (row or {}).get("status")
    try:
        return Status(value) if value else None
    except ValueError:
        return None


def _fill_for(status: Status | None) -> str | None:
    return _FILLS.get(status) if status is not None else None


def _kostra_text(view: KostraView | None, unit: str, lang: str) -> str:
    if view is None:
        return ""
    parts = []
    mine = view.units.get(unit)
    if mine is not None and mine.value is not None:
        parts.append(t("feedback.kostra-unit", lang, value=f"{mine.value:g}"))
    if view.county is not None and view.county.value is not None:
        parts.append(t("feedback.kostra-county", lang, value=f"{view.county.value:g}"))
    for fig in view.comparisons.values():
        if fig.value is not None:
            parts.append(f"{fig.region_name or fig.region}: {fig.value:g}")
    return f"{' · '.join(parts)} ({view.year})" if parts else ""


def build_feedback(
    definition: Definition,
    unit: Unit,
    period: str,
    figures: _Figures,
    comments: Mapping[tuple[str, str], str],
    lang: str,
) -> Workbook:
    """One unit's feedback workbook (not saved, not signed)."""
    wb = Workbook()
    ws = wb.active
    ws.title = t("feedback.sheet", lang)
    per = definition.period(period)
    _put(
        ws,
        1,
        1,
        t("feedback.title", lang, unit=unit.name, period=per.label),
        font=_TITLE,
        wrap=False,
    )
    _put(ws, 2, 1, t("feedback.subtitle", lang, county=definition.county.name), wrap=False)
    columns = _write_heads(ws, definition, unit, period, figures, lang)
    row = _write_indicator_rows(ws, definition, unit, period, figures, lang)
    row += 2
    _put(ws, row, 1, t("feedback.comments", lang), font=_BOLD, wrap=False)
    areas = unit_focus_areas(definition, unit)
    for area in areas:
        row += 1
        _text_row(ws, row, area.name, comments.get((unit.code, area.code)) or "–", columns)
    row += 2
    _put(ws, row, 1, t("feedback.county-learned", lang), font=_BOLD, wrap=False)
    for area in areas:
        lines = figures.learned.get(area.code, [])
        row += 1
        text = "\n".join(f"{name}: {learned}" for name, learned in lines) or "–"
        _text_row(ws, row, area.name, text, columns)
    ws.freeze_panes = "A5"
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    return wb


def _write_heads(
    ws: Worksheet,
    definition: Definition,
    unit: Unit,
    period: str,
    figures: _Figures,
    lang: str,
) -> int:
    """The column heads on row 4 and the column widths; returns the number of columns."""
    previous = [p for p, _ in next(iter(figures.trend.values()), [])]
    sector = next((s for s in definition.sectors if s.code == unit.sector), None)
    heads = [
        t("feedback.col.code", lang),
        t("feedback.col.indicator", lang),
        t("feedback.col.target", lang),
        *previous,
        t("feedback.col.result", lang, period=period),
        t("feedback.col.status", lang),
        t("feedback.col.county", lang),
        t("feedback.col.sector", lang, sector=sector.name if sector else "–"),
        t("feedback.col.kostra", lang),
    ]
    widths = [9, 40, 14, *([10] * len(previous)), 12, 11, 12, 22, 30]
    for col, (head, width) in enumerate(zip(heads, widths, strict=True), start=1):
        _put(ws, 4, col, head, font=_BOLD, fill="D9E1F2")
        ws.column_dimensions[get_column_letter(col)].width = width
    return len(heads)


def _write_indicator_rows(
    ws: Worksheet,
    definition: Definition,
    unit: Unit,
    period: str,
    figures: _Figures,
    lang: str,
) -> int:
    """One row per indicator of ``unit`` from row 5: target, last periods, result and status,
    the county's and the sector's value, KOSTRA; returns the last row written."""
    mine = {r["indicator"]: r for r in figures.long if r["unit"] == unit.code}
    row = 4
    for ind in definition.indicators_for_unit(unit):
        row += 1
        own = mine.get(ind.code, {})
        status = _status(own)
        county = figures.county.get(ind.code)
        in_sector = figures.sectors.get(unit.sector or "", {}).get(ind.code)
        fmt = _number_format(ind)
        value = own.get("value") if own.get("kind") == "number" else (own.get("raw") or None)
        history = [text for _, text in figures.trend.get((unit.code, ind.code), [])]
        cells: list[tuple[Any, str | None, str | None]] = [
            (ind.code, None, None),
            (ind.name + (f" ({ind.unit_of_measure})" if ind.unit_of_measure else ""), None, None),
            (target_text(effective_target(ind, unit, period)[0], ind, lang), None, None),
            *((text or None, None, None) for text in history),
            (value, fmt, None),
            (
                status_label(status, lang) if status else "",
                None,
                _fill_for(status),
            ),
            ((county or {}).get("value"), fmt, _fill_for(_status(county))),
            ((in_sector or {}).get("value"), fmt, None),
            (_kostra_text(figures.kostra.get(ind.code), unit.code, lang), None, None),
        ]
        for col, (content, number_format, fill) in enumerate(cells, start=1):
            _put(ws, row, col, content, number_format=number_format, fill=fill)
        ws.row_dimensions[row].height = 13.5 * max(1, -(-len(str(cells[1][0])) // 42))
    return row


def _sign(
    wb: Workbook,
    definition: Definition,
    unit: Unit,
    period: str,
    lang: str,
    secret: bytes,
    now: dt.datetime,
    digest: str,
) -> dict[str, str]:
    fields = {
        "unit": unit.code,
        "period": period,
        "definition_hash": definition_hash(definition),
        "template_version": FEEDBACK_VERSION,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "county": definition.county.code,
        "language": lang,
        # The signature covers the contents too: a digest of the sheet's cell values.
        "layout_fingerprint": digest,
    }
    fields["signature"] = sign_meta(fields, secret)
    wb.custom_doc_props = CustomPropertyList()
    for key, value in fields.items():
        wb.custom_doc_props.append(StringProperty(name=f"bms.{key}", value=value))
    return fields


def content_digest(wb: Workbook) -> str:
    """sha256 of every non-empty cell (sheet, coordinate, value) of ``wb``, in order."""
    cells = [
        (ws.title, c.coordinate, str(c.value))
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_feedback(
    db: History,
    definition: Definition,
    period: str,
    *,
    out_dir: Path,
    secret: bytes,
    lang: str = "nb",
    comments: Mapping[tuple[str, str], str] | None = None,
    units: Sequence[str] = (),
    by: str | None = None,
    now: dt.datetime | None = None,
) -> FeedbackResult:
    """Write the feedback workbooks of ``period`` (units with an accepted return) and the
    manifest into ``out_dir``; record a ``feedback`` event per workbook."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    figures = _figures(db, definition, period)
    returned = {v.unit for v in db.accepted_values(period) if v.source == "unit"}
    chosen = [u for u in definition.units if u.code in returned and (not units or u.code in units)]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(out_dir), detail=str(exc))
        ) from exc
    result = FeedbackResult(period, out_dir)
    password = protection_password(secret)
    for unit in chosen:
        wb = build_feedback(definition, unit, period, figures, comments or {}, lang)
        _sign(wb, definition, unit, period, lang, secret, now, content_digest(wb))
        for ws in wb.worksheets:
            ws.protection.sheet = True
            ws.protection.password = password
        wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)
        wb.properties.title = t("feedback.title", lang, unit=unit.name, period=period)[:255]
        wb.properties.creator = "bms_excel"
        problems = guard_workbook(wb)
        name = safe_filename(period, unit.code).removesuffix(".xlsx") + "_tilbakemelding.xlsx"
        path = out_dir / name
        if problems:
            raise OutputError(t("feedback.guard", problems="; ".join(problems[:10])), name)
        save_workbook_atomic(wb, path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        contact = unit.contact
        result.files.append(path)
        result.manifest.append(
            ManifestRow(
                unit=unit.code,
                name=unit.name,
                file=name,
                contact_name=contact.name if contact else "",
                email=(contact.email or "") if contact else "",
                deadline="",
                sha256=digest,
            )
        )
        db.record_dialogue_event(
            "feedback",
            period,
            by=by or current_user(),
            unit=unit.code,
            reason=name,
        )
    if result.manifest:
        result.manifest_csv, result.manifest_json = write_manifest(result.manifest, out_dir)
    return result
