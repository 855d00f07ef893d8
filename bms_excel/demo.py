"""``bms demo``: the whole cycle on the bundled example county, start to end.

Steps: init → check → generate → simulated returns (most on time, some late, one missing, one
with numbers typed as text, one tampered with, one duplicate) → collect. Each step is the same
library call the CLI makes, so the demo shows exactly what the tool does.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.collect import CollectReport, collect_submissions, write_reminder_csv
from bms_excel.errors import ConfigError, Finding
from bms_excel.examples import load_example_definition, load_example_history
from bms_excel.generate import generate_workbooks, history_from_rows
from bms_excel.i18n import t
from bms_excel.project import Project, init_project
from bms_excel.simulate import simulate_returns

MARKER = ".bms-demo"
#: The period the demo runs (the example has history up to 2026-T1).
DEMO_PERIOD = "2026-T2"


@dataclass
class DemoResult:
    """What the demo produced: paths for ``--json`` and the steps it ran."""

    project: Project
    paths: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    check_findings: list[Finding] = field(default_factory=list)
    collect: CollectReport | None = None


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
    from bms_excel.definition import check_definition, load_definition_with_source

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

    defn, source = load_definition_with_source(project.definition_path)
    result.check_findings = check_definition(defn, source)
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
    period = (
        DEMO_PERIOD if any(p.code == DEMO_PERIOD for p in defn.periods) else defn.periods[-1].code
    )
    history = history_from_rows(load_example_history(example))
    gen = generate_workbooks(
        defn,
        period,
        out_dir=project.generated_dir / period,
        secret=project.secret,
        history=history,
        lang=project.language,
    )
    result.paths["generated"] = str(project.generated_dir / period)
    step(t("demo.step-generate", n=len(gen.files), period=period, path=result.paths["generated"]))

    files = {row.unit: gen.out_dir / row.file for row in gen.manifest}
    plan = simulate_returns(
        defn,
        period,
        files,
        project.submissions_dir / period,
        history=history,
        lang=project.language,
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

    report = collect_submissions(project.submissions_dir, defn, period, project.secret)
    reminder = write_reminder_csv(report, defn, project.reports_dir)
    result.paths["reminders"] = str(reminder)
    result.collect = report
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
    return result
