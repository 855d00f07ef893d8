"""Statistics Norway's KOSTRA figures: the figure values and cell symbols (:mod:`.figures`),
the two formats SSB ships (:mod:`.jsonstat`, :mod:`.statbank`) and the dispatch by content here.
Matching figures to the definition and storing them is :mod:`bms_excel.kostra_import`.
"""

from __future__ import annotations

from bms_excel.i18n import t
from bms_excel.kostra.figures import (
    KostraFigure,
    ParseResult,
    Role,
    Status,
    kostra_finding,
    split_region,
    status_label,
    year_of,
)
from bms_excel.kostra.jsonstat import parse_jsonstat
from bms_excel.kostra.statbank import parse_statbank_csv

__all__ = [
    "KostraFigure",
    "ParseResult",
    "Role",
    "Status",
    "kostra_finding",
    "parse_bytes",
    "parse_jsonstat",
    "parse_statbank_csv",
    "split_region",
    "status_label",
    "year_of",
]

# -- dispatch ---------------------------------------------------------------------------------


def parse_bytes(
    data: bytes, *, source_name: str, table: str | None = None, region: str | None = None
) -> ParseResult:
    """Parse SSB data already in memory: ``{`` (after a BOM and blanks) means JSON-stat."""
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if not head:
        msg = t("kostra.empty")
        return ParseResult(findings=[kostra_finding("kostra-empty", msg, source_name)])
    if head[:1] in (b"{", b"["):
        return parse_jsonstat(data, source_name=source_name, table=table, region=region)
    return parse_statbank_csv(data, source_name=source_name, table=table, region=region)
