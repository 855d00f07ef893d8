"""Excel's limits, and the checks the writers run before saving: names, formulas, cell text.

Limits that the XSDs do not express and that trigger Excel's "We found a problem with some
content" repair dialog, drop a validation or rule, or give ``#NAME?``. Problems are values with
a stable kebab-case ``rule``; messages are developer-facing English. Limits are counted in
UTF-16 code units, as Excel counts them. The whole-package check (zip, ECMA-376 schemas, these
rules over a saved file) is a test tool: ``tests/ooxml_check.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.worksheet import Worksheet

from bms_excel.i18n import t
from bms_excel.xlsx.cells import column_number

Severity = Literal["error", "warning"]

SHEET_NAME_MAX: Final = 31  # [MS-OI29500] 2.1.578
NAME_MAX: Final = 255  # [MS-OI29500] 2.1.568, definedName@name 1..255
FORMULA_MAX: Final = 8192
CELL_TEXT_LIMIT: Final = 32767
cell_text_limit: Final = CELL_TEXT_LIMIT  # the older name, kept for its callers
HYPERLINK_MAX: Final = 2079  # Excel 2016+; XlsxWriter uses the same limit
COLUMN_WIDTH_MAX: Final = 255
ROW_HEIGHT_MAX: Final = 409
MAX_ROW: Final = 1048576
MAX_COL: Final = 16384
PART_SIZE_MAX: Final = 256 * 1024 * 1024  # refuse zip bombs before inflating a part
#: Excel's data-validation limits ([MS-OI29500] 2.1.613; inline list: XlsxWriter#89, #562).
DV_LIMITS: Final[Mapping[str, int]] = MappingProxyType(
    {"list": 255, "prompt": 255, "error": 224, "promptTitle": 32, "errorTitle": 32}
)

_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")
_R1C1 = re.compile(r"^[Rr][0-9]*([Cc][0-9]*)?$|^[Cc][0-9]*$")
_FUNC_CALL = re.compile(r"(?<![\w.])((?:_xl[a-z]+\.)*[^\W\d][\w.]*)\s*\(", re.IGNORECASE)
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_ARRAY_CONST = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class Problem:
    """One reason Excel may repair, reject or mis-evaluate a workbook."""

    severity: Severity
    part: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.part or '<package>'}: {self.severity}: {self.message} [{self.rule}]"


# ------------------------------------------------------------------ pure helpers
def _u16len(text: str) -> int:
    """Length in UTF-16 code units, which is how Excel counts characters."""
    return len(text.encode("utf-16-le")) // 2


def over_cell_limit(text: str) -> int | None:
    """Excel's length of ``text`` when no cell can hold it (> 32 767), else ``None``.

    Cheap for the usual short text: at most two UTF-16 units per character.
    """
    if len(text) <= CELL_TEXT_LIMIT // 2:
        return None
    n = _u16len(text)
    return n if n > CELL_TEXT_LIMIT else None


def is_cell_reference(name: str) -> bool:
    """True when Excel would read ``name`` as a cell (``KPI1``, ``T1``, ``R1C1``, ``R``, ``C``)."""
    m = _A1.match(name)
    if m and column_number(m.group(1)) <= MAX_COL and 1 <= int(m.group(2)) <= MAX_ROW:
        return True
    return bool(_R1C1.match(name))


def valid_sheet_name(name: str) -> str | None:
    """Why Excel would reject ``name`` as a sheet name, or None when it is fine."""
    if not 1 <= _u16len(name) <= SHEET_NAME_MAX:
        return f"sheet name {name!r} must be 1..{SHEET_NAME_MAX} characters"
    if _SHEET_NAME_FORBIDDEN.search(name):
        return f"sheet name {name!r} contains one of [ ] : * ? / \\"
    if name.startswith("'") or name.endswith("'"):
        return f"sheet name {name!r} starts or ends with an apostrophe"
    if name.casefold() == "history":
        return "sheet name 'History' is reserved by Excel"
    return None


def valid_defined_name(name: str, what: str = "defined name") -> str | None:
    """Why Excel would reject ``name`` as a defined or table name, or None when it is fine."""
    if not 1 <= _u16len(name) <= NAME_MAX:
        return f"{what} {name!r} must be 1..{NAME_MAX} characters"
    if name.startswith("_xlnm."):  # Excel's built-in names (Print_Area, _FilterDatabase, ...)
        return None
    first_ok = name[0].isalpha() or name[0] in "_\\"
    if not first_ok or not all(ch.isalnum() or ch in "_.\\?" for ch in name[1:]):
        return (
            f"{what} {name!r} must start with a letter, _ or \\ and contain only letters, "
            "digits, _ . \\ ?"
        )
    if is_cell_reference(name):
        return f"{what} {name!r} is a cell reference (A1 or R1C1 style); use a prefix like n_"
    return None


def check_names(
    sheet_names: Sequence[str],
    defined_names: Iterable[str] = (),
    table_names: Iterable[str] = (),
    *,
    part: str = "xl/workbook.xml",
) -> list[Problem]:
    """Check planned sheet, workbook-scoped defined and table names before a workbook is saved."""
    out: list[Problem] = []
    seen: dict[str, str] = {}
    for name in sheet_names:
        reason = valid_sheet_name(name)
        if reason:
            out.append(Problem("error", part, "sheet-name", reason))
        if name.casefold() in seen:
            msg = f"sheet names {seen[name.casefold()]!r} and {name!r} clash (case-insensitive)"
            out.append(Problem("error", part, "sheet-name-duplicate", msg))
        seen[name.casefold()] = name
    names: set[str] = set()
    for kind, rule, values in (
        ("defined name", "defined-name", defined_names),
        ("table name", "table-name", table_names),
    ):
        for name in values:
            reason = valid_defined_name(name, kind)
            if reason:
                out.append(Problem("error", part, rule, reason))
            if name.casefold() in names:
                out.append(Problem("error", part, f"{rule}-duplicate", f"{kind} {name!r} reused"))
            names.add(name.casefold())
    return out


@cache
def _function_names() -> Mapping[str, frozenset[str]]:
    """``{"2007": ..., "future": ...}`` from ``_xsd/excel-functions.txt``."""
    groups: dict[str, set[str]] = {}
    current: set[str] = set()
    for line in (
        (Path(__file__).with_name("excel-functions.txt")).read_text(encoding="utf-8").splitlines()
    ):
        if line.startswith("["):
            current = groups.setdefault(line.strip("[]"), set())
        elif line and not line.startswith("#"):
            current.add(line.strip())
    return {k: frozenset(v) for k, v in groups.items()}


def _mask_quotes(formula: str) -> tuple[str, bool]:
    """Blank string literals and quoted sheet names; the flag is False for an unclosed quote."""
    out: list[str] = []
    i = 0
    while i < len(formula):
        ch = formula[i]
        if ch not in "\"'":
            out.append(ch)
            i += 1
            continue
        j = i + 1
        while True:
            k = formula.find(ch, j)
            if k < 0:
                return "".join(out), False
            if formula[k + 1 : k + 2] != ch:  # a doubled quote is an escaped quote
                break
            j = k + 2
        out.append('""' if ch == '"' else "S")
        i = k + 1
    return "".join(out), True


def formula_problems(
    formula: str, *, where: str = "formula", part: str = "", known_names: Iterable[str] = ()
) -> list[Problem]:
    """Syntax Excel rejects in a stored formula (text as in the file, without the leading ``=``).

    ``known_names`` are callable defined names (LAMBDAs); unknown functions are errors
    because Excel shows ``#NAME?`` (Norwegian names like ``SUMMER`` included).
    """
    out: list[Problem] = []

    def add(rule: str, msg: str, severity: Severity = "error") -> None:
        out.append(Problem(severity, part, rule, f"{where}: {msg} in {formula[:60]!r}"))

    if _u16len(formula) > FORMULA_MAX:
        add("formula-length", f"formula longer than {FORMULA_MAX} characters")
    if formula.startswith("="):
        add("formula-equals", "leading '=' (the file format stores formulas without it)")
    body, closed = _mask_quotes(formula)
    if not closed:
        add("formula-quotes", "unbalanced quotes")
        return out  # the rest of the formula cannot be told apart from string content
    while _BRACKETS.search(body):  # structured references may nest brackets
        body = _BRACKETS.sub("", body)
    depth = 0
    for ch in body:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            break
    if depth:
        add("formula-parentheses", "unbalanced parentheses")
    if ";" in _ARRAY_CONST.sub("{}", body):  # ';' is legal only inside array constants
        add("formula-separator", "';' as argument separator (the file format uses ',')")
    known = {n.upper() for n in known_names}
    functions = _function_names()
    for m in _FUNC_CALL.finditer(body):
        base = m.group(1).upper()
        while base.startswith("_XL") and "." in base:  # _xlfn. _xlws. _xludf. _xll. prefixes
            base = base.split(".", 1)[1]
        prefixes = m.group(1).upper()[: -len(base)]
        if "_XLUDF." in prefixes or "_XLL." in prefixes:  # declared VBA / add-in functions
            continue
        if base in functions["future"]:
            if "_XLFN." not in prefixes:
                add("formula-xlfn", f"{base} needs the _xlfn. prefix (Excel shows #NAME?)")
        elif base not in functions["2007"] and base not in known and "_XLFN." not in prefixes:
            add("formula-unknown-function", f"unknown function {m.group(1)} (#NAME? in Excel)")
    return out


def fit_text(text: str) -> str:
    """``text`` without control characters, cut to what a cell holds (ending in "…").

    For report cells showing what units wrote (the master): a text no real Excel cell could
    hold can only come from a doctored file, and must not stop the report for everyone else.
    The whole text stays in the history database.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if over_cell_limit(text) is None:
        return text
    cut = text.encode("utf-16-le")[: (CELL_TEXT_LIMIT - 1) * 2]
    return cut.decode("utf-16-le", errors="ignore") + "…"


#: Formulas known to be clean. The same formulas recur in every unit's workbook (they differ
#: only where the layout does), so each distinct text is parsed once per process.
CLEAN_FORMULAS: set[str] = set()


def formula_messages(formula: str, where: str) -> list[str]:
    """:func:`formula_problems` of ``formula`` as texts naming ``where``."""
    if formula in CLEAN_FORMULAS:
        return []
    problems = formula_problems(formula, where=where)
    if not problems:
        if len(CLEAN_FORMULAS) > 200_000:
            CLEAN_FORMULAS.clear()
        CLEAN_FORMULAS.add(formula)
    return [p.message for p in problems]


def rule_problems(
    ws: Worksheet, check_formula: Callable[[str, str], list[str]] | None = None
) -> list[str]:
    """Texts and formulas of ``ws``'s data validations and conditional formats.

    ``check_formula(formula, where)`` returns problem texts (default: :func:`formula_messages`;
    the master passes a cached one, its rules differ only in cell references).
    """
    check = check_formula or formula_messages
    out: list[str] = []
    for dv in ws.data_validations.dataValidation:
        for what, value in (
            ("prompt", dv.prompt),
            ("error", dv.error),
            ("promptTitle", dv.promptTitle),
            ("errorTitle", dv.errorTitle),
        ):
            if value and len(value) > DV_LIMITS[what]:
                limit = DV_LIMITS[what]
                message = t("generate.dv-too-long", None, what=what, n=len(value), limit=limit)
                out.append(f"'{ws.title}'!{dv.sqref}: {message}")
        for formula in (dv.formula1, dv.formula2):
            if formula:
                out += check(formula, f"'{ws.title}'!{dv.sqref}")
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            for formula in rule.formula or ():
                out += check(formula, f"'{ws.title}'!{cf.sqref}")
    return out
