"""Output helpers shared by the commands: finding tables (rich), JSON, error lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.table import Table

from bms_excel.errors import Finding
from bms_excel.i18n import t

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def stdout_console() -> Console:
    """A console on stdout (no colour when piped)."""
    return Console(highlight=False, soft_wrap=True)


def stderr_console() -> Console:
    """A console on stderr for errors and progress."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_error_lines(lines: Iterable[str]) -> None:
    """Print operator errors on stderr."""
    con = stderr_console()
    for line in lines:
        con.print(f"[bold red]bms:[/] {line}", markup=True, highlight=False)


def print_json(data: Any) -> None:
    """Print ``data`` as indented UTF-8 JSON on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def severity_label(severity: str) -> str:
    """The localised name of a severity."""
    return t(f"severity.{severity}")


def findings_table(
    findings: Sequence[Finding], columns: Sequence[str], title: str | None = None
) -> Table:
    """A rich table of findings with the given location columns (e.g. file, line, path)."""
    table = Table(title=title, show_lines=False, expand=False)
    for col in columns:
        table.add_column(t(f"render.col.{col}"), overflow="fold")
    table.add_column(t("render.col.severity"))
    table.add_column(t("render.col.message"), overflow="fold", ratio=3)
    table.add_column(t("render.col.code"), style="dim")
    for f in findings:
        cells = ["" if getattr(f, c) is None else str(getattr(f, c)) for c in columns]
        sev = f"[{_SEVERITY_STYLE.get(f.severity, '')}]{severity_label(f.severity)}[/]"
        table.add_row(*cells, sev, f.message, f.code)
    return table


def summary_line(findings: Sequence[Finding]) -> str:
    """``N feil, M advarsler``."""
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    return t("cli.summary-findings", errors=errors, warnings=warnings)


@contextmanager
def progress_bar(label: str, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A ``(done, total)`` callback drawing a bar on stderr, or ``None`` when ``enabled`` is
    false or stderr is not a terminal (``--json``, pipes, CI): nothing extra is printed then."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
