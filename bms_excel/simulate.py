"""Simulated returns for ``bms demo``, the tests and the benchmark: staff filling in workbooks.

A simulated person writes only into unlocked cells (the only ones Excel lets them change) —
:func:`fill_workbook` refuses to write a locked cell — and saves a copy; the generated original
is never touched. :func:`simulate_returns` produces a realistic folder of returns: most units on
time, some late, one missing, one with numbers typed as text, one tampered with, one duplicate.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

from bms_excel.i18n import t
from bms_excel.layout import UnitLayout, build_layout
from bms_excel.model import Definition, Indicator, Unit, effective_target
from bms_excel.status import Status, evaluate, resolve_rule
from bms_excel.values import parse_value


class LockedCellError(Exception):
    """A simulated person tried to type into a locked cell (a bug in the caller)."""


@dataclass
class Entry:
    """What one person types into one workbook."""

    values: dict[str, object] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    actions: list[tuple[str, str, str | None, dt.date | None, str]] = field(default_factory=list)
    assessments: dict[str, tuple[str, str]] = field(default_factory=dict)


def fill_workbook(src: Path, dest: Path, layout: UnitLayout, entry: Entry) -> None:
    """Type ``entry`` into a copy of ``src`` at ``dest``, through unlocked cells only."""
    wb = openpyxl.load_workbook(src)

    def put(sheet: str, ref: str, value: object) -> None:
        cell = wb[sheet][ref]
        if cell.protection.locked:
            raise LockedCellError(f"'{sheet}'!{ref} is locked")
        cell.value = value

    sc = layout.sheets.scorecard
    for cells in layout.scorecard.indicators:
        if cells.code in entry.values:
            put(sc, cells.result_ref, entry.values[cells.code])
        if cells.code in entry.comments:
            put(sc, cells.comment_ref, entry.comments[cells.code])
    acts = layout.actions
    for i, (code, action, responsible, deadline, status) in enumerate(entry.actions):
        row = acts.first_row + i
        for role, value in (
            ("code", code),
            ("action", action),
            ("responsible", responsible),
            ("deadline", deadline),
            ("status", status),
        ):
            if value is not None:
                put(layout.sheets.actions, f"{acts.columns[role]}{row}", value)
    for arow in layout.assessment:
        if arow.area in entry.assessments:
            text, learned = entry.assessments[arow.area]
            put(layout.sheets.assessment, arow.assessment_ref, text)
            put(layout.sheets.assessment, arow.learned_ref, learned)
    dest.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dest)
    wb.close()


def plausible_value(
    ind: Indicator, unit: Unit, period: str, previous: str | None, rng: random.Random
) -> float:
    """A believable result: the last value with some drift, else near the target."""
    last = parse_value(previous) if previous is not None else None
    if last is not None and last.kind == "number" and last.value is not None:
        base = last.value
    else:
        target, _ = effective_target(ind, unit, period)
        if target is not None and target.value is not None:
            base = target.value
        elif target is not None and target.low is not None and target.high is not None:
            base = (target.low + target.high) / 2
        elif ind.valid_range is not None:
            base = sum(ind.valid_range) / 2
        else:
            base = 50.0
    spread = abs(base) * 0.08 or 1.0
    value = base + rng.gauss(0, spread)
    if ind.valid_range is not None:
        value = min(max(value, ind.valid_range[0]), ind.valid_range[1])
    return round(value, ind.decimals)


@dataclass
class SimulationPlan:
    """Which unit got which scenario (for the demo's report and the tests)."""

    folder: Path
    normal: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    text_numbers: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)


def person_entry(
    definition: Definition,
    unit: Unit,
    period: str,
    layout: UnitLayout,
    history: Mapping[tuple[str, str], Sequence[tuple[str, str]]],
    rng: random.Random,
) -> Entry:
    """What a conscientious person at ``unit`` types: results, comments on red, actions, texts."""
    entry = Entry()
    deadline = definition.period(period).deadline
    for cells in layout.scorecard.indicators:
        if not cells.input:
            continue
        ind = definition.indicator(cells.code)
        past = history.get((unit.code, ind.code), [])
        value = plausible_value(ind, unit, period, past[-1][1] if past else None, rng)
        entry.values[ind.code] = value
        status = evaluate(resolve_rule(ind, definition.settings, unit, period), value)
        if status == Status.RED or ind.comment_required == "always":
            entry.comments[ind.code] = rng.choice(_COMMENTS)
            if status == Status.RED and len(entry.actions) < 3:
                entry.actions.append(
                    (
                        ind.code,
                        rng.choice(_ACTIONS),
                        rng.choice(("Rektor", "Avdelingsleder", "Virksomhetsleder")),
                        deadline + dt.timedelta(days=rng.randint(30, 120)),
                        "Planlagt",
                    )
                )
    for arow in layout.assessment:
        entry.assessments[arow.area] = (rng.choice(_ASSESSMENTS), rng.choice(_LEARNED))
    return entry


#: How a person reports on an action carried from the period before.
_FOLLOW_UP = ("done", "ongoing", "dropped", "postponed", "done")


def followed_up(
    row: Mapping[str, object], rng: random.Random, lang: str
) -> tuple[str, str, str | None, dt.date | None, str]:
    """A carried Tiltak row with its status brought up to date (done, under way, dropped …)."""
    deadline = row.get("deadline")
    responsible = row.get("responsible")
    return (
        str(row.get("code") or ""),
        str(row.get("action") or ""),
        str(responsible) if responsible else None,
        deadline if isinstance(deadline, dt.date) else None,
        t(f"wb.action-status.{rng.choice(_FOLLOW_UP)}", lang),
    )


def simulate_returns(
    definition: Definition,
    period: str,
    generated: Mapping[str, Path],
    dest: Path,
    *,
    history: Mapping[tuple[str, str], Sequence[tuple[str, str]]] | None = None,
    lang: str = "nb",
    seed: int = 2026,
    carried: Mapping[str, Sequence[Mapping[str, object]]] | None = None,
) -> SimulationPlan:
    """Fill the generated workbooks (unit code → file) into ``dest`` with the demo scenarios.

    ``carried`` (unit code → the Tiltak rows its workbook came with, the open actions of the
    period before): the person updates each one's status and adds the new actions below them.
    """
    rng = random.Random(seed)
    history = history or {}
    plan = SimulationPlan(folder=dest)
    codes = [u.code for u in definition.units if u.code in generated]
    special = codes[1:] if len(codes) > 6 else []
    rng.shuffle(special)
    roles = {"missing": special[:1], "text": special[1:2], "tampered": special[2:3]}
    roles["duplicate"] = special[3:4]
    roles["late"] = special[4:7]
    deadline = definition.period(period).deadline
    for code in codes:
        unit = definition.unit(code)
        if code in roles["missing"]:
            plan.missing.append(code)
            continue
        layout = build_layout(definition, unit, period, lang)
        entry = person_entry(definition, unit, period, layout, history, rng)
        if carried and code in carried:
            entry.actions = [
                *(followed_up(row, rng, lang) for row in carried[code]),
                *entry.actions,
            ][: layout.actions.last_row - layout.actions.first_row + 1]
        target = dest / generated[code].name
        if code in roles["text"]:
            plan.text_numbers.append(code)
            for i, ind_code in enumerate(list(entry.values)[:3]):
                value = entry.values[ind_code]
                assert isinstance(value, float | int)
                entry.values[ind_code] = (
                    f"{value:.1f}".replace(".", ",") if i != 1 else "ikke aktuelt"
                )
        fill_workbook(generated[code], target, layout, entry)
        when = dt.datetime.combine(deadline, dt.time(14, 0)) - dt.timedelta(days=rng.randint(0, 5))
        if code in roles["late"]:
            plan.late.append(code)
            when = dt.datetime.combine(deadline, dt.time(9, 30)) + dt.timedelta(days=3)
        else:
            plan.normal.append(code)
        if code in roles["tampered"]:
            plan.tampered.append(code)
            _tamper(target, layout)
        if code in roles["duplicate"]:
            plan.duplicate.append(code)
            copy = dest / "videresendt" / target.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target, copy)
            os.utime(copy, (when.timestamp() - 3600, when.timestamp() - 3600))
        os.utime(target, (when.timestamp(), when.timestamp()))
    return plan


def _tamper(path: Path, layout: UnitLayout) -> None:
    """What a careless user does: remove the protection and insert a row above the results."""
    wb = openpyxl.load_workbook(path)
    ws = wb[layout.sheets.scorecard]
    ws.protection.sheet = False
    ws.insert_rows(layout.scorecard.first_row + 1)
    wb.save(path)
    wb.close()


_COMMENTS = (
    "Høyt sykefravær i en periode påvirket resultatet.",
    "Færre søkere enn ventet; vi har styrket informasjonen til ungdomsskolene.",
    "Omorganisering i perioden; vi forventer bedring neste tertial.",
    "Resultatet er påvirket av vakanser i to stillinger.",
)
_ACTIONS = (
    "Oppfølgingssamtaler med berørte ansatte",
    "Samarbeid med lokalt næringsliv om læreplasser",
    "Informasjonskampanje mot ungdomsskolene",
    "Gjennomgang av rutiner med avdelingslederne",
)
_ASSESSMENTS = (
    "Vi er i rute på de fleste indikatorene, men må følge opp sykefraværet.",
    "Samarbeidet med arbeidslivet fungerer godt; søkertallene er en utfordring.",
    "Tertialet har vært preget av omstilling, men resultatene er stabile.",
)
_LEARNED = (
    "Tett dialog med avdelingslederne gir raskere tiltak.",
    "Tidlig kontakt med ungdomsskolene gir flere primærsøkere.",
    "Vi må måle oftere for å se effekt av tiltakene.",
)
