"""KOSTRA figures in the cycle: read-only in the unit workbooks, consolidated in the master."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from ooxml_check import assert_clean, check_workbook
from openpyxl.utils import get_column_letter

from bms_excel.cli import main
from bms_excel.demo import DemoResult
from bms_excel.examples import example_dir, load_example_definition
from bms_excel.generate import generate_workbooks
from bms_excel.history import ExternalFigure, open_history
from bms_excel.kostra_import import KostraView, import_kostra, kostra_views
from bms_excel.layout import build_layout
from bms_excel.master.run import with_kostra
from bms_excel.project import init_project
from bms_excel.status import Status, evaluate, resolve_rule
from bms_excel.xlsx.printing import text_lines

SAMPLES = sorted(Path(str(example_dir("stfk"))).joinpath("kostra").glob("*.json"))
PERIOD = "2026-T2"
SECRET = b"k" * 32


def _views(tmp_path: Path) -> dict[str, KostraView]:
    defn = load_example_definition("stfk")
    with open_history(tmp_path / "h.sqlite") as history:
        import_kostra(SAMPLES, defn, history, defn.period(PERIOD))
        return kostra_views(history, defn, defn.period(PERIOD))


def _row(path: Path, code: str) -> tuple[dict[str, object], dict[str, str]]:
    """The Målekort cells of ``code`` in a generated workbook, by column role."""
    defn = load_example_definition("stfk")
    unit = next(u for u in defn.units if path.stem.endswith(u.code))
    layout = build_layout(defn, unit, PERIOD, "nb")
    cells = next(c for c in layout.scorecard.indicators if c.code == code)
    ws = openpyxl.load_workbook(path).worksheets[1]
    refs = {role: f"{col}{cells.row}" for role, col in layout.scorecard.columns.items()}
    return {role: ws[ref].value for role, ref in refs.items()}, refs


def _generate(tmp_path: Path, kostra: dict[str, KostraView] | None) -> Path:
    defn = load_example_definition("stfk")
    result = generate_workbooks(
        defn, PERIOD, out_dir=tmp_path / "out", secret=SECRET, units=["FYLKESVEG"], kostra=kostra
    )
    (path,) = result.files
    assert [p for p in check_workbook(path) if p.severity == "error"] == []
    return path


def test_unit_workbook_shows_the_units_kostra_figure(tmp_path: Path) -> None:
    path = _generate(tmp_path, _views(tmp_path))
    values, refs = _row(path, "T3.1")
    assert values["result"] == 52
    assert values["comment"] == "Fasit fra KOSTRA 2025"
    status = str(values["status"])
    assert status.startswith("=IF(ISNUMBER(" + refs["result"] + ")")
    defn = load_example_definition("stfk")
    unit = next(u for u in defn.units if u.code == "FYLKESVEG")
    rule = resolve_rule(defn.indicator("T3.1"), defn.settings, unit, PERIOD)
    # 52 is outside 40–50 but within the tolerance of 5: the formula's answer is yellow.
    assert evaluate(rule, 52.0) == Status.YELLOW
    assert '"Gul"' in status
    ws = openpyxl.load_workbook(path).worksheets[1]
    assert ws[refs["result"]].protection.locked


def test_without_figures_the_row_says_where_the_figure_comes_from(tmp_path: Path) -> None:
    values, _ = _row(_generate(tmp_path, None), "T3.1")
    assert values["result"] == "Fasit fra KOSTRA"
    assert values["status"] is None


@pytest.mark.parametrize(
    ("status", "symbol", "result", "shown"),
    [
        ("not-available", "..", "Tallgrunnlag mangler (..)", "Uten status"),
        ("not-applicable", ".", "Ikke mulig å oppgi tall (.)", "Ikke aktuelt"),
        ("confidential", ":", "Vises ikke av konfidensialitetshensyn (:)", "Uten status"),
    ],
)
def test_ssb_symbols_are_shown_as_text_never_zero(
    tmp_path: Path, status: str, symbol: str, result: str, shown: str
) -> None:
    fig = ExternalFigure(
        "kostra", "2025", None, region="50", status=status, indicator="T3.1",
        unit="FYLKESVEG", role="unit", status_symbol=symbol,
    )  # fmt: skip
    view = KostraView("T3.1", 2025, units={"FYLKESVEG": fig})
    values, _ = _row(_generate(tmp_path, {"T3.1": view}), "T3.1")
    assert values["result"] == result
    assert values["result"] != 0
    assert values["status"] == shown
    assert values["comment"] == "Fasit fra KOSTRA 2025"


def test_consolidation_takes_the_kostra_year(tmp_path: Path) -> None:
    views = _views(tmp_path)
    records = {(r.unit, r.indicator): r for r in with_kostra([], views, PERIOD)}
    t22 = records[("", "T2.2")]
    assert (t22.period, t22.kind, t22.value, t22.source) == (PERIOD, "number", 186400.0, "kostra")
    assert records[("FYLKESVEG", "T3.1")].value == 52.0
    t11 = records[("", "T1.1")]
    assert (t11.kind, t11.value, t11.raw) == ("missing", None, "..")


@pytest.fixture(scope="module")
def demo(demo_project: DemoResult) -> DemoResult:
    return demo_project


def test_demo_master_shows_the_comparison_groups_and_a_chart(demo: DemoResult) -> None:
    master = Path(demo.paths["master"])
    assert_clean(master)
    ws = openpyxl.load_workbook(master).worksheets[1]
    assert ws.title == "Fylket"
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    # The scorecard: the KOSTRA county value of 2025 for the 2026-T2 period.
    main_t22 = next(r for r in rows if r[0] == "T2.2")
    assert main_t22[4] == 186400
    main_t11 = next(r for r in rows if r[0] == "T1.1")
    assert main_t11[4] is None  # ".." is missing, not 0 …
    assert main_t11[5] == "KOSTRA 2025: Tallgrunnlag mangler (..)"  # … and says why
    # The comparison block: county beside the groups, named as SSB names them.
    header = next(r for r in rows if "Landet uten Oslo" in r)
    col = header.index("Landet uten Oslo")
    block = rows[rows.index(header) + 1 :]
    t22 = next(r for r in block if r[0] == "T2.2")
    assert (t22[3], t22[4], t22[col]) == (2025, 186400, 190700)
    t11 = next(r for r in block if r[0] == "T1.1")
    assert t11[4] == "Tallgrunnlag mangler (..)"
    assert 0 not in (t11[4], t11[col])
    assert len(ws._charts) >= 1
    series = next(i for i, r in enumerate(rows) if r[0] and "KOSTRA over år: T2.2" in str(r[0]))
    # Region names in the wide name column (never cut to "Sør-Trønd"), the years beside it.
    assert rows[series + 1][1:6] == ["Region", "2022", "2023", "2024", "2025"]
    assert rows[series + 2][1] == "Sør-Trøndelag fylkeskommune (fylket)"
    assert rows[series + 2][2:6] == [164120, 171350, 178900, 186400]
    assert ws.column_dimensions["B"].width >= len("Landet uten Oslo")
    # The group headers wrap between words and their row is tall enough for them.
    head_row = rows.index(header) + 1
    assert ws.cell(head_row, col + 1).alignment.wrap_text
    lines = text_lines("Landet uten Oslo", ws.column_dimensions[get_column_letter(col + 1)].width)
    assert (ws.row_dimensions[head_row].height or 15) >= 15 * lines
    # The basis text is indented from the right-aligned county value before it.
    basis = next(i for i, r in enumerate(rows, 1) if r[0] == "T2.2")
    assert ws.cell(basis, 6).alignment.indent >= 1


def test_demo_workbooks_show_kostra_and_stay_clean(demo: DemoResult) -> None:
    generated = sorted(Path(demo.paths["generated"]).glob("*.xlsx"))
    assert generated
    for path in generated:
        assert [p for p in check_workbook(path) if p.severity == "error"] == [], path
    (fylkesveg,) = [p for p in generated if p.stem.endswith("FYLKESVEG")]
    values, _ = _row(fylkesveg, "T3.1")
    assert (values["result"], values["comment"]) == (52, "Fasit fra KOSTRA 2025")


def test_cli_generate_reads_kostra_from_the_history(tmp_path: Path) -> None:
    project = tmp_path / "p"
    init_project(project, example="stfk", period=PERIOD)
    runner = CliRunner()
    base = ["--project", str(project)]
    imported = runner.invoke(main, [*base, "kostra", "import", *map(str, SAMPLES)])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "out"
    done = runner.invoke(main, [*base, "generate", "--units", "FYLKESVEG", "--out", str(out)])
    assert done.exit_code == 0, done.output
    (path,) = out.glob("*.xlsx")
    values, _ = _row(path, "T3.1")
    assert (values["result"], values["comment"]) == (52, "Fasit fra KOSTRA 2025")
