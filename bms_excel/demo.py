"""``bms demo``: the whole cycle on the bundled example county, start to end.

Steps so far: init → check. Later steps (generate → simulated returns → collect →
consolidate) are added here as they are built, so the demo always shows everything the tool does.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.errors import ConfigError, Finding
from bms_excel.i18n import t
from bms_excel.project import Project, init_project

MARKER = ".bms-demo"


@dataclass
class DemoResult:
    """What the demo produced: paths for ``--json`` and the steps it ran."""

    project: Project
    paths: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    check_findings: list[Finding] = field(default_factory=list)


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
    project = init_project(out, example=example)
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
    return result
