"""Tests for bms_excel.definition: YAML → model with file:line problems, and quality checks."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import load_definition_text

from bms_excel import checks as c
from bms_excel import definition as d
from bms_excel.errors import DefinitionError, Finding
from bms_excel.i18n import LANGUAGES, catalogue, set_language

DEFS = Path(__file__).parent / "definitions"
OK = DEFS / "minimal_ok.yaml"
OK_TEXT = OK.read_text(encoding="utf-8")


def mutate(*pairs: tuple[str, str]) -> str:
    """The ok fixture with each ``old`` (which must occur exactly once) replaced by ``new``."""
    text = OK_TEXT
    for old, new in pairs:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        if not new and old.endswith("\n"):  # drop whole lines, indentation included
            text = re.sub(r"^[ \t]*" + re.escape(old), "", text, flags=re.M)
        else:
            text = text.replace(old, new)
    return text


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line + "\n"]
    assert len(hits) >= nth, f"{needle!r} found {len(hits)} times"
    return hits[nth - 1]


def check_text(text: str) -> list[Finding]:
    defn, source = d.load_definition_text_with_source(text, "def.yaml")
    return c.check_definition(defn, source)


def load_problems(text: str) -> list[Finding]:
    with pytest.raises(DefinitionError) as info:
        load_definition_text(text, "def.yaml")
    return info.value.problems


def triples(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.severity, f.line) for f in findings]


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    try:
        yield
    finally:
        set_language("nb")


# -- the ok fixture --------------------------------------------------------------------------


def test_minimal_ok_loads_and_has_no_findings() -> None:
    defn, source = d.load_definition_with_source(OK)
    assert c.check_definition(defn, source) == []
    assert source.file == str(OK)
    assert [a.code for a in defn.focus_areas] == ["T", "O"]
    assert defn.indicator("T1.2").target is not None
    assert defn.indicator("T1.2").target.low == 4.0


def test_plain_yaml_numbers_under_text_keys_stay_text() -> None:
    # `code: 2026` is an int to YAML, but a period code is text; `NO` would be false.
    text = mutate(("code: TFK", "code: NO"), ('kostra_region: "50"', "kostra_region: 50"))
    defn = load_definition_text(text)
    assert defn.periods[2].code == "2026"
    assert defn.county.code == "NO"
    assert defn.county.kostra_region == "50"


def test_merge_keys_are_supported() -> None:
    text = mutate(
        (
            "    contact: {name: Ola Nordmann, email: ola.nordmann@example.no}",
            "    contact: &c {name: Ola Nordmann, email: ola.nordmann@example.no}",
        ),
        (
            "    contact: {name: Per Hansen, email: per.hansen@example.no}",
            "    contact: {<<: *c, name: Per Hansen}",
        ),
    )
    contact = load_definition_text(text).unit("VEG").contact
    assert contact is not None
    assert (contact.name, contact.email) == ("Per Hansen", "ola.nordmann@example.no")


def test_source_map_lines() -> None:
    _, source = d.load_definition_with_source(OK)
    ind = ("focus_areas", 0, "goals", 0, "factors", 0, "indicators", 1)
    assert source.line(ind) == line_of(OK_TEXT, "- code: T1.2")
    assert source.line((*ind, "target")) == line_of(OK_TEXT, 'target: "4,0')
    # A path that was not written falls back to its nearest written ancestor.
    assert source.line((*ind, "thresholds", "green")) == line_of(OK_TEXT, "- code: T1.2")
    assert d.format_path((*ind, "target")) == (
        "focus_areas[0].goals[0].factors[0].indicators[1].target"
    )


# -- schema problems -------------------------------------------------------------------------

IND = "focus_areas[0].goals[0].factors[0].indicators[0]"


def test_three_mistakes_are_reported_at_once() -> None:
    path = DEFS / "three_mistakes.yaml"
    text = path.read_text(encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        d.load_definition(path)
    got = [(p.code, p.line, p.path, p.file) for p in info.value.problems]
    assert got == [
        ("invalid-value", line_of(text, "mistake 1"), f"{IND}.target", str(path)),
        ("unknown-field", line_of(text, "mistake 2"), f"{IND}.ownr", str(path)),
        ("missing-field", line_of(text, "- code: 2026-T1"), "periods[0].deadline", str(path)),
    ]
    problems = info.value.problems
    assert all(p.severity == "error" for p in problems)
    assert problems[1].extra == {"suggestion": "owner"}
    # The message names the object by kind and code, and keeps the model's Norwegian text.
    assert problems[0].message.startswith("indikator R1.1: target: ")
    assert "Value error" not in problems[0].message
    assert problems[2].message.startswith("periode 2026-T1: ")
    assert f"{path}:{line_of(text, 'mistake 1')}:" in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "code", "path", "needle"),
    [
        ("decimals: 1\n                valid_range: [0, 100]\n                direction: higher",
         "decimals: x\n                valid_range: [0, 100]\n                direction: higher",
         "not-a-number", f"{IND}.decimals", "decimals: x"),
        ("target: 85", "target: 85 prosent", "invalid-value", f"{IND}.target", "85 prosent"),
        ("valid_range: [1, 5]", "valid_range: [1]", "missing-field",
         IND.replace("indicators[0]", "indicators[1]") + ".valid_range[1]", "valid_range: [1]"),
        ('colour: "#2E75B6"', "colour: blå", "invalid-format", "focus_areas[0].colour", "blå"),
        ("direction: lower", "direction: down", "invalid-value",
         "focus_areas[1].goals[0].factors[0].indicators[1].direction", "direction: down"),
        ("email: per.hansen@example.no", "email: per.hansen", "invalid-format",
         "units[2].contact.email", "email: per.hansen}"),
        ("code: 2026-T2", "code: 2026-T4", "invalid-format", "periods[1].code", "2026-T4"),
        ("end: 2026-04-30", "end: 2026-04-31", "invalid-value", "periods[0].end", "2026-04-31"),
        ("attributes: {elever: 600}", "attributes: {elever: mange}", "not-a-number",
         "units[1].attributes.elever", "mange"),
        ("  - code: BVS", "  - code: B VS", "invalid-format", "units[1].code", "B VS"),
        ("tolerance: 2", "tolerance: -2", "invalid-value",
         "focus_areas[1].goals[0].factors[0].indicators[0].tolerance", "tolerance: -2"),
        ("scope: all", "scope: everyone", "invalid-value",
         "focus_areas[1].goals[0].factors[0].indicators[1].scope", "scope: everyone"),
        ("    kind: annual", "    kind: yearly", "invalid-value", "periods[2].kind", "yearly"),
        ("  - from: O1\n    to: T1\n", "  - from: O1\n", "missing-field", "links[0].to",
         "- from: O1"),
    ],
)  # fmt: skip
def test_schema_problem_codes_and_lines(
    old: str, new: str, code: str, path: str, needle: str
) -> None:
    text = mutate((old, new))
    problems = load_problems(text)
    assert [(p.code, p.path, p.line) for p in problems] == [(code, path, line_of(text, needle))]


def test_unknown_field_suggests_the_closest_field() -> None:
    text = mutate(("    name: Fylkesvegavdelingen", "    nmae: Fylkesvegavdelingen"))
    (problem,) = [p for p in load_problems(text) if p.code == "unknown-field"]
    assert problem.path == "units[2].nmae"
    assert problem.line == line_of(text, "nmae:")
    assert problem.extra == {"suggestion": "name"}
    assert problem.message.startswith("enhet VEG: ")
    # "name" is then missing as well; both are reported.
    assert {p.code for p in load_problems(text)} == {"unknown-field", "missing-field"}


def test_unknown_field_without_close_match_has_no_suggestion() -> None:
    text = mutate(("  language: nb", "  language: nb\n  zzzzqq: 1"))
    (problem,) = load_problems(text)
    assert (problem.code, problem.path, problem.extra) == ("unknown-field", "settings.zzzzqq", {})


def test_link_fields_use_their_yaml_names() -> None:
    text = mutate(("    to: T1", "    too: T1"))
    problems = load_problems(text)
    assert [(p.code, p.path) for p in problems] == [
        ("missing-field", "links[0].to"),
        ("unknown-field", "links[0].too"),
    ]
    assert problems[1].extra == {"suggestion": "to"}


def test_duplicate_key_points_at_the_second_key() -> None:
    text = mutate(("owner: Rektor", "owner: Rektor\n                owner: Inspektør"))
    (problem,) = load_problems(text)
    assert problem.code == "duplicate-key"
    assert problem.line == line_of(text, "owner: Inspektør")
    assert problem.path == IND.replace("indicators[0]", "indicators[1]") + ".owner"
    assert str(line_of(text, "owner: Rektor")) in problem.message


def test_yaml_syntax_error_has_its_line() -> None:
    text = mutate(("    name: Samferdsel", "    name: [Samferdsel"))
    (problem,) = load_problems(text)
    assert problem.code == "yaml-syntax"
    # PyYAML notices the unclosed bracket on the next line.
    assert problem.line == line_of(text, "name: [Samferdsel") + 1


def test_tab_indentation_is_a_syntax_error() -> None:
    text = mutate(("    name: Opplæring", "\tname: Opplæring"))
    (problem,) = load_problems(text)
    assert (problem.code, problem.line) == ("yaml-syntax", line_of(text, "\tname: Opplæring"))


@pytest.mark.parametrize(("text", "code"), [("", "missing-field"), ("- 1\n", "invalid-value")])
def test_empty_or_non_mapping_file(text: str, code: str) -> None:
    (problem,) = load_problems(text)
    assert problem.code == code


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as info:
        d.load_definition(tmp_path / "nope.yaml")
    assert [(p.code, p.file) for p in info.value.problems] == [
        ("file-unreadable", str(tmp_path / "nope.yaml"))
    ]


def test_file_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        OK_TEXT.encode("utf-8").replace("Opplæring".encode(), "Opplæring".encode("latin-1"))
    )
    with pytest.raises(DefinitionError) as info:
        d.load_definition(path)
    assert [(p.code, p.line) for p in info.value.problems] == [
        ("file-unreadable", line_of(OK_TEXT, "name: Opplæring"))
    ]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + OK.read_bytes())
    assert d.load_definition(path).county.code == "TFK"


def test_check_definition_file_returns_load_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(mutate(("target: 85", "target: x")), encoding="utf-8")
    assert [f.code for f in c.check_definition_file(path)] == ["invalid-value"]
    assert c.check_definition_file(OK) == []


# -- quality checks --------------------------------------------------------------------------

T12 = "Rektor\n                scope: {sectors: [OPP]}"
O11_END = "aggregation: none\n"
LINKS = "links:\n"

# (id, replacements, expected [(code, severity, needle or (needle, nth))], unless path check)
CASES: list[tuple[str, list[tuple[str, str]], list[tuple[str, str, str | tuple[str, int]]]]] = [
    ("duplicate-indicator", [("- code: T1.2", "- code: T1.1")],
     [("duplicate-code", "error", ("code: T1.1", 2))]),
    ("duplicate-across-kinds", [("code: T-M1", "code: T1")],
     [("duplicate-code", "error", ("code: T1", 2))]),
    ("duplicate-unit", [("code: BVS", "code: HVS")],
     [("duplicate-code", "error", ("code: HVS", 2))]),
    ("duplicate-period", [("code: 2026-T2", "code: 2026-T1")],
     [("duplicate-code", "error", ("code: 2026-T1", 2))]),
    ("indicator-not-nested", [("code: O1.2", "code: O2.2")],
     [("code-not-nested", "error", "code: O2.2")]),
    ("indicator-without-dot", [("code: T1.1", "code: T11")],
     [("code-not-nested", "error", "code: T11")]),
    ("factor-not-nested", [("  - code: O\n", "  - code: Q\n")],
     [("code-not-nested", "error", "code: O1\n")]),
    ("unit-sector", [("    sector: SAM", "    sector: SAMF")],
     [("unknown-reference", "error", "sector: SAMF"), ("empty-sector", "warning", "code: SAM")]),
    ("scope-sector", [(T12, T12.replace("[OPP]", "[OPP, KUL]"))],
     [("unknown-reference", "error", "[OPP, KUL]")]),
    ("scope-unit", [("scope: all", "scope: {units: [VEG, XYZ]}")],
     [("unknown-reference", "error", "XYZ")]),
    ("override-unit", [("- unit: VEG", "- unit: VEGX")],
     [("unknown-reference", "error", "unit: VEGX")]),
    ("override-period", [("- unit: VEG", "- period: 2027-T1")],
     [("unknown-reference", "error", "period: 2027-T1")]),
    ("link-end", [("to: T1", "to: T9")], [("unknown-reference", "error", "to: T9")]),
    ("weight-attribute", [("{elever: 600}", "{pupils: 600}")],
     [("missing-weight-attribute", "error", "weight_by: elever")]),
    ("link-cycle", [(LINKS, LINKS + "  - {from: T-M1, to: O-M1}\n  - {from: T1, to: O1}\n")],
     [("link-cycle", "error", "{from: T1, to: O1}")]),
    ("link-self-loop", [(LINKS, LINKS + "  - {from: T-M1, to: T-M1}\n")],
     [("link-cycle", "error", "from: T-M1")]),
    ("higher-thresholds", [("{green: 85, yellow: 80}", "{green: 80, yellow: 85}")],
     [("threshold-direction", "error", "{green: 80, yellow: 85}")]),
    ("lower-override-thresholds", [("{green: 7, yellow: 9}", "{green: 9, yellow: 7}")],
     [("threshold-direction", "error", "{green: 9, yellow: 7}")]),
    ("range-with-thresholds", [("tolerance: 2\n", "thresholds: {green: 1, yellow: 2}\n")],
     [("threshold-direction", "error", "thresholds: {green: 1, yellow: 2}")]),
    ("range-without-target", [("target: {low: -1, high: 1}\n", "")],
     [("threshold-direction", "error", "direction: range"),
      ("missing-target", "warning", "- code: O1.1")]),
    ("range-with-threshold-rule", [("tolerance: 2\n", "status_rule: thresholds\n")],
     [("threshold-direction", "error", "status_rule: thresholds")]),
    ("band-rule-without-target", [('target: "4,0 – 4,5"\n', "status_rule: band\n")],
     [("status-rule-incomplete", "error", "status_rule: band"),
      ("missing-target", "warning", "- code: T1.2")]),
    ("threshold-rule-without-thresholds", [("target: 6\n", "target: 6\n                status_rule: thresholds\n"),
                                           ("thresholds: {green: 6, yellow: 8}\n", "")],
     [("status-rule-incomplete", "error", "status_rule: thresholds")]),
    ("percent-rule-with-band", [('target: "4,0 – 4,5"', 'target: "4,0 – 4,5"\n                status_rule: percent_of_target')],
     [("status-rule-incomplete", "error", "status_rule: percent")]),
    ("target-out-of-range", [("target: 85", "target: 185")],
     [("target-out-of-range", "error", "target: 185")]),
    ("band-out-of-range", [('"4,0 – 4,5"', '"4,0 – 5,5"')],
     [("target-out-of-range", "error", "5,5")]),
    ("override-out-of-range", [("target: 7\n", "target: 107\n")],
     [("target-out-of-range", "error", "target: 107")]),
    ("threshold-out-of-range", [("{green: 6, yellow: 8}", "{green: 6, yellow: 108}")],
     [("target-out-of-range", "error", "yellow: 108")]),
    ("missing-owner", [("owner: HR-sjef\n", "")], [("missing-owner", "error", "- code: O1.2")]),
    ("missing-target", [('target: "4,0 – 4,5"\n', "")],
     [("missing-target", "warning", "- code: T1.2")]),
    ("missing-email", [("{name: Per Hansen, email: per.hansen@example.no}", "{name: Per Hansen}")],
     [("missing-contact", "warning", "contact: {name: Per Hansen}")]),
    ("missing-contact", [("    contact: {name: Ola Nordmann, email: ola.nordmann@example.no}\n", "")],
     [("missing-contact", "warning", "- code: BVS")]),
    ("focus-area-unused", [(LINKS, "  - code: K\n    name: Kultur\n" + LINKS)],
     [("focus-area-unused", "warning", "- code: K")]),
    ("focus-areas-unbalanced", [("max_focus_area_share: 0.5", "max_focus_area_share: 0.4")],
     [("focus-areas-unbalanced", "warning", "- code: T\n"),
      ("focus-areas-unbalanced", "warning", "- code: O\n")]),
    ("too-many-indicators", [("max_indicators_per_unit: 15", "max_indicators_per_unit: 3")],
     [("too-many-indicators", "warning", "- code: HVS"),
      ("too-many-indicators", "warning", "- code: BVS")]),
    ("only-activity", [("min_outcome_share: 0.25", "min_outcome_share: 0.75")],
     [("only-activity", "warning", "min_outcome_share: 0.75")]),
    ("missing-result-level", [("result_level: 3\n", "")],
     [("missing-result-level", "info", "- code: T1.1")]),
    ("deadline", [("deadline: 2026-05-15", "deadline: 2026-04-15")],
     [("deadline-before-period-end", "error", "deadline: 2026-04-15")]),
    ("periods-unordered", [("end: 2026-08-31", "end: 2026-03-31")],
     [("periods-unordered", "warning", "end: 2026-03-31")]),
    ("unit-without-indicators",
     [(O11_END, O11_END + "                scope: {sectors: [OPP]}\n"),
      ("scope: all", "scope: {sectors: [OPP]}")],
     [("unit-without-indicators", "warning", "- code: VEG")]),
    ("empty-sector", [("units:\n", "  - {code: KUL, name: Kultur}\nunits:\n")],
     [("empty-sector", "warning", "code: KUL")]),
    ("kostra-units", [(O11_END, O11_END + "                source: kostra\n"
                       "                kostra: {table: '12362', contents: KOSTRA}\n")],
     [("kostra-incomplete", "warning", "kostra: {table")]),
    ("kostra-county", [('  kostra_region: "50"\n', ""),
                       ("scope: all", "scope: county\n                source: kostra\n"
                        "                kostra: {table: '12362', contents: KOSTRA}")],
     [("kostra-incomplete", "warning", "kostra: {table")]),
    ("kostra-unknown-unit", [(O11_END, O11_END + "                source: kostra\n"
                              "                kostra: {table: '1', contents: K, unit_regions: "
                              "{HVS: '5001', BVS: '5001', VEG: '5001', XX: '1'}}\n")],
     [("unknown-reference", "error", "kostra: {table")]),
    ("county-target-missing",
     [('                county_target: "85 %"\n                county_thresholds: {yellow: 80, green: 85}\n', "")],
     [("county-target-missing", "warning", "aggregation: weighted_mean")]),
    ("county-thresholds-direction",
     [("county_thresholds: {yellow: 80, green: 85}", "county_thresholds: {yellow: 85, green: 80}")],
     [("threshold-direction", "error", "county_thresholds: {yellow: 85")]),
    ("target-year-outside-plan",
     [("  min_outcome_share: 0.25\n", "  min_outcome_share: 0.25\n  budget_year: 2026\n"),
      ("                target: 6\n", "                target: 6\n                targets:\n"
       "                  2026: 6\n                  2030: 5\n")],
     [("target-year-outside-plan", "warning", "2030: 5")]),
    ("count-with-decimals", [("unit_of_measure: skår 1–5", "unit_of_measure: antall")],
     [("count-with-decimals", "error", ("decimals: 1", 2))]),
    ("scope-except", [("scope: all", "scope: {all: true, except: [VEG, XYZ]}")],
     [("unknown-reference", "error", "except: [VEG, XYZ]")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("replacements", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_check_triggers_with_code_severity_and_line(
    replacements: list[tuple[str, str]],
    expected: list[tuple[str, str, str | tuple[str, int]]],
) -> None:
    text = mutate(*replacements)
    want = []
    for code, severity, needle in expected:
        line = line_of(text, *needle) if isinstance(needle, tuple) else line_of(text, needle)
        want.append((code, severity, line))
    # Findings come in file order (by line), whatever check produced them.
    assert triples(check_text(text)) == sorted(want, key=lambda w: w[2])


def test_every_check_code_has_a_triggering_case() -> None:
    triggered = {code for _, _, exp in CASES for code, _, _ in exp}
    assert triggered == set(c.CHECK_SEVERITY)


def test_severities_match_the_table() -> None:
    for _, _, expected in CASES:
        for code, severity, _ in expected:
            assert c.CHECK_SEVERITY[code] == severity


def test_kostra_complete_is_clean() -> None:
    text = mutate(
        (O11_END, O11_END + "                source: kostra\n                kostra: {table: '1', "
         "contents: K, unit_regions: {HVS: '5001', BVS: '5001', VEG: '5001'}}\n"),
    )  # fmt: skip
    assert check_text(text) == []


def test_finding_paths_and_extras() -> None:
    text = mutate((LINKS, LINKS + "  - {from: T1, to: O1}\n"))
    (cycle,) = check_text(text)
    assert cycle.path == "links[0]"
    assert cycle.extra == {"cycle": ["T1", "O1", "T1"]}

    text = mutate(("max_indicators_per_unit: 15", "max_indicators_per_unit: 3"))
    assert [(f.path, f.extra) for f in check_text(text)] == [
        ("units[0]", {"count": 4}),
        ("units[1]", {"count": 4}),
    ]

    (activity,) = check_text(mutate(("min_outcome_share: 0.25", "min_outcome_share: 0.75")))
    assert activity.extra["levels"] == {0: 0, 1: 2, 2: 1, 3: 1, 4: 0}
    assert activity.path == "settings.min_outcome_share"

    (ref,) = check_text(mutate(("- unit: VEG", "- unit: VEGX")))
    assert ref.path == "focus_areas[1].goals[0].factors[0].indicators[1].overrides[0].unit"

    (weight,) = check_text(mutate(("{elever: 600}", "{pupils: 600}")))
    assert weight.extra == {"units": ["BVS"]}


def test_override_findings_name_the_override() -> None:
    (finding,) = check_text(mutate(("{green: 7, yellow: 9}", "{green: 9, yellow: 7}")))
    assert (
        finding.path == "focus_areas[1].goals[0].factors[0].indicators[1].overrides[0].thresholds"
    )
    assert finding.message.startswith("indikator O1.2, avvikende mål nr. 1: ")


def test_single_focus_area_is_not_unbalanced() -> None:
    defn = d.load_definition(OK)
    only_t = defn.model_copy(update={"focus_areas": defn.focus_areas[:1]})
    assert "focus-areas-unbalanced" not in {f.code for f in c.check_definition(only_t)}


def test_without_source_map_lines_are_none() -> None:
    defn = load_definition_text(mutate(("owner: HR-sjef\n", "")))
    (finding,) = c.check_definition(defn)
    assert (finding.code, finding.file, finding.line) == ("missing-owner", None, None)
    assert finding.path == "focus_areas[1].goals[0].factors[0].indicators[1]"


def test_a_missing_owner_is_an_error_a_missing_result_level_info() -> None:
    findings = check_text(mutate(("result_level: 3\n", ""), ("owner: HR-sjef\n", "")))
    assert sorted((f.severity, f.code) for f in findings) == [
        ("error", "missing-owner"),
        ("info", "missing-result-level"),
    ]


# -- languages and catalogue -----------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_messages_follow_the_language() -> None:
    text = mutate(("owner: HR-sjef\n", ""))
    english = check_text(text)[0].message
    set_language("nn")
    nynorsk = check_text(text)[0].message
    set_language("nb")
    bokmal = check_text(text)[0].message
    assert len({english, nynorsk, bokmal}) == 3
    assert english.startswith("indicator O1.2: ")
    set_language("en")
    (problem,) = load_problems(mutate(("target: 85", "target: x")))
    assert problem.message.startswith("indicator T1.1: ")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogue_entries_have_every_language_and_the_same_placeholders() -> None:
    own = yaml.safe_load((Path(d.__file__).parent / "i18n" / "definition.yaml").read_text("utf-8"))
    assert own
    for key, texts in own.items():
        assert key.startswith(("definition.", "check.")), key
        assert set(texts) == set(LANGUAGES), key
        assert len({frozenset(_placeholders(v)) for v in texts.values()}) == 1, key


def test_every_message_key_used_in_the_code_exists() -> None:
    source = Path(d.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"((?:definition|check)\.[a-z0-9.-]+)"', source)) - {"definition.yaml"}
    assert used
    assert used <= set(catalogue())
    for code in c.CHECK_SEVERITY:
        assert any(k == f"check.{code}" or k.startswith(f"check.{code}.") for k in catalogue())


def test_dynamic_message_keys_exist() -> None:
    keys = set(catalogue())
    dynamic = {f"definition.kind.{k}" for k in d._KINDS.values()}
    dynamic |= {f"definition.format-{k}" for k in [*d._FORMAT_KEYS.values(), "period", "other"]}
    dynamic |= {f"definition.{k}" for k in d._SIMPLE_ERRORS.values()}
    dynamic |= {f"definition.{k}" for k, _ in d._LIMIT_ERRORS.values()}
    dynamic |= {f"check.result-level.{n}" for n in range(5)}
    dynamic |= {f"check.field.{k}" for k in ("target", "green", "yellow")}
    assert dynamic <= keys


# -- every problem in one run (issue 12, item 7) ---------------------------------------------


def _codes_and_lines(path: Path) -> list[tuple[str, int | None]]:
    return [(f.code, f.line) for f in c.check_definition_file(path)]


def test_a_misspelt_field_hides_no_other_mistake(tmp_path: Path) -> None:
    text = mutate(
        ("owner: Rektor\n", "ownr: Rektor\n"),  # unknown-field (schema)
        ("{green: 85, yellow: 80}", "{green: 80, yellow: 85}"),  # threshold-direction
        ("- code: O1.2", "- code: O1.1"),  # duplicate-code
        ("deadline: 2026-05-15", "deadline: 2026-04-15"),  # deadline-before-period-end
    )
    path = tmp_path / "def.yaml"
    path.write_text(text, encoding="utf-8")
    assert _codes_and_lines(path) == [
        ("threshold-direction", line_of(text, "{green: 80, yellow: 85}")),
        ("unknown-field", line_of(text, "ownr: Rektor")),
        ("duplicate-code", line_of(text, "- code: O1.1", 2)),
        ("deadline-before-period-end", line_of(text, "deadline: 2026-04-15")),
    ]  # and no missing-owner: the misspelt field already says so


def test_wrong_values_are_set_aside_and_the_rest_is_checked(tmp_path: Path) -> None:
    text = mutate(
        (
            "decimals: 1\n                valid_range: [0, 100]\n                direction: higher\n"
            "                target: 85",
            "decimals: mange\n                valid_range: [0, 100]\n"
            "                direction: higher\n                target: 85",
        ),
        ("label: 1. tertial 2026\n", ""),  # a required field: the period is set aside
        ("deadline: 2027-01-31", "deadline: 2026-12-01"),
        ("owner: HR-sjef\n", ""),  # missing-owner (a quality check)
    )
    path = tmp_path / "def.yaml"
    path.write_text(text, encoding="utf-8")
    assert _codes_and_lines(path) == [
        ("not-a-number", line_of(text, "decimals: mange")),
        ("missing-owner", line_of(text, "- code: O1.2")),
        ("missing-field", line_of(text, "- code: 2026-T1")),
        # Located right although the period above it was set aside (list positions shift).
        ("deadline-before-period-end", line_of(text, "deadline: 2026-12-01")),
    ]


def test_a_check_error_means_the_status_rule_cannot_be_built() -> None:
    """The checks know what ``status.resolve_rule`` needs: whenever it fails for a unit and
    period, ``bms check`` reports an error for that indicator (so generate stops first)."""
    from bms_excel.status import resolve_rule

    for name, replacements, _ in CASES:
        defn, source = d.load_definition_text_with_source(mutate(*replacements), "def.yaml")
        paths = {d.format_path(path): ind.code for *_, ind, path in c._indicator_entries(defn)}
        flagged = {
            code
            for f in c.check_definition(defn, source)
            if f.code in ("threshold-direction", "status-rule-incomplete")
            for where, code in paths.items()
            if f.path == where or str(f.path).startswith(where + ".")
        }
        for *_, ind in defn.iter_indicators():
            for unit in [None, *defn.units]:
                for period in [None, *(p.code for p in defn.periods)]:
                    try:
                        resolve_rule(ind, defn.settings, unit, period)
                    except ValueError:
                        assert ind.code in flagged, (name, ind.code)
