"""Page setup and font records: readable scales, page breaks between focus areas, row heights."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree

from bms_excel.xlsx.printing import (
    MIN_PRINT_PT,
    column_points,
    fit_widths,
    group_breaks,
    print_scale,
    printable_width,
    text_lines,
)

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def test_a_narrow_sheet_prints_at_full_size() -> None:
    assert print_scale([10, 20, 30], smallest_font=10) == 100


def test_a_wide_sheet_shrinks_to_fit_but_never_under_8_pt() -> None:
    widths = [9.0] * 40
    assert print_scale(widths, smallest_font=10) == 80  # would need ~38 % to fit
    assert print_scale(widths, smallest_font=16) == 50
    fits = [20.0] * 8  # 8 × 108.75 pt = 870 pt on a 784 pt page
    scale = print_scale(fits, smallest_font=10)
    assert scale == 90
    assert sum(column_points(w) for w in fits) * scale / 100 <= printable_width()
    assert 10 * scale / 100 >= MIN_PRINT_PT


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([(4, 10), (11, 17), (18, 24)], [10, 17]),  # 7 columns a page beside the titles
        ([(4, 6), (7, 9)], []),  # both fit on one page
        ([(4, 6), (7, 9), (10, 12)], [9]),  # the third does not
        ([(4, 30)], []),  # one group wider than a page: left to the program
    ],
)
def test_page_breaks_fall_between_focus_areas(
    groups: list[tuple[int, int]], expected: list[int]
) -> None:
    widths = [16.0, 32.0, 8.0] + [12.0] * 27
    assert group_breaks(widths, groups, title_cols=2, scale=100) == expected


def test_wrapped_text_columns_narrow_until_they_fit_at_a_readable_scale() -> None:
    widths = [8.0, 60.0, 60.0, 60.0]
    narrowed = fit_widths(widths, smallest_font=10)
    assert narrowed[0] == 8.0 and narrowed[1] < 60
    assert print_scale(narrowed, smallest_font=10) >= 80
    assert sum(column_points(w) for w in narrowed) * 0.8 <= printable_width() + 1
    assert fit_widths([10.0, 20.0], smallest_font=10) == [10.0, 20.0]


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("kort", 10, 1),
        ("hello world this is a test", 10, 4),  # words are not split across lines
        ("x" * 25, 10, 3),  # a word longer than the column is
        ("a\nb\nc", 30, 3),
    ],
)
def test_text_lines(text: str, width: float, lines: int) -> None:
    assert text_lines(text, width) == lines


def _fonts(path: Path) -> list[tuple[str | None, str | None]]:
    with zipfile.ZipFile(path) as z:
        root = ElementTree.fromstring(z.read("xl/styles.xml"))
    fonts = root.find(f"{NS}fonts")
    assert fonts is not None
    return [
        (
            (f.find(f"{NS}name") if f.find(f"{NS}name") is not None else {}).get("val"),  # type: ignore[union-attr]
            (f.find(f"{NS}sz") if f.find(f"{NS}sz") is not None else {}).get("val"),  # type: ignore[union-attr]
        )
        for f in fonts.findall(f"{NS}font")
    ]


def test_every_font_of_a_unit_workbook_has_a_name_and_a_size(generated: dict[str, Path]) -> None:
    fonts = _fonts(next(iter(generated.values())))
    assert fonts and all(name and size for name, size in fonts), fonts


def test_tiltak_prints_only_its_input_rows(generated: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(next(iter(generated.values())))
    try:
        ws = wb["Tiltak"]
        assert ws.print_area == "'Tiltak'!$A$1:$E$34"  # header row 4 and 30 input rows
        assert not ws.sheet_properties.pageSetUpPr.fitToPage and int(ws.page_setup.scale) >= 80
        assert ws.row_dimensions[5].height is None  # grows as staff type; blank rows stay low
        card = wb["Målekort"]
        assert card.print_title_rows == "$5:$5" and card.print_title_cols == "$A:$B"
        assert 80 <= int(card.page_setup.scale) <= 100
    finally:
        wb.close()
