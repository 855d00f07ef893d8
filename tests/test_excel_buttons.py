"""The Excel buttons, driven on Linux through xlwings' JSON engine (``xw.Book(json=...)``).

Payloads are shaped as Excel's VBA client (``xlwings/addin/Remote.bas``) and the Office.js
client send them: every worksheet, hidden ones included, with its values from A1 to the end
of the used range ('' for empty cells, dates as ISO strings), and the workbook's defined names.
The adapters then run exactly as the button runs them (``Book.caller()`` via
``set_mock_caller``) or as xlwings Lite/Server does (the book passed in), and the tests read
the actions xlwings would send back to Excel.

The remote engine is xlwings PRO code: the licence key ``noncommercial`` (PolyForm
Noncommercial 1.0.0, which permits use by government institutions) is set here only.
"""

from __future__ import annotations

import builtins
import datetime as dt
import importlib
import json
import random
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from bms_excel.cli import main as cli_main
from bms_excel.collect import collect_submissions
from bms_excel.control_workbook import NAMES, build_control_workbook, output_sheet_names
from bms_excel.errors import ConfigError
from bms_excel.generate import generate_workbooks
from bms_excel.i18n import t
from bms_excel.layout import build_layout
from bms_excel.project import Project, init_project
from bms_excel.simulate import fill_workbook, person_entry
from bms_excel.validate import parse_a1

xw = pytest.importorskip("xlwings")


@pytest.fixture(autouse=True)
def _licence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    if not xw.__pro__:  # xlwings registers its remote engine at import, given a key
        monkeypatch.delitem(sys.modules, "xlwings", raising=False)
        for name in [m for m in sys.modules if m.startswith("xlwings.")]:
            monkeypatch.delitem(sys.modules, name)
        fresh = importlib.import_module("xlwings")
        import bms_excel.excel_buttons as eb

        monkeypatch.setattr(eb, "xw", fresh)
        monkeypatch.setattr(sys.modules[__name__], "xw", fresh)


# -- payloads as Excel sends them --------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()).isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, str) and value.startswith("="):
        return 0  # a formula: Excel sends its cached result (not computed here)
    return value


def payload(path: Path, client: str = "VBA", notes: bool = False) -> dict[str, Any]:
    """What Excel's xlwings client sends for the workbook at ``path``."""
    wb = openpyxl.load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        values = [
            [_cell(c.value) for c in row] for row in ws.iter_rows(1, ws.max_row, 1, ws.max_column)
        ]
        sheet: dict[str, Any] = {"name": ws.title, "pictures": [], "tables": [], "values": values}
        if notes:
            sheet["notes"] = []
        sheets.append(sheet)
    names = []
    for name, dn in wb.defined_names.items():
        for title, ref in dn.destinations:
            index = wb.sheetnames.index(title)
            names.append(
                {
                    "name": name,
                    "sheet_index": index,
                    "address": ref.replace("$", ""),
                    "book_scope": True,
                    "scope_sheet_name": None,
                    "scope_sheet_index": None,
                }
            )
    return {
        "client": client,
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": names,
        "sheets": sheets,
    }


def put(data: dict[str, Any], sheet: str, ref: str, value: Any) -> None:
    """Type ``value`` into ``sheet!ref`` of the payload (an unsaved edit in Excel)."""
    row, col = parse_a1(ref)
    values = next(s for s in data["sheets"] if s["name"] == sheet)["values"]
    while len(values) < row:
        values.append([""] * len(values[0]))
    for r in values:
        r.extend([""] * (col - len(r)))
    values[row - 1][col - 1] = value


def replay(data: dict[str, Any], actions: list[dict[str, Any]]) -> None:
    """Apply the value and note actions to the payload, as Excel would before the next run."""
    for a in actions:
        sheet = data["sheets"][a["sheet_position"]] if a["sheet_position"] is not None else None
        if a["func"] == "setValues":
            for i, row in enumerate(a["values"]):
                for j, v in enumerate(row):
                    put(data, sheet["name"], _a1(a["start_row"] + i, a["start_column"] + j), v)
        elif a["func"] == "rangeClearContents":
            for i in range(a["row_count"]):
                for j in range(a["column_count"]):
                    r, c = a["start_row"] + i, a["start_column"] + j
                    if r < len(sheet["values"]) and c < len(sheet["values"][r]):
                        sheet["values"][r][c] = ""
        elif a["func"] == "addNote":
            sheet["notes"].append({"address": a["args"][0]})
        elif a["func"] == "deleteNote":
            sheet["notes"] = [n for n in sheet["notes"] if n["address"] != a["args"][0]]


def _a1(row0: int, col0: int) -> str:
    from bms_excel.layout import column_letter

    return f"{column_letter(col0 + 1)}{row0 + 1}"


def at(action: dict[str, Any]) -> tuple[int, str]:
    """(sheet position, A1 of the top-left cell) of an action."""
    return action["sheet_position"], _a1(action["start_row"], action["start_column"])


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return init_project(tmp_path / "fylket", example="stfk")


@pytest.fixture
def unit_book(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A filled unit workbook on disk, its layout, and the project found through BMS_PROJECT."""
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    unit = definition.units[0]
    result = generate_workbooks(
        definition, period, out_dir=tmp_path / "ut", secret=project.secret, units=[unit.code]
    )
    layout = build_layout(definition, unit, period, "nb")
    entry = person_entry(definition, unit, period, layout, {}, random.Random(7))
    filled = tmp_path / result.files[0].name
    fill_workbook(result.files[0], filled, layout, entry)
    monkeypatch.setenv("BMS_PROJECT", str(project.root))
    return filled, layout


def _first_input(layout: Any) -> Any:
    return next(c for c in layout.scorecard.indicators if c.input)


# -- validate ----------------------------------------------------------------------------------


def test_validate_marks_the_unsaved_bad_value_and_lists_it_on_kontroll(unit_book) -> None:
    path, layout = unit_book
    data = payload(path, client="Office.js", notes=True)
    cells = _first_input(layout)
    put(data, layout.sheets.scorecard, cells.result_ref, "mye")  # typed, not saved
    book = xw.Book(json=data)
    book.set_mock_caller()  # what RunPython gives Book.caller()

    from bms_excel import excel_buttons

    excel_buttons.validate()
    actions = book.json()["actions"]
    scorecard = [s.name for s in book.sheets].index(layout.sheets.scorecard)
    colours = [(at(a), a["args"][0]) for a in actions if a["func"] == "setRangeColor"]
    assert colours == [((scorecard, cells.result_ref), "#FFC7CE")]
    notes = [a["args"] for a in actions if a["func"] == "addNote"]
    assert len(notes) == 1 and notes[0][0].replace("$", "") == cells.result_ref
    assert notes[0][1].startswith("feil: ") and "mye" in notes[0][1]
    control = [s.name for s in book.sheets].index(layout.sheets.control)
    written = [a for a in actions if a["func"] == "setValues" and a["sheet_position"] == control]
    assert len(written) == 1
    rows = written[0]["values"]
    assert at(written[0]) == (control, f"A{layout.control.ready.row + 2}")
    assert rows[1][:5] == ["Ark", "Celle", "Alvorlighet", "Melding", "Kode"]
    found = [(r[0], r[1], r[2], r[4]) for r in rows[2:]]
    assert (layout.sheets.scorecard, cells.result_ref, "feil", "not-a-number") in found
    alert = [a for a in actions if a["func"] == "alert"]
    assert len(alert) == 1 and "1 feil" in alert[0]["args"][0]


def test_validate_removes_its_marks_on_the_next_run(unit_book) -> None:
    path, layout = unit_book
    data = payload(path, client="Office.js", notes=True)
    cells = _first_input(layout)
    row, col = parse_a1(cells.result_ref)
    sheet = next(s for s in data["sheets"] if s["name"] == layout.sheets.scorecard)
    typed = sheet["values"][row - 1][col - 1]
    put(data, layout.sheets.scorecard, cells.result_ref, "mye")
    from bms_excel import excel_buttons

    first = xw.Book(json=data)
    excel_buttons.validate(first)  # the xlwings Lite/Server call style
    replay(data, first.json()["actions"])
    put(data, layout.sheets.scorecard, cells.result_ref, typed)  # the person fixes it

    second = xw.Book(json=data)
    excel_buttons.validate(second)
    actions = second.json()["actions"]
    scorecard = [s.name for s in second.sheets].index(layout.sheets.scorecard)
    assert [(at(a), a["args"][0]) for a in actions if a["func"] == "setRangeColor"] == [
        ((scorecard, cells.result_ref), None)
    ]
    deleted = [a["args"][0].replace("$", "") for a in actions if a["func"] == "deleteNote"]
    assert deleted == [cells.result_ref]
    assert not [a for a in actions if a["func"] == "addNote"]
    control = [s.name for s in second.sheets].index(layout.sheets.control)
    cleared = [a for a in actions if a["func"] == "rangeClearContents"]
    assert [at(a) for a in cleared] == [(control, f"A{layout.control.ready.row + 2}")]
    replay(data, actions)
    block = next(s for s in data["sheets"] if s["name"] == layout.sheets.control)["values"]
    listed = {(r[0], r[1]) for r in block[layout.control.ready.row + 3 :] if r and r[0]}
    assert (layout.sheets.scorecard, cells.result_ref) not in listed


def test_validate_from_the_vba_client_highlights_without_notes(unit_book) -> None:
    path, layout = unit_book
    data = payload(path, client="VBA")
    cells = _first_input(layout)
    put(data, layout.sheets.scorecard, cells.result_ref, "-5000000")
    book = xw.Book(json=data)
    book.set_mock_caller()
    from bms_excel import excel_buttons

    excel_buttons.validate()
    actions = book.json()["actions"]
    assert [at(a)[1] for a in actions if a["func"] == "setRangeColor"] == [cells.result_ref]
    assert not [a for a in actions if "Note" in a["func"]]


def test_validate_reports_a_foreign_workbook_in_excel_not_as_a_traceback(
    unit_book, project: Project, tmp_path: Path
) -> None:
    path, layout = unit_book
    data = payload(path)
    meta = next(s for s in data["sheets"] if s["name"] == layout.sheets.meta)
    meta["values"][0][1] = "EN-ANNEN-ENHET"  # tampered unit: the signature breaks
    book = xw.Book(json=data)
    from bms_excel import excel_buttons

    excel_buttons.validate(book)
    actions = book.json()["actions"]
    control = [s.name for s in book.sheets].index(layout.sheets.control)
    rows = next(a for a in actions if a["func"] == "setValues" and a["sheet_position"] == control)
    assert [r[4] for r in rows["values"][2:]] == ["bad-signature"]
    assert not [a for a in actions if a["func"] == "setRangeColor"]


# -- the controller's workbook -----------------------------------------------------------------


@pytest.fixture
def control_book(project: Project, tmp_path: Path) -> dict[str, Any]:
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    built = build_control_workbook(
        tmp_path / "kontroll.xlsx", project_dir=project.root, period=period
    )
    return payload(built.path)


def _sheet_writes(book: Any, key: str) -> list[list[Any]]:
    name = output_sheet_names("nb")[key]
    pos = [s.name for s in book.sheets].index(name)
    writes = [
        a for a in book.json()["actions"] if a["func"] == "setValues" and a["sheet_position"] == pos
    ]
    assert len(writes) == 1 and at(writes[0]) == (pos, "A1")
    return writes[0]["values"]


def test_generate_makes_the_workbooks_for_the_period_in_innstillinger(
    project: Project, control_book: dict[str, Any]
) -> None:
    definition = project.load_definition()
    other = definition.periods[0].code
    put(control_book, "Innstillinger", "B5", other)  # the controller picks a period
    book = xw.Book(json=control_book)
    book.set_mock_caller()
    from bms_excel import excel_buttons

    excel_buttons.generate()
    made = sorted(p.name for p in (project.generated_dir / other).glob("*.xlsx"))
    assert len(made) == len(definition.units)
    actions = book.json()["actions"]
    status = [a for a in actions if a["func"] == "setValues" and at(a) == (0, "B7")]
    assert len(status) == 1 and other in status[0]["values"][0][0]


def test_collect_writes_the_collection_into_the_open_workbook(
    project: Project, control_book: dict[str, Any], unit_book
) -> None:
    path, _ = unit_book
    (project.submissions_dir / path.name).write_bytes(path.read_bytes())
    (project.submissions_dir / "notat.txt").write_text("ikke en arbeidsbok")
    book = xw.Book(json=control_book)
    book.set_mock_caller()
    from bms_excel import excel_buttons

    excel_buttons.collect()
    rows = _sheet_writes(book, "collect")
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    report = collect_submissions(project.submissions_dir, definition, period, project.secret)
    expected = report.to_json()
    start = 4  # title, blank, "Enheter", header
    units = [(r[0], r[2]) for r in rows[start : start + len(expected["units"])]]
    assert units == [(u["code"], t(f"collect.state.{u['state']}")) for u in expected["units"]]
    assert dict(units)[definition.units[0].code] == t("collect.state.received")
    found = [(r[0], r[5]) for r in rows[start + len(expected["units"]) + 3 :]]
    assert found == [(f["file"] or "", f["code"]) for f in expected["findings"]]
    assert (project.reports_dir).glob("*.csv")


def test_consolidate_fills_the_controllers_sheets_with_the_librarys_numbers(
    project: Project, control_book: dict[str, Any], unit_book
) -> None:
    from bms_excel import excel_buttons
    from bms_excel.master import consolidate_project

    path, _ = unit_book
    (project.submissions_dir / path.name).write_bytes(path.read_bytes())
    book = xw.Book(json=control_book)
    book.set_mock_caller()
    excel_buttons.consolidate()
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    # What `bms consolidate` computes for the same project (recording again is idempotent).
    expected = consolidate_project(project, definition, period)
    assert expected.master.is_file()
    frames = {
        "county": expected.county,
        "rollup": expected.rollups,
        "trend": expected.trends,
        "excluded": expected.excluded,
        "data": expected.long,
    }

    def blank(rows: list[list[Any]]) -> list[list[Any]]:
        return [["" if v is None else v for v in row] for row in rows]  # None goes as ''

    for key, frame in frames.items():
        assert blank(_sheet_writes(book, key)) == blank(excel_buttons.frame_rows(frame)), key
    numbers = [r[8] for r in _sheet_writes(book, "county")[1:] if isinstance(r[8], float)]
    assert numbers, "no county value was consolidated: the comparison would prove little"


def test_the_controller_buttons_refuse_a_workbook_without_settings(unit_book) -> None:
    path, _ = unit_book
    book = xw.Book(json=payload(path))
    from bms_excel import excel_buttons

    excel_buttons.collect(book)
    alert = [a for a in book.json()["actions"] if a["func"] == "alert"]
    assert NAMES["project"] in alert[0]["args"][0]


# -- without xlwings ---------------------------------------------------------------------------


def test_without_xlwings_the_package_works_and_the_buttons_say_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_xlwings(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "xlwings" or name.startswith("xlwings."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xlwings)
    monkeypatch.delitem(sys.modules, "bms_excel.excel_buttons", raising=False)
    module = importlib.import_module("bms_excel.excel_buttons")
    try:
        assert module.xw is None
        for entry in (module.validate, module.generate, module.collect, module.consolidate):
            with pytest.raises(ConfigError, match=r'pip install "bms-excel\[xlwings\]"'):
                entry()
        importlib.import_module("bms_excel.cli.control_workbook")
    finally:
        monkeypatch.undo()
        sys.modules.pop("bms_excel.excel_buttons", None)
        importlib.import_module("bms_excel.excel_buttons")


# -- the buttons make what the CLI makes ------------------------------------------------------

#: The period whose "last periods" the example history fills (2025-T2, 2025, 2026-T1).
HISTORY_PERIOD = "2026-T2"
#: ``_meta`` fields that hold the time of generation (and the signature over it).
TIMED_META = frozenset({"generated_at", "signature"})


def put_name(data: dict[str, Any], name: str, value: Any) -> None:
    """Type ``value`` into the cell the defined ``name`` refers to (Innstillinger)."""
    ref = next(n for n in data["names"] if n["name"] == name)
    put(data, data["sheets"][ref["sheet_index"]]["name"], ref["address"], value)


def workbook_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values (hidden sheets included, read with python-calamine), without
    the ``_meta`` rows that hold the time of generation."""
    from python_calamine import CalamineWorkbook

    meta_names = {t("wb.sheet.meta", lang) for lang in ("nb", "nn", "en")}
    book = CalamineWorkbook.from_path(str(path))
    out = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        if name in meta_names:
            rows = [r for r in rows if not (r and r[0] in TIMED_META)]
        out[name] = rows
    return out


def manifest_rows(folder: Path) -> list[dict[str, Any]]:
    """The send-out list (``manifest.json``) without the checksums, which cover the time."""
    rows = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rows = rows["files"] if isinstance(rows, dict) else rows
    return [{k: v for k, v in row.items() if k != "sha256"} for row in rows]


def seed_history(project: Project) -> None:
    """Earlier periods and KOSTRA figures in the project's history, as ``bms import-values``
    and ``bms kostra import`` put them there."""
    from bms_excel.examples import example_dir

    folder = Path(str(example_dir("stfk")))
    for args in (
        ["import-values", str(folder / "history.csv")],
        ["kostra", "import", "--period", HISTORY_PERIOD, *map(str, (folder / "kostra").glob("*"))],
    ):
        result = CliRunner().invoke(cli_main, ["--project", str(project.root), *args])
        assert result.exit_code == 0, result.output


def run_generate_button(data: dict[str, Any]) -> Any:
    from bms_excel import excel_buttons

    book = xw.Book(json=data)
    book.set_mock_caller()
    excel_buttons.generate()
    alerts = [a for a in book.json()["actions"] if a["func"] == "alert"]
    assert len(alerts) == 1 and alerts[0]["args"][4] != "critical", alerts
    return book


def assert_same_generation(button: Path, cli: Path) -> None:
    assert manifest_rows(button) == manifest_rows(cli)
    names = sorted(p.name for p in cli.glob("*.xlsx"))
    assert sorted(p.name for p in button.glob("*.xlsx")) == names and names
    for name in names:
        assert workbook_cells(button / name) == workbook_cells(cli / name), name


def test_the_generate_button_makes_the_workbooks_bms_generate_makes(
    project: Project, control_book: dict[str, Any], tmp_path: Path
) -> None:
    seed_history(project)
    put_name(control_book, NAMES["period"], HISTORY_PERIOD)
    run_generate_button(control_book)
    made = project.generated_dir / HISTORY_PERIOD
    button = made.rename(tmp_path / "button")
    result = CliRunner().invoke(
        cli_main, ["--project", str(project.root), "generate", "--period", HISTORY_PERIOD]
    )
    assert result.exit_code == 0, result.output
    assert_same_generation(button, made)
    # What makes the comparison worth having: both show the history and the KOSTRA figures.
    definition = project.load_definition()
    heimdal = build_layout(definition, definition.unit("HEIMDAL"), HISTORY_PERIOD, "nb")
    scorecard = workbook_cells(button / "2026-T2_HEIMDAL.xlsx")[heimdal.sheets.scorecard]
    shown = [
        scorecard[row - 1][col - 1]
        for row, col in map(parse_a1, heimdal.indicator("R1.1").history_refs)
    ]
    assert shown == [2.0, 1.8, 2.2]  # the example history of HEIMDAL, R1.1
    roads = build_layout(definition, definition.unit("FYLKESVEG"), HISTORY_PERIOD, "nb")
    scorecard = workbook_cells(button / "2026-T2_FYLKESVEG.xlsx")[roads.sheets.scorecard]
    row, col = parse_a1(roads.indicator("T3.1").result_ref)  # a KOSTRA row: SSB's figure
    assert isinstance(scorecard[row - 1][col - 1], float)


def test_button_and_cli_pick_the_language_by_the_same_rule(tmp_path: Path) -> None:
    # bms.toml and Innstillinger are silent: the definition's language (nynorsk) decides.
    project = init_project(tmp_path / "fylket", example="nynorsk")
    config = project.config_path.read_text(encoding="utf-8")
    project.config_path.write_text(
        "\n".join(line for line in config.splitlines() if not line.startswith("language")),
        encoding="utf-8",
    )
    built = build_control_workbook(tmp_path / "kontroll.xlsx", project_dir=project.root)
    data = payload(built.path)
    put_name(data, NAMES["language"], "")
    run_generate_button(data)
    period = project.resolve_period(None, project.load_definition())
    made = project.generated_dir / period
    button = made.rename(tmp_path / "button")
    result = CliRunner().invoke(cli_main, ["--project", str(project.root), "generate"])
    assert result.exit_code == 0, result.output
    assert_same_generation(button, made)
    first = sorted(button.glob("*.xlsx"))[0]
    meta = dict(r[:2] for r in workbook_cells(first)[t("wb.sheet.meta", "nn")])
    assert meta["language"] == "nn"


def test_the_collect_button_writes_the_reminder_list_bms_collect_writes(
    project: Project, control_book: dict[str, Any], unit_book, tmp_path: Path
) -> None:
    path, _ = unit_book
    (project.submissions_dir / path.name).write_bytes(path.read_bytes())
    (project.submissions_dir / "notat.txt").write_text("ikke en arbeidsbok")
    book = xw.Book(json=control_book)
    book.set_mock_caller()
    from bms_excel import excel_buttons

    excel_buttons.collect()
    period = project.resolve_period(None, project.load_definition())
    reminder = project.reports_dir / f"purreliste_{period}.csv"
    from_button = reminder.read_bytes()
    reminder.unlink()
    result = CliRunner().invoke(cli_main, ["--project", str(project.root), "collect", "--json"])
    assert result.exit_code == 1, result.output  # notat.txt: not-a-workbook
    assert reminder.read_bytes() == from_button
    lines = from_button.decode("utf-8-sig").splitlines()
    assert len(lines) == len(project.load_definition().units)  # header + every unit but one
    report = json.loads(result.output)
    rows = _sheet_writes(book, "collect")
    units = [(r[0], r[2]) for r in rows[4 : 4 + len(report["units"])]]
    assert units == [(u["code"], t(f"collect.state.{u['state']}")) for u in report["units"]]
