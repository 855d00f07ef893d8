"""The definition as a workbook (issue 18): export, import located to sheet!cell, round trip."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from helpers import load_definition_text
from ooxml_check import check_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.api import import_definition_file
from bms_excel.checks import check_definition_file
from bms_excel.cli import main
from bms_excel.defbook.export import write_definition_workbook
from bms_excel.defbook.importer import import_definition
from bms_excel.defbook.layout import COUNTY_ROWS, FREE_ROWS, LIST_SHEETS, SHEETS_BY_KEY
from bms_excel.defbook.shape import definition_yaml, plain
from bms_excel.definition import load_definition
from bms_excel.examples import EXAMPLES, example_definition_path, load_example_definition
from bms_excel.model import Definition
from bms_excel.project import init_project, load_project
from bms_excel.signing import definition_hash


def _export(defn: Definition, folder: Path, name: str = "malekart.xlsx") -> Path:
    path = folder / name
    write_definition_workbook(defn, path, defn.settings.language)
    return path


def column_letter(sheet_key: str, column_key: str) -> str:
    """The column of ``column_key`` on a list sheet (the layout table's order)."""
    keys = [c.key for c in SHEETS_BY_KEY[sheet_key].columns]
    return openpyxl.utils.get_column_letter(keys.index(column_key) + 1)


def row_of(ws: Worksheet, code: str, column: str = "B") -> int:
    """The row whose ``column`` holds ``code``."""
    for row in range(2, ws.max_row + 1):
        if ws[f"{column}{row}"].value == code:
            return row
    raise AssertionError(f"{code} not on {ws.title}")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_round_trips_with_the_same_hash(tmp_path: Path, name: str) -> None:
    defn = load_example_definition(name)
    book = _export(defn, tmp_path)
    result = import_definition(book)
    assert [f for f in result.findings if f.severity == "error"] == []
    assert result.definition is not None
    assert definition_hash(result.definition) == definition_hash(defn)
    # … and the YAML written from it loads to the same definition again.
    again = load_definition_text(result.yaml_text())
    assert definition_hash(again) == definition_hash(defn)
    # bms check on the workbook finds what it finds on the YAML (none for the examples)
    codes = [f.code for f in check_definition_file(book)]
    yaml_path = Path(str(example_definition_path(name)))
    assert codes == [f.code for f in check_definition_file(yaml_path)]


def test_export_passes_the_ooxml_schema_and_excel_limits(tmp_path: Path, stfk: Definition) -> None:
    book = _export(stfk, tmp_path)
    problems = [p for p in check_workbook(book) if p.severity == "error"]
    assert problems == []


def test_sheets_are_tables_with_locked_headers_messages_and_dropdowns(
    tmp_path: Path, stfk: Definition
) -> None:
    wb = openpyxl.load_workbook(_export(stfk, tmp_path))
    assert wb.sheetnames == [
        "Målekart", "Fylke og innstillinger", "Sektorer", "Enheter", "Fokusområder",
        "Fokusmål", "Suksessfaktorer", "Indikatorer", "Årsmål", "Avvikende mål", "Koblinger",
            "Perioder",
    ]  # fmt: skip
    indicators = sum(1 for _ in stfk.iter_indicators())
    for spec in LIST_SHEETS:
        ws = wb[spec.name("nb")]
        assert ws.protection.sheet, spec.key
        assert list(ws.tables) == [spec.table_name]
        table = ws.tables[spec.table_name]
        assert table.ref.startswith("A1:")
        headers = [ws.cell(1, c + 1).value for c in range(len(spec.columns))]
        assert headers == [c.header("nb") for c in spec.columns]
        assert all(ws.cell(1, c + 1).protection.locked for c in range(len(spec.columns)))
        last = ws.max_row
        assert not ws.cell(last, 1).protection.locked  # a free row to add to
        prompts = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
        for c, column in enumerate(spec.columns, 1):
            dv = prompts[f"{openpyxl.utils.get_column_letter(c)}2"]
            assert dv.showInputMessage and dv.prompt, (spec.key, column.key)
            if column.choices:
                assert dv.type == "list"
                assert dv.formula1 == '"' + ",".join(column.choices) + '"'
    ind = wb["Indikatorer"]
    assert ind.max_row == 1 + indicators + FREE_ROWS
    assert wb["Enheter"]["I1"].value == "elever"  # the weight attributes follow the contacts
    county = wb["Fylke og innstillinger"]
    assert [county.cell(r, 3).value for r in range(2, 2 + len(COUNTY_ROWS))] == [
        ".".join(c.field) for c in COUNTY_ROWS
    ]


def test_the_overview_is_the_hierarchy_ready_to_print(tmp_path: Path, stfk: Definition) -> None:
    ws = openpyxl.load_workbook(_export(stfk, tmp_path))["Målekart"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == "$1:$2"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    sizes = {c.font.sz for row in ws.iter_rows() for c in row if c.value is not None}
    assert min(sizes) >= 8
    # focus area (A) → goal (B) → factor (C) → indicator (D) with target (E) and owner (F)
    rows = [[c.value for c in row[:6]] for row in ws.iter_rows(min_row=3)]
    area, goal = stfk.focus_areas[0], stfk.focus_areas[0].goals[0]
    factor, ind = goal.factors[0], goal.factors[0].indicators[0]
    assert [rows[i][i] for i in range(4)] == [
        f"{area.code} {area.name}",
        f"{goal.code} {goal.name}",
        f"{factor.code} {factor.name}",
        f"{ind.code} {ind.name}",
    ]
    r11 = next(r for r in rows if r[3] and str(r[3]).startswith("R1.1 "))
    assert r11[4:] == ["1,5", "Rektor"]
    assert sum(1 for r in rows if r[3]) == sum(1 for _ in stfk.iter_indicators())


def _broken_book(tmp_path: Path, stfk: Definition) -> Path:
    book = _export(stfk, tmp_path)
    wb = openpyxl.load_workbook(book)
    ind = wb["Indikatorer"]
    ind[f"{column_letter('indicators', 'target')}{row_of(ind, 'R1.1')}"] = 500
    ind[f"{column_letter('indicators', 'direction')}{row_of(ind, 'R1.2')}"] = "up"
    goals = wb["Fokusmål"]
    goals[f"{column_letter('goals', 'weight')}{row_of(goals, 'RM1')}"] = "tung"
    free = goals.max_row - FREE_ROWS + 1
    goals[f"A{free}"], goals[f"B{free}"], goals[f"C{free}"] = "XX", "XX1", "Nytt mål"
    units = wb["Enheter"]
    units[f"{column_letter('units', 'contact-email')}{row_of(units, 'BYASEN', 'A')}"] = "nei"
    wb.save(book)
    return book


def test_every_problem_is_located_to_sheet_and_cell_at_once(
    tmp_path: Path, stfk: Definition
) -> None:
    book = _broken_book(tmp_path, stfk)
    wb = openpyxl.load_workbook(book)
    result = import_definition(book)
    got = {(f.code, f.sheet, f.cell) for f in result.findings if f.severity == "error"}
    ind, goals, units = wb["Indikatorer"], wb["Fokusmål"], wb["Enheter"]
    assert got == {
        (
            "target-out-of-range",
            "Indikatorer",
            f"{column_letter('indicators', 'target')}{row_of(ind, 'R1.1')}",
        ),
        (
            "invalid-value",
            "Indikatorer",
            f"{column_letter('indicators', 'direction')}{row_of(ind, 'R1.2')}",
        ),
        ("not-a-number", "Fokusmål", f"{column_letter('goals', 'weight')}{row_of(goals, 'RM1')}"),
        ("unknown-reference", "Fokusmål", f"A{goals.max_row - FREE_ROWS + 1}"),
        (
            "invalid-format",
            "Enheter",
            f"{column_letter('units', 'contact-email')}{row_of(units, 'BYASEN', 'A')}",
        ),
    }
    assert all(f.line is None and f.file == str(book) for f in result.findings)
    line = next(f for f in result.findings if f.code == "target-out-of-range").format_line()
    assert line.startswith(f"{book}: 'Indikatorer'!{column_letter('indicators', 'target')}")
    out = tmp_path / "definition.yaml"
    assert import_definition_file(book, out=out).definition is None
    assert not out.exists()  # nothing is written when there are errors


def test_cli_export_then_import_writes_an_equal_definition(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="nynorsk")
    runner = CliRunner()
    book = tmp_path / "kart.xlsx"
    res = runner.invoke(
        main, ["--project", str(project.root), "definition", "export", "--out", str(book)]
    )
    assert res.exit_code == 0, res.output
    assert openpyxl.load_workbook(book).sheetnames[0] == "Målekart"  # the project's nynorsk
    assert openpyxl.load_workbook(book).sheetnames[4] == "Fokusområde"
    out = tmp_path / "ny.yaml"
    res = runner.invoke(main, ["definition", "import", str(book), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert definition_hash(load_definition(out)) == definition_hash(project.load_definition())
    assert (
        runner.invoke(main, ["definition", "import", str(book), "--out", str(out)]).exit_code == 2
    )
    assert "#" in out.read_text(encoding="utf-8").splitlines()[0]
    res = runner.invoke(main, ["--project", str(project.root), "definition", "export"])
    assert res.exit_code == 0, res.output
    assert (project.reports_dir / "malekart.xlsx").is_file()  # the default place


def test_cli_import_with_errors_exits_1_and_writes_nothing(
    tmp_path: Path, stfk: Definition
) -> None:
    book = _broken_book(tmp_path, stfk)
    out = tmp_path / "ut.yaml"
    res = CliRunner().invoke(main, ["definition", "import", str(book), "--out", str(out)])
    assert res.exit_code == 1
    assert "'Indikatorer'!" in res.output and "[target-out-of-range]" in res.output
    assert not out.exists()


def test_check_init_and_generate_accept_the_workbook(tmp_path: Path, stfk: Definition) -> None:
    book = _export(stfk, tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["check", str(book)])
    assert res.exit_code == 0, res.output
    (tmp_path / "b").mkdir()
    broken = _broken_book(tmp_path / "b", stfk)
    res = runner.invoke(main, ["check", str(broken)])
    assert res.exit_code == 1 and f"{broken}: 'Fokusmål'!" in res.output
    # bms init --definition BOOK.xlsx: the project gets the YAML of the workbook
    res = runner.invoke(main, ["init", str(tmp_path / "p"), "--definition", str(book)])
    assert res.exit_code == 0, res.output
    project = load_project(tmp_path / "p" / "bms.toml")
    assert definition_hash(project.load_definition()) == definition_hash(stfk)
    # a project whose definition is the workbook itself: generate reads it
    shutil.copy(book, tmp_path / "p" / "malekart.xlsx")
    config = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(
        config.replace('definition = "definition.yaml"', 'definition = "malekart.xlsx"'),
        encoding="utf-8",
    )
    res = runner.invoke(
        main,
        ["--project", str(tmp_path / "p"), "generate", "--units", "HEIMDAL", "--period", "2026-T1"],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "utsendt" / "2026-T1" / "2026-T1_HEIMDAL.xlsx").is_file()
    # … and a broken workbook stops generate with its located errors (exit 2)
    shutil.copy(broken, tmp_path / "p" / "malekart.xlsx")
    res = runner.invoke(main, ["--project", str(tmp_path / "p"), "generate", "--period", "2026-T1"])
    assert res.exit_code == 2
    assert "'Indikatorer'!" in res.output


def test_yaml_comments_are_not_kept_and_the_yaml_says_so(stfk: Definition) -> None:
    text = definition_yaml(stfk, "linje én\nlinje to")
    assert text.startswith("# linje én\n# linje to\nversion: 1\n")
    assert definition_hash(load_definition_text(text)) == definition_hash(stfk)


def test_check_json_gives_sheet_and_cell_for_the_workbook(tmp_path: Path, stfk: Definition) -> None:
    import json

    book = _broken_book(tmp_path, stfk)
    res = CliRunner().invoke(main, ["check", "--json", str(book)])
    assert res.exit_code == 1
    found = json.loads(res.output)["findings"]
    goals = openpyxl.load_workbook(book)["Fokusmål"]
    weight = f"{column_letter('goals', 'weight')}{row_of(goals, 'RM1')}"
    assert {"code": "not-a-number", "sheet": "Fokusmål", "cell": weight} in [
        {k: f[k] for k in ("code", "sheet", "cell")} for f in found
    ]
    assert all(f["line"] is None for f in found)


def _errors(book: Path) -> set[tuple[str, str | None, str | None]]:
    return {
        (f.code, f.sheet, f.cell) for f in import_definition(book).findings if f.severity == "error"
    }


def _edit(book: Path, edit: Callable[[openpyxl.Workbook], None]) -> Path:
    wb = openpyxl.load_workbook(book)
    edit(wb)
    wb.save(book)
    return book


def test_a_missing_name_points_at_the_empty_cell(tmp_path: Path, stfk: Definition) -> None:
    def clear(wb: openpyxl.Workbook) -> None:
        wb["Sektorer"]["B2"] = None

    assert _errors(_edit(_export(stfk, tmp_path), clear)) == {("missing-field", "Sektorer", "B2")}


def test_a_target_and_a_band_both_filled_in_is_a_conflict(tmp_path: Path, stfk: Definition) -> None:
    low = column_letter("indicators", "target-low")

    def both(wb: openpyxl.Workbook) -> None:
        ws = wb["Indikatorer"]
        ws[f"{low}{row_of(ws, 'R1.1')}"] = 1

    book = _edit(_export(stfk, tmp_path), both)
    row = row_of(openpyxl.load_workbook(book)["Indikatorer"], "R1.1")
    assert _errors(book) == {("invalid-value", "Indikatorer", f"{low}{row}")}


def test_values_without_a_header_and_unknown_columns_are_reported(
    tmp_path: Path, stfk: Definition
) -> None:
    def stray(wb: openpyxl.Workbook) -> None:
        wb["Sektorer"]["D3"] = "notat"
        wb["Koblinger"]["E1"] = "Ansvarlig"

    assert _errors(_edit(_export(stfk, tmp_path), stray)) == {
        ("unknown-field", "Sektorer", "D3"),
        ("unknown-field", "Koblinger", "E1"),
    }


def test_a_missing_sheet_is_reported(tmp_path: Path, stfk: Definition) -> None:
    def drop(wb: openpyxl.Workbook) -> None:
        del wb["Koblinger"]

    assert ("missing-sheet", "Koblinger", None) in _errors(_edit(_export(stfk, tmp_path), drop))


def test_a_period_code_typed_as_a_number_reads_as_the_same_code(
    tmp_path: Path, stfk: Definition
) -> None:
    def numbers(wb: openpyxl.Workbook) -> None:
        periods = wb["Perioder"]
        row = row_of(periods, "2026", "A")
        periods[f"A{row}"] = 2026  # Excel makes a typed 2026 a number

    result = import_definition(_edit(_export(stfk, tmp_path), numbers))
    assert result.definition is not None
    assert definition_hash(result.definition) == definition_hash(stfk)


# -- the fields of issue 15 -------------------------------------------------------------------


@pytest.fixture
def rich(stfk: Definition) -> Definition:
    """stfk with every field of issue 15 set (:func:`rich_definition`)."""
    return rich_definition(stfk)


def rich_definition(stfk: Definition) -> Definition:
    """stfk with every field of issue 15 set: a yes/no indicator, yearly targets (a number,
    a text and a band), a scope with exceptions, a county override, a vision."""
    data = plain(stfk, defaults=False)
    indicators = [
        i for a in data["focus_areas"] for g in a["goals"] for f in g["factors"]
        for i in f["indicators"]
    ]  # fmt: skip
    first, second = indicators[0], indicators[1]
    first["targets"] = {2026: 70, 2027: "72 %", 2028: {"low": 5, "high": 7}}
    first["scope"] = {"sectors": ["OPP"], "except": ["STRINDA", "BYASEN"]}
    for key in ("target", "thresholds", "status_rule"):
        second.pop(key, None)
    second.update(kind="yes_no", wanted="no", county_target=3)
    second["county_thresholds"] = {"green": 3, "yellow": 2}
    second["overrides"] = [{"county": True, "period": "2026", "target": 4}]
    data["vision"] = {"text": "Gode tjenester", "strategies": ["Samarbeid, tillit", "Digitalt"]}
    return Definition.model_validate(data)


def test_issue15_fields_round_trip_and_sit_where_a_controller_edits_them(
    tmp_path: Path, rich: Definition
) -> None:
    book = _export(rich, tmp_path)
    result = import_definition(book)
    assert [f for f in result.findings if f.severity == "error"] == []
    assert result.definition is not None
    assert definition_hash(result.definition) == definition_hash(rich)
    assert definition_hash(load_definition_text(result.yaml_text())) == definition_hash(rich)
    wb = openpyxl.load_workbook(book)
    yearly = [tuple(r) for r in wb["Årsmål"].iter_rows(min_row=2, max_col=5, values_only=True)]
    assert yearly[:3] == [
        ("R1.1", 2026, 70, None, None),
        ("R1.1", 2027, "72 %", None, None),
        ("R1.1", 2028, None, 5, 7),
    ]
    ind = wb["Indikatorer"]
    col = {k: column_letter("indicators", k) for k in ("indicator-kind", "wanted", "scope-except")}
    assert ind[f"{col['scope-except']}{row_of(ind, 'R1.1')}"].value == "STRINDA, BYASEN"
    r2 = row_of(ind, "R1.2")
    assert (ind[f"{col['indicator-kind']}{r2}"].value, ind[f"{col['wanted']}{r2}"].value) == (
        "yes_no",
        "no",
    )
    over = wb["Avvikende mål"]
    county = column_letter("overrides", "override-county")
    assert over[f"{county}{row_of(over, 'R1.2', 'A')}"].value == "yes"
    fylke = {r[2]: r[1] for r in wb["Fylke og innstillinger"].iter_rows(values_only=True)}
    assert fylke["vision.text"] == "Gode tjenester"
    strategies = [
        r[1] for r in wb["Fylke og innstillinger"].iter_rows(values_only=True)
        if r[2] == "vision.strategies"
    ]  # fmt: skip
    assert strategies == ["Samarbeid, tillit", "Digitalt", None, None, None]


def test_a_strategy_written_in_a_free_row_is_read(tmp_path: Path, rich: Definition) -> None:
    def add(wb: openpyxl.Workbook) -> None:
        ws = wb["Fylke og innstillinger"]
        row = next(r for r in range(2, ws.max_row + 1) if ws[f"C{r}"].value == "vision.strategies"
                   and ws[f"B{r}"].value is None)  # fmt: skip
        ws[f"B{row}"] = "Grønt skifte"

    result = import_definition(_edit(_export(rich, tmp_path), add))
    assert result.definition is not None and result.definition.vision is not None
    assert result.definition.vision.strategies == ("Samarbeid, tillit", "Digitalt", "Grønt skifte")


def test_bad_yearly_targets_are_located_on_the_yearly_sheet(
    tmp_path: Path, rich: Definition
) -> None:
    def spoil(wb: openpyxl.Workbook) -> None:
        ws = wb["Årsmål"]
        ws["B3"] = "neste år"  # not a year
        ws["B4"] = 2026  # the same year twice for R1.1
        ws["A5"], ws["B5"], ws["C5"] = "R1.2", 2027, "mye"  # not a target
        ws["A6"], ws["C6"] = "R1.1", 80  # no year

    book = _edit(_export(rich, tmp_path), spoil)
    assert _errors(book) == {
        ("invalid-value", "Årsmål", "B3"),
        ("duplicate-key", "Årsmål", "B4"),
        ("invalid-value", "Årsmål", "C5"),
        ("missing-field", "Årsmål", "B6"),
    }


def test_bad_issue15_values_are_located_at_their_cells(tmp_path: Path, rich: Definition) -> None:
    kind = column_letter("indicators", "indicator-kind")
    wanted = column_letter("indicators", "wanted")
    scope = column_letter("indicators", "scope")
    county = column_letter("overrides", "override-county")

    def spoil(wb: openpyxl.Workbook) -> None:
        ind = wb["Indikatorer"]
        ind[f"{kind}{row_of(ind, 'R2.1')}"] = "ja_nei"
        ind[f"{wanted}{row_of(ind, 'R1.2')}"] = "kanskje"
        ind[f"{scope}{row_of(ind, 'R1.1')}"] = "county"  # county with exceptions
        over = wb["Avvikende mål"]
        over[f"{county}{row_of(over, 'R1.2', 'A')}"] = "tja"

    book = _edit(_export(rich, tmp_path), spoil)
    wb = openpyxl.load_workbook(book)
    ind, over = wb["Indikatorer"], wb["Avvikende mål"]
    assert {(sheet, cell) for code, sheet, cell in _errors(book) if code == "invalid-value"} == {
        ("Indikatorer", f"{kind}{row_of(ind, 'R2.1')}"),
        ("Indikatorer", f"{wanted}{row_of(ind, 'R1.2')}"),
        ("Indikatorer", f"{scope}{row_of(ind, 'R1.1')}"),
        ("Avvikende mål", f"{county}{row_of(over, 'R1.2', 'A')}"),
    }
