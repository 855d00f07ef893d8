"""Readable on paper: the sheets people print, printed by LibreOffice, have no text under 8 pt.

Each workbook kind (a unit workbook as sent, one returned filled in, the county master) is
printed to PDF and the size of every text run read back from the PDF (``pdftohtml -xml``).
Before explicit print scales, "fit to one page wide" printed Enheter at 3 pt, Målekort and
Data at 4 pt, Fylket and Oversikt at 5 pt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import history_from_rows
from helpers import load_example_history
from history_helpers import import_history_csv
from realclient import printed_font_sizes, require_libreoffice

from bms_excel.examples import example_history_path
from bms_excel.generate import generate_workbooks
from bms_excel.history import open_history
from bms_excel.master import ConsolidationResult, consolidate_project
from bms_excel.project import init_project
from bms_excel.simulate import simulate_returns

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]
PERIOD = "2026-T2"
#: Smallest printed text (pt); pdftohtml reports whole points, so 7.5 pt counts as 8.
MIN_PT = 8
UNIT_SHEETS = ("Målekort",)
MASTER_SHEETS = ("Oversikt", "Fylket", "Enheter", "Data")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ConsolidationResult, Path, Path]:
    require_libreoffice()
    root = tmp_path_factory.mktemp("demo") / "fylket"
    project = init_project(root, example="stfk", period=PERIOD)
    definition = project.load_definition()
    history = history_from_rows(load_example_history("stfk"))
    generated = generate_workbooks(
        definition, PERIOD, out_dir=project.generated_dir, secret=project.secret, history=history
    )
    files = {row.unit: project.generated_dir / row.file for row in generated.manifest}
    simulate_returns(definition, PERIOD, files, project.submissions_dir, history=history)
    with open_history(project.history_path) as db:
        import_history_csv(db, Path(str(example_history_path("stfk"))))
    result = consolidate_project(project, definition, PERIOD)
    sent = files["HEIMDAL"]
    returned = project.submissions_dir / sent.name
    assert returned.exists()
    return result, sent, returned


def _too_small(sizes: dict[str, list[tuple[int, str]]], sheets: tuple[str, ...]) -> dict:
    missing = [s for s in sheets if s not in sizes]
    assert not missing, f"no printed page of {missing}; pages found: {sorted(sizes)}"
    return {s: sorted({run for run in sizes[s] if run[0] < MIN_PT})[:5] for s in sheets}


@pytest.mark.parametrize("kind", ["sent", "returned"])
def test_unit_workbook_prints_no_text_under_8_pt(
    demo: tuple[ConsolidationResult, Path, Path], kind: str, tmp_path: Path
) -> None:
    source = demo[1] if kind == "sent" else demo[2]
    sizes = printed_font_sizes(source, tmp_path)
    assert _too_small(sizes, UNIT_SHEETS) == {s: [] for s in UNIT_SHEETS}


def test_master_prints_no_text_under_8_pt(
    demo: tuple[ConsolidationResult, Path, Path], tmp_path: Path
) -> None:
    sizes = printed_font_sizes(demo[0].master, tmp_path)
    assert _too_small(sizes, MASTER_SHEETS) == {s: [] for s in MASTER_SHEETS}
    # Data prints without its checksum: no 64-hex-digit text on its pages.
    assert not [s for _, s in sizes["Data"] if len(s.strip()) == 64]
