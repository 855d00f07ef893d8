"""Styring i dialog (issue 16): review and return, actions followed up, lessons carried
forward, a period closed — through the CLI, asserted on what a controller and a unit see.

The project is the round-trip test's small county with a second tertial. Units A–D return
2026-T1; A reports two actions (one open and overdue, one done) and what it learned per
focus area.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from ooxml_check import assert_clean
from test_roundtrip import DEFINITION_YAML
from test_roundtrip import RETURNS as ROUND_TRIP

from bms_excel.api import generate_project
from bms_excel.cli import main
from bms_excel.followup import RedIndicator, is_open, overdue_actions, red_without_action
from bms_excel.history import open_history
from bms_excel.history_schema import MIGRATIONS, SCHEMA_VERSION
from bms_excel.layout import build_layout
from bms_excel.project import Project, init_project, load_project
from bms_excel.records import ActionRecord
from bms_excel.simulate import Entry, fill_workbook

T1, T2 = "2026-T1", "2026-T2"
#: The round-trip county's indicators with codes that pass ``bms check`` (generate's gate).
CODES = {
    "I_SUM": "F11.1",
    "I_MEAN": "F11.2",
    "I_WMEAN": "F11.3",
    "I_MEDIAN": "F21.1",
    "I_MIN": "F21.2",
    "I_MAX": "F21.3",
    "I_NONE": "F21.4",
}


def _nested(text: str) -> str:
    text = text.replace("code: K1,", "code: F11,").replace("code: K2,", "code: F21,")
    text = text.replace("code: K1\n", "code: F11\n").replace("code: K2\n", "code: F21\n")
    for old, new in CODES.items():
        text = text.replace(f"code: {old},", f"code: {new},")
    return text.replace(
        '  - {code: "2026-T1", label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}\n',
        '  - {code: "2026-T1", label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}\n'
        '  - {code: "2026-T2", label: 2. tertial 2026, end: 2026-08-31, deadline: 2026-09-14}\n',
    )


TWO_PERIODS = _nested(DEFINITION_YAML)
RETURNS = {u: {CODES[k]: v for k, v in values.items()} for u, values in ROUND_TRIP.items()}
SUM, MEAN, WMEAN, MEDIAN, MAX = (
    CODES[k] for k in ("I_SUM", "I_MEAN", "I_WMEAN", "I_MEDIAN", "I_MAX")
)
OPEN_ACTION = (MEDIAN, "Kortere ventetid", "Rektor", dt.date(2026, 3, 1), "Planlagt")
DONE_ACTION = (MAX, "Bygg opp reserver", "Rektor", dt.date(2026, 12, 1), "Fullført")
LESSONS = {"F1": ("I rute", "Tett dialog hjelper"), "F2": ("Svakt", "Følg budsjettet hver måned")}
REASON = "Antall tiltak ser for lavt ut; kontroller tallet"


def run(project: Project, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--project", str(project.root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def fill(project: Project, period: str, unit: str, entry: Entry, src: Path | None = None) -> Path:
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit(unit), period, "nb")
    name = f"{period}_{unit}.xlsx"
    dest = project.submissions_dir / period / name
    fill_workbook(src or project.generated_dir / period / name, dest, layout, entry)
    return dest


def make_base(root: Path) -> Project:
    """The project with 2026-T1 generated, returned by A–D and consolidated."""
    source = root / "source.yaml"
    source.write_text(TWO_PERIODS, encoding="utf-8")
    project = init_project(root / "prosjekt", definition=source, period=T1)
    generate_project(project, period=T1)
    for code, values in RETURNS.items():
        entry = Entry(values=dict(values))
        if code == "A":
            entry.actions = [OPEN_ACTION, DONE_ACTION]
            entry.assessments = dict(LESSONS)
        fill(project, T1, code, entry)
    assert run(project, "consolidate", "--period", T1).exit_code == 0
    return project


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return make_base(tmp_path_factory.mktemp("dialogue"))


@pytest.fixture
def project(base: Project, tmp_path: Path) -> Project:
    shutil.copytree(base.root, tmp_path / "p")
    return load_project(tmp_path / "p" / "bms.toml")


def events(project: Project) -> list[tuple[str, str, str | None, str | None, str]]:
    con = sqlite3.connect(project.history_path)
    try:
        return con.execute(
            "SELECT kind, by_user, unit, reason, period FROM dialogue_events ORDER BY id"
        ).fetchall()
    finally:
        con.close()


def sheet_values(path: Path, sheet: str) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    try:
        return {c.coordinate: c.value for row in wb[sheet].iter_rows() for c in row if c.value}
    finally:
        wb.close()


def rows(path: Path, sheet: str, header_row: int = 3) -> list[dict[str, Any]]:
    wb = openpyxl.load_workbook(path)
    try:
        got = list(wb[sheet].iter_rows(min_row=header_row, values_only=True))
    finally:
        wb.close()
    head = [str(h) for h in got[0]]
    return [dict(zip(head, r, strict=False)) for r in got[1:] if any(v is not None for v in r)]


def master(project: Project, period: str) -> Path:
    return project.reports_dir / f"bms_TF_{period}.xlsx"


# -- 1. approve or return -------------------------------------------------------------------


def test_return_writes_a_prefilled_workbook_with_the_reason(project: Project) -> None:
    result = run(project, "review", "A", "--return", "--reason", REASON, "--by", "kari", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(e["unit"], e["decision"], e["by"]) for e in data["events"]] == [
        ("A", "returned", "kari")
    ]
    book = Path(data["workbooks"]["A"])
    assert book == project.generated_dir / T1 / "returnert" / f"{T1}_A.xlsx"
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit("A"), T1, "nb")
    scorecard = sheet_values(book, layout.sheets.scorecard)
    typed = {c.code: scorecard.get(c.result_ref) for c in layout.scorecard.indicators if c.input}
    assert typed == RETURNS["A"]
    guide = sheet_values(book, layout.sheets.guide)
    assert any(isinstance(v, str) and REASON in v for v in guide.values())
    actions = sheet_values(book, layout.sheets.actions)
    first = layout.actions.first_row
    assert actions[f"{layout.actions.columns['code']}{first}"] == MEDIAN
    assert actions[f"{layout.actions.columns['status']}{first + 1}"] == "Fullført"
    # A signed workbook of the unit: it validates without errors and passes the Excel check.
    checked = run(project, "validate", str(book))
    assert checked.exit_code == 0, checked.output
    assert_clean(book)
    assert events(project) == [("returned", "kari", "A", REASON, T1)]


@pytest.mark.parametrize(
    "args",
    [
        ("review", "A", "--return"),  # no reason
        ("review", "ZZ", "--approve"),  # no such unit
        ("review", "E", "--approve"),  # E returned nothing
        ("review", "A"),  # no decision
        ("review", "A", "--approve", "--period", "1999-T1"),
    ],
)
def test_review_refuses_what_cannot_be_reviewed(project: Project, args: tuple[str, ...]) -> None:
    assert run(project, *args).exit_code == 2
    assert events(project) == []


def test_corrected_return_supersedes_the_first(project: Project) -> None:
    data = json.loads(run(project, "review", "A", "--return", "--reason", REASON, "--json").output)
    book = Path(data["workbooks"]["A"])
    fill(project, T1, "A", Entry(values={SUM: 140}), src=book)  # over the first file
    assert run(project, "consolidate", "--period", T1).exit_code == 0
    with open_history(project.history_path, lock=False) as db:
        states = [e.state for e in db.audit_events("A", T1)]
        accepted = {v.indicator: v.value for v in db.accepted_values(T1) if v.unit == "A"}
    assert states == ["accepted", "accepted", "superseded"]
    assert accepted[SUM] == 140 and accepted[MEAN] == 70  # the rest as pre-filled
    assert run(project, "review", "A", "--approve").exit_code == 0
    assert [e[0] for e in events(project)] == ["returned", "approved"]


def test_master_column_is_read_back_without_touching_the_file(project: Project) -> None:
    path = master(project, T1)
    filled = path.with_name("kontrollert.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Innsending"]
    head = [c.value for c in ws[3]]
    col = head.index("Vurdering fra controller") + 1
    by_unit = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
    ws.cell(by_unit["B"], col, "returnert")
    ws.cell(by_unit["B"], col + 1, "Feil i trivsel")
    ws.cell(by_unit["C"], col, "godkjent")
    ws.cell(by_unit["D"], col, "kanskje")
    ws.cell(by_unit["A"], col, "returnert")  # without a reason
    wb.save(filled)
    before = hashlib.sha256(filled.read_bytes()).hexdigest()
    result = run(project, "review", "--from", str(filled), "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    letter = openpyxl.utils.get_column_letter(col)
    reason_letter = openpyxl.utils.get_column_letter(col + 1)
    assert sorted((f["code"], f["cell"]) for f in data["findings"]) == [
        ("review-reason-missing", f"{reason_letter}{by_unit['A']}"),
        ("review-unknown-decision", f"{letter}{by_unit['D']}"),
    ]
    assert sorted((e["unit"], e["decision"]) for e in data["events"]) == [
        ("B", "returned"),
        ("C", "approved"),
    ]
    assert set(data["workbooks"]) == {"B"}
    assert hashlib.sha256(filled.read_bytes()).hexdigest() == before
    # The next master shows the decisions in force; reading it back records nothing new.
    assert run(project, "consolidate", "--period", T1).exit_code == 0
    shown = {r["Enhet"]: r["Vurdering fra controller"] for r in rows(path, "Innsending")}
    assert shown["B"] == "returnert" and shown["C"] == "godkjent" and shown["A"] is None
    again = json.loads(run(project, "review", "--from", str(path), "--json").output)
    assert again["events"] == [] and again["findings"] == []
    # A master is read for its own period only (its Om sheet says which).
    assert run(project, "review", "--from", str(path), "--period", T2).exit_code == 2


# -- 5. close a period ----------------------------------------------------------------------


def test_closed_period_refuses_new_returns_until_reopened(project: Project) -> None:
    assert run(project, "period", "close", T1, "--by", "kari").exit_code == 0
    # Nothing new: consolidation still works, and Om says the period is closed.
    assert run(project, "consolidate", "--period", T1).exit_code == 0
    about = {r["Opplysning"]: r["Verdi"] for r in rows(master(project, T1), "Om")}
    assert (
        str(about["Periodens status"]).startswith("lukket") and "kari" in about["Periodens status"]
    )
    with open_history(project.history_path, lock=False) as db:
        known = len(db.submissions(T1))
    fill(project, T1, "E", Entry(values={SUM: 10}))
    refused = run(project, "consolidate", "--period", T1)
    assert refused.exit_code == 2
    assert "E" in refused.output
    with open_history(project.history_path, lock=False) as db:
        assert len(db.submissions(T1)) == known
    assert run(project, "review", "A", "--approve").exit_code == 2  # closed: no decisions
    assert run(project, "period", "reopen", T1).exit_code == 2  # --reason is required
    assert run(project, "period", "reopen", T1, "--reason", "E kom sent").exit_code == 0
    assert run(project, "consolidate", "--period", T1).exit_code == 0
    with open_history(project.history_path, lock=False) as db:
        assert any(s.unit == "E" and s.state == "accepted" for s in db.submissions(T1))
    about = {r["Opplysning"]: r["Verdi"] for r in rows(master(project, T1), "Om")}
    assert about["Periodens status"] == "åpen"


def test_every_state_change_is_an_event_and_replays(project: Project) -> None:
    """Who, when and why of every decision; folding the events gives the state in force."""
    steps = [
        ("review", "A", "--return", "--reason", REASON, "--by", "kari"),
        ("review", "B", "--approve", "--by", "ola"),
        ("period", "close", T1, "--by", "kari"),
        ("period", "reopen", T1, "--reason", "Retting fra A", "--by", "per"),
        ("review", "A", "--approve", "--by", "kari"),
        ("period", "close", T1, "--by", "kari", "--reason", "Ferdig"),
    ]
    for args in steps:
        assert run(project, *args).exit_code == 0, args
    assert run(project, "period", "close", T1).exit_code == 2  # already closed
    assert events(project) == [
        ("returned", "kari", "A", REASON, T1),
        ("approved", "ola", "B", None, T1),
        ("closed", "kari", None, None, T1),
        ("reopened", "per", None, "Retting fra A", T1),
        ("approved", "kari", "A", None, T1),
        ("closed", "kari", None, "Ferdig", T1),
    ]
    with open_history(project.history_path, lock=False) as db:
        stored = db.dialogue_events(T1)
        closed, reviews = None, {}
        for e in stored:  # the replay
            if e.kind in ("closed", "reopened"):
                closed = e if e.kind == "closed" else None
            elif e.unit:
                reviews[e.unit] = e.kind
            assert dt.datetime.fromisoformat(e.at).tzinfo is not None
        assert db.period_closed(T1) == closed and closed is not None and closed.reason == "Ferdig"
        assert reviews == {"A": "approved", "B": "approved"}
        accepted_a = next(s for s in db.submissions(T1) if s.unit == "A")
        assert {e.sha256 for e in stored if e.unit == "A"} == {accepted_a.sha256}


def test_migration_4_keeps_an_older_history(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        for statement in migration:
            con.execute(statement)
    con.execute("PRAGMA user_version = 3")
    con.execute(
        "INSERT INTO runs (started_at, command, tool_version, status)"
        " VALUES ('2026-01-01T00:00:00+00:00', 'consolidate', '0', 'ok')"
    )
    con.close()
    with open_history(path) as db:
        assert db.schema_version == SCHEMA_VERSION == 4
        assert [r["command"] for r in db.runs()] == ["consolidate"]
        db.record_dialogue_event("closed", T1, by="kari")
        assert db.period_closed(T1) is not None


# -- 3 and 4. actions followed up, lessons carried forward ---------------------------------


def test_next_period_carries_open_actions_and_lessons(project: Project) -> None:
    result = generate_project(project, period=T2)
    book = result.out_dir / f"{T2}_A.xlsx"
    definition = project.load_definition()
    layout = build_layout(definition, definition.unit("A"), T2, "nb")
    actions = sheet_values(book, layout.sheets.actions)
    cols, first = layout.actions.columns, layout.actions.first_row
    carried = [actions.get(f"{cols[r]}{first}") for r in ("code", "action", "responsible")]
    assert carried == [MEDIAN, "Kortere ventetid", "Rektor"]
    assert actions[f"{cols['deadline']}{first}"].date() == OPEN_ACTION[3]
    assert f"{cols['code']}{first + 1}" not in actions  # the done action is not carried
    assessment = sheet_values(book, layout.sheets.assessment)
    shown = {a.area: assessment.get(a.previous_ref) for a in layout.assessment}
    assert shown == {area: learned for area, (_, learned) in LESSONS.items()}
    assert assessment[f"D{layout.anchors.assessment_header_row}"] == f"Lært i {T1}"
    wb = openpyxl.load_workbook(book)
    try:  # read-only beside this period's own (unlocked) inputs
        ws = wb[layout.sheets.assessment]
        assert ws[layout.assessment[0].previous_ref].protection.locked
        assert not ws[layout.assessment[0].learned_ref].protection.locked
    finally:
        wb.close()
    other = sheet_values(result.out_dir / f"{T2}_B.xlsx", layout.sheets.actions)
    assert f"{cols['code']}{first}" not in other  # B had no actions
    assert_clean(book)
    # The unit updates the carried action and returns; T2's master shows both periods' lessons.
    entry = Entry(
        values=dict(RETURNS["A"]),
        actions=[(*OPEN_ACTION[:4], "Avbrutt")],
        assessments={"F1": ("Bedre", "Mål oftere")},
    )
    fill(project, T2, "A", entry)
    folder = str(project.submissions_dir / T2)
    assert run(project, "consolidate", folder, "--period", T2).exit_code == 0
    assert_clean(master(project, T2))
    learned = rows(master(project, T2), "Vurderinger")
    assert [
        (r["Enhet"], r["Hva har vi lært"], r[f"Lært i forrige periode ({T1})"]) for r in learned
    ] == [("A", "Mål oftere", "Tett dialog hjelper")]


def test_master_shows_overdue_actions_and_red_without_action(project: Project) -> None:
    listed = rows(master(project, T1), "Tiltak")
    of_a = {(r["Indikator"], r["Oppfølging"]) for r in listed if r["Enhet"] == "A"}
    # A's red indicators: sum 40 (< 50), weighted mean 50 (< 90 % of 70), median 25 (> 20,
    # lower is better), max 1 (< 3); only the median has an open action (the max's is done),
    # and its deadline 1 March 2026 has passed.
    assert of_a == {
        (MEDIAN, "forfalt"),
        (MAX, None),
        (SUM, "rød uten tiltak"),
        (WMEAN, "rød uten tiltak"),
        (MAX, "rød uten tiltak"),
    }
    assert_clean(master(project, T1))


def test_followup_rules() -> None:
    def action(indicator: str, status: str | None, deadline: dt.date | None) -> ActionRecord:
        return ActionRecord("A", T1, indicator, "x", None, deadline, status)

    day = dt.date(2026, 6, 1)
    actions = [
        action("I1", "Planlagt", dt.date(2026, 5, 1)),
        action("I2", "Fullført", dt.date(2026, 5, 1)),
        action("I3", "Dropped", dt.date(2026, 5, 1)),
        action("I4", None, dt.date(2026, 7, 1)),
        action("I5", "Pågår", None),
    ]
    assert [is_open(a) for a in actions] == [True, False, False, True, True]
    assert [a.indicator for a in overdue_actions(actions, day)] == ["I1"]
    red = [RedIndicator("A", code) for code in ("I1", "I2", "I6")] + [RedIndicator("B", "I1")]
    assert red_without_action(red, actions) == [
        RedIndicator("A", "I2"),
        RedIndicator("A", "I6"),
        RedIndicator("B", "I1"),
    ]


# -- 2. feedback to each unit ---------------------------------------------------------------


def _props(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    try:
        return {p.name.removeprefix("bms."): str(p.value) for p in wb.custom_doc_props.props}
    finally:
        wb.close()


def test_feedback_workbooks_are_signed_listed_and_say_what_the_county_saw(
    project: Project,
) -> None:
    from bms_excel.signing import verify_meta

    comments = project.root / "kommentarer.csv"
    comments.write_text(
        "enhet;fokusområde;kommentar\nA;F2;Ventetiden må ned\nZZ;F1;feil enhet\n",
        encoding="utf-8",
    )
    result = run(
        project, "feedback", "--period", T1, "--comments", str(comments), "--by", "kari", "--json"
    )
    assert result.exit_code == 0, result.output  # the bad line is a warning
    data = json.loads(result.output)
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("feedback-unknown-reference", 3)]
    files = [Path(p) for p in data["files"]]
    assert [p.name for p in files] == [f"{T1}_{u}_tilbakemelding.xlsx" for u in "ABCD"]
    manifest = Path(data["manifest"]).read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in manifest[1:]] == ["A", "B", "C", "D"]
    assert [line.split(";")[-1] for line in manifest[1:]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    ]
    a = files[0]
    fields = _props(a)
    assert (fields["unit"], fields["period"], fields["template_version"]) == ("A", T1, "feedback-1")
    assert verify_meta(fields, fields["signature"], project.secret)
    assert not verify_meta({**fields, "unit": "B"}, fields["signature"], project.secret)
    assert_clean(a)
    table = rows(a, "Tilbakemelding", header_row=4)
    by_code = {r["Kode"]: r for r in table if r["Kode"] in RETURNS["A"]}
    # A's own results; the county's (sum 40+30+35 = 105, mean (70+80+90)/3 = 80) and the
    # sector's (A, B, C: sum 40+30 = 70, C not applicable).
    assert {c: r[f"Resultat {T1}"] for c, r in by_code.items()} == {
        c: v for c, v in RETURNS["A"].items()
    }
    assert by_code[SUM]["Fylket"] == 105 and by_code[MEAN]["Fylket"] == 80
    assert by_code[SUM]["Sektor (Skoler)"] == 70
    assert by_code[SUM]["Status"] == "Rød"
    texts = sheet_values(a, "Tilbakemelding")
    assert "Ventetiden må ned" in texts.values()
    assert any(isinstance(v, str) and "Skole A: Tett dialog hjelper" in v for v in texts.values())
    feedback_events = [e for e in events(project) if e[0] == "feedback"]
    assert [(e[1], e[2]) for e in feedback_events] == [("kari", u) for u in "ABCD"]


def test_feedback_reads_the_controllers_comments_from_the_master(project: Project) -> None:
    path = master(project, T1)
    commented = path.with_name("kommentert.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Vurderinger"]
    head = [c.value for c in ws[3]]
    col = head.index("Kommentar fra controller") + 1
    row = next(
        r
        for r in range(4, ws.max_row + 1)
        if ws.cell(r, 1).value == "A" and ws.cell(r, head.index("Fokusområde") + 1).value == "F1"
    )
    ws.cell(row, col, "Godt arbeid med tiltakene")
    wb.save(commented)
    before = hashlib.sha256(commented.read_bytes()).hexdigest()
    data = json.loads(
        run(
            project,
            "feedback",
            "--period",
            T1,
            "--comments",
            str(commented),
            "--unit",
            "A",
            "--json",
        ).output
    )
    assert data["findings"] == []
    (a,) = (Path(p) for p in data["files"])
    assert "Godt arbeid med tiltakene" in sheet_values(a, "Tilbakemelding").values()
    assert hashlib.sha256(commented.read_bytes()).hexdigest() == before


def _feedback_digest(files: list[Path]) -> str:
    """sha256 over every part of ``files`` but the per-run ones: the signed properties, the
    timestamps and the protection hashes (the project's secret is random)."""
    digest = hashlib.sha256()
    for path in files:
        with zipfile.ZipFile(path) as zf:
            for name in sorted(zf.namelist()):
                if name in ("docProps/core.xml", "docProps/custom.xml"):
                    continue
                data = re.sub(rb"<(sheetProtection|workbookProtection)[^>]*/>", b"", zf.read(name))
                digest.update(f"{path.name}/{name}".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


#: The feedback workbooks part by part, as approved (outputs stay byte for byte); a
#: deliberate change updates it after its XML diff was reviewed.
FEEDBACK_GOLDEN = "ab6834860d3346dfb8292ce6db9ae0a1a55f6b979ce6a2b5c3022badb9479768"


def test_the_feedback_workbooks_are_unchanged_part_by_part(project: Project) -> None:
    comments = project.root / "kommentarer.csv"
    comments.write_text("enhet;fokusområde;kommentar\nA;F2;Ventetiden må ned\n", encoding="utf-8")
    result = run(project, "feedback", "--period", T1, "--comments", str(comments), "--json")
    files = [Path(p) for p in json.loads(result.output)["files"]]
    assert len(files) == 4
    assert _feedback_digest(files) == FEEDBACK_GOLDEN
