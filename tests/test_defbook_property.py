"""Property: any valid definition survives YAML → workbook → YAML unchanged (same hash), and
``bms check`` finds the same (code, path) problems in the workbook as in the YAML."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from helpers import load_definition_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_excel.checks import check_definition_file
from bms_excel.defbook.export import write_definition_workbook
from bms_excel.defbook.importer import import_definition
from bms_excel.defbook.shape import definition_yaml
from bms_excel.model import Definition
from bms_excel.signing import definition_hash

# Texts people write, plus the awkward ones: OOXML escapes, formulas, numbers as text.
TRICKY = ["_x0041_", "=SUM(A1:A3)", "2026", "0012", "TRUE", "'sitat", "æøå ÆØÅ", "a\nb", "1,5"]
TEXT = st.one_of(
    st.sampled_from(TRICKY),
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"), max_codepoint=0x2FFF),
        min_size=1,
        max_size=20,
    ),
).filter(lambda s: s.strip() != "")
CODE = st.from_regex(r"[A-Za-z0-9ÆØÅæøå][A-Za-z0-9_.\-]{0,6}", fullmatch=True)
# Numbers as people type them (Excel holds 15 significant digits; the README says so).
NUMBER = st.one_of(st.integers(-5000, 5000), st.integers(-500000, 500000).map(lambda i: i / 100))
POSITIVE = st.integers(1, 5000).map(lambda i: i / 10)
ATTRIBUTES = ["elever", "ansatte", "areal", "2024"]


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def targets(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["none", "number", "percent", "band-text", "band"]))
    a, b = sorted(draw(st.tuples(NUMBER, NUMBER)))
    if kind == "number":
        return a
    if kind == "percent":
        return f"{a:g} %".replace(".", ",")
    if kind == "band-text":
        return f"{b:g} – {a:g}".replace(".", ",")
    if kind == "band":
        return {"low": a, "high": b}
    return None


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    codes = iter(draw(st.lists(CODE, min_size=40, max_size=40, unique=True)))
    sectors = [{"code": next(codes), "name": draw(TEXT)} for _ in range(draw(st.integers(1, 3)))]
    units = []
    for _ in range(draw(st.integers(1, 4))):
        names = draw(st.lists(st.sampled_from(ATTRIBUTES), unique=True, max_size=3))
        attributes = {n: draw(NUMBER) for n in ATTRIBUTES if n in names}
        contact = draw(_maybe(st.fixed_dictionaries(
            {"name": TEXT},
            optional={"email": st.just("a.b@fylke.no"), "phone": TEXT},
        )))  # fmt: skip
        units.append(_drop_none({
            "code": next(codes), "name": draw(TEXT),
            "sector": draw(st.sampled_from(sectors))["code"], "contact": contact,
            "attributes": attributes or None,
            "org_number": draw(_maybe(st.from_regex(r"\d{9}", fullmatch=True))),
            "kostra_region": draw(_maybe(CODE)),
        }))  # fmt: skip
    periods = []
    for year in sorted(
        draw(st.lists(st.integers(2020, 2030), min_size=1, max_size=3, unique=True))
    ):
        suffix = draw(st.sampled_from(["", "-T1", "-T3", "-Q2", "-M11"]))
        end = dt.date(year, 12, 31)
        periods.append(_drop_none({
            "code": f"{year}{suffix}", "label": draw(TEXT),
            "kind": draw(st.sampled_from(["tertial", "annual", "month", "quarter"])),
            "start": draw(_maybe(st.just(dt.date(year, 1, 1)))), "end": end,
            "deadline": end + dt.timedelta(days=draw(st.integers(0, 40))),
        }))  # fmt: skip
    areas: list[dict[str, Any]] = []
    links_to: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        goals = []
        for _ in range(draw(st.integers(0, 2))):
            factors = []
            for _ in range(draw(st.integers(0, 2))):
                indicators = [draw(indicators_(codes, sectors, units, periods))
                              for _ in range(draw(st.integers(0, 2)))]  # fmt: skip
                factors.append({"code": next(codes), "name": draw(TEXT),
                                "weight": draw(POSITIVE), "indicators": indicators})  # fmt: skip
                links_to.append(factors[-1]["code"])
            goals.append({"code": next(codes), "name": draw(TEXT), "factors": factors})
            links_to.append(goals[-1]["code"])
        areas.append(_drop_none({
            "code": next(codes), "name": draw(TEXT), "goals": goals,
            "colour": draw(_maybe(st.from_regex(r"#[0-9A-Fa-f]{6}", fullmatch=True))),
            "description": draw(_maybe(TEXT)), "weight": draw(_maybe(POSITIVE)),
        }))  # fmt: skip
    links = []
    if links_to:
        for _ in range(draw(st.integers(0, 2))):
            links.append(_drop_none({
                "from": draw(st.sampled_from(links_to)), "to": draw(st.sampled_from(links_to)),
                "note": draw(_maybe(TEXT)),
            }))  # fmt: skip
    county = _drop_none({
        "code": next(codes), "name": draw(TEXT),
        "org_number": draw(_maybe(st.from_regex(r"\d{9}", fullmatch=True))),
        "kostra_region": draw(_maybe(CODE)),
    })  # fmt: skip
    settings_ = draw(st.fixed_dictionaries({}, optional={
        "language": st.sampled_from(["nb", "nn", "en"]), "max_indicators_per_unit": st.integers(1, 30),
        "yellow_percent": st.integers(1, 99).map(float), "budget_year": st.integers(2020, 2030),
        "history_periods": st.integers(0, 6), "min_outcome_share": st.sampled_from([0.0, 0.25, 1.0]),
    }))  # fmt: skip
    vision = draw(_maybe(st.builds(
        lambda text, strategies: _drop_none({"text": text, "strategies": strategies or None}),
        TEXT, st.lists(TEXT, max_size=4),
    )))  # fmt: skip
    return _drop_none({
        "version": 1, "county": county, "vision": vision, "settings": settings_,
        "sectors": sectors, "units": units, "focus_areas": areas, "links": links,
        "periods": periods,
    })  # fmt: skip


@st.composite
def indicators_(
    draw: st.DrawFn, codes: Any, sectors: list[dict[str, Any]], units: list[dict[str, Any]],
    periods: list[dict[str, Any]],
) -> dict[str, Any]:  # fmt: skip
    low, high = sorted(draw(st.tuples(NUMBER, NUMBER)))
    unit_codes = [u["code"] for u in units]
    excepted = st.lists(st.sampled_from(unit_codes), max_size=2)
    scope = draw(st.one_of(
        st.sampled_from(["all", "county", None]),
        st.builds(lambda e: {"all": True, "except": e}, st.lists(st.sampled_from(unit_codes), min_size=1, max_size=2)),
        st.builds(lambda s, u, e: _drop_none({"sectors": s or None, "units": u or None,
                                              "except": e or None}),
                  st.lists(st.sampled_from([s["code"] for s in sectors]), max_size=2),
                  st.lists(st.sampled_from(unit_codes), min_size=1, max_size=2), excepted),
    ))  # fmt: skip
    yes_no = draw(st.booleans())
    source = draw(st.sampled_from(["unit", "controller", "kostra"]))
    kostra = None
    if source == "kostra" or draw(st.booleans()):
        kostra = _drop_none({
            "table": draw(CODE), "contents": draw(CODE), "region": draw(_maybe(CODE)),
            "unit_regions": draw(st.dictionaries(
                st.sampled_from([u["code"] for u in units]), CODE, max_size=2)) or None,
            "comparison": draw(st.lists(CODE, max_size=2)) or None,
        })  # fmt: skip
    aggregation = draw(st.sampled_from(["sum", "mean", "weighted_mean", "median", "none"]))
    overrides = []
    for _ in range(draw(st.integers(0, 2))):
        if yes_no or draw(st.booleans()):  # a county target (the only kind a yes/no may have)
            overrides.append(_drop_none({
                "county": True, "target": draw(targets()) or 1,
                "period": draw(_maybe(st.sampled_from([p["code"] for p in periods]))),
            }))  # fmt: skip
            continue
        overrides.append(_drop_none({
            "unit": draw(st.sampled_from([u["code"] for u in units])),
            "period": draw(_maybe(st.sampled_from([p["code"] for p in periods]))),
            "sector": draw(_maybe(st.sampled_from([s["code"] for s in sectors]))),
            "target": draw(targets()) or 1,
            "thresholds": draw(_maybe(st.builds(lambda g, y: {"green": g, "yellow": y},
                                                NUMBER, NUMBER))),
        }))  # fmt: skip
    if yes_no:
        own: dict[str, Any] = {"kind": "yes_no", "status_rule": draw(_maybe(st.just("none")))}
    else:
        own = {
            "kind": draw(_maybe(st.just("number"))), "target": draw(targets()),
            "thresholds": draw(_maybe(st.builds(lambda g, y: {"green": g, "yellow": y},
                                                NUMBER, NUMBER))),
            "status_rule": draw(_maybe(st.sampled_from(
                ["thresholds", "percent_of_target", "band", "none"]))),
            "targets": draw(st.dictionaries(st.integers(2020, 2030),
                                            targets().filter(lambda t: t is not None),
                                            max_size=3)) or None,
        }  # fmt: skip
    return _drop_none({
        **own, "wanted": draw(_maybe(st.sampled_from(["yes", "no"]))),
        "county_target": draw(targets()),
        "county_thresholds": draw(_maybe(st.builds(lambda g, y: {"green": g, "yellow": y},
                                                   NUMBER, NUMBER))),
        "code": next(codes), "name": draw(TEXT), "description": draw(_maybe(TEXT)),
        "unit_of_measure": draw(_maybe(TEXT)), "decimals": draw(_maybe(st.integers(0, 6))),
        "valid_range": draw(_maybe(st.sampled_from([[low, high], {"min": low, "max": high}]))),
        "direction": draw(_maybe(st.sampled_from(["higher", "lower", "range"]))),
        "tolerance": draw(_maybe(POSITIVE)), "yellow_percent": draw(_maybe(st.integers(1, 99))),
        "owner": draw(_maybe(TEXT)), "source": source,
        "frequency": draw(_maybe(st.sampled_from(["tertial", "annual"]))),
        "aggregation": aggregation,
        "weight_by": "elever" if aggregation == "weighted_mean" else draw(_maybe(st.just("ansatte"))),
        "weight": draw(_maybe(POSITIVE)), "scope": scope,
        "result_level": draw(_maybe(st.integers(0, 4))),
        "timing": draw(_maybe(st.sampled_from(["leading", "lagging"]))),
        "comment_required": draw(_maybe(st.sampled_from(["never", "when_red", "always"]))),
        "overrides": overrides or None, "kostra": kostra,
    })  # fmt: skip


def _findings(path: Path) -> list[tuple[str, str]]:
    # Codes and severities; a path may differ where a check points at a setting that the
    # workbook always writes and the YAML leaves out (min_outcome_share).
    return sorted((f.code, f.severity) for f in check_definition_file(path))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_any_valid_definition_round_trips_through_the_workbook(data: dict[str, Any]) -> None:
    defn = Definition.model_validate(data)
    text = definition_yaml(defn)
    assert definition_hash(load_definition_text(text)) == definition_hash(defn)
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "kart.xlsx"
        write_definition_workbook(defn, book, defn.settings.language)
        result = import_definition(book)
        assert result.incomplete == []
        assert result.validated is not None
        assert definition_hash(result.validated) == definition_hash(defn)
        # the same problems, with the same codes, as bms check finds in the YAML
        yaml_path = Path(tmp) / "definition.yaml"
        yaml_path.write_text(text, encoding="utf-8")
        assert _findings(book) == _findings(yaml_path)
        located = [f for f in check_definition_file(book) if f.severity == "error"]
        assert all(f.sheet and f.cell for f in located)
