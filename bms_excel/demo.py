"""``bms demo``: the whole cycle on the bundled example county, start to end.

Steps: init → check → history database seeded with the example's earlier periods → KOSTRA
sample figures imported → generate → simulated returns (most on time, some late, one missing,
one with numbers typed as text, one tampered with, one duplicate) → consolidate (collect,
history, master workbook) → a summary per focus area → the way back
(:mod:`bms_excel.demo_loop`): one unit returned and corrected, the next period's workbooks
with the open actions and lessons, the next period collected, this period closed. Each step is the same
library call the CLI makes, so the demo shows exactly what the tool does.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bms_excel.api import (
    Project,
    check_definition_file,
    generate_project,
    import_kostra_project,
    import_values_project,
    init_project,
)
from bms_excel.collect import CollectReport, write_reminder_csv
from bms_excel.demo_loop import LoopResult, run_dialogue_loop
from bms_excel.errors import ConfigError, Finding
from bms_excel.examples import example_dir, example_history_path, load_example_definition
from bms_excel.history import open_history
from bms_excel.i18n import t
from bms_excel.master import ConsolidationResult, consolidate_project
from bms_excel.simulate import SimulationPlan, simulate_returns
from bms_excel.status import Status, status_label

if TYPE_CHECKING:
    from bms_excel.generate import GenerateResult
    from bms_excel.model import Definition

MARKER = ".bms-demo"
#: The period the demo runs (the example has history up to 2026-T1).
DEMO_PERIOD = "2026-T2"

#: Reports one step of the demo.
Step = Callable[[str], None]


@dataclass
class DemoResult:
    """What the demo produced: paths for ``--json`` and the steps it ran."""

    project: Project
    paths: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    check_findings: list[Finding] = field(default_factory=list)
    collect: CollectReport | None = None
    focus_areas: list[dict[str, Any]] = field(default_factory=list)
    consolidation: ConsolidationResult | None = None
    #: The dialogue loop: a return, its correction, the next period, the period closed.
    loop: LoopResult | None = None


def prepare_demo_folder(out: Path) -> None:
    """Remove a previous demo at ``out``; refuse to touch a folder the demo did not make."""
    if not out.exists():
        return
    if (out / MARKER).is_file():
        shutil.rmtree(out)
        return
    if out.is_dir() and not any(out.iterdir()):
        return
    raise ConfigError(t("demo.not-demo-folder", path=str(out)))


def run_demo(
    out: Path, *, example: str = "stfk", say: Callable[[str], None] | None = None
) -> DemoResult:
    """Run the demo cycle into ``out`` and return what it produced."""

    def step(text: str) -> None:
        result.steps.append(text)
        if say:
            say(text)

    prepare_demo_folder(out)
    example_defn = load_example_definition(example)
    period = (
        DEMO_PERIOD
        if any(p.code == DEMO_PERIOD for p in example_defn.periods)
        else example_defn.periods[-1].code
    )
    project = init_project(out, example=example, period=period)
    (out / MARKER).write_text("Laget av «bms demo». Mappen slettes ved neste kjøring.\n")
    result = DemoResult(project=project)
    result.paths = {"project": str(project.root), "definition": str(project.definition_path)}
    step(t("demo.step-init", path=str(project.root)))

    defn = _check(project, result, step)
    _load_earlier_figures(project, example, period, step)
    result.paths["history"] = str(project.history_path)
    gen = generate_project(project, period=period)
    result.paths["generated"] = str(gen.out_dir)
    step(t("demo.step-generate", n=len(gen.files), period=period, path=result.paths["generated"]))
    plan = _simulate(project, defn, period, gen, result, step)
    consolidated = _consolidate(project, defn, period, result, step)
    # The way back to the units, and the next period that follows from it.
    lang = project.resolve_language(None, defn)
    result.loop = run_dialogue_loop(project, defn, period, consolidated, plan, lang=lang, step=step)
    if result.loop.corrected is not None:
        result.consolidation = result.loop.corrected  # the period as it stands after the return
    result.paths.update(result.loop.paths)
    _report(project, defn, period, result, step)
    return result


def _check(project: Project, result: DemoResult, step: Step) -> Definition:
    """``bms check`` on the new project; the definition it checked."""
    result.check_findings = check_definition_file(project.definition_path)
    defn = project.load_definition()
    errors = sum(f.severity == "error" for f in result.check_findings)
    warnings = sum(f.severity == "warning" for f in result.check_findings)
    n_ind = sum(1 for _ in defn.iter_indicators())
    step(
        t(
            "demo.step-check",
            units=len(defn.units),
            indicators=n_ind,
            errors=errors,
            warnings=warnings,
        )
    )
    return defn


def _load_earlier_figures(project: Project, example: str, period: str, step: Step) -> None:
    """The example's history, the controller's own figures and the KOSTRA sample, stored."""
    # Earlier periods: the example's history goes into the history database, as a county
    # would load its last periods when it starts with bms («bms import-values»); the
    # generator reads it from there.
    example_folder = Path(str(example_dir(example)))
    seeded = import_values_project(project, Path(str(example_history_path(example))))
    step(t("demo.step-history", n=seeded.added, path=str(project.history_path)))
    controller = example_folder / "controller.csv"
    if controller.is_file():  # the controller's own figures for the county
        loaded = import_values_project(project, controller)
        step(t("demo.step-controller", n=loaded.added))
    kostra_files = sorted((example_folder / "kostra").glob("*.json"))
    if kostra_files:
        imported = import_kostra_project(project, kostra_files, period=period)
        step(t("demo.step-kostra", files=len(kostra_files), n=imported.report.stored))


def _simulate(
    project: Project,
    defn: Definition,
    period: str,
    gen: GenerateResult,
    result: DemoResult,
    step: Step,
) -> SimulationPlan:
    """The staff's returns: in line with their own last periods, some late, some broken."""
    with open_history(project.history_path, lock=False) as db:
        history = db.history_for_generation(defn, period)
    files = {row.unit: gen.out_dir / row.file for row in gen.manifest}
    plan = simulate_returns(
        defn,
        period,
        files,
        project.submissions_dir / period,
        history=history,
        lang=project.resolve_language(None, defn),
    )
    result.paths["submissions"] = str(project.submissions_dir)
    step(
        t(
            "demo.step-simulate",
            n=len(plan.normal) + len(plan.late),
            late=", ".join(plan.late) or "–",
            missing=", ".join(plan.missing) or "–",
            text=", ".join(plan.text_numbers) or "–",
            tampered=", ".join(plan.tampered) or "–",
            duplicate=", ".join(plan.duplicate) or "–",
        )
    )
    return plan


def _consolidate(
    project: Project, defn: Definition, period: str, result: DemoResult, step: Step
) -> ConsolidationResult:
    """``bms consolidate``, the reminder list and a summary per focus area."""
    consolidated = consolidate_project(project, defn, period)
    report = consolidated.report
    reminder = write_reminder_csv(report, defn, project.reports_dir)
    result.paths["reminders"] = str(reminder)
    result.paths["master"] = str(consolidated.master)
    result.collect = report
    result.consolidation = consolidated
    result.focus_areas = consolidated.focus_areas()
    counts = Counter(u.state for u in report.units)
    step(
        t(
            "collect.summary",
            period=period,
            received=counts["received"],
            missing=counts["missing"],
            duplicate=counts["duplicate"],
            rejected=counts["rejected"],
            total=len(report.units),
        )
    )
    severities = Counter(f.severity for f in report.findings)
    step(
        t(
            "demo.step-findings",
            errors=severities["error"],
            warnings=severities["warning"],
            infos=severities["info"],
            path=str(reminder),
        )
    )
    step(t("demo.step-master", path=str(consolidated.master)))
    for area in result.focus_areas:
        name = area["name"] if area["code"] else t("demo.total")
        score = "–" if area["score"] is None else f"{area['score']:.0f}"
        status = status_label(Status(area["status"]))
        step(t("demo.focus-area", name=name, status=status, score=score))
    return consolidated


def _report(
    project: Project, defn: Definition, period: str, result: DemoResult, step: Step
) -> None:
    """The period report (issue 17), when a renderer is installed."""
    from bms_excel.report import available_format, report_project

    fmt = available_format()
    if fmt is None:
        step(t("report.demo-skipped"))
    for path in report_project(project, defn, period, fmt=fmt)[1].files() if fmt else []:
        result.paths[f"report_{path.suffix[1:]}"] = str(path)
        step(t("report.written", path=str(path)))
