"""Build ``enhet.xlsx``, the bundled unit-workbook template, with openpyxl.

Run ``python workbook_templates/build_template.py`` after changing this script; the .xlsx is
committed so that a controller can open it in Excel, restyle it and save a copy as their own
template (see README.md beside this file). Text cells hold Jinja placeholders; rows below each
sheet's header row are *prototype rows* whose styles the generator copies.

Layout (must match ``bms_excel.layout.DEFAULT_ANCHORS``):

* Veiledning: free text with placeholders.
* Målekort: rows 1-4 title area, row 5 column headers (one column per role, a single history
  column), rows 6-10 prototypes: focus area, goal, factor, input indicator, read-only indicator.
* Tiltak: rows 1-3 title area, row 4 headers, row 5 prototype input row.
* Vurdering: rows 1-3 title area, row 4 headers, row 5 prototype row.
* Kontroll: rows 1-3 title area, row 4 headers, row 5 prototype check row, row 6 "ready" row.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.xlsx.printing import page_setup

HERE = Path(__file__).resolve().parent
DARK = "1F4E79"
SMALLEST_FONT = 10.0  # no cell font in the template is smaller
THIN = Side(style="thin", color="A6A6A6")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TITLE = Font(name="Calibri", size=16, bold=True, color=DARK)
SUBTITLE = Font(name="Calibri", size=11, bold=True, color="404040")
BODY = Font(name="Calibri", size=10)
HEADER_FONT = Font(name="Calibri", size=10, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor=DARK)
LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
INPUT_FILL = PatternFill("solid", fgColor="FFFFFF")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)

#: Målekort roles with their column widths, in template column order (one history column).
SCORECARD_COLUMNS = (
    ("code", 8, '{{ t("wb.col.code") }}'),
    ("name", 30, '{{ t("wb.col.name") }}'),
    ("measure", 10, '{{ t("wb.col.measure") }}'),
    ("target", 12, '{{ t("wb.col.target") }}'),
    ("limits", 16, '{{ t("wb.col.limits") }}'),
    ("history", 9, "{{ history_period }}"),
    ("result", 10, '{{ t("wb.col.result", period=period.code) }}'),
    ("status", 9, '{{ t("wb.col.status") }}'),
    ("comment_rule", 14, '{{ t("wb.col.comment-rule") }}'),
    ("comment", 24, '{{ t("wb.col.comment") }}'),
    ("owner", 12, '{{ t("wb.col.owner") }}'),
    ("comment_missing", 6, '{{ t("wb.col.helper") }}'),
    ("out_of_range", 6, '{{ t("wb.col.out-of-range") }}'),
)
INPUT_ROLES = ("result", "comment")


def _title_area(ws: Worksheet, title: str, intro: str, widths: dict[str, float]) -> None:
    ws["A1"] = title
    ws["A1"].font = TITLE
    ws["A2"] = (
        '{{ county.name }} · {{ t("wb.unit") }}: {{ unit.name }} · '
        '{{ t("wb.period") }}: {{ period.label }} · {{ t("wb.deadline") }}: {{ deadline }}'
    )
    ws["A2"].font = SUBTITLE
    ws["A3"] = intro
    ws["A3"].font = Font(name="Calibri", size=10, italic=True, color="404040")
    for col, width in widths.items():
        ws.column_dimensions[col].width = width
    # A4 landscape at the largest scale that fits the columns, never printing 10 pt text under
    # 8 pt (the generator recomputes Målekort's, whose history columns vary).
    page_setup(ws, smallest_font=SMALLEST_FONT, last_col=len(widths))
    ws.print_options.horizontalCentered = True
    ws.oddHeader.left.text = "&A"
    ws.oddHeader.right.text = "&D"
    ws.oddFooter.center.text = "&P / &N"
    ws.sheet_view.showGridLines = False


def _headers(ws: Worksheet, row: int, texts: list[str]) -> None:
    for i, text in enumerate(texts, start=1):
        cell = ws.cell(row=row, column=i, value=text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BOX
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[row].height = 30


def _guide(ws: Worksheet) -> None:
    _title_area(ws, '{{ t("wb.guide.title") }}', '{{ t("wb.guide.intro") }}', {"A": 120})
    ws["A3"].alignment = WRAP_TOP
    ws.row_dimensions[3].height = 30
    ws["A5"] = '{{ t("wb.guide.heading") }}'
    ws["A5"].font = SUBTITLE
    for i in range(1, 6):
        cell = ws.cell(row=5 + i, column=1, value=f'{{{{ t("wb.guide.step{i}") }}}}')
        cell.font = BODY
        cell.alignment = WRAP_TOP
        ws.row_dimensions[5 + i].height = 28
    ws["A12"] = (
        '{{ t("wb.guide.return", name=contact.name, email=contact.email, deadline=deadline) }}'
    )
    ws["A12"].font = Font(name="Calibri", size=11, bold=True)
    ws["A13"] = '{{ t("wb.guide.protected") }}'
    ws["A13"].font = BODY


def _scorecard(ws: Worksheet) -> None:
    widths = {chr(64 + i): w for i, (_, w, _) in enumerate(SCORECARD_COLUMNS, start=1)}
    _title_area(ws, '{{ t("wb.scorecard.title") }} – {{ unit.name }}', "", widths)
    ws["A3"] = '{{ t("wb.scorecard.intro") }}'
    ws["A3"].font = Font(name="Calibri", size=10, italic=True, color="404040")
    _headers(ws, 5, [text for *_, text in SCORECARD_COLUMNS])
    n = len(SCORECARD_COLUMNS)
    group_styles = {
        6: (
            Font(name="Calibri", size=12, bold=True, color="FFFFFF"),
            PatternFill("solid", fgColor=DARK),
        ),
        7: (
            Font(name="Calibri", size=10, bold=True, color=DARK),
            PatternFill("solid", fgColor="D9E1F2"),
        ),
        8: (
            Font(name="Calibri", size=10, italic=True, color=DARK),
            PatternFill("solid", fgColor="EDF2F9"),
        ),
    }
    for row, (font, fill) in group_styles.items():
        for col in range(1, n + 1):
            cell = ws.cell(row=row, column=col)
            cell.font, cell.fill = font, fill
        ws.row_dimensions[row].height = 18
    for row, italic in ((9, False), (10, True)):
        for col, (role, _, _) in enumerate(SCORECARD_COLUMNS, start=1):
            cell = ws.cell(row=row, column=col)
            cell.font = Font(
                name="Calibri", size=10, italic=italic, color="595959" if italic else None
            )
            cell.border = BOX
            cell.alignment = Alignment(
                wrap_text=role
                in ("name", "measure", "comment", "limits", "comment_rule", "owner", "target"),
                vertical="top",
            )
            if role in ("history", "result", "status"):
                cell.alignment = Alignment(horizontal="center", vertical="top")
            if role == "status":
                cell.font = Font(name="Calibri", size=10, bold=True)
            editable = row == 9 and role in INPUT_ROLES
            cell.fill = INPUT_FILL if editable else LOCKED_FILL
            if editable:
                cell.protection = UNLOCKED
        ws.row_dimensions[row].height = 30
    ws.freeze_panes = "C6"
    ws.print_title_rows = "5:5"


def _table_sheet(
    ws: Worksheet,
    title: str,
    intro: str,
    columns: list[tuple[str, float, str, bool]],
    height: float | None,
) -> None:
    widths = {chr(64 + i): w for i, (_, w, _, _) in enumerate(columns, start=1)}
    _title_area(ws, title, intro, widths)
    _headers(ws, 4, [text for _, _, text, _ in columns])
    for col, (role, _, _, editable) in enumerate(columns, start=1):
        cell = ws.cell(row=5, column=col)
        cell.font = BODY
        cell.border = BOX
        cell.alignment = WRAP_TOP
        cell.fill = INPUT_FILL if editable else LOCKED_FILL
        if editable:
            cell.protection = UNLOCKED
        if role == "deadline":
            cell.number_format = "dd.mm.yyyy"
            cell.alignment = Alignment(horizontal="center", vertical="top")
    ws.row_dimensions[5].height = height
    ws.freeze_panes = "A5"
    ws.print_title_rows = "4:4"


def _control(ws: Worksheet) -> None:
    _table_sheet(
        ws,
        '{{ t("wb.control.title") }} – {{ unit.name }}',
        '{{ t("wb.control.intro") }}',
        [
            ("check", 55, '{{ t("wb.control.col.check") }}', False),
            ("count", 10, '{{ t("wb.control.col.count") }}', False),
            ("fix", 70, '{{ t("wb.control.col.fix") }}', False),
        ],
        20,
    )
    ws["B5"].alignment = Alignment(horizontal="center", vertical="top")
    ws["B5"].font = Font(name="Calibri", size=11, bold=True)
    for col in range(1, 4):
        cell = ws.cell(row=6, column=col)
        cell.font = Font(name="Calibri", size=14, bold=True, color=DARK)
        cell.border = Border(
            top=Side(style="medium", color=DARK), bottom=Side(style="medium", color=DARK)
        )
        cell.alignment = Alignment(vertical="center", horizontal="center" if col == 2 else None)
    ws.row_dimensions[6].height = 28


def build(path: Path) -> Path:
    """Write the template to ``path`` and return it."""
    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = "Veiledning"
    _guide(guide)
    _scorecard(wb.create_sheet("Målekort"))
    _table_sheet(
        wb.create_sheet("Tiltak"),
        '{{ t("wb.actions.title") }} – {{ unit.name }}',
        '{{ t("wb.actions.intro") }}',
        [
            ("code", 12, '{{ t("wb.actions.col.code") }}', True),
            ("action", 50, '{{ t("wb.actions.col.action") }}', True),
            ("responsible", 22, '{{ t("wb.actions.col.responsible") }}', True),
            ("deadline", 13, '{{ t("wb.actions.col.deadline") }}', True),
            ("status", 14, '{{ t("wb.actions.col.status") }}', True),
        ],
        None,  # no fixed height: Excel grows a row as staff type into it; blanks print small
    )
    _table_sheet(
        wb.create_sheet("Vurdering"),
        '{{ t("wb.assessment.title") }} – {{ unit.name }}',
        '{{ t("wb.assessment.intro") }}',
        [
            ("area", 24, '{{ t("wb.assessment.col.area") }}', False),
            ("assessment", 70, '{{ t("wb.assessment.col.assessment") }}', True),
            ("learned", 70, '{{ t("wb.assessment.col.learned") }}', True),
        ],
        110,
    )
    _control(wb.create_sheet("Kontroll"))
    wb.save(path)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "enhet.xlsx"
    print(build(out))
