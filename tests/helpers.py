"""Helpers only the tests need: readers and views the package itself never calls.

They moved here from the package (issue 14: no public function that only tests call).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bms_excel import model as m
from bms_excel.definition import load_definition_text_with_source
from bms_excel.examples import HISTORY_FILE, HISTORY_HEADER, example_history_path
from bms_excel.layout import UnitLayout
from bms_excel.resources import data_dir
from bms_excel.status import Status, status_label


def load_definition_text(text: str, filename: str = "definition.yaml") -> m.Definition:
    """Load and validate definition YAML ``text``; ``filename`` is used in the findings."""
    return load_definition_text_with_source(text, filename)[0]


def load_example_history(name: str) -> list[tuple[str, str, str, str]]:
    """The history rows of example ``name``: (period, unit, indicator, raw value text).

    The value is the text as written: ``""`` for missing, ``"i.a."`` for not applicable,
    otherwise a number with ``.`` as decimal separator. An example without a history file
    gives an empty list; an unknown name raises ``KeyError``.
    """
    path = example_history_path(name)
    if not path.is_file():
        return []
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8")))
    header = next(reader, None)
    if header is None or tuple(header) != HISTORY_HEADER:
        raise ValueError(f"{name}/{HISTORY_FILE}: expected header {','.join(HISTORY_HEADER)}")
    rows: list[tuple[str, str, str, str]] = []
    for row in reader:
        if not row:
            continue
        if len(row) != len(HISTORY_HEADER):
            raise ValueError(f"{name}/{HISTORY_FILE}: expected 4 fields, got {row!r}")
        period, unit, indicator, value = row
        rows.append((period, unit, indicator, value))
    return rows


def input_cells(layout: UnitLayout) -> dict[str, set[str]]:
    """Sheet name → every cell a person may type into (the unlocked cells)."""
    sc = layout.scorecard
    score = {ref for c in sc.indicators if c.input for ref in (c.result_ref, c.comment_ref)}
    acts = layout.actions
    actions = {
        f"{col}{r}"
        for col in acts.columns.values()
        for r in range(acts.first_row, acts.last_row + 1)
    }
    assess = {ref for a in layout.assessment for ref in (a.assessment_ref, a.learned_ref)}
    return {
        layout.sheets.scorecard: score,
        layout.sheets.actions: actions,
        layout.sheets.assessment: assess,
    }


def macros_dir() -> Path:
    """The folder holding the VBA sources (installed or from a checkout)."""
    return data_dir("macros")


def status_from_label(label: str, lang: str = "nb") -> Status:
    """The status whose label in ``lang`` is ``label`` (trimmed, case-insensitive)."""
    wanted = label.strip().casefold()
    for status in Status:
        if status_label(status, lang).casefold() == wanted:
            return status
    raise ValueError(f"{label!r} is not a status label in language {lang!r}")
