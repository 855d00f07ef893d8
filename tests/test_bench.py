"""Smoke test of the benchmark harness (``python -m bench``): shape, not speed.

No timed assertions: the machines are shared and noisy. What is checked is that a tiny run
(N=3) completes, writes the JSON the README describes, and that every ratio is computed from
the measured numbers in the same report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import report as report_mod
from bench import stages
from bench.__main__ import main, parse_args
from bench.county import load_base, scale_definition, unit_code
from bench.run import Options, run, verdict
from bench.timing import Method, rotated, time_interleaved

PER_WORKBOOK_KEYS = {
    "key", "stage", "entry", "median_ms", "floor", "floor_ms", "ratio", "target_must",
    "target_stretch", "met", "available", "note", "samples",
}  # fmt: skip
TOTAL_KEYS = {
    "key", "stage", "seconds", "entry", "target_must_s", "target_stretch_s", "met",
    "available", "note",
}  # fmt: skip


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("bench-work")
    return run(Options(n=3, processes=1, rounds=1, work=work, write=False), say=lambda _: None)


def test_report_shape(small_report: dict) -> None:
    r = small_report
    assert r["schema"] == 1 and r["n"] == 3 and r["rounds"] == 1
    assert r["corpus"]["files"] == 3
    keys = [row["key"] for row in r["per_workbook"]]
    assert keys[:3] == ["unzip", "calamine", "rezip"]
    assert {"collect", "generate"} <= set(keys)
    for row in r["per_workbook"]:
        assert set(row) == PER_WORKBOOK_KEYS
    for row in r["totals"]:
        assert set(row) == TOTAL_KEYS
    assert {"peak_self_mib", "peak_children_mib", "phases_peak_self_mib"} <= set(r["memory"])
    # The end-to-end run's own peak, measured after the stage results were released.
    e2e_peak = r["memory"]["consolidate_e2e_peak_mib"]
    assert 0 < e2e_peak <= r["memory"]["phases_peak_self_mib"]["consolidate"] + 0.1
    assert [p["stage"] for p in r["pool"]] == ["generate", "collect"]
    json.dumps(r)  # serialisable as written


def test_collect_is_split_into_its_stages(small_report: dict) -> None:
    # Issue 19: the light pass, calamine and identify + validate each have their own row,
    # timed on the same workbooks against the same unzip floor as collect + validate.
    rows = {row["key"]: row for row in small_report["per_workbook"]}
    keys = [row["key"] for row in small_report["per_workbook"]]
    assert [k for k in keys if k.startswith("stage.")] == list(stages.COLLECT_STAGES)
    for key in stages.COLLECT_STAGES:
        row = rows[key]
        assert row["available"] and row["median_ms"] > 0 and row["samples"] == 3, row
        assert row["floor"] == "unzip"
        assert row["entry"] == "bench.stages.collect_stage_methods"


def test_ratios_come_from_the_measured_medians(small_report: dict) -> None:
    rows = {row["key"]: row for row in small_report["per_workbook"]}
    assert rows["unzip"]["median_ms"] > 0 and rows["rezip"]["median_ms"] > 0
    for row in rows.values():
        if not row["available"] or row["floor"] is None:
            assert row["ratio"] is None
            continue
        floor = rows[row["floor"]]
        assert row["floor_ms"] == floor["median_ms"]
        # median_ms and floor_ms are rounded to 0.001 ms in the report, the ratio is not.
        expected = row["median_ms"] / row["floor_ms"]
        slack = 0.01 + expected * 0.0011 / row["floor_ms"]
        assert row["ratio"] == pytest.approx(expected, abs=slack)
        assert row["met"] == verdict(row["ratio"], row["target_must"], row["target_stretch"])


def test_unavailable_stages_are_reported_not_faked(small_report: dict) -> None:
    for row in [*small_report["per_workbook"], *small_report["totals"]]:
        if not row["available"]:
            assert row["note"], row
            assert row["met"] == "—"
            assert row.get("median_ms", row.get("seconds")) is None


def test_render_and_write(
    small_report: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report_mod.render(small_report)
    out = capsys.readouterr().out
    assert "floor: unzip all parts" in out and "Peak RSS" in out
    path, latest = report_mod.write(small_report, tmp_path)
    assert path.name.startswith("bench-N3-") and latest.name == "latest-N3.json"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(latest.read_text("utf-8"))


def test_scaled_county_keeps_the_indicator_mix() -> None:
    base = load_base()
    scaled = scale_definition(base, 2 * len(base.units))
    assert [u.code for u in scaled.units[:2]] == [unit_code(0), unit_code(1)]
    assert len({u.code for u in scaled.units}) == len(scaled.units)
    for i, unit in enumerate(scaled.units):
        proto = base.units[i % len(base.units)]
        assert unit.sector == proto.sector
        assert len(scaled.indicators_for_unit(unit)) == len(base.indicators_for_unit(proto))


def test_interleaving_rotates_and_takes_per_item_medians() -> None:
    order: list[tuple[int, str]] = []

    def recorder(key: str) -> Callable[[int], None]:
        return lambda item: order.append((item, key))

    methods: list[Method[int]] = [Method(k, recorder(k)) for k in "abc"]
    assert [m.key for m in rotated(methods, 4)] == ["b", "c", "a"]
    result = time_interleaved([0, 1], methods, rounds=2)
    assert set(result) == {"a", "b", "c"} and all(len(v) == 2 for v in result.values())
    firsts = [order[i][1] for i in range(0, len(order), 3)]
    assert firsts == ["a", "b", "b", "c"]


def test_bind_reports_what_it_cannot_supply() -> None:
    def f(definition: object, mystery: int) -> None: ...

    missing = stages.bind("f", f, {"definition"})
    assert isinstance(missing, stages.NotAvailable) and "mystery" in missing.reason
    bound = stages.bind("f", lambda period_code, path=None: period_code, {"period"})
    assert isinstance(bound, stages.Bound) and bound({"period": "2026-T1"}) == "2026-T1"


def test_cli_options() -> None:
    opts = parse_args(["--n", "7", "--processes", "1", "--rounds", "2", "--no-write"])
    assert (opts.n, opts.processes, opts.rounds, opts.write) == (7, 1, 2, False)
    with pytest.raises(SystemExit):
        main(["--n", "0"])
