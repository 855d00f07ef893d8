"""``python -m bench``: run the benchmark, print the table, write the JSON."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench import report as report_mod
from bench.check import missed_targets
from bench.run import Options, run


def parse_args(argv: list[str] | None = None) -> Options:
    """Command-line options → :class:`Options`."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--n", type=int, default=300, help="units in the synthetic county (300)")
    p.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the pool run of generate and for filling in (CPU count)",
    )
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="JSON folder")
    p.add_argument(
        "--rounds",
        type=int,
        help="rounds of the per-workbook timing (3 up to 1000 units, else 1)",
    )
    p.add_argument("--period", help="period code (default: first tertial of the latest year)")
    p.add_argument("--work", type=Path, help="folder for the workbooks (default: a temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the generated workbooks")
    p.add_argument("--no-write", action="store_true", help="print only, write no JSON")
    p.add_argument(
        "--check", action="store_true", help="exit 1 when a must-target is missed (bench.check)"
    )
    a = p.parse_args(argv)
    if a.n < 1 or (a.rounds is not None and a.rounds < 1) or a.processes < 1:
        p.error("--n, --rounds and --processes must be at least 1")
    return Options(
        n=a.n,
        processes=a.processes,
        out=a.out,
        rounds=a.rounds,
        keep=a.keep,
        work=a.work,
        period=a.period,
        write=not a.no_write,
        check=a.check,
    )


def main(argv: list[str] | None = None) -> int:
    """Run and report; exit code 0, or with ``--check`` 1 when a must-target is missed."""
    options = parse_args(argv)
    result = run(options, say=lambda msg: print(msg, file=sys.stderr))
    report_mod.render(result)
    if options.write:
        path, latest = report_mod.write(result, options.out)
        print(f"wrote {path} and {latest.name}", file=sys.stderr)
    if options.check:
        missed = missed_targets(result)
        for line in missed:
            print(f"bench: missed: {line}", file=sys.stderr)
        return 1 if missed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
