"""Write a scorecard definition as a workbook controllers can edit (``bms definition export``).

Sheets (names in the workbook's language): the Målekart overview for printing, the county and
its settings (one row per field), then one sheet per list of the definition with one item per
row — the layout is :mod:`bms_excel.defbook.layout`, which the import reads with. Every list
sheet is an Excel Table with a locked header row, input messages that explain each column,
dropdowns for enumerations and :data:`~bms_excel.defbook.layout.FREE_ROWS` empty rows to add to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel import model as m
from bms_excel.defbook.layout import (
    COUNTY_ROWS,
    FREE_ITEMS,
    FREE_ROWS,
    LIST_SHEETS,
    PARENT,
    SCOPE_WORDS,
    Column,
    ListSheet,
    sheet_name,
)
from bms_excel.defbook.shape import plain
from bms_excel.definition import number_text
from bms_excel.errors import OutputError
from bms_excel.i18n import t
from bms_excel.xlsx.files import write_atomic

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF", size=10)
BODY_FONT = Font(size=10)
THIN = Side(style="thin", color="BFBFBF")
PROMPT_MAX, TITLE_MAX = 255, 32
# A literal "_x0041_" in a text would be read back as "A" (OOXML's escape): escape the "_".
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")

Row = tuple[dict[str, Any], str | None]


def write_definition_workbook(defn: m.Definition, path: Path, lang: str) -> str:
    """Write ``defn`` as a workbook to ``path`` atomically; return its SHA-256."""
    wb = build_definition_workbook(defn, lang)
    buffer = io.BytesIO()
    wb.save(buffer)
    payload = buffer.getvalue()
    try:
        write_atomic(path, payload, suffix=".xlsx.tmp", create_folder=True)
    except OSError as exc:
        raise OutputError(t("defbook.cannot-write", path=str(path), detail=str(exc))) from exc
    return hashlib.sha256(payload).hexdigest()


def build_definition_workbook(defn: m.Definition, lang: str) -> Workbook:
    """The definition workbook of ``defn`` with texts in ``lang``."""
    wb = Workbook()
    overview = wb.active
    assert overview is not None
    overview.title = sheet_name("overview", lang)
    _write_overview(overview, defn, lang)
    _write_county(wb.create_sheet(sheet_name("county", lang)), defn, lang)
    data = plain(defn, defaults=True)
    for spec in LIST_SHEETS:
        ws = wb.create_sheet(spec.name(lang))
        rows = list(_rows(spec, data))
        extra = _attribute_names(defn) if spec.key == "units" else []
        _write_list(ws, spec, rows, extra, lang)
    wb.properties.title = t("defbook.title", lang, county=defn.county.name)
    wb.properties.creator = "bms_excel"
    return wb


# -- rows -------------------------------------------------------------------------------------


def _rows(spec: ListSheet, data: dict[str, Any]) -> Iterator[Row]:
    """The items of ``spec``'s list with the code of the item each belongs to."""
    areas = data["focus_areas"]
    goals = [(g, a["code"]) for a in areas for g in a.get("goals", [])]
    factors = [(f, g["code"]) for g, _ in goals for f in g.get("factors", [])]
    indicators = [(i, f["code"]) for f, _ in factors for i in f.get("indicators", [])]
    nested: dict[str, list[Row]] = {
        "focus_areas": [(a, None) for a in areas],
        "goals": goals,
        "factors": factors,
        "indicators": indicators,
        "overrides": [(o, i["code"]) for i, _ in indicators for o in i.get("overrides", [])],
    }
    if spec.keyed is not None:
        key, value = spec.keyed
        nested[spec.key] = [
            ({key: k, value: v}, i["code"])
            for i, _ in indicators
            for k, v in i.get(spec.list_key, {}).items()
        ]
    if spec.key in nested:
        yield from nested[spec.key]
    else:
        yield from ((item, None) for item in data.get(spec.list_key, []))


def _attribute_names(defn: m.Definition) -> list[str]:
    """The units' attribute names in an order that keeps every unit's own order (a merge of
    the per-unit orders, first appearance first), so the attributes read back in order."""
    after: dict[str, set[str]] = {}
    first: list[str] = []
    for unit in defn.units:
        keys = list(unit.attributes)
        for i, key in enumerate(keys):
            if key not in after:
                after[key] = set()
                first.append(key)
            after[key].update(keys[:i])
    order: list[str] = []
    pending = list(first)
    while pending:
        ready = next((k for k in pending if after[k] <= set(order)), pending[0])
        order.append(ready)
        pending.remove(ready)
    return order


def cell_value(item: dict[str, Any], column: Column, parent: str | None) -> Any:
    """The value of ``column`` for one item in its YAML shape (``None``: leave the cell empty)."""
    if column.field == (PARENT,):
        return parent
    value: Any = item
    for part in column.field:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part in ("min", "max"):
            value = value[0 if part == "min" else 1]
        else:
            return None
    if column.kind == "list":
        return ", ".join(value) if isinstance(value, list) and value else None
    if column.kind == "map":
        return "; ".join(f"{k}={v}" for k, v in value.items()) if value else None
    if column.kind == "flag":
        return column.choices[0] if value is True else None
    if column.field == ("scope",) and isinstance(value, dict):
        # all units but some (``{all: true, except: [...]}``): the exceptions have a column
        return next((word for word, form in SCOPE_WORDS.items() if value.get(*form)), None)
    if isinstance(value, dict | list):
        return None
    return value


def _items(data: dict[str, Any], path: tuple[str, ...]) -> list[Any]:
    """The list at ``path`` in ``data`` (empty when any part is missing)."""
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return list(node) if isinstance(node, list) else []


# -- sheets -----------------------------------------------------------------------------------


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Cell:
    cell = ws.cell(row, col)
    if isinstance(value, str):
        cell.value = _OOXML_ESCAPE.sub(r"_x005F_\1", value)
        cell.data_type = "s"  # a text starting with "=" stays a text, never a formula
    elif value is not None:
        cell.value = value
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    cell.font = BODY_FONT
    return cell


def _header(ws: Worksheet, row: int, texts: list[str]) -> None:
    for col, text in enumerate(texts, 1):
        cell = _put(ws, row, col, text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.protection = Protection(locked=True)


def _protect(ws: Worksheet) -> None:
    """Lock the sheet (no password: the header is protected against slips, not people) while
    rows may be added, deleted, sorted and filtered and columns resized."""
    p = ws.protection
    p.sheet = True
    p.insertRows = p.deleteRows = p.sort = p.autoFilter = False
    p.formatColumns = p.formatRows = p.formatCells = False


def _validation(column: Column, lang: str) -> DataValidation:
    prompt = column.help(lang)
    if len(prompt) > PROMPT_MAX:
        prompt = prompt[: PROMPT_MAX - 1] + "…"
    if column.choices:
        listed = ",".join(column.choices)
        dv = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True)
        dv.showErrorMessage = True
        dv.errorTitle = column.header(lang)[:TITLE_MAX]
        dv.error = t("defbook.choose-from-list", lang, choices=", ".join(column.choices))
    else:
        dv = DataValidation(allow_blank=True)
    dv.showInputMessage = True
    dv.promptTitle = column.header(lang)[:TITLE_MAX]
    dv.prompt = prompt
    return dv


def _write_list(
    ws: Worksheet, spec: ListSheet, rows: list[Row], attributes: list[str], lang: str
) -> None:
    columns = list(spec.columns)
    headers = [c.header(lang) for c in columns] + attributes
    _header(ws, 1, headers)
    last = 1 + len(rows) + FREE_ROWS
    for r, (item, parent) in enumerate(rows, 2):
        for c, column in enumerate(columns, 1):
            _put(ws, r, c, cell_value(item, column, parent))
        values = item.get("attributes", {})
        for c, name in enumerate(attributes, len(columns) + 1):
            _put(ws, r, c, values.get(name))
    width = len(headers)
    # Style one body cell, then copy its style array to the rest: assigning font, border and
    # protection cell by cell is most of openpyxl's time for a few thousand cells.
    first = ws.cell(2, 1)
    first.font, first.border = BODY_FONT, Border(bottom=THIN)
    first.protection = Protection(locked=False)
    body, dated = copy(first._style), None
    for r in range(2, last + 1):
        for c in range(1, width + 1):
            cell = ws.cell(r, c)
            is_date = cell.is_date
            if is_date and dated is None:
                cell._style = copy(body)
                cell.number_format = "yyyy-mm-dd"
                dated = copy(cell._style)
            cell._style = copy(dated if is_date and dated is not None else body)
    attribute_column = Column("attribute", ("attributes",), "number", width=10)
    for c, column in enumerate([*columns, *[attribute_column] * len(attributes)], 1):
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = column.width
        dv = _validation(column, lang)
        ws.add_data_validation(dv)
        dv.add(f"{letter}2:{letter}{last}")
    table = Table(displayName=spec.table_name, ref=f"A1:{get_column_letter(width)}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "A2" if spec.parent is None else "C2"
    ws.row_dimensions[1].height = 30
    _protect(ws)


def _write_county(ws: Worksheet, defn: m.Definition, lang: str) -> None:
    data = plain(defn, defaults=True)
    _header(ws, 1, [t(f"defbook.county-col.{k}", lang) for k in ("field", "value", "yaml")])
    rows: list[tuple[Column, Any]] = []
    for column in COUNTY_ROWS:
        if column.kind == "item":
            # one row per element (a strategy), and a few empty ones to add to
            rows += [(column, v) for v in [*_items(data, column.field), *[None] * FREE_ITEMS]]
        else:
            rows.append((column, cell_value(data, column, None)))
    for r, (column, value) in enumerate(rows, 2):
        _put(ws, r, 1, column.header(lang))
        _put(ws, r, 2, value).protection = Protection(locked=False)
        _put(ws, r, 3, ".".join(column.field)).font = Font(size=9, color="808080")
        dv = _validation(column, lang)
        ws.add_data_validation(dv)
        dv.add(f"B{r}")
    last = 1 + len(rows)
    table = Table(displayName="tbl_county", ref=f"A1:C{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    ws.add_table(table)
    for letter, width in zip("ABC", (34, 40, 34), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    _protect(ws)


# -- the Målekart overview --------------------------------------------------------------------


def target_text(target: m.Target | None, lang: str = "nb") -> str:
    """A target as people write it: ``70 %``, ``7,5``, ``7 – 9`` (decimal point in English)."""
    if target is None:
        return ""
    if target.text is not None:
        return target.text

    def num(value: float | None) -> str:
        text = number_text(value)
        return text if lang == "en" else text.replace(".", ",")

    if target.value is not None:
        return num(target.value)
    return f"{num(target.low)} – {num(target.high)}"


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (an estimate:
    LibreOffice and Excel do not grow rows written with a height of their own)."""
    per_line = max(int(width * 1.05), 1)
    return sum(max(-(-len(part) // per_line), 1) for part in text.split("\n"))


def _write_overview(ws: Worksheet, defn: m.Definition, lang: str) -> None:
    """Focus area → goal → factor → indicator with target and owner, ready to print on A4."""
    title = _put(ws, 1, 1, t("defbook.title", lang, county=defn.county.name))
    title.font = Font(bold=True, size=14)
    keys = ("area", "goal", "factor", "indicator", "target", "owner")
    _header(ws, 2, [t(f"defbook.overview.{k}", lang) for k in keys])
    wrap = Alignment(wrap_text=True, vertical="top")
    widths = (24, 30, 30, 48, 14, 18)

    def fit(row: int, column: int, text: str) -> None:
        lines = _lines(text, widths[column - 1])
        current = ws.row_dimensions[row].height or 0
        ws.row_dimensions[row].height = max(current, 14.0 * lines)

    row = 3
    for area in defn.focus_areas:
        colour = area.colour.lstrip("#").upper()
        fill = PatternFill("solid", fgColor=colour)
        for c in range(1, len(keys) + 1):
            ws.cell(row, c).fill = fill
        cell = _put(ws, row, 1, f"{area.code} {area.name}")
        cell.font = Font(bold=True, size=11, color=_contrast(colour))
        row += 1
        for goal in area.goals:
            _put(ws, row, 2, f"{goal.code} {goal.name}").font = Font(bold=True, size=10)
            ws.cell(row, 2).alignment = wrap
            fit(row, 2, f"{goal.code} {goal.name}")
            row += 1
            for factor in goal.factors:
                _put(ws, row, 3, f"{factor.code} {factor.name}").font = Font(italic=True, size=10)
                ws.cell(row, 3).alignment = wrap
                fit(row, 3, f"{factor.code} {factor.name}")
                row += 1
                for ind in factor.indicators:
                    target = target_text(ind.target, lang)
                    texts = (f"{ind.code} {ind.name}", target, ind.owner or "")
                    for c, text in enumerate(texts, 4):
                        _put(ws, row, c, text).alignment = wrap
                        ws.cell(row, c).border = Border(bottom=THIN)
                        fit(row, c, text)
                    row += 1
    for letter, width in zip("ABCDEF", widths, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&P / &N"
    ws.protection.sheet = True


def _contrast(colour: str) -> str:
    """White or black text, whichever reads better on the fill ``colour`` (RRGGBB)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return "000000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "FFFFFF"
