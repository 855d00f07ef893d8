"""Identify and validate one read workbook against the definition (DESIGN §5).

Works on :class:`bms_excel.reader.WorkbookData` only — plain values and structure facts — so the
same checks run on a file from the submissions folder, on a single e-mail attachment, and on the
live contents of a workbook open in Excel (the xlwings Valider button).

Validation is lazy: every problem in a file becomes a :class:`Finding`; nothing stops at the
first. Two steps, one module each: :mod:`~bms_excel.validate.identity` (whose workbook is it,
from ``_meta`` and its signature), then, for a trusted workbook, the extraction of its inputs
(:mod:`~bms_excel.validate.scorecard`, :mod:`~bms_excel.validate.texts`), which share one
:class:`~bms_excel.validate.context.FileContext`.
"""

from __future__ import annotations

from bms_excel.errors import Finding
from bms_excel.layout import UnitLayout, build_layout
from bms_excel.model import Definition
from bms_excel.reader import WorkbookData
from bms_excel.validate.context import Extract, FileContext, Findings, definition_index
from bms_excel.validate.identity import UNREAD_SHEETS, Identity, identify, read_meta
from bms_excel.validate.scorecard import extract_values
from bms_excel.validate.texts import extract_actions, extract_assessments
from bms_excel.xlsx.cells import a1, parse_a1
from bms_excel.xlsx.limits import CELL_TEXT_LIMIT, over_cell_limit

__all__ = [
    "UNREAD_SHEETS",
    "Extract",
    "Finding",
    "Identity",
    "a1",
    "identify",
    "parse_a1",
    "read_meta",
    "validate_data",
]


_SURELY_FITS = CELL_TEXT_LIMIT // 2


def validate_data(
    data: WorkbookData,
    definition: Definition,
    secret: bytes,
    file: str,
    *,
    sha256: str | None = None,
    expected_period: str | None = None,
) -> Extract:
    """Identify ``data`` and, when it can be trusted, check and extract every input."""
    ident, findings = identify(data, definition, secret, file, expected_period)
    extract = Extract(identity=ident, findings=list(findings))
    if not ident.trusted or ident.unit is None or ident.period is None:
        return extract
    index = definition_index(definition)
    unit = index.units[ident.unit]
    layout = build_layout(definition, unit, ident.period, ident.language)
    ctx = FileContext(data, index, unit, layout, ident, sha256, Findings(file), extract)
    ctx.renamed = _check_structure(data, layout, ctx.findings)
    _check_text_lengths(data, ctx.findings)
    extract_values(ctx)
    extract_actions(ctx)
    extract_assessments(ctx)
    extract.findings.extend(ctx.findings.items)
    return extract


def _check_text_lengths(data: WorkbookData, out: Findings) -> None:
    """A text longer than an Excel cell can hold: only a doctored file has one.

    It is kept whole in the history; the master shows it cut to a cell's limit.
    """
    for sheet, cells in data.values.items():
        # A text within half the limit always fits (at most two UTF-16 units per character).
        long = [(rc, v) for rc, v in cells.items() if type(v) is str and len(v) > _SURELY_FITS]
        for (row, col), value in long:
            if (n := over_cell_limit(value)) is not None:
                out.add("text-too-long", sheet, a1(row, col), n=n)


def _check_structure(data: WorkbookData, layout: UnitLayout, out: Findings) -> dict[str, str]:
    """Report sheet and protection changes; return expected name → renamed sheet.

    A sheet counts as renamed (and its values are still read) when it is the only missing
    sheet and the only unexpected one: renaming a tab is the commonest careless edit.
    """
    names = layout.sheets
    missing = [n for n in names.visible() if n not in data.values and data.sheet(n) is None]
    for name in missing:
        out.add("sheet-missing", name)
    known = {*names.visible(), names.lists, names.meta}
    unexpected = [s.name for s in data.sheets if s.name not in known]
    for name in unexpected:
        out.add("unexpected-sheet", name)
    renamed = {missing[0]: unexpected[0]} if len(missing) == len(unexpected) == 1 else {}
    if not data.structure_known:
        return renamed
    for name in (names.scorecard, names.actions, names.assessment):
        info = data.sheet(renamed.get(name, name))
        if info is not None and not info.protected:
            out.add("protection-removed", info.name)
    meta = data.sheet(names.meta)
    if meta is not None and meta.state == "visible":
        out.add("meta-visible", names.meta)
    # Saving in LibreOffice (or another program than Excel) turns the very hidden helper sheets
    # into merely hidden ones and drops the workbook structure protection. The file is still
    # good; the controller only learns it went through another program.
    helpers = [s for s in (meta, data.sheet(names.lists)) if s is not None]
    if any(s.state == "hidden" for s in helpers) or not data.structure_locked:
        out.add("saved-by-other-program")
    return renamed
