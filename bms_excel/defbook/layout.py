"""The definition workbook's sheets and columns: the one table the export and the import share.

Every sheet but the county sheet and the Målekart overview holds one list of the definition,
one item per row under a header row (an Excel Table). A :class:`Column` says where its value
goes in the item (``field``, a path into the YAML shape of the item: ``("contact", "email")``)
and how a cell is read (``kind``). Headers, sheet names and input messages come from the
message catalogue (``defbook.col.<key>``, ``defbook.sheet.<key>``, ``defbook.help.<key>``), in
the workbook's language; the import accepts any language's names. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bms_excel import model as m
from bms_excel.i18n import LANGUAGES, t

#: How a cell is read and written. ``target``: a number or a text (``"70 %"``, ``"5 – 4,5"``);
#: ``list``: codes separated by commas; ``map``: ``KEY=VALUE`` pairs separated by semicolons;
#: ``flag``: ``yes`` for true, empty (or ``no``) for false; ``item``: one element of a list per
#: row (the county sheet repeats the row, one per element).
Kind = Literal["text", "number", "integer", "date", "enum", "list", "map", "target", "flag", "item"]
#: The field of the parent column: the code of the item this row belongs to.
PARENT = "@parent"
#: Rows left empty (inside the Table, unlocked, with the same input messages) to add to.
FREE_ROWS = 30
#: Empty rows for more elements after an ``item`` row of the county sheet (strategies).
FREE_ITEMS = 3
#: The years a yearly target may have (what :class:`~bms_excel.model.Indicator` accepts).
YEARS = range(1900, 2201)
#: A scope written in one word, as the mapping it is short for (the import merges it with
#: the scope's other columns: ``all`` and except these units).
SCOPE_WORDS: dict[str, dict[str, bool]] = {"all": {"all": True}, "county": {"county_only": True}}
#: The first bytes of a zip package (.xlsx/.xlsm); a YAML file can never start with them.
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Column:
    """One column of a list sheet (or one row of the county sheet)."""

    key: str
    field: tuple[str, ...]
    kind: Kind = "text"
    choices: tuple[str, ...] = ()
    width: int = 14

    def header(self, lang: str | None = None) -> str:
        """The header text in ``lang``."""
        return t(f"defbook.col.{self.key}", lang)

    def help(self, lang: str | None = None) -> str:
        """The input message shown when a cell of the column is selected."""
        text = t(f"defbook.help.{self.key}", lang)
        if self.choices:
            text += " " + t("defbook.help-choices", lang, choices=", ".join(self.choices))
        return text


@dataclass(frozen=True)
class ListSheet:
    """A sheet holding one list of the definition (``list_key``), one item per row."""

    key: str
    list_key: str
    columns: tuple[Column, ...]
    #: The sheet key whose items this sheet's rows belong to (the first column holds its code).
    parent: str | None = None
    #: A sheet whose rows make a mapping, not a list (``targets``: year → target): the field
    #: of the column that holds the key, and the field whose value the key maps to.
    keyed: tuple[str, str] | None = None

    def name(self, lang: str | None = None) -> str:
        """The sheet name in ``lang``."""
        return sheet_name(self.key, lang)

    @property
    def table_name(self) -> str:
        """The Excel Table's name (ASCII, unique in the workbook)."""
        return f"tbl_{self.key}"


def sheet_name(key: str, lang: str | None = None) -> str:
    """The name of sheet ``key`` (``county``, ``overview`` or a :class:`ListSheet` key)."""
    return t(f"defbook.sheet.{key}", lang)


def sheet_names_any(key: str) -> set[str]:
    """Every language's name of sheet ``key`` (the import accepts any of them)."""
    return {sheet_name(key, lang) for lang in LANGUAGES}


def _choices(literal: object) -> tuple[str, ...]:
    return tuple(str(a) for a in getattr(literal, "__args__", ()))


# fmt: off
CODE, NAME, WEIGHT = Column("code", ("code",), width=12), Column("name", ("name",), width=40), \
    Column("weight", ("weight",), "number", width=8)
CONTACT = (
    Column("contact-name", ("contact", "name"), width=22),
    Column("contact-email", ("contact", "email"), width=28),
    Column("contact-phone", ("contact", "phone"), width=14),
)
TARGET = (
    Column("target", ("target",), "target", width=12),
    Column("target-low", ("target", "low"), "number", width=9),
    Column("target-high", ("target", "high"), "number", width=9),
)
THRESHOLDS = (
    Column("green", ("thresholds", "green"), "number", width=9),
    Column("yellow", ("thresholds", "yellow"), "number", width=9),
)
COUNTY_TARGET = (
    Column("county-target", ("county_target",), "target", width=12),
    Column("county-target-low", ("county_target", "low"), "number", width=9),
    Column("county-target-high", ("county_target", "high"), "number", width=9),
    Column("county-green", ("county_thresholds", "green"), "number", width=9),
    Column("county-yellow", ("county_thresholds", "yellow"), "number", width=9),
)

#: The county sheet: one row per field (label, value, YAML path).
COUNTY_ROWS: tuple[Column, ...] = (
    Column("county-code", ("county", "code")),
    Column("county-name", ("county", "name")),
    Column("org-number", ("county", "org_number")),
    Column("kostra-region", ("county", "kostra_region")),
    *(Column(c.key, ("county", *c.field)) for c in CONTACT),
    Column("language", ("settings", "language"), "enum", ("nb", "nn", "en")),
    Column("max-indicators", ("settings", "max_indicators_per_unit"), "integer"),
    Column("settings-yellow-percent", ("settings", "yellow_percent"), "number"),
    Column("rollup-green", ("settings", "rollup_green"), "number"),
    Column("rollup-yellow", ("settings", "rollup_yellow"), "number"),
    Column("history-periods", ("settings", "history_periods"), "integer"),
    Column("max-area-share", ("settings", "max_focus_area_share"), "number"),
    Column("min-outcome-share", ("settings", "min_outcome_share"), "number"),
    Column("budget-year", ("settings", "budget_year"), "integer"),
    Column("vision", ("vision", "text")),
    Column("strategy", ("vision", "strategies"), "item"),
)

LIST_SHEETS: tuple[ListSheet, ...] = (
    ListSheet("sectors", "sectors", (CODE, NAME)),
    ListSheet("units", "units", (
        CODE, NAME, Column("sector", ("sector",), width=10), *CONTACT,
        Column("org-number", ("org_number",), width=12),
        Column("kostra-region", ("kostra_region",), width=10),
    )),
    ListSheet("focus_areas", "focus_areas", (
        CODE, NAME, Column("colour", ("colour",), width=10),
        Column("description", ("description",), width=50), WEIGHT,
    )),
    ListSheet("goals", "goals", (Column("parent-area", (PARENT,)), CODE, NAME, WEIGHT),
              parent="focus_areas"),
    ListSheet("factors", "factors", (Column("parent-goal", (PARENT,)), CODE, NAME, WEIGHT),
              parent="goals"),
    ListSheet("indicators", "indicators", (
        Column("parent-factor", (PARENT,)), CODE, NAME,
        Column("indicator-kind", ("kind",), "enum", _choices(m.IndicatorKind), width=10),
        Column("wanted", ("wanted",), "enum", _choices(m.Answer), width=8),
        Column("description", ("description",), width=50),
        Column("unit-of-measure", ("unit_of_measure",), width=12),
        Column("decimals", ("decimals",), "integer", width=8),
        Column("range-min", ("valid_range", "min"), "number", width=9),
        Column("range-max", ("valid_range", "max"), "number", width=9),
        Column("direction", ("direction",), "enum", _choices(m.Direction), width=10),
        *TARGET, *THRESHOLDS, *COUNTY_TARGET,
        Column("status-rule", ("status_rule",), "enum", _choices(m.StatusRuleKind), width=12),
        Column("tolerance", ("tolerance",), "number", width=9),
        Column("yellow-percent", ("yellow_percent",), "number", width=9),
        Column("owner", ("owner",), width=18),
        Column("source", ("source",), "enum", _choices(m.Source), width=10),
        Column("frequency", ("frequency",), "enum", _choices(m.Frequency), width=10),
        Column("aggregation", ("aggregation",), "enum", _choices(m.Aggregation), width=13),
        Column("weight-by", ("weight_by",), width=10), WEIGHT,
        Column("scope", ("scope",), "enum", ("all", "county"), width=9),
        Column("scope-sectors", ("scope", "sectors"), "list", width=14),
        Column("scope-units", ("scope", "units"), "list", width=18),
        Column("scope-except", ("scope", "except"), "list", width=18),
        Column("result-level", ("result_level",), "integer", width=8),
        Column("timing", ("timing",), "enum", _choices(m.Timing), width=10),
        Column("comment-required", ("comment_required",), "enum", _choices(m.CommentRule),
               width=14),
        Column("kostra-table", ("kostra", "table"), width=10),
        Column("kostra-contents", ("kostra", "contents"), width=22),
        Column("kostra-source-region", ("kostra", "region"), width=10),
        Column("kostra-unit-regions", ("kostra", "unit_regions"), "map", width=16),
        Column("kostra-comparison", ("kostra", "comparison"), "list", width=16),
    ), parent="factors"),
    ListSheet("targets", "targets", (
        Column("parent-indicator", (PARENT,)), Column("year", ("year",), "integer", width=8),
        *TARGET,
    ), parent="indicators", keyed=("year", "target")),
    ListSheet("overrides", "overrides", (
        Column("parent-indicator", (PARENT,)),
        Column("override-unit", ("unit",)), Column("override-sector", ("sector",)),
        Column("override-county", ("county",), "flag", _choices(m.Answer), width=8),
        Column("override-period", ("period",)), *TARGET, *THRESHOLDS,
    ), parent="indicators"),
    ListSheet("links", "links", (
        Column("link-from", ("from",)), Column("link-to", ("to",)),
        Column("note", ("note",), width=50),
    )),
    ListSheet("periods", "periods", (
        Column("period-code", ("code",), width=10), Column("label", ("label",), width=22),
        Column("period-kind", ("kind",), "enum", _choices(m.PeriodKind), width=10),
        Column("start", ("start",), "date", width=12), Column("end", ("end",), "date", width=12),
        Column("deadline", ("deadline",), "date", width=12),
    )),
)
# fmt: on
SHEETS_BY_KEY = {s.key: s for s in LIST_SHEETS}
#: The attribute columns of the units sheet follow its fixed columns; their header is the name.
UNIT_ATTRIBUTES = ("attributes",)


def is_workbook_file(path: Path) -> bool:
    """Whether ``path`` holds a zip package (a workbook), judged by its first bytes."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    except OSError:
        return False
