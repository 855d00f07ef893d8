"""Locate the bundled data folders (``workbook_templates/``, ``macros/``).

From a checkout they sit at the repository root; in an installed wheel hatch's force-include
maps them to ``bms_excel/_data/``. One helper serves both.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``workbook_templates`` or ``macros``), installed or from a checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} not found next to {_PACKAGE}")


def templates_dir() -> Path:
    """The folder holding the bundled workbook templates."""
    return data_dir("workbook_templates")


def workbook_template(name: str = "enhet.xlsx") -> Path:
    """The bundled unit-workbook template."""
    return templates_dir() / name
