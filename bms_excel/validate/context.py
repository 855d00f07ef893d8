"""What the checks of one workbook share: the findings collector, the definition's lookups and
the per-file context (:class:`FileContext`) that replaces long positional parameter lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.records import ActionRecord, AssessmentRecord, ValueRecord
from bms_excel.signing import definition_hash
from bms_excel.status import StatusRule, resolve_rule

if TYPE_CHECKING:
    from bms_excel.layout import UnitLayout
    from bms_excel.model import Definition, Indicator, Period, Unit
    from bms_excel.reader import WorkbookData
    from bms_excel.validate.identity import Identity


class Findings:
    """Located findings for one file, made through the code registry
    (:func:`bms_excel.codes.make_finding`: the severity comes from the table)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Finding] = []

    def add(
        self,
        code: str,
        sheet: str | None = None,
        cell: str | None = None,
        /,
        *,
        key: str | None = None,
        **params: Any,
    ) -> None:
        """A finding of ``code`` with the message ``key`` (default ``validate.<code>``)."""
        # The indicator a finding is about, so a report can give an excluded value its reason.
        extra = {"indicator": params["code"]} if "code" in params else {}
        self.items.append(
            make_finding(
                code,
                message_key=key or f"validate.{code}",
                file=self.file,
                sheet=sheet,
                cell=cell,
                extra=extra,
                **params,
            )
        )


def cell_text(value: object) -> str:
    """A cell value as text (``3.0`` as ``3``; empty for ``None``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- per-definition lookups ---------------------------------------------------------------------


@dataclass(frozen=True)
class DefinitionIndex:
    """Lookups of one definition, built once per process instead of a linear scan per file.

    ``Definition.unit`` / ``.indicator`` scan lists, and ``definition_hash`` serialises the whole
    definition: per file that is quadratic in the number of units at national scale.
    """

    definition: Definition
    hash: str
    units: dict[str, Unit]
    indicators: dict[str, Indicator]
    periods: dict[str, Period]
    rules: dict[tuple[str, str | None, str], StatusRule] = field(default_factory=dict)

    def rule(self, ind: Indicator, unit: Unit, period: str) -> StatusRule:
        """The status rule of ``ind`` for ``unit`` (the unit matters only with overrides)."""
        key = (ind.code, unit.code if ind.overrides else None, period)
        found = self.rules.get(key)
        if found is None:
            found = self.rules[key] = resolve_rule(ind, self.definition.settings, unit, period)
        return found


_INDEXES: dict[int, DefinitionIndex] = {}


def definition_index(definition: Definition) -> DefinitionIndex:
    """The lookups of ``definition``, cached per process."""
    # Keyed by identity (a Definition is frozen); the entry keeps the definition alive, so its
    # id cannot be reused while it is cached.
    found = _INDEXES.get(id(definition))
    if found is None or found.definition is not definition:
        if len(_INDEXES) >= 8:
            _INDEXES.clear()
        found = DefinitionIndex(
            definition,
            definition_hash(definition),
            {u.code: u for u in definition.units},
            {ind.code: ind for *_, ind in definition.iter_indicators()},
            {p.code: p for p in definition.periods},
        )
        _INDEXES[id(definition)] = found
    return found


# -- one file -----------------------------------------------------------------------------------


@dataclass
class Extract:
    """What one workbook yields: records for consolidation plus every finding."""

    identity: Identity
    values: list[ValueRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    assessments: list[AssessmentRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Whether the workbook was identified well enough to accept its values."""
        return self.identity.trusted


@dataclass
class FileContext:
    """One trusted workbook under validation: its contents, whom it belongs to, where its
    cells are, and where findings and records go. ``renamed`` maps an expected sheet name to
    the sheet that stands in for it (a renamed tab)."""

    data: WorkbookData
    index: DefinitionIndex
    unit: Unit
    layout: UnitLayout
    identity: Identity
    sha256: str | None
    findings: Findings
    extract: Extract
    renamed: Mapping[str, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        """The file name every finding and record carries."""
        return self.findings.file

    @property
    def period(self) -> str:
        """The period code the workbook is for."""
        return self.identity.period or ""

    def sheet(self, expected: str) -> str:
        """The sheet that holds what the layout calls ``expected``."""
        return self.renamed.get(expected, expected)
