"""The Excel buttons (DESIGN §8): thin xlwings adapters over the library, nothing more.

Each entry point serves both a classic button (a VBA Sub in ``macros/BmsExcel.bas`` calling
``RunPython "import bms_excel.excel_buttons; bms_excel.excel_buttons.validate()"``, where the
book comes from ``xw.Book.caller()``) and xlwings Lite/Server (``@xw.script``: the runtime
passes the book). Every function converts the open workbook into the library's plain
structures, calls the same function the CLI calls, and writes the result back through xlwings
— never with openpyxl, because Excel holds the open file locked.

* :func:`validate` — in a unit workbook: :func:`bms_excel.validate.validate_data` on the
  *current* contents (unsaved edits included), a highlight and a note on each problem cell,
  and the findings listed on the Kontroll sheet; the next run first removes its own marks.
* :func:`generate`, :func:`collect`, :func:`consolidate` — in the controller's workbook
  (``bms control-workbook``): settings from the Innstillinger sheet, results into its sheets.

This is the only module that imports xlwings. Without it everything else works, and the
entry points say how to install it.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bms_excel.api import (
    Project,
    collect_project,
    find_project,
    generate_project,
    validate_open_workbook,
    workbook_language,
)
from bms_excel.control_workbook import NAMES, XLWINGS_CONF, output_sheet_names
from bms_excel.errors import BmsError, ConfigError, Finding
from bms_excel.i18n import LANGUAGES, check_language, get_language, set_language, t
from bms_excel.layout import CONTROL_CHECKS, DEFAULT_ANCHORS, sheet_names
from bms_excel.reader import CellValue, FileKind, SheetInfo, WorkbookData
from bms_excel.validate import parse_a1

try:
    import xlwings as xw
except ImportError:  # the optional extra is not installed: the entry points explain
    xw = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import xlwings

    Book = xlwings.Book
else:
    Book = Any

#: Fill of a cell with an error / a warning (Excel's "Bad" and "Neutral" styles).
HIGHLIGHT = {"error": "#FFC7CE", "warning": "#FFEB9C"}
#: Where Valider lists its findings on Kontroll: two rows below the JA/NEI row.
FINDINGS_ROW = DEFAULT_ANCHORS.control_header_row + len(CONTROL_CHECKS) + 3
FINDINGS_COLUMNS = 6  # sheet, cell, severity, message, code, fill before marking
#: Key in the ``xlwings.conf`` sheet (or environment variable) naming the project folder.
PROJECT_SETTING = "BMS_PROJECT"


def _script(func: Callable[..., None]) -> Callable[..., None]:
    # On Windows xw.script is xlwings.udfs.xlsub (returns the same function with metadata),
    # on Linux a no-op, under xlwings Server/Lite it registers the script.
    return xw.script(func) if xw is not None else func


def _require_xlwings() -> Any:
    if xw is None:
        raise ConfigError(t("buttons.no-xlwings"))
    return xw


def _caller(book: Book | None) -> Book:
    return book if book is not None else _require_xlwings().Book.caller()


# -- entry points ------------------------------------------------------------------------------


@_script
def validate(book: Book | None = None) -> None:
    """Valider: check the open unit workbook, mark problem cells, list findings on Kontroll."""
    book = _caller(book)
    with _reporting(book, "buttons.validate.title"):
        data = workbook_data(book)
        with _language(workbook_language(data)):
            project = _unit_project(book)
            _use_language(project, workbook_language(data))
            result = validate_open_workbook(project, data, book.name)
            control = _control_sheet(book)
            marked = [f for f in result.findings if _markable(book, f)]
            touched = {f.sheet for f in marked if f.sheet} | ({control} if control else set())
            with _unprotected(
                book, sorted(touched | set(_previous_sheets(book, control))), result.password
            ):
                if control is not None:
                    clear_marks(book, control)
                fills = {(f.sheet, f.cell): _read_fill(book, f) for f in marked}
                for cell_findings in _by_cell(marked):
                    mark_cell(book, cell_findings)
                if control is not None:
                    write_findings(book, control, result.findings, fills)
            errors = sum(f.severity == "error" for f in result.findings)
            warnings = sum(f.severity == "warning" for f in result.findings)
            if errors or warnings:
                text = t(
                    "buttons.validate.summary",
                    errors=errors,
                    warnings=warnings,
                    sheet=control or sheet_names(get_language()).control,
                )
            else:
                text = t("buttons.validate.ok")
            _status(book, False)
            book.app.alert(text, title=t("buttons.validate.title"))


@_script
def generate(book: Book | None = None) -> None:
    """Generer: make the unit workbooks for the period in Innstillinger (as ``bms generate``)."""
    book = _caller(book)
    with _reporting(book, "cwb.button.generate"):
        settings = read_settings(book)
        with _language(settings["language"]):
            project = _controller_project(settings)
            _use_language(project, settings["language"])

            def progress(done: int, total: int, code: str) -> None:
                _status(book, t("buttons.generate.progress", done=done, total=total, unit=code))

            result = generate_project(
                project,
                period=settings["period"] or None,
                lang=settings["language"] or None,
                progress=progress,
            )
            text = t(
                "generate.done",
                n=len(result.files),
                period=result.period,
                out=str(result.out_dir),
                manifest=str(result.manifest_csv),
            )
            _finish(book, text, "cwb.button.generate")


@_script
def collect(book: Book | None = None) -> None:
    """Samle inn: collect the submissions folder and write who delivered and what is wrong."""
    book = _caller(book)
    with _reporting(book, "cwb.button.collect"):
        settings = read_settings(book)
        with _language(settings["language"]):
            project = _controller_project(settings)
            _use_language(project, settings["language"])

            def progress(done: int, total: int) -> None:
                _status(book, t("buttons.collect.progress", done=done, total=total))

            report = collect_project(project, period=settings["period"] or None, progress=progress)
            rows = collect_rows(report.to_json(), _now())
            sheet = _output_sheet(book, "collect")
            sheet.clear_contents()
            sheet.range("A1").value = rows
            counts = {s: sum(u["state"] == s for u in report.to_json()["units"]) for s in _STATES}
            summary = t("collect.summary", period=report.period, total=len(report.units), **counts)
            _finish(book, summary, "cwb.button.collect")


@_script
def consolidate(book: Book | None = None) -> None:
    """Konsolider: run ``bms consolidate`` for the period and fill the controller's sheets."""
    # pandas (≈0.6 s to import) is loaded only by this button.
    from bms_excel.master import consolidate_project

    book = _caller(book)
    with _reporting(book, "cwb.button.consolidate"):
        settings = read_settings(book)
        with _language(settings["language"]):
            project = _controller_project(settings)
            _use_language(project, settings["language"])
            period = settings["period"] or project.period or ""
            _status(book, t("buttons.consolidate.progress", period=period))

            def progress(done: int, total: int) -> None:
                _status(book, t("buttons.collect.progress", done=done, total=total))

            result = consolidate_project(
                project,
                period=settings["period"] or None,
                lang=settings["language"] or None,
                progress=progress,
            )
            period = result.period
            frames = {
                "county": result.county,
                "rollup": result.rollups,
                "trend": result.trends,
                "excluded": result.excluded,
                "data": result.long,
            }
            names = output_sheet_names(get_language())
            for key, frame in frames.items():
                sheet = _output_sheet(book, key)
                sheet.clear_contents()
                sheet.range("A1").value = frame_rows(frame)
            long = result.long
            units = len({u for u in long["unit"] if u}) if len(long) else 0
            text = t(
                "buttons.consolidate.done",
                period=period,
                rows=len(long),
                units=units,
                sheets=", ".join(f"«{names[k]}»" for k in frames),
                master=str(result.master),
            )
            _finish(book, text, "cwb.button.consolidate")


# -- open workbook → library -------------------------------------------------------------------


def workbook_data(book: Book) -> WorkbookData:
    """The open workbook's current contents as a :class:`WorkbookData` (values from A1).

    Protection, sheet states and document properties are not portable through xlwings, so
    ``structure_known`` is False (the collector checks those on the saved file); formula
    cells are included where the engine can read formulas (Excel on Windows and macOS).
    """
    values: dict[str, dict[tuple[int, int], CellValue]] = {}
    formulas: dict[str, frozenset[tuple[int, int]]] = {}
    sheets: list[SheetInfo] = []
    for sheet in book.sheets:
        last = sheet.used_range.last_cell
        rng = sheet.range((1, 1), (last.row, last.column))
        if sheet.name in _META_SHEETS:
            # _meta holds signed text only. xlwings' remote engine turns any string that looks
            # like an ISO timestamp (generated_at) into a datetime, which would break the
            # signature: read the raw cell values there.
            grid = _grid(rng.raw_value)
        else:
            grid = rng.options(ndim=2).value or []
        values[sheet.name] = {
            (r, c): v
            for r, row in enumerate(grid, start=1)
            for c, v in enumerate(row, start=1)
            if v is not None and v != ""
        }
        formulas[sheet.name] = _formula_cells(rng)
        sheets.append(SheetInfo(sheet.name))
    kind: FileKind = "xlsm" if book.name.lower().endswith(".xlsm") else "xlsx"
    return WorkbookData(
        kind=kind, structure_known=False, sheets=sheets, values=values, formulas=formulas
    )


_META_SHEETS = frozenset(t("wb.sheet.meta", lang) for lang in LANGUAGES)


def _grid(raw: Any) -> list[list[Any]]:
    if not isinstance(raw, tuple | list):
        return [[raw]]
    return [list(row) if isinstance(row, tuple | list) else [row] for row in raw]


def _formula_cells(rng: Any) -> frozenset[tuple[int, int]]:
    try:
        grid = rng.formula
    except NotImplementedError:  # xlwings Server/Lite: formulas are not in the payload
        return frozenset()
    return frozenset(
        (r, c)
        for r, row in enumerate(_grid(grid), start=1)
        for c, f in enumerate(row, start=1)
        if isinstance(f, str) and f.startswith("=")
    )


def read_settings(book: Book) -> dict[str, str]:
    """Project folder, period, language from the controller's workbook (by defined name)."""
    out: dict[str, str] = {}
    for key in ("project", "period", "language"):
        value = _named_range(book, NAMES[key]).value
        out[key] = "" if value is None else str(value).strip()
    if out["language"] and out["language"] not in LANGUAGES:
        out["language"] = ""
    return out


def _named_range(book: Book, name: str) -> Any:
    for item in book.names:
        if item.name == name:
            return item.refers_to_range
    raise ConfigError(t("buttons.not-control-workbook", name=name))


def _output_sheet(book: Book, key: str) -> Any:
    return _named_range(book, NAMES[key]).sheet


def _controller_project(settings: dict[str, str]) -> Project:
    if not settings["project"]:
        raise ConfigError(t("buttons.no-project-folder", sheet=t("cwb.sheet.settings")))
    return find_project(explicit=Path(os.path.expandvars(settings["project"])))


def _unit_project(book: Book) -> Project:
    """The project a unit workbook belongs to: ``BMS_PROJECT`` in its ``xlwings.conf`` sheet,
    else the environment variable, else the folders above the workbook's own."""
    explicit = _conf_value(book, PROJECT_SETTING) or os.environ.get(PROJECT_SETTING, "")
    if explicit:
        return find_project(explicit=Path(os.path.expandvars(explicit)))
    full = Path(book.fullname)
    return find_project(start=full.parent if full.is_absolute() else None)


def _conf_value(book: Book, key: str) -> str:
    for sheet in book.sheets:
        if sheet.name == XLWINGS_CONF:
            last = sheet.used_range.last_cell
            grid = sheet.range((1, 1), (last.row, max(2, last.column))).options(ndim=2).value
            for row in grid or []:
                if row and str(row[0] or "").strip().upper() == key:
                    return str(row[1] or "").strip()
    return ""


# -- library → open workbook -------------------------------------------------------------------


def _sheet(book: Book, name: str) -> Any | None:
    return next((s for s in book.sheets if s.name == name), None)


def _control_sheet(book: Book) -> str | None:
    names = {s.name for s in book.sheets}
    for lang in (get_language(), *LANGUAGES):
        control = sheet_names(lang).control
        if control in names:
            return control
    return None


def _markable(book: Book, finding: Finding) -> bool:
    return (
        finding.severity in HIGHLIGHT
        and finding.sheet is not None
        and finding.cell is not None
        and _sheet(book, finding.sheet) is not None
    )


def _read_fill(book: Book, finding: Finding) -> str:
    try:
        colour = book.sheets[str(finding.sheet)][str(finding.cell)].color
    except NotImplementedError:  # xlwings Server/Lite cannot read a fill synchronously
        return ""
    if colour is None:
        return ""
    if isinstance(colour, tuple):
        return "#{:02X}{:02X}{:02X}".format(*colour)
    return str(colour)


def _by_cell(findings: Sequence[Finding]) -> list[list[Finding]]:
    groups: dict[tuple[str | None, str | None], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.sheet, f.cell), []).append(f)
    return list(groups.values())


def mark_cell(book: Book, findings: Sequence[Finding]) -> None:
    """Highlight one cell in the colour of its worst finding; one note lists them all."""
    first = findings[0]
    cell = book.sheets[str(first.sheet)][str(first.cell)]
    worst = "error" if any(f.severity == "error" for f in findings) else "warning"
    cell.color = HIGHLIGHT[worst]
    text = "\n".join(
        t("buttons.note", severity=t(f"severity.{f.severity}"), message=f.message) for f in findings
    )
    try:
        note = cell.note
        if note is not None:
            note.delete()
        cell.add_note(text)
    except NotImplementedError:  # a client without notes (xlwings Server's VBA client)
        return


def clear_marks(book: Book, control: str) -> None:
    """Undo the previous Valider run: restore fills, remove notes, clear the findings list."""
    sheet = book.sheets[control]
    last = sheet.used_range.last_cell
    if last.row < FINDINGS_ROW:
        return
    grid = sheet.range((FINDINGS_ROW, 1), (last.row, FINDINGS_COLUMNS)).options(ndim=2).value
    for row in (grid or [])[2:]:
        name, ref, fill = row[0], row[1], row[FINDINGS_COLUMNS - 1]
        if not name or not ref or _sheet(book, str(name)) is None:
            continue
        try:
            parse_a1(str(ref))
        except ValueError:
            continue
        cell = book.sheets[str(name)][str(ref)]
        cell.color = str(fill) if fill else None
        try:
            note = cell.note
            if note is not None:
                note.delete()
        except NotImplementedError:
            pass
    width = max(last.column, FINDINGS_COLUMNS)
    sheet.range((FINDINGS_ROW, 1), (last.row, width)).clear_contents()


def _previous_sheets(book: Book, control: str | None) -> list[str]:
    """The sheets named in the previous findings list (they may need unprotecting)."""
    if control is None:
        return []
    sheet = book.sheets[control]
    last = sheet.used_range.last_cell
    if last.row < FINDINGS_ROW + 2:
        return []
    col = sheet.range((FINDINGS_ROW + 2, 1), (last.row, 1)).options(ndim=1).value
    col = col if isinstance(col, list) else [col]
    return sorted({str(v) for v in col if v and _sheet(book, str(v)) is not None})


def write_findings(
    book: Book,
    control: str,
    findings: Sequence[Finding],
    fills: dict[tuple[str | None, str | None], str],
) -> None:
    """List ``findings`` on the Kontroll sheet below the live checks, in the current language."""
    header = [
        t("render.col.sheet"),
        t("render.col.cell"),
        t("render.col.severity"),
        t("render.col.message"),
        t("render.col.code"),
        t("buttons.findings.col.fill"),
    ]
    rows: list[list[Any]] = [
        [t("buttons.findings.title", when=_now()), None, None, None, None, None],
        header,
    ]
    for f in findings:
        fill = fills.get((f.sheet, f.cell), "") if (f.sheet, f.cell) in fills else ""
        rows.append(
            [f.sheet or "", f.cell or "", t(f"severity.{f.severity}"), f.message, f.code, fill]
        )
    if not findings:
        rows.append([t("buttons.findings.none"), None, None, None, None, None])
    book.sheets[control].range((FINDINGS_ROW, 1)).value = rows


_STATES = ("received", "missing", "duplicate", "rejected")


def collect_rows(report: dict[str, Any], when: str) -> list[list[Any]]:
    """The Innsamling sheet as rows: title, units table, findings table (from the JSON)."""
    rows: list[list[Any]] = [
        [t("buttons.collect.title", period=report["period"], when=when)],
        [],
        [t("buttons.collect.units")],
        [
            t("collect.csv.unit"),
            t("collect.csv.name"),
            t("collect.csv.state"),
            t("collect.csv.files"),
            t("collect.csv.contact"),
            t("collect.csv.email"),
        ],
    ]
    for u in report["units"]:
        rows.append(
            [
                u["code"],
                u["name"],
                t(f"collect.state.{u['state']}"),
                ", ".join(u["files"]),
                u.get("contact") or "",
                u.get("email") or "",
            ]
        )
    rows += [
        [],
        [t("buttons.collect.findings")],
        [
            t("render.col.file"),
            t("render.col.sheet"),
            t("render.col.cell"),
            t("render.col.severity"),
            t("render.col.message"),
            t("render.col.code"),
        ],
    ]
    for f in report["findings"]:
        rows.append(
            [
                f["file"] or "",
                f["sheet"] or "",
                f["cell"] or "",
                t(f"severity.{f['severity']}"),
                f["message"],
                f["code"],
            ]
        )
    width = max(len(r) for r in rows)
    return [r + [None] * (width - len(r)) for r in rows]


def frame_rows(frame: Any) -> list[list[Any]]:
    """A DataFrame as a header row plus rows of plain values (NaN → blank)."""
    rows: list[list[Any]] = [[str(c) for c in frame.columns]]
    for record in frame.itertuples(index=False, name=None):
        rows.append([_plain(v) for v in record])
    return rows


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalar → Python
        if isinstance(value, float) and value != value:
            return None
    return value


# -- plumbing ----------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now().strftime("%d.%m.%Y %H:%M")


def _use_language(project: Project, option: str | None) -> None:
    # Inside _language(option): messages and workbooks by the project's rule from here on
    # (the project's own errors above were shown in the option's language, if any).
    set_language(project.resolve_language(option or None))


@contextmanager
def _language(lang: str | None) -> Iterator[None]:
    before = get_language()
    try:
        set_language(check_language(lang) if lang in LANGUAGES else before)
        yield
    finally:
        set_language(before)


def _status(book: Book, text: str | bool) -> None:
    """Show progress in Excel's status bar (``False`` gives it back to Excel)."""
    try:
        book.app.status_bar = text
    except NotImplementedError:  # xlwings Server/Lite have no status bar
        return


def _finish(book: Book, text: str, title_key: str) -> None:
    _status(book, False)
    with suppress(ConfigError):
        _named_range(book, NAMES["status"]).value = t("buttons.last-run", when=_now(), text=text)
    book.app.alert(text, title=t(title_key))


@contextmanager
def _reporting(book: Book, title_key: str) -> Iterator[None]:
    """Show a library error (a ``BmsError``: Norwegian, no traceback) in Excel and stop."""
    try:
        yield
    except BmsError as exc:
        _status(book, False)
        book.app.alert(t("buttons.failed", message=str(exc)), title=t(title_key), mode="critical")


def _desktop(book: Book) -> bool:
    # Sheet protection is reachable only through the COM object model (Excel on Windows).
    return sys.platform == "win32" and book.app.engine.name == "excel"


@contextmanager
def _unprotected(book: Book, names: Sequence[str], password: str) -> Iterator[None]:
    """Lift the generated sheet protection while marking, and put it back as generated.

    The generator protects every sheet (cells locked, formatting columns and rows allowed);
    Excel refuses fills, notes and values on a protected sheet. [Windows Excel only.]
    """
    lifted: list[Any] = []
    if _desktop(book):
        for name in names:
            api = book.sheets[name].api
            if api.ProtectContents:
                api.Unprotect(password)
                lifted.append(api)
    try:
        yield
    finally:
        for api in lifted:
            api.Protect(
                Password=password,
                DrawingObjects=False,
                Contents=True,
                Scenarios=False,
                AllowFormattingColumns=True,
                AllowFormattingRows=True,
            )
