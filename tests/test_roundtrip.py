"""Round trip: definition → generate → staff fill in → collect → consolidate → master → read back.

Five units, one indicator per aggregation rule. Every expected number below is worked out by
hand in the comments (plain arithmetic, never by calling the code under test), and compared
with what the master workbook says when it is read back with openpyxl (values, "basert på",
roll-ups, unit statuses in Data) and, recalculated in LibreOffice, with its status formulas.

The builders here (:func:`make_project`, :func:`fill_returns`) are shared with the other
master tests.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from ooxml_check import assert_clean

from bms_excel.generate import generate_workbooks
from bms_excel.layout import build_layout
from bms_excel.master import consolidate_project
from bms_excel.project import Project, init_project
from bms_excel.simulate import Entry, fill_workbook

PERIOD = "2026-T1"

DEFINITION_YAML = textwrap.dedent(
    """\
    version: 1
    county: {code: TF, name: Testfylket}
    settings: {language: nb}
    sectors:
      - {code: S1, name: Skoler}
      - {code: S2, name: Samferdsel}
    units:
      - {code: A, name: Skole A, sector: S1, attributes: {pupils: 100},
         contact: {name: Anne A, email: anne@example.no}}
      - {code: B, name: Skole B, sector: S1, attributes: {pupils: 200},
         contact: {name: Bjørn B, email: bjorn@example.no}}
      - {code: C, name: Skole C, sector: S1, attributes: {pupils: 300},
         contact: {name: Cecilie C, email: cecilie@example.no}}
      - {code: D, name: Vegkontor D, sector: S2, attributes: {pupils: 400},
         contact: {name: Dag D, email: dag@example.no}}
      - {code: E, name: Vegkontor E, sector: S2, attributes: {pupils: 500},
         contact: {name: Eva E, email: eva@example.no}}
    focus_areas:
      - code: F1
        name: Tjenester
        goals:
          - code: G1
            name: Gode tjenester
            factors:
              - code: K1
                name: Kvalitet
                indicators:
                  - {code: I_SUM, name: Antall tiltak, aggregation: sum,
                     thresholds: {green: 100, yellow: 50}, owner: Direktør,
                     county_thresholds: {green: 100, yellow: 50}}
                  - {code: I_MEAN, name: Trivsel, aggregation: mean,
                     thresholds: {green: 80, yellow: 60}, owner: Direktør}
                  - {code: I_WMEAN, name: Fullført, unit_of_measure: "%",
                     aggregation: weighted_mean, weight_by: pupils, target: 70,
                     county_target: 70, owner: Direktør}
      - code: F2
        name: Økonomi
        goals:
          - code: G2
            name: Sunn økonomi
            factors:
              - code: K2
                name: Kostnader
                indicators:
                  - {code: I_MEDIAN, name: Ventetid, aggregation: median, direction: lower,
                     thresholds: {green: 10, yellow: 20}, owner: Direktør}
                  - {code: I_MIN, name: Budsjettavvik, aggregation: min, decimals: 1,
                     direction: range, target: {low: 40, high: 60}, tolerance: 10,
                     owner: Direktør}
                  - {code: I_MAX, name: Reserver, aggregation: max,
                     thresholds: {green: 5, yellow: 3}, owner: Direktør}
                  - {code: I_NONE, name: Innbyggere, aggregation: none, owner: Direktør}
    periods:
      - {code: "2026-T1", label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}
    """
)

# What the staff type (E does not deliver; C's I_SUM is "i.a."; D leaves I_MEAN blank).
RETURNS: dict[str, dict[str, object]] = {
    "A": {"I_SUM": 40, "I_MEAN": 70, "I_WMEAN": 50, "I_MEDIAN": 25, "I_MIN": 45.5,
          "I_MAX": 1, "I_NONE": 1000},
    "B": {"I_SUM": 30, "I_MEAN": 80, "I_WMEAN": 60, "I_MEDIAN": 30, "I_MIN": 38.2,
          "I_MAX": 2, "I_NONE": 2000},
    "C": {"I_SUM": "i.a.", "I_MEAN": 90, "I_WMEAN": 70, "I_MEDIAN": 21, "I_MIN": 52,
          "I_MAX": 1, "I_NONE": 3000},
    "D": {"I_SUM": 35, "I_WMEAN": 80, "I_MEDIAN": 40, "I_MIN": 61, "I_MAX": 0,
          "I_NONE": 4000},
}  # fmt: skip

# The county table, by hand:
#   I_SUM    40+30+35 = 105 (C n/a, E missing) → 3 of 5; ≥100 green, score 100
#   I_MEAN   (70+80+90)/3 = 80 → 3 of 5; ≥80 green, 100
#   I_WMEAN  (50·100+60·200+70·300+80·400)/1000 = 70000/1000 = 70 → 4 of 5;
#            percent of target 70: green ≥70 → green, 100
#   I_MEDIAN median(25,30,21,40) = (25+30)/2 = 27.5 → 4 of 5; 0 decimals, so it is shown and
#            judged as 28: lower, >20 red; score 50+50·(28−20)/(10−20) = 10
#   I_MIN    min(45.5,38.2,52,61) = 38.2 → 4 of 5; band 40–60 ±10: yellow;
#            score 100−50·(40−38.2)/10 = 91
#   I_MAX    max(1,2,1,0) = 2 → 4 of 5; <3 red; score 50+50·(2−3)/(5−3) = 25
#   I_NONE   not aggregated → "Ikke aggregert", no score
EXPECTED_COUNTY: dict[str, tuple[float | None, int | None, str, float | None]] = {
    "I_SUM": (105.0, 3, "Grønn", 100.0),
    "I_MEAN": (80.0, 3, "Grønn", 100.0),
    "I_WMEAN": (70.0, 4, "Grønn", 100.0),
    "I_MEDIAN": (27.5, 4, "Rød", 10.0),
    "I_MIN": (38.2, 4, "Gul", 91.0),
    "I_MAX": (2.0, 4, "Rød", 25.0),
    "I_NONE": (None, None, "Ikke aggregert", None),
}
# Roll-ups of the county (all weights 1): F1 = mean(100,100,100) = 100 → green;
# F2 = mean(10, 91, 25) = 126/3 = 42 → red (< 50); total = (100 + 42)/2 = 71 → yellow.
EXPECTED_AREAS = {"Tjenester": "Grønn", "Økonomi": "Rød", "Samlet": "Gul"}
N_UNITS = 5


def expected_unit_status(indicator: str, raw: object) -> str:
    """A unit value's status by the indicator's limits, written out independently."""
    if raw is None:
        return "missing"
    if raw == "i.a.":
        return "not-applicable"
    v = float(raw)  # type: ignore[arg-type]
    if indicator == "I_SUM":
        return "green" if v >= 100 else "yellow" if v >= 50 else "red"
    if indicator == "I_MEAN":
        return "green" if v >= 80 else "yellow" if v >= 60 else "red"
    if indicator == "I_WMEAN":  # 90 % of the target 70 is 63
        return "green" if v >= 70 else "yellow" if v >= 63 else "red"
    if indicator == "I_MEDIAN":
        return "green" if v <= 10 else "yellow" if v <= 20 else "red"
    if indicator == "I_MIN":
        return "green" if 40 <= v <= 60 else "yellow" if 30 <= v <= 70 else "red"
    if indicator == "I_MAX":
        return "green" if v >= 5 else "yellow" if v >= 3 else "red"
    return "no-target"


# -- shared builders ---------------------------------------------------------------------------


def make_project(root: Path, definition_yaml: str = DEFINITION_YAML) -> Project:
    """A fresh project from ``definition_yaml`` with generated workbooks in ``utsendt/``."""
    source = root / "source.yaml"
    root.mkdir(parents=True, exist_ok=True)
    source.write_text(definition_yaml, encoding="utf-8")
    project = init_project(root / "prosjekt", definition=source, period=PERIOD)
    generate_workbooks(
        project.load_definition(),
        PERIOD,
        out_dir=project.generated_dir,
        secret=project.secret,
    )
    return project


def fill_returns(
    project: Project,
    returns: Mapping[str, Mapping[str, object]] = RETURNS,
    comments: Mapping[str, Mapping[str, str]] | None = None,
    assessments: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
) -> dict[str, Path]:
    """Type ``returns`` (unit → indicator → value) into copies in ``innkommet/`` as staff do."""
    definition = project.load_definition()
    written = {}
    for code, values in returns.items():
        unit = definition.unit(code)
        layout = build_layout(definition, unit, PERIOD, "nb")
        entry = Entry(
            values=dict(values),
            comments=dict((comments or {}).get(code, {})),
            assessments=dict((assessments or {}).get(code, {})),
        )
        name = f"{PERIOD}_{code}.xlsx"
        dest = project.submissions_dir / name
        fill_workbook(project.generated_dir / name, dest, layout, entry)
        written[code] = dest
    return written


def sheet_rows(path: Path, sheet: str, header_row: int) -> list[dict[str, Any]]:
    """The rows under ``header_row`` of ``sheet`` as dicts keyed by the header texts."""
    wb = openpyxl.load_workbook(path)
    try:
        ws = wb[sheet]
        rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    finally:
        wb.close()
    headers = [str(h) if h is not None else f"col{i}" for i, h in enumerate(rows[0])]
    return [dict(zip(headers, r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def county_rows(path: Path) -> dict[str, dict[str, Any]]:
    """Fylket's indicator rows by code."""
    rows = sheet_rows(path, "Fylket", 4)
    return {r["Kode"]: r for r in rows if r["Kode"] and str(r["Kode"]).startswith("I_")}


# -- tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    project = make_project(tmp_path_factory.mktemp("roundtrip"))
    fill_returns(project)
    result = consolidate_project(project)
    return project, result.master


def test_county_values_and_basis_match_the_hand_computed_table(
    consolidated: tuple[Project, Path],
) -> None:
    _, master = consolidated
    assert_clean(master)
    rows = county_rows(master)
    assert set(rows) == set(EXPECTED_COUNTY)
    for code, (value, used, _, _) in EXPECTED_COUNTY.items():
        row = rows[code]
        if value is None:
            assert row["Fylkesverdi"] == "i.a.", code
            assert row["Grunnlag"] == "ikke sammenstilt", code
        else:
            assert row["Fylkesverdi"] == pytest.approx(value, abs=1e-9), code
            m = re.fullmatch(r"basert på (\d+) av (\d+)", row["Grunnlag"])
            assert m, row["Grunnlag"]
            assert (int(m.group(1)), int(m.group(2))) == (used, N_UNITS), code


def test_focus_area_rollups_on_the_overview_match(consolidated: tuple[Project, Path]) -> None:
    _, master = consolidated
    rows = sheet_rows(master, "Oversikt", 5)
    county: dict[str, Any] = {}
    for r in rows:  # the first block; the status counts below repeat the area names
        if r["Fokusområde"] in EXPECTED_AREAS:
            county.setdefault(r["Fokusområde"], r["Fylket"])
    assert county == EXPECTED_AREAS


def test_unit_statuses_in_data_match_the_independent_rules(
    consolidated: tuple[Project, Path],
) -> None:
    _, master = consolidated
    data = sheet_rows(master, "Data", 1)
    seen = {(r["Enhet"], r["Indikator"]): r for r in data}
    assert len(seen) == N_UNITS * len(EXPECTED_COUNTY)
    for unit in "ABCDE":
        for code in EXPECTED_COUNTY:
            raw = RETURNS.get(unit, {}).get(code)
            row = seen[(unit, code)]
            assert row["Statuskode"] == expected_unit_status(code, raw), (unit, code)
            if isinstance(raw, int | float):
                assert row["Verdi"] == pytest.approx(raw)
            else:
                assert row["Verdi"] is None


@pytest.mark.libreoffice
@pytest.mark.slow
def test_recalculated_county_status_and_score_match(
    consolidated: tuple[Project, Path], tmp_path: Path
) -> None:
    from realclient import recalculated_values

    _, master = consolidated
    values = recalculated_values(master, tmp_path)["Fylket"]
    rows = county_rows(master)
    wb = openpyxl.load_workbook(master)
    try:
        codes = {ws_row[0].value: ws_row[0].row for ws_row in wb["Fylket"].iter_rows(min_row=5)}
    finally:
        wb.close()
    for code, (_, _, status, score) in EXPECTED_COUNTY.items():
        row = codes[code]
        assert values[f"M{row}"] == status, code
        if score is None:
            assert values.get(f"N{row}") in (None, ""), code
        else:
            assert values[f"N{row}"] == pytest.approx(score, abs=1e-6), code
    assert len(rows) == len(EXPECTED_COUNTY)
