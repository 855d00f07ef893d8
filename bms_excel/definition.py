"""Load a scorecard definition from YAML with ``file:line`` problems.

Loading (:func:`load_definition`) turns every YAML or schema problem of a file into a located
:class:`~bms_excel.errors.Finding` and raises them all at once in a
:class:`~bms_excel.errors.DefinitionError`. Cross-object quality rules the schema cannot express
are in :mod:`bms_excel.checks`.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bms_excel import model as m
from bms_excel.errors import DefinitionError, Finding
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
        return t(f"definition.{key}", value=value, limit=number_text(ctx.get(bound)))
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


def number_text(value: Any) -> str:
    """A number for a message: ``5`` rather than ``5.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
