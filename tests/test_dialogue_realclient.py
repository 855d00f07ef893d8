"""The dialogue's new unit workbooks in LibreOffice: a returned workbook (pre-filled, reason on
Veiledning) and a next-period workbook (carried actions, last period's lessons) recalculate
without error values, and every formula gives the result the generator stored for it."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from realclient import formula_errors, recalculated_values, require_libreoffice
from test_dialogue import LESSONS, T1, T2, make_base, run

from bms_excel.api import generate_project
from bms_excel.layout import build_layout

pytestmark = pytest.mark.libreoffice


def _cached_formula_results(path: Path) -> dict[str, dict[str, object]]:
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    try:
        return {
            ws.title: {
                c.coordinate: cached[ws.title][c.coordinate].value
                for row in ws.iter_rows()
                for c in row
                if c.data_type == "f"
            }
            for ws in formulas.worksheets
        }
    finally:
        formulas.close()
        cached.close()


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_libreoffice()
    project = make_base(tmp_path_factory.mktemp("dialogue-lo"))
    data = json.loads(run(project, "review", "A", "--return", "--reason", "Sjekk", "--json").output)
    returned = Path(data["workbooks"]["A"])
    nxt = generate_project(project, period=T2).out_dir / f"{T2}_A.xlsx"
    return {"returned": returned, "next": nxt}


@pytest.mark.parametrize("which", ["returned", "next"])
def test_recalculates_without_errors_and_as_stored(
    books: dict[str, Path], which: str, tmp_path: Path
) -> None:
    path = books[which]
    values = recalculated_values(path, tmp_path)
    assert formula_errors(values) == []
    stored = _cached_formula_results(path)
    assert sum(len(cells) for cells in stored.values()) > 10
    differ = [
        f"'{sheet}'!{ref}: stored {want!r}, LibreOffice {values[sheet].get(ref)!r}"
        for sheet, cells in stored.items()
        for ref, want in cells.items()
        if values[sheet].get(ref) != want
    ]
    assert differ == []


def test_next_period_lessons_survive_libreoffice(books: dict[str, Path], tmp_path: Path) -> None:
    from bms_excel.project import load_project

    project = load_project(books["next"].parents[2] / "bms.toml")
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit("A"), T2, "nb")
    values = recalculated_values(books["next"], tmp_path)[layout.sheets.assessment]
    assert {a.area: values.get(a.previous_ref) for a in layout.assessment} == {
        area: learned for area, (_, learned) in LESSONS.items()
    }
    assert T1 in values[f"D{layout.anchors.assessment_header_row}"]
