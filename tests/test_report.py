"""``bms report``: the data model equals the master's numbers, the map, the HTML and the CLI.

The demo project (the example county with its history, KOSTRA figures and simulated returns)
is made once for the module; every test reads it, none changes it.
"""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from bms_excel.cli import main
from bms_excel.demo import run_demo
from bms_excel.errors import ConfigError
from bms_excel.project import Project, find_project
from bms_excel.report.model import ReportModel, build_report, value_text
from bms_excel.report.render import find_chromium, render_html, write_report
from bms_excel.report.strategy_map import render_map_svg

PERIOD = "2026-T2"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Project:
    out = tmp_path_factory.mktemp("report") / "demo"
    run_demo(out)
    return find_project(explicit=out)


@pytest.fixture(scope="module")
def model(demo: Project) -> ReportModel:
    return build_report(demo.load_definition(), demo.history_path, PERIOD)


def master_path(demo: Project) -> Path:
    return demo.reports_dir / f"bms_STFK_{PERIOD}.xlsx"


def master_sheet(demo: Project, sheet: str) -> list[list[Any]]:
    wb = CalamineWorkbook.from_path(str(master_path(demo)))
    return wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)


def master_county_values(demo: Project) -> dict[str, Any]:
    """Fylket's county value (column E) per indicator code (column A), as calamine reads it."""
    codes = {ind.code for *_, ind in demo.load_definition().iter_indicators()}
    return {row[0]: row[4] for row in master_sheet(demo, "Fylket") if row and row[0] in codes}


def test_model_values_equal_the_masters_fylket(demo: Project, model: ReportModel) -> None:
    master = master_county_values(demo)
    ours = {i.code: i.value for i in model.indicators()}
    assert set(ours) == set(master) and len(ours) == 31
    for code, value in ours.items():
        given = master[code]
        if value is None:
            assert given in ("", None) or isinstance(given, str), code  # blank or «i.a.»
        else:
            assert given == pytest.approx(value, rel=1e-12, abs=1e-12), code


def test_focus_area_statuses_and_green_counts_equal_the_masters_oversikt(
    demo: Project, model: ReportModel
) -> None:
    rows: dict[str, list[Any]] = {}
    for r in master_sheet(demo, "Oversikt"):  # the first block: focus areas × county, sectors
        if r and isinstance(r[0], str):
            rows.setdefault(r[0], r)
    for area in model.areas:
        row = rows[area.name]
        assert row[1] == area.status_label, area.code
        counts = [c for c in row if isinstance(c, str) and " av " in c]
        assert counts == [f"{area.green_units} av {area.scored_units} grønne"], area.code
    statuses = {a.status for a in model.areas}
    assert statuses <= {"green", "yellow", "red"} and model.total_label in ("Grønn", "Gul", "Rød")


@pytest.mark.libreoffice
def test_indicator_statuses_equal_the_masters_recalculated_formulas(
    demo: Project, model: ReportModel, tmp_path: Path
) -> None:
    from realclient import recalculated_values, require_libreoffice

    require_libreoffice()
    fylket = recalculated_values(master_path(demo), tmp_path)["Fylket"]
    by_code: dict[str, Any] = {}
    for row in range(5, 200):  # the scorecard rows (the KOSTRA block below repeats codes)
        if f"A{row}" in fylket:
            by_code.setdefault(fylket[f"A{row}"], fylket.get(f"M{row}"))
    for line in model.indicators():
        shown = by_code[line.code]
        if shown is None:  # the master leaves the status blank beside a blank value
            assert (line.status, line.value) == ("missing", None), line.code
        else:
            assert shown == line.status_label, line.code
    assert sum(1 for v in by_code.values() if v) >= 25


def test_map_has_one_box_per_focus_area_goal_and_factor_and_one_arrow_per_link(
    demo: Project, model: ReportModel
) -> None:
    d = demo.load_definition()
    svg = ET.fromstring(render_map_svg(model.map_nodes, model.map_links, "nb"))
    ids = [g.get("id", "") for g in svg.iter("{http://www.w3.org/2000/svg}g")]
    areas = sorted(i.removeprefix("area-") for i in ids if i.startswith("area-"))
    boxes = sorted(i.removeprefix("node-") for i in ids if i.startswith("node-"))
    links = [i for i in ids if i.startswith("link-")]
    assert areas == sorted(a.code for a in d.focus_areas)
    goals_and_factors = [g.code for a in d.focus_areas for g in a.goals]
    goals_and_factors += [f.code for a in d.focus_areas for g in a.goals for f in g.factors]
    assert boxes == sorted(goals_and_factors)
    assert len(links) == len(d.links) == 8
    # Each arrow joins the link's two boxes (Graphviz titles an edge "from->to").
    titles = {
        g.get("id"): g.findtext("{http://www.w3.org/2000/svg}title")
        for g in svg.iter("{http://www.w3.org/2000/svg}g")
    }
    assert sorted(titles[i] for i in links) == sorted(f"{k.source}->{k.target}" for k in d.links)
    # Status in words inside every box, not only as a fill colour.
    texts = "".join(svg.itertext())
    for node in model.map_nodes:
        assert f"Status: {node.status_label}" in texts


def test_html_is_structured_for_screen_readers(model: ReportModel) -> None:
    doc = lxml.html.fromstring(render_html(model).encode("utf-8"))
    assert doc.get("lang") == "nb"
    assert doc.findtext(".//h1").startswith("Tertialrapport")
    assert [h.text_content().strip() for h in doc.iter("h2")][:2] == ["Sammendrag", "Strategikart"]
    headers = doc.xpath("//th")
    assert headers and all(th.get("scope") in ("col", "row") for th in headers)
    svgs = doc.xpath("//*[local-name()='svg']")
    assert len(svgs) >= 2
    assert all(s.get("role") == "img" and s.get("aria-label") for s in svgs)
    # The map's text alternative: one row per link.
    links = doc.xpath("//table[contains(@class,'links')]/tbody/tr")
    assert len(links) == len(model.map_links)
    # Every status shown as a coloured badge carries its word.
    badges = doc.xpath("//span[contains(@class,'status')]")
    assert badges and all(b.text_content().strip() for b in badges)


def test_nynorsk(demo: Project) -> None:
    m = build_report(demo.load_definition(), demo.history_path, PERIOD, lang="nn")
    doc = lxml.html.fromstring(render_html(m).encode("utf-8"))
    assert doc.get("lang") == "nn"
    assert "Samandrag" in [h.text_content().strip() for h in doc.iter("h2")]


def test_exceptions_and_method_note(demo: Project, model: ReportModel) -> None:
    assert [u.code for u in model.missing_units] == ["NAERING"]  # the demo's missing unit
    assert (model.method.received, model.method.expected) == (31, 32)
    assert {i.status for i in model.red_indicators} == {"red"}
    assert [i.code for i in model.red_indicators] == [
        i.code for i in model.indicators() if i.status == "red"
    ]
    assert model.lessons and model.comments
    assert model.green_indicators == sum(1 for i in model.indicators() if i.status == "green")


def test_value_text_shows_the_indicators_decimals() -> None:
    assert value_text(73.456, 1) == "73,5"
    assert value_text(2.4, 2) == "2,40"
    assert value_text(186400.0, 0) == "186\xa0400"
    assert value_text(None, 1) == ""


def test_selection_from_the_master(demo: Project, tmp_path: Path) -> None:
    import openpyxl

    from bms_excel.report.selection import read_selection

    copy = tmp_path / "master.xlsx"
    shutil.copy(master_path(demo), copy)
    assert read_selection(copy).comments is None  # no row marked: all comments
    wb = openpyxl.load_workbook(copy)
    ws = wb["Kommentarer"]
    col = ws.max_column  # the master's own «Ta med i rapport» column
    assert ws.cell(row=3, column=col).value == "Ta med i rapport"
    ws.cell(row=4, column=col, value="nei")  # not a mark
    ws.cell(row=5, column=col, value="x")
    chosen = (ws.cell(row=5, column=1).value, ws.cell(row=5, column=4).value)
    wb.save(copy)
    selection = read_selection(copy)
    assert selection.comments == {chosen} and selection.lessons is None
    m = build_report(demo.load_definition(), demo.history_path, PERIOD, selection=selection)
    assert [(c.unit, c.indicator) for c in m.comments] == [chosen]


def test_cli_writes_html_in_seconds(demo: Project, tmp_path: Path) -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(
        main,
        ["--project", str(demo.root), "report", "--format", "html", "--out", str(tmp_path)],
    )
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"rapport_STFK_{PERIOD}.html").is_file()
    assert elapsed < 20


def test_cli_without_pdf_engine_says_so_and_exits_2(
    demo: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BMS_CHROMIUM", raising=False)
    monkeypatch.setattr("bms_excel.report.render.shutil.which", lambda name: None)
    result = CliRunner().invoke(
        main, ["--project", str(demo.root), "report", "--format", "pdf", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert list(tmp_path.iterdir()) == []
    # It is the engine that is missing: find_chromium says so, and HTML alone still works.
    with pytest.raises(ConfigError):
        find_chromium()
    html_only = CliRunner().invoke(
        main, ["--project", str(demo.root), "report", "--format", "html", "--out", str(tmp_path)]
    )
    assert html_only.exit_code == 0, html_only.output


def test_cli_unknown_period_exits_2(demo: Project) -> None:
    result = CliRunner().invoke(
        main, ["--project", str(demo.root), "report", "--format", "html", "--period", "1999-T1"]
    )
    assert result.exit_code == 2


def test_write_report_html_only_writes_no_pdf(model: ReportModel, tmp_path: Path) -> None:
    files = write_report(model, tmp_path, "html")
    assert files.pdf is None and files.html is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"rapport_STFK_{PERIOD}.html"]


def test_demo_writes_the_report(demo: Project) -> None:
    from bms_excel.report import available_format

    fmt = available_format()
    html = demo.reports_dir / f"rapport_STFK_{PERIOD}.html"
    pdf = demo.reports_dir / f"rapport_STFK_{PERIOD}.pdf"
    assert html.is_file() == (fmt is not None)
    assert pdf.is_file() == (fmt == "both")


def test_a_period_without_values_or_history_is_a_config_error(
    demo: Project, tmp_path: Path
) -> None:
    d = demo.load_definition()
    with pytest.raises(ConfigError):
        build_report(d, demo.history_path, "2026")  # the annual period: nothing delivered
    with pytest.raises(ConfigError):
        build_report(d, tmp_path / "none.sqlite", PERIOD)
    result = CliRunner().invoke(
        main,
        ["--project", str(demo.root), "report", "--format", "html", "--period", "2026"],
    )
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
