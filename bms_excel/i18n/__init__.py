"""The message catalogue: every text a user sees, in bokmål (nb), nynorsk (nn) and English (en).

The catalogue is split by topic into YAML files beside this module (``core.yaml``,
``definition.yaml``, ...) and merged into one table at first use; a key may be defined only once.
Each entry maps a language code to a ``str.format`` template::

    definition.not-a-number:
      nb: "«{value}» er ikke et tall"
      nn: "«{value}» er ikkje eit tal"
      en: "'{value}' is not a number"

Call :func:`t` with the key and the placeholders. The language comes from :func:`set_language`
(the CLI sets it from ``--lang`` or the project) unless given.
"""

from __future__ import annotations

import contextvars
import functools
from importlib import resources
from typing import Any, Literal

import yaml

Language = Literal["nb", "nn", "en"]
LANGUAGES: tuple[Language, ...] = ("nb", "nn", "en")
DEFAULT_LANGUAGE: Language = "nb"

_current: contextvars.ContextVar[Language] = contextvars.ContextVar(
    "bms_language", default=DEFAULT_LANGUAGE
)


#: libyaml's safe loader when PyYAML was built with it (about ten times faster: every
#: process, the pool's workers included, reads the catalogue once), else the pure one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogueError(Exception):
    """The catalogue itself is broken (a programmer error, caught by the test suite)."""


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """The merged catalogue: key → {language → template}."""
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files(__name__)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        for key, texts in data.items():
            if key in merged:
                raise CatalogueError(f"message key {key!r} defined twice ({entry.name})")
            if not isinstance(texts, dict):
                raise CatalogueError(f"message key {key!r} in {entry.name} is not a mapping")
            merged[key] = {str(k): str(v) for k, v in texts.items()}
    return merged


def set_language(lang: str | None) -> None:
    """Choose the language of every later :func:`t` call in this context."""
    _current.set(check_language(lang or DEFAULT_LANGUAGE))


def get_language() -> Language:
    """The language currently in force."""
    return _current.get()


def check_language(lang: str) -> Language:
    """Return ``lang`` if it is a supported language code, else raise ``ValueError``."""
    for known in LANGUAGES:
        if lang == known:
            return known
    raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGUAGES)}")


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The message ``key`` in ``lang`` (default: the current language), formatted with ``params``.

    Falls back to bokmål when a language lacks the key; an unknown key raises ``KeyError``
    so that a typo is caught by the tests, never shown to a user as a key.
    """
    texts = catalogue()[key]
    template = texts.get(lang or _current.get()) or texts[DEFAULT_LANGUAGE]
    return template.format(**params) if params else template
