"""``bms kostra import``: Statistics Norway's KOSTRA figures into the history database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import check_kostra_project, import_kostra_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t


@main.group("kostra")
def kostra_group() -> None:
    """KOSTRA-tall fra SSB (JSON-stat2 fra PxWebApi, eller CSV fra Statistikkbanken)."""


@kostra_group.command("import")
@click.argument("files", type=click.Path(path_type=Path, dir_okay=False), nargs=-1)
@click.option("--period", default=None, help="Perioden tallene skal dekke (standard: prosjektets).")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Bare kontroller: hvilke KOSTRA-indikatorer mangler tall, og hvilke tall brukes ikke.",
)
@click.option("--table", default=None, help="Tabellnummer når filen ikke oppgir det (CSV).")
@click.option("--region", default=None, help="Regionkode når filen ikke oppgir den (CSV).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def import_command(
    ctx: click.Context,
    files: tuple[Path, ...],
    period: str | None,
    check_only: bool,
    table: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Importer KOSTRA-tall til historikkdatabasen (med tabell, region, år, status og kilde)."""
    project = state(ctx).project()
    con = stdout_console()
    if check_only:
        checked = check_kostra_project(project, files, period=period, table=table, region=region)
        if as_json:
            print_json(
                {
                    "period": checked.period,
                    "kostra_year": checked.kostra_year,
                    "findings": [f.to_dict() for f in checked.findings],
                }
            )
        else:
            for f in checked.findings:
                con.print(f.format_line(severity_label(f.severity)), markup=False)
            con.print(
                t(
                    "kostra.cli-checked",
                    period=checked.period,
                    year=checked.kostra_year,
                    n=len(checked.findings),
                )
            )
        sys.exit(exit_code_for(checked.findings))
    result = import_kostra_project(project, files, period=period, table=table, region=region)
    report = result.report
    if as_json:
        print_json({"period": result.period, "kostra_year": result.kostra_year, **report.to_json()})
    else:
        for f in report.findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False)
        con.print(
            t(
                "kostra.cli-imported",
                files=len(report.files),
                matched=len(report.matched),
                stored=report.stored,
                path=str(result.history),
            )
        )
    sys.exit(exit_code_for(report.findings))
