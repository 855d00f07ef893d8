"""``bms report``: the period's report for leadership and the county council (HTML and PDF).

:func:`report_project` is the library entry point the CLI and ``bms demo`` call: it builds
the data model from the history database (:mod:`bms_excel.report.model`), with the
controller's choice of comments read back from the master workbook
(:mod:`bms_excel.report.selection`), and renders it (:mod:`bms_excel.report.render`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from bms_excel.model import Definition
from bms_excel.project import Project

if TYPE_CHECKING:
    from bms_excel.report.model import ReportModel
    from bms_excel.report.render import ReportFiles

__all__ = ["available_format", "report_project"]


def report_project(
    project: Project,
    definition: Definition | None = None,
    period: str | None = None,
    *,
    fmt: str = "both",
    out: Path | None = None,
    lang: str | None = None,
) -> tuple[ReportModel, ReportFiles]:
    """Write the report of ``period`` into ``out`` (default: the project's ``rapporter/``).

    Returns ``(model, files)``: the :class:`~bms_excel.report.model.ReportModel` and the
    :class:`~bms_excel.report.render.ReportFiles` with the paths and timings.
    """
    from bms_excel.master.run import master_filename
    from bms_excel.report.model import build_report
    from bms_excel.report.render import find_chromium, write_report
    from bms_excel.report.selection import read_selection

    started = time.perf_counter()
    definition = definition or project.load_definition()
    chosen = project.resolve_period(period, definition)
    if fmt in ("pdf", "both"):
        find_chromium()  # a missing PDF engine is said before any work
    master = project.reports_dir / master_filename(definition.county.code, chosen)
    model = build_report(
        definition,
        project.history_path,
        chosen,
        lang=project.resolve_language(lang, definition),
        selection=read_selection(master),
        submissions_dir=project.submissions_dir,
    )
    model_time = time.perf_counter() - started
    files = write_report(model, out or project.reports_dir, fmt)
    files.timings["model"] = model_time
    files.timings["total"] = time.perf_counter() - started
    return model, files


def available_format() -> str | None:
    """The richest format this machine can make: ``both`` (Chromium and Graphviz present),
    ``html`` (Graphviz only) or ``None`` (no Graphviz ``dot``: no strategy map, no report)."""
    import shutil

    from bms_excel.errors import ConfigError
    from bms_excel.report.render import find_chromium

    if shutil.which("dot") is None:
        return None
    try:
        find_chromium()
    except ConfigError:
        return "html"
    return "both"
