"""The list sheets of the county master workbook: dialogue, submissions, findings, data, about.

Kommentarer, Tiltak, Vurderinger, Innsending and Avvik are filterable lists (autofilter, frozen
header, repeated print titles); Data is the long table as an Excel Table (ListObject) for
pivots and Power BI; Om records the run. Everything a unit typed is written as text, never as
a formula. The dashboard sheets are in :mod:`bms_excel.master.overview`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.dialogue import DECISIONS
from bms_excel.errors import Finding
from bms_excel.followup import overdue_actions
from bms_excel.history import DialogueEvent
from bms_excel.i18n import t
from bms_excel.master.cells import (
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    SECTION_FONT,
    SMALLEST_FONT,
    WRAP,
    fill,
    fit_rows,
    fmt_time,
    font,
    header_row,
    label,
    print_setup,
    put,
    quoted,
    state_cf,
    status_cf,
    style_id,
    timing_text,
    title,
)
from bms_excel.master.data import (
    MasterData,
    Rows,
    long_columns,
)
from bms_excel.model import Definition
from bms_excel.report.selection import INCLUDE_COLUMN
from bms_excel.xlsx.printing import fit_widths
from bms_excel.xlsx.rows import defer_lazy_rows, defer_rows, deferred_heights, deferred_rows

#: The Data sheet's Excel Table (a prefixed name can never read as a cell reference).
DATA_TABLE = "tbl_bms_data"
#: Columns of the Data sheet: (long-table column, catalogue key of the header).
DATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("unit", "master.col.unit"),
    ("unit_name", "master.col.unit-name"),
    ("sector", "master.col.sector"),
    ("period", "master.col.period"),
    ("focus_area", "master.col.focus-area"),
    ("goal", "master.col.goal"),
    ("factor", "master.col.factor"),
    ("indicator", "master.col.indicator"),
    ("indicator_name", "master.col.indicator-name"),
    ("unit_of_measure", "master.col.measure"),
    ("value", "master.col.value"),
    ("kind", "master.col.kind"),
    ("target", "master.col.target"),
    ("status_label", "master.col.status"),
    ("status", "master.col.status-code"),
    ("score", "master.col.score"),
    ("comment", "master.col.comment"),
    ("source", "master.col.source"),
    ("file", "master.col.file"),
    ("sha256", "master.col.sha256"),
    ("has_error", "master.col.has-error"),
    ("raw", "master.col.raw"),
    ("result_level", "master.col.result-level"),
    ("timing", "master.col.timing"),
)
_DATE = "dd.mm.yyyy"
#: Innsending's column for the controller's decision (the reason is the one after it).
REVIEW_COLUMN = 8
_LINK_FONT = font(color="0563C1", underline="single")
_UNLOCKED = Protection(locked=False)
#: Rows below the last the dropdowns of the controller's columns reach (rows added by hand).
_SPARE_ROWS = 200


# -- dialogue and lists ------------------------------------------------------------------------


def _list_sheet(
    ws: Worksheet,
    lang: str,
    heading: str,
    columns: Sequence[tuple[str, float]],
    rows: Iterable[Sequence[Any]],
    *,
    formats: Mapping[int, str] | None = None,
    defer: bool = False,
    unlocked: Collection[int] = (),
) -> int:
    """A titled, filterable list: header in row 3, data from row 4; returns the last row.

    With ``defer`` (texts, numbers and dates) the rows are written into the sheet part at
    save (:func:`defer_rows`), wrapped, in the ``formats`` and with the heights
    :func:`fit_rows` would give them; nothing may then be written below the header through
    openpyxl. The ``unlocked`` columns are the controller's to fill in, also on a protected
    sheet.
    """
    title(ws, heading)
    widths = fit_widths([w for _, w in columns], SMALLEST_FONT)
    header_row(ws, 3, [c for c, _ in columns], widths)
    ws.row_dimensions[3].height = 30
    row = 3
    if defer:
        kept = list(rows)
        if kept:
            wrap = style_id(ws, alignment=WRAP)
            ids = tuple(
                style_id(ws, alignment=WRAP, number_format=formats[col])
                if formats and col in formats
                else style_id(ws, alignment=WRAP, protection=_UNLOCKED)
                if col in unlocked
                else wrap
                for col in range(1, len(columns) + 1)
            )
            styles: list[tuple[int, ...] | None] = [ids] * len(kept)
            heights = deferred_heights(ws, 4, kept)
            row = defer_rows(ws, 4, kept, styles=styles, heights=heights)
            rows = ()
    for values in rows:
        row += 1
        for col, value in enumerate(values, start=1):
            cell = put(ws, row, col, value, alignment=WRAP)
            if col in unlocked:
                cell.protection = _UNLOCKED
            if formats and col in formats:
                cell.number_format = formats[col]
    if row > 3 and not deferred_rows(ws.parent).get(ws.title):
        fit_rows(ws, 4, row)
    end = max(row, 4)
    ws.auto_filter.ref = f"A3:{get_column_letter(len(columns))}{end}"
    ws.freeze_panes = "A4"
    print_setup(ws, lang, "3:3")
    return row


def _unit_names(d: Definition) -> dict[str, tuple[str, str]]:
    return {u.code: (u.name, u.sector) for u in d.units}


def write_comments(ws: Worksheet, data: MasterData) -> None:
    """Kommentarer: every unit comment with unit, indicator, value and status."""
    lang = data.lang
    cols = [
        (t("master.col.unit", lang), 11),
        (t("master.col.unit-name", lang), 28),
        (t("master.col.sector", lang), 8),
        (t("master.col.indicator", lang), 9),
        (t("master.col.indicator-name", lang), 32),
        (t("master.col.value", lang), 10),
        (t("master.col.status", lang), 11),
        (t("master.col.comment", lang), 70),
        (t(INCLUDE_COLUMN, lang), 12),
    ]
    yes = t("master.include.yes", lang)
    rows = [
        (
            r["unit"] or "",
            r["unit_name"],
            r["sector"] or "",
            r["indicator"],
            r["indicator_name"],
            r["value"] if r["value"] is not None else (r.get("raw") or ""),
            label(r["status"], lang),
            r["comment"],
            yes if (r["unit"] or "", r["indicator"]) in data.marked_comments else "",
        )
        for r in _rows_with_comments(data.long)
    ]
    heading = t("master.sheet.comments", lang)
    last = _list_sheet(ws, lang, heading, cols, rows, defer=True, unlocked={len(cols)})
    include_validation(ws, len(cols), max(last, 4) + _SPARE_ROWS, lang)
    if last >= 4:
        status_cf(ws, f"G4:G{last}", lang)


def _rows_with_comments(long: Rows) -> Iterator[dict[str, Any]]:
    """The long table's rows with a comment, as dicts (the others are never made)."""
    columns = long_columns(long)
    comments = columns.get("comment") or []
    for k, comment in enumerate(comments):
        if comment and str(comment).strip():
            yield {key: column[k] for key, column in columns.items()}


def write_actions(ws: Worksheet, data: MasterData) -> None:
    """Tiltak: the units' actions with indicator, responsible, deadline and status."""
    lang, names = data.lang, _unit_names(data.definition)
    cols = [
        (t("master.col.unit", lang), 11),
        (t("master.col.unit-name", lang), 28),
        (t("master.col.indicator", lang), 9),
        (t("master.col.action", lang), 60),
        (t("master.col.responsible", lang), 18),
        (t("master.col.deadline", lang), 11),
        (t("master.col.action-status", lang), 12),
        (t("master.col.file", lang), 26),
        (t("master.col.followup", lang), 14),
    ]
    dialogue = data.dialogue
    overdue = {id(a) for a in overdue_actions(data.actions, dialogue.day or dt.date.max)}
    rows: list[tuple[Any, ...]] = [
        (
            a.unit,
            names.get(a.unit, ("", ""))[0],
            a.indicator or "",
            a.action,
            a.responsible or "",
            a.deadline,
            a.status or "",
            a.file or "",
            t("master.followup.overdue", lang) if id(a) in overdue else "",
        )
        for a in data.actions
    ]
    # A red indicator its unit has no open action for is a row without an action.
    rows += [
        (
            r.unit,
            names.get(r.unit, ("", ""))[0],
            r.indicator,
            "",
            "",
            None,
            "",
            "",
            t("master.followup.red-without-action", lang),
        )
        for r in dialogue.red_without_action
    ]
    _list_sheet(
        ws, lang, t("master.sheet.actions", lang), cols, rows, formats={6: _DATE}, defer=True
    )


def write_assessments(ws: Worksheet, data: MasterData) -> None:
    """Vurderinger: each unit's assessment and what it has learned, per focus area."""
    lang, names = data.lang, _unit_names(data.definition)
    areas = {a.code: a.name for a in data.definition.focus_areas}
    cols = [
        (t("master.col.unit", lang), 11),
        (t("master.col.unit-name", lang), 26),
        (t("master.col.sector", lang), 8),
        (t("master.col.focus-area", lang), 10),
        (t("master.col.focus-area-name", lang), 22),
        (t("master.col.assessment", lang), 55),
        (t("master.col.learned", lang), 55),
    ]
    before, lessons = data.dialogue.previous_period, data.dialogue.previous_lessons
    if before is not None:
        cols.append((t("master.col.previous-learned", lang, period=before), 55))
    # For the controller to fill in; ``bms feedback --comments MASTER`` reads it back.
    cols.append((t("master.col.controller-comment", lang), 45))
    cols.append((t(INCLUDE_COLUMN, lang), 12))
    yes = t("master.include.yes", lang)
    rows = [
        (
            s.unit,
            *names.get(s.unit, ("", "")),
            s.focus_area,
            areas.get(s.focus_area, ""),
            s.assessment or "",
            s.learned or "",
            *((lessons.get((s.unit, s.focus_area), ""),) if before is not None else ()),
            "",
            yes if (s.unit, s.focus_area) in data.marked_lessons else "",
        )
        for s in data.assessments
        if (s.assessment or "").strip() or (s.learned or "").strip()
    ]
    heading = t("master.sheet.assessments", lang)
    last = _list_sheet(ws, lang, heading, cols, rows, defer=True, unlocked={len(cols)})
    include_validation(ws, len(cols), max(last, 4) + _SPARE_ROWS, lang)


def write_submissions(ws: Worksheet, data: MasterData) -> None:
    """Innsending: every unit in scope as received / missing (with contact) / rejected / duplicate."""
    lang, names = data.lang, _unit_names(data.definition)
    cols = [
        (t("master.col.unit", lang), 12),
        (t("master.col.unit-name", lang), 30),
        (t("master.col.sector", lang), 8),
        (t("master.col.state", lang), 12),
        (t("master.col.contact", lang), 22),
        (t("master.col.email", lang), 30),
        (t("master.col.files", lang), 50),
        (t("master.col.review", lang), 16),
        (t("master.col.review-reason", lang), 40),
    ]
    reviews = data.dialogue.reviews
    rows = [
        (
            u.code,
            u.name,
            names.get(u.code, ("", ""))[1],
            t(f"collect.state.{u.state}", lang),
            u.contact_name or "",
            u.email or "",
            "\n".join(u.files),
            *(review_cells(reviews[u.code], lang) if u.code in reviews else ("", "")),
        )
        for u in data.units
    ]
    last = _list_sheet(ws, lang, t("master.sheet.submissions", lang), cols, rows, defer=True)
    review_validation(ws, max(last, 4) + 200, lang)
    counts = {
        s: sum(1 for u in data.units if u.state == s)
        for s in ("received", "missing", "duplicate", "rejected")
    }
    put(
        ws,
        2,
        1,
        t("master.submissions.summary", lang, total=len(data.units), **counts),
        font=font(italic=True),
    )
    if last >= 4:
        state_cf(ws, f"D4:D{last}", lang)


def review_cells(event: DialogueEvent, lang: str) -> tuple[str, str]:
    """Innsending's controller columns for a review in force: decision word and reason."""
    return t(f"dialogue.kind.{event.kind}", lang), event.reason or ""


def review_validation(ws: Worksheet, last_row: int, lang: str) -> None:
    """The controller's decision column: a dropdown of «godkjent» / «returnert»."""
    column = get_column_letter(REVIEW_COLUMN)
    words = ",".join(t(f"dialogue.kind.{k}", lang) for k in DECISIONS)
    dv = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True)
    dv.sqref = MultiCellRange(f"{column}4:{column}{last_row}")
    ws.add_data_validation(dv)


def include_validation(ws: Worksheet, column: int, last_row: int, lang: str) -> None:
    """The «Ta med i rapport» column: a dropdown of «Ja» (empty: the report takes all rows)."""
    letter = get_column_letter(column)
    dv = DataValidation(
        type="list", formula1=f'"{t("master.include.yes", lang)}"', allow_blank=True
    )
    dv.sqref = MultiCellRange(f"{letter}4:{letter}{last_row}")
    ws.add_data_validation(dv)


def period_state_text(closed: DialogueEvent | None, lang: str) -> str:
    """Om's period status: open, or closed when and by whom."""
    if closed is None:
        return t("master.about.period-open", lang)
    return t("master.about.period-closed", lang, at=closed.at, by=closed.by)


def location_text(f: Finding) -> str:
    """``'[file]sheet'!cell``: the location in Excel's external-reference form."""
    if not f.file:
        return ""
    if not f.sheet:
        return f.file
    where = f"[{f.file}]{f.sheet}".replace("'", "''")  # a quote inside is doubled, once
    return f"'{where}'" + (f"!{f.cell}" if f.cell else "")


def write_findings(ws: Worksheet, data: MasterData) -> None:
    """Avvik: every finding with file, sheet, cell, severity, message, code and a location."""
    lang = data.lang
    cols = [
        (t("master.col.file", lang), 28),
        (t("master.col.sheet", lang), 12),
        (t("master.col.cell", lang), 8),
        (t("master.col.severity", lang), 11),
        (t("master.col.message", lang), 70),
        (t("master.col.finding-code", lang), 20),
        (t("master.col.location", lang), 36),
    ]
    rows = [
        (
            f.file or "",
            f.sheet or "",
            f.cell or "",
            t(f"severity.{f.severity}", lang),
            f.message,
            f.code,
            location_text(f),
        )
        for f in data.findings
    ]
    if data.findings:
        _findings_deferred(ws, data, cols, rows)
        return
    last = _list_sheet(ws, lang, t("master.sheet.findings", lang), cols, rows)
    put(ws, 4, 1, t("master.findings.none", lang))
    _severity_cf(ws, lang, last)
    if data.excluded:
        row = max(last, 4) + 3
        for i, values in enumerate(_excluded_rows(data, row), start=row):
            for col, (value, style) in enumerate(values, start=1):
                put(ws, i, col, value, **style)


def _severity_cf(ws: Worksheet, lang: str, last: int) -> None:
    for sev, colour in (("error", "FFC7CE"), ("warning", "FFEB9C")):
        ws.conditional_formatting.add(
            f"D4:D{max(last, 4)}",
            CellIsRule(
                operator="equal", formula=[quoted(t(f"severity.{sev}", lang))], fill=fill(colour)
            ),
        )


def _excluded_rows(data: MasterData, row: int) -> list[list[tuple[Any, dict[str, Any]]]]:
    """The excluded-values section from ``row``: (value, style) per cell, title row first."""
    lang = data.lang
    out: list[list[tuple[Any, dict[str, Any]]]] = [
        [(t("master.findings.excluded", lang), {"font": SECTION_FONT})]
    ]
    labels = [
        t(f"master.col.{k}", lang)
        for k in ("unit", "unit-name", "indicator", "raw", "reason", "message", "file")
    ]
    head = {"font": HEADER_FONT, "fill": HEADER_FILL, "alignment": CENTER}
    out.append([(text, head) for text in labels])
    wrap = {"alignment": WRAP}
    # The error finding that left a value out gives the reason (a number outside the valid
    # range is not "not a number"); without one, the consolidation's own reason.
    causes: dict[tuple[str | None, str], Finding] = {}
    for f in data.findings:
        indicator = f.extra.get("indicator")
        if f.severity == "error" and isinstance(indicator, str):
            causes.setdefault((f.file, indicator), f)
    for r in data.excluded:
        shown = r.get("raw") or (r["value"] if r.get("value") is not None else "")
        cause = causes.get((r["file"], r["indicator"]))
        values = (
            r["unit"] or "",
            r["unit_name"],
            r["indicator"],
            shown,
            cause.code if cause else r["reason"],
            cause.message if cause else r["message"],
            r["file"] or "",
        )
        out.append([(v, wrap) for v in values])
    return out


def _findings_deferred(
    ws: Worksheet, data: MasterData, cols: Sequence[tuple[str, float]], rows: list[Any]
) -> None:
    """Avvik with findings: every row written into the sheet part at save (:func:`defer_rows`).

    The same cells, styles, row heights and hyperlinks as cell by cell, without a cell object
    per value: tens of thousands of findings in a national run.
    """
    lang = data.lang
    title(ws, t("master.sheet.findings", lang))
    header_row(ws, 3, [c for c, _ in cols], [w for _, w in cols])
    ws.row_dimensions[3].height = 30
    wrap = style_id(ws, alignment=WRAP)
    plain = (wrap,) * len(cols)
    linked = (*plain[:6], style_id(ws, alignment=WRAP, font=_LINK_FONT))
    heights = deferred_heights(ws, 4, rows)
    styles: list[tuple[int, ...] | None] = []
    links: list[tuple[str, str, str | None]] = []
    known: dict[str | None, str | None] = {}  # a file has many findings: one stat per file
    for i, f in enumerate(data.findings, start=4):
        link = known[f.file] if f.file in known else known.setdefault(f.file, _file_link(f, data))
        if link is None:
            styles.append(plain)
        else:
            styles.append(linked)
            location = f"'{f.sheet}'!{f.cell}" if f.sheet and f.cell else None
            links.append((f"G{i}", link, location))
    last = 3 + len(rows)
    all_rows: list[Sequence[Any]] = list(rows)
    if data.excluded:
        all_rows += [(), ()]
        styles += [None, None]
        ids: dict[tuple[tuple[str, int], ...], int] = {}
        for values in _excluded_rows(data, last + 3):
            sids = []
            for _, style in values:
                key = tuple((k, id(v)) for k, v in style.items())
                if key not in ids:
                    ids[key] = style_id(ws, **style)
                sids.append(ids[key])
            all_rows.append(tuple(v for v, _ in values))
            styles.append(tuple(sids))
    defer_rows(ws, 4, all_rows, styles=styles, heights=heights, links=links)
    ws.auto_filter.ref = f"A3:{get_column_letter(len(cols))}{last}"
    ws.freeze_panes = "A4"
    print_setup(ws, lang, "3:3")
    _severity_cf(ws, lang, last)


def _file_link(f: Finding, data: MasterData) -> str | None:
    """A relative link from the master's folder to the submission (only for files that exist)."""
    if not f.file or data.submissions_dir is None or data.master_dir is None:
        return None
    target = data.submissions_dir / f.file
    if not target.is_file():
        return None
    rel = os.path.relpath(target, data.master_dir).replace(os.sep, "/")
    return rel if len(rel) < 2000 else None


# -- Data and Om -------------------------------------------------------------------------------


def write_data(ws: Worksheet, data: MasterData) -> None:
    """Data: the long table as an Excel Table (ListObject) for pivots and Power BI."""
    lang = data.lang
    headers = [t(key, lang) for _, key in DATA_COLUMNS]
    assert len({h.casefold() for h in headers}) == len(headers), "Data headers must be unique"
    for col, text in enumerate(headers, start=1):
        put(ws, 1, col, text)
        ws.column_dimensions[get_column_letter(col)].width = max(10.0, min(40.0, len(text) + 4))
    labels: dict[Any, str] = {}
    # The balance audit's fields (Amdam's result level, leading/lagging) per indicator.
    kinds = {
        ind.code: {"result_level": ind.result_level, "timing": timing_text(ind.timing, lang)}
        for *_, ind in data.definition.iter_indicators()
    }

    def rows() -> Iterator[tuple[Any, ...]]:
        # Column by column from the long table's plain columns (a dict per row would cost
        # more than writing the XML).
        given = long_columns(data.long)
        n = len(data.long)
        indicators = given.get("indicator") or [None] * n
        statuses = given.get("status") or [None] * n
        columns: list[Sequence[Any]] = []
        for key, _ in DATA_COLUMNS:
            if key == "status_label":
                for status in set(statuses):
                    if status not in labels:
                        labels[status] = label(status, lang)
                columns.append([labels[s] for s in statuses])
            elif key == "has_error":
                columns.append([bool(v) for v in given["has_error"]])
            elif key in ("result_level", "timing"):
                columns.append([kinds.get(i, {}).get(key) for i in indicators])
            else:
                columns.append(given.get(key) or [None] * n)
        return zip(*columns, strict=True)

    # Up to hundreds of thousands of plain rows: made and written into the sheet part at save,
    # never held as cells or tuples.
    row = defer_lazy_rows(ws, 2, len(data.long), len(headers), rows)
    end = max(row, 2)  # a table needs a data row, even an empty one
    table = Table(displayName=DATA_TABLE, ref=f"A1:{get_column_letter(len(headers))}{end}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    # Name the columns from the header cells here: left to openpyxl, it would read them via
    # ws[table.ref] and so create an empty cell for every value of the table.
    table._initialise_columns()
    for column, cell in zip(table.tableColumns, ws[1], strict=True):
        column.name = str(cell.value)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    # The checksum and the columns after it are for machines: the printout stops before them.
    printed = [key for key, _ in DATA_COLUMNS].index("sha256")
    print_setup(ws, lang, "1:1", last_col=printed)
    ws.print_area = f"A1:{get_column_letter(printed)}{end}"


def write_about(ws: Worksheet, data: MasterData) -> None:
    """Om: definition checksum, run time, tool version, and every file with its sha256."""
    lang, d, info = data.lang, data.definition, data.info
    title(ws, t("master.sheet.about", lang))
    pairs = [
        ("county", d.county.name),
        ("period", f"{data.period} ({d.period(data.period).label})"),
        ("definition-hash", info.definition_hash),
        ("run-at", fmt_time(info.run_at)),
        ("tool-version", info.tool_version),
        ("run-id", info.run_id if info.run_id is not None else ""),
        ("history", info.history_path),
        ("language", lang),
        ("period-state", period_state_text(data.dialogue.closed, lang)),
    ]
    header_row(ws, 3, [t("master.col.key", lang), t("master.col.value", lang)], [34, 70])
    for i, (key, value) in enumerate(pairs, start=4):
        put(ws, i, 1, t(f"master.about.{key}", lang), font=font(bold=True))
        put(ws, i, 2, value, alignment=Alignment(horizontal="left"))
    row = 4 + len(pairs) + 1
    put(ws, row, 1, t("master.about.files", lang), font=SECTION_FONT)
    labels = [
        t(f"master.col.{k}", lang)
        for k in ("file", "unit", "period", "state", "size", "received", "sha256")
    ]
    for col, text in enumerate(labels, start=1):
        put(ws, row + 1, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    for width, col in zip((16, 12, 12, 16, 66), range(3, 8), strict=True):
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, f in enumerate(sorted(data.files, key=lambda f: f.path), start=row + 2):
        values: tuple[Any, ...] = (
            f.path,
            f.unit or "",
            f.period or "",
            t(f"master.file-state.{f.state}", lang),
            f.size,
            f.received_at or "",
            f.sha256 or "",
        )
        for col, value in enumerate(values, start=1):
            put(ws, i, col, value, number_format="#,##0" if col == 5 else "General")
    dialogue = data.dialogue
    row = max(row + 2 + len(data.files), ws.max_row) + 2
    put(ws, row, 1, t("master.about.dialogue", lang), font=SECTION_FONT)
    labels = [
        t(f"master.col.{k}", lang) for k in ("when", "by", "event", "unit", "dialogue-reason")
    ]
    for col, text in enumerate(labels, start=1):
        put(ws, row + 1, col, text, font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    for i, event in enumerate(dialogue.events, start=row + 2):
        values = (
            event.at,
            event.by,
            t(f"dialogue.kind.{event.kind}", lang),
            event.unit or "",
            event.reason or "",
        )
        for col, value in enumerate(values, start=1):
            put(ws, i, col, value, number_format="General")
    ws.freeze_panes = "A4"
    print_setup(ws, lang, "3:3")
