"""The master's «Ta med i rapport» column: written, read by ``bms report``, kept by a re-run."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import openpyxl
import pytest
from click.testing import CliRunner
from ooxml_check import assert_clean

from bms_excel.cli import main
from bms_excel.demo import run_demo
from bms_excel.i18n import t
from bms_excel.project import Project, find_project
from bms_excel.report.selection import carried_marks, read_selection

PERIOD = "2026-T2"
SHEETS = ("Kommentarer", "Vurderinger")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Project:
    out = tmp_path_factory.mktemp("selection") / "demo"
    run_demo(out)
    return find_project(explicit=out)


def master_path(demo: Project) -> Path:
    return demo.reports_dir / f"bms_STFK_{PERIOD}.xlsx"


def include_column(ws: openpyxl.worksheet.worksheet.Worksheet) -> int:
    """The column headed «Ta med i rapport» in row 3 (it is the last one)."""
    headers = [c.value for c in ws[3]]
    assert headers[-1] == "Ta med i rapport"
    return len(headers)


def report_comments(demo: Project, out: Path) -> list[str]:
    """The comment texts in the HTML report's comments table (last column)."""
    result = CliRunner().invoke(
        main, ["--project", str(demo.root), "report", "--format", "html", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = lxml.html.parse(str(out / f"rapport_STFK_{PERIOD}.html"))
    caption = t("report.comments.caption")
    (table,) = [tb for tb in doc.iter("table") if tb.findtext("caption") == caption]
    return [row.findall("td")[-1].text_content() for row in table.iter("tr") if row.findall("td")]


def test_the_fresh_master_has_an_empty_unlocked_dropdown_column(demo: Project) -> None:
    wb = openpyxl.load_workbook(master_path(demo))
    for sheet in SHEETS:
        ws = wb[sheet]
        col = include_column(ws)
        letter = openpyxl.utils.get_column_letter(col)
        assert ws.max_row >= 5, sheet
        cells = [ws.cell(row=r, column=col) for r in range(4, ws.max_row + 1)]
        assert all(c.value in (None, "") for c in cells), sheet  # all included by default
        assert all(c.protection.locked is False for c in cells), sheet
        lists = [
            dv
            for dv in ws.data_validations.dataValidation
            if dv.type == "list" and f"{letter}4" in dv.sqref
        ]
        assert [dv.formula1 for dv in lists] == ['"Ja"'], sheet
        assert f"{letter}{ws.max_row + 100}" in lists[0].sqref  # rows added by hand too
    assert read_selection(master_path(demo)).comments is None
    assert len(report_comments(demo, demo.root / "r0")) == len(
        [r for r in wb["Kommentarer"].iter_rows(min_row=4) if r[0].value]
    )


def test_marks_reach_the_report_and_survive_a_new_consolidation(
    demo: Project, tmp_path: Path
) -> None:
    path = master_path(demo)
    wb = openpyxl.load_workbook(path)
    comments, assessments = wb["Kommentarer"], wb["Vurderinger"]
    c_col, a_col = include_column(comments), include_column(assessments)
    comments.cell(row=5, column=c_col, value="Ja")
    comments.cell(row=7, column=c_col, value="x")
    assessments.cell(row=4, column=a_col, value="yes")
    key = {
        (ws.cell(row=r, column=1).value, ws.cell(row=r, column=4).value)
        for ws, r in ((comments, 5), (comments, 7))
    }
    lesson = (assessments.cell(row=4, column=1).value, assessments.cell(row=4, column=4).value)
    texts = [comments.cell(row=r, column=8).value for r in (5, 7)]
    wb.save(path)

    assert sorted(report_comments(demo, tmp_path / "r1")) == sorted(texts)
    selection = read_selection(path)
    assert selection.comments == key and selection.lessons == {lesson}

    result = CliRunner().invoke(main, ["--project", str(demo.root), "consolidate"])
    assert result.exit_code in (0, 1), result.output
    new = openpyxl.load_workbook(path)
    for sheet, marked in (("Kommentarer", key), ("Vurderinger", {lesson})):
        ws = new[sheet]
        col = include_column(ws)
        found = {
            (r[0].value, r[3].value) for r in ws.iter_rows(min_row=4) if r[col - 1].value == "Ja"
        }
        assert found == marked, sheet
    assert read_selection(path).comments == key
    assert sorted(report_comments(demo, tmp_path / "r2")) == sorted(texts)
    assert_clean(path)


def test_no_marks_from_a_missing_broken_or_other_period_master(
    demo: Project, tmp_path: Path
) -> None:
    assert carried_marks(tmp_path / "absent.xlsx", PERIOD).comments is None
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    assert carried_marks(broken, PERIOD).comments is None
    assert broken.read_bytes() == b"PK\x03\x04 not a workbook"  # never modified
    assert carried_marks(master_path(demo), "2026-T1").comments is None
