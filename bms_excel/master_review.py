"""Read the controller's decisions back from a master workbook's Innsending sheet.

The master lists every unit on Innsending with a column «Vurdering fra controller» (a
dropdown: godkjent / returnert) and «Begrunnelse for retur». A controller fills them in and
saves; :func:`read_master_reviews` reads them with the defensive reader (the file is opened
read-only and never saved) and returns one decision per filled row. A row the tool cannot use
is a located finding and the other rows still count.
"""

from __future__ import annotations

from pathlib import Path

from bms_excel.codes import make_finding
from bms_excel.errors import ConfigError, Finding, WorkbookReadError
from bms_excel.i18n import LANGUAGES, t
from bms_excel.model import Definition
from bms_excel.reader import CellValue, WorkbookData, read_submission
from bms_excel.xlsx.cells import a1

#: The header row of Innsending; data rows follow it.
HEADER_ROW = 3
_DECISIONS = ("approved", "returned")


def _words(key: str) -> set[str]:
    return {t(key, lang).strip().casefold() for lang in LANGUAGES}


def _text(value: CellValue | None) -> str:
    return "" if value is None else str(value).strip()


def master_period(data: WorkbookData) -> str | None:
    """The period a master workbook is for, from its Om sheet (``2026-T1 (1. tertial …)``)."""
    about = _words("master.sheet.about")
    label = _words("master.about.period")
    sheet = next((s for s in data.values if s.strip().casefold() in about), None)
    cells = data.values.get(sheet, {}) if sheet is not None else {}
    for (row, col), value in cells.items():
        if col == 1 and _text(value).casefold() in label:
            return _text(cells.get((row, 2))).split(" ", 1)[0] or None
    return None


def read_master_reviews(
    path: Path, definition: Definition, period: str | None = None
) -> tuple[list[tuple[str, str, str | None]], list[Finding]]:
    """``(unit, decision, reason)`` for each unit with a decision on ``path``'s Innsending
    sheet, and the findings of rows that cannot be used. A master of another period than
    ``period`` (its Om sheet says which) is a :class:`~bms_excel.errors.ConfigError`.

    Raises :class:`~bms_excel.errors.WorkbookReadError` when the file is not a readable
    workbook or has no Innsending sheet with the controller's column.
    """
    name = path.name
    sheet_names = _words("master.sheet.submissions")
    result = read_submission(path, display_name=name)
    data = result.data
    if data is None:
        problem = next((f for f in result.findings if f.severity == "error"), None)
        message = problem.message if problem else t("review.not-a-master", path=name)
        raise WorkbookReadError(message, name, problem.code if problem else "not-a-workbook")
    found = master_period(data)
    if period is not None and found is not None and found != period:
        raise ConfigError(t("review.other-period", path=name, found=found, period=period))
    sheet = next((s for s in data.values if s.strip().casefold() in sheet_names), None)
    cells = data.values.get(sheet, {}) if sheet is not None else {}
    headers = {col: _text(v).casefold() for (row, col), v in cells.items() if row == HEADER_ROW}
    review_col = next((c for c, h in headers.items() if h in _words("master.col.review")), None)
    if sheet is None or review_col is None:
        raise WorkbookReadError(t("review.not-a-master", path=name), name, "not-a-master")
    reason_col = review_col + 1
    words = {key: _words(f"dialogue.kind.{key}") for key in _DECISIONS}
    units = {u.code for u in definition.units}
    decisions: list[tuple[str, str, str | None]] = []
    findings: list[Finding] = []
    last = max((row for row, _ in cells), default=HEADER_ROW)
    for row in range(HEADER_ROW + 1, last + 1):
        word = _text(cells.get((row, review_col))).casefold()
        if not word:
            continue
        unit = _text(cells.get((row, 1)))
        reason = _text(cells.get((row, reason_col))) or None
        where = a1(row, review_col)
        decision = next((key for key, known in words.items() if word in known), None)
        if unit not in units:
            findings.append(
                make_finding(
                    "review-unknown-unit",
                    message_key="review.unknown-unit",
                    file=name,
                    sheet=sheet,
                    cell=where,
                    unit=unit,
                )
            )
        elif decision is None:
            findings.append(
                make_finding(
                    "review-unknown-decision",
                    message_key="review.unknown-decision",
                    file=name,
                    sheet=sheet,
                    cell=where,
                    value=word,
                )
            )
        elif decision == "returned" and reason is None:
            cell = a1(row, reason_col)
            findings.append(
                make_finding("review-reason-missing", file=name, sheet=sheet, cell=cell, unit=unit)
            )
        else:
            decisions.append((unit, decision, reason))
    return decisions, findings
