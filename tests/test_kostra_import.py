"""``bms kostra import``: SSB figures matched to indicators and stored with their source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.examples import example_dir, load_example_definition
from bms_excel.history import open_history
from bms_excel.kostra_import import import_kostra, kostra_year
from bms_excel.project import init_project

SAMPLES = sorted(Path(str(example_dir("stfk"))).joinpath("kostra").glob("*.json"))


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    init_project(tmp_path / "p", example="stfk", period="2026-T2")
    return tmp_path / "p"


def test_kostra_year_of_a_period() -> None:
    defn = load_example_definition("stfk")
    assert kostra_year(defn.period("2026-T2")) == 2025
    assert kostra_year(defn.period("2025")) == 2025


def test_import_stores_county_unit_and_comparison_figures(tmp_path: Path) -> None:
    defn = load_example_definition("stfk")
    assert len(SAMPLES) == 3
    with open_history(tmp_path / "h.sqlite") as history:
        report = import_kostra(SAMPLES, defn, history, defn.period("2026-T2"))
        assert report.stored == len(report.matched) == 32
        again = import_kostra(SAMPLES, defn, history, defn.period("2026-T2"))
        assert again.stored == 0  # the same figures from the same files are kept once
        figs = {
            (f.indicator, f.role, f.region, f.unit, f.period): f for f in history.external_figures()
        }
    t22 = figs[("T2.2", "county", "50", None, "2025")]
    assert (t22.value, t22.status, t22.table_id) == (186400.0, "ok", "12367")
    assert figs[("T2.2", "comparison", "EAFKUO", None, "2025")].value == 190700.0
    assert figs[("T3.1", "unit", "50", "FYLKESVEG", "2025")].value == 52.0
    # ".." (not available) is stored as no value with its symbol, never as 0.
    t11 = figs[("T1.1", "county", "50", None, "2025")]
    assert (t11.value, t11.status, t11.status_symbol) == (None, "not-available", "..")
    assert figs[("T1.1", "county", "50", None, "2024")].value == 80.4
    assert all(len(f.file_sha256) == 64 for f in figs.values())


def test_cli_import_and_check(project_dir: Path) -> None:
    runner = CliRunner()
    base = ["--project", str(project_dir), "kostra", "import"]
    check = runner.invoke(main, [*base, "--check", "--json"])
    assert check.exit_code == 0, check.output  # warnings only
    codes = {(f["code"], f["extra"].get("indicator")) for f in json.loads(check.output)["findings"]}
    assert {
        ("kostra-no-data", "T1.1"),
        ("kostra-no-data", "T2.2"),
        ("kostra-no-data", "T3.1"),
    } <= codes

    done = runner.invoke(main, [*base, *map(str, SAMPLES), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["kostra_year"] == 2025 and data["stored"] == 32

    after = runner.invoke(main, [*base, "--check", "--json"])
    remaining = {f["code"] for f in json.loads(after.output)["findings"]}
    assert "kostra-no-data" not in remaining


def test_bad_files_give_findings_not_tracebacks(project_dir: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.json"
    truncated.write_bytes(SAMPLES[0].read_bytes()[:300])
    commas = tmp_path / "commas.csv"
    commas.write_text('"region","2024","2025"\n"50 Trøndelag","1,5","2,5"\n', encoding="utf-8")
    other = json.loads(SAMPLES[1].read_text(encoding="utf-8"))
    # A table for another county only (Vestland, 46): none of its regions is ours.
    other["dimension"]["Region"]["category"] = {"index": {"46": 0}, "label": {"46": "Vestland"}}
    other["size"] = [1, 1, 4]
    other["value"] = other["value"][:4]
    other["status"] = {}
    other_region = tmp_path / "vestland.json"
    other_region.write_text(json.dumps(other), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "--project",
            str(project_dir),
            "kostra",
            "import",
            str(truncated),
            str(commas),
            str(other_region),
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    codes = {f["code"] for f in json.loads(result.output)["findings"]}
    assert {"kostra-malformed", "kostra-wrong-separator", "kostra-other-region"} <= codes


def test_import_without_files_is_a_usage_error(project_dir: Path) -> None:
    result = CliRunner().invoke(main, ["--project", str(project_dir), "kostra", "import"])
    assert result.exit_code == 2


def test_views_give_the_kostra_year_and_the_series(tmp_path: Path) -> None:
    from bms_excel.kostra_import import kostra_views

    defn = load_example_definition("stfk")
    with open_history(tmp_path / "h.sqlite") as history:
        import_kostra(SAMPLES, defn, history, defn.period("2026-T2"))
        views = kostra_views(history, defn, defn.period("2026-T2"))
    assert sorted(views) == ["T1.1", "T2.2", "T3.1"]
    t22 = views["T2.2"]
    assert t22.year == 2025
    assert t22.county is not None and t22.county.value == 186400.0
    assert {r: f.value for r, f in t22.comparisons.items()} == {"EAFKUO": 190700.0}
    assert t22.series["50"] == {2022: 164120.0, 2023: 171350.0, 2024: 178900.0, 2025: 186400.0}
    assert views["T3.1"].units["FYLKESVEG"].value == 52.0
    # 2025 is not yet available for completion: the county figure is there, without a value.
    t11 = views["T1.1"].county
    assert t11 is not None and (t11.value, t11.status) == (None, "not-available")
