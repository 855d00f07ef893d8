"""The message catalogue: complete in every language, and every key the code uses exists."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bms_excel.i18n import LANGUAGES, catalogue, set_language, t

PACKAGE = Path(__file__).parents[1] / "bms_excel"


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_has_every_language_with_the_same_placeholders() -> None:
    problems = []
    for key, texts in catalogue().items():
        missing = [lang for lang in LANGUAGES if not texts.get(lang)]
        if missing:
            problems.append(f"{key}: missing {missing}")
            continue
        fields = {lang: _fields(texts[lang]) for lang in LANGUAGES}
        if len({frozenset(f) for f in fields.values()}) != 1:
            problems.append(f"{key}: placeholders differ {fields}")
    assert problems == []


def _literal_keys() -> list[tuple[str, str]]:
    """Every ``t("literal.key", ...)`` call in the package, with its file."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((str(path.relative_to(PACKAGE)), node.args[0].value))
    return found


def test_every_literal_key_used_in_code_exists() -> None:
    keys = catalogue()
    used = _literal_keys()
    assert used, "the scan found no t() calls: the test would prove nothing"
    assert [(f, k) for f, k in used if k not in keys] == []


def test_language_switch_changes_text() -> None:
    try:
        set_language("nn")
        assert t("status.red") == "Raud"
        set_language("en")
        assert t("status.red") == "Red"
    finally:
        set_language("nb")
    assert t("status.red") == "Rød"


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        t("no.such.key")
