"""The county master workbook and the consolidation run that makes it (DESIGN §5–6).

:func:`run_consolidation` is the whole ``bms consolidate``: lock and open the history
database, collect the submissions folder, record the batch (idempotent; a corrected file
supersedes), build the long table, county values, roll-ups and trends from the database's
accepted values, write the master workbook and the exports, and mark the run finished.

:func:`write_master` builds the workbook (the sheets are in ``overview``,
``scorecard`` and ``lists``) and saves it atomically
(:mod:`bms_excel.master.save`): a crash leaves the previous master as it was, and a master
open in Excel or LibreOffice is an :class:`~bms_excel.errors.OutputError` before anything is
written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from bms_excel import __version__
from bms_excel.collect import CollectReport, collect_submissions
from bms_excel.consolidate import (
    aggregate_county,
    build_long_table,
    excluded_values,
    previous_period,
    rollup_county,
    rollup_scores,
    trend,
)
from bms_excel.dialogue import MasterDialogue, PeriodClosedError, master_dialogue
from bms_excel.errors import ConfigError, OutputError
from bms_excel.export import export_long
from bms_excel.followup import RedIndicator
from bms_excel.history import ExternalFigure, History, RunInfo, open_history
from bms_excel.i18n import t
from bms_excel.import_values import conflicts_in
from bms_excel.kostra_import import KostraView, kostra_views
from bms_excel.master.data import (
    SHEET_KEYS,
    MasterData,
    MasterInfo,
    sheet_names,
)
from bms_excel.master.lists import (
    write_about,
    write_actions,
    write_assessments,
    write_comments,
    write_data,
    write_findings,
    write_submissions,
)
from bms_excel.master.overview import (
    write_overview,
    write_trend,
)
from bms_excel.master.save import (
    check_master_writable,
    guard_master,
    remove_stale_temp_files,
    save_workbook_atomic,
)
from bms_excel.master.scorecard import write_county, write_units
from bms_excel.model import Definition
from bms_excel.project import Project
from bms_excel.records import (
    ActionRecord,
    AssessmentRecord,
    SubmissionBatch,
    ValueKind,
    ValueRecord,
)
from bms_excel.report.selection import carried_marks
from bms_excel.report.tree import Selection
from bms_excel.signing import definition_hash
from bms_excel.status import Status
from bms_excel.xlsx.files import safe_filename

__all__ = [
    "ConsolidationResult",
    "MasterInfo",
    "check_master_writable",
    "consolidate_project",
    "master_filename",
    "run_consolidation",
    "write_master",
]

Progress = Callable[[int, int], None]


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as plain dicts: NaN and pandas' NA become ``None``, numpy scalars Python ones."""
    return list(FrameRows(frame))


class FrameRows:
    """A frame's rows as the plain dicts of :func:`rows_of`, made anew on each pass.

    The long table of a national run has hundreds of thousands of rows; as a list of dicts it
    would take several hundred MiB next to the frame itself. The frame is converted once, a
    column at a time, into Python lists (``tolist`` gives Python scalars for numpy columns);
    each pass then makes one dict per row as it goes.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._columns: list[list[Any]] | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names = [str(c) for c in self.frame.columns]
        for row in zip(*self.columns(), strict=True):
            yield dict(zip(names, row, strict=True))

    def columns(self) -> list[list[Any]]:
        """Each column as a list of plain values (converted on first use)."""
        if self._columns is None:
            self._columns = [
                _plain_column(self.frame.iloc[:, k]) for k in range(self.frame.shape[1])
            ]
        return self._columns


_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _plain_column(series: pd.Series) -> list[Any]:
    """A column as Python values with ``None`` for NaN/NA (see :func:`_plain`)."""
    values = series.tolist()
    if series.dtype == object:
        if set(map(type, values)) <= _PLAIN_TYPES:  # the usual case: texts and None only
            return values
        return [v if type(v) in _PLAIN_TYPES else _plain(v) for v in values]
    missing = series.isna()
    if missing.any():
        return [None if m else v for v, m in zip(values, missing.tolist(), strict=True)]
    return values


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def master_filename(county_code: str, period: str) -> str:
    """``bms_<county>_<period>.xlsx`` with only file-name-safe characters."""
    return "bms_" + safe_filename(county_code, period)


# -- building ---------------------------------------------------------------------------------


def build_master(data: MasterData) -> Workbook:
    """The whole master workbook in memory (not saved)."""
    wb = Workbook()
    names = sheet_names(data.lang)
    wb.active.title = names["overview"]
    sheets = {"overview": wb.active}
    for key in SHEET_KEYS[1:]:
        sheets[key] = wb.create_sheet(names[key])
    write_overview(sheets["overview"], data)
    write_county(sheets["county"], data)
    write_units(sheets["units"], data)
    write_trend(sheets["trend"], data)
    write_comments(sheets["comments"], data)
    write_actions(sheets["actions"], data)
    write_assessments(sheets["assessments"], data)
    write_submissions(sheets["submissions"], data)
    write_findings(sheets["findings"], data)
    write_data(sheets["data"], data)
    write_about(sheets["about"], data)
    wb.properties.title = t("master.title", data.lang, county=data.definition.county.name)
    wb.properties.creator = "bms_excel"
    return wb


def write_master(
    path: Path,
    *,
    definition: Definition,
    period: str,
    long: pd.DataFrame,
    county: pd.DataFrame,
    rollups: pd.DataFrame,
    trends: pd.DataFrame,
    report: CollectReport | None = None,
    history_values: Sequence[tuple[str, Mapping[str, float | None]]] = (),
    history_scores: Sequence[tuple[str, Mapping[str, float | None]]] = (),
    actions: Sequence[ActionRecord] | None = None,
    assessments: Sequence[AssessmentRecord] | None = None,
    info: MasterInfo | None = None,
    lang: str = "nb",
    submissions_dir: Path | None = None,
    kostra: Mapping[str, KostraView] | None = None,
    dialogue: MasterDialogue | None = None,
    marks: Selection | None = None,
) -> Path:
    """Build the master workbook and save it atomically at ``path``; returns ``path``.

    Args:
        long, county, rollups, trends: the frames of :mod:`bms_excel.consolidate`.
        report: the collection report (units' states, files, findings); actions and
            assessments default to the report's batch.
        history_values / history_scores: ``(period, {indicator: county value})`` and
            ``(period, {focus area code or "" for the total: county score})``, oldest first.
        info: run time, tool version, definition hash (default: now, this version).
        kostra: the period's KOSTRA figures (Fylket shows the comparison groups and a chart).
        marks: the rows marked «Ta med i rapport» in the master this one replaces.
    """
    path = Path(path)
    check_master_writable(path)  # fail before the work, and again before the rename
    batch = report.batch if report is not None else SubmissionBatch(period=period)
    data = MasterData(
        definition=definition,
        period=period,
        lang=lang,
        info=info
        or MasterInfo(dt.datetime.now().astimezone(), __version__, definition_hash(definition)),
        long=FrameRows(long),
        county=rows_of(county),
        # The master shows focus areas and totals (the factors and goals are in exports).
        rollups=rows_of(rollups[rollups["node_type"].isin(["focus_area", "total"])]),
        # The master shows the county's direction of travel only (the units' is in exports).
        trends=rows_of(trends[trends["level"] == "county"]),
        excluded=rows_of(excluded_values(long)),
        history_values=[(p, dict(v)) for p, v in history_values],
        history_scores=[(p, dict(v)) for p, v in history_scores],
        units=list(report.units) if report else [],
        files=list(report.files) if report else [],
        findings=list(report.findings) if report else [],
        actions=list(batch.actions if actions is None else actions),
        assessments=list(batch.assessments if assessments is None else assessments),
        previous_period=_previous(definition, period),
        submissions_dir=submissions_dir,
        master_dir=path.parent.resolve(),
        kostra=dict(kostra or {}),
        dialogue=dialogue or MasterDialogue(),
        marked_comments=(marks.comments if marks else None) or frozenset(),
        marked_lessons=(marks.lessons if marks else None) or frozenset(),
    )
    wb = build_master(data)
    problems = guard_master(wb)
    if problems:
        raise OutputError(t("master.guard", problems="; ".join(problems[:10])), str(path))
    save_workbook_atomic(wb, path)
    return path


def _previous(definition: Definition, period: str) -> str | None:
    try:
        return previous_period(definition, period)
    except ValueError:
        return None


# -- the consolidation run ---------------------------------------------------------------------


@dataclass
class ConsolidationResult:
    """What ``bms consolidate`` did: the files it wrote and the county's status."""

    master: Path
    history: Path
    period: str
    run_id: int
    report: CollectReport
    definition: Definition
    long: pd.DataFrame
    county: pd.DataFrame
    rollups: pd.DataFrame
    trends: pd.DataFrame
    excluded: pd.DataFrame
    exports: dict[str, Path] = field(default_factory=dict)
    changed: bool = False
    #: Runs a killed process left unfinished, marked aborted by this run.
    aborted_runs: tuple[int, ...] = ()
    #: Temporary master files of such a run, removed by this one.
    removed_temp_files: list[Path] = field(default_factory=list)

    def focus_areas(self) -> list[dict[str, Any]]:
        """The county's status and score per focus area (and the total, code ``""``)."""
        rows = self.rollups[
            (self.rollups["level"] == "county")
            & self.rollups["node_type"].isin(["focus_area", "total"])
        ]
        out = []
        for r in rows_of(rows):
            score = r["score"]
            out.append(
                {
                    "code": r["node"],
                    "name": r["node_name"],
                    "status": r["status"],
                    "score": None if score is None else round(float(score), 1),
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """The JSON contract of ``bms consolidate --json``."""
        states = ("received", "missing", "duplicate", "rejected")
        units = {s: sum(1 for u in self.report.units if u.state == s) for s in states}
        units["total"] = len(self.report.units)
        severities = ("error", "warning", "info")
        findings = {s: sum(1 for f in self.report.findings if f.severity == s) for s in severities}
        return {
            "master": str(self.master),
            "history": str(self.history),
            "period": self.period,
            "run_id": self.run_id,
            "changed": self.changed,
            "units": units,
            "missing": [
                {"code": u.code, "name": u.name, "contact": u.contact_name, "email": u.email}
                for u in self.report.units
                if u.state != "received"
            ],
            "findings": findings,
            "focus_areas": self.focus_areas(),
            "indicators": [
                {
                    "code": r["indicator"],
                    "value": r["value"],
                    "status": r["status"],
                    "n_used": r["n_used"],
                    "n_expected": r["n_expected"],
                }
                for r in rows_of(self.county)
            ],
            "exports": {k: str(v) for k, v in self.exports.items()},
            "aborted_runs": list(self.aborted_runs),
            "removed_temp_files": [str(p) for p in self.removed_temp_files],
        }


def _batch_for_history(batch: SubmissionBatch) -> SubmissionBatch:
    # The very same bytes found twice (a forwarded copy) are one submission: keep the accepted
    # record of each sha256 so the history stores the file once.
    chosen: dict[str, Any] = {}
    for sub in batch.submissions:
        old = chosen.get(sub.sha256)
        if old is None or (old.state != "accepted" and sub.state == "accepted"):
            chosen[sub.sha256] = sub
    return replace(batch, submissions=list(chosen.values()))


def same_kind_periods(definition: Definition, period: str) -> list[str]:
    """The definition's periods of the same kind as ``period``, up to and including it."""
    kind = definition.period(period).kind
    codes = [p.code for p in definition.periods]
    return [p.code for p in definition.periods[: codes.index(period) + 1] if p.kind == kind]


def _series(
    definition: Definition, frames: Iterable[tuple[str, pd.DataFrame, pd.DataFrame]]
) -> tuple[list[tuple[str, dict[str, float | None]]], list[tuple[str, dict[str, float | None]]]]:
    values, scores = [], []
    for period, county, rollups in frames:
        values.append((period, {r["indicator"]: r["value"] for r in rows_of(county)}))
        nodes = rollups[
            (rollups["level"] == "county") & rollups["node_type"].isin(["focus_area", "total"])
        ]
        scores.append((period, {r["node"]: r["score"] for r in rows_of(nodes)}))
    return values, scores


def _kostra_record(fig: ExternalFigure, indicator: str, unit: str, period: str) -> ValueRecord:
    """A KOSTRA figure as a value of ``period``: SSB's symbols stay missing or not
    applicable (with the symbol as the raw text), never 0."""
    sha = fig.file_sha256 or None
    if fig.status in (None, "ok") and fig.value is not None:
        return ValueRecord(
            unit, period, indicator, "number", fig.value, source="kostra", sha256=sha
        )
    kind: ValueKind = "not-applicable" if fig.status == "not-applicable" else "missing"
    raw = fig.status_symbol
    return ValueRecord(unit, period, indicator, kind, None, raw, source="kostra", sha256=sha)


def with_kostra(
    values: Iterable[ValueRecord], views: Mapping[str, KostraView], period: str
) -> list[ValueRecord]:
    """``values`` with the KOSTRA indicators' figures of the period's KOSTRA year.

    KOSTRA figures are stored under their own year; a tertial uses the year before, so the
    views' county figure becomes the county value and each unit figure the unit's value. Any
    KOSTRA record stored under the period itself gives way to the view's figure.
    """
    out = [v for v in values if not (v.source == "kostra" and v.indicator in views)]
    for code, view in views.items():
        if view.county is not None:
            out.append(_kostra_record(view.county, code, "", period))
        for unit, fig in sorted(view.units.items()):
            out.append(_kostra_record(fig, code, unit, period))
    return out


def red_indicators(long: pd.DataFrame) -> list[RedIndicator]:
    """The units' indicators with status red in the long table (county rows left out)."""
    red = long[(long["status"] == Status.RED.value) & (long["unit"].fillna("") != "")]
    return [
        RedIndicator(str(u), str(i)) for u, i in zip(red["unit"], red["indicator"], strict=True)
    ]


def refuse_closed_period(history: History, batch: SubmissionBatch, period: str) -> None:
    """Raise :class:`~bms_excel.dialogue.PeriodClosedError` when ``period`` is closed and
    ``batch`` holds an accepted return the history does not know (nothing is recorded)."""
    closed = history.period_closed(period)
    if closed is None:
        return
    known = {s.sha256 for s in history.submissions(period)}
    new = sorted(
        {
            s.unit or s.path
            for s in batch.submissions
            if s.state == "accepted" and s.sha256 not in known
        }
    )
    if new:
        raise PeriodClosedError(
            t(
                "dialogue.closed-new-returns",
                period=period,
                by=closed.by,
                at=closed.at,
                n=len(new),
                units=", ".join(new),
            )
        )


def shown_path(path: Path, project_dir: Path | None) -> str:
    """``path`` as the Om sheet shows it: relative to the project folder when inside it (a
    master is passed around; the controller's own folders are nobody else's business)."""
    if project_dir is not None:
        try:
            return path.resolve().relative_to(project_dir.resolve()).as_posix()
        except ValueError:
            pass  # outside the project: the full path is the only useful one
    return str(path)


@dataclass
class PeriodFrames:
    """One period consolidated from the history: what the master and the report both show."""

    #: The period's KOSTRA figures per indicator.
    views: dict[str, KostraView]
    long: pd.DataFrame
    county: pd.DataFrame
    rollups: pd.DataFrame
    trends: pd.DataFrame
    #: ``(period, county values, county roll-ups)`` of every period of the same kind up to
    #: this one with numbers (this one always, with all its roll-ups), oldest first.
    series: list[tuple[str, pd.DataFrame, pd.DataFrame]]


def usable_values(history: History, period: str, held: Collection[str]) -> list[ValueRecord]:
    """The period's accepted values, without the returns of the ``held`` units.

    A unit with conflicting files (duplicate-conflict): none of its files is used until the
    controller removes the wrong one, not even one accepted earlier.
    """
    return [v for v in history.accepted_values(period) if v.source != "unit" or v.unit not in held]


def consolidate_period(
    history: History, definition: Definition, period: str, accepted: Iterable[ValueRecord]
) -> PeriodFrames:
    """Long table, county values, roll-ups, trends and the trend series of ``period`` from
    its ``accepted`` values (:func:`usable_values`) and the history's earlier periods.

    The one sequence behind the master (:func:`run_consolidation`) and the report
    (:mod:`bms_excel.report.model`), so the two cannot drift apart.
    """
    views = kostra_views(history, definition, definition.period(period))
    long = build_long_table(definition, with_kostra(accepted, views, period), period)
    county = aggregate_county(definition, long, period)
    rollups = rollup_scores(definition, long, county)
    series: list[tuple[str, pd.DataFrame, pd.DataFrame]] = []
    longs: dict[str, pd.DataFrame] = {}
    for code in same_kind_periods(definition, period):
        if code == period:
            series.append((code, county, rollups))
            continue
        # An earlier period of the same kind is only a point on the trend lines: its county
        # values and county roll-up. A period with no records has none.
        earlier = history.accepted_values(code)
        if not earlier:
            continue
        longs[code] = p_long = build_long_table(definition, earlier, code)
        if p_long["kind"].eq("number").any():
            p_county = aggregate_county(definition, p_long, code)
            series.append((code, p_county, rollup_county(definition, p_county)))
    before = _previous(definition, period)
    if before is not None and before in longs:
        previous_long = longs[before]
    else:
        previous_long = build_long_table(
            definition, history.accepted_values(before) if before else [], before or period
        )
    if before is None:
        previous_long = previous_long.iloc[0:0]
    trends = trend(definition, long, previous_long, county_now=county)
    return PeriodFrames(views, long, county, rollups, trends, series)


def run_consolidation(
    definition: Definition,
    period: str,
    *,
    folder: Path,
    secret: bytes,
    history_path: Path,
    master_path: Path,
    lang: str = "nb",
    csv_path: Path | None = None,
    parquet_path: Path | None = None,
    processes: int | None = None,
    progress: Progress | None = None,
    project_dir: Path | None = None,
) -> ConsolidationResult:
    """Collect, record in the history, consolidate and write the master (and exports).

    The history database's lock is held for the whole run, so a second run on the same
    project stops at once with an ``OutputError`` and neither the database nor the master
    is touched by it.
    """
    if not folder.is_dir():
        raise ConfigError(t("consolidate.no-folder", path=str(folder)))
    check_master_writable(master_path)
    run_at = dt.datetime.now().astimezone().replace(microsecond=0)
    def_hash = definition_hash(definition)
    history_path.parent.mkdir(parents=True, exist_ok=True)
    with open_history(history_path) as history:
        # Holding the lock, clean up after a run that died mid-write (its runs were marked
        # aborted when the history was opened).
        removed = remove_stale_temp_files(master_path.parent)
        report = collect_submissions(
            folder, definition, period, secret, processes=processes, progress=progress
        )
        refuse_closed_period(history, report.batch, period)
        info = RunInfo("consolidate", period, def_hash, __version__, run_at.isoformat())
        outcome = history.record_batch(_batch_for_history(report.batch), run_info=info)
        try:
            master_info = MasterInfo(
                run_at, __version__, def_hash, shown_path(history_path, project_dir), outcome.run_id
            )
            frames = _consolidate_and_write(
                history, definition, period, report, master_path, master_info, lang, folder
            )
            exports = export_long(frames.long, csv_path=csv_path, parquet_path=parquet_path)
        except BaseException:
            history.finish_run(outcome.run_id, "failed")
            raise
        history.finish_run(outcome.run_id, "ok")
    return ConsolidationResult(
        master=master_path,
        history=history_path,
        period=period,
        run_id=outcome.run_id,
        report=report,
        definition=definition,
        long=frames.long,
        county=frames.county,
        rollups=frames.rollups,
        trends=frames.trends,
        excluded=excluded_values(frames.long),
        exports=exports,
        changed=outcome.changed,
        aborted_runs=history.aborted_runs,
        removed_temp_files=removed,
    )


def _consolidate_and_write(
    history: History,
    definition: Definition,
    period: str,
    report: CollectReport,
    master_path: Path,
    info: MasterInfo,
    lang: str,
    folder: Path,
) -> PeriodFrames:
    """Consolidate the recorded period and write the master (the run's middle part)."""
    held = {u.code for u in report.units if u.state == "duplicate"}
    accepted = usable_values(history, period, held)
    # A controller figure that differs from the unit's own return is said at every run, also
    # when the unit returned after the controller's import.
    report.findings.extend(conflicts_in(accepted, definition))
    frames = consolidate_period(history, definition, period, accepted)
    history_values, history_scores = _series(definition, frames.series)
    actions = [a for a in history.accepted_actions(period) if a.unit not in held]
    dialogue = master_dialogue(
        history, definition, period, red_indicators(frames.long), actions, info.run_at.date()
    )
    write_master(
        master_path,
        definition=definition,
        period=period,
        long=frames.long,
        county=frames.county,
        rollups=frames.rollups,
        trends=frames.trends,
        report=report,
        history_values=history_values,
        history_scores=history_scores,
        actions=actions,
        assessments=[a for a in history.accepted_assessments(period) if a.unit not in held],
        info=info,
        lang=lang,
        submissions_dir=folder,
        kostra=frames.views,
        dialogue=dialogue,
        # The controller's «Ta med i rapport» marks survive the rewrite.
        marks=carried_marks(master_path, period),
    )
    return frames


def consolidate_project(
    project: Project,
    definition: Definition | None = None,
    period: str | None = None,
    *,
    folder: Path | None = None,
    out: Path | None = None,
    csv_path: Path | None = None,
    parquet_path: Path | None = None,
    lang: str | None = None,
    processes: int | None = None,
    progress: Progress | None = None,
) -> ConsolidationResult:
    """:func:`run_consolidation` with a project's paths, secret and language (``bms consolidate``).

    The master goes to ``out`` or ``<reports>/bms_<county>_<period>.xlsx``.
    """
    definition = definition or project.load_definition()
    chosen = project.resolve_period(period, definition)
    master = out or project.reports_dir / master_filename(definition.county.code, chosen)
    return run_consolidation(
        definition,
        chosen,
        folder=folder or project.submissions_dir,
        secret=project.secret,
        history_path=project.history_path,
        master_path=master,
        lang=project.resolve_language(lang, definition),
        csv_path=csv_path,
        parquet_path=parquet_path,
        processes=processes,
        progress=progress,
        project_dir=project.root,
    )
