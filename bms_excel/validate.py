"""Identify and validate one read workbook against the definition (DESIGN §5).

Works on :class:`bms_excel.reader.WorkbookData` only — plain values and structure facts — so the
same checks run on a file from the submissions folder, on a single e-mail attachment, and on the
live contents of a workbook open in Excel (the xlwings Valider button).

Validation is lazy: every problem in a file becomes a :class:`Finding`; nothing stops at the
first. Values are recovered by indicator code where the structure changed but the code is still
unambiguous, with a warning, so one careless edit does not lose a unit's data.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bms_excel.errors import Finding, Severity
from bms_excel.i18n import LANGUAGES, t
from bms_excel.layout import (
    SIGNED_FIELDS,
    TEMPLATE_VERSION,
    UnitLayout,
    build_layout,
    sheet_names,
)
from bms_excel.model import Definition, Indicator, Unit
from bms_excel.reader import CellValue, WorkbookData
from bms_excel.records import ActionRecord, AssessmentRecord, ValueRecord
from bms_excel.signing import definition_hash, verify_meta
from bms_excel.status import Status, StatusRule, evaluate, percent_from_fraction, resolve_rule
from bms_excel.values import is_formula_injection, parse_value
from bms_excel.xlsx.cells import a1, parse_a1
from bms_excel.xlsx.limits import over_cell_limit

if TYPE_CHECKING:
    from bms_excel.model import Period

_TEXT_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")


@dataclass
class Identity:
    """Who a workbook says it belongs to, and whether that can be trusted."""

    unit: str | None = None
    period: str | None = None
    language: str = "nb"
    fields: dict[str, str] = field(default_factory=dict)
    trusted: bool = False

    @property
    def generated_at(self) -> str | None:
        """When the workbook was generated (from ``_meta``)."""
        return self.fields.get("generated_at")


@dataclass
class Extract:
    """What one workbook yields: records for consolidation plus every finding."""

    identity: Identity
    values: list[ValueRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether the workbook was identified well enough to accept its values."""
        return self.identity.trusted


class _Collector:
    """Builds located findings for one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[Finding] = []

    def add(
        self,
        finding_code: str,
        severity: Severity,
        key: str,
        sheet: str | None = None,
        cell: str | None = None,
        **params: Any,
    ) -> None:
        # The indicator a finding is about, so a report can give an excluded value its reason.
        extra = {"indicator": params["code"]} if "code" in params else {}
        self.findings.append(
            Finding(
                finding_code,
                severity,
                t(key, **params),
                file=self.file,
                sheet=sheet,
                cell=cell,
                extra=extra,
            )
        )


# -- per-definition lookups ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    """Lookups of one definition, built once per process instead of a linear scan per file.

    ``Definition.unit`` / ``.indicator`` scan lists, and ``definition_hash`` serialises the whole
    definition: per file that is quadratic in the number of units at national scale.
    """

    definition: Definition
    hash: str
    units: dict[str, Unit]
    indicators: dict[str, Indicator]
    periods: dict[str, Period]
    rules: dict[tuple[str, str | None, str], StatusRule] = field(default_factory=dict)

    def rule(self, ind: Indicator, unit: Unit, period: str) -> StatusRule:
        """The status rule of ``ind`` for ``unit`` (the unit matters only with overrides)."""
        key = (ind.code, unit.code if ind.overrides else None, period)
        found = self.rules.get(key)
        if found is None:
            found = self.rules[key] = resolve_rule(ind, self.definition.settings, unit, period)
        return found


_INDEXES: dict[int, _Index] = {}


def _index(definition: Definition) -> _Index:
    # Keyed by identity (a Definition is frozen); the entry keeps the definition alive, so its
    # id cannot be reused while it is cached.
    found = _INDEXES.get(id(definition))
    if found is None or found.definition is not definition:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        found = _Index(
            definition,
            definition_hash(definition),
            {u.code: u for u in definition.units},
            {ind.code: ind for *_, ind in definition.iter_indicators()},
            {p.code: p for p in definition.periods},
        )
        _INDEXES[id(definition)] = found
    return found


# -- identity ---------------------------------------------------------------------------------

_META_NAMES = {t("wb.sheet.meta", lang) for lang in LANGUAGES}


def _unread_sheets() -> frozenset[str]:
    names = [sheet_names(lang) for lang in LANGUAGES]
    read = {n for s in names for n in (s.scorecard, s.actions, s.assessment, s.meta)}
    return frozenset({n for s in names for n in (s.guide, s.control, s.lists)} - read)


#: Sheets whose values validation never looks at (any language): a reader may skip them. A
#: renamed or unexpected sheet is never in here, so its values are still read and recovered.
UNREAD_SHEETS = _unread_sheets()


def read_meta(data: WorkbookData) -> tuple[dict[str, str], str | None]:
    """The ``_meta`` fields (key in column A, value in column B) and the sheet they came from.

    Falls back to the ``bms.*`` custom document properties when the sheet is gone.
    """
    for name in data.values:
        if name in _META_NAMES:
            cells = data.values[name]
            fields = {
                str(cells[(r, 1)]): _text(cells.get((r, 2)))
                for (r, c) in cells
                if c == 1 and isinstance(cells[(r, 1)], str)
            }
            if fields:
                return fields, name
    props = {k[4:]: str(v) for k, v in data.custom_properties.items() if k.startswith("bms.")}
    return props, None


def identify(
    data: WorkbookData,
    definition: Definition,
    secret: bytes,
    file: str,
    expected_period: str | None = None,
) -> tuple[Identity, list[Finding]]:
    """Who the workbook belongs to, from ``_meta`` and its signature — never the file name."""
    out = _Collector(file)
    fields, sheet = read_meta(data)
    ident = Identity(fields=fields)
    if not fields:
        out.add("not-a-bms-workbook", "error", "validate.not-a-bms-workbook")
        return ident, out.findings
    missing = [k for k in (*SIGNED_FIELDS, "signature") if not fields.get(k)]
    if missing:
        out.add(
            "meta-incomplete", "error", "validate.meta-incomplete", sheet, fields=", ".join(missing)
        )
        return ident, out.findings
    ident.unit, ident.period = fields["unit"], fields["period"]
    lang = fields.get("language", "nb")
    ident.language = lang if lang in LANGUAGES else "nb"
    if not verify_meta({k: fields[k] for k in SIGNED_FIELDS}, fields["signature"], secret):
        out.add("bad-signature", "error", "validate.bad-signature", sheet)
        return ident, out.findings
    trusted = True
    if fields["county"] != definition.county.code:
        out.add("wrong-county", "error", "validate.wrong-county", sheet, county=fields["county"])
        trusted = False
    index = _index(definition)
    unit = index.units.get(ident.unit or "")
    if unit is None:
        out.add("unknown-unit", "error", "validate.unknown-unit", sheet, unit=ident.unit)
        trusted = False
    if ident.period not in index.periods:
        out.add("unknown-period", "error", "validate.unknown-period", sheet, period=ident.period)
        trusted = False
    elif expected_period is not None and ident.period != expected_period:
        out.add(
            "wrong-period",
            "error",
            "validate.wrong-period",
            sheet,
            period=ident.period,
            expected=expected_period,
        )
        trusted = False
    if fields["template_version"] != TEMPLATE_VERSION:
        out.add(
            "old-template",
            "error",
            "validate.old-template",
            sheet,
            version=fields["template_version"],
            expected=TEMPLATE_VERSION,
        )
        trusted = False
    if sheet is None:
        # Identified from the bms.* document properties: the _meta sheet itself was deleted.
        meta_name = t("wb.sheet.meta", ident.language)
        out.add("meta-sheet-missing", "warning", "validate.meta-sheet-missing", meta_name)
    if trusted and fields["definition_hash"] != index.hash:
        out.add("definition-changed", "warning", "validate.definition-changed", sheet)
    ident.trusted = trusted
    return ident, out.findings


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- validation -------------------------------------------------------------------------------


def validate_data(
    data: WorkbookData,
    definition: Definition,
    secret: bytes,
    file: str,
    *,
    sha256: str | None = None,
    expected_period: str | None = None,
) -> Extract:
    """Identify ``data`` and, when it can be trusted, check and extract every input."""
    ident, findings = identify(data, definition, secret, file, expected_period)
    extract = Extract(identity=ident, findings=list(findings))
    if not ident.trusted or ident.unit is None or ident.period is None:
        return extract
    unit = _index(definition).units[ident.unit]
    layout = build_layout(definition, unit, ident.period, ident.language)
    out = _Collector(file)
    renamed = _check_structure(data, layout, out)
    _check_text_lengths(data, out)
    _extract_values(data, definition, unit, layout, ident, out, extract, sha256, renamed)
    _extract_actions(data, definition, layout, ident, out, extract, sha256, renamed)
    _extract_assessments(data, layout, ident, out, extract, sha256, renamed)
    extract.findings.extend(out.findings)
    return extract


def _check_text_lengths(data: WorkbookData, out: _Collector) -> None:
    """A text longer than an Excel cell can hold: only a doctored file has one.

    It is kept whole in the history; the master shows it cut to a cell's limit.
    """
    for sheet, cells in data.values.items():
        for (row, col), value in cells.items():
            if isinstance(value, str) and (n := over_cell_limit(value)) is not None:
                out.add(
                    "text-too-long", "warning", "validate.text-too-long", sheet, a1(row, col), n=n
                )


def _check_structure(data: WorkbookData, layout: UnitLayout, out: _Collector) -> dict[str, str]:
    """Report sheet and protection changes; return expected name → renamed sheet.

    A sheet counts as renamed (and its values are still read) when it is the only missing
    sheet and the only unexpected one: renaming a tab is the commonest careless edit.
    """
    names = layout.sheets
    missing = [n for n in names.visible() if n not in data.values and data.sheet(n) is None]
    for name in missing:
        out.add("sheet-missing", "error", "validate.sheet-missing", name)
    known = {*names.visible(), names.lists, names.meta}
    unexpected = [s.name for s in data.sheets if s.name not in known]
    for name in unexpected:
        out.add("unexpected-sheet", "warning", "validate.unexpected-sheet", name)
    renamed = {missing[0]: unexpected[0]} if len(missing) == len(unexpected) == 1 else {}
    if not data.structure_known:
        return renamed
    for name in (names.scorecard, names.actions, names.assessment):
        info = data.sheet(renamed.get(name, name))
        if info is not None and not info.protected:
            out.add("protection-removed", "warning", "validate.protection-removed", info.name)
    meta = data.sheet(names.meta)
    if meta is not None and meta.state == "visible":
        out.add("meta-visible", "warning", "validate.meta-visible", names.meta)
    # Saving in LibreOffice (or another program than Excel) turns the very hidden helper sheets
    # into merely hidden ones and drops the workbook structure protection. The file is still
    # good; the controller only learns it went through another program.
    helpers = [s for s in (meta, data.sheet(names.lists)) if s is not None]
    if any(s.state == "hidden" for s in helpers) or not data.structure_locked:
        out.add("saved-by-other-program", "info", "validate.saved-by-other-program")
    return renamed


def _locate_indicator(
    cells: Mapping[tuple[int, int], CellValue], code: str, row: int, col: int
) -> tuple[int, int] | None:
    """Where the code cell of indicator ``code`` is now: its own place, else the one place
    in the sheet holding exactly that code (rows or columns inserted), else None."""
    if _text(cells.get((row, col))).strip() == code:
        return row, col
    hits = [rc for rc, v in cells.items() if isinstance(v, str) and v.strip() == code]
    return hits[0] if len(hits) == 1 else None


def _extract_values(
    data: WorkbookData,
    definition: Definition,
    unit: Unit,
    layout: UnitLayout,
    ident: Identity,
    out: _Collector,
    extract: Extract,
    sha256: str | None,
    renamed: Mapping[str, str],
) -> None:
    sheet = renamed.get(layout.sheets.scorecard, layout.sheets.scorecard)
    cells = data.values.get(sheet, {})
    formulas = data.formulas.get(sheet, frozenset())
    errors = data.errors.get(sheet, {})
    percent_cells = data.percent.get(sheet, frozenset())
    meta_rows = _meta_rows(ident.fields)
    period = ident.period or ""
    sheet_gone = sheet not in data.values
    indicators = _index(definition).indicators
    for cells_at in layout.scorecard.indicators:
        ind = indicators[cells_at.code]
        if sheet_gone:  # "sheet-missing" already says it; one finding per indicator is noise
            if cells_at.input:
                extract.values.append(_lost_value(unit.code, period, ind.code, out.file, sha256))
            continue
        code_row, code_col = parse_a1(cells_at.code_ref)
        row_expected = meta_rows.get(ind.code, code_row)
        found = _locate_indicator(cells, ind.code, row_expected, code_col)
        if found is None:
            out.add(
                "indicator-not-found",
                "error",
                "validate.indicator-not-found",
                sheet,
                cells_at.code_ref,
                code=ind.code,
            )
            if cells_at.input:
                extract.values.append(_lost_value(unit.code, period, ind.code, out.file, sha256))
            continue
        d_row, d_col = found[0] - code_row, found[1] - code_col
        if (d_row, d_col) != (0, 0):
            out.add(
                "structure-changed",
                "warning",
                "validate.structure-changed",
                sheet,
                a1(*found),
                code=ind.code,
                expected=cells_at.code_ref,
            )

        def at(ref: str, d_row: int = d_row, d_col: int = d_col) -> tuple[int, int]:
            r, c = parse_a1(ref)
            return r + d_row, c + d_col

        name_rc = at(cells_at.name_ref)
        if _text(cells.get(name_rc)).strip() != ind.name:
            out.add(
                "locked-cell-changed",
                "warning",
                "validate.locked-cell-changed",
                sheet,
                a1(*name_rc),
                code=ind.code,
            )
        if not cells_at.input:
            continue
        _value_record(
            ind,
            unit,
            period,
            cells,
            (formulas, errors, percent_cells),
            at,
            cells_at,
            definition,
            out,
            extract,
            sha256,
            sheet,
        )


def _lost_value(
    unit: str, period: str, indicator: str, file: str, sha256: str | None
) -> ValueRecord:
    """The record of a value that could not be read: missing, flagged so it is not aggregated."""
    return ValueRecord(unit, period, indicator, "missing", file=file, sha256=sha256, has_error=True)


def _meta_rows(fields: Mapping[str, str]) -> dict[str, int]:
    try:
        rows = json.loads(fields.get("rows") or "{}")
    except ValueError:
        return {}
    return (
        {str(k): int(v) for k, v in rows.items() if isinstance(v, int)}
        if isinstance(rows, dict)
        else {}
    )


def _value_record(
    ind: Indicator,
    unit: Unit,
    period: str,
    cells: Mapping[tuple[int, int], CellValue],
    marks: tuple[
        frozenset[tuple[int, int]], Mapping[tuple[int, int], str], frozenset[tuple[int, int]]
    ],
    at: Any,
    cells_at: Any,
    definition: Definition,
    out: _Collector,
    extract: Extract,
    sha256: str | None,
    sheet: str,
) -> None:
    res_rc = at(cells_at.result_ref)
    com_rc = at(cells_at.comment_ref)
    res_ref, com_ref = a1(*res_rc), a1(*com_rc)
    formulas, errors, percent_cells = marks
    raw = cells.get(res_rc)
    # An error value (#DIV/0!, #N/A …) reads as an empty cell: it is what the workbook shows.
    shown = errors.get(res_rc)
    comment_raw = cells.get(com_rc)
    comment = None if comment_raw is None or not str(comment_raw).strip() else str(comment_raw)
    has_error = False
    if res_rc in formulas:
        out.add(
            "formula-in-input", "error", "validate.formula-in-input", sheet, res_ref, code=ind.code
        )
        has_error = True
    elif shown is not None:
        out.add(
            "excel-error",
            "error",
            "validate.excel-error",
            sheet,
            res_ref,
            code=ind.code,
            error=shown,
        )
        has_error = True
    if com_rc in formulas:
        out.add("formula-in-input", "error", "validate.formula-in-text", sheet, com_ref)
    percent = ind.unit_of_measure.strip() == "%"
    parsed = parse_value(raw, percent=percent, answer=ind.kind == "yes_no")
    value = parsed.value
    if percent and res_rc in percent_cells and parsed.code is None and value is not None:
        # Excel's percent entry: "68 %" typed is 0.68 in a percent-formatted cell; the
        # workbook's own status formula reads it as 68 too (status.percent_entry_value).
        out.add(
            "percent-entry",
            "warning",
            "validate.percent-entry",
            sheet,
            res_ref,
            code=ind.code,
            fraction=_text(value),
            value=_text(percent_from_fraction(value)),
        )
        value = percent_from_fraction(value)  # 68, as the workbook's status formula reads it
    if parsed.kind == "number" and parsed.code == "text-number":
        # One rule with the workbook: a number stored as text is «Ugyldig» there and keeps
        # «Klar til innsending» at NEI, so it is an error here too and is not used; the
        # message says which number it would be, so it can be typed in again.
        out.add(
            "text-number",
            "error",
            "validate.text-number",
            sheet,
            res_ref,
            code=ind.code,
            text=parsed.text or "",
            value=_text(value),
        )
        has_error = True
    elif parsed.kind == "invalid":
        out.add(
            "not-a-number",
            "error",
            "validate.not-a-number",
            sheet,
            res_ref,
            code=ind.code,
            text=_text(raw),
        )
        has_error = True
    elif parsed.kind == "missing" and not has_error:
        # A formula without a cached result (written by a script, never recalculated) reads as
        # blank: the formula is the problem, not a missing value.
        out.add("missing-value", "warning", "validate.missing-value", sheet, res_ref, code=ind.code)
    if parsed.kind == "number" and value is not None and ind.valid_range is not None:
        low, high = ind.valid_range
        if not low <= value <= high:
            out.add(
                "out-of-range",
                "error",
                "validate.out-of-range",
                sheet,
                res_ref,
                code=ind.code,
                value=_text(value),
                low=_text(low),
                high=_text(high),
            )
            has_error = True
    rule = _index(definition).rule(ind, unit, period)
    status = evaluate(rule, value if parsed.kind == "number" and not has_error else None)
    if comment is None and _comment_needed(ind.comment_required, status):
        out.add(
            "comment-required",
            "warning",
            "validate.comment-required",
            sheet,
            com_ref,
            code=ind.code,
        )
    if comment is not None and is_formula_injection(comment):
        out.add("formula-injection", "warning", "validate.formula-injection", sheet, com_ref)
    kind = "invalid" if has_error else parsed.kind
    extract.values.append(
        ValueRecord(
            unit=unit.code,
            period=period,
            indicator=ind.code,
            kind=kind,
            value=value if kind == "number" else None,
            raw=shown if shown is not None else None if raw is None else _text(raw),
            comment=comment,
            source="unit",
            file=out.file,
            sha256=sha256,
            has_error=has_error,
        )
    )


def _comment_needed(rule: str, status: Status) -> bool:
    if rule == "always":
        return True
    if rule == "when_red":
        return status == Status.RED
    if rule == "when_not_green":
        return status in (Status.RED, Status.YELLOW)
    return False


def _as_date(value: CellValue | None) -> dt.date | str | None:
    """A cell as a date; ``"bad"`` when it holds something that is not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        m = _TEXT_DATE.match(value)
        if m:
            try:
                return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return "bad"
    return "bad"


def _extract_actions(
    data: WorkbookData,
    definition: Definition,
    layout: UnitLayout,
    ident: Identity,
    out: _Collector,
    extract: Extract,
    sha256: str | None,
    renamed: Mapping[str, str],
) -> None:
    sheet = renamed.get(layout.sheets.actions, layout.sheets.actions)
    cells = data.values.get(sheet, {})
    acts = layout.actions
    cols = {role: parse_a1(f"{col}1")[1] for role, col in acts.columns.items()}
    codes = {c.code for c in layout.scorecard.indicators}
    period = _index(definition).periods[ident.period or ""]
    area = [(r, c) for r in range(acts.first_row, acts.last_row + 1) for c in cols.values()]
    _formulas_in_text(data, sheet, area, out)
    for row in range(acts.first_row, acts.last_row + 1):
        got = {role: cells.get((row, col)) for role, col in cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in got.values()):
            continue
        action = _text(got["action"]).strip()
        responsible = _text(got["responsible"]).strip() or None
        code = _text(got["code"]).strip() or None
        deadline = _as_date(got["deadline"])

        def ref(role: str, row: int = row) -> str:
            return f"{acts.columns[role]}{row}"

        if not action:
            out.add(
                "action-without-text",
                "warning",
                "validate.action-without-text",
                sheet,
                ref("action"),
            )
        if responsible is None:
            out.add(
                "action-without-owner",
                "warning",
                "validate.action-without-owner",
                sheet,
                ref("responsible"),
            )
        if deadline is None:
            out.add(
                "action-without-deadline",
                "warning",
                "validate.action-without-deadline",
                sheet,
                ref("deadline"),
            )
        elif deadline == "bad":
            out.add(
                "bad-date",
                "warning",
                "validate.bad-date",
                sheet,
                ref("deadline"),
                text=_text(got["deadline"]),
            )
            deadline = None
        elif isinstance(deadline, dt.date):
            if not period.year - 1 <= deadline.year <= period.year + 10:
                out.add(
                    "absurd-date",
                    "warning",
                    "validate.absurd-date",
                    sheet,
                    ref("deadline"),
                    date=deadline.isoformat(),
                )
            elif deadline < (period.start or period.end.replace(month=1, day=1)):
                out.add(
                    "date-in-past",
                    "warning",
                    "validate.date-in-past",
                    sheet,
                    ref("deadline"),
                    date=deadline.isoformat(),
                )
        if code is not None and code not in codes:
            out.add(
                "unknown-code", "warning", "validate.unknown-code", sheet, ref("code"), code=code
            )
        if action and is_formula_injection(action):
            out.add(
                "formula-injection", "warning", "validate.formula-injection", sheet, ref("action")
            )
        extract.actions.append(
            ActionRecord(
                unit=ident.unit or "",
                period=ident.period or "",
                indicator=code,
                action=action,
                responsible=responsible,
                deadline=deadline if isinstance(deadline, dt.date) else None,
                status=_text(got["status"]).strip() or None,
                file=out.file,
                sha256=sha256,
                row=row,
            )
        )


def _formulas_in_text(
    data: WorkbookData, sheet: str, cells: list[tuple[int, int]], out: _Collector
) -> None:
    """``formula-in-input`` for each of ``cells`` (text inputs) that holds a formula."""
    formulas = data.formulas.get(sheet, frozenset())
    for rc in sorted(set(cells) & formulas):
        out.add("formula-in-input", "error", "validate.formula-in-text", sheet, a1(*rc))


def _extract_assessments(
    data: WorkbookData,
    layout: UnitLayout,
    ident: Identity,
    out: _Collector,
    extract: Extract,
    sha256: str | None,
    renamed: Mapping[str, str],
) -> None:
    sheet = renamed.get(layout.sheets.assessment, layout.sheets.assessment)
    cells = data.values.get(sheet, {})
    refs = [
        parse_a1(ref) for row in layout.assessment for ref in (row.assessment_ref, row.learned_ref)
    ]
    _formulas_in_text(data, sheet, refs, out)
    for row in layout.assessment:
        texts = []
        for ref in (row.assessment_ref, row.learned_ref):
            value = cells.get(parse_a1(ref))
            text = None if value is None or not str(value).strip() else str(value)
            if text is not None and is_formula_injection(text):
                out.add("formula-injection", "warning", "validate.formula-injection", sheet, ref)
            texts.append(text)
        if any(texts):
            extract.assessments.append(
                AssessmentRecord(
                    unit=ident.unit or "",
                    period=ident.period or "",
                    focus_area=row.area,
                    assessment=texts[0],
                    learned=texts[1],
                    file=out.file,
                    sha256=sha256,
                )
            )
