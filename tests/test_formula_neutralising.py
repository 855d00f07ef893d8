"""One formula neutralisation for every CSV a controller opens: the reminder list and the exports.

Both go through :func:`bms_excel.values.neutralise`; the table below is written out by hand
(what Excel would run as a formula gets a leading ``'``; a plain number, even a negative one,
is left alone so it stays a number).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from bms_excel.collect import collect_submissions, write_reminder_csv
from bms_excel.export import write_csv
from bms_excel.model import Definition

#: (text as typed, text as it must appear in the CSV)
CASES: list[tuple[str, str]] = [
    ('=HYPERLINK("http://x.example")', '\'=HYPERLINK("http://x.example")'),
    ("+47 99 99 99 99", "'+47 99 99 99 99"),
    ("-1 elev", "'-1 elev"),
    ("@kari", "'@kari"),
    ("\t=1+1", "'\t=1+1"),  # a leading tab: Excel strips it and runs the rest
    ("\r@SUM(A1)", "'\r@SUM(A1)"),  # a leading carriage return, likewise
    (" =1+1", "' =1+1"),
    ("-3,5", "-3,5"),  # a plain negative number stays a number
    ("-12", "-12"),
    ("-1 234,5", "-1 234,5"),
    ("\u22123,5", "\u22123,5"),
    ("-", "-"),  # "not applicable"
    ("Skole A", "Skole A"),
    ("a=b", "a=b"),
]


def _rows(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_reminder_csv_neutralises_like_the_exports(stfk: Definition, tmp_path: Path) -> None:
    # Every unit's name is one case; an empty folder leaves every unit on the reminder list.
    units = list(stfk.units)
    assert len(units) >= len(CASES)
    names = {u.code: text for u, (text, _) in zip(units, CASES, strict=False)}
    renamed = tuple(u.model_copy(update={"name": names.get(u.code, u.name)}) for u in units)
    definition = stfk.model_copy(update={"units": renamed})
    empty = tmp_path / "inn"
    empty.mkdir()
    report = collect_submissions(empty, definition, "2026-T2", b"x" * 32)
    path = write_reminder_csv(report, definition, tmp_path / "rapporter")
    shown = {row[0]: row[1] for row in _rows(path)[1:]}
    expected = {u.code: want for u, (_, want) in zip(units, CASES, strict=False)}
    assert {code: shown[code] for code in expected} == expected

    # The long-table export writes the same texts the same way.
    frame = pd.DataFrame({"text": [text for text, _ in CASES]})
    exported = [row[0] for row in _rows(write_csv(frame, tmp_path / "eksport.csv"))[1:]]
    assert exported == [want for _, want in CASES]


@pytest.mark.parametrize(("text", "want"), CASES)
def test_each_case_in_the_reminder_list(
    text: str, want: str, stfk: Definition, tmp_path: Path
) -> None:
    # A contact name is free text from the definition: it is neutralised the same way.
    first = stfk.units[0]
    assert first.contact is not None
    contact = first.contact.model_copy(update={"name": text})
    units = (first.model_copy(update={"contact": contact}), *stfk.units[1:])
    definition = stfk.model_copy(update={"units": units})
    empty = tmp_path / "inn"
    empty.mkdir()
    report = collect_submissions(empty, definition, "2026-T2", b"x" * 32)
    rows = _rows(write_reminder_csv(report, definition, tmp_path))
    contact_col = 3
    assert next(r for r in rows[1:] if r[0] == first.code)[contact_col] == want
