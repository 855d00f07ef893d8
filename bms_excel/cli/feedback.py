"""``bms feedback``: one workbook per unit with its results, the county's and its sector's,
its trend, KOSTRA, the controller's comments and what the county learned."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import feedback_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t


@main.command("feedback")
@click.option("--period", default=None, help="Perioden (standard: prosjektets).")
@click.option(
    "--comments",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Controllerens kommentarer: CSV (enhet;fokusområde;kommentar) eller masteren.",
)
@click.option("--unit", "units", multiple=True, help="Bare disse enhetene (kan gjentas).")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), default=None, help="Mappe."
)
@click.option("--by", default=None, help="Hvem som sender (standard: brukeren som kjører).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def feedback_command(
    ctx: click.Context,
    period: str | None,
    comments: Path | None,
    units: tuple[str, ...],
    out: Path | None,
    by: str | None,
    as_json: bool,
) -> None:
    """Skriv én tilbakemelding per enhet (signert, med utsendingsliste)."""
    project = state(ctx).project()
    result = feedback_project(
        project,
        period=period,
        comments=comments,
        units=units,
        out=out,
        lang=state(ctx).lang,
        by=by,
    )
    if as_json:
        print_json(
            {
                "period": result.period,
                "out_dir": str(result.out_dir),
                "files": [str(p) for p in result.files],
                "manifest": str(result.manifest_csv) if result.manifest_csv else None,
                "findings": [f.to_dict() for f in result.findings],
            }
        )
    else:
        con = stdout_console()
        for f in result.findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)
        con.print(
            t(
                "feedback.cli-written",
                n=len(result.files),
                period=result.period,
                path=str(result.out_dir),
                manifest=str(result.manifest_csv or "–"),
            ),
            markup=False,
        )
    sys.exit(exit_code_for(result.findings))
