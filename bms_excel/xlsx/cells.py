"""Cell references and XML text: the one A1 helper and the one escape of the package writers.

Pure: no openpyxl, no I/O, nothing else from the package, so the pure core (``layout``) and the
reader may use it too.
"""

from __future__ import annotations

import re

_A1 = re.compile(r"^([A-Z]{1,3})(\d+)$")
#: What lxml escapes in text content (``\r`` as a character reference so it survives).
_NEEDS_ESCAPE = re.compile("[&<>\r]")

#: The children of ``<worksheet>`` in the order the schema requires (CT_Worksheet, ECMA-376
#: Part 1, §18.3.1.99). An element spliced into a part goes before the first one that follows it.
WORKSHEET_ORDER = (
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
)


def elements_after(element: str) -> tuple[str, ...]:
    """The worksheet children that must follow ``element`` (``"hyperlinks"`` → printOptions…)."""
    return WORKSHEET_ORDER[WORKSHEET_ORDER.index(element) + 1 :]


def column_letter(index: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """``A`` → 1, ``AA`` → 27 (lower case too)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def a1(row: int, col: int) -> str:
    """``(7, 7)`` → ``"G7"``."""
    return f"{column_letter(col)}{row}"


def parse_a1(ref: str) -> tuple[int, int]:
    """``"G7"`` → ``(7, 7)`` (row, column), 1-based; ``ValueError`` for anything else."""
    m = _A1.match(ref)
    if not m:
        raise ValueError(ref)
    return int(m.group(2)), column_number(m.group(1))


def escape_text(text: str) -> str:
    """``text`` escaped for XML text content, as lxml writes it."""
    if _NEEDS_ESCAPE.search(text) is None:  # nearly always; cheaper than translating
        return text
    # Chained replaces: several times faster than ``str.translate`` with a dict table.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def escape_attr(text: str) -> str:
    """``text`` escaped for a double-quoted XML attribute."""
    return escape_text(text).replace('"', "&quot;").replace("\n", "&#10;")
