"""Print the report as rich tables and write it as JSON under ``bench/results/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

_MET_STYLE = {"stretch": "bold green", "must": "green", "missed": "bold red"}


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _target(must: float | None, stretch: float | None, suffix: str) -> str:
    if must is None:
        return "—"
    return (
        f"≤{must:g}{suffix} / ≤{stretch:g}{suffix}" if stretch is not None else f"≤{must:g}{suffix}"
    )


def _met(text: str) -> str:
    style = _MET_STYLE.get(text.strip("()"))
    return f"[{style}]{text}[/]" if style else text


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the per-workbook table, the totals, memory and the pool speed-up."""
    console = console or Console(width=max(Console().width, 150))
    corpus = report.get("corpus", {})
    title = (
        f"bms_excel bench — N={report['n']}, period {report.get('period')}, "
        f"{report['rounds']} rounds, {corpus.get('note', '')}"
    )
    per = Table(title=title, title_justify="left")
    for col in (
        "stage",
        "median ms/wb",
        "floor",
        "floor ms",
        "× floor",
        "target must / stretch",
        "met?",
    ):
        per.add_column(col, justify="left" if col in ("stage", "floor") else "right")
    for row in report.get("per_workbook", []):
        per.add_row(
            row["stage"] if row["available"] else f"{row['stage']} [dim](not available)[/]",
            _num(row["median_ms"]),
            row["floor"] or "",
            _num(row["floor_ms"]),
            _num(row["ratio"], 1),
            _target(row["target_must"], row["target_stretch"], "×"),
            _met(row["met"]),
        )
    console.print(per)

    tot = Table(title="Totals", title_justify="left")
    for col in ("stage", "seconds", "target must / stretch", "met?", "entry / note"):
        tot.add_column(col, justify="right" if col in ("seconds",) else "left")
    for row in report.get("totals", []):
        note = row["entry"] if row["available"] else f"[dim]not available: {row['note']}[/]"
        tot.add_row(
            row["stage"],
            _num(row["seconds"]),
            _target(row["target_must_s"], row["target_stretch_s"], " s"),
            _met(row["met"]),
            note,
        )
    console.print(tot)

    mem, pool = report.get("memory", {}), report.get("pool", [])
    phases = ", ".join(f"{k} {v:.0f}" for k, v in mem.get("phases_peak_self_mib", {}).items())
    console.print(
        f"Peak RSS: {_num(mem.get('peak_self_mib'), 0)} MiB in this process "
        f"({phases} MiB per phase); largest child {_num(mem.get('peak_children_mib'), 0)} MiB"
        + (
            f"; consolidate end to end {_num(mem['consolidate_e2e_peak_mib'], 0)} MiB"
            if mem.get("consolidate_e2e_peak_mib") is not None
            else ""
        )
        + (
            f" (≤ {mem['consolidate_target_mib']:g} MiB: {_met(mem['consolidate_met'])})"
            if mem.get("consolidate_target_mib")
            else ""
        )
    )
    for p in pool:
        if p.get("speedup") is not None:
            console.print(
                f"Pool speed-up, {p['stage']} ({p['processes']} processes): "
                f"{p['serial_s']:.2f} s → {p['pool_s']:.2f} s = {p['speedup']:.2f}×"
            )
        else:
            console.print(f"Pool speed-up, {p['stage']}: not measured ({p.get('note', '')})")
    cons = report.get("consolidate", {})
    if cons:
        console.print(
            f"Consolidate input: {cons['values']} value records from {cons['records_from']}; "
            f"submissions {cons.get('submissions_by_state')}, "
            f"findings {cons.get('findings_by_severity')}"
        )
    unavailable = [
        r
        for r in [*report.get("per_workbook", []), *report.get("totals", [])]
        if not r["available"]
    ]
    for r in unavailable:
        console.print(f"[dim]not available: {r['stage']}: {r['note']}[/]")


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``bench-N<n>-<timestamp>.json`` and ``latest-N<n>.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = report["started"].replace(":", "").replace("-", "").replace("+0000", "Z")
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    path = out / f"bench-N{report['n']}-{stamp}.json"
    latest = out / f"latest-N{report['n']}.json"
    path.write_text(text, encoding="utf-8")
    latest.write_text(text, encoding="utf-8")
    return path, latest
