"""Generation of unit workbooks: structure, protection, validation, signing, guards, names."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
import yaml
from conftest import history_from_rows
from helpers import input_cells, load_example_history
from ooxml_check import check_workbook
from openpyxl.utils import get_column_letter

from bms_excel.errors import OutputError, TemplateError
from bms_excel.examples import load_example_definition
from bms_excel.generate import (
    WorkbookWriter,
    generate_workbooks,
    safe_filename,
    save_atomic,
)
from bms_excel.layout import META_FIELDS, SIGNED_FIELDS, build_layout
from bms_excel.model import Definition
from bms_excel.resources import workbook_template
from bms_excel.signing import verify_meta

SECRET = b"test-secret-0123456789abcdef0123456789"
NOW = dt.datetime(2026, 4, 1, 8, 30, tzinfo=dt.UTC)
LONG_NAME = "Ærlige Østre Åsane og Øvre Sjøåsen vidaregåande skule for æøå-fag"

TEST_DEFINITION = f"""
county: {{code: TFK, name: Testfylke, contact: {{name: Kari Kontroller, email: kari@tfk.no}}}}
settings: {{history_periods: 2}}
sectors: [{{code: OPP, name: Opplæring}}, {{code: SAM, name: Samferdsel}}]
units:
  - {{code: SKOLE1, name: "{LONG_NAME}", sector: OPP,
     contact: {{name: Per Rektor, email: per@skole.no}}}}
  - {{code: SKOLE2, name: Liten skole, sector: OPP}}
  - {{code: VEG, name: Fylkesveg, sector: SAM}}
periods:
  - {{code: 2026-T1, label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}}
focus_areas:
  - code: B
    name: Brukere
    colour: "#2E75B6"
    goals:
      - code: BM1
        name: Fornøyde brukere
        factors:
          - code: B1
            name: God kvalitet
            indicators:
              - {{code: B1.1, name: Fullført, unit_of_measure: "%", decimals: 1,
                 valid_range: [0, 100], target: 80, owner: Rektor}}
              - {{code: B1.2, name: Fravær, unit_of_measure: "%", decimals: 1,
                 direction: lower, valid_range: [0, 100],
                 thresholds: {{green: 5, yellow: 7}}, comment_required: when_not_green,
                 owner: Rektor}}
              - {{code: B1.3, name: Elever per lærer, unit_of_measure: antall, decimals: 1,
                 direction: range, target: "8 – 9", tolerance: 1, owner: Rektor,
                 scope: {{sectors: [OPP]}}}}
              - {{code: B1.4, name: Antall søkere, unit_of_measure: antall, owner: Rektor,
                 comment_required: never}}
              - {{code: B1.5, name: Trivsel, unit_of_measure: skår 1–6, decimals: 1,
                 valid_range: [1, 6], target: "5 – 4,5", owner: Rektor,
                 comment_required: always}}
  - code: O
    name: Økonomi
    goals:
      - code: OM1
        name: Budsjettdisiplin
        factors:
          - code: O1
            name: Drift innenfor budsjett
            indicators:
              - {{code: O1.1, name: Netto driftsutgift per innbygger, unit_of_measure: kr,
                 source: kostra, kostra: {{table: "12345", contents: "KOSTRA1"}},
                 target: 1000, direction: lower, owner: Økonomisjef}}
              - {{code: O1.2, name: Budsjettavvik, unit_of_measure: "%", decimals: 1,
                 source: controller, target: 0, direction: lower,
                 thresholds: {{green: 0, yellow: 2}}, owner: Økonomisjef}}
"""


def small_definition() -> Definition:
    """The small test definition (KOSTRA and controller rows, a long æøå unit name)."""
    return Definition.model_validate(yaml.safe_load(TEST_DEFINITION))


def generate_one(
    definition: Definition, unit: str, out: Path, period: str = "2026-T1", **kw: Any
) -> Path:
    """Generate ``unit``'s workbook into ``out`` and return its path."""
    result = generate_workbooks(
        definition, period, out_dir=out, secret=SECRET, units=[unit], now=NOW, **kw
    )
    return result.files[0]


def fill_workbook(path: Path, values: dict[str, dict[str, Any]], dest: Path) -> Path:
    """Fill ``values`` the way a person would: only into unlocked cells (asserted)."""
    wb = openpyxl.load_workbook(path)
    for sheet, cells in values.items():
        ws = wb[sheet]
        assert ws.protection.sheet
        for ref, value in cells.items():
            assert ws[ref].protection.locked is False, f"{sheet}!{ref} is locked"
            ws[ref].value = value
    wb.save(dest)
    return dest


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Definition, Any]:
    definition = load_example_definition("stfk")
    history = history_from_rows(load_example_history("stfk"))
    out = tmp_path_factory.mktemp("stfk")
    result = generate_workbooks(
        definition, "2026-T1", out_dir=out, secret=SECRET, history=history, now=NOW
    )
    return definition, result


def test_every_example_workbook_passes_the_ooxml_check(example_run: tuple[Definition, Any]) -> None:
    definition, result = example_run
    assert len(result.files) == len(definition.units)
    for path in result.files:
        problems = [p for p in check_workbook(path) if p.severity == "error"]
        assert problems == [], (path.name, [str(p) for p in problems])


def test_manifest_lists_every_file_with_its_hash(example_run: tuple[Definition, Any]) -> None:
    import hashlib

    definition, result = example_run
    rows = json.loads(result.manifest_json.read_text(encoding="utf-8"))
    assert [r["unit"] for r in rows] == [u.code for u in definition.units]
    for row in rows:
        path = result.out_dir / row["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
        assert row["deadline"] == "2026-05-15"
    csv_text = result.manifest_csv.read_text(encoding="utf-8-sig")
    assert csv_text.splitlines()[0] == "unit;name;file;contact_name;email;deadline;sha256"
    assert not list(result.out_dir.glob(".~bms-*"))


def test_sheets_states_and_structure_protection(example_run: tuple[Definition, Any]) -> None:
    _, result = example_run
    path = result.files[0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Veiledning", "Målekort", "Tiltak", "Vurdering", "Kontroll", "_lister", "_meta",
    ]  # fmt: skip
    states = {ws.title: ws.sheet_state for ws in wb.worksheets}
    assert states["_meta"] == states["_lister"] == "veryHidden"
    assert all(ws.protection.sheet for ws in wb.worksheets)
    assert not wb["Målekort"].protection.formatColumns  # formatting columns allowed
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    assert 'lockStructure="1"' in xml


def _locks(ws: Any) -> tuple[set[str], set[str]]:
    unlocked, locked = set(), set()
    for row in ws.iter_rows():
        for c in row:
            (unlocked if c.protection.locked is False else locked).add(c.coordinate)
    return unlocked, locked


def test_only_input_cells_are_unlocked_and_every_input_is_validated(tmp_path: Path) -> None:
    definition = small_definition()
    path = generate_one(definition, "SKOLE1", tmp_path)
    layout = build_layout(definition, definition.unit("SKOLE1"), "2026-T1")
    wb = openpyxl.load_workbook(path)
    expected = input_cells(layout)
    for ws in wb.worksheets:
        unlocked, _ = _locks(ws)
        assert unlocked == expected.get(ws.title, set()), ws.title
        validated: set[str] = set()
        for dv in ws.data_validations.dataValidation:
            assert dv.showErrorMessage and dv.showInputMessage and dv.prompt
            for rng in dv.sqref.ranges:
                validated |= {
                    f"{get_column_letter(col)}{row}"
                    for col in range(rng.min_col, rng.max_col + 1)
                    for row in range(rng.min_row, rng.max_row + 1)
                }
        assert unlocked <= validated, (ws.title, unlocked - validated)
    sc = wb["Målekort"]
    kostra = layout.indicator("O1.1")
    assert not kostra.input
    assert sc[kostra.result_ref].value == "Fasit fra KOSTRA"
    assert sc[kostra.result_ref].protection.locked is not False
    assert sc[layout.indicator("O1.2").result_ref].value == "Fylles ut av controller"
    b11 = layout.indicator("B1.1")
    assert sc[b11.status_ref].value.startswith("=IF(ISNUMBER(")
    assert sc[b11.comment_rule_ref].value == "Påkrevd ved rødt"
    assert (
        sc[layout.indicator("B1.5").target_ref].value == "5,0 – 4,5"
    )  # one way, with the indicator's one decimal
    dv = next(d for d in sc.data_validations.dataValidation if str(d.sqref) == b11.result_ref)
    assert dv.type == "custom" and "bms_na" in dv.formula1 and ">=0.0" in dv.formula1


def test_no_placeholder_survives_and_unit_name_is_rendered(tmp_path: Path) -> None:
    definition = small_definition()
    path = generate_one(definition, "SKOLE1", tmp_path)
    assert len(LONG_NAME) > 31
    assert [p for p in check_workbook(path) if p.severity == "error"] == []
    wb = openpyxl.load_workbook(path)
    texts = [
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    assert not [v for v in texts if "{{" in v or "{%" in v or "{#" in v]
    assert wb["Målekort"]["A1"].value == f"Målekort – {LONG_NAME}"
    assert "Kari Kontroller (kari@tfk.no)" in " ".join(texts)


def _meta(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    ws = wb["_meta"]
    return {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
        for r in range(1, ws.max_row + 1)
    }


def test_signature_verifies_and_fails_when_unit_or_period_changes(tmp_path: Path) -> None:
    definition = small_definition()
    path = generate_one(definition, "SKOLE1", tmp_path)
    meta = _meta(path)
    assert list(meta) == list(META_FIELDS)
    assert meta["unit"] == "SKOLE1" and meta["period"] == "2026-T1"
    assert (
        json.loads(meta["rows"])["B1.1"]
        == build_layout(definition, definition.unit("SKOLE1"), "2026-T1").indicator("B1.1").row
    )
    assert verify_meta(meta, meta["signature"], SECRET)
    assert not verify_meta({**meta, "unit": "SKOLE2"}, meta["signature"], SECRET)
    assert not verify_meta({**meta, "period": "2026-T2"}, meta["signature"], SECRET)
    assert not verify_meta(meta, meta["signature"], b"another-secret-abcdefghijklmnopqrstuv")
    wb = openpyxl.load_workbook(path)
    props = {p.name: p.value for p in wb.custom_doc_props}
    for key in SIGNED_FIELDS:
        assert props[f"bms.{key}"] == meta[key]
    assert props["bms.signature"] == meta["signature"]
    assert all(len(v) <= 255 for v in props.values())


def _cells(path: Path) -> dict[str, dict[str, Any]]:
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        out[ws.title] = {
            c.coordinate: (c.value, c.protection.locked, c.style_id)
            for row in ws.iter_rows()
            for c in row
        }
        out[ws.title]["__dv__"] = sorted(str(d.sqref) for d in ws.data_validations.dataValidation)
        out[ws.title]["__cf__"] = sorted(str(c.sqref) for c in ws.conditional_formatting)
    return out


def test_no_value_leaks_from_one_unit_to_the_next(tmp_path: Path) -> None:
    definition = small_definition()
    together = generate_workbooks(
        definition, "2026-T1", out_dir=tmp_path / "all", secret=SECRET, now=NOW
    )
    alone = generate_one(definition, "VEG", tmp_path / "alone")
    after_others = together.files[-1]
    assert after_others.name == alone.name
    assert _cells(after_others) == _cells(alone)
    wb = openpyxl.load_workbook(after_others)
    texts = " ".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
    )
    assert LONG_NAME not in texts and "B1.3" not in texts  # SKOLE1's name, an OPP-only code


def test_process_pool_gives_the_same_files(tmp_path: Path) -> None:
    definition = small_definition()
    serial = generate_workbooks(
        definition, "2026-T1", out_dir=tmp_path / "a", secret=SECRET, now=NOW
    )
    calls: list[tuple[int, int, str]] = []
    pooled = generate_workbooks(
        definition,
        "2026-T1",
        out_dir=tmp_path / "b",
        secret=SECRET,
        now=NOW,
        processes=2,
        progress=lambda done, total, code: calls.append((done, total, code)),
    )
    for a, b in zip(serial.files, pooled.files, strict=True):
        assert a.name == b.name and _cells(a) == _cells(b)
    assert sorted(c[0] for c in calls) == [1, 2, 3] and {c[1] for c in calls} == {3}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("SKOLE1", "2026-T1_SKOLE1.xlsx"),
        ("../x", "2026-T1_x.xlsx"),
        ("A/S: Ås", "2026-T1_A_S_As.xlsx"),
        ("..", "2026-T1_enhet.xlsx"),
        ("C:\\Windows\\evil", "2026-T1_C_Windows_evil.xlsx"),
        (".hidden\x00name", "2026-T1_hidden_name.xlsx"),
    ],
)
def test_safe_filename(code: str, expected: str) -> None:
    assert safe_filename("2026-T1", code) == expected


def test_unsafe_unit_code_bypassing_the_model_still_gives_a_safe_file(tmp_path: Path) -> None:
    definition = small_definition()
    evil = definition.units[1].model_copy(update={"code": "../../A/S: Ås"})
    definition = definition.model_copy(update={"units": (definition.units[0], evil)})
    out = tmp_path / "out"
    result = generate_workbooks(
        definition, "2026-T1", out_dir=out, secret=SECRET, units=["../../A/S: Ås"], now=NOW
    )
    assert [p.name for p in result.files] == ["2026-T1_A_S_As.xlsx"]
    assert result.files[0].parent == out and result.files[0].is_file()
    assert sorted(p.name for p in tmp_path.rglob("*.xlsx")) == ["2026-T1_A_S_As.xlsx"]


def _template_with(tmp_path: Path, sheet_index: int, ref: str, text: str) -> Path:
    wb = openpyxl.load_workbook(workbook_template())
    wb.worksheets[sheet_index][ref] = text
    path = tmp_path / "min_mal.xlsx"
    wb.save(path)
    return path


def test_template_typo_names_file_sheet_and_cell(tmp_path: Path) -> None:
    template = _template_with(tmp_path, 0, "A20", "Hei {{ unit.nmae }}")
    with pytest.raises(TemplateError) as info:
        generate_workbooks(
            small_definition(),
            "2026-T1",
            out_dir=tmp_path / "out",
            secret=SECRET,
            template=template,
        )
    assert info.value.location == "min_mal.xlsx: 'Veiledning'!A20"
    assert "nmae" in info.value.message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_template_syntax_error_names_the_cell(tmp_path: Path) -> None:
    template = _template_with(tmp_path, 1, "B3", "{{ unit.name ")
    with pytest.raises(TemplateError) as info:
        WorkbookWriter(small_definition(), "2026-T1", secret=SECRET, template=template)
    assert info.value.location == "min_mal.xlsx: 'Målekort'!B3"


def test_sandbox_blocks_unsafe_template_code(tmp_path: Path) -> None:
    template = _template_with(tmp_path, 0, "A20", "{{ t.__globals__ }}")
    with pytest.raises(TemplateError) as info:
        generate_workbooks(
            small_definition(), "2026-T1", out_dir=tmp_path / "o", secret=SECRET, template=template
        )
    assert info.value.location == "min_mal.xlsx: 'Veiledning'!A20"


def test_guard_rejects_text_longer_than_excel_allows(tmp_path: Path) -> None:
    template = _template_with(tmp_path, 0, "A20", "{{ unit.name * 2000 }}")
    with pytest.raises(TemplateError) as info:
        generate_workbooks(
            small_definition(), "2026-T1", out_dir=tmp_path / "o", secret=SECRET, template=template
        )
    assert info.value.location == "min_mal.xlsx: 'Veiledning'!A20"
    assert not list((tmp_path / "o").glob("*.xlsx"))


def test_failed_save_leaves_no_partial_file(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.sheet_state = "hidden"  # openpyxl refuses to save with no visible sheet
    target = tmp_path / "book.xlsx"
    with pytest.raises(ValueError):
        save_atomic(wb, target)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError):
        save_atomic(openpyxl.Workbook(), tmp_path / "missing" / "book.xlsx")


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_other_languages_give_valid_workbooks(tmp_path: Path, lang: str) -> None:
    definition = small_definition()
    path = generate_one(definition, "SKOLE1", tmp_path, lang=lang)
    assert [p for p in check_workbook(path) if p.severity == "error"] == []
    layout = build_layout(definition, definition.unit("SKOLE1"), "2026-T1", lang)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:5] == list(layout.sheets.visible())
    assert _meta(path)["language"] == lang


def test_history_shows_previous_periods_read_only(tmp_path: Path) -> None:
    text = TEST_DEFINITION.replace(
        "periods:\n",
        "periods:\n"
        "  - {code: 2025-T2, label: 2. tertial 2025, end: 2025-08-31, deadline: 2025-09-15}\n"
        "  - {code: 2025-T3, label: 3. tertial 2025, end: 2025-12-31, deadline: 2026-01-15}\n",
    )
    definition = Definition.model_validate(yaml.safe_load(text))
    history = {("SKOLE1", "B1.1"): [("2025-T3", "81.5"), ("2025-T2", "i.a."), ("2024-T1", "1")]}
    path = generate_one(definition, "SKOLE1", tmp_path, history=history)
    layout = build_layout(definition, definition.unit("SKOLE1"), "2026-T1")
    assert layout.scorecard.history_periods == ("2025-T2", "2025-T3")
    ws = openpyxl.load_workbook(path)["Målekort"]
    cells = layout.indicator("B1.1")
    assert [ws[r].value for r in cells.history_refs] == ["i.a.", 81.5]
    assert all(ws[r].protection.locked is not False for r in cells.history_refs)
    header = [
        ws[f"{c}{layout.scorecard.header_row}"].value for c in layout.scorecard.history_columns
    ]
    assert header == ["2025-T2", "2025-T3"]
    assert not any(ws.column_dimensions[c].hidden for c in layout.scorecard.history_columns)


def test_history_columns_only_for_defined_periods(tmp_path: Path) -> None:
    """A new project (one period) shows no invented "2025-T2 | 2025-T3" columns."""
    definition = small_definition()
    history = {("SKOLE1", "B1.1"): [("2025-T3", "81.5"), ("2025-T2", "i.a.")]}
    path = generate_one(definition, "SKOLE1", tmp_path, history=history)
    layout = build_layout(definition, definition.unit("SKOLE1"), "2026-T1")
    assert layout.scorecard.history_periods == ("", "")
    ws = openpyxl.load_workbook(path)["Målekort"]
    sc = layout.scorecard
    assert [ws[f"{c}{sc.header_row}"].value for c in sc.history_columns] == [None, None]
    assert [ws[r].value for r in layout.indicator("B1.1").history_refs] == [None, None]
    assert all(ws.column_dimensions[c].hidden for c in sc.history_columns)


def test_unknown_unit_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        generate_workbooks(
            small_definition(), "2026-T1", out_dir=tmp_path, secret=SECRET, units=["NOPE"]
        )


def test_bypassing_object_for_safe_filename() -> None:
    unit = SimpleNamespace(code="../x")
    assert safe_filename("2026-T1", unit.code) == "2026-T1_x.xlsx"
    assert "/" not in safe_filename("../2026", "a/b") and "\\" not in safe_filename("x", "a\\b")


def test_bundled_template_is_found() -> None:
    assert workbook_template().is_file()
    assert shutil.which  # keep the import used by helpers elsewhere


def test_cli_generate_json(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bms_excel.cli import main
    from bms_excel.project import init_project

    project = init_project(tmp_path / "p", example="stfk")
    runner = CliRunner()
    res = runner.invoke(
        main,
        [
            "--project",
            str(project.root),
            "generate",
            "--period",
            "2026-T1",
            "--units",
            "HEIMDAL",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [f["file"] for f in data["files"]] == ["2026-T1_HEIMDAL.xlsx"]
    assert (project.generated_dir / "2026-T1" / "2026-T1_HEIMDAL.xlsx").is_file()
    res = runner.invoke(main, ["--project", str(project.root), "generate", "--units", "NOPE"])
    assert res.exit_code == 2


def _workbook_facts(path: Path) -> dict[str, Any]:
    """Everything a unit workbook says, with styles resolved (style ids depend on the run)."""
    wb = openpyxl.load_workbook(path)
    facts: dict[str, Any] = {
        "names": sorted((n, wb.defined_names[n].attr_text) for n in wb.defined_names),
        "sheets": [(ws.title, ws.sheet_state) for ws in wb.worksheets],
        "custom": [(p.name, p.value) for p in wb.custom_doc_props],
        "title": wb.properties.title,
    }
    for ws in wb.worksheets:
        cells = {
            c.coordinate: (
                c.value,
                c.data_type,
                repr(c.font),
                repr(c.fill),
                repr(c.border),
                c.number_format,
                repr(c.protection),
                repr(c.alignment),
            )
            for row in ws.iter_rows()
            for c in row
            if c.value is not None or c.has_style
        }
        facts[ws.title] = {
            "cells": cells,
            "dv": [repr(dv) for dv in ws.data_validations.dataValidation],
            "cf": [
                (str(cf.sqref), [repr(r) for r in cf.rules]) for cf in ws.conditional_formatting
            ],
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "rows": {r: (d.height, d.hidden) for r, d in ws.row_dimensions.items()},
            "cols": {k: (d.width, d.hidden) for k, d in ws.column_dimensions.items()},
            "protection": repr(ws.protection),
            "dimension": ws.calculate_dimension(),
        }
    return facts


def test_reused_template_gives_every_unit_the_workbook_it_gets_alone(tmp_path: Path) -> None:
    """The template, styles, validations and serialised parts are reused from unit to unit."""
    definition = load_example_definition("stfk")
    history = history_from_rows(load_example_history("stfk"))
    kw: dict[str, Any] = {"secret": SECRET, "history": history, "now": NOW}
    together = generate_workbooks(definition, "2026-T1", out_dir=tmp_path / "all", **kw)
    by_name = {p.name: p for p in together.files}
    codes = [u.code for u in definition.units]
    for code in (codes[-1], codes[len(codes) // 2], codes[1]):  # late, middle, early; not first
        alone = generate_workbooks(
            definition, "2026-T1", out_dir=tmp_path / code, units=[code], **kw
        ).files[0]
        assert _workbook_facts(by_name[alone.name]) == _workbook_facts(alone), code
    # No other unit's name or code anywhere in a file's parts.
    xml_names = {
        u.code: (u.name.encode("ascii", "xmlcharrefreplace"), f">{u.code}<".encode())
        for u in definition.units
    }
    for unit, path in zip(definition.units, together.files, strict=True):
        with zipfile.ZipFile(path) as zf:
            data = b"".join(zf.read(n) for n in zf.namelist())
        own_name = xml_names[unit.code][0]
        for code, (name, tagged_code) in xml_names.items():
            if code == unit.code:
                continue
            assert tagged_code not in data, (path.name, code)
            if name not in own_name:
                assert name not in data, (path.name, code)


def _definition_with_unit_name(name: str) -> Definition:
    raw = yaml.safe_load(TEST_DEFINITION)
    raw["units"][2]["name"] = name  # VEG, the last unit: checked by the per-unit guard
    return Definition.model_validate(raw)


def test_per_unit_guard_catches_a_bad_value_after_the_first_unit(tmp_path: Path) -> None:
    definition = _definition_with_unit_name("Fylkesveg {{ unit.code }}")
    out = tmp_path / "o"
    with pytest.raises(TemplateError) as info:
        generate_workbooks(definition, "2026-T1", out_dir=out, secret=SECRET, now=NOW)
    assert info.value.location == "2026-T1_VEG.xlsx"
    assert "'Veiledning'!A2" in info.value.message and "'Målekort'!A1" in info.value.message
    assert sorted(p.name for p in out.glob("*.xlsx")) == [
        "2026-T1_SKOLE1.xlsx",
        "2026-T1_SKOLE2.xlsx",
    ]


def test_unit_name_too_long_for_excel_fails_before_any_file(tmp_path: Path) -> None:
    definition = _definition_with_unit_name("x" * 40_000)
    out = tmp_path / "o"
    with pytest.raises(TemplateError) as info:
        generate_workbooks(definition, "2026-T1", out_dir=out, secret=SECRET, now=NOW)
    assert info.value.location == "enhet.xlsx: 'Veiledning'!A2"
    assert not list(out.glob("*.xlsx"))


def test_control_character_in_unit_name_is_dropped_everywhere(tmp_path: Path) -> None:
    definition = _definition_with_unit_name("Fylkes\x07veg")
    path = generate_one(definition, "VEG", tmp_path)
    assert [p for p in check_workbook(path) if p.severity == "error"] == []
    wb = openpyxl.load_workbook(path)
    assert wb.properties.title.startswith("Fylkesveg – ")
    assert wb["Målekort"]["A1"].value == "Målekort – Fylkesveg"
