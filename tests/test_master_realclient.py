"""The demo-sized master workbook in a real spreadsheet engine (LibreOffice headless).

The bundled example county (32 units, 31 indicators, simulated returns with a missing unit,
text numbers, a tampered file and a duplicate, three earlier periods of history) is
consolidated, then:

* recalculated: every status formula on Fylket gives exactly the status Python computed for
  the county value, every score formula the Python score, and no cell is an error value;
* the colours of the Enheter matrix, whose conditional formats are status formulas over each
  value cell, are evaluated in LibreOffice cell by cell and compared with the Data sheet;
* the OOXML/Excel-limits check passes;
* the Oversikt sheet renders (``BMS_UPDATE_DOCS=1`` refreshes ``docs/oversikt.png``).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from ooxml_check import assert_clean
from openpyxl.formula.translate import Translator
from openpyxl.utils import get_column_letter, range_boundaries
from realclient import (
    formula_errors,
    recalculate,
    recalculated_values,
    render_png,
    require_libreoffice,
)

from bms_excel.demo import DemoResult
from bms_excel.examples import load_example_definition
from bms_excel.master import ConsolidationResult
from bms_excel.master.scorecard import county_status_labels
from bms_excel.status import Status, status_label

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
PERIOD = "2026-T2"
DOCS = Path(__file__).parents[1] / "docs"
CHECK_OFFSET = 100  # columns to the right of the Enheter matrix for the colour checks


@pytest.fixture(scope="module")
def demo(demo_project: DemoResult) -> ConsolidationResult:
    """The session's ``bms demo`` run (shared with the other demo tests)."""
    require_libreoffice()
    assert demo_project.consolidation is not None
    return demo_project.consolidation


@pytest.fixture(scope="module")
def recalculated(
    demo: ConsolidationResult, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    return recalculated_values(demo.master, tmp_path_factory.mktemp("recalc"))


def test_the_master_passes_the_excel_limits_check(demo: ConsolidationResult) -> None:
    assert_clean(demo.master)


def test_no_formula_gives_an_error_value(recalculated: dict[str, dict[str, Any]]) -> None:
    assert formula_errors(recalculated) == []


def test_every_county_status_and_score_formula_equals_python(
    demo: ConsolidationResult, recalculated: dict[str, dict[str, Any]]
) -> None:
    wb = openpyxl.load_workbook(demo.master)
    try:
        rows: dict[Any, int] = {}
        for c in wb["Fylket"]["A"]:  # the scorecard row, not the KOSTRA table further down
            if c.row > 4:
                rows.setdefault(c.value, c.row)
    finally:
        wb.close()
    values = recalculated["Fylket"]
    stfk = load_example_definition("stfk")
    checked = 0
    for rec in demo.county.to_dict("records"):
        row = rows[rec["indicator"]]
        # Fylket says why a county value has no colour ("Ikke aggregert", "Uten fylkesmål").
        status = Status(rec["status"])
        shown = county_status_labels(stfk.indicator(rec["indicator"]), "nb")
        expected = shown.get(status) or status_label(status, "nb")
        assert values[f"M{row}"] == expected, rec["indicator"]
        score = rec["score"]
        if score is None or (isinstance(score, float) and math.isnan(score)):
            assert values.get(f"N{row}") in (None, ""), rec["indicator"]
        else:
            assert values[f"N{row}"] == pytest.approx(score, abs=1e-9), rec["indicator"]
        checked += 1
    assert checked == 31
    # Not a trivial pass: the demo has colours, misses and not-applicables.
    statuses = set(demo.county["status"])
    assert {"green", "yellow", "missing"} <= statuses


def _colour_checks(master: Path, out: Path) -> dict[str, tuple[int, int]]:
    """A copy of the master where each Enheter value cell has a formula naming its CF colour."""
    wb = openpyxl.load_workbook(master)
    ws = wb["Enheter"]
    labels = {status_label(s, "nb"): str(s) for s in Status}
    rules: dict[str, dict[str, str]] = {}
    for cf in ws.conditional_formatting:
        # One element may list several ranges; its formula is relative to the top-left cell
        # of the whole list (as Excel, LibreOffice and Apache POI read it).
        bounds = [range_boundaries(r.coord) for r in cf.sqref.ranges]
        top, left = min(b[1] for b in bounds), min(b[0] for b in bounds)
        origin = f"{get_column_letter(left)}{top}"
        for min_col, min_row, max_col, max_row in bounds:
            for rule in cf.rules:
                condition = rule.formula[0]  # <status formula>="<label>"
                status = labels[condition.rpartition("=")[2].strip('"')]
                for r in range(min_row, max_row + 1):
                    for c in range(min_col, max_col + 1):
                        ref = f"{get_column_letter(c)}{r}"
                        moved = Translator("=" + condition, origin=origin).translate_formula(ref)
                        rules.setdefault(ref, {})[status] = moved[1:]
    where: dict[str, tuple[int, int]] = {}
    for ref, by_status in rules.items():
        formula = '"none"'
        for status, expression in by_status.items():
            formula = f'IF({expression},"{status}",{formula})'
        cell = ws[ref]
        target = ws.cell(row=cell.row, column=cell.column + CHECK_OFFSET)
        target.value = "=" + formula
        where[ref] = (cell.row, cell.column + CHECK_OFFSET)
    wb.save(out)
    wb.close()
    return where


def test_the_unit_matrix_colours_agree_with_the_data_sheet(
    demo: ConsolidationResult, tmp_path: Path
) -> None:
    copy = tmp_path / "colours.xlsx"
    where = _colour_checks(demo.master, copy)
    values = recalculated_values(copy, tmp_path / "lo")["Enheter"]
    wb = openpyxl.load_workbook(demo.master)
    try:
        ws = wb["Enheter"]
        codes = {c.column: c.value for c in ws[5] if c.column > 3}
        units = {c.row: c.value for c in ws["A"] if c.row > 7}
    finally:
        wb.close()
    expected = {
        (r["unit"], r["indicator"]): r["status"]
        for r in demo.long.to_dict("records")
        if r["unit"] is not None
    }
    colours = {"green", "yellow", "red", "invalid"}
    seen: dict[str, int] = {}
    for ref, (row, col) in where.items():
        cell_row, cell_col = row, col - CHECK_OFFSET
        status = expected[(units[cell_row], codes[cell_col])]
        shown = values[f"{get_column_letter(col)}{row}"]
        assert shown == (status if status in colours else "none"), (ref, status)
        seen[shown] = seen.get(shown, 0) + 1
    # Every in-scope value cell has rules, and the demo shows every colour.
    assert len(where) == len(expected)
    assert {"green", "yellow", "red", "none"} <= set(seen)


def test_libreoffice_reads_multi_range_colours_from_their_first_cell(
    demo: ConsolidationResult, tmp_path: Path
) -> None:
    """Enheter lists many ranges per rule; LibreOffice must anchor the formula where we do.

    Re-saved by LibreOffice, each conditional format that spans several ranges comes back
    with the same formula (relative to the top-left of the first range); read another way,
    LibreOffice would rewrite the references.
    """

    def rules(path: Path) -> dict[str, list[str]]:
        wb = openpyxl.load_workbook(path)
        try:
            found: dict[str, list[str]] = {}
            for cf in wb["Enheter"].conditional_formatting:
                found.setdefault(str(cf.sqref), []).extend(r.formula[0] for r in cf.rules)
            return {k: sorted(v) for k, v in found.items()}
        finally:
            wb.close()

    ours = {k: v for k, v in rules(demo.master).items() if " " in k}
    assert ours, "the demo should have rules over several ranges"
    theirs = rules(recalculate(demo.master, tmp_path / "lo"))
    for sqref, formulas in ours.items():
        assert [f.replace(" ", "") for f in theirs[sqref]] == [
            f.replace(" ", "") for f in formulas
        ], sqref


def test_the_overview_renders(demo: ConsolidationResult, tmp_path: Path) -> None:
    pages = render_png(demo.master, tmp_path / "png", dpi=110)
    assert pages, "LibreOffice rendered no pages"
    first = pages[0]
    assert first.stat().st_size > 50_000  # a page of coloured status cells, not blank
    if os.environ.get("BMS_UPDATE_DOCS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(first, DOCS / "oversikt.png")
