"""``python -m bench.publish``: the results the README cites, and the README's table from them.

``python -m bench.publish --copy`` copies ``bench/results/latest-N300.json`` and
``latest-N10000.json`` to ``bench/results/readme/N300.json`` / ``N10000.json`` (committed);
without ``--copy`` it only prints. It prints the block between ``<!-- bench:start -->`` and
``<!-- bench:end -->`` in README.md, made from the committed files; ``tests/test_bench_check.py``
keeps the README equal to it, so every number the README quotes is in a file in the tree.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.check import PUBLISHED, missed_targets

SIZES = (300, 10_000)
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def published_path(n: int, folder: Path = PUBLISHED) -> Path:
    return folder / f"N{n}.json"


def _rows(report: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in report.get(section, [])}


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}".replace(",", " ")


def _ratio_cell(report: dict[str, Any], key: str, floor_name: str) -> str:
    row = _rows(report, "per_workbook").get(key)
    if not row or row.get("ratio") is None:
        return "—"
    return f"{_num(row['median_ms'])} ms = {row['ratio']:.1f}× {floor_name}"


def _seconds_cell(report: dict[str, Any], key: str) -> str:
    row = _rows(report, "totals").get(key)
    return "—" if not row or row.get("seconds") is None else f"{_num(row['seconds'])} s"


def _consolidate_memory(report: dict[str, Any]) -> str:
    peak = report.get("memory", {}).get("consolidate_e2e_peak_mib")
    return "—" if peak is None else f"{_num(peak, 0)} MiB"


def _generate_memory(report: dict[str, Any]) -> str:
    # The children's figure is the largest child of the whole run (generate, fill and collect
    # pools): an upper bound for a generation worker.
    memory = report.get("memory")
    if not memory:
        return "—"
    own = memory["phases_peak_self_mib"].get("generate", 0.0)
    return f"{_num(own, 0)} / {_num(memory['peak_children_mib'], 0)} MiB"


def _met(reports: dict[int, dict[str, Any]]) -> str:
    return " / ".join(
        "met" if not missed_targets(r) else "missed: " + "; ".join(missed_targets(r))
        for r in reports.values()
    )


def readme_block(reports: dict[int, dict[str, Any]]) -> str:
    """The README's performance table and stage split, from the published results."""
    # A size without a result shows "—" (an empty report has no rows).
    small, large = reports.get(SIZES[0], {}), reports.get(SIZES[1], {})
    commits = sorted({str(r["machine"].get("commit")) for r in reports.values()})
    files = " and ".join(f"`{published_path(n)}`" for n in SIZES if n in reports)
    lines = [
        START,
        f"Measured on the project's 2-core machine, one run per size (commit "
        f"{', '.join(f'`{c}`' for c in commits)}); the JSON is {files}, checked by "
        "`make bench-check`:",
        "",
        "| stage | N = 300 | N = 10 000 | must target |",
        "|---|---:|---:|---|",
    ]
    pool = {r["processes"] for r in reports.values()}
    body = [
        ("collect + validate, per workbook", [_ratio_cell(r, "collect", "unzip") for r in (small, large)], "≤ 4× unzip"),
        ("generate, per unit", [_ratio_cell(r, "generate", "re-zip") for r in (small, large)], "≤ 3× re-zip"),
        (f"generate every unit, best of 1 process and a pool of {'/'.join(map(str, sorted(pool)))}", [_seconds_cell(r, "generate.best") for r in (small, large)], "≤ 60 s (10 000)"),
        ("consolidate end to end", [_seconds_cell(r, "consolidate.end_to_end") for r in (small, large)], "≤ 4 s (300), ≤ 45 s (10 000)"),
        ("peak RSS, consolidate end to end", [_consolidate_memory(r) for r in (small, large)], "≤ 1 GiB (10 000)"),
        ("peak RSS, generate: one process / each pool worker (at most)", [_generate_memory(r) for r in (small, large)], "≤ 1 GiB (10 000)"),
    ]  # fmt: skip
    lines += [f"| {stage} | {a} | {b} | {target} |" for stage, (a, b), target in body]
    splits = []
    for r in (small, large):
        totals = _rows(r, "totals")
        parts = [
            totals.get(f"consolidate.{k}", {}).get("seconds")
            for k in ("collect", "database", "aggregate", "write")
        ]
        splits.append(
            " + ".join("—" if p is None else _num(p) for p in parts) + " s" if totals else "—"
        )
    speedups = []
    for r in (small, large):
        by_stage = {p["stage"]: p for p in r.get("pool", [])}
        speedups.append(
            ", ".join(
                f"{stage} {by_stage[stage]['speedup']:.2f}×"
                for stage in ("generate", "collect")
                if by_stage.get(stage, {}).get("speedup")
            )
            or "—"
        )
    lines += [
        "",
        f"Targets ({' / '.join(f'{n:,}'.replace(',', ' ') for n in reports)}): {_met(reports)}.",
        "",
        "Consolidation splits into collection (process pool), database, aggregation and the "
        f"master workbook: {splits[0]} at 300 units, {splits[1]} at 10 000. Pool speed-up "
        f"over one process: {speedups[0]} at 300 units; {speedups[1]} at 10 000.",
        END,
    ]
    return "\n".join(lines)


def load_published(folder: Path = PUBLISHED) -> dict[int, dict[str, Any]]:
    return {n: json.loads(published_path(n, folder).read_text(encoding="utf-8")) for n in SIZES}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.publish", description=__doc__)
    p.add_argument("--copy", action="store_true", help="copy latest-N*.json to the readme folder")
    p.add_argument("--results", type=Path, default=Path("bench/results"))
    a = p.parse_args(argv)
    if a.copy:
        PUBLISHED.mkdir(parents=True, exist_ok=True)
        for n in SIZES:
            shutil.copyfile(a.results / f"latest-N{n}.json", published_path(n))
    print(readme_block(load_published()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
