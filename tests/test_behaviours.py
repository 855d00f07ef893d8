"""Behaviours a controller relies on that each need a test failing when the rule breaks.

* the deadline day is on time, the day after is late (in the county's local time);
* the history read *as of* an earlier run gives that run's values;
* a KOSTRA region retired before the period's year warns, one retired that year does not;
* the master's trend cell says which way the value went and whether that is good;
* a value lost with its scorecard row is invalid on Enheter and Data, never missing;
* ``comment_required: when_not_green`` asks for a comment on yellow; a value below the valid
  range's lower limit is out of range;
* periods sort as a controller reads them: 2025, 2026-T1, 2026-T2, 2026-T3, 2026.

Every expected value is written out by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from conftest import PERIOD, SECRET, copy_file, good_entry
from consolidated import consolidate_values

from bms_excel.collect import collect_submissions, validate_files
from bms_excel.history import RunInfo, open_history
from bms_excel.kostra import KostraFigure
from bms_excel.kostra_import import match_figures
from bms_excel.master.run import write_master
from bms_excel.master.scorecard import COUNTY_HEADER_ROW, COUNTY_SHEET_COLUMNS, UNITS_HEADER_ROW
from bms_excel.model import Definition
from bms_excel.periods import period_sort_key
from bms_excel.records import SubmissionBatch, SubmissionRecord, ValueRecord
from bms_excel.status import Status, classify_input

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def oslo_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The controller's machine runs on Norwegian time."""
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- 2. the deadline day is on time -------------------------------------------------------------

# The example's 2026-T2 deadline is 2026-09-14. Times are Norwegian summer time (UTC+2), so
# 00:30 on the 15th is still the 14th in UTC: a reader judging in UTC would call it on time.
DEADLINE_CASES = [
    (dt.datetime(2026, 9, 13, 12, 0, tzinfo=OSLO), False),
    (dt.datetime(2026, 9, 14, 0, 0, 30, tzinfo=OSLO), False),
    (dt.datetime(2026, 9, 14, 23, 59, 30, tzinfo=OSLO), False),
    (dt.datetime(2026, 9, 15, 0, 0, 30, tzinfo=OSLO), True),
    (dt.datetime(2026, 9, 15, 1, 30, tzinfo=OSLO), True),
    (dt.datetime(2026, 9, 16, 12, 0, tzinfo=OSLO), True),
]


@pytest.mark.parametrize(("saved", "late"), DEADLINE_CASES, ids=lambda v: str(v))
def test_deadline_day_is_on_time_and_the_day_after_is_late(
    saved: dt.datetime,
    late: bool,
    oslo_time: None,
    filled: dict[str, Path],
    stfk: Definition,
    tmp_path: Path,
) -> None:
    path = copy_file(filled["HEIMDAL"], tmp_path / "inn" / "heimdal.xlsx")
    os.utime(path, (saved.timestamp(), saved.timestamp()))
    report = collect_submissions(tmp_path / "inn", stfk, PERIOD, SECRET)
    assert [f.state for f in report.files] == ["accepted"]
    flagged = [(f.code, f.file) for f in report.findings if f.code == "late-submission"]
    assert flagged == ([("late-submission", "heimdal.xlsx")] if late else [])


# -- 4. reproducing an earlier run ------------------------------------------------------------

RUN = RunInfo("consolidate", definition_hash="abc")
P = "2026-T1"


def _submission(unit: str, tag: str) -> SubmissionRecord:
    sha = hashlib.sha256(f"{unit}{tag}".encode()).hexdigest()
    return SubmissionRecord(f"inn/{unit}_{tag}.xlsx", sha, 1000, unit, P, "accepted")


def _batch(*parts: tuple[SubmissionRecord, float]) -> SubmissionBatch:
    batch = SubmissionBatch(period=P)
    for sub, value in parts:
        assert sub.unit
        batch.submissions.append(sub)
        batch.values.append(
            ValueRecord(
                sub.unit, P, "R1", "number", value, str(value), file=sub.path, sha256=sub.sha256
            )
        )
    return batch


def test_the_history_as_of_each_run_gives_that_runs_values(tmp_path: Path) -> None:
    # Run 1: A sends 10, B sends 20, C sends 30.
    # Run 2: A's correction (11) supersedes run 1's file; C corrects to 31.
    # Run 3: C goes back to 30 in a new file (superseded, then reverted); A and B unchanged.
    a1, a2 = _submission("A", "v1"), _submission("A", "v2")
    b1 = _submission("B", "v1")
    c1, c2, c3 = _submission("C", "v1"), _submission("C", "v2"), _submission("C", "v3")
    db = tmp_path / "bms.sqlite"
    with open_history(db) as h:
        run1 = h.record_batch(_batch((a1, 10.0), (b1, 20.0), (c1, 30.0)), run_info=RUN).run_id
        run2 = h.record_batch(_batch((a2, 11.0), (b1, 20.0), (c2, 31.0)), run_info=RUN).run_id
        run3 = h.record_batch(_batch((a2, 11.0), (b1, 20.0), (c3, 30.0)), run_info=RUN).run_id

    def as_of(run: int | None) -> dict[str, tuple[float | None, str | None]]:
        with open_history(db, lock=False) as h:
            values = h.accepted_values(P, as_of_run=run, external=False)
        return {v.unit: (v.value, v.sha256) for v in values}

    assert as_of(run1) == {"A": (10.0, a1.sha256), "B": (20.0, b1.sha256), "C": (30.0, c1.sha256)}
    assert as_of(run2) == {"A": (11.0, a2.sha256), "B": (20.0, b1.sha256), "C": (31.0, c2.sha256)}
    assert as_of(run3) == {"A": (11.0, a2.sha256), "B": (20.0, b1.sha256), "C": (30.0, c3.sha256)}
    assert as_of(None) == as_of(run3)

    # What the county reads from each: the sum of the three (10+20+30, 11+20+31, 11+20+30).
    definition = _trend_definition(aggregation="sum", indicators=(("R1", "higher"),), periods=(P,))
    for run, total in ((run1, 60.0), (run2, 62.0), (run3, 61.0)):
        with open_history(db, lock=False) as h:
            values = h.accepted_values(P, as_of_run=run, external=False)
        county = consolidate_values(definition, values, P).county
        assert county.loc[county["indicator"] == "R1", "value"].tolist() == [total]


# -- 6. a retired KOSTRA region -----------------------------------------------------------------


def _kostra_definition() -> Definition:
    return Definition.model_validate(
        {
            "county": {"code": "TFK", "name": "Trøndelag", "kostra_region": "50"},
            "sectors": [{"code": "OPPL", "name": "Opplæring"}],
            "units": [{"code": "VGS1", "name": "Heimdal vgs", "sector": "OPPL"}],
            "focus_areas": [{"code": "T", "name": "Tjenester", "goals": [
                {"code": "T1", "name": "God opplæring", "factors": [
                    {"code": "O1", "name": "Fullføring", "indicators": [
                        {"code": "O1.1", "name": "Netto driftsutgifter", "source": "kostra",
                         "frequency": "annual", "scope": "county",
                         "kostra": {"table": "12362", "contents": "KOSnetto"}},
                    ]},
                ]},
            ]}],
            "periods": [{"code": "2024", "label": "Årsrapport 2024", "kind": "annual",
                         "end": "2024-12-31", "deadline": "2025-02-15"}],
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("until", "warned"),
    [(2019, True), (2023, True), (2024, False), (2025, False), (None, False)],
)
def test_a_region_retired_before_the_periods_year_warns(until: int | None, warned: bool) -> None:
    # The 2024 report: a region code whose last year was 2023 is retired; 2024 is still valid.
    figure = KostraFigure(
        table="12362", contents="KOSnetto", region="50", region_name=None, year=2024,
        value=1.0, status="ok", status_symbol=None, unit=None, superseded_until=until,
    )  # fmt: skip
    matched, findings = match_figures([figure], _kostra_definition(), "2024")
    assert [(m.indicator, m.region, m.figure.value) for m in matched] == [("O1.1", "50", 1.0)]
    got = [(f.code, f.severity, f.extra.get("region")) for f in findings]
    assert got == ([("kostra-superseded-region", "warning", "50")] if warned else [])


# -- 8. the trend arrow on the master ------------------------------------------------------------


def _trend_definition(
    *,
    aggregation: str = "mean",
    indicators: tuple[tuple[str, str], ...],
    periods: tuple[str, ...] = ("2026-T1", "2026-T2"),
) -> Definition:
    ends = {"2026-T1": ("2026-04-30", "2026-05-15"), "2026-T2": ("2026-08-31", "2026-09-15")}
    return Definition.model_validate(
        {
            "county": {"code": "TF", "name": "Testfylket"},
            "sectors": [{"code": "S1", "name": "Skoler"}],
            "units": [
                {"code": "A", "name": "Skole A", "sector": "S1"},
                {"code": "B", "name": "Skole B", "sector": "S1"},
                {"code": "C", "name": "Skole C", "sector": "S1"},
            ],
            "focus_areas": [{"code": "F1", "name": "Tjenester", "goals": [
                {"code": "G1", "name": "Mål", "factors": [
                    {"code": "K1", "name": "Faktor", "indicators": [
                        {"code": code, "name": f"Indikator {code}", "aggregation": aggregation,
                         "direction": direction,
                         "thresholds": {"green": 10, "yellow": 20}
                         if direction == "lower" else {"green": 20, "yellow": 10}}
                        for code, direction in indicators
                    ]},
                ]},
            ]}],
            "periods": [{"code": p, "label": p, "end": ends[p][0], "deadline": ends[p][1]}
                        for p in periods],
        }
    )  # fmt: skip


TREND_INDICATORS = (
    ("H_UP", "higher"),
    ("H_DOWN", "higher"),
    ("L_UP", "lower"),
    ("L_DOWN", "lower"),
    ("L_SAME", "lower"),
)
#: indicator → (county value 2026-T1, county value 2026-T2, what Fylket's trend cell says)
TREND_CASES = {
    "H_UP": (12.0, 15.0, "↑ Bedre"),
    "H_DOWN": (15.0, 12.0, "↓ Dårligere"),
    "L_UP": (12.0, 15.0, "↑ Dårligere"),  # lower is better, and it rose
    "L_DOWN": (15.0, 12.0, "↓ Bedre"),
    "L_SAME": (14.0, 14.0, "→ Uendret"),
}


def test_the_masters_trend_cell_gives_direction_and_judgement(tmp_path: Path) -> None:
    definition = _trend_definition(indicators=TREND_INDICATORS)

    def records(period: str, column: int) -> list[ValueRecord]:
        # Every unit reports the county value, so the mean is exactly that value.
        return [
            ValueRecord(u, period, code, "number", values[column], file=f"{u}.xlsx", sha256=u)
            for code, values in TREND_CASES.items()
            for u in "ABC"
        ]

    result = consolidate_values(definition, records("2026-T2", 1), "2026-T2", records("2026-T1", 0))
    path = write_master(
        tmp_path / "bms_TF.xlsx",
        definition=definition,
        period="2026-T2",
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
    )
    wb = openpyxl.load_workbook(path)
    try:
        rows = {
            r[0]: dict(zip(COUNTY_SHEET_COLUMNS, r, strict=False))
            for r in wb["Fylket"].iter_rows(min_row=COUNTY_HEADER_ROW + 1, values_only=True)
        }
    finally:
        wb.close()
    shown = {code: (rows[code]["previous"], rows[code]["county-value"], rows[code]["trend"])
             for code in TREND_CASES}  # fmt: skip
    assert shown == TREND_CASES


# -- 9. a value lost with its scorecard row ------------------------------------------------------


def _delete_row(path: Path, row: int) -> None:
    mtime = path.stat().st_mtime
    wb = openpyxl.load_workbook(path)
    wb["Målekort"].delete_rows(row)
    wb.save(path)
    wb.close()
    os.utime(path, (mtime, mtime))


def test_a_lost_value_is_invalid_on_enheter_and_data(
    filled: dict[str, Path], stfk: Definition, tmp_path: Path
) -> None:
    # HEIMDAL deletes R1.2's row (row 10 of Målekort): the value is lost, the file accepted.
    path = copy_file(filled["HEIMDAL"], tmp_path / "inn" / "heimdal.xlsx")
    _delete_row(path, 10)
    report = collect_submissions(tmp_path / "inn", stfk, PERIOD, SECRET)
    assert ("indicator-not-found", "Målekort", "A10") in {
        (f.code, f.sheet, f.cell) for f in report.findings
    }
    result = consolidate_values(stfk, report.batch.values, PERIOD)
    master = write_master(
        tmp_path / "bms.xlsx",
        definition=stfk,
        period=PERIOD,
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
        report=report,
    )
    wb = openpyxl.load_workbook(master)
    try:
        enheter = wb["Enheter"]
        codes = [c.value for c in enheter[UNITS_HEADER_ROW - 2]]
        unit_rows = {
            r[0]: r for r in enheter.iter_rows(min_row=UNITS_HEADER_ROW + 1, values_only=True)
        }
        heimdal = dict(zip(codes, unit_rows["HEIMDAL"], strict=False))
        data = list(wb["Data"].iter_rows(values_only=True))
    finally:
        wb.close()
    # Enheter: the cell holds what the status formula reads as invalid (never blank = missing);
    # its neighbour R1.1 is still the number typed.
    assert classify_input(heimdal["R1.2"]) is Status.INVALID
    assert heimdal["R1.1"] == 2.0
    # Data: the row says "Ugyldig" / invalid.
    header = data[0]
    rows = [dict(zip(header, r, strict=True)) for r in data[1:]]
    row = next(r for r in rows if r["Enhet"] == "HEIMDAL" and r["Indikator"] == "R1.2")
    assert (row["Status"], row["Statuskode"]) == ("Ugyldig", "invalid")
    # And it is left out of the county value: HEIMDAL is excluded, not missing.
    county = result.county[result.county["indicator"] == "R1.2"].iloc[0]
    assert county["n_excluded"] >= 1
    long = result.long
    lost = long[(long["unit"] == "HEIMDAL") & (long["indicator"] == "R1.2")].iloc[0]
    assert lost["status"] == "invalid"


# -- 10. comment required when not green; the valid range's lower limit --------------------------

# HEIMDAL's P1.1 (sick leave, lower is better) has its own limits: green ≤ 5.0, yellow ≤ 6.5;
# comment_required: when_not_green. Its result is I22, its comment L22. P1.2 (I23) has the
# valid range [1, 6].
COMMENT_CASES = [
    ({"P1.1": 5.0}, {}, []),  # green: no comment needed
    ({"P1.1": 6.0}, {}, [("comment-required", "Målekort", "L22")]),  # yellow, blank comment
    ({"P1.1": 6.0}, {"P1.1": "Langtidssykemeldinger."}, []),
    ({"P1.1": 7.0}, {}, [("comment-required", "Målekort", "L22")]),  # red
    # (P1.2's comment is given: a low score is red and asks for one.)
    ({"P1.2": 1.0}, {"P1.2": "Lav skår."}, []),  # the lower limit itself is valid
    ({"P1.2": 0.5}, {"P1.2": "Lav skår."}, [("out-of-range", "Målekort", "I23")]),
    ({"P1.2": 6.0}, {"P1.2": "Høy skår."}, []),
    ({"P1.2": 6.5}, {"P1.2": "Høy skår."}, [("out-of-range", "Målekort", "I23")]),
]


@pytest.mark.parametrize(("values", "comments", "expected"), COMMENT_CASES)
def test_comment_required_when_not_green_and_the_lower_limit(
    values: dict[str, float],
    comments: dict[str, str],
    expected: list[tuple[str, str, str]],
    fill: Callable[..., Path],
    stfk: Definition,
    tmp_path: Path,
) -> None:
    entry: Any = good_entry(stfk, "HEIMDAL")
    entry = dataclasses.replace(
        entry, values={**entry.values, **values}, comments={**entry.comments, **comments}
    )
    path = fill("HEIMDAL", tmp_path / "heimdal.xlsx", entry)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert sorted((f.code, f.sheet, f.cell) for f in report.findings) == expected


# -- 11. period order -----------------------------------------------------------------------------

CHRONOLOGICAL = ["2025-T3", "2025", "2026-T1", "2026-T2", "2026-T3", "2026"]


def test_periods_sort_as_a_controller_reads_them() -> None:
    scrambled = ["2026", "2026-T2", "2025", "2026-T3", "2026-T1", "2025-T3"]
    assert sorted(scrambled, key=period_sort_key) == CHRONOLOGICAL


def test_the_history_lists_periods_in_order(tmp_path: Path) -> None:
    # Recorded in a scrambled order (an annual report imported after its tertials …).
    db = tmp_path / "bms.sqlite"
    with open_history(db) as h:
        for i, period in enumerate(["2026", "2026-T2", "2025", "2026-T3", "2026-T1", "2025-T3"]):
            batch = SubmissionBatch(period=period)
            batch.values.append(
                ValueRecord("A", period, "R1", "number", float(i), source="controller")
            )
            h.record_batch(batch, run_info=RunInfo("import", period=period))
        listed = [v.period for v in h.values_for_trend(indicator="R1", unit="A")]
    assert listed == CHRONOLOGICAL
