"""Generate one protected, self-checking, signed workbook per unit (DESIGN §4).

The template is loaded once per run (per process); for every unit it is reset to its pristine
state and every per-unit cell is rewritten (:class:`WorkbookWriter`). Coordinates come from
:func:`bms_excel.layout.build_layout`; status formulas from :mod:`bms_excel.status`; all text
from the catalogue. Before saving, guards check Excel's limits (:func:`guard_workbook`); saves
are atomic (a temp file in the target folder, then ``os.replace``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from copy import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path

from babel.numbers import format_decimal
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.packaging.custom import CustomPropertyList, StringProperty
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.errors import OutputError, TemplateError
from bms_excel.i18n import t
from bms_excel.layout import (
    ACTION_STATUSES,
    DEFAULT_ANCHORS,
    HIDDEN_ROLES,
    Anchors,
    UnitLayout,
    build_layout,
    sheet_ref,
)
from bms_excel.model import (
    Definition,
    Factor,
    FocusArea,
    Goal,
    Indicator,
    Period,
    Target,
    Unit,
    effective_target,
)
from bms_excel.ooxml import DV_LIMITS, cell_text_limit, check_names, formula_problems
from bms_excel.resources import workbook_template
from bms_excel.signing import definition_hash, protection_password, sign_meta
from bms_excel.status import (
    NOT_APPLICABLE_WORDS,
    Status,
    StatusRule,
    excel_status_formula,
    resolve_rule,
    status_label,
)
from bms_excel.templates import (
    LoadedTemplate,
    clean_text,
    format_date,
    has_jinja,
    load_template,
    render_header,
    template_context,
)
from bms_excel.values import parse_value

History = Mapping[tuple[str, str], Sequence[tuple[str, str]]]
Progress = Callable[[int, int, str], None]
MANIFEST_FIELDS = ("unit", "name", "file", "contact_name", "email", "deadline", "sha256")


@dataclass(frozen=True)
class ManifestRow:
    """One line of the send-out list."""

    unit: str
    name: str
    file: str
    contact_name: str
    email: str
    deadline: str
    sha256: str


@dataclass
class GenerateResult:
    """What a run wrote: the workbooks (in unit order) and the manifest."""

    out_dir: Path
    period: str
    files: list[Path] = field(default_factory=list)
    manifest: list[ManifestRow] = field(default_factory=list)
    manifest_csv: Path | None = None
    manifest_json: Path | None = None


def history_from_rows(
    rows: Iterable[Sequence[str]],
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """``(period, unit, indicator, value)`` rows → the ``history`` mapping of :func:`generate_workbooks`."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for period, unit, indicator, value in rows:
        out.setdefault((unit, indicator), []).append((period, value))
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TRANSLIT = str.maketrans({"æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "å": "a", "Å": "A"})


def safe_filename(period: str, unit_code: str) -> str:
    """``<period>_<unitcode>.xlsx`` with everything but ``A-Z a-z 0-9 . _ -`` replaced.

    Path separators, ``..``, drive letters, control characters and leading dots cannot survive,
    so the name is always a plain file inside the output folder.
    """

    def part(text: str, fallback: str) -> str:
        text = unicodedata.normalize("NFKD", str(text).translate(_TRANSLIT))
        text = text.encode("ascii", "ignore").decode("ascii")
        text = _UNSAFE.sub("_", text)
        text = re.sub(r"\.{2,}", "_", text).strip("._-")
        return text[:60] or fallback

    return f"{part(period, 'periode')}_{part(unit_code, 'enhet')}.xlsx"


def select_units(
    definition: Definition, units: Sequence[str] | None = None, sector: str | None = None
) -> list[Unit]:
    """The units to generate for, in definition order (``TemplateError`` for unknown codes)."""
    known = {u.code for u in definition.units}
    for code in units or ():
        if code not in known:
            raise TemplateError(
                t("generate.unknown-unit", None, code=code, known=", ".join(sorted(known)))
            )
    if sector is not None and sector not in {s.code for s in definition.sectors}:
        known_s = ", ".join(s.code for s in definition.sectors)
        raise TemplateError(t("generate.unknown-sector", None, code=sector, known=known_s))
    chosen = [
        u
        for u in definition.units
        if (not units or u.code in units) and (sector is None or u.sector == sector)
    ]
    if not chosen:
        raise TemplateError(t("generate.no-units"))
    return chosen


class WorkbookWriter:
    """Fills one loaded template for unit after unit."""

    def __init__(
        self,
        definition: Definition,
        period_code: str,
        *,
        secret: bytes,
        lang: str = "nb",
        template: Path | None = None,
        history: History | None = None,
        anchors: Anchors = DEFAULT_ANCHORS,
        now: dt.datetime | None = None,
    ) -> None:
        self.definition = definition
        self.period = definition.period(period_code)
        self.secret = secret
        self.lang = lang
        self.history = history or {}
        self.anchors = anchors
        self.now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        path = template or workbook_template()
        if not path.is_file():
            raise TemplateError(t("generate.template-missing", None, path=str(path)))
        self.template: LoadedTemplate = load_template(path, anchors)
        self.definition_hash = definition_hash(definition)
        self.password = protection_password(secret)

    def context(self, unit: Unit) -> dict[str, object]:
        """The Jinja context for ``unit``."""
        return template_context(self.definition, unit, self.period, self.lang, self.now.date())

    def check_templates(self, units: Iterable[Unit]) -> None:
        """Render every placeholder for every unit once, before any file is written."""
        for unit in units:
            self.template.check_render(self.context(unit))

    def fill(self, unit: Unit) -> tuple[Workbook, UnitLayout]:
        """Reset the template and write ``unit``'s workbook into it (not saved)."""
        layout = build_layout(self.definition, unit, self.period.code, self.lang, self.anchors)
        ctx = self.context(unit)
        tpl = self.template
        tpl.reset(lambda key, ref: tpl.render(key, ref, ctx))
        wb = tpl.workbook
        for ws in list(wb.worksheets):
            if ws not in tpl.sheets.values():
                wb.remove(ws)
        for name in list(wb.defined_names):
            del wb.defined_names[name]
        names = layout.sheets
        for key, title in zip(
            ("guide", "scorecard", "actions", "assessment", "control"), names.visible(), strict=True
        ):
            tpl.sheets[key].title = title
        write_scorecard(tpl, layout, self.definition, unit, ctx, self.history)
        write_actions(tpl, layout, self.period)
        write_assessment(tpl, layout, self.definition)
        write_control(tpl, layout)
        lists = wb.create_sheet(names.lists)
        write_lists(lists, layout)
        for key, ref in (
            ("codes", layout.lists.codes),
            ("action_status", layout.lists.action_status),
            ("na", layout.lists.na),
        ):
            name = layout.lists.names[key]
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
        meta_fields = self.meta_fields(unit, layout)
        meta = wb.create_sheet(names.meta)
        write_meta(meta, layout, meta_fields)
        lists.sheet_state = "veryHidden"
        meta.sheet_state = "veryHidden"
        for ws in wb.worksheets:
            protect(ws, self.password)
            ws.sheet_view.tabSelected = False
        wb.active = 0
        wb.worksheets[0].sheet_view.tabSelected = True
        wb.security = WorkbookProtection(workbookPassword=self.password, lockStructure=True)
        wb.custom_doc_props = CustomPropertyList()
        for key, value in meta_fields.items():
            if key != "rows":
                wb.custom_doc_props.append(StringProperty(name=f"bms.{key}", value=value))
        wb.properties.title = f"{unit.name} – {self.period.label}"[:255]
        wb.properties.creator = "bms_excel"
        wb.properties.created = self.now.replace(tzinfo=None)
        wb.properties.modified = self.now.replace(tzinfo=None)
        return wb, layout

    def meta_fields(self, unit: Unit, layout: UnitLayout) -> dict[str, str]:
        """The ``_meta`` values of ``unit``'s workbook, signature included."""
        fields = {
            "unit": unit.code,
            "period": self.period.code,
            "definition_hash": self.definition_hash,
            "template_version": layout.template_version,
            "generated_at": self.now.isoformat().replace("+00:00", "Z"),
            "county": self.definition.county.code,
            "language": self.lang,
            "layout_fingerprint": layout.fingerprint(),
        }
        fields["rows"] = json.dumps(layout.row_map(), separators=(",", ":"))
        fields["signature"] = sign_meta(fields, self.secret)
        return fields

    def write(self, unit: Unit, path: Path) -> ManifestRow:
        """Fill, guard and atomically save ``unit``'s workbook at ``path``."""
        wb, _ = self.fill(unit)
        problems = guard_workbook(wb)
        if problems:
            raise TemplateError(
                t("generate.guard", None, unit=unit.code, problems="; ".join(problems[:10])),
                str(path.name),
            )
        digest = save_atomic(wb, path)
        contact = unit.contact
        return ManifestRow(
            unit=unit.code,
            name=unit.name,
            file=path.name,
            contact_name=contact.name if contact else "",
            email=(contact.email or "") if contact else "",
            deadline=self.period.deadline.isoformat(),
            sha256=digest,
        )


# -- sheet writers -----------------------------------------------------------------------------
_STATUS_COLOURS = {
    Status.GREEN: ("C6EFCE", "006100"),
    Status.YELLOW: ("FFEB9C", "7F6000"),
    Status.RED: ("FFC7CE", "9C0006"),
    Status.INVALID: ("F4B183", "833C0B"),
    Status.MISSING: ("EDEDED", "404040"),
    Status.NOT_APPLICABLE: ("EDEDED", "404040"),
    Status.NO_TARGET: ("EDEDED", "404040"),
}
_LOCKED = Protection(locked=True)
_UNLOCKED = Protection(locked=False)
_TEXT_MAX = "32767"


def _put(
    ws: Worksheet, ref: str, value: object, style: StyleArray, *, unlocked: bool = False
) -> Cell:
    """Write ``value`` with a copy of ``style``; text is cleaned and never becomes a formula."""
    cell = ws[ref]
    cell._style = copy(style)
    if isinstance(value, str):
        is_formula = value.startswith("=") and getattr(value, "formula", False)
        cell.value = clean_text(value, f"'{ws.title}'!{ref}")
        if cell.data_type == "f" and not is_formula:
            cell.data_type = "s"
    else:
        cell.value = value
    if cell.protection.locked == unlocked:
        cell.protection = _UNLOCKED if unlocked else _LOCKED
    return cell


class _Formula(str):
    """A string that is meant to be a formula (everything else is written as text)."""

    formula = True


def _fill(colour: str) -> PatternFill:
    return PatternFill("solid", fgColor=colour, bgColor=colour)


def _number_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _fmt(value: float, lang: str) -> str:
    return format_decimal(value, locale=_LOCALES.get(lang, "nb_NO"), decimal_quantization=False)


_LOCALES = {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}


def target_text(target: Target | None, lang: str) -> str:
    """The ambition level as shown: the definition's own text (``5 – 4,5``) or a number."""
    if target is None:
        return "–"
    if target.text:
        return target.text
    if target.value is not None:
        return _fmt(target.value, lang)
    assert target.low is not None and target.high is not None
    return f"{_fmt(target.low, lang)} – {_fmt(target.high, lang)}"


def limits_text(rule: StatusRule, lang: str) -> str:
    """The status limits of ``rule`` in words: ``Grønn ≥ 85 · Gul ≥ 80``."""
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        return t(
            f"wb.limits.{rule.direction}",
            lang,
            green=_fmt(rule.green, lang),
            yellow=_fmt(rule.yellow, lang),
        )
    if rule.kind == "band":
        assert rule.low is not None and rule.high is not None
        return t(
            "wb.limits.band",
            lang,
            low=_fmt(rule.low, lang),
            high=_fmt(rule.high, lang),
            tolerance=_fmt(rule.tolerance, lang),
        )
    return t("wb.limits.none", lang)


def _history_value(raw: str, percent: bool) -> object:
    parsed = parse_value(raw, percent=percent)
    if parsed.kind == "number":
        return parsed.value
    return None if parsed.kind == "missing" else raw


def _comment_missing_formula(rule: str, status: str, comment: str, lang: str) -> str:
    blank = f"LEN(TRIM({comment}))=0"
    red, yellow = status_label(Status.RED, lang), status_label(Status.YELLOW, lang)
    condition = {
        "never": None,
        "when_red": f'{status}="{red}"',
        "when_not_green": f'OR({status}="{red}",{status}="{yellow}")',
        "always": "TRUE",
    }[rule]
    if condition is None:
        return _Formula("=0")
    return _Formula(f"=IF(AND({condition},{blank}),1,0)")


def _result_validation(ind: Indicator, ref: str, na_name: str, lang: str) -> DataValidation:
    measure = ind.unit_of_measure or "–"
    if ind.valid_range is not None:
        low, high = ind.valid_range
        number = f"AND(ISNUMBER({ref}),{ref}>={low!r},{ref}<={high!r})"
        prompt = t(
            "wb.dv.result.prompt-range",
            lang,
            low=_fmt(low, lang),
            high=_fmt(high, lang),
            measure=measure,
        )
    else:
        number = f"ISNUMBER({ref})"
        prompt = t("wb.dv.result.prompt", lang, measure=measure)
    return DataValidation(
        type="custom",
        formula1=f"OR({number},ISNUMBER(MATCH(TRIM({ref}),{na_name},0)))",
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=t("wb.dv.result.title", lang),
        prompt=prompt,
        errorTitle=t("wb.dv.result.error-title", lang),
        error=t("wb.dv.result.error", lang),
        sqref=ref,
    )


def _text_validation(
    refs: Iterable[str], prompt: str, lang: str, title: str | None = None
) -> DataValidation:
    return DataValidation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1=_TEXT_MAX,
        allow_blank=True,
        showInputMessage=True,
        showErrorMessage=True,
        promptTitle=title or t("wb.dv.text.title", lang),
        prompt=prompt,
        errorTitle=t("wb.dv.text.error-title", lang),
        error=t("wb.dv.text.error", lang),
        sqref=" ".join(refs),
    )


def write_scorecard(
    tpl: LoadedTemplate,
    layout: UnitLayout,
    definition: Definition,
    unit: Unit,
    ctx: Mapping[str, object],
    history: History,
) -> None:
    """Målekort: header row, group rows, one row per indicator with inputs, status and checks."""
    ws, sc, lang = tpl.sheets["scorecard"], layout.scorecard, layout.language
    period = layout.period
    letters: dict[str, list[str]] = {role: [col] for role, col in sc.columns.items()}
    letters["history"] = list(sc.history_columns)
    for role, cols in letters.items():
        for i, col in enumerate(cols):
            dim = ws.column_dimensions[col]
            dim.width = tpl.scorecard_widths.get(role) or 10
            dim.hidden = role in HIDDEN_ROLES
            hctx = {**ctx, "history_period": sc.history_periods[i]} if role == "history" else ctx
            text = render_header(tpl, role, hctx)
            _put(ws, f"{col}{sc.header_row}", text, tpl.scorecard_headers[role][0])
    ws.row_dimensions[sc.header_row].height = tpl.row_heights[("scorecard", "header")]

    objects: dict[tuple[str, str], FocusArea | Goal | Factor] = {}
    for area in definition.focus_areas:
        objects[("area", area.code)] = area
        for goal in area.goals:
            objects[("goal", goal.code)] = goal
            for factor in goal.factors:
                objects[("factor", factor.code)] = factor
    for group in sc.groups:
        styles = tpl.scorecard_styles[group.kind]
        obj = objects[(group.kind, group.code)]
        for role, cols in letters.items():
            label = obj.code if role == "code" else obj.name if role == "name" else None
            for col in cols:
                cell = _put(ws, f"{col}{group.row}", label, styles[role])
                if isinstance(obj, FocusArea):
                    cell.fill = _fill(obj.colour.lstrip("#").upper())
        ws.row_dimensions[group.row].height = tpl.row_heights[("scorecard", group.kind)]

    na_name = layout.lists.names["na"]
    comment_refs: list[str] = []
    for cells in sc.indicators:
        ind = definition.indicator(cells.code)
        target, _ = effective_target(ind, unit, period)
        try:
            rule = resolve_rule(ind, definition.settings, unit, period)
        except ValueError as exc:
            raise TemplateError(
                t("generate.bad-rule", None, code=ind.code, detail=str(exc))
            ) from exc
        kind = "input" if cells.input else "readonly"
        styles = tpl.scorecard_styles[kind]
        row = cells.row
        past = dict(history.get((unit.code, ind.code), ()))
        percent = ind.unit_of_measure.strip() == "%"
        values: dict[str, object] = {
            "code": ind.code,
            "name": ind.name,
            "measure": ind.unit_of_measure,
            "target": target_text(target, lang),
            "limits": limits_text(rule, lang),
            "owner": ind.owner or "",
        }
        if cells.input:
            values["status"] = _Formula(excel_status_formula(rule, cells.result_ref, lang))
            values["comment_rule"] = t(f"wb.comment-rule.{ind.comment_required}", lang)
            values["comment_missing"] = _comment_missing_formula(
                ind.comment_required, cells.status_ref, cells.comment_ref, lang
            )
            if ind.valid_range is not None:
                low, high = ind.valid_range
                ref = cells.result_ref
                values["out_of_range"] = _Formula(
                    f"=IF(ISNUMBER({ref}),IF(OR({ref}<{low!r},{ref}>{high!r}),1,0),0)"
                )
            else:
                values["out_of_range"] = _Formula("=0")
        else:
            values["result"] = t(f"wb.source.{ind.source}", lang)
        for role, cols in letters.items():
            for i, col in enumerate(cols):
                ref = f"{col}{row}"
                unlocked = cells.input and role in ("result", "comment")
                value: object
                if role == "history":
                    past_raw = past.get(sc.history_periods[i])
                    value = None if past_raw is None else _history_value(past_raw, percent)
                else:
                    value = values.get(role)
                cell = _put(ws, ref, value, styles[role], unlocked=unlocked)
                if role in ("history", "result"):
                    cell.number_format = _number_format(ind.decimals)
        ws.row_dimensions[row].height = tpl.row_heights[("scorecard", kind)]
        if cells.input:
            ws.add_data_validation(_result_validation(ind, cells.result_ref, na_name, lang))
            comment_refs.append(cells.comment_ref)
    if comment_refs:
        ws.add_data_validation(
            _text_validation(comment_refs, t("wb.dv.comment.prompt", lang), lang)
        )
    if sc.indicators:
        status_range = sc.column_range("status")
        for status, (bg, fg) in _STATUS_COLOURS.items():
            ws.conditional_formatting.add(
                status_range,
                CellIsRule(
                    operator="equal",
                    formula=[f'"{status_label(status, lang)}"'],
                    fill=_fill(bg),
                    font=Font(color=fg, bold=status in (Status.RED, Status.INVALID)),
                ),
            )
        flag = f"${sc.columns['comment_missing']}{sc.first_row}=1"
        ws.conditional_formatting.add(
            sc.column_range("comment"), FormulaRule(formula=[flag], fill=_fill("FFC7CE"))
        )


def write_actions(tpl: LoadedTemplate, layout: UnitLayout, period: Period) -> None:
    """Tiltak: ``action_rows`` blank input rows with dropdowns and a date-validated deadline."""
    ws, acts, lang = tpl.sheets["actions"], layout.actions, layout.language
    styles = tpl.table_styles["actions"]
    for row in range(acts.first_row, acts.last_row + 1):
        for role, col in acts.columns.items():
            cell = _put(ws, f"{col}{row}", None, styles[role], unlocked=True)
            if role == "deadline":
                cell.number_format = "dd.mm.yyyy"
        ws.row_dimensions[row].height = tpl.row_heights[("actions", "row")]
    first, last = dt.date(period.year - 1, 1, 1), dt.date(period.year + 4, 12, 31)
    serial = lambda d: str((d - dt.date(1899, 12, 30)).days)  # noqa: E731 - Excel date serial
    shown = {"start": format_date(first), "end": format_date(last)}
    list_error = t("wb.dv.list.error-title", lang)
    for dv in (
        DataValidation(
            type="list",
            formula1=layout.lists.names["codes"],
            promptTitle=t("wb.dv.code.title", lang),
            prompt=t("wb.dv.code.prompt", lang),
            errorTitle=list_error,
            error=t("wb.dv.code.error", lang),
            sqref=acts.column_range("code"),
        ),
        _text_validation([acts.column_range("action")], t("wb.dv.action.prompt", lang), lang),
        _text_validation(
            [acts.column_range("responsible")], t("wb.dv.responsible.prompt", lang), lang
        ),
        DataValidation(
            type="date",
            operator="between",
            formula1=serial(first),
            formula2=serial(last),
            promptTitle=t("wb.dv.deadline.title", lang),
            prompt=t("wb.dv.deadline.prompt", lang, example=format_date(period.deadline), **shown),
            errorTitle=t("wb.dv.deadline.title", lang),
            error=t("wb.dv.deadline.error", lang, **shown),
            sqref=acts.column_range("deadline"),
        ),
        DataValidation(
            type="list",
            formula1=layout.lists.names["action_status"],
            promptTitle=t("wb.dv.status.title", lang),
            prompt=t("wb.dv.status.prompt", lang),
            errorTitle=list_error,
            error=t("wb.dv.status.error", lang),
            sqref=acts.column_range("status"),
        ),
    ):
        dv.allow_blank = True
        dv.showInputMessage = dv.showErrorMessage = True
        ws.add_data_validation(dv)


def write_assessment(tpl: LoadedTemplate, layout: UnitLayout, definition: Definition) -> None:
    """Vurdering: per focus area, the unit's assessment and what it has learned."""
    ws, lang = tpl.sheets["assessment"], layout.language
    styles = tpl.table_styles["assessment"]
    names = {a.code: a.name for a in definition.focus_areas}
    for a in layout.assessment:
        _put(ws, a.area_ref, names[a.area], styles["area"])
        _put(ws, a.assessment_ref, None, styles["assessment"], unlocked=True)
        _put(ws, a.learned_ref, None, styles["learned"], unlocked=True)
        ws.row_dimensions[a.row].height = tpl.row_heights[("assessment", "row")]
    if layout.assessment:
        ws.add_data_validation(
            _text_validation(
                [a.assessment_ref for a in layout.assessment],
                t("wb.dv.assessment.prompt", lang),
                lang,
            )
        )
        ws.add_data_validation(
            _text_validation(
                [a.learned_ref for a in layout.assessment], t("wb.dv.learned.prompt", lang), lang
            )
        )


def control_formulas(layout: UnitLayout) -> dict[str, str]:
    """The Kontroll count formula of each check (Excel 2007 functions only)."""
    sc, acts, names, lang = layout.scorecard, layout.actions, layout.sheets, layout.language

    def score(role: str) -> str:
        return sheet_ref(names.scorecard, sc.column_range(role), absolute=True)

    def action(role: str) -> str:
        return sheet_ref(names.actions, acts.column_range(role), absolute=True)

    has_action = f"(LEN(TRIM({action('action')}))>0)"
    return {
        "missing": f'=COUNTIF({score("status")},"{status_label(Status.MISSING, lang)}")',
        "invalid": (
            f'=COUNTIF({score("status")},"{status_label(Status.INVALID, lang)}")'
            f"+SUM({score('out_of_range')})"
        ),
        "comment": f"=SUM({score('comment_missing')})",
        "owner": f"=SUMPRODUCT({has_action}*(LEN(TRIM({action('responsible')}))=0))",
        "deadline": f"=SUMPRODUCT({has_action}*(LEN({action('deadline')})=0))",
    }


def write_control(tpl: LoadedTemplate, layout: UnitLayout) -> None:
    """Kontroll: live counts, what to fix, and «Klar til innsending: JA/NEI»."""
    ws, ctl, lang = tpl.sheets["control"], layout.control, layout.language
    styles = tpl.table_styles["control"]
    formulas = control_formulas(layout)
    ok = t("wb.control.ok", lang)
    for check in ctl.checks:
        fix = t(f"wb.control.{check.key}.fix", lang).replace('"', '""')
        _put(ws, check.check_ref, t(f"wb.control.{check.key}", lang), styles["check"])
        _put(ws, check.count_ref, _Formula(formulas[check.key]), styles["count"])
        _put(ws, check.fix_ref, _Formula(f'=IF({check.count_ref}>0,"{fix}","{ok}")'), styles["fix"])
        ws.row_dimensions[check.row].height = tpl.row_heights[("control", "row")]
    counts = f"{ctl.checks[0].count_ref}:{ctl.checks[-1].count_ref}"
    yes, no = t("wb.control.yes", lang), t("wb.control.no", lang)
    ready = ctl.ready
    _put(ws, ready.check_ref, t("wb.control.ready", lang), styles["ready.check"])
    _put(
        ws, ready.count_ref, _Formula(f'=IF(SUM({counts})=0,"{yes}","{no}")'), styles["ready.count"]
    )
    ready_yes, ready_no = t("wb.control.ready.yes", lang), t("wb.control.ready.no", lang)
    _put(
        ws,
        ready.fix_ref,
        _Formula(f'=IF({ready.count_ref}="{yes}","{ready_yes}","{ready_no}")'),
        styles["ready.fix"],
    )
    ws.row_dimensions[ready.row].height = tpl.row_heights[("control", "ready")]
    ws.conditional_formatting.add(
        counts, CellIsRule(operator="greaterThan", formula=["0"], fill=_fill("FFC7CE"))
    )
    ws.conditional_formatting.add(
        counts, CellIsRule(operator="equal", formula=["0"], fill=_fill("C6EFCE"))
    )
    for word, colour in ((yes, "C6EFCE"), (no, "FFC7CE")):
        ws.conditional_formatting.add(
            ready.count_ref, CellIsRule(operator="equal", formula=[f'"{word}"'], fill=_fill(colour))
        )


def write_lists(ws: Worksheet, layout: UnitLayout) -> None:
    """The very hidden list sheet: indicator codes, action statuses, not-applicable words."""
    for i, cells in enumerate(layout.scorecard.indicators, start=1):
        ws.cell(row=i, column=1, value=cells.code)
    for i, key in enumerate(ACTION_STATUSES, start=1):
        ws.cell(row=i, column=2, value=t(f"wb.action-status.{key}", layout.language))
    for i, word in enumerate(NOT_APPLICABLE_WORDS, start=1):
        ws.cell(row=i, column=3, value=word).data_type = "s"


def write_meta(ws: Worksheet, layout: UnitLayout, fields: Mapping[str, str]) -> None:
    """The very hidden ``_meta`` sheet: one field per row, key in A, value in B."""
    for key, ref in layout.meta.items():
        row = int(ref[1:])
        ws.cell(row=row, column=1, value=key)
        ws.cell(row=row, column=2, value=fields[key]).data_type = "s"


def protect(ws: Worksheet, password: str) -> None:
    """Protect ``ws``: locked cells read-only, column/row formatting allowed."""
    prot = ws.protection
    prot.sheet = True
    prot.password = password
    prot.formatColumns = False  # openpyxl's flags are inverted: False = allowed
    prot.formatRows = False
    prot.selectLockedCells = False
    prot.selectUnlockedCells = False


def guard_workbook(wb: Workbook) -> list[str]:
    """Every Excel-limit problem of ``wb`` as ``'sheet'!cell: message`` texts (empty when fine)."""
    out: list[str] = []
    names = [str(n) for n in wb.defined_names]
    out += [p.message for p in check_names([ws.title for ws in wb.worksheets], names)]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if not isinstance(value, str):
                    continue
                where = f"'{ws.title}'!{cell.coordinate}"
                if has_jinja(value):
                    out.append(
                        f"{where}: {t('generate.leftover-placeholder', None, text=value[:40])}"
                    )
                if cell.data_type == "f":
                    out += [
                        f"{where}: {p.message}" for p in formula_problems(value[1:], where=where)
                    ]
                elif len(value.encode("utf-16-le")) // 2 > cell_text_limit:
                    out.append(f"{where}: {t('generate.text-too-long', None, n=len(value))}")
        for dv in ws.data_validations.dataValidation:
            for what, value in (
                ("prompt", dv.prompt),
                ("error", dv.error),
                ("promptTitle", dv.promptTitle),
                ("errorTitle", dv.errorTitle),
            ):
                if value and len(value) > DV_LIMITS[what]:
                    out.append(
                        f"'{ws.title}'!{dv.sqref}: "
                        + t(
                            "generate.dv-too-long",
                            None,
                            what=what,
                            n=len(value),
                            limit=DV_LIMITS[what],
                        )
                    )
            for formula in (dv.formula1, dv.formula2):
                if formula:
                    out += [
                        p.message
                        for p in formula_problems(formula, where=f"'{ws.title}'!{dv.sqref}")
                    ]
        for cf in ws.conditional_formatting:
            for rule in cf.rules:
                for formula in rule.formula or ():
                    out += [
                        p.message
                        for p in formula_problems(formula, where=f"'{ws.title}'!{cf.sqref}")
                    ]
    return out


def save_atomic(wb: Workbook, path: Path) -> str:
    """Save ``wb`` to ``path`` via a temp file in the same folder; return the file's sha256.

    A failing save (openpyxl leaves a broken partial file behind) never touches ``path``.
    """
    tmp: Path | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".~bms-", suffix=".xlsx.tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        wb.save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; a workbook is a normal file
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(path), detail=str(exc))
        ) from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return digest


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=".~bms-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(path), detail=str(exc))
        ) from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def write_manifest(rows: Sequence[ManifestRow], out_dir: Path) -> tuple[Path, Path]:
    """Write ``manifest.csv`` (semicolon-separated, UTF-8 with BOM for Excel) and ``manifest.json``."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(MANIFEST_FIELDS)
    for row in rows:
        writer.writerow([getattr(row, f) for f in MANIFEST_FIELDS])
    csv_path, json_path = out_dir / "manifest.csv", out_dir / "manifest.json"
    _write_text_atomic(csv_path, "\ufeff" + buf.getvalue())
    _write_text_atomic(
        json_path, json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2) + "\n"
    )
    return csv_path, json_path


# -- process pool ------------------------------------------------------------------------------
_WORKER: WorkbookWriter | None = None


def _init_worker(args: dict[str, object]) -> None:
    global _WORKER
    _WORKER = WorkbookWriter(**args)  # type: ignore[arg-type]


def _work(unit: Unit, path: Path) -> ManifestRow:
    assert _WORKER is not None
    return _WORKER.write(unit, path)


def generate_workbooks(
    definition: Definition,
    period_code: str,
    *,
    out_dir: Path,
    secret: bytes,
    units: Sequence[str] | None = None,
    sector: str | None = None,
    lang: str = "nb",
    template: Path | None = None,
    history: History | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
    now: dt.datetime | None = None,
) -> GenerateResult:
    """Write one workbook per unit in scope to ``out_dir`` plus ``manifest.csv``/``.json``.

    ``processes`` > 1 uses a process pool (each worker loads the template once); ``progress``
    is called as ``progress(done, total, unit_code)`` after each workbook.
    """
    chosen = select_units(definition, units, sector)
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    args: dict[str, object] = {
        "definition": definition,
        "period_code": period_code,
        "secret": secret,
        "lang": lang,
        "template": template,
        "history": dict(history or {}),
        "now": now,
    }
    writer = WorkbookWriter(**args)  # type: ignore[arg-type]
    writer.check_templates(chosen)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(out_dir), detail=str(exc))
        ) from exc
    paths: dict[str, Path] = {}
    used: set[str] = set()
    for unit in chosen:
        name = safe_filename(period_code, unit.code)
        stem, n = name.removesuffix(".xlsx"), 2
        while name.casefold() in used:
            name, n = f"{stem}-{n}.xlsx", n + 1
        used.add(name.casefold())
        paths[unit.code] = out_dir / name
    rows: dict[str, ManifestRow] = {}
    total = len(chosen)
    if processes and processes > 1 and total > 1:
        with ProcessPoolExecutor(processes, initializer=_init_worker, initargs=(args,)) as pool:
            futures = {pool.submit(_work, u, paths[u.code]): u.code for u in chosen}
            for future in as_completed(futures):
                rows[futures[future]] = future.result()
                if progress:
                    progress(len(rows), total, futures[future])
    else:
        for unit in chosen:
            rows[unit.code] = writer.write(unit, paths[unit.code])
            if progress:
                progress(len(rows), total, unit.code)
    manifest = [rows[u.code] for u in chosen]
    csv_path, json_path = write_manifest(manifest, out_dir)
    return GenerateResult(
        out_dir=out_dir,
        period=period_code,
        files=[paths[u.code] for u in chosen],
        manifest=manifest,
        manifest_csv=csv_path,
        manifest_json=json_path,
    )
