"""``bms import-values``: the controller's own figures into the history database."""

from __future__ import annotations

import codecs
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.examples import example_dir
from bms_excel.import_values import decode_csv
from bms_excel.project import init_project

CONTROLLER = Path(str(example_dir("stfk"))) / "controller.csv"


def _run(project_root: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["--project", str(project_root), "import-values", *args])
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else {}


def test_county_figures_are_stored_once(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    code, data = _run(project.root, str(CONTROLLER), "--json")
    assert code == 0 and (data["values"], data["added"]) == (7, 7)
    code, data = _run(project.root, str(CONTROLLER), "--json")
    assert code == 0 and data["added"] == 0  # the same file again changes nothing
    con = sqlite3.connect(project.history_path)
    try:
        rows = con.execute(
            "SELECT unit, indicator, value FROM accepted_values"
            " WHERE period = '2026-T2' ORDER BY indicator"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("STFK", "O1.1", 0.6), ("STFK", "O2.1", 3.1)]


def test_unknown_names_are_located_and_nothing_is_stored(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "period,unit,indicator,value\n2026-T2,STFK,O2.1,3\n2026-T2,OSLO,O2.1,3\n"
        "2026-T2,STFK,X9.9,1\n2031-T1,STFK,O2.1,1\n",
        encoding="utf-8",
    )
    code, data = _run(project.root, str(bad), "--json")
    assert code == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [
        ("unknown-reference", 3),
        ("unknown-reference", 4),
        ("unknown-reference", 5),
    ]
    assert data["added"] == 0 and not project.history_path.exists()


def _stored(project_root: Path, period: str) -> list[tuple[str, str, str, object, str]]:
    con = sqlite3.connect(project_root / "bms.sqlite")
    try:
        return con.execute(
            "SELECT unit, indicator, kind, value, source FROM accepted_values"
            " WHERE period = ? ORDER BY unit, indicator",
            (period,),
        ).fetchall()
    finally:
        con.close()


# What a Norwegian Excel saves: `;`, decimal comma, a no-break space between thousands (Excel's
# Norwegian group separator), Norwegian header names, CRLF line ends.
NORWEGIAN = (
    "periode;enhet;indikator;verdi\r\n"
    "2026-T2;STFK;O2.1;3,1\r\n"
    "2026-T2;STFK;O1.1;-0,6\r\n"
    "2026-T1;STFK;O2.1;1\u00a0234,5\r\n"
    "2026-T1;STFK;O1.1;i.a.\r\n"
    "2026-T1;HEIMDAL;R1.1;\r\n"
)


@pytest.mark.parametrize(
    ("encoding", "separator"),
    [
        ("utf-8", ";"),
        ("utf-8-sig", ";"),
        ("cp1252", ";"),
        ("utf-16", "\t"),
    ],  # utf-16: "Unicode text"
)
def test_a_norwegian_excel_csv_is_read_in_every_encoding_excel_writes(
    tmp_path: Path, encoding: str, separator: str
) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    path = tmp_path / "tall.csv"
    path.write_bytes(NORWEGIAN.replace(";", separator).encode(encoding))
    code, data = _run(project.root, str(path), "--json")
    assert code == 0, data
    assert (data["values"], data["added"], data["findings"]) == (5, 5, [])
    assert _stored(project.root, "2026-T2") == [
        ("STFK", "O1.1", "number", -0.6, "controller"),
        ("STFK", "O2.1", "number", 3.1, "controller"),
    ]
    assert _stored(project.root, "2026-T1") == [
        ("HEIMDAL", "R1.1", "missing", None, "controller"),
        ("STFK", "O1.1", "not-applicable", None, "controller"),
        ("STFK", "O2.1", "number", 1234.5, "controller"),
    ]


def test_decode_csv_tells_the_encodings_apart() -> None:
    text = "periode;enhet\nNæring;1,5\n"
    assert decode_csv(text.encode("utf-8")) == (text, "utf-8")
    assert decode_csv(codecs.BOM_UTF8 + text.encode("utf-8")) == (text, "utf-8")
    assert decode_csv(text.encode("cp1252")) == (text, "cp1252")
    assert decode_csv(text.encode("utf-16")) == (text, "utf-16")
    assert decode_csv(b"\x81\x8d\xff") is None  # bytes Windows-1252 leaves undefined


def test_every_bad_line_is_reported_at_once_with_its_line_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "period;unit;indicator;value\n"
        "2026-T2;STFK;O2.1;3,1\n"  # 2: fine
        "2026-T2;STFK;O1.1;abc\n"  # 3: not a number
        "2026-T1;STFK;O1.1;1.234\n"  # 4: a dot between thousands or a decimal dot?
        "2026-T9;STFK;O1.1;1\n"  # 5: not a period
        "2026-T1;;O1.1;1\n"  # 6: no unit
        "2026-T1;OSLO;O1.1;1\n"  # 7: unknown unit
        "2026-T2;STFK;O2.1;3,2\n"  # 8: the same key as line 2
        "2026-T1;STFK;O2.1;1;2\n"  # 9: one field too many
        "\n"  # 10: a blank line is skipped
        "2026-T1;HEIMDAL;R1.1;12 %\n",  # 11: a % on an indicator not measured in per cent
        encoding="utf-8",
    )
    code, data = _run(project.root, str(bad), "--json")
    assert code == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [
        ("not-a-number", 3),
        ("not-a-number", 4),
        ("values-bad-period", 5),
        ("values-empty-key", 6),
        ("unknown-reference", 7),
        ("values-duplicate", 8),
        ("values-fields", 9),
        ("not-a-number", 11),
    ]
    assert all(f["file"] == "bad.csv" and f["severity"] == "error" for f in data["findings"])
    assert data["added"] == 0 and not project.history_path.exists()
    # The text output is the one-line format, one line per finding, located file:line.
    result = CliRunner().invoke(main, ["--project", str(project.root), "import-values", str(bad)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 8
    assert all(re.match(r"^bad\.csv:\d+: feil: .+ \[[a-z-]+\]$", line) for line in lines)


def test_a_percentage_typed_with_its_sign_reads_as_the_number(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    path = tmp_path / "pst.csv"
    path.write_text("period;unit;indicator;value\n2026-T2;HEIMDAL;R2.1;68 %\n", encoding="utf-8")
    code, data = _run(project.root, str(path), "--json")
    assert code == 0 and data["added"] == 1
    assert _stored(project.root, "2026-T2") == [("HEIMDAL", "R2.1", "number", 68.0, "controller")]


def test_a_comma_separated_file_keeps_the_decimal_dot(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    path = tmp_path / "c.csv"
    path.write_text(
        'period,unit,indicator,value\n2026-T2,STFK,O1.1,1.234\n2026-T2,STFK,O2.1,"3,5"\n',
        encoding="utf-8",
    )
    code, data = _run(project.root, str(path), "--json")
    assert code == 0, data
    assert [v for *_, v, _ in _stored(project.root, "2026-T2")] == [1.234, 3.5]


def test_a_file_without_the_columns_is_one_finding_on_line_1(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    path = tmp_path / "c.csv"
    path.write_text("periode;enhet;tall\n2026-T2;STFK;1\n", encoding="utf-8")
    code, data = _run(project.root, str(path), "--json")
    assert code == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("values-columns", 1)]


def test_a_figure_against_a_units_return_is_a_finding_and_fylket_names_each_source(
    tmp_path: Path,
) -> None:
    from test_roundtrip import PERIOD, county_rows, fill_returns, make_project

    project = make_project(tmp_path)
    fill_returns(project)  # A returned I_SUM = 40, B I_SUM = 30
    root = str(project.root)
    assert CliRunner().invoke(main, ["--project", root, "consolidate"]).exit_code == 0
    figures = tmp_path / "tall.csv"
    figures.write_text(
        "period;unit;indicator;value\n"
        f"{PERIOD};A;I_SUM;41\n"  # differs from A's own return: a finding, never silent
        f"{PERIOD};B;I_SUM;30\n"  # the same as B's return: nothing to say
        f"{PERIOD};TF;I_NONE;15 000\n",  # a county figure for an indicator not aggregated
        encoding="cp1252",
    )
    code, data = _run(project.root, str(figures), "--json")
    assert code == 0 and data["added"] == 3
    assert [(f["code"], f["severity"], f["line"]) for f in data["findings"]] == [
        ("value-conflict", "warning", 2)
    ]
    assert "40" in data["findings"][0]["message"] and "41" in data["findings"][0]["message"]
    result = CliRunner().invoke(main, ["--project", root, "consolidate", "--json"])
    assert result.exit_code == 0, result.output
    rows = county_rows(Path(json.loads(result.output)["master"]))
    source = {code: row["Kilde"] for code, row in rows.items()}
    assert source["I_NONE"] == "controller"  # the figure the controller gave for the county
    assert source["I_SUM"] == "enhetene"  # aggregated from the units
    assert rows["I_SUM"]["Fylkesverdi"] == 105  # the units' own values (source: unit) are used
    assert rows["I_NONE"]["Fylkesverdi"] == 15000


def test_a_unit_returning_after_the_controllers_figure_is_a_conflict_at_consolidation(
    tmp_path: Path,
) -> None:
    """The import cannot see a return that comes later: consolidation says it, every run."""
    from test_roundtrip import PERIOD, fill_returns, make_project

    project = make_project(tmp_path)
    root = str(project.root)
    figures = tmp_path / "tall.csv"
    figures.write_text(
        f"period;unit;indicator;value\n{PERIOD};A;I_SUM;41\n{PERIOD};B;I_SUM;30\n",
        encoding="utf-8",
    )
    code, data = _run(project.root, str(figures), "--json")
    assert code == 0 and data["findings"] == []  # nothing returned yet: nothing to compare
    fill_returns(project)  # A returned I_SUM = 40, B I_SUM = 30
    result = CliRunner().invoke(main, ["--project", root, "consolidate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["findings"]["warning"] >= 1
    text = CliRunner().invoke(main, ["--project", root, "consolidate"])
    lines = [line for line in text.output.splitlines() if line.endswith("[value-conflict]")]
    assert len(lines) == 1 and lines[0].startswith(f"{PERIOD}_A.xlsx: advarsel:")
    assert "40" in lines[0] and "41" in lines[0]
