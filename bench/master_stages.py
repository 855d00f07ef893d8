"""Micro-benchmark of consolidation's later stages at N units, without collecting files.

The batch is what the bench's filler types in (``bench.corpus.iter_planned``) for a county
scaled to N units (``bench.county``), made in memory; then the three stages after collect are
timed as ``bench/stages.py`` times them: database (``History.record_batch`` +
``accepted_values``), aggregate (long table, county, roll-ups, trend) and write master::

    .venv/bin/python -m bench.master_stages --n 2000 [--profile STAGE]

``--profile`` prints cProfile's top functions of one stage (database, aggregate, master).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import corpus
from bench.county import default_period, load_base, scale_definition


def synthetic_report(definition: Any, period: str, findings: int = 6) -> Any:
    """A ``CollectReport`` with one accepted return per unit of what the filler typed, and
    ``findings`` findings per return (5 warnings and 1 info per unit at N = 1000 in the bench)."""
    from bms_excel.collect import CollectReport, FileOutcome, UnitReport
    from bms_excel.errors import Finding
    from bms_excel.records import SubmissionBatch, SubmissionRecord, ValueKind, ValueRecord

    batch = SubmissionBatch(period=period)
    units, files = [], []
    for unit, planned in corpus.iter_planned(definition, period, list(definition.units)):
        name = f"{period}_{unit.code}.xlsx"
        sha = hashlib.sha256(name.encode()).hexdigest()
        batch.submissions.append(SubmissionRecord(name, sha, 1000, unit.code, period, "accepted"))
        for p in planned:
            kind: ValueKind = "missing" if p.value is None else "number"
            raw = None if p.value is None else str(p.value)
            batch.values.append(
                ValueRecord(
                    unit.code, period, p.indicator, kind, p.value, raw, p.comment, "unit", name, sha
                )
            )
        for k in range(findings):
            severity = "info" if k == 0 else "warning"
            cell = f"E{10 + k}"
            batch.findings.append(
                Finding("bench-finding", severity, f"finding {k}", name, "Målekort", cell)
            )
        units.append(UnitReport(unit.code, unit.name, "received", [name]))
        files.append(FileOutcome(name, sha, 1000, "xlsx", unit.code, period, state="accepted"))
    return CollectReport(period, units, files, list(batch.findings), batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--profile", choices=("database", "aggregate", "master"))
    parser.add_argument("--findings", type=int, default=6, help="findings per return (6)")
    args = parser.parse_args()

    from bms_excel.consolidate import (
        aggregate_county,
        build_long_table,
        previous_period,
        rollup_scores,
        trend,
    )
    from bms_excel.history import RunInfo, open_history
    from bms_excel.master.run import write_master

    definition = scale_definition(load_base(), args.n)
    period = default_period(definition)
    report = synthetic_report(definition, period, args.findings)
    print(f"n={args.n} values={len(report.batch.values)}")
    with tempfile.TemporaryDirectory() as tmp:
        db, master = Path(tmp) / "h.sqlite", Path(tmp) / "m.xlsx"

        def database() -> Any:
            with open_history(db) as history:
                history.record_batch(report.batch, run_info=RunInfo("bench", period))
                return history.accepted_values(period)

        def aggregate(values: Any) -> Any:
            long = build_long_table(definition, values, period)
            county = aggregate_county(definition, long, period)
            rollups = rollup_scores(definition, long, county)
            before = previous_period(definition, period) or period
            trends = trend(definition, long, build_long_table(definition, [], before))
            return long, county, rollups, trends

        def write(frames: Any) -> Any:
            long, county, rollups, trends = frames
            return write_master(
                master,
                definition=definition,
                period=period,
                long=long,
                county=county,
                rollups=rollups,
                trends=trends,
                report=report,
            )

        result: Any = None
        for name, fn in (("database", database), ("aggregate", aggregate), ("master", write)):
            args_ = () if name == "database" else (result,)
            profiler = cProfile.Profile() if args.profile == name else None
            start, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            out = fn(*args_)
            if profiler:
                profiler.disable()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            result = out if name != "master" else result
            # CPU time too: the machine is shared, and the wall clock counts the others' work.
            print(f"{name:10s} {seconds:7.2f} s wall {cpu:7.2f} s cpu")
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
