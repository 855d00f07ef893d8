"""KOSTRA import: SSB's JSON-stat and statbank CSV read cell by cell, findings instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_excel.i18n import LANGUAGES
from bms_excel.kostra import (
    KostraFigure,
    ParseResult,
    parse_bytes,
    parse_jsonstat,
    parse_statbank_csv,
    split_region,
    status_label,
    year_of,
)
from bms_excel.kostra_import import match_figures, read_kostra_files
from bms_excel.model import Definition

FIXTURES = Path(__file__).parent / "fixtures" / "kostra"
JSON_SAMPLE = FIXTURES / "ssb_05300_kulturtilbud_avstand.raw.json"
CSV_SAMPLE = FIXTURES / "ssb_kostra_fylkeskonsern_tabell311781_excerpt.csv"


def parse_file(path: Path) -> ParseResult:
    """One SSB file parsed by its content, as the import reads it."""
    return parse_bytes(path.read_bytes(), source_name=str(path))


def codes(result: ParseResult) -> list[str]:
    return [f.code for f in result.findings]


def cell(result: ParseResult, **where: Any) -> KostraFigure:
    """The one figure whose fields equal ``where`` (``other`` given as a dict)."""
    other = where.pop("other", None)
    hits = [
        f
        for f in result.figures
        if all(getattr(f, k) == v for k, v in where.items())
        and (other is None or dict(f.other) == other)
    ]
    assert len(hits) == 1, (where, other, len(hits))
    return hits[0]


# -- the real JSON-stat sample (SSB table 05300) ----------------------------------------------


@pytest.fixture(scope="module")
def jsonstat() -> ParseResult:
    return parse_file(JSON_SAMPLE)


def test_jsonstat_sample_shape(jsonstat: ParseResult) -> None:
    assert len(jsonstat.figures) == 432
    assert jsonstat.table == "05300"
    assert jsonstat.title is not None and jsonstat.title.startswith("05300: Avstand")
    assert jsonstat.updated == "2022-05-24T06:00:00Z"
    # 05300 is a national survey table: no region dimension, which is said, not hidden.
    assert codes(jsonstat) == ["kostra-no-region"]
    assert {f.table for f in jsonstat.figures} == {"05300"}
    assert {f.region for f in jsonstat.figures} == {""}


# (Avstand1, Kulturtilbud, year) -> value, status, symbol; flat index in the comment.
JSON_CELLS = [
    ("01", "01", 1991, 16.0, "ok", None),  # 0
    ("01", "01", 2021, 12.0, "ok", None),  # 8
    ("01", "02", 1991, 7.0, "ok", None),  # 9
    ("01", "08", 2021, None, "not-applicable", "."),  # 71
    ("02", "01", 1991, 39.0, "ok", None),  # 72
    ("03", "08", 2021, None, "not-applicable", "."),  # 215
    ("06", "01", 1991, None, "not-available", ".."),  # 360
    ("06", "05", 2004, 5.0, "ok", None),  # 400
    ("06", "06", 1994, 0.0, "ok", None),  # 406: a real zero
    ("06", "08", 2016, 2.0, "ok", None),  # 430
    ("06", "08", 2021, None, "not-applicable", "."),  # 431
]


@pytest.mark.parametrize(("avstand", "tilbud", "year", "value", "status", "symbol"), JSON_CELLS)
def test_jsonstat_sample_cells(
    jsonstat: ParseResult,
    avstand: str,
    tilbud: str,
    year: int,
    value: float | None,
    status: str,
    symbol: str | None,
) -> None:
    fig = cell(jsonstat, year=year, other={"Avstand1": avstand, "Kulturtilbud": tilbud})
    assert (fig.value, fig.status, fig.status_symbol) == (value, status, symbol)
    assert (fig.contents, fig.unit, fig.decimals, fig.period) == (
        "Avstand",
        "prosent",
        0,
        str(year),
    )
    assert fig.contents_label == "Avstand til nærmeste lokale/sted"


def test_jsonstat_statuses_are_not_zero_and_not_each_other(jsonstat: ParseResult) -> None:
    by_status: dict[str, list[KostraFigure]] = {}
    for f in jsonstat.figures:
        by_status.setdefault(f.status, []).append(f)
    assert {k: len(v) for k, v in by_status.items()} == {
        "ok": 404,
        "not-applicable": 20,
        "not-available": 8,
    }
    assert {f.status_symbol for f in by_status["not-applicable"]} == {"."}
    assert {f.status_symbol for f in by_status["not-available"]} == {".."}
    for f in by_status["not-applicable"] + by_status["not-available"]:
        assert f.value is None and f.value != 0
    zero = cell(jsonstat, year=1994, other={"Avstand1": "06", "Kulturtilbud": "06"})
    dot = cell(jsonstat, year=2021, other={"Avstand1": "06", "Kulturtilbud": "08"})
    dotdot = cell(jsonstat, year=1991, other={"Avstand1": "06", "Kulturtilbud": "01"})
    assert zero.value == 0.0 and zero.status == "ok"
    assert len({zero.status, dot.status, dotdot.status}) == 3
    assert len({zero.value, dot.value}) == 2


def test_status_labels_exist_in_every_language() -> None:
    for status in ("ok", "not-applicable", "not-available", "confidential", "unknown"):
        labels = {status_label(status, lang) for lang in LANGUAGES}
        assert all(labels)
    assert status_label("not-available", "nb") != status_label("not-applicable", "nb")


# -- the real statbank CSV sample (KOSTRA fylkeskonsern, 2013–2016) ---------------------------


@pytest.fixture(scope="module")
def statbank() -> ParseResult:
    return parse_statbank_csv(
        CSV_SAMPLE.read_bytes(), source_name=CSV_SAMPLE.name, table="311781", region="EAFKA"
    )


CSV_CELLS = [
    ("Brutto driftsutgifter, administrasjon og styring", 2013, 3233.0),
    ("Brutto driftsutgifter, adm. og styring, prosent av totale brutto driftsutg", 2016, 4.6),
    ("Lønn, administrasjon og styring, i % av totale lønnsutgifter", 2014, 7.7),
    ("Elever per lærerårsverk, fylkeskommunale skoler", 2015, 8.5),
    ("Barn og ungdom 3-18 år undersøkt/behandlet i tannhelsetjenesten", 2014, 647849.0),
    ("Netto driftsutgifter, samferdsel, i prosent av totale netto driftsutgifter", 2013, 31.7),
    ("Brutto investeringsutgifter, samferdsel", 2016, 8800.0),
    ("Årsverk tannhelsetjenesten totalt, offentlig avtalt", 2016, 3367.0),
]


@pytest.mark.parametrize(("contents", "year", "value"), CSV_CELLS)
def test_statbank_sample_cells(
    statbank: ParseResult, contents: str, year: int, value: float
) -> None:
    fig = cell(statbank, contents=contents, year=year)
    assert (fig.value, fig.status, fig.status_symbol) == (value, "ok", None)
    assert (fig.table, fig.region, fig.period) == ("311781", "EAFKA", str(year))


def test_statbank_sample_shape(statbank: ParseResult) -> None:
    # 29 lines: title, year header, 4 section rows, 23 data rows × 4 years.
    assert len(statbank.figures) == 92
    assert statbank.findings == []
    assert statbank.title == "Fylkeskonsern."
    assert {f.year for f in statbank.figures} == {2013, 2014, 2015, 2016}
    sections = {"Administrasjon og styring", "Videregående opplæring", "Samferdsel"}
    assert not sections & {f.contents for f in statbank.figures}


def test_statbank_sample_without_table_and_region_says_so() -> None:
    result = parse_file(CSV_SAMPLE)
    assert codes(result) == ["kostra-no-table", "kostra-no-region"]
    assert len(result.figures) == 92
    assert {(f.table, f.region) for f in result.figures} == {("", "")}


# -- statbank CSV variants --------------------------------------------------------------------

WIDE_WITH_REGIONS = (
    '"12362: Utvalgte nøkkeltall, fylkeskommuner (K)"\n'
    '"region";"statistikkvariabel";"2016";"2017";"2018"\n'
    '"1902 Tromsø (-2019)";"KOSnetto0000 Netto driftsutgifter per innbygger";"1234,5";"..";"1 300,0"\n'
    '"1504 Ålesund (-2019)";"KOSnetto0000 Netto driftsutgifter per innbygger";".";":";"-"\n'
    '"1601 Trondheim (-2017)";"KOSnetto0000 Netto driftsutgifter per innbygger";"0";"";"7"\n'
    '"Kilde: Statistisk sentralbyrå"\n'
)


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8", "utf-8-sig"])
def test_statbank_wide_with_regions_any_encoding(encoding: str) -> None:
    result = parse_statbank_csv(WIDE_WITH_REGIONS.encode(encoding), source_name="k.csv")
    assert result.findings == []
    assert result.table == "12362"
    got = [
        (f.region, f.region_name, f.superseded_until, f.year, f.value, f.status, f.status_symbol)
        for f in result.figures
    ]
    assert got == [
        ("1902", "Tromsø", 2019, 2016, 1234.5, "ok", None),
        ("1902", "Tromsø", 2019, 2017, None, "not-available", ".."),
        ("1902", "Tromsø", 2019, 2018, 1300.0, "ok", None),
        ("1504", "Ålesund", 2019, 2016, None, "not-applicable", "."),
        ("1504", "Ålesund", 2019, 2017, None, "confidential", ":"),
        ("1504", "Ålesund", 2019, 2018, 0.0, "ok", "-"),
        ("1601", "Trondheim", 2017, 2016, 0.0, "ok", None),
        ("1601", "Trondheim", 2017, 2017, None, "not-available", None),
        ("1601", "Trondheim", 2017, 2018, 7.0, "ok", None),
    ]
    assert {(f.contents, f.contents_label) for f in result.figures} == {
        ("KOSnetto0000", "Netto driftsutgifter per innbygger")
    }


def test_statbank_long_layout() -> None:
    text = (
        "12362: Nøkkeltall\n"
        "region;statistikkvariabel;år;12362: Nøkkeltall\n"
        "5001 Trondheim;KOSnetto0000 Netto driftsutgifter;2023;150,5\n"
        "5001 Trondheim;KOSnetto0000 Netto driftsutgifter;2024;..\n"
        "EKA50 Trøndelag;KOSnetto0000 Netto driftsutgifter;2024;160\n"
    )
    result = parse_statbank_csv(text.encode("utf-8"), source_name="long.csv")
    assert result.findings == []
    got = [
        (f.table, f.region, f.region_name, f.contents, f.year, f.value, f.status)
        for f in result.figures
    ]
    assert got == [
        ("12362", "5001", "Trondheim", "KOSnetto0000", 2023, 150.5, "ok"),
        ("12362", "5001", "Trondheim", "KOSnetto0000", 2024, None, "not-available"),
        ("12362", "EKA50", "Trøndelag", "KOSnetto0000", 2024, 160.0, "ok"),
    ]


def test_comma_separated_csv_is_wrong_separator() -> None:
    text = CSV_SAMPLE.read_text(encoding="utf-8").replace(";", ",")
    result = parse_statbank_csv(text.encode("utf-8"), source_name="comma.csv")
    assert codes(result) == ["kostra-wrong-separator"]
    assert result.findings[0].severity == "error"
    assert result.figures == []
    long_text = '"region","statistikkvariabel","år","value"\n"5001 Trondheim","X",2024,12.5\n'
    assert codes(parse_bytes(long_text.encode(), source_name="c.csv")) == ["kostra-wrong-separator"]


def test_bad_number_and_unknown_symbol_give_findings_with_row_and_column() -> None:
    text = ";2023;2024\nNetto driftsutgifter;12,5;abc\nBrutto driftsutgifter;*;3\n"
    result = parse_statbank_csv(text.encode(), source_name="bad.csv", table="1", region="50")
    assert codes(result) == ["kostra-bad-number", "kostra-unknown-status"]
    bad = result.findings[0]
    assert (bad.line, bad.extra["row"], bad.extra["column"]) == (2, 2, 3)
    got = [(f.contents, f.year, f.value, f.status, f.status_symbol) for f in result.figures]
    assert got == [
        ("Netto driftsutgifter", 2023, 12.5, "ok", None),
        ("Brutto driftsutgifter", 2023, None, "unknown", "*"),
        ("Brutto driftsutgifter", 2024, 3.0, "ok", None),
    ]


def test_not_a_table_and_empty_files() -> None:
    assert codes(parse_bytes(b"just some words\nno years\n", source_name="x.csv")) == [
        "kostra-no-header"
    ]
    assert codes(parse_bytes(b"\xef\xbb\xbf  \n", source_name="e.csv")) == ["kostra-empty"]
    *_, findings = read_kostra_files([FIXTURES / "no-such-file.json"])
    assert [f.code for f in findings] == ["kostra-unreadable"]


# -- broken JSON-stat -------------------------------------------------------------------------


def test_truncated_json_is_malformed_with_position() -> None:
    data = JSON_SAMPLE.read_bytes()[:1500]
    result = parse_bytes(data, source_name="cut.json")
    assert codes(result) == ["kostra-malformed"]
    finding = result.findings[0]
    # The position is in characters: the cut is at the end of the decoded text.
    end = len(data.decode("utf-8"))
    assert (finding.severity, finding.line, finding.extra["position"]) == ("error", 1, end)
    assert f"kolonne {end + 1}" in finding.message
    assert result.figures == []


def test_json_cut_inside_a_character_is_still_truncation() -> None:
    data = JSON_SAMPLE.read_bytes()
    cut = data.index("æ".encode()) + 1
    result = parse_jsonstat(data[:cut], source_name="cut.json")
    assert codes(result) == ["kostra-malformed"]
    # json points at the string left open by the cut: the label's opening quote.
    assert result.findings[0].extra["position"] == data.index(b'"05300')


def test_json_with_invalid_bytes_is_malformed() -> None:
    data = JSON_SAMPLE.read_bytes().replace("æ".encode(), b"\xe6", 1)
    result = parse_jsonstat(data, source_name="latin.json")
    assert codes(result) == ["kostra-malformed"]


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"foo": 1}, "class"),
        ([1, 2, 3], "class"),
        ({"class": "collection", "link": {}}, "class"),
        ({"class": "dataset", "id": ["A"], "size": [1], "value": [1]}, "dimension"),
        ({"class": "dataset", "dimension": {}, "size": [1], "value": [1]}, "id"),
    ],
)
def test_json_that_is_not_jsonstat(doc: Any, key: str) -> None:
    result = parse_jsonstat(json.dumps(doc), source_name="x.json")
    assert codes(result) == ["kostra-not-jsonstat"]
    assert f"«{key}»" in result.findings[0].message


def _sample() -> dict[str, Any]:
    return json.loads(JSON_SAMPLE.read_text(encoding="utf-8"))


def test_value_count_mismatch() -> None:
    doc = _sample()
    doc["value"] = doc["value"][:-1]
    result = parse_jsonstat(json.dumps(doc), source_name="short.json")
    assert codes(result) == ["kostra-size-mismatch"]
    assert result.figures == []


def test_category_count_mismatch() -> None:
    doc = _sample()
    doc["size"][3] = 10
    result = parse_jsonstat(json.dumps(doc), source_name="size.json")
    assert codes(result) == ["kostra-size-mismatch"]


def test_sparse_values_status_list_and_unknown_symbol() -> None:
    doc = {
        "class": "dataset",
        "label": "12362: Nøkkeltall",
        "id": ["Region", "ContentsCode", "Tid"],
        "size": [2, 1, 2],
        "dimension": {
            "Region": {
                "category": {"index": ["5001", "1601"], "label": {"1601": "Trondheim (-2017)"}}
            },
            "ContentsCode": {"category": {"label": {"KOSnetto": "Netto"}}},
            "Tid": {"category": {"index": {"2016": 0, "2017": 1}}},
        },
        "value": {"0": 10, "1": 11.5, "3": 7},
        "status": {"2": ":", "3": "x"},
        "role": {"time": ["Tid"], "geo": ["Region"]},
        "extension": {"px": {"tableid": "12362"}},
    }
    result = parse_jsonstat(json.dumps(doc), source_name="sparse.json")
    assert codes(result) == ["kostra-unknown-status"]
    got = [
        (f.region, f.region_name, f.superseded_until, f.year, f.value, f.status, f.status_symbol)
        for f in result.figures
    ]
    assert got == [
        ("5001", None, None, 2016, 10.0, "ok", None),
        ("5001", None, None, 2017, 11.5, "ok", None),
        ("1601", "Trondheim (-2017)", 2017, 2016, None, "confidential", ":"),
        ("1601", "Trondheim (-2017)", 2017, 2017, None, "unknown", "x"),
    ]


JSON_KEYS = st.sampled_from(
    ["class", "id", "size", "dimension", "value", "status", "role", "category", "index",
     "label", "unit", "Tid", "Region", "ContentsCode", "time", "geo", "metric", "extension",
     "px", "tableid", "dataset", "0", "1"]
)  # fmt: skip
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=5)
    | st.floats(allow_nan=True)
    | st.sampled_from(["dataset", "Tid", "Region", ".", "..", ":", "2024", "x", ""]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(JSON_KEYS, inner, max_size=6),
    max_leaves=40,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(doc=JSONISH, dataset=st.booleans())
def test_parse_jsonstat_never_raises_on_jsonish(doc: Any, dataset: bool) -> None:
    if dataset and isinstance(doc, dict):
        doc = {**doc, "class": "dataset"}
    result = parse_jsonstat(json.dumps(doc), source_name="h.json")
    assert isinstance(result, ParseResult)
    for f in result.figures:
        assert (f.value is None) == (f.status != "ok")


@settings(max_examples=200)
@given(path=st.lists(JSON_KEYS | st.integers(0, 3), min_size=1, max_size=4), new=JSONISH)
def test_parse_jsonstat_never_raises_on_mutated_sample(path: list[Any], new: Any) -> None:
    doc: Any = _sample()
    node = doc
    for step in path[:-1]:
        if (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        ):
            node = node[step]
    last = path[-1]
    if isinstance(node, dict):
        node[str(last)] = new
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = new
    assert isinstance(parse_jsonstat(json.dumps(doc), source_name="m.json"), ParseResult)


@settings(max_examples=200)
@given(data=st.binary(max_size=300))
def test_parsers_never_raise_on_arbitrary_bytes(data: bytes) -> None:
    assert isinstance(parse_jsonstat(data, source_name="b.json"), ParseResult)
    assert isinstance(parse_statbank_csv(data, source_name="b.csv"), ParseResult)
    assert isinstance(parse_bytes(data, source_name="b"), ParseResult)


@settings(max_examples=200)
@given(text=st.text(alphabet=st.sampled_from(list(';",.:\n -0123456789abÅø')), max_size=200))
def test_statbank_csv_never_raises_on_csvish_text(text: str) -> None:
    result = parse_statbank_csv(text.encode("utf-8"), source_name="t.csv")
    for f in result.figures:
        assert (f.value is None) == (f.status != "ok")


# -- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "year"),
    [("2024", 2024), ("2024K1", 2024), ("2024M03", 2024), ("2014-2020", 2020), ("abc", None)],
)
def test_year_of(code: str, year: int | None) -> None:
    assert year_of(code) == year


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("5001 Trondheim", ("5001", "Trondheim", None)),
        ("1601 Trondheim (-2017)", ("1601", "Trondheim", 2017)),
        ("EKA50 Trøndelag", ("EKA50", "Trøndelag", None)),
        ("EAKUO Landet uten Oslo", ("EAKUO", "Landet uten Oslo", None)),
        ("0 Hele landet", ("0", "Hele landet", None)),
        ("50", ("50", None, None)),
        ("Trondheim", ("Trondheim", None, None)),
    ],
)
def test_split_region(text: str, split: tuple[str, str | None, int | None]) -> None:
    assert split_region(text) == split


# -- matching figures to a definition ---------------------------------------------------------


def _definition() -> Definition:
    def kostra_indicator(code: str, kostra: dict[str, Any], scope: Any) -> dict[str, Any]:
        return {"code": code, "name": code, "source": "kostra", "frequency": "annual",
                "kostra": kostra, "scope": scope}  # fmt: skip

    return Definition.model_validate(
        {
            "county": {"code": "TFK", "name": "Trøndelag fylkeskommune", "kostra_region": "50"},
            "sectors": [{"code": "OPPL", "name": "Opplæring"}, {"code": "SAMF", "name": "Samferdsel"}],
            "units": [
                {"code": "VGS1", "name": "Heimdal vgs", "sector": "OPPL", "kostra_region": "5001"},
                {"code": "VGS2", "name": "Byåsen vgs", "sector": "OPPL"},
                {"code": "VEG", "name": "Fylkesvei", "sector": "SAMF", "kostra_region": "5001"},
            ],
            "focus_areas": [
                {"code": "T", "name": "Tjenesteproduksjon", "goals": [
                    {"code": "T1", "name": "God opplæring", "factors": [
                        {"code": "O1", "name": "Fullføring", "indicators": [
                            kostra_indicator(
                                "O1.1",
                                {"table": "12362", "contents": "KOSnetto",
                                 "unit_regions": {"VGS2": "5006"},
                                 "comparison": ["EAKUO", "EKA50"]},
                                {"sectors": ["OPPL"]},
                            ),
                            kostra_indicator(
                                "O1.2",
                                {"table": "012362", "contents": "KOSandel", "region": "46"},
                                "county",
                            ),
                            {"code": "O1.3", "name": "Egen", "source": "unit"},
                        ]},
                    ]},
                ]},
            ],
            "periods": [
                {"code": "2024", "label": "Årsrapport 2024", "kind": "annual",
                 "end": "2024-12-31", "deadline": "2025-02-15"},
            ],
        }
    )  # fmt: skip


def fig(
    contents: str,
    region: str,
    value: float | None,
    *,
    table: str = "12362",
    year: int = 2024,
    status: str = "ok",
    other: tuple[tuple[str, str], ...] = (),
    until: int | None = None,
) -> KostraFigure:
    return KostraFigure(
        table=table, contents=contents, region=region, region_name=None, year=year,
        value=value, status=status, status_symbol=None if status == "ok" else "..",  # type: ignore[arg-type]
        unit=None, superseded_until=until, other=other,
    )  # fmt: skip


def test_match_figures_for_county_units_and_comparison_groups() -> None:
    figures = [
        fig("KOSnetto", "50", 1.0),
        fig("KOSnetto", "50", 0.5, year=2023),  # another year: not matched
        fig("KOSnetto", "5001", 2.0),
        fig("KOSnetto", "5001", 2.5),  # a later import of the same cell wins
        fig("KOSnetto", "EAKUO", 3.0),
        fig("KOSnetto", "3401", 9.0),  # a region nobody uses
        fig("KOSandel", "46", None, status="not-available"),
        fig("KOSother", "50", 4.0),  # contents nobody uses
        fig("X", "50", 5.0, table="99999"),  # a table nobody uses
    ]
    matched, findings = match_figures(figures, _definition(), "2024")
    got = [
        (m.indicator, m.period, m.role, m.region, m.unit, m.figure.value, m.figure.status)
        for m in matched
    ]
    assert got == [
        ("O1.1", "2024", "county", "50", None, 1.0, "ok"),
        ("O1.1", "2024", "unit", "5001", "VGS1", 2.5, "ok"),
        ("O1.1", "2024", "comparison", "EAKUO", None, 3.0, "ok"),
        ("O1.2", "2024", "county", "46", None, None, "not-available"),
    ]
    summary = [
        (f.code, f.severity, f.extra.get("indicator"), f.extra.get("region"), f.extra.get("table"),
         f.extra.get("contents"))
        for f in findings
    ]  # fmt: skip
    assert summary == [
        ("kostra-no-data", "warning", "O1.1", "5006", "12362", "KOSnetto"),
        ("kostra-no-data", "warning", "O1.1", "EKA50", "12362", "KOSnetto"),
        ("kostra-unused", "info", None, None, "12362", "KOSnetto"),
        ("kostra-unused", "info", None, None, "12362", "KOSother"),
        ("kostra-unused", "info", None, None, "99999", None),
    ]
    assert findings[0].extra["role"] == "unit" and findings[1].extra["role"] == "comparison"
    assert "3401" in findings[2].message


def test_match_figures_file_for_another_region() -> None:
    figures = [fig("KOSnetto", "1103", 1.0), fig("KOSandel", "1103", 2.0)]
    matched, findings = match_figures(figures, _definition(), "2024")
    assert matched == []
    assert [f.code for f in findings] == ["kostra-no-data"] * 6 + ["kostra-other-region"]
    assert findings[-1].severity == "warning" and "1103" in findings[-1].message


def test_match_figures_superseded_region_and_ambiguous_dimensions() -> None:
    figures = [
        fig("KOSnetto", "50", 1.0, other=(("Kjonn", "1"),)),
        fig("KOSnetto", "50", 2.0, other=(("Kjonn", "2"),)),
        fig("KOSnetto", "5001", 3.0, until=2019),
    ]
    matched, findings = match_figures(figures, _definition(), _definition().period("2024"))
    assert [(m.region, m.unit) for m in matched] == [("5001", "VGS1")]
    assert [(f.code, f.extra.get("region")) for f in findings] == [
        ("kostra-ambiguous", "50"),
        ("kostra-superseded-region", "5001"),
        ("kostra-no-data", "5006"),
        ("kostra-no-data", "EAKUO"),
        ("kostra-no-data", "EKA50"),
        ("kostra-no-data", "46"),
    ]


def test_match_figures_indicator_without_region() -> None:
    data = _definition().model_dump(by_alias=True)
    data["county"]["kostra_region"] = None
    ind = data["focus_areas"][0]["goals"][0]["factors"][0]["indicators"][0]
    ind["kostra"]["unit_regions"] = {}
    ind["kostra"]["comparison"] = []
    data["units"] = [{**u, "kostra_region": None} for u in data["units"]]
    matched, findings = match_figures([], Definition.model_validate(data), "2024")
    assert matched == []
    assert [(f.code, f.extra.get("indicator")) for f in findings] == [
        ("kostra-no-region", "O1.1"),
        ("kostra-no-data", "O1.2"),
    ]


def test_real_sample_matches_an_indicator_on_its_contents_text() -> None:
    result = parse_statbank_csv(
        CSV_SAMPLE.read_bytes(), source_name="s.csv", table="311781", region="EAFKA"
    )
    data = _definition().model_dump(by_alias=True)
    ind = data["focus_areas"][0]["goals"][0]["factors"][0]["indicators"][1]
    ind["kostra"] = {"table": "311781", "contents": "Elever per lærerårsverk, fylkeskommunale skoler",
                     "region": "EAFKA"}  # fmt: skip
    data["periods"][0].update(code="2015", label="2015")
    matched, _ = match_figures(result.figures, Definition.model_validate(data), "2015")
    assert [(m.indicator, m.figure.value) for m in matched] == [("O1.2", 8.5)]


def test_jsonstat_1x_bundle_and_status_list_read_like_2_0(jsonstat: ParseResult) -> None:
    doc = _sample()
    dims = {**doc["dimension"], "id": doc["id"], "size": doc["size"], "role": doc["role"]}
    status = [doc["status"].get(str(i)) for i in range(len(doc["value"]))]
    old = {
        "dataset": {
            "label": doc["label"],
            "dimension": dims,
            "value": doc["value"],
            "status": status,
        }
    }
    result = parse_jsonstat(json.dumps(old), source_name="v1.json")
    assert result.figures == jsonstat.figures
    assert codes(result) == ["kostra-no-region"]
