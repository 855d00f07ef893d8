"""Definition YAML → plain data and a ``path → line`` map, safely (DESIGN §2, issue 12).

A definition arrives by e-mail or from a shared folder: it is hostile input like a returned
workbook. Its size, nesting depth, number of aliases, what the aliases expand to (billion
laughs), the number of values and the length of every text are capped; a self-referencing
alias is refused. libyaml's parser (C speed) feeds PyYAML's Python composer, which counts;
without libyaml the pure-Python parser does. Problems are raised as :class:`YamlLimitError`
(code, line, parameters) for :mod:`bms_excel.definition` to turn into located findings.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.resolver import Resolver

PathKey = tuple[str | int, ...]

# Limits on what a definition may hold. A county with 10 000 units is about 3 MB of YAML and
# 200 000 values, nested at most 12 levels; texts are names and descriptions.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 10_000
#: How many values the aliases of a file may add when they are expanded (billion laughs).
MAX_ALIAS_VALUES = 100_000
MAX_VALUES = 250_000
MAX_TEXT = 5_000
# What YAML forbids in a stream (PyYAML's Reader.NON_PRINTABLE): NUL and other control bytes.
NON_PRINTABLE = re.compile(
    "[^\\x09\\x0a\\x0d\\x20-\\x7e\\x85\\xa0-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]"
)

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


def _is_text_path(path: PathKey) -> bool:
    if not path:
        return False
    last = path[-1]
    if isinstance(last, int):
        return len(path) >= 2 and path[-2] in _TEXT_LIST_KEYS
    return last in _TEXT_KEYS or (len(path) >= 2 and path[-2] == "unit_regions")


class YamlLimitError(Exception):
    """A definition beyond one of the limits (raised inside the loader, turned into a finding)."""

    def __init__(self, code: str, line: int | None, **kw: Any) -> None:
        super().__init__(code)
        self.code, self.line, self.kw = code, line, kw


class _LimitedComposer(Composer):
    """PyYAML's composer with a cap on depth, values and aliases (it is recursive per level,
    so deep nesting would otherwise end in a ``RecursionError``)."""

    def init_limits(self) -> None:
        self.depth = 0
        self.values = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]  # from the parser beside it
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlLimitError("too-many-aliases", line, limit=MAX_ALIASES)
            return super().compose_node(parent, index)
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlLimitError("too-many-values", line, limit=MAX_VALUES)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YamlLimitError("nesting-too-deep", line, limit=MAX_DEPTH)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _PyLoader(yaml.SafeLoader, _LimitedComposer):
    """PyYAML's pure-Python safe loader with the limited composer."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.init_limits()

    compose_node = _LimitedComposer.compose_node


_Loader: type[Any] = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLoader(CParser, _LimitedComposer, SafeConstructor, Resolver):
        """libyaml's scanner and parser (fast) under the Python composer (limited)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.init_limits()

        # CParser composes in C, without limits: use the Python composer on its events.
        get_single_node = _LimitedComposer.get_single_node
        check_node = _LimitedComposer.check_node
        get_node = _LimitedComposer.get_node

    _Loader = _CLoader


class _Builder:
    """Turns a composed YAML node tree into plain data plus a path → line map.

    Aliases are expanded here: a node met again while it is being built is a self-reference,
    and expansion may add at most :data:`MAX_ALIAS_VALUES` values beyond those written.
    """

    def __init__(self, loader: Any, written: int) -> None:
        self.loader = loader
        self.lines: dict[PathKey, int] = {(): 1}
        self.duplicates: list[tuple[PathKey, dict[str, Any]]] = []
        self.long_texts: list[tuple[PathKey, int]] = []
        self.budget = written + MAX_ALIAS_VALUES
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlLimitError(
                "alias-expansion", node.start_mark.line + 1, limit=MAX_ALIAS_VALUES
            )
        if isinstance(node, yaml.CollectionNode):
            if id(node) in self.active:  # located at the alias (its key or list item)
                line = self.lines.get(path, node.start_mark.line + 1)
                raise YamlLimitError("recursive-alias", line)
            self.active.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                items = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = item.start_mark.line + 1
                    items.append(self.build(item, (*path, index)))
                return items
            finally:
                self.active.discard(id(node))
        if len(node.value) > MAX_TEXT:
            self.long_texts.append((path, len(node.value)))
            return node.value[:MAX_TEXT]
        # A plain scalar has no style: None from PyYAML's parser, "" from libyaml's.
        plain = isinstance(node, yaml.ScalarNode) and not node.style
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
                        merged = self.build(src, path)
                        for key, value in merged.items():
                            out.setdefault(key, value)
                continue
            # Keys are names: keep their text (`on:` and `no:` are not booleans here).
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if len(key) > MAX_TEXT:
                self.long_texts.append((path, len(key)))
                key = key[:40] + "…"
            if key in first:
                self.duplicates.append(((*path, key), {"key": key, "first": first[key]}))
            first[key] = line
            self.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key))
        return out


def compose(text: str) -> tuple[Any, _Builder] | None:
    """The plain data of YAML ``text`` and the builder holding its lines, duplicate keys and
    over-long texts; ``None`` for an empty document. Raises :class:`YamlLimitError` and
    ``yaml.YAMLError``."""
    bad = NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise YamlLimitError("invalid-character", line, char=f"U+{ord(bad.group()):04X}")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        builder = _Builder(loader, loader.values)
        return builder.build(root, ()), builder
    finally:
        loader.dispose()
