"""``bms collect`` and ``bms validate``: who delivered, and what is wrong, per file and cell."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from bms_excel.api import CollectReport, collect_project, validate_project_files
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, progress_bar, severity_label, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t

_STATE_STYLE = {"received": "green", "missing": "yellow", "duplicate": "red", "rejected": "red"}


def print_report(report: CollectReport, show_units: bool = True) -> None:
    """The human output: a unit summary table and one line per finding."""
    con = stdout_console()
    counts = Counter(u.state for u in report.units)
    if show_units:
        table = Table(title=report.period)
        for key in ("unit", "name", "state", "contact", "email", "files"):
            table.add_column(t(f"collect.csv.{key}"), overflow="fold")
        for u in report.units:
            if u.state == "received":
                continue
            style = _STATE_STYLE[u.state]
            table.add_row(
                u.code,
                u.name,
                f"[{style}]{t(f'collect.state.{u.state}')}[/]",
                u.contact_name or "",
                u.email or "",
                ", ".join(u.files),
            )
        if table.row_count:
            con.print(table)
        con.print(
            t(
                "collect.summary",
                period=report.period,
                received=counts["received"],
                missing=counts["missing"],
                duplicate=counts["duplicate"],
                rejected=counts["rejected"],
                total=len(report.units),
            )
        )
    for f in report.findings:
        con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)


@main.command("collect")
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False), required=False, default=None
)
@click.option("--period", default=None, help="Perioden det samles inn for (standard: prosjektets).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.option("--processes", type=click.IntRange(min=1), default=None, help="Antall prosesser.")
@click.pass_context
def collect_command(
    ctx: click.Context,
    folder: Path | None,
    period: str | None,
    as_json: bool,
    processes: int | None,
) -> None:
    """Samle inn: les alle filer i innsendingsmappen og vis hvem som har levert og hva som er feil."""
    project = state(ctx).project()
    with progress_bar(t("collect.progress"), enabled=not as_json) as progress:
        report = collect_project(
            project, period=period, folder=folder, processes=processes, progress=progress
        )
    if as_json:
        data = report.to_json()
        data["reminder_csv"] = str(report.reminder_csv)
        print_json(data)
    else:
        print_report(report)
        stdout_console().print(t("collect.reminder-written", path=str(report.reminder_csv)))
    sys.exit(exit_code_for(report.findings))


@main.command("validate")
@click.argument("files", type=click.Path(path_type=Path, dir_okay=False), nargs=-1, required=True)
@click.option("--period", default=None, help="Forventet periode (standard: den filen selv oppgir).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def validate_command(
    ctx: click.Context, files: tuple[Path, ...], period: str | None, as_json: bool
) -> None:
    """Kontroller enkeltfiler (f.eks. et e-postvedlegg) med de samme sjekkene som innsamlingen."""
    report = validate_project_files(state(ctx).project(), files, period=period)
    if as_json:
        print_json(report.to_json())
    else:
        print_report(report, show_units=False)
    sys.exit(exit_code_for(report.findings))
