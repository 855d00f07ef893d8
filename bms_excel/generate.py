"""Generate one protected, self-checking, signed workbook per unit (DESIGN §4).

The template is loaded once per run (per process); for every unit it is reset to its pristine
state and every per-unit cell is rewritten (:class:`WorkbookWriter`, sheet writers in
:mod:`bms_excel.unit_sheets`). Coordinates come from :func:`bms_excel.layout.build_layout`;
status formulas from :mod:`bms_excel.status`; all text from the catalogue. Before saving,
guards check Excel's limits: the template's fixed cells once per run, per unit the cells that
vary (:func:`guard_workbook` checks a whole workbook). Saves are atomic (a temp file in the
target folder, then ``os.replace``) and serialise in memory (:mod:`bms_excel.xlsx.package`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.packaging.custom import CustomPropertyList, StringProperty
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.errors import OutputError, TemplateError
from bms_excel.i18n import t
from bms_excel.layout import DEFAULT_ANCHORS, Anchors, UnitLayout, build_layout
from bms_excel.limit_text import limits_text, target_text
from bms_excel.model import Definition, Unit
from bms_excel.resources import workbook_template
from bms_excel.signing import definition_hash, protection_password, sign_meta
from bms_excel.templates import LoadedTemplate, has_jinja, load_template, template_context
from bms_excel.unit_results import UnitInputs
from bms_excel.unit_sheets import (
    CellWriter,
    control_formulas,
    protect,
    set_control_results,
    write_actions,
    write_assessment,
    write_control,
    write_guide_definition,
    write_lists,
    write_meta,
    write_scorecard,
)
from bms_excel.xlsx.files import safe_filename, write_atomic
from bms_excel.xlsx.limits import (
    CLEAN_FORMULAS,
    check_names,
    formula_messages,
    over_cell_limit,
    rule_problems,
)
from bms_excel.xlsx.package import PartCache, workbook_bytes

if TYPE_CHECKING:
    from bms_excel.dialogue import UnitFollowUp
    from bms_excel.kostra_import import KostraView

__all__ = [
    "GenerateResult",
    "ManifestRow",
    "WorkbookWriter",
    "generate_workbooks",
    "guard_workbook",
    "limits_text",
    "safe_filename",
    "save_atomic",
    "select_units",
    "target_text",
    "write_manifest",
]

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
    """Fills one loaded template for unit after unit.

    The template's fixed cells are guarded with the first unit's workbook; after that only
    what varies per unit is (see :meth:`write`). Styles and serialised parts that repeat are
    cached for the life of the writer.
    """

    def __init__(
        self,
        definition: Definition,
        period_code: str,
        *,
        secret: bytes,
        lang: str = "nb",
        template: Path | None = None,
        history: History | None = None,
        kostra: Mapping[str, KostraView] | None = None,
        anchors: Anchors = DEFAULT_ANCHORS,
        now: dt.datetime | None = None,
        followup: Mapping[str, UnitFollowUp] | None = None,
    ) -> None:
        self.definition = definition
        #: Per unit, what its workbook carries from the period before (open actions, lessons).
        self.followup = dict(followup or {})
        #: The period whose lessons Vurdering shows (None: no such column).
        self.previous_period = next((f.previous_period for f in self.followup.values()), None)
        self.period = definition.period(period_code)
        self.secret = secret
        self.lang = lang
        self.history = history or {}
        self.kostra = dict(kostra or {})
        self.anchors = anchors
        self.now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        path = template or workbook_template()
        if not path.is_file():
            raise TemplateError(t("generate.template-missing", None, path=str(path)))
        self.template: LoadedTemplate = load_template(path, anchors)
        self.definition_hash = definition_hash(definition)
        self.password = protection_password(secret)
        self.cells = CellWriter(self.template.workbook)
        self.parts = PartCache()
        self._varying: list[tuple[Worksheet, Cell]] = []
        self._template_guarded = False
        self._sheet_state: dict[str, str] = {}
        #: Unit code → its placeholders rendered by :meth:`check_templates`, until its fill.
        self._rendered: dict[str, dict[tuple[str, str], str]] = {}
        #: The very hidden sheets by title, reused from unit to unit (:meth:`_hidden_sheet`).
        self._hidden: dict[str, Worksheet] = {}

    def context(self, unit: Unit) -> dict[str, object]:
        """The Jinja context for ``unit``."""
        return template_context(self.definition, unit, self.period, self.lang, self.now.date())

    def check_templates(self, units: Iterable[Unit]) -> None:
        """Render every placeholder for every unit once, before any file is written.

        The texts are kept for each unit's :meth:`fill` (rendering is a good part of a unit's
        placeholders' cost, and the context of a unit is the same for the whole run).
        """
        for unit in units:
            self._rendered[unit.code] = self.template.render_cells(self.context(unit))

    def fill(self, unit: Unit, filled: UnitInputs | None = None) -> tuple[Workbook, UnitLayout]:
        """Reset the template and write ``unit``'s workbook into it (not saved).

        ``filled`` pre-fills the input cells (a new workbook has none); every formula is
        written with the result it computes from them.

        The workbook belongs to the writer and is valid until the next ``fill``; it must not
        be changed: sheets whose inputs did not change are carried over to the next unit.
        """
        layout = build_layout(self.definition, unit, self.period.code, self.lang, self.anchors)
        ctx = self.context(unit)
        carried = self.followup.get(unit.code)
        if filled is None and carried is not None and carried.actions:
            filled = UnitInputs(actions=carried.actions)  # open actions of the period before
        inputs = self._sheet_inputs(layout, filled)
        keep = {key for key, value in inputs.items() if self._sheet_state.get(key) == value}
        self._sheet_state = {}  # until this fill has finished, no sheet is known to be complete
        wb = self._reset(layout, ctx, keep)
        self._write_sheets(unit, layout, ctx, filled, keep)
        lists, meta, meta_fields = self._write_hidden(unit, layout)
        self._protect_and_describe(unit, meta_fields)
        self._sheet_state = inputs
        frames = {**inputs, "scorecard": repr(layout.scorecard), "lists": repr(layout.lists)}
        frames["meta"] = repr(layout.meta)
        sheets = {**self.template.sheets, "lists": lists, "meta": meta}
        self.parts.frame_keys = {id(sheets[key]): frames[key] for key in sheets}
        return wb, layout

    def _reset(self, layout: UnitLayout, ctx: Mapping[str, object], keep: set[str]) -> Workbook:
        """The template reset for a unit (sheets in ``keep`` keep their cells), sheets titled."""
        tpl, out = self.template, self.cells
        texts = self._rendered.pop(layout.unit, None) or tpl.render_cells(ctx)
        rendered = tpl.reset(texts, keep)
        out.written = []
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
        self._varying = [(cell.parent, cell) for cell in rendered]
        return wb

    def _write_sheets(
        self,
        unit: Unit,
        layout: UnitLayout,
        ctx: Mapping[str, object],
        filled: UnitInputs | None,
        keep: set[str],
    ) -> None:
        """Målekort, and the visible sheets not in ``keep``, then Kontroll's results."""
        tpl, out = self.template, self.cells
        found = write_scorecard(
            out, tpl, layout, self.definition, unit, ctx, self.history, self.kostra, filled
        )
        start = len(out.written)
        if "actions" not in keep:
            write_actions(out, tpl, layout, self.period, filled.actions if filled else ())
        carried = self.followup.get(unit.code)
        if "assessment" not in keep:
            previous = carried.previous_period if carried else self.previous_period
            lessons = carried.lessons if carried else None
            write_assessment(out, tpl, layout, self.definition, lessons, previous)
        if "guide" not in keep:
            write_guide_definition(out, tpl, layout, self.definition, unit)
        out.freeze(start)  # kept for the next units as they are (Kontroll's results change)
        if "control" not in keep:
            write_control(out, tpl, layout)
        set_control_results(tpl, layout, found, filled)

    def _write_hidden(
        self, unit: Unit, layout: UnitLayout
    ) -> tuple[Worksheet, Worksheet, dict[str, str]]:
        """The very hidden lists and ``_meta`` sheets with the lists' names; the meta fields."""
        wb, out, names = self.template.workbook, self.cells, layout.sheets
        lists = self._hidden_sheet(names.lists)
        write_lists(out, lists, layout)
        for key, ref in (
            ("codes", layout.lists.codes),
            ("action_status", layout.lists.action_status),
            ("na", layout.lists.na),
        ):
            name = layout.lists.names[key]
            wb.defined_names[name] = DefinedName(name, attr_text=ref)
        meta_fields = self.meta_fields(unit, layout)
        meta = self._hidden_sheet(names.meta)
        write_meta(out, meta, layout, meta_fields)
        self._varying += out.written
        lists.sheet_state = "veryHidden"
        meta.sheet_state = "veryHidden"
        return lists, meta, meta_fields

    def _hidden_sheet(self, title: str) -> Worksheet:
        """A new, empty sheet ``title`` at the end of the workbook.

        The lists and ``_meta`` sheets only ever get cells, protection and their state, so
        the previous unit's sheet (removed by :meth:`_reset`) is emptied and added again: a
        new openpyxl worksheet costs more than the cells on it.
        """
        wb = self.template.workbook
        ws = self._hidden.get(title)
        if ws is None or ws in wb._sheets:
            ws = self._hidden[title] = wb.create_sheet(title)
            return ws
        ws._cells = {}
        wb._add_sheet(ws)
        return ws

    def _protect_and_describe(self, unit: Unit, meta_fields: Mapping[str, str]) -> None:
        """Sheet and structure protection, the first sheet active, the document properties."""
        wb = self.template.workbook
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
        # Cells drop control characters (clean_text); so does the title, which lxml refuses.
        title = ILLEGAL_CHARACTERS_RE.sub("", f"{unit.name} – {self.period.label}")
        wb.properties.title = title[:255]
        wb.properties.creator = "bms_excel"
        wb.properties.created = self.now.replace(tzinfo=None)
        wb.properties.modified = self.now.replace(tzinfo=None)

    def _sheet_inputs(self, layout: UnitLayout, filled: UnitInputs | None) -> dict[str, str]:
        """Per template sheet except Målekort, what its content depends on besides placeholders.

        The definition, period, language, template and password are fixed for the writer, so
        what is left is the sheet's part of the layout. A sheet whose inputs equal the
        previous unit's keeps its cells, validations and formats (only its placeholder cells
        are rewritten). The same texts key the sheets' serialised frames
        (:class:`~bms_excel.xlsx.package.PartCache`).
        """
        return {
            # Veiledning shows the descriptions of the unit's own indicators and focus areas.
            "guide": repr((layout.scorecard.indicators, layout.assessment)),
            "actions": repr((layout.actions, layout.lists.names, filled and filled.actions)),
            "assessment": repr((layout.assessment, self.followup.get(layout.unit))),
            "control": repr((layout.control, control_formulas(layout))),
        }

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

    def write(self, unit: Unit, path: Path, filled: UnitInputs | None = None) -> ManifestRow:
        """Fill, guard and atomically save ``unit``'s workbook at ``path``."""
        wb, _ = self.fill(unit, filled)
        if self._template_guarded:
            problems = _guard_cells(wb, self._varying)
        else:  # the first workbook of the run: everything, the template's fixed cells included
            problems = guard_workbook(wb)
            self._template_guarded = not problems
        if problems:
            self.cells.forget()  # kept rows are only reused unguarded once they passed
            raise TemplateError(
                t("generate.guard", None, unit=unit.code, problems="; ".join(problems[:10])),
                str(path.name),
            )
        digest = save_atomic(wb, path, parts=self.parts)
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


def guard_workbook(wb: Workbook) -> list[str]:
    """Every Excel-limit problem of ``wb`` as ``'sheet'!cell: message`` texts (empty when fine)."""
    every_cell = ((ws, cell) for ws in wb.worksheets for row in ws.iter_rows() for cell in row)
    return _guard_cells(wb, every_cell)


def _guard_cells(wb: Workbook, cells: Iterable[tuple[Worksheet, Cell]]) -> list[str]:
    """The problems of ``wb``'s names, validations and formatting rules and of ``cells``."""
    out: list[str] = []
    names = [str(n) for n in wb.defined_names]
    out += [p.message for p in check_names([ws.title for ws in wb.worksheets], names)]
    for ws, cell in cells:
        value = cell.value
        if not isinstance(value, str):
            continue
        # Thousands of cells per workbook, nearly all fine: the location only when needed.
        formula = cell.data_type == "f"
        too_long = not formula and over_cell_limit(value) is not None
        jinja = has_jinja(value)
        if not jinja and (value[1:] in CLEAN_FORMULAS if formula else not too_long):
            continue
        where = f"'{ws.title}'!{cell.coordinate}"
        if jinja:
            out.append(f"{where}: {t('generate.leftover-placeholder', None, text=value[:40])}")
        if formula:
            out += [f"{where}: {m}" for m in formula_messages(value[1:], where)]
        elif too_long:
            out.append(f"{where}: {t('generate.text-too-long', None, n=len(value))}")
    for ws in wb.worksheets:
        out += rule_problems(ws)
    return out


def save_atomic(wb: Workbook, path: Path, *, parts: PartCache | None = None) -> str:
    """Save ``wb`` to ``path`` via a temp file in the same folder; return the file's sha256.

    The package is serialised in memory first (``parts`` reuses what repeats between the
    workbooks of a run), so a failing save never creates a file, let alone touches ``path``.
    """
    payload = workbook_bytes(wb, parts)
    try:
        write_atomic(path, payload, suffix=".xlsx.tmp")
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(path), detail=str(exc))
        ) from exc
    return hashlib.sha256(payload).hexdigest()


def _write_text_atomic(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise OutputError(
            t("generate.cannot-write", None, path=str(path), detail=str(exc))
        ) from exc


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


@contextmanager
def _pool(
    processes: int, writer: WorkbookWriter, args: dict[str, object]
) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers each hold a writer.

    Where processes are forked, the workers inherit ``writer`` as it is (template loaded,
    placeholders rendered by the up-front check); elsewhere each builds its own from ``args``.
    """
    global _WORKER
    if multiprocessing.get_start_method() != "fork":
        with ProcessPoolExecutor(processes, initializer=_init_worker, initargs=(args,)) as pool:
            yield pool
        return
    _WORKER = writer
    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
            yield pool
    finally:
        _WORKER = None


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
    kostra: Mapping[str, KostraView] | None = None,
    progress: Progress | None = None,
    processes: int | None = None,
    now: dt.datetime | None = None,
    followup: Mapping[str, UnitFollowUp] | None = None,
) -> GenerateResult:
    """Write one workbook per unit in scope to ``out_dir`` plus ``manifest.csv``/``.json``.

    ``processes`` > 1 uses a process pool (each worker loads the template once); ``progress``
    is called as ``progress(done, total, unit_code)`` after each workbook. ``kostra`` holds
    the period's KOSTRA figures (:func:`bms_excel.kostra_import.kostra_views`) that KOSTRA rows
    show read-only beside the unit's own results. ``followup`` (unit code →
    :class:`~bms_excel.dialogue.UnitFollowUp`) pre-fills a unit's Tiltak with its open actions
    of the period before and shows that period's lessons on Vurdering.
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
        "kostra": dict(kostra or {}),
        "now": now,
        "followup": dict(followup or {}),
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
        with _pool(processes, writer, args) as pool:
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
