"""Every formula cell stores its result, and it is the one a spreadsheet engine computes.

Per workbook kind (a new unit workbook, a pre-filled unit workbook with every awkward input,
the master, the control workbook) the cached values are read from the package XML (what
previews, Protected View, Power Query, pandas and calamine show) and compared, cell by cell,
with what LibreOffice computes when it recalculates the file.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from reading import read_workbook
from realclient import recalculated_values, require_libreoffice

from bms_excel.control_workbook import build_control_workbook
from bms_excel.demo import DemoResult, run_demo
from bms_excel.generate import WorkbookWriter, save_atomic
from bms_excel.layout import build_layout
from bms_excel.status import Status, evaluate, resolve_rule, status_label
from bms_excel.unit_results import UnitInputs
from bms_excel.validate import validate_data

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def cached_formulas(path: Path) -> dict[tuple[str, str], Any]:
    """``(sheet, cell)`` → cached value of every formula cell, as a reader of stored values sees it.

    ``None`` when a formula has no cached value at all (``<v></v>`` without a type).
    """
    out: dict[tuple[str, str], Any] = {}
    with zipfile.ZipFile(path) as zf:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
        for sheet in book.findall("m:sheets/m:sheet", _NS):
            target = targets[sheet.get(_R_ID)].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            root = ET.fromstring(zf.read(part))
            for c in root.iter(f"{{{_NS['m']}}}c"):
                if c.find("m:f", _NS) is None:
                    continue
                kind, v = c.get("t", "n"), c.find("m:v", _NS)
                text = v.text if v is not None else None
                if kind == "str":
                    value: Any = text or ""
                elif kind == "b":
                    value = text == "1"
                elif kind == "e":
                    value = text
                else:
                    value = None if text in (None, "") else float(text)
                out[(str(sheet.get("name")), str(c.get("r")))] = value
    return out


def _same(cached: Any, recalculated: Any) -> bool:
    if isinstance(cached, float) and isinstance(recalculated, int | float):
        return math.isclose(cached, recalculated, rel_tol=1e-12, abs_tol=1e-9)
    if cached == "" and recalculated in (None, ""):
        return True
    return bool(cached == recalculated)


def assert_cached_equals_recalculated(path: Path, outdir: Path) -> dict[tuple[str, str], Any]:
    """Every formula of ``path`` has a cached value equal to LibreOffice's; returns them."""
    cached = cached_formulas(path)
    without = sorted(key for key, value in cached.items() if value is None)
    assert without == []
    values = recalculated_values(path, outdir)
    wrong = [
        (key, value, values.get(key[0], {}).get(key[1]))
        for key, value in cached.items()
        if not _same(value, values.get(key[0], {}).get(key[1]))
    ]
    assert wrong == []
    return cached


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    require_libreoffice()
    return run_demo(tmp_path_factory.mktemp("cached") / "demo")


def _generated(demo: DemoResult) -> list[Path]:
    return sorted((demo.project.generated_dir / "2026-T2").glob("*.xlsx"))


@pytest.mark.parametrize("unit", ["ORKDAL", "KOLLEKTIV", "TANNHELSE"])
def test_new_unit_workbook_caches_what_libreoffice_computes(
    demo: DemoResult, unit: str, tmp_path: Path
) -> None:
    path = next(p for p in _generated(demo) if p.stem.endswith(f"_{unit}"))
    cached = assert_cached_equals_recalculated(path, tmp_path)
    statuses = {v for (sheet, _), v in cached.items() if sheet == "Målekort" and isinstance(v, str)}
    assert status_label(Status.MISSING) in statuses  # blank inputs: «Mangler», never a colour
    assert cached[("Kontroll", "B10")] == "NEI"


def _awkward_inputs(demo: DemoResult, unit_code: str) -> tuple[UnitInputs, int]:
    """Inputs through every branch of the formulas: colours, text, i.a., range, comments."""
    definition = demo.project.load_definition()
    unit = definition.unit(unit_code)
    layout = build_layout(definition, unit, "2026-T2", "nb")
    codes = [c.code for c in layout.scorecard.indicators if c.input]
    choices: list[Any] = [
        "103254,0",  # a number typed as text
        " i.a. ",
        -1e9,  # outside any valid range
        "abc",
        None,
        "\t",
    ]  # no booleans: LibreOffice stores TRUE as the number 1, Excel's ISNUMBER(TRUE) is false
    results: dict[str, object] = {}
    comments: dict[str, object] = {}
    percent: set[str] = set()
    # Excel's percent entry on % indicators: "99,5 %" → 0.995 (green at 100 with 0 decimals,
    # red if read as 0.995), "68 %" → 0.68, "150 %" → 1.5 (outside 0–100).
    entries = [0.995, 0.68, 1.5]
    for i, code in enumerate(codes):
        ind = definition.indicator(code)
        if i < len(choices):
            results[code] = choices[i]
        elif ind.unit_of_measure == "%" and entries:
            results[code] = entries.pop(0)
            percent.add(code)
        elif ind.valid_range is not None:
            low, high = ind.valid_range
            results[code] = (low, high, (low + high) / 2)[i % 3]
        else:
            results[code] = float(i)
        if i % 2:
            comments[code] = "Forklaring"
    actions = (
        {
            "code": codes[0],
            "action": "Full",
            "responsible": "Rektor",
            "deadline": dt.date(2026, 10, 1),
        },
        {"action": "Uten ansvarlig", "deadline": dt.date(2026, 11, 1)},
        {"action": "Uten frist", "responsible": "  "},
        {"action": "   ", "responsible": ""},  # blank action text: not an action
    )
    inputs = UnitInputs(results, comments, actions, frozenset(percent))
    return inputs, len(codes)


def test_prefilled_unit_workbook_caches_what_libreoffice_computes(
    demo: DemoResult, tmp_path: Path
) -> None:
    definition = demo.project.load_definition()
    writer = WorkbookWriter(definition, "2026-T2", secret=demo.project.secret)
    inputs, n = _awkward_inputs(demo, "ORKDAL")
    wb, _ = writer.fill(definition.unit("ORKDAL"), inputs)
    path = tmp_path / "filled.xlsx"
    save_atomic(wb, path, parts=writer.parts)
    cached = assert_cached_equals_recalculated(path, tmp_path / "out")
    shown = [v for (sheet, _), v in cached.items() if sheet == "Målekort" and isinstance(v, str)]
    assert status_label(Status.INVALID) in shown  # the text number and "abc"
    assert status_label(Status.NOT_APPLICABLE) in shown
    assert {status_label(Status.GREEN), status_label(Status.RED)} & set(shown)
    layout = build_layout(definition, definition.unit("ORKDAL"), "2026-T2", "nb")
    sheet = layout.sheets.control
    counts = {c.key: cached[(sheet, c.count_ref)] for c in layout.control.checks}
    assert n >= 6  # every awkward input is in the workbook
    assert counts["missing"] == 2  # None and a tab
    # invalid: the text number, "abc", and -1e9 when the indicator has a valid range
    assert counts["invalid"] >= 2
    assert counts["owner"] == 2  # none, and only spaces
    assert counts["deadline"] == 1
    assert cached[(sheet, layout.control.ready.count_ref)] == "NEI"
    # The percent entries are judged as the percentages they are (the collector agrees).
    by_code = {c.code: c for c in layout.scorecard.indicators}
    entered = sorted(inputs.percent, key=lambda code: by_code[code].row)
    assert len(entered) == 3
    first = by_code[entered[0]]
    rule = resolve_rule(
        definition.indicator(first.code), definition.settings, definition.unit("ORKDAL"), "2026-T2"
    )
    assert cached[(layout.sheets.scorecard, first.status_ref)] == status_label(evaluate(rule, 99.5))
    assert evaluate(rule, 99.5) != evaluate(rule, 0.995)
    assert counts["invalid"] >= 3  # 150 % is outside 0–100


def test_the_next_unit_gets_its_own_control_results(demo: DemoResult, tmp_path: Path) -> None:
    definition = demo.project.load_definition()
    writer = WorkbookWriter(definition, "2026-T2", secret=demo.project.secret)
    inputs, _ = _awkward_inputs(demo, "ORKDAL")
    writer.fill(definition.unit("ORKDAL"), inputs)
    wb, _ = writer.fill(definition.unit("ORKDAL"))  # the Kontroll sheet is kept, its results not
    path = tmp_path / "blank.xlsx"
    save_atomic(wb, path, parts=writer.parts)
    cached = assert_cached_equals_recalculated(path, tmp_path / "out")
    assert cached[("Kontroll", "B8")] == 0


def test_master_caches_what_libreoffice_computes(demo: DemoResult, tmp_path: Path) -> None:
    master = next((demo.project.root / "rapporter").glob("*.xlsx"))
    cached = assert_cached_equals_recalculated(master, tmp_path)
    fylket = {ref: v for (sheet, ref), v in cached.items() if sheet == "Fylket"}
    assert len(fylket) == 62  # status and score of each of the 31 indicators
    assert status_label(Status.GREEN) in fylket.values()
    assert any(isinstance(v, float) and 0 < v < 100 for v in fylket.values())


def test_control_workbook_has_no_formula_without_its_result(tmp_path: Path) -> None:
    require_libreoffice()
    built = build_control_workbook(tmp_path / "kontroll.xlsx")
    # The control workbook holds settings and instructions, no formulas: nothing can go stale.
    assert assert_cached_equals_recalculated(built.path, tmp_path / "out") == {}


def _statuses_both_ways(
    demo: DemoResult, inputs: UnitInputs, folder: Path
) -> tuple[dict[str, str], dict[str, str], str, list[Any]]:
    """Per input indicator: the workbook's status (LibreOffice) and the collector's; the
    workbook's «Klar til innsending» and the collector's error findings."""
    definition = demo.project.load_definition()
    unit = definition.unit("ORKDAL")
    writer = WorkbookWriter(definition, "2026-T2", secret=demo.project.secret)
    wb, layout = writer.fill(unit, inputs)
    path = folder / "2026-T2_ORKDAL.xlsx"
    save_atomic(wb, path, parts=writer.parts)
    values = recalculated_values(path, folder / "out")
    form = {
        c.code: values[layout.sheets.scorecard][c.status_ref]
        for c in layout.scorecard.indicators
        if c.input
    }
    ready = values[layout.sheets.control][layout.control.ready.count_ref]
    extract = validate_data(
        read_workbook(path), definition, demo.project.secret, path.name, expected_period="2026-T2"
    )
    collector = {}
    for record in extract.values:
        rule = resolve_rule(
            definition.indicator(record.indicator), definition.settings, unit, "2026-T2"
        )
        status = {
            "invalid": Status.INVALID,
            "missing": Status.MISSING,
            "not-applicable": Status.NOT_APPLICABLE,
        }.get(record.kind) or evaluate(rule, record.value)
        collector[record.indicator] = status_label(Status.INVALID if record.has_error else status)
    errors = [(f.code, f.cell) for f in extract.findings if f.severity == "error"]
    return form, collector, ready, errors


def test_text_numbers_get_one_status_in_the_workbook_and_the_collector(
    demo: DemoResult, tmp_path: Path
) -> None:
    definition = demo.project.load_definition()
    layout = build_layout(definition, definition.unit("ORKDAL"), "2026-T2", "nb")
    cells = [c for c in layout.scorecard.indicators if c.input]
    typed: dict[str, object] = {c.code: 1.0 for c in cells}
    texts = ["103254,0", "1 234", "70 %", "12.5", "abc", " i.a. "]
    for cell, text in zip(cells, texts, strict=False):
        typed[cell.code] = text
    inputs = UnitInputs(results=typed, comments={c.code: "Forklaring" for c in cells})
    form, collector, ready, errors = _statuses_both_ways(demo, inputs, tmp_path)
    assert form == collector
    invalid = status_label(Status.INVALID)
    assert [form[c.code] for c in cells[:5]] == [invalid] * 5
    assert form[cells[5].code] == status_label(Status.NOT_APPLICABLE)
    assert ready == "NEI" and errors
    text_number_cells = {cell for code, cell in errors if code == "text-number"}
    assert text_number_cells == {c.result_ref for c in cells[:4]}


def test_a_workbook_ready_to_send_has_no_error_in_the_collector(
    demo: DemoResult, tmp_path: Path
) -> None:
    definition = demo.project.load_definition()
    layout = build_layout(definition, definition.unit("ORKDAL"), "2026-T2", "nb")
    cells = [c for c in layout.scorecard.indicators if c.input]
    typed: dict[str, object] = {}
    for c in cells:
        ind = definition.indicator(c.code)
        low, high = ind.valid_range or (0.0, 100.0)
        typed[c.code] = (low + high) / 2
    inputs = UnitInputs(results=typed, comments={c.code: "Forklaring" for c in cells})
    form, collector, ready, errors = _statuses_both_ways(demo, inputs, tmp_path)
    assert form == collector
    assert ready == "JA" and errors == []
