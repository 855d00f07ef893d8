"""Yes/no indicators ("Plan vedtatt"): the rule, its Excel formula, the workbook, the collector.

Staff choose Ja/Nei from a dropdown; the wanted answer is green, the other red. The collector
reads Ja/Nei (and the nynorsk/English words) as 1/0; the county counts the yes answers
(``aggregation: sum``) and judges that count only by a county target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from consolidated import consolidate_values
from pydantic import ValidationError
from realclient import formula_errors, recalculated_values, require_libreoffice
from test_generate import SECRET, fill_workbook, generate_one

from bms_excel.checks import check_definition
from bms_excel.collect import process_file
from bms_excel.layout import build_layout
from bms_excel.master.run import write_master
from bms_excel.master.scorecard import COUNTY_HEADER_ROW, COUNTY_SHEET_COLUMNS
from bms_excel.model import Definition
from bms_excel.status import (
    Status,
    StatusRule,
    classify_answer,
    evaluate,
    excel_score_formula,
    excel_status_formula,
    resolve_rule,
    score,
    status_label,
)
from bms_excel.unit_results import status_result
from bms_excel.values import parse_value

PERIOD = "2026-T1"
DEFINITION_YAML = """
county: {code: TF, name: Testfylket}
sectors: [{code: S1, name: Skoler}]
units:
  - {code: A, name: Enhet A, sector: S1}
  - {code: B, name: Enhet B, sector: S1}
periods:
  - {code: 2026-T1, label: 1. tertial 2026, end: 2026-04-30, deadline: 2026-05-15}
focus_areas:
  - code: F
    name: Styring
    goals:
      - code: G
        name: God styring
        factors:
          - code: K
            name: Planer
            indicators:
              - {code: K.1, name: Plan vedtatt, kind: yes_no, aggregation: sum,
                 county_target: 2, owner: Rektor, comment_required: never}
              - {code: K.2, name: Avvik meldt, kind: yes_no, wanted: "no",
                 aggregation: sum, owner: Rektor, comment_required: never}
"""

YES_RULE = StatusRule("yes_no", "yes_no", "higher", 0, wanted="yes")
NO_RULE = StatusRule("yes_no", "yes_no", "higher", 0, wanted="no")
ERROR_INPUT = "=1/0"
INPUTS: tuple[Any, ...] = (
    "Ja", " ja ", "JA", "Nei", "nei", "NEI ", "yes", "No", "j", "n", "Yes\t",
    1, 0, 2, 0.5, -1, "", " ", None, "i.a.", "IKKE AKTUELT", "-", "kanskje", "1", "Grønn",
    ERROR_INPUT,
)  # fmt: skip


def load() -> Definition:
    return Definition.model_validate(yaml.safe_load(DEFINITION_YAML))


# -- the rule in Python -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "wanted_yes", "wanted_no"),
    [
        ("Ja", Status.GREEN, Status.RED),
        (" nei ", Status.RED, Status.GREEN),
        ("yes", Status.GREEN, Status.RED),
        (1, Status.GREEN, Status.RED),
        (0, Status.RED, Status.GREEN),
        (2, Status.INVALID, Status.INVALID),
        ("kanskje", Status.INVALID, Status.INVALID),
        ("i.a.", Status.NOT_APPLICABLE, Status.NOT_APPLICABLE),
        (None, Status.MISSING, Status.MISSING),
    ],
)
def test_yes_no_rule(raw: Any, wanted_yes: Status, wanted_no: Status) -> None:
    assert evaluate(YES_RULE, classify_answer(raw)) is wanted_yes
    assert evaluate(NO_RULE, classify_answer(raw)) is wanted_no


def test_scores_and_resolution() -> None:
    d = load()
    plan, deviation = d.indicator("K.1"), d.indicator("K.2")
    assert resolve_rule(plan, d.settings, d.unit("A"), PERIOD) == YES_RULE
    assert resolve_rule(deviation, d.settings, d.unit("A"), PERIOD) == NO_RULE
    # The county counts yes answers: judged by its county target only, or not at all.
    county = resolve_rule(plan, d.settings, None, PERIOD)
    assert (county.kind, county.green) == ("thresholds", 2)
    assert resolve_rule(deviation, d.settings, None, PERIOD).kind == "none"
    assert (score(YES_RULE, 1.0), score(YES_RULE, 0.0), score(NO_RULE, 0.0)) == (100, 0, 100)


def test_check_wants_a_county_target_for_counted_answers() -> None:
    found = [f.path for f in check_definition(load()) if f.code == "county-target-missing"]
    assert found == ["focus_areas[0].goals[0].factors[0].indicators[1].aggregation"]  # K.2


def test_a_yes_no_indicator_has_no_target() -> None:
    data = yaml.safe_load(DEFINITION_YAML)
    data["focus_areas"][0]["goals"][0]["factors"][0]["indicators"][0]["target"] = 1
    with pytest.raises(ValidationError):
        Definition.model_validate(data)


def test_collector_reads_the_words() -> None:
    for raw, value in (("Ja", 1.0), ("nei", 0.0), ("Yes", 1.0), ("no", 0.0), (1, 1.0), (0, 0.0)):
        parsed = parse_value(raw, answer=True)
        assert (parsed.kind, parsed.value, parsed.code) == ("number", value, None), raw
    for raw in ("kanskje", 2, "1,5"):
        parsed = parse_value(raw, answer=True)
        assert (parsed.kind, parsed.code, parsed.reason) == (
            "invalid",
            "not-a-number",
            "value.not-an-answer",
        )
    assert parse_value("i.a.", answer=True).kind == "not-applicable"
    assert parse_value("Ja").kind == "invalid"  # a number indicator does not read words


# -- workbook → collector → master -----------------------------------------------------------


def test_workbook_collector_and_master(tmp_path: Path) -> None:
    d = load()
    layout = build_layout(d, d.unit("A"), PERIOD)
    plan, deviation = layout.indicator("K.1"), layout.indicator("K.2")
    records = []
    for unit, answers in (("A", ("Ja", "Nei")), ("B", ("Ja", "ja"))):
        path = generate_one(d, unit, tmp_path / "out" / unit)
        wb = openpyxl.load_workbook(path)
        try:
            ws = wb[layout.sheets.scorecard]
            dv = {str(v.sqref): v for v in ws.data_validations.dataValidation}
            assert (dv[plan.result_ref].type, dv[plan.result_ref].formula1) == (
                "list",
                '"Ja,Nei,i.a."',
            )
            assert ws[plan.target_ref].value == "Ja"
            assert ws[deviation.target_ref].value == "Nei"
            assert ws[plan.limits_ref].value == "Grønn: Ja · ellers rød"
            assert ws[plan.status_ref].value == excel_status_formula(
                YES_RULE, plan.result_ref, "nb", percent_entry=False
            )
        finally:
            wb.close()
        filled = fill_workbook(
            path,
            {
                layout.sheets.scorecard: {
                    plan.result_ref: answers[0],
                    deviation.result_ref: answers[1],
                }
            },
            tmp_path / f"{unit}.xlsx",
        )
        outcome = process_file(filled, f"{unit}.xlsx", d, SECRET, PERIOD)
        assert [f.code for f in outcome.findings if f.severity == "error"] == []
        got = {v.indicator: (v.kind, v.value, v.raw) for v in outcome.values}
        assert got["K.1"][:2] == ("number", 1.0)
        assert got["K.2"][:2] == ("number", 0.0 if answers[1] == "Nei" else 1.0)
        records += outcome.values
    result = consolidate_values(d, records, PERIOD)
    long = result.long[result.long["unit"].notna()]
    status = {(r.unit, r.indicator): r.status for r in long.itertuples()}
    assert status == {
        ("A", "K.1"): "green",
        ("A", "K.2"): "green",
        ("B", "K.1"): "green",
        ("B", "K.2"): "red",
    }
    county = result.county.set_index("indicator")
    assert (county.loc["K.1", "value"], county.loc["K.1", "status"]) == (2.0, "green")
    assert (county.loc["K.2", "value"], county.loc["K.2", "status"]) == (1.0, "no-target")
    master = write_master(
        tmp_path / "bms_TF.xlsx",
        definition=d,
        period=PERIOD,
        long=result.long,
        county=result.county,
        rollups=result.rollups,
        trends=result.trends,
    )
    wb = openpyxl.load_workbook(master, data_only=True)
    try:
        rows = {
            r[0]: dict(zip(COUNTY_SHEET_COLUMNS, r, strict=False))
            for r in wb["Fylket"].iter_rows(min_row=COUNTY_HEADER_ROW + 1, values_only=True)
        }
        # Enheter keeps the answers as 1/0 (the status formula reads them) shown as Ja/Nei.
        units = wb["Enheter"]
        cell = next(c for row in units.iter_rows() for c in row if c.value == 0)
        assert cell.number_format == '"Ja";;"Nei"'
    finally:
        wb.close()
    assert (rows["K.1"]["county-value"], rows["K.1"]["status"]) == (2, "Grønn")
    assert rows["K.2"]["status"] == "Uten fylkesmål"


# -- LibreOffice recalculates the yes/no formula as Python judges ----------------------------


@pytest.mark.libreoffice
def test_yes_no_formula_recalculated_equals_python(tmp_path: Path) -> None:
    require_libreoffice()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Grid"
    rows = []
    r = 1
    for rule in (YES_RULE, NO_RULE):
        for raw in INPUTS:
            r += 1
            rows.append((r, rule, raw))
            if raw is not None:
                ws[f"A{r}"] = raw
            ws[f"B{r}"] = excel_status_formula(rule, f"$A${r}", "nb")
            ws[f"C{r}"] = excel_status_formula(rule, f"$A${r}", "en")
            ws[f"D{r}"] = excel_score_formula(rule, f"$A${r}")
    wb.save(tmp_path / "grid.xlsx")
    cells = recalculated_values(tmp_path / "grid.xlsx", tmp_path / "out")["Grid"]
    assert formula_errors({"Grid": {k: v for k, v in cells.items() if k[0] != "A"}}) == []
    wrong = []
    for row, rule, raw in rows:
        seen = "#DIV/0!" if raw == ERROR_INPUT else raw
        want = (status_result(rule, seen, "nb"), status_result(rule, seen, "en"))
        got = (cells.get(f"B{row}"), cells.get(f"C{row}"))
        want_score = score(rule, seen) if isinstance(seen, int | float) else None
        got_score = cells.get(f"D{row}")
        if got != want or (got_score if got_score != "" else None) != want_score:
            wrong.append((row, rule.wanted, raw, got, want, got_score, want_score))
    assert wrong == []
    # The grid covers every outcome.
    shown = {cells.get(f"B{row}") for row, _, _ in rows}
    assert shown == {status_label(s) for s in (*Status,) if s is not Status.YELLOW} - {
        status_label(Status.NO_TARGET)
    }


def test_import_values_reads_the_words() -> None:
    """Earlier periods' answers imported from a CSV: Ja/Nei as 1/0, anything else an error."""
    from bms_excel.import_values import read_values_csv

    rows = [
        {"period": PERIOD, "unit": "A", "indicator": "K.1", "value": "Ja"},
        {"period": PERIOD, "unit": "B", "indicator": "K.1", "value": "nei"},
        {"period": PERIOD, "unit": "B", "indicator": "K.2", "value": "kanskje"},
    ]
    found = read_values_csv(rows, answers=frozenset({"K.1", "K.2"}))
    assert [(v.unit, v.indicator, v.value) for v in found.values] == [
        ("A", "K.1", 1.0),
        ("B", "K.1", 0.0),
    ]
    assert [(f.code, f.line) for f in found.findings] == [("not-a-number", 4)]
