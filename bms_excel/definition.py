"""Load a scorecard definition from YAML with ``file:line`` problems.

Loading (:func:`load_definition`) turns every YAML or schema problem of a file into a located
:class:`~bms_excel.errors.Finding` and raises them all at once in a
:class:`~bms_excel.errors.DefinitionError`. Cross-object quality rules the schema cannot express
are in :mod:`bms_excel.checks`.

The definition is hostile input too (a file from e-mail, a shared folder): its size, nesting
depth, number of aliases, what the aliases expand to, the number of values and the length of
every text are capped (:mod:`bms_excel.definition_yaml`), so an alias bomb, a self-referencing
alias, deep nesting or a huge value is a located finding within a second, never a hang or a
traceback. :func:`validate_leniently` reports every schema problem and sets the wrong parts
aside, so ``bms check`` can run the quality checks on the rest.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bms_excel import model as m
from bms_excel.codes import make_finding
from bms_excel.definition_yaml import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT,
    PathKey,
    YamlLimitError,
    compose,
)
from bms_excel.errors import DefinitionError, Finding
from bms_excel.i18n import t

#: Every code loading a definition can give (the README's table lists them; the quality-check
#: codes are in :data:`bms_excel.checks.CHECK_SEVERITY`).
LOAD_CODES = (
    "file-unreadable", "file-too-large", "invalid-character", "yaml-syntax", "duplicate-key",
    "too-many-aliases", "alias-expansion", "recursive-alias", "nesting-too-deep",
    "too-many-values", "value-too-long", "missing-field", "unknown-field", "not-a-number",
    "invalid-format", "invalid-value",
)  # fmt: skip
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
    """Load and validate ``path``; raise :class:`DefinitionError` listing every problem.

    A definition workbook (``bms definition export``) is read too, its problems at sheet!cell.
    """
    from bms_excel.defbook.layout import is_workbook_file

    if is_workbook_file(path):
        from bms_excel.defbook.importer import load_definition_workbook

        return load_definition_workbook(path)
    return load_definition_with_source(path)[0]


def load_definition_with_source(path: Path) -> tuple[m.Definition, SourceMap]:
    """Load ``path`` and return the definition with its source map (for :func:`check_definition`)."""
    text, name = read_definition_text(path)
    return load_definition_text_with_source(text, name)


def read_definition_text(path: Path) -> tuple[str, str]:
    """The text of ``path`` and its name for findings; raise :class:`DefinitionError` when it
    cannot be read, is too large or is not UTF-8."""
    name = str(path)
    try:
        with Path(path).open("rb") as handle:
            # Read one byte past the cap: a device or a growing file never fills the memory.
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise _fail("file-unreadable", name, t("definition.file-not-found")) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _fail("file-unreadable", name, t("definition.file-os-error", reason=reason)) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(name)
    try:
        text = raw.decode("utf-8-sig")  # Notepad and Excel may write a byte-order mark
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = t("definition.file-not-utf8", line=line)
        raise _fail("file-unreadable", name, message, line) from exc
    return text, name


def load_definition_text_with_source(
    text: str, filename: str = "definition.yaml"
) -> tuple[m.Definition, SourceMap]:
    """Load definition YAML ``text`` and return the definition with its source map."""
    data, source, problems = parse_definition_text(text, filename)
    try:
        defn = m.Definition.model_validate(data)
    except ValidationError as exc:
        problems += [_schema_finding(err, data, source) for err in exc.errors(include_url=False)]
    if problems:
        raise DefinitionError(sorted(problems, key=_line_order))
    return defn, source


def parse_definition_text(
    text: str, filename: str = "definition.yaml"
) -> tuple[Any, SourceMap, list[Finding]]:
    """The plain data of definition YAML ``text``, its source map and the problems found so far
    (duplicate keys, over-long texts). Raise :class:`DefinitionError` when the text cannot be
    read at all: a syntax error, a forbidden character or a limit exceeded."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise _too_large(filename)
    try:
        composed = compose(text)
    except YamlLimitError as exc:
        raise _fail(exc.code, filename, t(f"definition.{exc.code}", **exc.kw), exc.line) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        detail = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        where: int | None = mark.line + 1 if mark else None
        if "maximum nesting depth" in str(detail):  # libyaml's own cap, before the composer's
            message = t("definition.nesting-too-deep", limit=MAX_DEPTH)
            raise _fail("nesting-too-deep", filename, message, where) from exc
        message = t("definition.yaml-syntax", detail=detail)
        raise _fail("yaml-syntax", filename, message, where) from exc
    if composed is None:
        raise _fail("missing-field", filename, t("definition.empty-file"))
    data, builder = composed
    source = SourceMap(filename, builder.lines)
    problems = [
        _finding(
            "duplicate-key", source, path, data, path[:-1], t("definition.duplicate-key", **kw)
        )
        for path, kw in builder.duplicates
    ]
    for path, length in builder.long_texts:
        detail = t("definition.value-too-long", length=length, limit=MAX_TEXT)
        problems.append(_finding("value-too-long", source, path, data, path, detail))
    return data, source, problems


def _too_large(name: str) -> DefinitionError:
    limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
    return _fail("file-too-large", name, t("definition.file-too-large", limit=limit))


def _line_order(finding: Finding) -> int:
    return finding.line if finding.line is not None else 0


def _fail(code: str, name: str, message: str, line: int | None = None) -> DefinitionError:
    return DefinitionError([make_finding(code, message=message, file=name, line=line)])


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
    return make_finding(
        code,
        message=message,
        file=source.file,
        line=source.line(loc),
        path=format_path(loc) or None,
        extra=extra,
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
    cls = _model_at(path)
    if cls is None:
        return []
    return [info.alias or name for name, info in cls.model_fields.items()]


def _model_at(path: PathKey) -> type[BaseModel] | None:
    """The model that validates the mapping at ``path`` (``None`` for a plain mapping)."""
    cls: type[BaseModel] | None = m.Definition
    for part in path:
        if isinstance(part, int) or cls is None:
            continue
        info = _field_info(cls, part)
        cls = _model_in(info.annotation) if info is not None else None
    return cls


def _field_info(cls: type[BaseModel], name: str) -> FieldInfo | None:
    return next((f for n, f in cls.model_fields.items() if name in (n, f.alias)), None)


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


# -- lenient validation (bms check) ----------------------------------------------------------


@dataclass(frozen=True)
class Repair:
    """What :func:`validate_leniently` removed so the rest could be validated and checked.

    ``field`` is the removed field (for an unknown field: the known one it was probably meant
    to be); ``code`` the code of a dropped list item (a unit, a period …); ``path`` where it was.
    """

    path: PathKey
    field: str | None = None
    code: str | None = None


def validate_leniently(
    data: Any, source: SourceMap, max_rounds: int = 20
) -> tuple[m.Definition | None, list[Finding], list[Repair], SourceMap]:
    """Validate ``data`` and report every schema problem, then validate what is left.

    Each problem is reported once; the field in error (or, when the field is required, the
    list item holding it) is removed and the rest validated again, so the quality checks can
    run on everything that is right. Returns the definition (``None`` when a required part
    outside any list is wrong), the problems, what was removed and the source map of the
    remaining data (list positions shift when items are dropped).
    """
    current = copy.deepcopy(data)
    problems: list[Finding] = []
    repairs: list[Repair] = []
    seen: set[tuple[str, int | None, str]] = set()
    for _ in range(max_rounds):
        try:
            return m.Definition.model_validate(current), problems, repairs, source
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        cuts: dict[PathKey, Repair] = {}
        for err in errors:
            loc: PathKey = tuple(err["loc"])
            # An object that lost a field may now break its own rules (weighted_mean without
            # weight_by): the consequence of a problem already reported.
            if not any(r.path[: len(loc)] == loc for r in repairs):
                finding = _schema_finding(err, current, source)
                key = (finding.code, finding.line, finding.message)
                if key not in seen:
                    seen.add(key)
                    problems.append(finding)
                suggestion = finding.extra.get("suggestion")
            else:
                suggestion = None
            cut = _cut_point(loc, current)
            if cut is None:
                return None, problems, repairs, source
            if cut not in cuts:
                cuts[cut] = _repair(cut, current, suggestion)
        # Drop ancestors' descendants; apply from the last position so list indices hold.
        chosen = [c for c in cuts if not any(o != c and c[: len(o)] == o for o in cuts)]
        for cut in sorted(chosen, reverse=True):
            parent = _at(current, cut[:-1])
            del parent[cut[-1]]
            if isinstance(cut[-1], int):
                source = _shift_lines(source, cut)
            repairs.append(cuts[cut])
    return None, problems, repairs, source


def _at(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _cut_point(loc: PathKey, data: Any) -> PathKey | None:
    """The smallest part to remove for the error at ``loc``: the field itself when it is
    optional or unknown, else the list item holding it; ``None`` when there is none."""
    existing: list[str | int] = []
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        existing.append(part)
    for end in range(len(existing), 0, -1):
        path, last = tuple(existing[:end]), existing[end - 1]
        if isinstance(last, int):
            return path
        cls = _model_at(path[:-1])
        info = None if cls is None else _field_info(cls, last)
        if info is None or not info.is_required():
            return path
    return None


def _repair(cut: PathKey, data: Any, suggestion: str | None) -> Repair:
    last = cut[-1]
    if isinstance(last, str):
        return Repair(cut, field=suggestion or last)
    item = _at(data, cut)
    code = item.get("code") if isinstance(item, dict) else None
    return Repair(cut, code=None if code is None else str(code))


def _shift_lines(source: SourceMap, dropped: PathKey) -> SourceMap:
    """``source`` after the list item at ``dropped`` is removed: later items move up one."""
    head, index, n = dropped[:-1], dropped[-1], len(dropped)
    assert isinstance(index, int)
    lines: dict[PathKey, int] = {}
    for path, line in source.lines.items():
        if len(path) >= n and path[: n - 1] == head and isinstance(path[n - 1], int):
            position = path[n - 1]
            assert isinstance(position, int)
            if position == index:
                continue
            if position > index:
                path = (*head, position - 1, *path[n:])
        lines[path] = line
    return SourceMap(source.file, lines)
