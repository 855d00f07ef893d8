"""The demo's way back to the units: one period's dialogue and the next period that follows it.

After the demo has collected a period: one unit's return is returned with a reason, the unit
corrects it in the new workbook and sends it again (it supersedes the first), the controller
approves it, every unit gets its feedback workbook, the next period's workbooks are generated with the open actions and the lessons
of this one, the units fill them in (bringing the carried actions up to date), the next period
is collected, and this period is closed. Every step is the library call the CLI makes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.api import (
    Project,
    close_period_project,
    feedback_project,
    generate_project,
    review_project,
)
from bms_excel.collect import CollectReport
from bms_excel.dialogue import followup_for_generation, previous_period_code
from bms_excel.history import open_history
from bms_excel.i18n import t
from bms_excel.layout import UnitLayout, build_layout
from bms_excel.master import ConsolidationResult, consolidate_project
from bms_excel.model import Definition
from bms_excel.simulate import Entry, SimulationPlan, fill_workbook, simulate_returns


@dataclass
class LoopResult:
    """What the loop did, for the summary and the tests."""

    period: str
    next_period: str | None = None
    returned_unit: str | None = None
    returned_workbook: Path | None = None
    corrected: ConsolidationResult | None = None
    superseded: int = 0
    feedback: int = 0
    carried_actions: int = 0
    carried_lessons: int = 0
    next_generated: Path | None = None
    next_consolidation: ConsolidationResult | None = None
    closed: bool = False
    paths: dict[str, str] = field(default_factory=dict)


def next_period_code(definition: Definition, period: str) -> str | None:
    """The period after ``period`` of the same kind (a tertial after a tertial), if any."""
    kind = definition.period(period).kind
    codes = [p.code for p in definition.periods]
    for p in definition.periods[codes.index(period) + 1 :]:
        if p.kind == kind and previous_period_code(definition, p.code) == period:
            return p.code
    return None


def _returned_unit(report: CollectReport, plan: SimulationPlan) -> str | None:
    """A unit whose return was received as it should be (not late, tampered, a duplicate …)."""
    special = {*plan.late, *plan.text_numbers, *plan.tampered, *plan.duplicate, *plan.missing}
    received = [u.code for u in report.units if u.state == "received"]
    return next((code for code in received if code not in special), None)


def _correction(project: Project, layout: UnitLayout, unit: str, period: str) -> Entry:
    """What the returned unit changes: its first result, typed again one higher."""
    first = next(c.code for c in layout.scorecard.indicators if c.input)
    with open_history(project.history_path, lock=False) as db:
        given = [
            v.value for v in db.accepted_values(period) if (v.unit, v.indicator) == (unit, first)
        ]
    old = given[0] if given and given[0] is not None else 0.0
    return Entry(values={first: round(old + 1, 1)})


def run_dialogue_loop(
    project: Project,
    definition: Definition,
    period: str,
    first: ConsolidationResult,
    plan: SimulationPlan,
    *,
    lang: str,
    step: Callable[[str], None],
) -> LoopResult:
    """Run the loop after ``period`` was collected (``first``) from the simulated ``plan``."""
    loop = LoopResult(period)
    unit = _returned_unit(first.report, plan)
    if unit is None:
        return loop
    _return_and_correct(project, definition, period, plan, unit, loop, lang=lang, step=step)
    # The way back: one feedback workbook per unit, with a manifest for sending.
    feedback = feedback_project(project, period=period)
    loop.feedback = len(feedback.files)
    loop.paths["feedback"] = str(feedback.out_dir)
    step(t("demo.step-feedback", n=loop.feedback, path=str(feedback.out_dir)))
    after = next_period_code(definition, period)
    if after is not None:
        _next_period(project, definition, after, loop, lang=lang, step=step)
    # 5. The period is closed: no more returns for it.
    closed = close_period_project(project, period, reason=t("demo.close-reason", lang))
    loop.closed = closed.kind == "closed"
    # Consolidating a closed period still works when nothing new came in: the master's Om
    # sheet then shows the period closed, with the whole dialogue.
    loop.corrected = consolidate_project(project, definition, period, folder=plan.folder)
    step(t("demo.step-closed", period=period, by=closed.by, path=str(loop.corrected.master)))
    return loop


def _return_and_correct(
    project: Project,
    definition: Definition,
    period: str,
    plan: SimulationPlan,
    unit: str,
    loop: LoopResult,
    *,
    lang: str,
    step: Callable[[str], None],
) -> None:
    """Steps 1 and 2: ``unit``'s return sent back with a reason, corrected and approved."""
    # 1. The controller returns one unit's workbook with a reason.
    reason = t("demo.return-reason", lang)
    review = review_project(project, unit, decision="returned", reason=reason, period=period)
    loop.returned_unit = unit
    loop.returned_workbook = review.workbooks[unit]
    loop.paths["returned_workbook"] = str(loop.returned_workbook)
    step(t("demo.step-returned", unit=unit, path=str(loop.returned_workbook)))
    # 2. The unit corrects it and sends it again; it replaces the first return.
    layout = build_layout(definition, definition.unit(unit), period, lang)
    original = plan.folder / loop.returned_workbook.name
    fill_workbook(
        loop.returned_workbook, original, layout, _correction(project, layout, unit, period)
    )
    loop.corrected = consolidate_project(project, definition, period, folder=plan.folder)
    with open_history(project.history_path, lock=False) as db:
        events = db.audit_events(unit, period)
    loop.superseded = sum(1 for e in events if e.state == "superseded")
    review_project(project, unit, decision="approved", period=period)
    step(t("demo.step-corrected", unit=unit, superseded=loop.superseded))


def _next_period(
    project: Project,
    definition: Definition,
    after: str,
    loop: LoopResult,
    *,
    lang: str,
    step: Callable[[str], None],
) -> None:
    """Steps 3 and 4: period ``after``'s workbooks with the open actions and the lessons,
    filled in by the units (carried actions brought up to date) and collected."""
    # 3. The next period's workbooks carry the open actions and the lessons.
    loop.next_period = after
    with open_history(project.history_path, lock=False) as db:
        followup = followup_for_generation(db, definition, after)
    loop.carried_actions = sum(len(f.actions) for f in followup.values())
    loop.carried_lessons = sum(len(f.lessons) for f in followup.values())
    gen = generate_project(project, period=after)
    loop.next_generated = gen.out_dir
    loop.paths["next_generated"] = str(gen.out_dir)
    step(
        t(
            "demo.step-next-generated",
            n=len(gen.files),
            period=after,
            actions=loop.carried_actions,
            lessons=loop.carried_lessons,
            units=len(followup),
        )
    )
    # 4. The units fill them in (carried actions brought up to date) and send them.
    with open_history(project.history_path, lock=False) as db:
        history = db.history_for_generation(definition, after)
    files = {row.unit: gen.out_dir / row.file for row in gen.manifest}
    carried = {code: f.actions for code, f in followup.items()}
    folder = project.submissions_dir / after
    simulate_returns(
        definition, after, files, folder, history=history, lang=lang, seed=2027, carried=carried
    )
    loop.next_consolidation = consolidate_project(project, definition, after, folder=folder)
    loop.paths["next_master"] = str(loop.next_consolidation.master)
    received = sum(1 for u in loop.next_consolidation.report.units if u.state == "received")
    step(
        t(
            "demo.step-next-collected",
            period=after,
            received=received,
            path=str(loop.next_consolidation.master),
        )
    )
