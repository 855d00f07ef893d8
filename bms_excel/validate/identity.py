"""Who a returned workbook belongs to, from its ``_meta`` sheet and signature — never the file
name (DESIGN §5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bms_excel.i18n import LANGUAGES, t
from bms_excel.layout import SIGNED_FIELDS, TEMPLATE_VERSION, sheet_names
from bms_excel.signing import verify_meta
from bms_excel.validate.context import Findings, cell_text, definition_index

if TYPE_CHECKING:
    from bms_excel.errors import Finding
    from bms_excel.model import Definition
    from bms_excel.reader import WorkbookData


@dataclass
class Identity:
    """Who a workbook says it belongs to, and whether that can be trusted."""

    unit: str | None = None
    period: str | None = None
    language: str = "nb"
    fields: dict[str, str] = field(default_factory=dict)
    trusted: bool = False

    @property
    def generated_at(self) -> str | None:
        """When the workbook was generated (from ``_meta``)."""
        return self.fields.get("generated_at")


_META_NAMES = {t("wb.sheet.meta", lang) for lang in LANGUAGES}


def _unread_sheets() -> frozenset[str]:
    names = [sheet_names(lang) for lang in LANGUAGES]
    read = {n for s in names for n in (s.scorecard, s.actions, s.assessment, s.meta)}
    return frozenset({n for s in names for n in (s.guide, s.control, s.lists)} - read)


#: Sheets whose values validation never looks at (any language): a reader may skip them. A
#: renamed or unexpected sheet is never in here, so its values are still read and recovered.
UNREAD_SHEETS = _unread_sheets()


def read_meta(data: WorkbookData) -> tuple[dict[str, str], str | None]:
    """The ``_meta`` fields (key in column A, value in column B) and the sheet they came from.

    Falls back to the ``bms.*`` custom document properties when the sheet is gone.
    """
    for name in data.values:
        if name in _META_NAMES:
            cells = data.values[name]
            fields = {
                str(cells[(r, 1)]): cell_text(cells.get((r, 2)))
                for (r, c) in cells
                if c == 1 and isinstance(cells[(r, 1)], str)
            }
            if fields:
                return fields, name
    props = {k[4:]: str(v) for k, v in data.custom_properties.items() if k.startswith("bms.")}
    return props, None


def identify(
    data: WorkbookData,
    definition: Definition,
    secret: bytes,
    file: str,
    expected_period: str | None = None,
) -> tuple[Identity, list[Finding]]:
    """Who the workbook belongs to, from ``_meta`` and its signature — never the file name."""
    out = Findings(file)
    fields, sheet = read_meta(data)
    ident = Identity(fields=fields)
    if not fields:
        out.add("not-a-bms-workbook")
        return ident, out.items
    missing = [k for k in (*SIGNED_FIELDS, "signature") if not fields.get(k)]
    if missing:
        out.add("meta-incomplete", sheet, fields=", ".join(missing))
        return ident, out.items
    ident.unit, ident.period = fields["unit"], fields["period"]
    lang = fields.get("language", "nb")
    ident.language = lang if lang in LANGUAGES else "nb"
    if not verify_meta({k: fields[k] for k in SIGNED_FIELDS}, fields["signature"], secret):
        out.add("bad-signature", sheet)
        return ident, out.items
    ident.trusted = _check_fields(ident, definition, sheet, expected_period, out)
    if sheet is None:
        # Identified from the bms.* document properties: the _meta sheet itself was deleted.
        out.add("meta-sheet-missing", t("wb.sheet.meta", ident.language))
    if ident.trusted and fields["definition_hash"] != definition_index(definition).hash:
        out.add("definition-changed", sheet)
    return ident, out.items


def _check_fields(
    ident: Identity,
    definition: Definition,
    sheet: str | None,
    expected_period: str | None,
    out: Findings,
) -> bool:
    """Whether the signed fields name this county, a unit and period of the definition and the
    current template; a finding for each that does not."""
    fields, index = ident.fields, definition_index(definition)
    trusted = True
    if fields["county"] != definition.county.code:
        out.add("wrong-county", sheet, county=fields["county"])
        trusted = False
    if index.units.get(ident.unit or "") is None:
        out.add("unknown-unit", sheet, unit=ident.unit)
        trusted = False
    if ident.period not in index.periods:
        out.add("unknown-period", sheet, period=ident.period)
        trusted = False
    elif expected_period is not None and ident.period != expected_period:
        out.add("wrong-period", sheet, period=ident.period, expected=expected_period)
        trusted = False
    if fields["template_version"] != TEMPLATE_VERSION:
        version = fields["template_version"]
        out.add("old-template", sheet, version=version, expected=TEMPLATE_VERSION)
        trusted = False
    return trusted
