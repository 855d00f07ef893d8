"""The finding-code registry: every code a finding or an error can carry, in one table.

Each code has one severity, the family it belongs to (the README's finding-code tables, one
per family, are rendered from :data:`FAMILIES` and :data:`CODES` and a test keeps them equal)
and, where one message says it, the catalogue key of its message. :func:`make_finding` makes a
:class:`~bms_excel.errors.Finding` from a registered code and the message's parameters, so the
severity cannot drift from the table.

Pure: nothing but the catalogue and the Finding value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bms_excel.errors import Finding, Severity
from bms_excel.i18n import t


@dataclass(frozen=True, slots=True)
class Code:
    """One row of a finding-code table."""

    code: str
    severity: Severity
    family: str
    #: What the code means, in English (the README's "meaning" column).
    meaning: str
    #: The catalogue key of the message, when one message says it (else the maker passes it).
    key: str | None = None
    #: Shown after the severity in the README (``(exit 2)``: the code stops the command).
    note: str = ""


#: Family → the README's heading paragraph above its table, in README order.
FAMILIES: dict[str, str] = {
    "definition": "**The definition** (`bms check`, and loading it anywhere). In the definition workbook the same\ncodes are located to `'sheet'!cell`; there `unknown-field` is also an unknown column or row,\n`duplicate-key` a column twice, `unknown-reference` a row whose parent code (the goal's focus\narea …) is not on the parent sheet, `missing-field` a row without one, `invalid-value` a\ntarget and a band (or a scope and a list) both filled in, and `invalid-format` a\n`KODE=verdi` list that is not one:",
    "reader": "**Reading a returned file** (`bms collect`, `bms validate`):",
    "workbook": "**Identity and contents of a returned workbook:**",
    "kostra": "**KOSTRA imports** (Statistics Norway):",
    "values": "**Controller figures** (`bms import-values`):",
    "review": "**The controller's decisions on a master** (`bms review --from MASTER`):",
    "feedback": "**The controller's comments for feedback** (`bms feedback --comments FILE`):",
    "command": "**Errors that stop a command** (the `code` of a `BmsError`):",
}

#: Every registered code, family by family in README order (a code may stand in two families).
TABLE: tuple[Code, ...] = (
    Code(
        "file-unreadable",
        "error",
        "definition",
        "the file is missing, unreadable or not UTF-8",
        None,
    ),
    Code(
        "file-too-large",
        "error",
        "definition",
        "the file is over 10 MB",
        "definition.file-too-large",
    ),
    Code(
        "invalid-character",
        "error",
        "definition",
        "a control character YAML forbids (NUL, BEL …): not a text file",
        "definition.invalid-character",
    ),
    Code("yaml-syntax", "error", "definition", "YAML syntax error", "definition.yaml-syntax"),
    Code(
        "too-many-aliases",
        "error",
        "definition",
        "more than 10 000 aliases (`*name`)",
        "definition.too-many-aliases",
    ),
    Code(
        "alias-expansion",
        "error",
        "definition",
        "the aliases expand to more than 100 000 extra values (an alias bomb)",
        "definition.alias-expansion",
    ),
    Code(
        "recursive-alias",
        "error",
        "definition",
        "an alias that contains itself",
        "definition.recursive-alias",
    ),
    Code(
        "nesting-too-deep",
        "error",
        "definition",
        "nested deeper than 40 levels",
        "definition.nesting-too-deep",
    ),
    Code(
        "too-many-values",
        "error",
        "definition",
        "more than 250 000 values",
        "definition.too-many-values",
    ),
    Code(
        "value-too-long",
        "error",
        "definition",
        "a text (or key) over 5 000 characters; the rest is still checked",
        "definition.value-too-long",
    ),
    Code(
        "missing-sheet",
        "error",
        "definition",
        "the definition workbook lacks one of its sheets (Sektorer, Indikatorer …)",
        None,
    ),
    Code(
        "duplicate-key",
        "error",
        "definition",
        "the same key twice in a mapping (YAML would silently keep the last)",
        "definition.duplicate-key",
    ),
    Code(
        "missing-field",
        "error",
        "definition",
        "a required field is missing",
        "definition.missing-field",
    ),
    Code(
        "unknown-field",
        "error",
        "definition",
        "a field the format does not know; the closest known field is suggested",
        "definition.unknown-field",
    ),
    Code("not-a-number", "error", "definition", "a number was expected", "definition.not-a-number"),
    Code(
        "invalid-format",
        "error",
        "definition",
        "a code, e-mail, period code, colour or organisation number of the wrong form",
        None,
    ),
    Code(
        "invalid-value",
        "error",
        "definition",
        "wrong type, out of bounds, not one of the allowed values",
        None,
    ),
    Code("duplicate-code", "error", "definition", "a code used twice", "check.duplicate-code"),
    Code(
        "code-not-nested",
        "error",
        "definition",
        "a factor code does not start with its focus area's code, or an indicator code with `<factor>.`",
        None,
    ),
    Code(
        "unknown-reference",
        "error",
        "definition",
        "a sector, unit, period, link end or KOSTRA region that does not exist",
        "check.unknown-reference",
    ),
    Code(
        "missing-weight-attribute",
        "error",
        "definition",
        "a unit in scope lacks the `weight_by` attribute",
        "check.missing-weight-attribute",
    ),
    Code(
        "link-cycle",
        "error",
        "definition",
        "the cause–effect links form a cycle (named: `T1 → O1 → T1`)",
        "check.link-cycle",
    ),
    Code(
        "threshold-direction",
        "error",
        "definition",
        "limits on the wrong side for the direction, thresholds (or `status_rule: thresholds`/`percent_of_target`) with `range`, `range` without a target",
        None,
    ),
    Code(
        "status-rule-incomplete",
        "error",
        "definition",
        "a `status_rule` without what it needs: `band` without a target, `thresholds` without thresholds or a target band, `percent_of_target` without a single target",
        None,
    ),
    Code(
        "target-out-of-range",
        "error",
        "definition",
        "a target, band end or threshold outside `valid_range`",
        "check.target-out-of-range",
    ),
    Code(
        "missing-owner",
        "error",
        "definition",
        "an indicator without an owner",
        "check.missing-owner",
    ),
    Code(
        "deadline-before-period-end",
        "error",
        "definition",
        "a period's deadline is before its end",
        "check.deadline-before-period-end",
    ),
    Code(
        "count-with-decimals",
        "error",
        "definition",
        "an indicator measured in `antall` (a count) with `decimals` above 0",
        "check.count-with-decimals",
    ),
    Code(
        "missing-target",
        "warning",
        "definition",
        "no target and no thresholds: monitored, never coloured",
        "check.missing-target",
    ),
    Code(
        "missing-contact",
        "warning",
        "definition",
        "a unit without a contact e-mail cannot be on the reminder list",
        "check.missing-contact",
    ),
    Code(
        "focus-area-unused",
        "warning",
        "definition",
        "a focus area without indicators",
        "check.focus-area-unused",
    ),
    Code(
        "focus-areas-unbalanced",
        "warning",
        "definition",
        "one focus area holds more than `max_focus_area_share` of the indicators",
        "check.focus-areas-unbalanced",
    ),
    Code(
        "too-many-indicators",
        "warning",
        "definition",
        "a unit has more indicators than `max_indicators_per_unit` («tørre å velge bort»)",
        "check.too-many-indicators",
    ),
    Code(
        "only-activity",
        "warning",
        "definition",
        "too few indicators at Amdam's result levels 2–4: the scorecard measures mostly activity",
        "check.only-activity",
    ),
    Code(
        "periods-unordered",
        "warning",
        "definition",
        "a period ends before the one listed above it",
        "check.periods-unordered",
    ),
    Code(
        "unit-without-indicators",
        "warning",
        "definition",
        "a unit with no indicators in scope",
        "check.unit-without-indicators",
    ),
    Code("empty-sector", "warning", "definition", "a sector without units", "check.empty-sector"),
    Code(
        "kostra-incomplete",
        "warning",
        "definition",
        "a KOSTRA indicator without a region for the county or its units",
        "check.kostra-incomplete",
    ),
    Code(
        "county-target-missing",
        "warning",
        "definition",
        "a `sum` or `weighted_mean` indicator without a county target: its county value gets no colour",
        "check.county-target-missing",
    ),
    Code(
        "target-year-outside-plan",
        "warning",
        "definition",
        "a yearly target (`targets`) outside the economic plan `budget_year` … `budget_year + 3`",
        "check.target-year-outside-plan",
    ),
    Code(
        "missing-result-level",
        "info",
        "definition",
        "an indicator without a `result_level`",
        "check.missing-result-level",
    ),
    Code("empty-file", "error", "reader", "0 bytes or only whitespace", "reader.empty-file"),
    Code(
        "encrypted",
        "error",
        "reader",
        "password-protected: ask the unit to remove the password and send it again",
        "reader.encrypted",
    ),
    Code(
        "not-a-workbook",
        "error",
        "reader",
        "a PDF, CSV, text or unknown file (the kind is named)",
        "reader.not-a-workbook",
    ),
    Code(
        "saved-as-xls",
        "warning",
        "reader",
        "saved as legacy .xls: values read, structure not checked",
        "reader.saved-as-xls",
    ),
    Code(
        "saved-as-ods",
        "warning",
        "reader",
        "saved as .ods: values read, structure not checked",
        "reader.saved-as-ods",
    ),
    Code("xlsb-unsupported", "error", "reader", "saved as binary .xlsb", "reader.xlsb-unsupported"),
    Code("corrupt-zip", "error", "reader", "truncated or damaged file", "reader.corrupt-zip"),
    Code(
        "corrupt-workbook",
        "error",
        "reader",
        "the package is intact but a part cannot be read",
        "reader.corrupt-workbook",
    ),
    Code(
        "zip-bomb",
        "error",
        "reader",
        "a part inflates far beyond its size or beyond the size the archive declares, or too many parts",
        None,
    ),
    Code("too-large", "error", "reader", "over 50 MB, or over 200 MB unpacked", None),
    Code(
        "hostile-xml",
        "error",
        "reader",
        "a DTD or entity declaration in the package (billion laughs, external entities)",
        "reader.hostile-xml",
    ),
    Code(
        "macro-workbook",
        "warning",
        "reader",
        "an .xlsm: values read, macros never run",
        "reader.macro-workbook",
    ),
    Code(
        "timeout",
        "error",
        "reader",
        "reading took longer than the per-file budget (or the hard CPU-time limit stopped it)",
        "reader.timeout",
    ),
    Code(
        "reader-crashed",
        "error",
        "reader",
        "the process reading the file died (native abort, out of memory, a signal); the other files are read as usual",
        "reader.reader-crashed",
    ),
    Code(
        "cells-outside-form",
        "warning",
        "reader",
        "cells far outside the form's own area (e.g. `XFD1048576`): left out, the rest of the sheet read",
        "reader.cells-outside-form",
    ),
    Code(
        "sheet-too-large",
        "error",
        "reader",
        "cells far outside the form that cannot be located one by one: the sheet is not read",
        "reader.sheet-too-large",
    ),
    Code(
        "unreadable-file",
        "error",
        "reader",
        "a broken link, a device, or no permission",
        "reader.unreadable-file",
    ),
    Code(
        "symlink-outside",
        "error",
        "reader",
        "a link pointing outside the submissions folder (not followed)",
        "reader.symlink-outside",
    ),
    Code(
        "symlink-loop",
        "warning",
        "reader",
        "a folder link to a folder already read (a loop or a copy): not followed again",
        "reader.symlink-loop",
    ),
    Code(
        "skipped-lock-file",
        "info",
        "reader",
        "Excel's `~$…` owner file or LibreOffice's `.~lock…#`",
        "reader.skipped-lock-file",
    ),
    Code(
        "skipped-hidden",
        "info",
        "reader",
        "hidden files and folders, `Thumbs.db`, `__MACOSX`",
        "reader.skipped-hidden",
    ),
    Code("skipped-temp-file", "info", "reader", "`*.tmp`", "reader.skipped-temp-file"),
    Code(
        "not-a-bms-workbook",
        "error",
        "workbook",
        "no `_meta`: not a workbook bms made",
        "validate.not-a-bms-workbook",
    ),
    Code(
        "meta-incomplete", "error", "workbook", "`_meta` lacks fields", "validate.meta-incomplete"
    ),
    Code(
        "bad-signature",
        "error",
        "workbook",
        "`_meta` was edited, or the workbook was signed with another county's secret",
        "validate.bad-signature",
    ),
    Code(
        "wrong-county",
        "error",
        "workbook",
        "the workbook belongs to another county",
        "validate.wrong-county",
    ),
    Code(
        "unknown-unit",
        "error",
        "workbook",
        "the unit is not in the definition",
        "validate.unknown-unit",
    ),
    Code(
        "unknown-period",
        "error",
        "workbook",
        "the period is not in the definition",
        "validate.unknown-period",
    ),
    Code(
        "wrong-period",
        "error",
        "workbook",
        "a workbook for another period than the one being collected",
        "validate.wrong-period",
    ),
    Code(
        "old-template",
        "error",
        "workbook",
        "made with an older template version: send a new workbook",
        "validate.old-template",
    ),
    Code(
        "meta-sheet-missing",
        "warning",
        "workbook",
        "the `_meta` sheet was deleted; identified from the signed document properties",
        "validate.meta-sheet-missing",
    ),
    Code(
        "definition-changed",
        "warning",
        "workbook",
        "the scorecard changed after the workbook was made; values read by code",
        "validate.definition-changed",
    ),
    Code(
        "sheet-missing",
        "error",
        "workbook",
        "a sheet was deleted or renamed",
        "validate.sheet-missing",
    ),
    Code(
        "unexpected-sheet",
        "warning",
        "workbook",
        "a sheet the workbook did not have (not read)",
        "validate.unexpected-sheet",
    ),
    Code(
        "protection-removed",
        "warning",
        "workbook",
        "sheet protection removed: locked cells are checked against the definition",
        "validate.protection-removed",
    ),
    Code(
        "meta-visible",
        "warning",
        "workbook",
        "the hidden `_meta` sheet was made visible",
        "validate.meta-visible",
    ),
    Code(
        "saved-by-other-program",
        "info",
        "workbook",
        "saved by another program than Excel (LibreOffice makes the helper sheets only hidden and drops the structure protection); accepted as usual",
        "validate.saved-by-other-program",
    ),
    Code(
        "indicator-not-found",
        "error",
        "workbook",
        "an indicator's row was deleted or its code changed",
        "validate.indicator-not-found",
    ),
    Code(
        "structure-changed",
        "warning",
        "workbook",
        "rows or columns inserted/deleted: the value was recovered by its code",
        "validate.structure-changed",
    ),
    Code(
        "locked-cell-changed",
        "warning",
        "workbook",
        "a locked cell (code, name) was edited; the definition applies",
        "validate.locked-cell-changed",
    ),
    Code(
        "formula-in-input",
        "error",
        "workbook",
        "a formula typed over an input cell: a result (its value is not used), a comment, an action or an assessment",
        "validate.formula-in-input",
    ),
    Code(
        "excel-error",
        "error",
        "workbook",
        "a result cell holding an Excel error value (`#DIV/0!`, `#N/A`, `#VALUE!` …): *Ugyldig*, as the workbook shows it, never missing",
        "validate.excel-error",
    ),
    Code(
        "percent-entry",
        "warning",
        "workbook",
        "a `%` indicator's result typed as `68 %` (Excel stores 0.68 in a percent-formatted cell): read as 68, as the workbook's own status does",
        "validate.percent-entry",
    ),
    Code(
        "text-number",
        "error",
        "workbook",
        "a number stored as text (`12,5`, `70 %`, `1 234`): *Ugyldig* in the workbook as well; not used, the message names the number it would be",
        None,
    ),
    Code(
        "not-a-number",
        "error",
        "workbook",
        "a result that is not a number (`i.a.` means not applicable)",
        None,
    ),
    Code(
        "missing-value",
        "warning",
        "workbook",
        "a result left blank (missing, never 0)",
        "validate.missing-value",
    ),
    Code(
        "out-of-range",
        "error",
        "workbook",
        "a result outside the indicator's valid range",
        "validate.out-of-range",
    ),
    Code(
        "comment-required",
        "warning",
        "workbook",
        "the indicator requires a comment for this result",
        "validate.comment-required",
    ),
    Code(
        "formula-injection",
        "warning",
        "workbook",
        "a text starting with `=`, `+`, `-`, `@`: kept verbatim, neutralised in exports",
        "validate.formula-injection",
    ),
    Code(
        "text-too-long",
        "warning",
        "workbook",
        "a text longer than an Excel cell holds (only a doctored file has one): kept whole in the history, cut with … in the master",
        "validate.text-too-long",
    ),
    Code(
        "action-without-text",
        "warning",
        "workbook",
        "an action row without a description",
        "validate.action-without-text",
    ),
    Code(
        "action-without-owner",
        "warning",
        "workbook",
        "an action without a responsible person",
        "validate.action-without-owner",
    ),
    Code(
        "action-without-deadline",
        "warning",
        "workbook",
        "an action without a deadline",
        "validate.action-without-deadline",
    ),
    Code("bad-date", "warning", "workbook", "a deadline that is not a date", "validate.bad-date"),
    Code(
        "absurd-date",
        "warning",
        "workbook",
        "a deadline with an implausible year",
        "validate.absurd-date",
    ),
    Code(
        "date-in-past",
        "warning",
        "workbook",
        "a deadline before the period began",
        "validate.date-in-past",
    ),
    Code(
        "unknown-code",
        "warning",
        "workbook",
        "an action linked to a code that is not the unit's",
        "validate.unknown-code",
    ),
    Code("duplicate-file", "info", "workbook", "the very same file twice (only one is used)", None),
    Code(
        "duplicate-identical",
        "info",
        "workbook",
        "an older copy with the same values (the newest is used)",
        None,
    ),
    Code(
        "duplicate-conflict",
        "error",
        "workbook",
        "several files for one unit with different values: none is used until resolved",
        None,
    ),
    Code("late-submission", "info", "workbook", "delivered after the deadline", None),
    Code(
        "kostra-malformed",
        "error",
        "kostra",
        "invalid or truncated JSON (with line and column)",
        "kostra.malformed",
    ),
    Code(
        "kostra-not-jsonstat",
        "error",
        "kostra",
        "JSON that is not a JSON-stat dataset",
        "kostra.not-jsonstat",
    ),
    Code(
        "kostra-size-mismatch",
        "error",
        "kostra",
        "dimension sizes and values do not agree",
        "kostra.size-mismatch",
    ),
    Code(
        "kostra-wrong-separator",
        "error",
        "kostra",
        "a CSV that is not `;`-separated as SSB exports it",
        "kostra.wrong-separator",
    ),
    Code(
        "kostra-no-header",
        "error",
        "kostra",
        "no row of years and no year column",
        "kostra.no-header",
    ),
    Code(
        "kostra-bad-number",
        "error",
        "kostra",
        "a cell that is neither a number nor an SSB symbol",
        "kostra.bad-number",
    ),
    Code(
        "kostra-unknown-status",
        "warning",
        "kostra",
        "an unknown status symbol",
        "kostra.unknown-status",
    ),
    Code(
        "kostra-bad-period", "warning", "kostra", "a time code without a year", "kostra.bad-period"
    ),
    Code(
        "kostra-no-table",
        "warning",
        "kostra",
        "the file does not name its table",
        "kostra.no-table",
    ),
    Code(
        "kostra-no-region",
        "warning",
        "kostra",
        "the file (or an indicator) names no region",
        "kostra.no-region",
    ),
    Code("kostra-empty", "error", "kostra", "an empty file", "kostra.empty"),
    Code("kostra-unreadable", "error", "kostra", "the file cannot be read", "kostra.unreadable"),
    Code(
        "kostra-no-data",
        "warning",
        "kostra",
        "an indicator has no figure for the period",
        "kostra.no-data",
    ),
    Code("kostra-unused", "info", "kostra", "imported figures no indicator uses", None),
    Code(
        "kostra-other-region",
        "warning",
        "kostra",
        "a table holds only regions the definition does not use",
        "kostra.other-region",
    ),
    Code(
        "kostra-superseded-region",
        "warning",
        "kostra",
        "the region code was retired before the period's year",
        "kostra.superseded-region",
    ),
    Code(
        "kostra-ambiguous",
        "warning",
        "kostra",
        "several figures fit (extra dimensions); none is used",
        "kostra.ambiguous",
    ),
    Code(
        "values-unreadable",
        "error",
        "values",
        "the file cannot be read, is empty, over 20 MB, or neither UTF-8 nor Windows-1252",
        "values.unreadable",
    ),
    Code(
        "values-columns",
        "error",
        "values",
        "the header lacks `period`, `unit`, `indicator` or `value` (line 1)",
        "values.columns",
    ),
    Code(
        "values-fields",
        "error",
        "values",
        "a line with more or fewer fields than the header (`12,5` unquoted in a comma-separated file)",
        "values.fields",
    ),
    Code(
        "values-bad-period",
        "error",
        "values",
        "not a period code (`2026-T1`, `2026`)",
        "values.bad-period",
    ),
    Code("values-empty-key", "error", "values", "no unit or no indicator", "values.empty-key"),
    Code(
        "not-a-number",
        "error",
        "values",
        "a value that is not a number (`abc`; `1.234` with `;`: thousands or decimals?)",
        "value.not-a-number",
    ),
    Code(
        "unknown-reference",
        "error",
        "values",
        "a unit, indicator or period not in the definition",
        None,
    ),
    Code(
        "values-duplicate",
        "error",
        "values",
        "the same period, unit and indicator twice in the file",
        "values.duplicate",
    ),
    Code(
        "value-conflict",
        "warning",
        "values",
        "differs from the unit's own accepted return: says which figure consolidation uses",
        None,
    ),
    Code(
        "review-unknown-decision",
        "error",
        "review",
        "the *Vurdering fra controller* cell is neither *godkjent* nor *returnert*",
        None,
    ),
    Code(
        "review-reason-missing",
        "error",
        "review",
        "*returnert* without a reason in the column beside it",
        "review.reason-missing",
    ),
    Code("review-unknown-unit", "error", "review", "the row's unit is not in the definition", None),
    Code(
        "review-not-possible",
        "error",
        "review",
        "the unit has no accepted return for the period to review",
        None,
    ),
    Code(
        "not-a-master",
        "error",
        "review",
        "the file has no Innsending sheet with the controller's column",
        "review.not-a-master",
        note="(exit 2)",
    ),
    Code(
        "feedback-unknown-reference",
        "warning",
        "feedback",
        "a CSV line whose unit or focus area is not in the definition (the line is not used)",
        "feedback.unknown-reference",
    ),
    Code(
        "feedback-not-a-master",
        "error",
        "feedback",
        "the workbook has no Vurderinger sheet with *Kommentar fra controller*",
        "feedback.not-a-master",
    ),
    Code(
        "command-failed",
        "error",
        "command",
        "the command cannot go on (the message names the first problem)",
        None,
    ),
    Code(
        "definition-invalid",
        "error",
        "command",
        "the definition cannot be loaded; each problem is a finding of its own",
        None,
    ),
    Code("config-error", "error", "command", "`bms.toml` is missing or invalid", None),
    Code(
        "template-error",
        "error",
        "command",
        "a workbook template, placeholder or Excel limit is violated at generate time",
        None,
    ),
    Code(
        "output-error",
        "error",
        "command",
        "an output cannot be written (open in Excel, disk full, no permission)",
        None,
    ),
)

#: Code → its registry row (the first, where a code stands in two families: same severity).
CODES: dict[str, Code] = {}
for _row in TABLE:
    CODES.setdefault(_row.code, _row)


def severity_of(code: str) -> Severity:
    """The registered severity of ``code`` (``KeyError`` for an unregistered code)."""
    return CODES[code].severity


def make_finding(
    code: str,
    /,
    *,
    message_key: str | None = None,
    lang: str | None = None,
    file: str | None = None,
    sheet: str | None = None,
    cell: str | None = None,
    line: int | None = None,
    path: str | None = None,
    extra: dict[str, Any] | None = None,
    message: str | None = None,
    **params: Any,
) -> Finding:
    """A finding of the registered ``code``: its severity from the table, its message from
    the catalogue (``message_key``, default the code's own key) formatted with ``params``.

    ``message`` instead is a message the caller composed from catalogue texts (a located
    object before the problem, an error's own message); the severity still comes from here.
    """
    row = CODES[code]
    if message is None:
        message_key = message_key or row.key
        if message_key is None:
            raise ValueError(f"{code}: no message key registered; pass message_key=")
        message = t(message_key, lang, **params)
    elif message_key is not None or params:
        raise ValueError(f"{code}: pass either message= or a message key and its parameters")
    return Finding(
        code,
        row.severity,
        message,
        file=file,
        sheet=sheet,
        cell=cell,
        line=line,
        path=path,
        extra=extra or {},
    )


def readme_tables() -> str:
    """The README's finding-code tables, family by family, as Markdown."""
    blocks = []
    for family, heading in FAMILIES.items():
        rows = [
            f"| `{c.code}` | {c.severity}{' ' + c.note if c.note else ''} | {c.meaning} |"
            for c in TABLE
            if c.family == family
        ]
        blocks.append(
            "\n".join([heading, "", "| code | severity | meaning |", "|---|---|---|", *rows])
        )
    return "\n\n".join(blocks) + "\n"


if __name__ == "__main__":  # python -m bms_excel.codes: the README's tables
    print(readme_tables(), end="")
