"""Read a definition workbook back (``bms definition import``), every problem at sheet!cell.

The file is read like a returned workbook (:func:`bms_excel.reader.read_submission`: by its
bytes, within limits, values from python-calamine, never modified or executed). Each cell's
value is put where its column says (:mod:`bms_excel.defbook.layout`), and where it came from is
kept in a :class:`~bms_excel.definition.SourceMap` whose "lines" are positions in a list of
cells; the same lenient validation and quality checks as ``bms check`` then run on the data
(:func:`bms_excel.checks.check_definition_data`), and each finding's position is turned into
its ``'sheet'!cell``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bms_excel import model as m
from bms_excel.checks import CHECK_SEVERITY, check_definition_data
from bms_excel.codes import make_finding
from bms_excel.defbook.layout import (
    COUNTY_ROWS,
    LIST_SHEETS,
    PARENT,
    SCOPE_WORDS,
    YEARS,
    Column,
    ListSheet,
    sheet_name,
    sheet_names_any,
)
from bms_excel.defbook.shape import definition_yaml
from bms_excel.definition import MAX_TEXT, PathKey, SourceMap
from bms_excel.errors import DefinitionError, Finding
from bms_excel.i18n import LANGUAGES, t
from bms_excel.reader import CellValue, WorkbookData, read_submission
from bms_excel.xlsx.cells import column_letter

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")


@dataclass
class DefinitionImport:
    """The outcome of reading a definition workbook: every finding, and the definition as
    the schema accepts it (``validated``: ``None`` when a part had to be left out)."""

    file: str
    findings: list[Finding]
    validated: m.Definition | None = None
    #: The errors that left part of the workbook unread or invalid (what stops loading).
    incomplete: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an error."""
        return any(f.severity == "error" for f in self.findings)

    @property
    def definition(self) -> m.Definition | None:
        """The definition when there is no error at all (else ``None``: nothing is written)."""
        return None if self.has_errors else self.validated

    def yaml_text(self) -> str:
        """The definition as YAML (only when there is no error)."""
        if self.definition is None:
            raise ValueError("no definition: the workbook has errors")
        return definition_yaml(self.definition, t("defbook.yaml-header", file=self.file))


def import_definition(
    path: Path, *, max_indicators: int | None = None, display_name: str | None = None
) -> DefinitionImport:
    """Read the definition workbook at ``path``; every problem is a located finding."""
    name = display_name or str(path)
    result = read_submission(path, display_name=name)
    if result.data is None:
        return DefinitionImport(name, result.findings, None, result.findings)
    book = _Book(result.data, name)
    data = book.read()
    source = SourceMap(name, book.lines)
    own = len(book.findings)
    defn, found = check_definition_data(data, source, book.findings, max_indicators=max_indicators)
    located = [book.locate(f) for f in found]
    findings = [*result.findings, *located]
    incomplete = [
        f
        for f in (*result.findings, *located)
        if f.severity == "error" and f.code not in CHECK_SEVERITY
    ]
    incomplete += [book.locate(f) for f in book.findings[:own] if f.severity == "error"]
    return DefinitionImport(name, findings, defn, _unique(incomplete))


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: list[Finding] = []
    for f in findings:
        if f not in seen:
            seen.append(f)
    return seen


def load_definition_workbook(path: Path, also: Collection[str] = ()) -> m.Definition:
    """The definition in the workbook at ``path``; raise :class:`DefinitionError` for every
    problem that stops loading (an unreadable file, a row that could not be placed, a schema
    problem: what the YAML loader would refuse) and for the check codes in ``also``."""
    result = import_definition(path)
    stops = [*result.incomplete]
    stops += [f for f in result.findings if f.severity == "error" and f.code in also]
    if stops or result.validated is None:
        raise DefinitionError(
            _unique(stops) or [f for f in result.findings if f.severity == "error"]
        )
    return result.validated


# -- reading ----------------------------------------------------------------------------------


def _norm(text: object) -> str:
    return " ".join(str(text).split()).casefold()


def _headers(columns: Collection[Column]) -> dict[str, Column]:
    return {_norm(c.header(lang)): c for c in columns for lang in LANGUAGES}


@dataclass
class _Book:
    data: WorkbookData
    file: str
    findings: list[Finding] = field(default_factory=list)
    lines: dict[PathKey, int] = field(default_factory=dict)
    cells: list[tuple[str | None, str | None]] = field(default_factory=lambda: [(None, None)])
    #: The sheet being read.
    _current: str = ""

    # positions --------------------------------------------------------------------------------

    def _cell(self, sheet: str, cell: str | None) -> int:
        self.cells.append((sheet, cell))
        return len(self.cells) - 1

    def place(self, path: PathKey, sheet: str, cell: str | None) -> None:
        """Remember that ``path`` came from ``sheet``!``cell`` (the first place wins)."""
        if path not in self.lines:
            self.lines[path] = self._cell(sheet, cell)

    def _add(self, code: str, sheet: str, cell: str | None, message: str) -> None:
        line = self._cell(sheet, cell)
        self.findings.append(make_finding(code, message=message, file=self.file, line=line))

    def locate(self, finding: Finding) -> Finding:
        """``finding`` with its position turned into ``'sheet'!cell``."""
        if finding.line is None or not 0 < finding.line < len(self.cells):
            return finding
        sheet, cell = self.cells[finding.line]
        return replace(finding, sheet=sheet, cell=cell, line=None)

    # the workbook -----------------------------------------------------------------------------

    def _sheet(self, key: str) -> tuple[str, dict[tuple[int, int], CellValue]] | None:
        names = sheet_names_any(key)
        for name, values in self.data.values.items():
            if name in names:
                return name, values
        self._add(
            "missing-sheet",
            sheet_name(key),
            None,
            t("defbook.missing-sheet", sheet=sheet_name(key)),
        )
        return None

    def read(self) -> dict[str, Any]:
        """The definition's plain data, every value placed."""
        data: dict[str, Any] = {"version": 1}
        self._read_county(data)
        codes: dict[str, dict[str, PathKey]] = {}
        for spec in LIST_SHEETS:
            self._read_list(spec, data, codes)
        return data

    def _read_county(self, data: dict[str, Any]) -> None:
        found = self._sheet("county")
        if found is None:
            return
        name, values = found
        self._current = name
        by_path = {".".join(c.field): c for c in COUNTY_ROWS}
        by_label = _headers(COUNTY_ROWS)
        last = max((r for r, _ in values), default=1)
        for row in range(2, last + 1):
            key, label, value = (values.get((row, c)) for c in (3, 1, 2))
            if key is None and label is None:
                if value is not None:
                    self._add("unknown-field", name, f"A{row}", t("defbook.unlabelled-row"))
                continue
            column = by_path.get(str(key).strip()) if key is not None else None
            column = column or (by_label.get(_norm(label)) if label is not None else None)
            if column is None:
                shown = str(key if key is not None else label)
                self._add("unknown-field", name, f"C{row}", t("defbook.unknown-row", field=shown))
                continue
            for end in range(1, len(column.field) + 1):
                self.place(column.field[:end], name, f"B{row}")
            if value is None:
                continue
            converted = self._convert(value, column, name, f"B{row}")
            if column.kind == "item":
                self._append(data, column, converted, name, f"B{row}")
            else:
                self._set(data, column, converted, f"B{row}")

    def _columns(
        self, spec: ListSheet, name: str, values: dict[tuple[int, int], CellValue]
    ) -> dict[int, Column]:
        known = _headers(spec.columns)
        columns: dict[int, Column] = {}
        seen: set[str] = set()
        width = max((c for r, c in values if r == 1), default=0)
        for col in range(1, width + 1):
            header = values.get((1, col))
            if header is None:
                continue
            cell = f"{column_letter(col)}1"
            column = known.get(_norm(header))
            if column is None and spec.key == "units":
                column = Column(
                    f"attribute:{header}", ("attributes", str(header).strip()), "number"
                )
            if column is None:
                self._add("unknown-field", name, cell, t("defbook.unknown-column", header=header))
                continue
            if column.key in seen:
                self._add("duplicate-key", name, cell, t("defbook.duplicate-column", header=header))
                continue
            seen.add(column.key)
            columns[col] = column
        unlabelled = sorted((c, r) for r, c in values if r > 1 and (1, c) not in values)
        if unlabelled:
            col, row = unlabelled[0]
            cell = f"{column_letter(col)}{row}"
            self._add("unknown-field", name, cell, t("defbook.unlabelled-column"))
        return columns

    def _read_list(
        self, spec: ListSheet, data: dict[str, Any], codes: dict[str, dict[str, PathKey]]
    ) -> None:
        found = self._sheet(spec.key)
        if found is None:
            return
        name, values = found
        self._current = name
        columns = self._columns(spec, name, values)
        if spec.parent is None:
            self.place((spec.list_key,), name, "A1")
        codes[spec.key] = {}
        parent_col = next((c for c, col in columns.items() if col.field == (PARENT,)), None)
        code_col = next((c for c, col in columns.items() if col.field == ("code",)), None)
        key_field, value_field = spec.keyed or ("", "")
        key_col = next((c for c, col in columns.items() if col.field == (key_field,)), None)
        rows = sorted({r for r, c in values if r > 1 and c in columns})
        for row in rows:
            cells = {col: values[(row, col)] for col in columns if (row, col) in values}
            owner = self._owner(spec, data, codes, name, row, cells, parent_col)
            if owner is None:
                continue
            item: dict[str, Any] = {}
            if spec.keyed is None:
                items = owner.setdefault(spec.list_key, [])
                base = self._base(spec, data, codes, cells, parent_col, len(items))
                items.append(item)
            else:
                key = self._key(spec, owner, name, row, cells, columns, key_col)
                if key is None:
                    continue
                base = (*self._base(spec, data, codes, cells, parent_col, 0)[:-1], key)
                value_col = next(
                    (c for c, col in columns.items() if col.field == (value_field,)), None
                )
                if value_col is not None:
                    self.place(base, name, f"{column_letter(value_col)}{row}")
            first = min(c for c in cells if c != parent_col) if len(cells) > 1 else min(cells)
            self.place(base, name, f"{column_letter(first)}{row}")
            code = cells.get(code_col) if code_col is not None else None
            if code is not None:
                codes[spec.key].setdefault(_text(code), base)
            # Filled cells first: a problem of a value points at it; then the empty ones, so
            # a missing field points at the cell to fill in.
            for col in sorted(columns, key=lambda c: (c not in cells, c)):
                column = columns[col]
                if column.field == (PARENT,):
                    continue
                cell = f"{column_letter(col)}{row}"
                # a keyed row's value is the mapping's value itself (targets.2026 = "70 %")
                inner = column.field[1:] if spec.keyed else column.field
                for end in range(1, len(inner) + 1):
                    self.place((*base, *inner[:end]), name, cell)
                if col in cells and col != key_col:
                    self._set(item, column, self._convert(cells[col], column, name, cell), cell)
            if spec.keyed is not None:
                self._put_keyed(spec, owner, base[-1], item.get(value_field), name, row, columns)

    def _key(
        self,
        spec: ListSheet,
        owner: dict[str, Any],
        name: str,
        row: int,
        cells: dict[int, CellValue],
        columns: dict[int, Column],
        key_col: int | None,
    ) -> int | None:
        """The key (a year) of a row of a keyed sheet; ``None`` with a finding when it is
        missing, not a year or already used for the same item."""
        assert spec.keyed is not None
        where = f"{column_letter(key_col or 1)}{row}"
        header = columns[key_col].header() if key_col is not None else spec.keyed[0]
        raw = cells.get(key_col) if key_col is not None else None
        if raw is None:
            self._add("missing-field", name, where, t("defbook.no-key", header=header))
            return None
        text = _text(raw)
        if not isinstance(raw, bool) and text.isdigit() and int(text) in YEARS:
            key = int(text)
        else:
            self._add("invalid-value", name, where, t("defbook.bad-year", value=text))
            return None
        if key in owner.get(spec.list_key, {}):
            self._add("duplicate-key", name, where, t("defbook.duplicate-year", year=key))
            return None
        return key

    def _put_keyed(
        self,
        spec: ListSheet,
        owner: dict[str, Any],
        key: Any,
        value: Any,
        name: str,
        row: int,
        columns: dict[int, Column],
    ) -> None:
        """Put a keyed row's value into its item's mapping (a finding when it is empty)."""
        assert spec.keyed is not None
        if value is None:
            col = next((c for c, col in columns.items() if col.field == (spec.keyed[1],)), None)
            header = columns[col].header() if col is not None else spec.keyed[1]
            where = f"{column_letter(col or 1)}{row}"
            self._add("missing-field", name, where, t("defbook.no-value", header=header))
            return
        owner.setdefault(spec.list_key, {})[key] = value

    def _owner(
        self,
        spec: ListSheet,
        data: dict[str, Any],
        codes: dict[str, dict[str, PathKey]],
        name: str,
        row: int,
        cells: dict[int, CellValue],
        parent_col: int | None,
    ) -> dict[str, Any] | None:
        """The mapping the row's item belongs in: the definition, or its parent item."""
        if spec.parent is None:
            return data
        where = f"{column_letter(parent_col or 1)}{row}"
        parent_code = cells.get(parent_col) if parent_col is not None else None
        if parent_code is None:
            self._add(
                "missing-field", name, where, t("defbook.no-parent", sheet=sheet_name(spec.parent))
            )
            return None
        text = _text(parent_code)
        path = codes.get(spec.parent, {}).get(text)
        if path is None:
            message = t("defbook.unknown-parent", code=text, sheet=sheet_name(spec.parent))
            self._add("unknown-reference", name, where, message)
            return None
        node: Any = data
        for part in path:
            node = node[part]
        assert isinstance(node, dict)
        return node

    def _base(
        self,
        spec: ListSheet,
        data: dict[str, Any],
        codes: dict[str, dict[str, PathKey]],
        cells: dict[int, CellValue],
        parent_col: int | None,
        index: int,
    ) -> PathKey:
        if spec.parent is None:
            return (spec.list_key, index)
        parent = codes[spec.parent][_text(cells[parent_col or 0])]
        return (*parent, spec.list_key, index)

    # values -----------------------------------------------------------------------------------

    def _set(self, item: dict[str, Any], column: Column, value: Any, cell: str) -> None:
        """Put ``value`` where ``column`` says; a part already filled in differently (a target
        and a band) is a finding. A scope word (``all``) and the scope's lists (``except``)
        merge into one mapping, which the schema judges."""
        if value is None:
            return
        if column.field == ("scope",) and isinstance(value, str) and value in SCOPE_WORDS:
            scope = item.setdefault("scope", {})
            if isinstance(scope, dict):
                scope.update(SCOPE_WORDS[value])
                return
        node = item
        for part in column.field[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                self._conflict(column, cell)
                return
            node = child
        if isinstance(node.get(column.field[-1]), dict):
            self._conflict(column, cell)
            return
        node[column.field[-1]] = value

    def _append(
        self, data: dict[str, Any], column: Column, value: Any, sheet: str, cell: str
    ) -> None:
        """Add ``value`` to the list at ``column.field`` (a county-sheet row per element)."""
        if value is None:
            return
        node = data
        for part in column.field[:-1]:
            node = node.setdefault(part, {})
        items = node.setdefault(column.field[-1], [])
        self.place((*column.field, len(items)), sheet, cell)
        items.append(value)

    def _conflict(self, column: Column, cell: str) -> None:
        sheet = self._current
        self._add("invalid-value", sheet, cell, t("defbook.conflict", header=column.header()))

    def _convert(self, value: CellValue, column: Column, sheet: str, cell: str) -> Any:
        kind = column.kind
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                message = t("definition.value-too-long", length=len(value), limit=MAX_TEXT)
                self._add("value-too-long", sheet, cell, message)
            value = value.strip()
            if not value:
                return None
            if kind == "number" and _DECIMAL_COMMA.match(value):
                return value.replace(",", ".")
            if kind == "list":
                return [p.strip() for p in value.split(",") if p.strip()]
            if kind == "map":
                return self._pairs(value, sheet, cell)
            return value
        if kind in ("text", "enum", "list", "map", "item"):
            text = _text(value)
            return [text] if kind == "list" else text
        if kind == "date" and isinstance(value, int | float) and not isinstance(value, bool):
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        if isinstance(value, dt.datetime):
            return value.date() if kind == "date" and value.time() == dt.time() else value
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def _pairs(self, text: str, sheet: str, cell: str) -> dict[str, str] | None:
        pairs: dict[str, str] = {}
        for part in (p.strip() for p in text.split(";")):
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                self._add("invalid-format", sheet, cell, t("defbook.bad-pair", value=part))
                return None
            pairs[key.strip()] = value.strip()
        return pairs or None


def _text(value: CellValue) -> str:
    """A cell as text: a number typed into a text column (a period code ``2027``) keeps no
    ``.0``; a date is written as ``2026-05-15``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()
