"""The library's entry points: one function per command and per Excel button (STYLE.md).

The CLI (:mod:`bms_excel.cli`) and the Excel buttons (:mod:`bms_excel.excel_buttons`) only
parse options, call one of these (or :func:`bms_excel.master.consolidate_project`, which lives
with the master so that pandas loads only for it) and print or fill sheets;
``tests/test_architecture.py`` holds them to that. Each entry point takes a :class:`~bms_excel.project.Project` (or a path)
and keyword options, resolves the defaults the same way for every caller (period:
:meth:`Project.resolve_period`; language: :meth:`Project.resolve_language`; folders: the
project's), and returns a plain result for the adapter to show. Library errors are
:class:`~bms_excel.errors.BmsError` subclasses; findings in staff data are returned.

========================  ====================================================
``bms init``              :func:`init_project`
``bms check``             :func:`check_definition_file`
``bms definition export`` :func:`export_definition_project`
``bms definition import`` :func:`import_definition_file`
``bms generate``          :func:`generate_project` (also the Generer button)
``bms collect``           :func:`collect_project` (also the Samle inn button)
``bms validate``          :func:`validate_project_files`
Valider button            :func:`validate_open_workbook`
``bms consolidate``       :func:`bms_excel.master.consolidate_project` (also Konsolider)
``bms import-values``     :func:`import_values_project`
``bms kostra import``     :func:`import_kostra_project`, ``--check``: :func:`check_kostra_project`
``bms control-workbook``  :func:`control_workbook_project`
``bms review``            :func:`review_project` (``--from MASTER`` reads Innsending's column)
``bms period close``      :func:`close_period_project`, ``reopen``: :func:`reopen_period_project`
``bms feedback``          :func:`feedback_project`
``bms demo``              :func:`bms_excel.demo.run_demo` (a cycle of the calls above)
========================  ====================================================
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bms_excel.checks import check_and_load_definition, check_definition_file
from bms_excel.codes import make_finding
from bms_excel.collect import (
    CollectReport,
    collect_submissions,
    validate_files,
    write_reminder_csv,
    write_text_atomic,
)
from bms_excel.control_workbook import (
    DEFAULT_INTERPRETER,
    ControlWorkbook,
    add_macros_to_generated,
    build_control_workbook,
)
from bms_excel.defbook.importer import DefinitionImport, import_definition
from bms_excel.errors import ConfigError, DefinitionError, Finding
from bms_excel.history import DialogueEvent, open_history
from bms_excel.i18n import LANGUAGES, Language, t
from bms_excel.import_values import ImportResult, import_values
from bms_excel.kostra_import import (
    ImportReport,
    check_coverage,
    import_kostra,
    kostra_views,
    kostra_year,
    read_kostra_files,
    stored_figures,
)
from bms_excel.model import Definition
from bms_excel.project import Project, find_project, init_project
from bms_excel.reader import WorkbookData
from bms_excel.signing import protection_password
from bms_excel.validate import read_meta, validate_data

if TYPE_CHECKING:
    from bms_excel.feedback import FeedbackResult
    from bms_excel.generate import GenerateResult

__all__ = [
    "DEFAULT_INTERPRETER",
    "CheckKostraResult",
    "CollectReport",
    "ControlWorkbook",
    "DefinitionImport",
    "DialogueEvent",
    "ExportedDefinition",
    "ImportKostraResult",
    "ImportResult",
    "OpenWorkbookResult",
    "Project",
    "ReviewResult",
    "check_definition_file",
    "check_kostra_project",
    "close_period_project",
    "collect_project",
    "control_workbook_project",
    "export_definition_project",
    "feedback_project",
    "find_project",
    "generate_project",
    "import_definition_file",
    "import_kostra_project",
    "import_values_project",
    "init_project",
    "reopen_period_project",
    "review_project",
    "validate_open_workbook",
    "validate_project_files",
    "workbook_language",
]

#: ``progress(done, total, unit_code)`` after each generated workbook.
GenerateProgress = Callable[[int, int, str], None]
#: ``progress(done, total)`` after each collected file.
Progress = Callable[[int, int], None]


# -- generate ----------------------------------------------------------------------------------


def generate_project(
    project: Project,
    *,
    period: str | None = None,
    units: Sequence[str] = (),
    sector: str | None = None,
    lang: str | None = None,
    out: Path | None = None,
    processes: int | None = None,
    vba_project: Path | None = None,
    progress: GenerateProgress | None = None,
) -> GenerateResult:
    """``bms generate`` and the Generer button: one workbook per unit plus the manifest.

    The "last periods" columns and the KOSTRA rows come from the project's history database
    when there is one, and so do the open actions and the lessons of the period before
    (pre-filled on Tiltak, shown beside this period's on Vurdering). Workbooks go to ``out`` or ``<generated>/<period>``; ``vba_project``
    (a compiled ``vbaProject.bin``) turns them into .xlsm files with a Valider button.
    """
    # openpyxl (≈0.3 s to import) is loaded only by the commands that write with it.
    from bms_excel.generate import generate_workbooks

    definition = _checked_definition(project)
    chosen = project.resolve_period(period, definition)
    only = list(units) or None
    history = None
    kostra = None
    followup = None
    if project.history_path.exists():
        from bms_excel.dialogue import followup_for_generation

        with open_history(project.history_path, lock=False) as db:
            history = db.history_for_generation(definition, chosen, only)
            kostra = kostra_views(db, definition, definition.period(chosen))
            followup = followup_for_generation(db, definition, chosen, only)
    result = generate_workbooks(
        definition,
        chosen,
        out_dir=out or project.generated_dir / chosen,
        secret=project.secret,
        units=only,
        sector=sector,
        lang=project.resolve_language(lang, definition),
        template=project.template_path,
        history=history,
        kostra=kostra,
        progress=progress,
        processes=processes,
        followup=followup,
    )
    if vba_project is not None:
        result = add_macros_to_generated(result, vba_project)
    return result


def _checked_definition(project: Project) -> Definition:
    """The project's definition when ``bms check`` finds no error in it; else raise
    :class:`DefinitionError` with every error (no workbook is made from a broken scorecard).

    The file is read, validated and checked once: without errors the checked definition is
    the one :meth:`Project.load_definition` would load (its unusable status rules are errors).
    """
    definition, findings = check_and_load_definition(project.definition_path)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise DefinitionError(errors)
    # A part is set aside only for a schema error, so ``None`` is not expected here.
    return definition if definition is not None else project.load_definition()


# -- collect and validate ----------------------------------------------------------------------


def collect_project(
    project: Project,
    *,
    period: str | None = None,
    folder: Path | None = None,
    processes: int | None = None,
    progress: Progress | None = None,
) -> CollectReport:
    """``bms collect`` and the Samle inn button: read every submission of the period and write
    the reminder list (``report.reminder_csv``, in the current message language)."""
    definition = project.load_definition()
    chosen = project.resolve_period(period, definition)
    folder = folder or project.submissions_dir
    if not folder.is_dir():
        raise ConfigError(t("collect.no-folder", path=str(folder)))
    report = collect_submissions(
        folder, definition, chosen, project.secret, processes=processes, progress=progress
    )
    write_reminder_csv(report, definition, project.reports_dir)
    return report


def validate_project_files(
    project: Project, files: Sequence[Path], *, period: str | None = None
) -> CollectReport:
    """``bms validate``: the collector's checks on single files (an e-mail attachment)."""
    definition = project.load_definition()
    missing = [p for p in files if not p.exists()]
    if missing:
        raise ConfigError(t("cli.file-not-found", path=", ".join(map(str, missing))))
    return validate_files(files, definition, project.secret, period)


def workbook_language(data: WorkbookData) -> Language | None:
    """The language a unit workbook was generated in (its ``_meta``), if it says."""
    fields, _ = read_meta(data)
    lang = fields.get("language")
    return next((known for known in LANGUAGES if known == lang), None)


@dataclass
class OpenWorkbookResult:
    """What the Valider button shows: the findings, and the sheets' protection password."""

    findings: list[Finding]
    password: str = field(repr=False)


def validate_open_workbook(project: Project, data: WorkbookData, name: str) -> OpenWorkbookResult:
    """The Valider button: check a unit workbook's current contents (unsaved edits included)."""
    definition = project.load_definition()
    extract = validate_data(data, definition, project.secret, name)
    return OpenWorkbookResult(extract.findings, protection_password(project.secret))


# -- history: controller values and KOSTRA -----------------------------------------------------


def import_values_project(project: Project, file: Path) -> ImportResult:
    """``bms import-values``: the controller's figures and earlier results (a
    ``period;unit;indicator;value`` CSV as Norwegian Excel saves it) into the history database.

    Every bad line is a line-located finding, and then nothing is stored; a figure that
    differs from a unit's accepted return is a ``value-conflict`` warning.
    """
    definition = project.load_definition()
    if not file.is_file():
        raise ConfigError(t("cli.file-not-found", path=str(file)))
    return import_values(file, definition, project.history_path)


@dataclass
class ImportKostraResult:
    """What ``bms kostra import`` stored, for which period and KOSTRA year."""

    period: str
    kostra_year: int
    history: Path
    report: ImportReport


@dataclass
class CheckKostraResult:
    """``bms kostra import --check``: the KOSTRA indicators without figures, unused figures."""

    period: str
    kostra_year: int
    findings: list[Finding]


def _kostra_inputs(
    project: Project, files: Sequence[Path], period: str | None
) -> tuple[Definition, str]:
    definition = project.load_definition()
    chosen = project.resolve_period(period, definition)
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise ConfigError(t("cli.file-not-found", path=", ".join(map(str, missing))))
    return definition, chosen


def import_kostra_project(
    project: Project,
    files: Sequence[Path],
    *,
    period: str | None = None,
    table: str | None = None,
    region: str | None = None,
) -> ImportKostraResult:
    """``bms kostra import``: SSB's figures (JSON-stat2 or statbank CSV) into the history."""
    definition, chosen = _kostra_inputs(project, files, period)
    if not files:
        raise ConfigError(t("kostra.cli-no-files"))
    per = definition.period(chosen)
    with open_history(project.history_path) as db:
        report = import_kostra(list(files), definition, db, per, table=table, region=region)
    return ImportKostraResult(chosen, kostra_year(per), project.history_path, report)


def check_kostra_project(
    project: Project,
    files: Sequence[Path] = (),
    *,
    period: str | None = None,
    table: str | None = None,
    region: str | None = None,
) -> CheckKostraResult:
    """``bms kostra import --check``: coverage of the stored figures plus ``files`` (not stored)."""
    definition, chosen = _kostra_inputs(project, files, period)
    per = definition.period(chosen)
    with open_history(project.history_path) as db:
        pairs, _, findings = read_kostra_files(list(files), table=table, region=region)
        figures = [*stored_figures(db), *(f for f, _ in pairs)]
    findings += check_coverage(figures, definition, per)
    return CheckKostraResult(chosen, kostra_year(per), findings)


# -- the controller's workbook -----------------------------------------------------------------


def control_workbook_project(
    project: Project,
    *,
    out: Path | None = None,
    period: str | None = None,
    lang: str | None = None,
    vba_project: Path | None = None,
    interpreter: str = DEFAULT_INTERPRETER,
) -> ControlWorkbook:
    """``bms control-workbook``: the controller's workbook with the Excel buttons."""
    definition = project.load_definition()
    chosen = project.resolve_period(period, definition)
    if vba_project is not None and not vba_project.is_file():
        raise ConfigError(t("cli.file-not-found", path=str(vba_project)))
    return build_control_workbook(
        out or project.reports_dir / "kontroll.xlsx",
        project_dir=project.root,
        period=chosen,
        lang=project.resolve_language(lang, definition),
        vba_project=vba_project,
        interpreter=interpreter,
    )


# -- the definition as a workbook (issue 18) ----------------------------------------------------


@dataclass
class ExportedDefinition:
    """What ``bms definition export`` wrote: the workbook, its SHA-256 and how long it took."""

    path: Path
    sha256: str
    seconds: float


def export_definition_project(
    project: Project, *, out: Path | None = None, lang: str | None = None
) -> ExportedDefinition:
    """``bms definition export``: the project's definition as a workbook controllers edit
    (default ``<reports>/malekart.xlsx``), texts in the project's language."""
    import time

    # openpyxl is loaded only by the commands that write with it.
    from bms_excel.defbook.export import write_definition_workbook

    start = time.perf_counter()
    definition = project.load_definition()
    path = out or project.reports_dir / "malekart.xlsx"
    sha = write_definition_workbook(definition, path, project.resolve_language(lang, definition))
    return ExportedDefinition(path, sha, time.perf_counter() - start)


def import_definition_file(file: Path, *, out: Path | None = None) -> DefinitionImport:
    """``bms definition import``: read a definition workbook; every problem is a finding at
    ``'sheet'!cell`` with ``bms check``'s codes. The YAML is written to ``out`` (atomically)
    only when there is no error; with errors nothing is written."""
    if not file.is_file():
        raise ConfigError(t("cli.file-not-found", path=str(file)))
    result = import_definition(file)
    if out is not None and result.definition is not None:
        write_text_atomic(out, result.yaml_text())
    return result


# -- the dialogue: reviews, returned workbooks, closed periods --------------------------------


@dataclass
class ReviewResult:
    """What ``bms review`` recorded: the decisions, and the returned units' new workbooks."""

    period: str
    events: list[DialogueEvent]
    #: Unit code → the new workbook of a returned unit.
    workbooks: dict[str, Path] = field(default_factory=dict)
    #: Problems in a master's review column (``--from``): located findings.
    findings: list[Finding] = field(default_factory=list)


def _existing_history(project: Project) -> Path:
    if not project.history_path.exists():
        raise ConfigError(t("dialogue.no-history", path=str(project.history_path)))
    return project.history_path


def _known_period(definition: Definition, period: str) -> str:
    if period not in {p.code for p in definition.periods}:
        raise ConfigError(t("dialogue.unknown-period", period=period))
    return period


def review_project(
    project: Project,
    unit: str | None = None,
    *,
    decision: str | None = None,
    reason: str | None = None,
    period: str | None = None,
    by: str | None = None,
    master: Path | None = None,
    lang: str | None = None,
) -> ReviewResult:
    """``bms review``: approve or return a unit's accepted return (or every decision a
    controller entered on a master's Innsending sheet, ``master``). A returned unit gets a new
    workbook for the same period in ``<generated>/<period>/returnert/`` with its own return
    filled in and the reason on Veiledning."""
    from bms_excel.dialogue import accepted_return, check_open, latest_reviews, review_unit
    from bms_excel.master_review import read_master_reviews

    definition = project.load_definition()
    chosen = _known_period(definition, project.resolve_period(period, definition))
    history_path = _existing_history(project)
    findings: list[Finding] = []
    if master is not None:
        if not master.is_file():
            raise ConfigError(t("cli.file-not-found", path=str(master)))
        decisions, findings = read_master_reviews(master, definition, chosen)
    elif unit is not None and decision is not None:
        decisions = [(unit, decision, reason)]
    else:
        raise ConfigError(t("dialogue.choose-decision"))
    result = ReviewResult(chosen, [], findings=findings)
    with open_history(history_path) as db:
        if master is None:
            result.events.append(
                review_unit(
                    db,
                    definition,
                    decisions[0][0],
                    chosen,
                    decisions[0][1],
                    reason=decisions[0][2],
                    by=by,
                )
            )
        else:
            check_open(db, chosen)
            in_force = latest_reviews(db, chosen)
            for code, chosen_decision, why in decisions:
                old = in_force.get(code)
                if old is not None and (old.kind, old.reason, old.sha256) == (
                    chosen_decision,
                    why,
                    accepted_return(db, code, chosen),
                ):
                    continue  # the master shows the review in force: nothing new
                try:
                    event = review_unit(
                        db,
                        definition,
                        code,
                        chosen,
                        chosen_decision,
                        reason=why,
                        by=by,
                        origin="master",
                    )
                except ConfigError as exc:  # this row only; the other rows still count
                    result.findings.append(
                        make_finding("review-not-possible", message=exc.message, file=master.name)
                    )
                    continue
                result.events.append(event)
    for event in result.events:
        if event.kind == "returned" and event.unit is not None:
            result.workbooks[event.unit] = _returned_workbook(project, definition, event, lang)
    return result


def _returned_workbook(
    project: Project, definition: Definition, event: DialogueEvent, lang: str | None
) -> Path:
    from bms_excel.dialogue import followup_for_generation, returned_inputs
    from bms_excel.returned import RETURNED_FOLDER, write_returned_workbook

    unit, period = event.unit or "", event.period
    with open_history(project.history_path, lock=False) as db:
        inputs = returned_inputs(db.accepted_values(period), db.accepted_actions(period), unit)
        history = db.history_for_generation(definition, period, [unit])
        kostra = kostra_views(db, definition, definition.period(period))
        followup = followup_for_generation(db, definition, period, [unit])
    return write_returned_workbook(
        definition,
        period,
        unit,
        event,
        inputs,
        out_dir=project.generated_dir / period / RETURNED_FOLDER,
        secret=project.secret,
        lang=project.resolve_language(lang, definition),
        template=project.template_path,
        history=history,
        kostra=kostra,
        followup={k: v for k, v in followup.items() if k == unit},
    )


def close_period_project(
    project: Project, period: str, *, by: str | None = None, reason: str | None = None
) -> DialogueEvent:
    """``bms period close P``: lock the period; consolidation then refuses new returns."""
    from bms_excel.dialogue import close_period

    definition = project.load_definition()
    _known_period(definition, period)
    with open_history(_existing_history(project)) as db:
        return close_period(db, definition, period, by=by, reason=reason)


def reopen_period_project(
    project: Project, period: str, *, reason: str, by: str | None = None
) -> DialogueEvent:
    """``bms period reopen P --reason ...``: open a closed period again (reason required)."""
    from bms_excel.dialogue import reopen_period

    definition = project.load_definition()
    _known_period(definition, period)
    with open_history(_existing_history(project)) as db:
        return reopen_period(db, definition, period, reason=reason, by=by)


def feedback_project(
    project: Project,
    *,
    period: str | None = None,
    comments: Path | None = None,
    units: Sequence[str] = (),
    out: Path | None = None,
    lang: str | None = None,
    by: str | None = None,
) -> FeedbackResult:
    """``bms feedback``: one signed feedback workbook per unit with an accepted return, in
    ``out`` or ``<reports>/tilbakemelding/<period>``, and a manifest for sending.

    ``comments`` is the controller's comments per unit and focus area: a CSV
    (``unit;focus_area;comment``) or a master workbook whose Vurderinger sheet has them in the
    column *Kommentar fra controller*. Unusable lines are findings; the rest is used.
    """
    from bms_excel.feedback import read_comments_csv, read_comments_master, write_feedback
    from bms_excel.submissions import sniff

    definition = project.load_definition()
    chosen = _known_period(definition, project.resolve_period(period, definition))
    history_path = _existing_history(project)
    texts: dict[tuple[str, str], str] = {}
    findings: list[Finding] = []
    if comments is not None:
        if not comments.is_file():
            raise ConfigError(t("cli.file-not-found", path=str(comments)))
        if sniff(comments) in ("xlsx", "xlsm"):
            texts, findings = read_comments_master(comments, definition)
        else:
            texts, findings = read_comments_csv(comments, definition)
    with open_history(history_path) as db:
        result = write_feedback(
            db,
            definition,
            chosen,
            out_dir=out or project.reports_dir / "tilbakemelding" / chosen,
            secret=project.secret,
            lang=project.resolve_language(lang, definition),
            comments=texts,
            units=units,
            by=by,
        )
    result.findings = findings
    return result
