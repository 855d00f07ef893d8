"""``bms kostra import``: Statistics Norway's KOSTRA figures into the history database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import ConfigError, exit_code_for
from bms_excel.history import open_history
from bms_excel.i18n import t
from bms_excel.kostra_import import (
    check_coverage,
    import_kostra,
    kostra_year,
    read_kostra_files,
    stored_figures,
)


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
    definition = project.load_definition()
    per = definition.period(project.resolve_period(period, definition))
    missing = [p for p in files if not p.is_file()]
    if missing:
        raise ConfigError(t("cli.file-not-found", path=", ".join(map(str, missing))))
    if not files and not check_only:
        raise ConfigError(t("kostra.cli-no-files"))
    con = stdout_console()
    with open_history(project.history_path) as history:
        if check_only:
            pairs, _, findings = read_kostra_files(list(files), table=table, region=region)
            figures = [*stored_figures(history), *(f for f, _ in pairs)]
            findings += check_coverage(figures, definition, per)
            if as_json:
                print_json(
                    {
                        "period": per.code,
                        "kostra_year": kostra_year(per),
                        "findings": [f.to_dict() for f in findings],
                    }
                )
            else:
                for f in findings:
                    con.print(f.format_line(severity_label(f.severity)), markup=False)
                con.print(
                    t("kostra.cli-checked", period=per.code, year=kostra_year(per), n=len(findings))
                )
            sys.exit(exit_code_for(findings))
        report = import_kostra(list(files), definition, history, per, table=table, region=region)
    if as_json:
        print_json({"period": per.code, "kostra_year": kostra_year(per), **report.to_json()})
    else:
        for f in report.findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False)
        con.print(
            t(
                "kostra.cli-imported",
                files=len(report.files),
                matched=len(report.matched),
                stored=report.stored,
                path=str(project.history_path),
            )
        )
    sys.exit(exit_code_for(report.findings))
