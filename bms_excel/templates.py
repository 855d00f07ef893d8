"""The unit-workbook template: load it once, render its Jinja placeholders, reuse it per unit.

A template is an ordinary .xlsx (``workbook_templates/enhet.xlsx`` or a controller's copy) with
the five visible sheets in order: Veiledning, Målekort, Tiltak, Vurdering, Kontroll. Text cells
may hold Jinja placeholders, rendered in a sandbox with ``StrictUndefined`` so that a typo fails
at generate time with the template file, sheet and cell named. Rows from each sheet's header
row (Målekort) or below it (the others) are prototype rows: the generator copies their styles
and then regenerates those rows. :class:`LoadedTemplate` snapshots the pristine cells so that
the same loaded workbook can be reset and refilled for every unit. Placeholders that do not
name the unit or its sector render the same for every unit of a run and are rendered once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from copy import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from jinja2 import StrictUndefined, meta
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.formatting import ConditionalFormattingList
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidationList
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.errors import TemplateError
from bms_excel.i18n import t
from bms_excel.layout import (
    ACTION_ROLES,
    ASSESSMENT_ROLES,
    CONTROL_ROLES,
    SCORECARD_PROTOTYPES,
    SCORECARD_ROLES,
    Anchors,
)
from bms_excel.model import Definition, Period, Unit
from bms_excel.xlsx.limits import over_cell_limit
from bms_excel.xlsx.package import FrozenCell

SHEET_KEYS = ("guide", "scorecard", "actions", "assessment", "control")
_MARKERS = ("{{", "{%", "{#")
#: Context names that differ between the units of one run (the rest are fixed per run).
_PER_UNIT_NAMES = frozenset({"unit", "sector"})


def clean_text(text: str, where: str | None = None) -> str:
    """``text`` without control characters; ``TemplateError`` when longer than Excel allows.

    openpyxl would silently cut the text at 32 767 characters, so the check comes first.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    n = over_cell_limit(text)
    if n is not None:
        raise TemplateError(t("generate.text-too-long", None, n=n), where)
    return text


def has_jinja(value: object) -> bool:
    """True when ``value`` is a text holding Jinja syntax."""
    # Nearly no text has a brace: that test first (the guard asks for every cell written).
    return isinstance(value, str) and "{" in value and any(m in value for m in _MARKERS)


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def template_context(
    definition: Definition, unit: Unit, period: Period, lang: str, today: dt.date
) -> dict[str, Any]:
    """The names a template may use: unit, county, sector, period, deadline, contact, t()."""

    def translate(key: str, **params: Any) -> str:
        return t(key, lang, **params)

    def person(contact: Any) -> dict[str, str]:
        return {
            "name": getattr(contact, "name", "") or "",
            "email": getattr(contact, "email", "") or "",
            "phone": getattr(contact, "phone", "") or "",
        }

    try:
        sector_name = definition.sector(unit.sector).name
    except KeyError:
        sector_name = unit.sector
    county = definition.county
    return {
        "t": translate,
        "lang": lang,
        "unit": {
            "code": unit.code,
            "name": unit.name,
            "sector": sector_name,
            "contact": person(unit.contact),
        },
        "sector": {"code": unit.sector, "name": sector_name},
        "county": {"code": county.code, "name": county.name, "contact": person(county.contact)},
        "contact": person(county.contact),
        "period": {
            "code": period.code,
            "label": period.label,
            "end": format_date(period.end),
            "deadline": format_date(period.deadline),
        },
        "deadline": format_date(period.deadline),
        "today": format_date(today),
        "history_period": "",
    }


def format_date(day: dt.date) -> str:
    """A date the Norwegian way: ``30.04.2026``."""
    return day.strftime("%d.%m.%Y")


@dataclass
class _CellCopy:
    row: int
    column: int
    coordinate: str
    value: Any
    style: StyleArray


@dataclass
class _SheetSnapshot:
    cells: list[_CellCopy]
    merged: list[str]
    row_heights: dict[int, float | None]


@dataclass
class LoadedTemplate:
    """A template workbook loaded once, with its pristine state and prototype styles."""

    path: Path
    workbook: Workbook
    anchors: Anchors
    sheets: dict[str, Worksheet]
    snapshots: dict[str, _SheetSnapshot]
    compiled: dict[tuple[str, str], Any]
    #: Målekort: role → template column index; prototype kind → role → style.
    scorecard_styles: dict[str, dict[str, StyleArray]] = field(default_factory=dict)
    scorecard_headers: dict[str, tuple[StyleArray, Any]] = field(default_factory=dict)
    #: The Målekort header roles whose text names the unit or sector (rendered per unit).
    unit_headers: set[str] = field(default_factory=set)
    #: Per sheet, the template cells without placeholders as :meth:`reset` made them first.
    _fixed_cells: dict[str, dict[tuple[int, int], Cell]] = field(default_factory=dict)
    scorecard_widths: dict[str, float | None] = field(default_factory=dict)
    row_heights: dict[tuple[str, str], float | None] = field(default_factory=dict)
    #: Other sheets: sheet key → role → prototype style (ready row of Kontroll: "ready.<role>").
    table_styles: dict[str, dict[str, StyleArray]] = field(default_factory=dict)

    def where(self, key: str, coordinate: str) -> str:
        """``enhet.xlsx: 'Målekort'!A1`` for error messages."""
        return f"{self.path.name}: '{self.snapshot_title(key)}'!{coordinate}"

    def snapshot_title(self, key: str) -> str:
        """The template's own name for the sheet ``key``."""
        return self.sheet_titles[key]

    sheet_titles: dict[str, str] = field(default_factory=dict)
    #: Placeholders that name the unit or its sector (rendered per unit; the rest per run).
    unit_keys: set[tuple[str, str]] = field(default_factory=set)
    _run_key: str = ""
    _constant: dict[tuple[str, str], str] = field(default_factory=dict)

    def render(self, key: str, coordinate: str, context: Mapping[str, Any]) -> str:
        """Render the template cell ``key``/``coordinate`` (raises ``TemplateError`` naming it)."""
        try:
            text = self.compiled[(key, coordinate)].render(context)
        except JinjaError as exc:
            raise TemplateError(
                t("generate.template-render", None, detail=str(exc)), self.where(key, coordinate)
            ) from exc
        return clean_text(text, self.where(key, coordinate))

    def render_cells(self, context: Mapping[str, Any]) -> dict[tuple[str, str], str]:
        """Every placeholder rendered with ``context``: ``(sheet key, cell) → text``.

        Placeholders outside :attr:`unit_keys` are rendered once and reused while the rest of
        the context (period, language, county, dates) stays the same.
        """
        run_key = repr(
            sorted((k, v) for k, v in context.items() if k not in _PER_UNIT_NAMES and k != "t")
        )
        if run_key != self._run_key:
            self._run_key, self._constant = run_key, {}
        out: dict[tuple[str, str], str] = {}
        for key, coordinate in self.compiled:
            if (key, coordinate) in self.unit_keys:
                out[(key, coordinate)] = self.render(key, coordinate, context)
                continue
            text = self._constant.get((key, coordinate))
            if text is None:
                text = self._constant[(key, coordinate)] = self.render(key, coordinate, context)
            out[(key, coordinate)] = text
        return out

    def reset(
        self, rendered: Mapping[tuple[str, str], str], keep: Collection[str] = ()
    ) -> list[Cell]:
        """Restore the template sheets to their pristine state with ``rendered`` placeholders.

        Sheets in ``keep`` keep everything but their placeholder cells, which are rewritten.
        Returns the cells that hold a rendered placeholder (the template cells that vary).
        """
        varying: list[Cell] = []
        for key, ws in self.sheets.items():
            snap = self.snapshots[key]
            if key in keep:
                for c in snap.cells:
                    if (key, c.coordinate) in self.compiled:
                        value = rendered[(key, c.coordinate)]
                        cell = Cell(ws, c.row, c.column, value=value, style_array=c.style)
                        ws._cells[(c.row, c.column)] = cell
                        varying.append(cell)
                continue
            ws._cells = {}
            fixed = self._fixed_cells.setdefault(key, {})
            for c in snap.cells:
                found = fixed.get((c.row, c.column))
                if found is not None:
                    ws._cells[(c.row, c.column)] = found
                    continue
                jinja = (key, c.coordinate) in self.compiled
                value = rendered[(key, c.coordinate)] if jinja else c.value
                cell = Cell(ws, row=c.row, column=c.column, value=value, style_array=c.style)
                ws._cells[(c.row, c.column)] = cell
                if jinja:
                    varying.append(cell)
                else:  # the same for every unit: made once, never changed (see FrozenCell)
                    cell.__class__ = FrozenCell
                    fixed[(c.row, c.column)] = cell
            for rng in list(ws.merged_cells.ranges):
                ws.merged_cells.remove(rng)
            for rng in snap.merged:
                ws.merged_cells.add(rng)
            ws.data_validations = DataValidationList()
            ws.conditional_formatting = ConditionalFormattingList()
            for row in list(ws.row_dimensions):
                if row not in snap.row_heights:
                    del ws.row_dimensions[row]
            for row, height in snap.row_heights.items():
                ws.row_dimensions[row].height = height
        return varying


def _first_generated_row(key: str, anchors: Anchors) -> int:
    """Rows from here down are regenerated (Målekort: from its header row, which moves columns)."""
    return {
        "guide": 10**7,
        "scorecard": anchors.scorecard_header_row,
        "actions": anchors.actions_header_row + 1,
        "assessment": anchors.assessment_header_row + 1,
        "control": anchors.control_header_row + 1,
    }[key]


def load_template(path: Path, anchors: Anchors) -> LoadedTemplate:
    """Load and check a template; compile its placeholders (``TemplateError`` on any problem)."""
    try:
        wb = openpyxl.load_workbook(path, rich_text=False)
    except (OSError, KeyError, ValueError) as exc:
        raise TemplateError(
            t("generate.template-unreadable", None, detail=str(exc)), str(path)
        ) from exc
    if len(wb.worksheets) < len(SHEET_KEYS):
        raise TemplateError(t("generate.template-sheets", None, n=len(SHEET_KEYS)), str(path))
    for extra in wb.worksheets[len(SHEET_KEYS) :]:
        wb.remove(extra)
    for name in list(wb.defined_names):
        del wb.defined_names[name]
    env = _environment()
    tpl = LoadedTemplate(path, wb, anchors, {}, {}, {})
    for key, ws in zip(SHEET_KEYS, wb.worksheets, strict=True):
        tpl.sheets[key] = ws
        tpl.sheet_titles[key] = ws.title
        first_generated = _first_generated_row(key, anchors)
        cells: list[_CellCopy] = []
        for row in ws.iter_rows():
            for cell in row:
                if cell.row >= first_generated:
                    continue
                if cell.value is None and not cell.has_style:
                    continue
                cells.append(
                    _CellCopy(cell.row, cell.column, cell.coordinate, cell.value, copy(cell._style))
                )
                if has_jinja(cell.value):
                    try:
                        source = str(cell.value)
                        tpl.compiled[(key, cell.coordinate)] = env.from_string(source)
                        if meta.find_undeclared_variables(env.parse(source)) & _PER_UNIT_NAMES:
                            tpl.unit_keys.add((key, cell.coordinate))
                    except JinjaError as exc:
                        raise TemplateError(
                            t("generate.template-syntax", None, detail=str(exc)),
                            f"{path.name}: '{ws.title}'!{cell.coordinate}",
                        ) from exc
        heights = {r: d.height for r, d in ws.row_dimensions.items() if r < first_generated}
        merged = [str(m) for m in ws.merged_cells.ranges if m.min_row < first_generated]
        tpl.snapshots[key] = _SheetSnapshot(cells, merged, heights)
    _read_prototypes(tpl, env)
    return tpl


def _style(ws: Worksheet, row: int, column: int) -> StyleArray:
    return copy(ws.cell(row=row, column=column)._style)


def _read_prototypes(tpl: LoadedTemplate, env: SandboxedEnvironment) -> None:
    a = tpl.anchors
    ws = tpl.sheets["scorecard"]
    header = a.scorecard_header_row
    for col, role in enumerate(SCORECARD_ROLES, start=1):
        cell = ws.cell(row=header, column=col)
        if cell.value is None:
            raise TemplateError(
                t("generate.template-header", None, role=role),
                tpl.where("scorecard", cell.coordinate),
            )
        try:
            compiled = env.from_string(str(cell.value))
        except JinjaError as exc:
            raise TemplateError(
                t("generate.template-syntax", None, detail=str(exc)),
                tpl.where("scorecard", cell.coordinate),
            ) from exc
        tpl.scorecard_headers[role] = (copy(cell._style), compiled)
        if meta.find_undeclared_variables(env.parse(str(cell.value))) & _PER_UNIT_NAMES:
            tpl.unit_headers.add(role)
        tpl.scorecard_widths[role] = ws.column_dimensions[cell.column_letter].width
    tpl.row_heights[("scorecard", "header")] = ws.row_dimensions[header].height
    for offset, kind in enumerate(SCORECARD_PROTOTYPES, start=1):
        row = header + offset
        tpl.scorecard_styles[kind] = {
            role: _style(ws, row, col) for col, role in enumerate(SCORECARD_ROLES, start=1)
        }
        tpl.row_heights[("scorecard", kind)] = ws.row_dimensions[row].height
    for key, roles, first in (
        ("actions", ACTION_ROLES, a.actions_header_row + 1),
        ("assessment", ASSESSMENT_ROLES, a.assessment_header_row + 1),
        ("control", CONTROL_ROLES, a.control_header_row + 1),
    ):
        sheet = tpl.sheets[key]
        styles = {role: _style(sheet, first, col) for col, role in enumerate(roles, start=1)}
        tpl.row_heights[(key, "row")] = sheet.row_dimensions[first].height
        if key == "control":
            styles |= {
                f"ready.{role}": _style(sheet, first + 1, col)
                for col, role in enumerate(roles, start=1)
            }
            tpl.row_heights[(key, "ready")] = sheet.row_dimensions[first + 1].height
        tpl.table_styles[key] = styles


def render_header(tpl: LoadedTemplate, role: str, context: Mapping[str, Any]) -> str:
    """The rendered Målekort header text of ``role`` (``TemplateError`` naming the cell)."""
    compiled = tpl.scorecard_headers[role][1]
    try:
        return clean_text(compiled.render(context))
    except JinjaError as exc:
        col = SCORECARD_ROLES.index(role) + 1
        ref = f"{chr(64 + col)}{tpl.anchors.scorecard_header_row}"
        raise TemplateError(
            t("generate.template-render", None, detail=str(exc)), tpl.where("scorecard", ref)
        ) from exc
