"""Real client: the definition workbook edited and saved by LibreOffice imports with the edit
and nothing else (issue 18)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import realclient
from ooxml_check import check_workbook
from test_defbook import column_letter, rich_definition, row_of

from bms_excel.defbook.export import write_definition_workbook
from bms_excel.defbook.importer import import_definition
from bms_excel.defbook.layout import FREE_ROWS
from bms_excel.defbook.shape import plain
from bms_excel.model import Definition
from bms_excel.signing import definition_hash


def test_a_workbook_libreoffice_saved_imports_with_the_edit_and_nothing_else(
    tmp_path: Path, stfk: Definition
) -> None:
    realclient.require_libreoffice()
    book = tmp_path / "export" / "malekart.xlsx"
    write_definition_workbook(stfk, book, "nb")
    assert [p for p in check_workbook(book) if p.severity == "error"] == []
    # The edit: a target changed, a sector added in the first free row.
    wb = openpyxl.load_workbook(book)
    ind = wb["Indikatorer"]
    ind[f"{column_letter('indicators', 'target')}{row_of(ind, 'R1.1')}"] = "2,5"
    sectors = wb["Sektorer"]
    free = sectors.max_row - FREE_ROWS + 1
    sectors[f"A{free}"], sectors[f"B{free}"] = "HEL", "Folkehelse"
    edited = tmp_path / "edited" / "malekart.xlsx"
    edited.parent.mkdir()
    wb.save(edited)
    saved = realclient.recalculate(edited, tmp_path / "lo")  # the file LibreOffice wrote
    with zipfile.ZipFile(saved) as zf:
        assert b"LibreOffice" in zf.read("docProps/app.xml")

    result = import_definition(saved)
    assert result.incomplete == []
    assert result.validated is not None
    expected = plain(stfk, defaults=False)
    r11 = expected["focus_areas"][0]["goals"][0]["factors"][0]["indicators"][0]
    assert r11["code"] == "R1.1"
    r11["target"] = "2,5"
    expected["sectors"].append({"code": "HEL", "name": "Folkehelse"})
    want = Definition.model_validate(expected)
    assert definition_hash(result.validated) == definition_hash(want)
    assert definition_hash(result.validated) != definition_hash(stfk)
    # the new sector has no units: bms check's warning, located in the row LibreOffice kept
    empty = [f for f in result.findings if f.code == "empty-sector"]
    assert [(f.sheet, f.cell) for f in empty] == [("Sektorer", f"A{free}")]


def test_issue15_fields_survive_a_libreoffice_save(tmp_path: Path, stfk: Definition) -> None:
    """Yearly targets (a number and a text "72 %"), a yes/no indicator, a county override,
    scope exceptions and the strategies, saved by LibreOffice unedited: the same definition."""
    realclient.require_libreoffice()
    rich = rich_definition(stfk)
    book = tmp_path / "export" / "malekart.xlsx"
    write_definition_workbook(rich, book, "nb")
    saved = realclient.recalculate(book, tmp_path / "lo")
    with zipfile.ZipFile(saved) as zf:
        assert b"LibreOffice" in zf.read("docProps/app.xml")
    result = import_definition(saved)
    assert result.incomplete == []
    assert result.validated is not None
    assert definition_hash(result.validated) == definition_hash(rich)
