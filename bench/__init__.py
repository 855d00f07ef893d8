"""Benchmark harness for bms_excel (issue 8): time each stage against the floor of .xlsx I/O.

Run ``python -m bench [--n 300] [--processes N] [--out bench/results]``. The harness builds a
synthetic county of N units from the bundled example, generates and fills in the unit
workbooks, then times the library stages and the floors (unzip, python-calamine, re-zip)
interleaved per workbook, in the same run and on the same files. It reports per-workbook
medians, ratios to the floors, totals, peak RSS and the process-pool speed-up, as a table and
as JSON. See ``bench/README.md``.
"""
