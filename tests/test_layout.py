"""The layout: deterministic coordinates from (definition, unit, period, language)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pytest
from helpers import input_cells
from test_generate import small_definition

from bms_excel.examples import load_example_definition
from bms_excel.layout import (
    META_FIELDS,
    build_layout,
    column_letter,
    sheet_ref,
)
from bms_excel.periods import previous_periods
from bms_excel.status import NOT_APPLICABLE_WORDS
from bms_excel.xlsx.limits import check_names, is_cell_reference


def test_the_fingerprint_is_the_sha256_of_the_layouts_canonical_json() -> None:
    """Signed into every workbook: the fast conversion must give what ``asdict`` gives."""
    d = load_example_definition("stfk")
    for unit in (d.units[0], d.unit("FYLKESVEG"), d.units[-1]):
        for lang in ("nb", "nn", "en"):
            layout = build_layout(d, unit, "2026-T2", lang)
            text = json.dumps(asdict(layout), sort_keys=True, ensure_ascii=False)
            assert layout.fingerprint() == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_layout_is_deterministic_and_fingerprinted() -> None:
    d = small_definition()
    a = build_layout(d, d.unit("SKOLE1"), "2026-T1")
    b = build_layout(d, d.unit("SKOLE1"), "2026-T1")
    assert a == b and a.fingerprint() == b.fingerprint()
    assert build_layout(d, d.unit("SKOLE2"), "2026-T1").fingerprint() != a.fingerprint()


def test_scorecard_rows_group_area_goal_factor() -> None:
    d = small_definition()
    layout = build_layout(d, d.unit("VEG"), "2026-T1")
    sc = layout.scorecard
    assert [(g.kind, g.code, g.row) for g in sc.groups] == [
        ("area", "B", 6), ("goal", "BM1", 7), ("factor", "B1", 8),
        ("area", "O", 13), ("goal", "OM1", 14), ("factor", "O1", 15),
    ]  # fmt: skip
    assert layout.row_map() == {
        "B1.1": 9,
        "B1.2": 10,
        "B1.4": 11,
        "B1.5": 12,
        "O1.1": 16,
        "O1.2": 17,
    }  # fmt: skip  (B1.3 is OPP-only)
    cells = layout.indicator("B1.1")
    assert sc.history_columns == ("F", "G")
    assert (cells.result_ref, cells.status_ref, cells.comment_ref) == ("H9", "I9", "K9")
    assert [c.input for c in sc.indicators] == [True, True, True, True, False, False]
    with pytest.raises(KeyError):
        layout.indicator("B1.3")


def test_names_and_meta() -> None:
    d = load_example_definition("stfk")
    for lang in ("nb", "nn", "en"):
        layout = build_layout(d, d.units[0], "2026-T1", lang)
        names = layout.sheets
        all_names = [*names.visible(), names.lists, names.meta]
        assert check_names(all_names, layout.lists.names.values()) == []
        assert not any(is_cell_reference(n) for n in layout.lists.names.values())
    assert list(layout.meta) == list(META_FIELDS)
    assert layout.lists.na.endswith(f"$C$1:$C${len(NOT_APPLICABLE_WORDS)}")


def test_action_and_control_rows() -> None:
    d = small_definition()
    layout = build_layout(d, d.unit("SKOLE1"), "2026-T1")
    assert (layout.actions.first_row, layout.actions.last_row) == (5, 34)
    assert layout.actions.column_range("deadline") == "D5:D34"
    assert [c.key for c in layout.control.checks] == [
        "missing", "invalid", "comment", "owner", "deadline",
    ]  # fmt: skip
    assert layout.control.ready.count_ref == "B10"
    assert [a.area for a in layout.assessment] == ["B", "O"]
    assert len(input_cells(layout)[layout.sheets.actions]) == 5 * 30


@pytest.mark.parametrize(
    ("code", "n", "expected"),
    [
        ("2026-T1", 3, ("2025-T1", "2025-T2", "2025-T3")),
        ("2026-T3", 2, ("2026-T1", "2026-T2")),
        ("2026", 2, ("2024", "2025")),
        ("2026-M01", 2, ("2025-M11", "2025-M12")),
        ("2026-Q1", 1, ("2025-Q4",)),
        ("2026-T1", 0, ()),
    ],
)
def test_previous_periods(code: str, n: int, expected: tuple[str, ...]) -> None:
    assert previous_periods(code, n) == expected


def test_helpers() -> None:
    assert [column_letter(i) for i in (1, 26, 27, 52)] == ["A", "Z", "AA", "AZ"]
    assert sheet_ref("Målekort", "A1:B2", absolute=True) == "'Målekort'!$A$1:$B$2"
    assert sheet_ref("O'Neil", "A1") == "'O''Neil'!A1"


def test_previous_periods_follow_the_definition_order() -> None:
    order = ["2025-T1", "2025-T2", "2025", "2026-T1", "2026-T2", "2026"]
    assert previous_periods("2026-T2", 3, order) == ("2025-T2", "2025", "2026-T1")
    # Before the first listed period: counted back from the earliest listed one.
    assert previous_periods("2025-T2", 2, order) == ("2024-T3", "2025-T1")
    # A period the definition does not list falls back to counting from the code.
    assert previous_periods("2027-T1", 1, order) == ("2026-T3",)
