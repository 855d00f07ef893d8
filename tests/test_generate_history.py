"""``bms generate`` shows the last periods' results from the project's history database."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner
from history_helpers import import_history_csv

from bms_excel.cli import main
from bms_excel.examples import example_dir
from bms_excel.history import open_history
from bms_excel.layout import build_layout
from bms_excel.project import init_project


def test_history_columns_come_from_the_database(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    with open_history(project.history_path) as db:
        import_history_csv(db, Path(str(example_dir("stfk"))) / "history.csv")
    result = CliRunner().invoke(
        main, ["--project", str(project.root), "generate", "--units", "HEIMDAL", "--json"]
    )
    assert result.exit_code == 0, result.output
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit("HEIMDAL"), "2026-T2")
    assert layout.scorecard.history_periods == ("2025-T2", "2025", "2026-T1")
    ws = openpyxl.load_workbook(project.generated_dir / "2026-T2" / "2026-T2_HEIMDAL.xlsx")[
        layout.sheets.scorecard
    ]
    # The example history (history.csv) for HEIMDAL, R1.1: 2025-T2 = 2, 2025 = 1.8, 2026-T1 = 2.2.
    rows = {
        (r["period"], r["indicator"]): r["value"]
        for r in _csv_rows(Path(str(example_dir("stfk"))) / "history.csv")
        if r["unit"] == "HEIMDAL"
    }
    for code in ("R1.1", "P1.1"):
        cells = layout.indicator(code)
        shown = [ws[ref].value for ref in cells.history_refs]
        expected = [rows.get((p, code), "") for p in layout.scorecard.history_periods]
        assert [_plain(v) for v in shown] == [_plain(v) for v in expected], code


def test_without_a_database_the_columns_are_empty(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    result = CliRunner().invoke(
        main, ["--project", str(project.root), "generate", "--units", "HEIMDAL", "--json"]
    )
    assert result.exit_code == 0, result.output
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit("HEIMDAL"), "2026-T2")
    ws = openpyxl.load_workbook(project.generated_dir / "2026-T2" / "2026-T2_HEIMDAL.xlsx")[
        layout.sheets.scorecard
    ]
    assert [ws[r].value for r in layout.indicator("R1.1").history_refs] == [None, None, None]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _plain(value: object) -> str:
    if value is None or value == "":
        return ""
    try:
        return repr(float(str(value)))
    except ValueError:
        return str(value)
