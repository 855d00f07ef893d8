"""Real client: status and score formulas, recalculated by LibreOffice, equal Python's results.

One workbook holds a grid of rules (every kind and direction, decimals 0/1/2) × input values
around every limit (on it, half a display step off, tiny epsilons off, values that round onto
it, negatives, blanks, not-applicable words, text). Each row carries the status formula in nb
and en, the score formula, and the same two formulas reading their limits from cells (``refs``).
LibreOffice recalculates the whole grid once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from realclient import formula_errors, recalculated_values, require_libreoffice

from bms_excel.model import Indicator, Settings
from bms_excel.status import (
    Status,
    StatusRule,
    classify_input,
    evaluate,
    excel_score_formula,
    excel_status_formula,
    resolve_rule,
    score,
    status_label,
)
from bms_excel.unit_results import percent_entry

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

SHEET = "Grid"
ERROR_INPUT = "=1/0"  # an input cell holding an Excel error value
TEXTS: tuple[Any, ...] = (
    None,
    "",
    " ",
    "\t",
    "i.a.",
    " I.A. ",
    "IKKE AKTUELT",
    "ikkje  aktuelt",
    "-",
    "–",
    " — ",
    "n/a",
    "ia",
    "abc",
    "12,5",
    "0",
    "Grønn",
    ERROR_INPUT,
)
# Columns: A input, B status nb, C status en, D score, E status nb (refs), F score (refs),
# G..K limits green, yellow, low, high, tolerance (read through refs); L the input as Excel's
# percent entry stores it (a number / 100, percent-formatted), M the % indicator's status over
# L, N the % indicator's status over the unformatted A (no percent entry: as B).
LIMIT_COLUMNS = {"green": "G", "yellow": "H", "low": "I", "high": "J", "tolerance": "K"}


def _percent(target: float, direction: str, decimals: int) -> StatusRule:
    ind = Indicator(code="P1", name="p", target=target, direction=direction, decimals=decimals)
    return resolve_rule(ind, Settings())


def _rules() -> list[StatusRule]:
    rules: list[StatusRule] = []
    for d in (0, 1, 2):
        rules += [
            StatusRule("thresholds", "thresholds", "higher", d, green=15, yellow=10),
            StatusRule("thresholds", "thresholds", "higher", d, green=2.675, yellow=1.005),
            StatusRule("thresholds", "thresholds", "higher", d, green=-2.5, yellow=-7.25),
            StatusRule("thresholds", "thresholds", "lower", d, green=0.3, yellow=0.7),
            StatusRule("thresholds", "thresholds", "lower", d, green=30, yellow=36),
            StatusRule("thresholds", "thresholds", "higher", d, green=10, yellow=10),
            # limits finer than the display: scores that round onto 100 / 50 must be capped
            StatusRule("thresholds", "thresholds", "higher", d, green=15.00000000001, yellow=10),
            StatusRule("thresholds", "thresholds", "higher", d, green=1e6, yellow=10.0000000001),
            _percent(15.5, "higher", d),  # yellow 13.95
            _percent(36, "lower", d),  # yellow 39.6
            _percent(100, "higher", d),  # ClearPoint: yellow 90
            StatusRule("band", "band", "range", d, low=70, high=80, tolerance=5),
            StatusRule("band", "band", "range", d, low=0.1, high=0.3, tolerance=0.2),
            StatusRule("band", "band", "range", d, low=-1.5, high=2.25, tolerance=0.35),
            StatusRule("band", "band", "range", d, low=40, high=50),
            StatusRule("band", "band", "higher", d, low=50, high=50, tolerance=1),
            StatusRule("none", "none", "higher", d),
        ]
    return rules


def _limits(rule: StatusRule) -> list[float]:
    if rule.kind == "thresholds":
        assert rule.green is not None and rule.yellow is not None
        return [rule.green, rule.yellow]
    if rule.kind == "band":
        assert rule.low is not None and rule.high is not None
        return [rule.low, rule.high, *rule.outer]
    return [0.0, 1.0]


def _inputs(rule: StatusRule) -> list[Any]:
    step = 10.0**-rule.decimals
    values: list[Any] = [0, -1, -1000.5, 123456.789]
    for limit in _limits(rule):
        # Next to a display tie the epsilon is relative: within ~1e-15 of a tie (beyond the 15
        # digits Excel shows) LibreOffice's ROUND and Excel's 15-digit rounding disagree with
        # each other, so no single Python rule can match both there.
        near_tie = 1e-9 * max(1.0, abs(limit))
        for offset in (0, step / 2, step, 1e-9, 1e-12):
            for sign in (1, -1):
                values.append(limit + sign * offset)
                if offset:
                    values.append(limit + sign * (step / 2 - near_tie))  # rounds onto the limit
                    values.append(limit + sign * (step / 2 + near_tie))  # rounds off it
        values.append(-limit)
        values.append(round(limit * 1.2, 4))
    unique = list(dict.fromkeys(float(v) for v in values))
    return [*unique, *TEXTS]


@dataclass
class Row:
    """One grid row: the rule and the raw input written to column A."""

    row: int
    rule: StatusRule
    raw: Any


def _build(path: Path) -> list[Row]:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    rows: list[Row] = []
    r = 1
    for rule in _rules():
        for raw in _inputs(rule):
            r += 1
            rows.append(Row(r, rule, raw))
            if raw is not None:
                ws[f"A{r}"] = raw
            ref = f"$A${r}"
            refs = {}
            for key, col in LIMIT_COLUMNS.items():
                limit = getattr(rule, key)
                if limit is not None and (key != "tolerance" or rule.kind == "band"):
                    ws[f"{col}{r}"] = limit
                    refs[key] = f"${col}${r}"
            ws[f"B{r}"] = excel_status_formula(rule, ref, "nb")
            ws[f"C{r}"] = excel_status_formula(rule, ref, "en")
            ws[f"D{r}"] = excel_score_formula(rule, ref)
            ws[f"E{r}"] = excel_status_formula(rule, ref, "nb", refs)
            ws[f"F{r}"] = excel_score_formula(rule, ref, refs)
            entered = raw / 100 if isinstance(raw, float) else raw
            if entered is not None:
                ws[f"L{r}"] = entered
                ws[f"L{r}"].number_format = "0%"
            ws[f"M{r}"] = excel_status_formula(rule, f"$L${r}", "nb", percent_entry=True)
            ws[f"N{r}"] = excel_status_formula(rule, ref, "nb", percent_entry=True)
    wb.save(path)
    return rows


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Row], dict[str, Any]]:
    """The grid's rows and LibreOffice's recalculated values (one LibreOffice run)."""
    require_libreoffice()
    folder = tmp_path_factory.mktemp("status-grid")
    rows = _build(folder / "grid.xlsx")
    values = recalculated_values(folder / "grid.xlsx", folder / "out")
    return rows, values


def _expected_input(raw: Any) -> Any:
    # LibreOffice shows the error cell as "#DIV/0!"; Python reads the same text from it.
    return "#DIV/0!" if raw == ERROR_INPUT else raw


def _same_score(got: Any, want: float | None) -> bool:
    if want is None:
        return got in (None, "")
    return isinstance(got, int | float) and math.isclose(got, want, rel_tol=0, abs_tol=1e-9)


def test_grid_is_large_and_free_of_errors(grid: tuple[list[Row], dict[str, Any]]) -> None:
    rows, values = grid
    assert len(rows) > 2000
    inputs = {k: v for k, v in values[SHEET].items() if k[0] not in ("A", "L")}
    assert formula_errors({SHEET: inputs}) == []
    assert values[SHEET][f"A{rows[-1].row}"] == "#DIV/0!"


@pytest.mark.parametrize(("column", "lang"), [("B", "nb"), ("C", "en"), ("E", "nb")])
def test_status_formulas_equal_python(
    grid: tuple[list[Row], dict[str, Any]], column: str, lang: str
) -> None:
    rows, values = grid
    cells = values[SHEET]
    wrong = []
    for row in rows:
        want = status_label(evaluate(row.rule, classify_input(_expected_input(row.raw))), lang)
        got = cells.get(f"{column}{row.row}")
        if got != want:
            wrong.append((row.row, row.rule, row.raw, got, want))
    assert wrong == []


def test_percent_entry_status_equals_python(grid: tuple[list[Row], dict[str, Any]]) -> None:
    rows, values = grid
    cells = values[SHEET]
    wrong = []
    for row in rows:
        entered = row.raw / 100 if isinstance(row.raw, float) else _expected_input(row.raw)
        want = status_label(evaluate(row.rule, classify_input(percent_entry(entered, True))))
        plain = status_label(evaluate(row.rule, classify_input(_expected_input(row.raw))))
        if cells.get(f"M{row.row}") != want or cells.get(f"N{row.row}") != plain:
            wrong.append((row.row, row.rule, row.raw, cells.get(f"M{row.row}"), want))
    assert wrong == []


@pytest.mark.parametrize("column", ["D", "F"])
def test_score_formulas_equal_python(grid: tuple[list[Row], dict[str, Any]], column: str) -> None:
    rows, values = grid
    cells = values[SHEET]
    wrong = []
    for row in rows:
        want = score(row.rule, classify_input(_expected_input(row.raw)))
        got = cells.get(f"{column}{row.row}")
        if not _same_score(got, want):
            wrong.append((row.row, row.rule, row.raw, got, want))
    assert wrong == []


def test_grid_exercises_every_status_and_the_score_caps(
    grid: tuple[list[Row], dict[str, Any]],
) -> None:
    rows, values = grid
    seen = {values[SHEET].get(f"C{row.row}") for row in rows}
    assert seen == {status_label(s, "en") for s in Status}
    scores = {values[SHEET].get(f"D{row.row}") for row in rows}
    assert {99.999999999, 49.999999999, 50, 100, 0} <= scores
