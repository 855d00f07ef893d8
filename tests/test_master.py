"""The master workbook and ``bms consolidate``: layout, safety, atomic writes, locks, idempotency.

Uses the five-unit project of :mod:`test_roundtrip`. Locations and codes are asserted, never
prose (apart from the lock message's one distinctive word).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from history_helpers import audit_trail
from ooxml_check import assert_clean
from test_roundtrip import PERIOD, RETURNS, fill_returns, make_project, sheet_rows

from bms_excel.cli import main
from bms_excel.consolidate import aggregate_county, build_long_table, rollup_scores, trend
from bms_excel.errors import OutputError
from bms_excel.export import export_long
from bms_excel.history import open_history
from bms_excel.master.lists import DATA_TABLE
from bms_excel.master.run import consolidate_project, master_filename, write_master
from bms_excel.master.save import TEMP_PREFIX, TEMP_SUFFIX
from bms_excel.project import Project
from bms_excel.records import ValueRecord

HOSTILE = ['=HYPERLINK("http://x.example","klikk")', "+47 99 99 99 99", "-1 elev", "@kari"]


@pytest.fixture(scope="module")
def base_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project with generated workbooks and filled returns (copied per test)."""
    project = make_project(tmp_path_factory.mktemp("master"))
    fill_returns(
        project,
        comments={"A": {"I_SUM": HOSTILE[1]}, "B": {"I_MEAN": HOSTILE[2]}},
        assessments={"A": {"F1": (HOSTILE[3], "Vi lærte mye")}},
    )
    return project


@pytest.fixture
def project(base_project: Project, tmp_path: Path) -> Project:
    from bms_excel.project import load_project

    dest = tmp_path / "p"
    shutil.copytree(base_project.root, dest)
    return load_project(dest / "bms.toml")


def run_cli(project: Project, *args: str) -> Any:
    return CliRunner().invoke(main, ["--project", str(project.root), "consolidate", *args])


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but ``runs`` (a run is recorded each time by design), without run ids."""
    con = sqlite3.connect(db)
    try:
        out = {}
        for table in ("submissions", "submission_values", "actions", "assessments"):
            out[table] = con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        out["findings"] = con.execute(
            "SELECT submission_sha256, code, severity, file, sheet, cell, message FROM findings"
            " WHERE submission_sha256 IS NOT NULL ORDER BY id"
        ).fetchall()
        return out
    finally:
        con.close()


def data_sheet(path: Path) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path)
    try:
        return [tuple(r) for r in wb["Data"].iter_rows(values_only=True)]
    finally:
        wb.close()


# -- the workbook ------------------------------------------------------------------------------


def test_sheets_print_setup_and_table(project: Project) -> None:
    result = consolidate_project(project)
    master = result.master
    assert master == project.reports_dir / "bms_TF_2026-T1.xlsx"
    assert_clean(master)
    wb = openpyxl.load_workbook(master)
    try:
        assert wb.sheetnames == [
            "Oversikt", "Fylket", "Enheter", "Trend", "Kommentarer", "Tiltak",
            "Vurderinger", "Innsending", "Avvik", "Data", "Om",
        ]  # fmt: skip
        for ws in wb.worksheets:
            assert ws.page_setup.orientation == "landscape", ws.title
            assert int(ws.page_setup.paperSize) == 9, ws.title  # A4
            # An explicit scale, never "fit to page": 10 pt text prints at 8 pt or more.
            assert not ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert 80 <= int(ws.page_setup.scale) <= 100, ws.title
            assert (ws.column_dimensions["A"].width or 0) >= 8, ws.title  # set, not default
        assert wb["Fylket"].freeze_panes == "C5" and wb["Fylket"].print_title_rows == "$4:$4"
        assert wb["Enheter"].freeze_panes == "D8"
        assert wb["Data"].freeze_panes == "A2"
        # Data prints up to the file column: not the checksum nor the columns after it.
        assert wb["Data"].print_area == f"'Data'!$A$1:$S${1 + 5 * 7}"
        assert wb["Data"]["S1"].value == "Fil" and wb["Data"]["T1"].value == "SHA-256"
        for name in ("Kommentarer", "Tiltak", "Vurderinger", "Innsending", "Avvik"):
            assert wb[name].auto_filter.ref and wb[name].auto_filter.ref.startswith("A3:"), name
        table = wb["Data"].tables[DATA_TABLE]
        headers = [c.value for c in wb["Data"][1]]
        assert table.ref == f"A1:X{1 + 5 * 7}"
        # The balance audit's fields close the table: Amdam's result level, leading/lagging.
        assert (wb["Data"]["W1"].value, wb["Data"]["X1"].value) == (
            "Resultatnivå",
            "Ledende/etterslepende",
        )
        assert all(isinstance(h, str) for h in headers) and len(set(headers)) == len(headers)
        # Norwegian number format: one decimal is "# ##0,0" on screen, "#,##0.0" in OOXML.
        fylket = wb["Fylket"]
        row = next(c.row for c in fylket["A"] if c.value == "I_MIN")
        assert fylket[f"E{row}"].number_format == "#,##0.0"
    finally:
        wb.close()


def test_status_formulas_only_in_status_and_score_cells(project: Project) -> None:
    master = consolidate_project(project).master
    wb = openpyxl.load_workbook(master)
    try:
        formulas = {
            (ws.title, c.column_letter)
            for ws in wb.worksheets
            for row in ws.iter_rows()
            for c in row
            if c.data_type == "f"
        }
        fylket = wb["Fylket"]
        row = next(c.row for c in fylket["A"] if c.value == "I_SUM")
        status = fylket[f"M{row}"].value
    finally:
        wb.close()
    assert formulas == {("Fylket", "M"), ("Fylket", "N")}
    # The limits are cell references in the status formula, so correcting one recolours.
    assert f"H{row}" in status and f"I{row}" in status and f"E{row}" in status


def test_unit_texts_that_look_like_formulas_stay_text(project: Project) -> None:
    master = consolidate_project(project).master
    comments = sheet_rows(master, "Kommentarer", 3)
    assert {r["Kommentar"] for r in comments} == {HOSTILE[1], HOSTILE[2]}
    assessments = sheet_rows(master, "Vurderinger", 3)
    assert [r["Vurdering"] for r in assessments] == [HOSTILE[3]]
    with zipfile.ZipFile(master) as zf:
        names = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in names:
            xml = zf.read(name).decode("utf-8")
            if "<f>" in xml:
                assert "HYPERLINK" not in xml and "99 99" not in xml


def test_a_formula_like_comment_is_text_in_the_master_and_neutralised_in_exports(
    tmp_path: Path, project: Project
) -> None:
    definition = project.load_definition()
    records = [
        ValueRecord("A", PERIOD, "I_SUM", "number", 120.0, "120", HOSTILE[0], file="a.xlsx"),
        ValueRecord("B", PERIOD, "I_SUM", "number", 10.0, "10", "@SUM(A1)", file="b.xlsx"),
    ]
    long = build_long_table(definition, records, PERIOD)
    county = aggregate_county(definition, long, PERIOD)
    rollups = rollup_scores(definition, long, county)
    trends = trend(definition, long, long.iloc[0:0])
    path = write_master(
        tmp_path / "m.xlsx",
        definition=definition,
        period=PERIOD,
        long=long,
        county=county,
        rollups=rollups,
        trends=trends,
    )
    assert_clean(path)
    wb = openpyxl.load_workbook(path)
    try:
        cells = [c for row in wb["Kommentarer"].iter_rows(min_row=4) for c in row if c.value]
        hostile = [c for c in cells if c.value == HOSTILE[0]]
        assert hostile and all(c.data_type == "s" for c in hostile)
    finally:
        wb.close()
    out = export_long(long, csv_path=tmp_path / "x.csv", parquet_path=tmp_path / "x.parquet")
    back = pd.read_csv(out["csv"], sep=";", decimal=",", encoding="utf-8-sig")
    assert set(back["comment"].dropna()) == {"'" + HOSTILE[0], "'@SUM(A1)"}
    assert back.loc[back["unit"] == "A", "value"].iloc[0] == 120.0
    parquet = pd.read_parquet(out["parquet"])
    assert set(parquet["comment"].dropna()) == {"'" + HOSTILE[0], "'@SUM(A1)"}


# -- atomic writes and locks ---------------------------------------------------------------------


@pytest.mark.parametrize("lock", ["~$bms_TF_2026-T1.xlsx", ".~lock.bms_TF_2026-T1.xlsx#"])
def test_a_master_open_in_excel_is_refused_and_left_untouched(project: Project, lock: str) -> None:
    master = consolidate_project(project).master
    before = master.read_bytes()
    (master.parent / lock).write_text("owner")
    result = run_cli(project)
    assert result.exit_code == 2
    assert "åpen" in result.output and lock in result.output
    assert master.read_bytes() == before
    assert not list(master.parent.glob(".~bms-*"))


def test_a_failing_rename_leaves_the_previous_master(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = consolidate_project(project).master
    before = master.read_bytes()

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")  # Windows: the file is open in Excel

    monkeypatch.setattr("bms_excel.master.save.os.replace", refuse)
    with pytest.raises(OutputError) as info:
        consolidate_project(project)
    assert str(master) in info.value.message
    assert master.read_bytes() == before
    assert not list(master.parent.glob(".~bms-*"))


def test_an_unopenable_master_is_a_clear_error(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    master = consolidate_project(project).master
    before = master.read_bytes()
    real_open = open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if Path(file) == master and "a" in mode:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("bms_excel.master.save.open", fake_open, raising=False)
    with pytest.raises(OutputError):
        consolidate_project(project)
    assert master.read_bytes() == before


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_json_contract(project: Project, tmp_path: Path) -> None:
    csv_path = tmp_path / "long.csv"
    result = run_cli(project, "--json", "--csv", str(csv_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["master"] == str(project.reports_dir / master_filename("TF", PERIOD))
    assert data["history"] == str(project.history_path)
    assert data["period"] == PERIOD
    assert data["units"] == {
        "received": 4, "missing": 1, "duplicate": 0, "rejected": 0, "total": 5
    }  # fmt: skip
    assert [m["code"] for m in data["missing"]] == ["E"]
    assert [(a["code"], a["status"]) for a in data["focus_areas"]] == [
        ("F1", "green"),
        ("F2", "red"),
        ("", "yellow"),
    ]
    assert data["exports"] == {"csv": str(csv_path)} and csv_path.is_file()


def test_cli_human_output_names_the_master(project: Project) -> None:
    result = run_cli(project)
    assert result.exit_code == 0, result.output
    assert master_filename("TF", PERIOD) in result.output


def test_a_second_run_while_one_holds_the_database_gets_the_lock_error(project: Project) -> None:
    with open_history(project.history_path):
        result = run_cli(project, "--json")
    assert result.exit_code == 2
    assert str(project.history_path) in result.output
    assert not (project.reports_dir / master_filename("TF", PERIOD)).exists()


# -- idempotency and supersession ---------------------------------------------------------------


def test_consolidating_twice_gives_identical_data_and_database(project: Project) -> None:
    first = consolidate_project(project)
    data1, db1 = data_sheet(first.master), snapshot(project.history_path)
    second = consolidate_project(project)
    assert not second.changed
    assert data_sheet(second.master) == data1
    assert snapshot(project.history_path) == db1
    assert len(data1) == 1 + 5 * 7


def test_replacing_one_units_file_changes_exactly_its_rows(project: Project) -> None:
    first = consolidate_project(project)
    before = data_sheet(first.master)
    corrected = {"B": {**RETURNS["B"], "I_SUM": 55, "I_MEAN": 61}}
    later = project.submissions_dir / f"{PERIOD}_B.xlsx"
    saved = later.stat().st_mtime
    fill_returns(project, corrected)
    os.utime(later, (saved + 60, saved + 60))  # the correction is a later file
    second = consolidate_project(project)
    after = data_sheet(second.master)
    assert second.changed
    header = before[0]
    unit_col = header.index("Enhet")
    changed = {b[unit_col] for b, a in zip(before, after, strict=True) if b != a}
    assert changed == {"B"}
    with open_history(project.history_path) as history:
        trail = audit_trail(history, "B", PERIOD)
    assert [e.submission.state for e in trail] == ["superseded", "accepted"]
    assert trail[0].submission.superseded_by == trail[1].submission.id
    old = {v.indicator: v.value for v in trail[0].values}
    assert old["I_SUM"] == 30 and old["I_MEAN"] == 80


# -- a crash in the middle of the write ---------------------------------------------------------

#: A ``bms`` process whose master write stalls half-way: fault injection from outside the
#: product (no hook in production code), so a test can ``kill -9`` it mid-write.
_STALLED_BMS = """
import sys, time
from bms_excel.master import save as master_package

def stalled(fh, payload):
    fh.write(payload[: len(payload) // 2])
    fh.flush()
    time.sleep(600)

master_package._write_payload = stalled
from bms_excel.cli import main
sys.exit(main())
"""


@dataclass(frozen=True)
class Killed:
    """A consolidation killed mid-write: the master and database as they were before it."""

    master: Path
    master_before: bytes
    db_before: dict[str, list[tuple[Any, ...]]]
    pid: int


@pytest.fixture
def killed_mid_write(project: Project) -> Killed:
    """Consolidate once, then start a second run and ``kill -9`` it with half its master on
    disk. While it stalls, a second run is refused (exit 2)."""
    master = consolidate_project(project).master
    before = Killed(master, master.read_bytes(), snapshot(project.history_path), 0)
    proc = subprocess.Popen(
        [sys.executable, "-c", _STALLED_BMS, "--project", str(project.root), "consolidate"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not [p for p in master.parent.glob(f"{TEMP_PREFIX}*") if p.stat().st_size]:
            assert proc.poll() is None, "the consolidation ended before writing the master"
            assert time.monotonic() < deadline, "the consolidation never started its write"
            time.sleep(0.1)
        # Half the new master is on disk in the temporary file: a second run is refused.
        second = run_cli(project, "--json")
        assert second.exit_code == 2
        assert str(project.history_path) in second.output
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return replace(before, pid=proc.pid)


def run_statuses(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [s for (s,) in con.execute("SELECT status FROM runs ORDER BY id")]
    finally:
        con.close()


def test_kill_during_the_master_write_leaves_old_master_and_database_intact(
    killed_mid_write: Killed, project: Project
) -> None:
    master = killed_mid_write.master
    assert master.read_bytes() == killed_mid_write.master_before
    assert_clean(master)
    # The killed run never finished; nothing else changed.
    assert run_statuses(project.history_path)[-1] == "recorded"
    assert snapshot(project.history_path) == killed_mid_write.db_before
    (leftover,) = master.parent.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")
    assert leftover.name.startswith(f"{TEMP_PREFIX}{killed_mid_write.pid}-")
    # The lock died with the process: the next run works, writes a good master and cleans up.
    again = consolidate_project(project)
    assert_clean(again.master)
    assert data_sheet(again.master)[1:] == data_sheet(master)[1:]
    assert again.removed_temp_files == [leftover] and not leftover.exists()
    assert run_statuses(project.history_path)[-2:] == ["aborted", "ok"]


def test_the_next_run_cleans_up_only_a_dead_writers_temp_files(
    killed_mid_write: Killed, project: Project
) -> None:
    folder = killed_mid_write.master.parent
    (leftover,) = folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}")
    # Files that are not a dead writer's temporary master: never touched.
    alive = folder / f"{TEMP_PREFIX}{os.getpid()}-abc{TEMP_SUFFIX}"  # a live writer (this one)
    others = [
        alive,
        folder / ".~bms-x1y2.xlsx.tmp",  # the unit workbooks' temporary files
        folder / f"{TEMP_PREFIX}notapid{TEMP_SUFFIX}",
        folder / f"{TEMP_PREFIX}1-a.xlsx",
        folder / "notat.xlsx.tmp",
    ]
    for path in others:
        path.write_bytes(b"keep")
    aborted = [i for i, s in enumerate(run_statuses(project.history_path), 1) if s == "recorded"]
    result = run_cli(project, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["removed_temp_files"] == [str(leftover)]
    assert data["aborted_runs"] == aborted and len(aborted) == 1
    assert not leftover.exists()
    assert all(p.read_bytes() == b"keep" for p in others)
    statuses = run_statuses(project.history_path)
    assert statuses[aborted[0] - 1] == "aborted" and statuses[-1] == "ok"
    assert "recorded" not in statuses
    again = json.loads(run_cli(project, "--json").output)
    assert (again["aborted_runs"], again["removed_temp_files"]) == ([], [])


@pytest.mark.parametrize(
    ("lang", "sheets"),
    [
        ("nn", ["Oversikt", "Fylket", "Einingar", "Vurderingar", "Data", "Om"]),
        ("en", ["Overview", "County", "Units", "Assessments", "Data", "About"]),
    ],
)
def test_nynorsk_and_english_masters(
    project: Project, tmp_path: Path, lang: str, sheets: list[str]
) -> None:
    result = consolidate_project(project, out=tmp_path / f"m-{lang}.xlsx", lang=lang)
    assert_clean(result.master)
    wb = openpyxl.load_workbook(result.master)
    try:
        assert set(sheets) <= set(wb.sheetnames)
        county = wb[wb.sheetnames[1]]
        row = next(c.row for c in county["A"] if c.value == "I_MEAN")
        status = county[f"M{row}"].value
    finally:
        wb.close()
    green = {"nn": '"Grøn"', "en": '"Green"'}[lang]
    assert green in status


def test_enheter_rules_cover_each_row_once_in_bounded_elements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bms_excel.master import scorecard as master_scorecard
    from bms_excel.master.scorecard import rule_ranges

    assert rule_ranges("E", [8, 20, 22, 23, 31]) == [("E8 E20 E22:E23 E31", "E8")]
    monkeypatch.setattr(master_scorecard, "CF_RANGES_PER_RULE", 2)
    rows = [12, 9, 10, 14, 16, 17, 30]  # any order: sorted into runs
    got = rule_ranges("AC", rows)
    assert got == [("AC9:AC10 AC12", "AC9"), ("AC14 AC16:AC17", "AC14"), ("AC30", "AC30")]
    covered = []
    for sqref, _ in got:
        for part in sqref.split():
            first, _, last = part.partition(":")
            covered += range(int(first[2:]), int((last or first)[2:]) + 1)
    assert covered == sorted(rows)


def test_deferred_rows_read_back_as_openpyxl_would_have_written_them() -> None:
    import io

    from bms_excel.master.cells import put
    from bms_excel.master.save import workbook_payload
    from bms_excel.xlsx.rows import defer_rows

    rows = [
        ("a & b <c>", 1.5, True, None, "  padded ", "=SUM(A1)", "line\r\nbreak"),
        ("", 0.1 + 0.2, False, 7, "æøå", "x\x01y", 1e-05),
    ]
    expected = [
        ("a & b <c>", 1.5, True, None, "  padded ", "=SUM(A1)", "line\r\nbreak"),
        # A control character is cleaned; numbers keep openpyxl's 16 significant digits.
        (None, float(f"{0.1 + 0.2:.16g}"), False, 7, "æøå", "xy", 1e-05),
    ]

    def build(deferred: bool) -> bytes:
        wb = openpyxl.Workbook()
        ws = wb.active
        put(ws, 1, 1, "header")
        if deferred:
            assert defer_rows(ws, 2, rows) == 3
        else:
            for i, values in enumerate(rows, start=2):
                for j, value in enumerate(values, start=1):
                    put(ws, i, j, value)
        return workbook_payload(wb)

    for deferred in (True, False):
        ws = openpyxl.load_workbook(io.BytesIO(build(deferred))).active
        assert ws.dimensions == "A1:G3"
        got = [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]
        assert got == expected


def test_deferred_findings_keep_styles_heights_and_links(tmp_path: Path) -> None:
    import io

    from bms_excel.master.cells import (
        WRAP,
        put,
        style_id,
    )
    from bms_excel.master.save import guard_master, workbook_payload
    from bms_excel.xlsx.rows import defer_rows, deferred_heights

    target = tmp_path / "unit file.xlsx"
    target.write_bytes(b"")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = 10
    put(ws, 1, 1, "header")
    rows = [("a long text " * 5, "b"), ("short", "=SUM(A1)")]
    wrap = style_id(ws, alignment=WRAP)
    heights = deferred_heights(ws, 2, rows)
    assert heights == {2: 120}  # 8 lines: words wrap whole, 9 characters a line in width 10
    defer_rows(
        ws,
        2,
        rows,
        styles=[(wrap, wrap)] * 2,
        heights=heights,
        links=[("B3", "unit file.xlsx", "'Sheet'!A1")],
    )
    assert guard_master(wb) == ["the Data table tbl_bms_data is missing"]
    back = openpyxl.load_workbook(io.BytesIO(workbook_payload(wb))).active
    assert back["A2"].alignment.wrap_text and back["B3"].alignment.wrap_text
    assert back["B3"].value == "=SUM(A1)" and back["B3"].data_type == "s"
    assert back.row_dimensions[2].height == 120
    assert back["B3"].hyperlink.target == "unit file.xlsx"
    assert back["B3"].hyperlink.location == "'Sheet'!A1"


def test_unit_texts_with_braces_or_beyond_a_cells_limit_do_not_stop_the_master(
    tmp_path: Path, project: Project
) -> None:
    """The master renders no placeholders, and a doctored file's 40 000-character comment
    is cut to what a cell holds: neither may stop the report for every other unit."""
    from bms_excel.master.save import _normalise_refs
    from bms_excel.records import ActionRecord

    definition = project.load_definition()
    long_text = "x" * 40_000
    records = [
        ValueRecord("A", PERIOD, "I_SUM", "number", 120.0, "120", "{{ ikke en mal }}", file="a"),
        ValueRecord("B", PERIOD, "I_SUM", "number", 10.0, "10", long_text, file="b.xlsx"),
    ]
    deadline = dt.date(2026, 6, 30)
    actions = [ActionRecord("A", PERIOD, "I_SUM", "{% if %} tiltak", None, deadline, None, row=5)]
    long = build_long_table(definition, records, PERIOD)
    county = aggregate_county(definition, long, PERIOD)
    path = write_master(
        tmp_path / "m.xlsx",
        definition=definition,
        period=PERIOD,
        long=long,
        county=county,
        rollups=rollup_scores(definition, long, county),
        trends=trend(definition, long, long.iloc[0:0]),
        actions=actions,
    )
    assert_clean(path)
    comments = {r["Enhet"]: r["Kommentar"] for r in sheet_rows(path, "Kommentarer", 3)}
    assert comments["A"] == "{{ ikke en mal }}"
    assert comments["B"] == "x" * 32_766 + "…"
    actions_rows = sheet_rows(path, "Tiltak", 3)
    assert [(r["Tiltak"], r["Frist"]) for r in actions_rows] == [
        ("{% if %} tiltak", dt.datetime(2026, 6, 30))
    ]
    wb = openpyxl.load_workbook(path)
    try:
        assert wb["Tiltak"]["F4"].number_format == "dd.mm.yyyy"
    finally:
        wb.close()
    assert _normalise_refs("IF(ISBLANK($D12),1,SUM(Sheet1!AB7))") == _normalise_refs(
        "IF(ISBLANK($D9),1,SUM(Sheet1!C1))"
    )
    assert _normalise_refs("LOG10(2)+XFE1") == "LOG10(2)+XFE1"


def test_avvik_gives_each_excluded_value_the_reason_of_its_own_finding(tmp_path: Path) -> None:
    from test_roundtrip import DEFINITION_YAML

    ranged = DEFINITION_YAML.replace(
        'unit_of_measure: "%",', 'unit_of_measure: "%", valid_range: [0, 100],'
    )
    assert ranged != DEFINITION_YAML
    project = make_project(tmp_path, ranged)
    returns = {code: dict(values) for code, values in RETURNS.items()}
    returns["A"]["I_WMEAN"] = 250  # a number, outside the valid range
    returns["B"]["I_MEAN"] = "abc"  # not a number
    fill_returns(project, returns)
    result = consolidate_project(project)
    wb = openpyxl.load_workbook(result.master)
    try:
        rows = [r for r in wb["Avvik"].iter_rows(values_only=True) if r and r[0] in ("A", "B")]
    finally:
        wb.close()
    reasons = {(r[0], r[2]): r[4] for r in rows if r[2] in ("I_WMEAN", "I_MEAN")}
    assert reasons == {("A", "I_WMEAN"): "out-of-range", ("B", "I_MEAN"): "not-a-number"}


def test_every_font_record_of_the_master_has_a_name_and_a_size(project: Project) -> None:
    """A font record without name and size renders in a serif fallback in LibreOffice."""
    from defusedxml import ElementTree

    master = consolidate_project(project).master
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(master) as z:
        fonts = ElementTree.fromstring(z.read("xl/styles.xml")).find(f"{ns}fonts")
    assert fonts is not None and len(fonts) > 3
    for font in fonts:
        name, size = font.find(f"{ns}name"), font.find(f"{ns}sz")
        assert name is not None and name.get("val") == "Calibri", ElementTree.tostring(font)
        assert size is not None and float(size.get("val", "0")) >= 10, ElementTree.tostring(font)


def test_findings_locations_are_excel_references_with_single_quotes() -> None:
    from bms_excel.errors import Finding
    from bms_excel.master.lists import location_text

    def at(file: str, sheet: str | None, cell: str | None) -> str:
        return location_text(Finding("x", "warning", "", file=file, sheet=sheet, cell=cell))

    assert at("2026-T2/A.xlsx", "Målekort", "L21") == "'[2026-T2/A.xlsx]Målekort'!L21"
    assert at("A.xlsx", "Målekort", None) == "'[A.xlsx]Målekort'"
    assert at("Kari's.xlsx", "Ark", "B2") == "'[Kari''s.xlsx]Ark'!B2"  # Excel's own escape
    assert at("A.xlsx", None, None) == "A.xlsx"


def test_om_shows_the_history_path_relative_to_the_project(project: Project) -> None:
    master = consolidate_project(project).master
    wb = openpyxl.load_workbook(master, read_only=True)
    try:
        rows = {r[0]: r[1] for r in wb["Om"].iter_rows(min_row=4, max_row=12, values_only=True)}
    finally:
        wb.close()
    assert rows["Historikkdatabase"] == project.history_path.relative_to(project.root).as_posix()
    assert str(project.root) not in str(rows.values())
