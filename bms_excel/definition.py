"""Load a scorecard definition from YAML with ``file:line`` problems, and check its quality.

Loading (:func:`load_definition`) turns every YAML or schema problem of a file into a located
:class:`~bms_excel.errors.Finding` and raises them all at once in a
:class:`~bms_excel.errors.DefinitionError`. The quality checks (:func:`check_definition`)
return findings for cross-object rules the schema cannot express (DESIGN §2): unique and nested
codes, references, link cycles, thresholds against direction, owners, targets and balance.
"""

from __future__ import annotations

import difflib
import re
import types
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bms_excel import model as m
from bms_excel.errors import DefinitionError, Finding, Severity
from bms_excel.i18n import t

PathKey = tuple[str | int, ...]

# Scalars under these keys are text even when YAML would read them as a number or a boolean:
# a period code `2026`, an org number `974760673`, a county code `NO` (YAML 1.1 reads it false).
_TEXT_KEYS = frozenset(
    {"code", "name", "label", "sector", "unit", "period", "from", "to", "owner", "description"}
    | {"phone", "org_number", "kostra_region", "region", "table", "contents", "note", "text"}
    | {"unit_of_measure", "email"}
)
_TEXT_LIST_KEYS = frozenset({"sectors", "units", "comparison"})
_RETYPED_TAGS = frozenset(f"tag:yaml.org,2002:{n}" for n in ("int", "float", "bool"))
_MERGE_TAG = "tag:yaml.org,2002:merge"
# fmt: off
# The list key holding each kind of coded object, and its catalogue name.
_KINDS = {
    "focus_areas": "focus-area", "goals": "goal", "factors": "factor", "indicators": "indicator",
    "units": "unit", "sectors": "sector", "periods": "period", "links": "link",
}
# pydantic error types → catalogue keys (see _schema_finding for the finding codes).
_FORMAT_KEYS = {"code": "code", "email": "email", "colour": "colour", "org_number": "org-number"}
_NUMBER_ERRORS = frozenset({"float_parsing", "float_type", "finite_number", "decimal_parsing"})
_INTEGER_ERRORS = frozenset({"int_parsing", "int_type", "int_from_float"})
_LIMIT_ERRORS = {
    "greater_than_equal": ("too-small", "ge"), "greater_than": ("too-small-strict", "gt"),
    "less_than_equal": ("too-large", "le"), "less_than": ("too-large-strict", "lt"),
}
_SIMPLE_ERRORS = {
    "string_type": "not-text", "bool_type": "not-a-bool", "bool_parsing": "not-a-bool",
    "tuple_type": "not-a-list", "list_type": "not-a-list", "iterable_type": "not-a-list",
    "dict_type": "not-a-mapping", "model_type": "not-a-mapping",
    "model_attributes_type": "not-a-mapping",
}
# fmt: on


@dataclass(frozen=True)
class SourceMap:
    """Where each part of a loaded definition was written: file name and 1-based lines."""

    file: str | None = None
    lines: Mapping[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its deepest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


def format_path(path: PathKey) -> str:
    """A data path as text: ``focus_areas[0].goals[1].target``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# -- loading ---------------------------------------------------------------------------------


def load_definition(path: Path) -> m.Definition:
    """Load and validate ``path``; raise :class:`DefinitionError` listing every problem."""
    return load_definition_with_source(path)[0]


def load_definition_text(text: str, filename: str = "definition.yaml") -> m.Definition:
    """Load and validate definition YAML ``text``; ``filename`` is used in the findings."""
    return load_definition_text_with_source(text, filename)[0]


def load_definition_with_source(path: Path) -> tuple[m.Definition, SourceMap]:
    """Load ``path`` and return the definition with its source map (for :func:`check_definition`)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise _fail("file-unreadable", name, t("definition.file-not-found")) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _fail("file-unreadable", name, t("definition.file-os-error", reason=reason)) from exc
    try:
        text = raw.decode("utf-8-sig")  # Notepad and Excel may write a byte-order mark
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = t("definition.file-not-utf8", line=line)
        raise _fail("file-unreadable", name, message, line) from exc
    return load_definition_text_with_source(text, name)


def load_definition_text_with_source(
    text: str, filename: str = "definition.yaml"
) -> tuple[m.Definition, SourceMap]:
    """Load definition YAML ``text`` and return the definition with its source map."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        detail = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        message = t("definition.yaml-syntax", detail=detail)
        raise _fail("yaml-syntax", filename, message, mark.line + 1 if mark else None) from exc
    if root is None:
        raise _fail("missing-field", filename, t("definition.empty-file"))
    builder = _Builder(loader)
    data = builder.build(root, ())
    loader.dispose()
    source = SourceMap(filename, builder.lines)
    problems = [
        _finding(
            "duplicate-key", source, path, data, path[:-1], t("definition.duplicate-key", **kw)
        )
        for path, kw in builder.duplicates
    ]
    try:
        defn = m.Definition.model_validate(data)
    except ValidationError as exc:
        problems += [_schema_finding(err, data, source) for err in exc.errors(include_url=False)]
    if problems:
        problems.sort(key=lambda f: f.line if f.line is not None else 0)
        raise DefinitionError(problems)
    return defn, source


class _Builder:
    """Turns a composed YAML node tree into plain data plus a path → line map."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[PathKey, int] = {(): 1}
        self.duplicates: list[tuple[PathKey, dict[str, Any]]] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.build(item, (*path, index)))
            return items
        plain = isinstance(node, yaml.ScalarNode) and node.style is None
        if plain and node.tag in _RETYPED_TAGS and _is_text_path(path):
            return node.value
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            # A date-like scalar such as 2026-13-01 fails in PyYAML; let the schema report it.
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *anchor`: explicit keys win
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else []
                for src in sources or [value_node]:
                    if isinstance(src, yaml.MappingNode):
                        for key, value in self._mapping(src, path).items():
                            out.setdefault(key, value)
                continue
            # Keys are names: keep their text (`on:` and `no:` are not booleans here).
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in first:
                self.duplicates.append(((*path, key), {"key": key, "first": first[key]}))
            first[key] = line
            self.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key))
        return out


def _is_text_path(path: PathKey) -> bool:
    if not path:
        return False
    last = path[-1]
    if isinstance(last, int):
        return len(path) >= 2 and path[-2] in _TEXT_LIST_KEYS
    return last in _TEXT_KEYS or (len(path) >= 2 and path[-2] == "unit_regions")


def _fail(code: str, name: str, message: str, line: int | None = None) -> DefinitionError:
    return DefinitionError([Finding(code, "error", message, file=name, line=line)])


# -- schema findings -------------------------------------------------------------------------


def _schema_finding(err: Any, data: Any, source: SourceMap) -> Finding:
    """One pydantic error as a located, Norwegian finding."""
    loc: PathKey = tuple(err["loc"])
    kind, ctx = err["type"], err.get("ctx") or {}
    value = _show(err.get("input"))
    field_path, extra = loc, {}
    if kind == "missing":
        code, field_path = "missing-field", loc[:-1]
        last = loc[-1] if loc else ""
        if isinstance(last, int):
            detail = t("definition.missing-item", number=last + 1)
        else:
            detail = t("definition.missing-field", field=last)
    elif kind == "extra_forbidden":
        code, field_path = "unknown-field", loc[:-1]
        known = _known_fields(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            extra = {"suggestion": close[0]}
            detail = t("definition.unknown-field-suggestion", field=loc[-1], suggestion=close[0])
        else:
            detail = t("definition.unknown-field", field=loc[-1])
    elif kind in _NUMBER_ERRORS or kind in _INTEGER_ERRORS:
        code = "not-a-number"
        key = "not-a-number" if kind in _NUMBER_ERRORS else "not-an-integer"
        detail = t(f"definition.{key}", value=value)
    elif kind == "string_pattern_mismatch":
        code = "invalid-format"
        names = [p for p in loc if isinstance(p, str)]
        fmt = _FORMAT_KEYS.get(names[-1] if names else "", "other")
        if fmt == "code" and len(names) == 2 and names[0] == "periods":
            fmt = "period"
        detail = t(f"definition.format-{fmt}", value=value)
    else:
        code, detail = "invalid-value", _value_detail(kind, ctx, err, value)
    return _finding(code, source, loc, data, field_path, detail, extra)


def _value_detail(kind: str, ctx: dict[str, Any], err: Any, value: str) -> str:
    if kind in _SIMPLE_ERRORS:
        return t(f"definition.{_SIMPLE_ERRORS[kind]}", value=value)
    if kind.startswith(("date", "datetime")):
        return t("definition.not-a-date", value=value)
    if kind in _LIMIT_ERRORS:
        key, bound = _LIMIT_ERRORS[kind]
        return t(f"definition.{key}", value=value, limit=_number(ctx.get(bound)))
    if kind in ("too_short", "too_long"):
        expected = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        return t("definition.wrong-length", expected=expected, actual=ctx.get("actual_length"))
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        allowed = re.findall(r"'([^']*)'", expected) or re.split(r", | or ", expected)
        return t("definition.not-allowed", value=value, allowed=", ".join(allowed))
    if kind in ("value_error", "assertion_error"):
        # The model's own validators already speak Norwegian; drop pydantic's English prefix.
        error = ctx.get("error")
        return str(error) if error else str(err["msg"]).removeprefix("Value error, ")
    return t("definition.invalid-other", value=value, detail=err["msg"])


def _finding(
    code: str,
    source: SourceMap,
    loc: PathKey,
    data: Any,
    field_path: PathKey | None,
    detail: str,
    extra: dict[str, Any] | None = None,
) -> Finding:
    """A schema finding whose message names the nearest coded object and the field."""
    obj, depth = _describe_object(data, loc)
    rel = format_path((field_path if field_path is not None else loc)[depth:])
    message = ": ".join(p for p in (obj, rel, detail) if p)
    return Finding(
        code=code,
        severity="error",
        message=message,
        file=source.file,
        line=source.line(loc),
        path=format_path(loc) or None,
        extra=extra or {},
    )


def _describe_object(data: Any, loc: PathKey) -> tuple[str | None, int]:
    """The nearest enclosing object of ``loc`` named by kind and code, and its path length."""
    chain = [data]
    for part in loc:
        node = chain[-1]
        try:
            chain.append(node[part])
        except (KeyError, IndexError, TypeError):
            break
    for end in range(len(chain) - 1, 1, -1):
        index, key, item = loc[end - 1], loc[end - 2], chain[end]
        if not (isinstance(index, int) and key in _KINDS and isinstance(item, dict)):
            continue
        kind = t(f"definition.kind.{_KINDS[str(key)]}")
        code = item.get("code")
        if key == "links" and isinstance(item.get("from"), str) and isinstance(item.get("to"), str):
            return f"{kind} {item['from']} → {item['to']}", end
        if isinstance(code, str | int | float) and str(code):
            return f"{kind} {code}", end
        return t("definition.object-number", kind=kind, number=index + 1), end
    if loc and loc[0] == "county" and len(chain) > 1 and isinstance(chain[1], dict):
        return f"{t('definition.kind.county')} {chain[1].get('code', '')}".strip(), 1
    return None, 0


def _known_fields(path: PathKey) -> list[str]:
    """The field names (aliases) of the model that validates the mapping at ``path``."""
    cls: type[BaseModel] | None = m.Definition
    for part in path:
        if isinstance(part, int) or cls is None:
            continue
        info = next(
            (f for n, f in cls.model_fields.items() if part in (n, f.alias)),
            None,
        )
        cls = _model_in(info.annotation) if info is not None else None
    if cls is None:
        return []
    return [info.alias or name for name, info in cls.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (tuple, list, Union, types.UnionType) or get_args(annotation):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _number(value: Any) -> str:
    """A number for a message: ``5`` rather than ``5.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- quality checks --------------------------------------------------------------------------


# fmt: off
#: Every quality-check code and its severity (the README's table is built from this).
CHECK_SEVERITY: dict[str, Severity] = {
    "duplicate-code": "error", "code-not-nested": "error", "unknown-reference": "error",
    "missing-weight-attribute": "error", "link-cycle": "error", "threshold-direction": "error",
    "target-out-of-range": "error", "missing-owner": "error",
    "deadline-before-period-end": "error",
    "missing-target": "warning", "missing-contact": "warning", "focus-area-unused": "warning",
    "focus-areas-unbalanced": "warning", "too-many-indicators": "warning",
    "only-activity": "warning", "periods-unordered": "warning",
    "unit-without-indicators": "warning", "empty-sector": "warning",
    "kostra-incomplete": "warning",
    "missing-result-level": "info",
}
# fmt: on


def check_definition(defn: m.Definition, source: SourceMap | None = None) -> list[Finding]:
    """Every quality problem of a loaded definition (DESIGN §2), located through ``source``."""
    checker = _Checker(defn, source)
    checker.run()
    # File order reads best; sorted() is stable, so one object's findings keep check order.
    return sorted(checker.findings, key=lambda f: f.line or 0)


def check_definition_file(path: Path) -> list[Finding]:
    """Load ``path`` and check it: the load problems if it does not load, else the checks."""
    try:
        defn, source = load_definition_with_source(path)
    except DefinitionError as exc:
        return list(exc.problems)
    return check_definition(defn, source)


def summarise(findings: list[Finding]) -> dict[str, int]:
    """The number of findings per severity: ``{"error": n, "warning": n, "info": n}``."""
    counts = Counter(f.severity for f in findings)
    return {sev: counts.get(sev, 0) for sev in ("error", "warning", "info")}


IndicatorEntry = tuple[m.FocusArea, m.Factor, m.Indicator, PathKey]


class _Checker:
    def __init__(self, defn: m.Definition, source: SourceMap | None) -> None:
        self.defn = defn
        self.source = source
        self.findings: list[Finding] = []
        self.entries: list[IndicatorEntry] = list(_indicator_entries(defn))
        self.unit_codes = {u.code for u in defn.units}
        self.sector_codes = {s.code for s in defn.sectors}
        self.period_codes = {p.code for p in defn.periods}

    def add(
        self, key: str, path: PathKey, obj: str | None, /, extra: Any = None, **kw: Any
    ) -> None:
        code = key.split(".")[0]
        message = t(f"check.{key}", **kw)
        self.findings.append(
            Finding(
                code=code,
                severity=CHECK_SEVERITY[code],
                message=f"{obj}: {message}" if obj else message,
                file=self.source.file if self.source else None,
                line=self.source.line(path) if self.source else None,
                path=format_path(path),
                extra=extra or {},
            )
        )

    def run(self) -> None:
        self.check_codes()
        self.check_references()
        self.check_links()
        for area, factor, ind, path in self.entries:
            self.check_indicator(area, factor, ind, path)
        self.check_balance()
        self.check_units()
        self.check_periods()

    # codes --------------------------------------------------------------------------------

    def check_codes(self) -> None:
        d = self.defn
        scorecard: list[tuple[str, str, PathKey]] = []
        for ai, area in enumerate(d.focus_areas):
            scorecard.append(("focus-area", area.code, ("focus_areas", ai)))
            for gi, goal in enumerate(area.goals):
                gpath: PathKey = ("focus_areas", ai, "goals", gi)
                scorecard.append(("goal", goal.code, gpath))
                for fi, factor in enumerate(goal.factors):
                    scorecard.append(("factor", factor.code, (*gpath, "factors", fi)))
                    if not (factor.code.startswith(area.code) and factor.code != area.code):
                        self.add(
                            "code-not-nested.factor",
                            (*gpath, "factors", fi, "code"),
                            _name("factor", factor.code),
                            code=factor.code,
                            parent=area.code,
                            example=f"{area.code}1",
                        )
        for _, factor, ind, path in self.entries:
            scorecard.append(("indicator", ind.code, path))
            if not ind.code.startswith(factor.code + ".") or ind.code == factor.code + ".":
                self.add(
                    "code-not-nested.indicator",
                    (*path, "code"),
                    _name("indicator", ind.code),
                    code=ind.code,
                    parent=factor.code,
                    example=f"{factor.code}.1",
                )
        self._unique(scorecard)
        self._unique([("unit", u.code, ("units", i)) for i, u in enumerate(d.units)])
        self._unique([("sector", s.code, ("sectors", i)) for i, s in enumerate(d.sectors)])
        self._unique([("period", p.code, ("periods", i)) for i, p in enumerate(d.periods)])

    def _unique(self, items: list[tuple[str, str, PathKey]]) -> None:
        seen: dict[str, str] = {}
        for kind, code, path in items:
            if code in seen:
                obj = _name(kind, code)
                self.add("duplicate-code", (*path, "code"), obj, code=code, other=seen[code])
            else:
                seen[code] = _name(kind, code)

    # references ---------------------------------------------------------------------------

    def check_references(self) -> None:
        for i, unit in enumerate(self.defn.units):
            self._ref(
                unit.sector,
                self.sector_codes,
                "sector",
                ("units", i, "sector"),
                _name("unit", unit.code),
            )
        for _, _, ind, path in self.entries:
            obj = _name("indicator", ind.code)
            for j, sector in enumerate(ind.scope.sectors):
                self._ref(sector, self.sector_codes, "sector", (*path, "scope", "sectors", j), obj)
            for j, unit_code in enumerate(ind.scope.units):
                self._ref(unit_code, self.unit_codes, "unit", (*path, "scope", "units", j), obj)
            for k, o in enumerate(ind.overrides):
                opath = (*path, "overrides", k)
                self._ref(o.unit, self.unit_codes, "unit", (*opath, "unit"), obj)
                self._ref(o.sector, self.sector_codes, "sector", (*opath, "sector"), obj)
                self._ref(o.period, self.period_codes, "period", (*opath, "period"), obj)
            if ind.kostra is not None:
                for unit_code in ind.kostra.unit_regions:
                    kpath = (*path, "kostra", "unit_regions", unit_code)
                    self._ref(unit_code, self.unit_codes, "unit", kpath, obj)
            if ind.weight_by:
                lacking = [
                    u.code
                    for u in self.defn.units_for_indicator(ind)
                    if ind.weight_by not in u.attributes
                ]
                if lacking:
                    self.add(
                        "missing-weight-attribute",
                        (*path, "weight_by"),
                        obj,
                        {"units": lacking},
                        attribute=ind.weight_by,
                        count=len(lacking),
                        units=_listing(lacking),
                    )

    def _ref(self, ref: str | None, known: set[str], kind: str, path: PathKey, obj: str) -> None:
        if ref is not None and ref not in known:
            self.add(
                "unknown-reference",
                path,
                obj,
                field=format_path(path[-2:] if isinstance(path[-1], int) else path[-1:]),
                kind=t(f"definition.kind.{kind}"),
                ref=ref,
            )

    def check_links(self) -> None:
        targets = {g.code for a in self.defn.focus_areas for g in a.goals}
        targets |= {f.code for a in self.defn.focus_areas for g in a.goals for f in g.factors}
        links = self.defn.links
        for i, link in enumerate(links):
            obj = f"{t('definition.kind.link')} {link.source} → {link.target}"
            for end, ref in (("from", link.source), ("to", link.target)):
                self._ref(ref, targets, "goal-or-factor", ("links", i, end), obj)
        for nodes, first_edge in _find_cycles(links):
            link = links[first_edge]
            self.add(
                "link-cycle",
                ("links", first_edge),
                f"{t('definition.kind.link')} {link.source} → {link.target}",
                {"cycle": [*nodes, nodes[0]]},
                cycle=" → ".join([*nodes, nodes[0]]),
            )

    # indicators ---------------------------------------------------------------------------

    def check_indicator(
        self, area: m.FocusArea, factor: m.Factor, ind: m.Indicator, path: PathKey
    ) -> None:
        obj = _name("indicator", ind.code)
        if not ind.owner:
            self.add("missing-owner", path, obj)
        if ind.target is None and ind.thresholds is None:
            self.add("missing-target", path, obj)
        if ind.direction == "range" and ind.target is None:
            self.add("threshold-direction.range-target", (*path, "direction"), obj)
        if ind.result_level is None:
            self.add("missing-result-level", path, obj)
        self._limits(ind, ind.target, ind.thresholds, path, obj)
        for k, o in enumerate(ind.overrides):
            oobj = f"{obj}, {t('definition.override-number', number=k + 1)}"
            self._limits(ind, o.target, o.thresholds, (*path, "overrides", k), oobj)
        if ind.source == "kostra" and ind.kostra is not None:
            county = not (ind.kostra.region or self.defn.county.kostra_region)
            units = [
                u.code
                for u in self.defn.units_for_indicator(ind)
                if u.code not in ind.kostra.unit_regions and not u.kostra_region
            ]
            if county or units:
                names = [t("definition.kind.county")] * county + units
                extra = {"county": county, "units": units}
                self.add(
                    "kostra-incomplete", (*path, "kostra"), obj, extra, missing=_listing(names)
                )

    def _limits(
        self,
        ind: m.Indicator,
        target: m.Target | None,
        thresholds: m.Thresholds | None,
        path: PathKey,
        obj: str,
    ) -> None:
        if thresholds is not None:
            tpath = (*path, "thresholds")
            green, yellow = thresholds.green, thresholds.yellow
            kw = {"green": _number(green), "yellow": _number(yellow)}
            if ind.direction == "range":
                self.add("threshold-direction.range-thresholds", tpath, obj)
            elif ind.direction == "higher" and green < yellow:
                self.add("threshold-direction.higher", tpath, obj, **kw)
            elif ind.direction == "lower" and green > yellow:
                self.add("threshold-direction.lower", tpath, obj, **kw)
        if ind.valid_range is None:
            return
        low, high = ind.valid_range
        values: list[tuple[str, float | None, PathKey]] = []
        if target is not None:
            for v in (target.value, target.low, target.high):
                values.append(("target", v, (*path, "target")))
        if thresholds is not None:
            values.append(("green", thresholds.green, (*path, "thresholds", "green")))
            values.append(("yellow", thresholds.yellow, (*path, "thresholds", "yellow")))
        for what, value, vpath in values:
            if value is not None and not low <= value <= high:
                self.add(
                    "target-out-of-range",
                    vpath,
                    obj,
                    field=t(f"check.field.{what}"),
                    value=_number(value),
                    low=_number(low),
                    high=_number(high),
                )

    # balance ------------------------------------------------------------------------------

    def check_balance(self) -> None:
        d = self.defn
        total = len(self.entries)
        per_area = Counter(area.code for area, *_ in self.entries)
        share_limit = d.settings.max_focus_area_share
        for ai, area in enumerate(d.focus_areas):
            obj, count = _name("focus-area", area.code), per_area.get(area.code, 0)
            if count == 0:
                self.add("focus-area-unused", ("focus_areas", ai), obj)
            # One focus area cannot be balanced against anything: no balance warning then.
            elif len(d.focus_areas) > 1 and count / total > share_limit:
                self.add(
                    "focus-areas-unbalanced",
                    ("focus_areas", ai),
                    obj,
                    count=count,
                    total=total,
                    share=_percent(count / total),
                    limit=_percent(share_limit),
                )
        levels = Counter(ind.result_level for _, _, ind, _ in self.entries)
        judged = total - levels.get(None, 0)
        if judged:
            share = sum(n for lvl, n in levels.items() if lvl is not None and lvl >= 2) / judged
            if share < d.settings.min_outcome_share:
                distribution = ", ".join(
                    f"{lvl} {t(f'check.result-level.{lvl}')}: {levels.get(lvl, 0)}"
                    for lvl in range(5)
                )
                spath: PathKey = ("settings", "min_outcome_share")
                if self.source is None or spath not in self.source.lines:
                    spath = ("focus_areas",)
                self.add(
                    "only-activity",
                    spath,
                    None,
                    {"levels": {lvl: levels.get(lvl, 0) for lvl in range(5)}, "share": share},
                    share=_percent(share),
                    limit=_percent(d.settings.min_outcome_share),
                    distribution=distribution,
                )

    def check_units(self) -> None:
        d = self.defn
        limit = d.settings.max_indicators_per_unit
        for i, unit in enumerate(d.units):
            obj, path = _name("unit", unit.code), ("units", i)
            if unit.contact is None or unit.contact.email is None:
                cpath = (*path, "contact") if unit.contact is not None else path
                self.add("missing-contact", cpath, obj)
            count = len(d.indicators_for_unit(unit))
            if count == 0:
                self.add("unit-without-indicators", path, obj)
            elif count > limit:
                extra = {"count": count}
                self.add("too-many-indicators", path, obj, extra, count=count, limit=limit)
        used = {u.sector for u in d.units}
        for i, sector in enumerate(d.sectors):
            if sector.code not in used:
                self.add("empty-sector", ("sectors", i), _name("sector", sector.code))

    def check_periods(self) -> None:
        previous: m.Period | None = None
        for i, period in enumerate(self.defn.periods):
            obj = _name("period", period.code)
            if period.deadline < period.end:
                self.add(
                    "deadline-before-period-end",
                    ("periods", i, "deadline"),
                    obj,
                    deadline=period.deadline.isoformat(),
                    end=period.end.isoformat(),
                )
            if previous is not None and period.end < previous.end:
                self.add(
                    "periods-unordered",
                    ("periods", i, "end"),
                    obj,
                    end=period.end.isoformat(),
                    previous=previous.code,
                    previous_end=previous.end.isoformat(),
                )
            previous = period


def _indicator_entries(defn: m.Definition) -> Iterator[IndicatorEntry]:
    for ai, area in enumerate(defn.focus_areas):
        for gi, goal in enumerate(area.goals):
            for fi, factor in enumerate(goal.factors):
                for ii, ind in enumerate(factor.indicators):
                    path = ("focus_areas", ai, "goals", gi, "factors", fi, "indicators", ii)
                    yield area, factor, ind, path


def _find_cycles(links: tuple[m.Link, ...]) -> list[tuple[list[str], int]]:
    """Cycles among ``links`` as (nodes starting at the lowest link index, that index)."""
    graph: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, link in enumerate(links):
        graph[link.source].append((link.target, i))
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = finished
    stack: list[str] = []
    edges: list[int] = []  # edges[k] leads from stack[k] to stack[k + 1]
    found: list[tuple[list[str], int]] = []
    seen: set[frozenset[int]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt, i in graph.get(node, []):
            if state.get(nxt) == 1:
                start = stack.index(nxt)
                nodes, cycle_edges = stack[start:], [*edges[start:], i]
                if frozenset(cycle_edges) not in seen:
                    seen.add(frozenset(cycle_edges))
                    k = cycle_edges.index(min(cycle_edges))
                    found.append((nodes[k:] + nodes[:k], min(cycle_edges)))
            elif nxt not in state:
                edges.append(i)
                visit(nxt)
                edges.pop()
        stack.pop()
        state[node] = 2

    for link in links:
        if link.source not in state:
            visit(link.source)
    return sorted(found, key=lambda c: c[1])


def _name(kind: str, code: str) -> str:
    return f"{t(f'definition.kind.{kind}')} {code}"


def _listing(codes: list[str], limit: int = 10) -> str:
    shown = ", ".join(codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def _percent(share: float) -> str:
    return f"{share * 100:.0f}"
