"""``python -m bench.check FILE...``: fail when a bench result misses a must-target.

The bench itself only reports (``python -m bench`` exits 0 whatever it measured); this judges a
result JSON against the targets the run recorded (issue 19's must-targets, see ``bench.run``):
every per-workbook ratio and total with a target must be met, a stage with a target must have
been measured at all (a stage that is "not available" cannot pass), and at 10 000 units the
peak RSS of consolidation and of generation must stay within ``CONSOLIDATE_RSS_MIB``.
``make bench-check`` runs a fresh N = 300 bench with ``--check`` and checks the committed
N = 10 000 result (``bench/results/readme/``) the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.run import CONSOLIDATE_RSS_MIB

#: The results the README's performance section cites (committed, unlike other runs).
PUBLISHED = Path("bench/results/readme")


def missed_targets(report: dict[str, Any]) -> list[str]:
    """One line per must-target ``report`` misses (empty when all are met)."""
    missed: list[str] = []
    for row in report.get("per_workbook", []):
        if row.get("target_must") is None:
            continue
        if not row.get("available") or row.get("ratio") is None:
            missed.append(f"{row['stage']}: not measured ({row.get('note') or 'not available'})")
        elif row["met"] == "missed":
            missed.append(
                f"{row['stage']}: {row['ratio']:g}× {row['floor']} > ≤{row['target_must']:g}×"
            )
    for row in report.get("totals", []):
        if row.get("target_must_s") is None:
            continue
        if not row.get("available") or row.get("seconds") is None:
            missed.append(f"{row['stage']}: not measured ({row.get('note') or 'not available'})")
        elif row["met"] == "missed":
            missed.append(f"{row['stage']}: {row['seconds']:g} s > ≤{row['target_must_s']:g} s")
    memory = report.get("memory", {})
    if memory.get("consolidate_met") == "missed":
        peak = memory.get("consolidate_e2e_peak_mib")
        missed.append(f"consolidate peak RSS: {peak} MiB > {CONSOLIDATE_RSS_MIB:g} MiB")
    if report.get("n", 0) >= 10_000:
        generate_peak = max(
            memory.get("phases_peak_self_mib", {}).get("generate", 0.0),
            memory.get("peak_children_mib", 0.0),
        )
        if generate_peak > CONSOLIDATE_RSS_MIB:
            missed.append(f"generate peak RSS: {generate_peak:g} MiB > {CONSOLIDATE_RSS_MIB:g} MiB")
    return missed


def check_files(paths: list[Path]) -> int:
    """Print the verdict per file; 1 when a file is missing, unreadable or misses a target."""
    status = 0
    for path in paths:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{path}: cannot read: {exc}", file=sys.stderr)
            status = 1
            continue
        missed = missed_targets(report)
        for line in missed:
            print(f"{path}: N={report.get('n')}: missed: {line}", file=sys.stderr)
        if missed:
            status = 1
        else:
            print(f"{path}: N={report.get('n')}: every must-target met")
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.check", description=__doc__)
    p.add_argument(
        "files",
        nargs="*",
        type=Path,
        help=f"result JSON files (default: every file in {PUBLISHED})",
    )
    a = p.parse_args(argv)
    files = a.files or sorted(PUBLISHED.glob("*.json"))
    if not files:
        print(f"no result files in {PUBLISHED}", file=sys.stderr)
        return 1
    return check_files(files)


if __name__ == "__main__":
    sys.exit(main())
