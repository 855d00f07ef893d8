"""``bms import-values FILE``: figures the controller reports (``source: controller``) and
results of earlier periods, from a ``period;unit;indicator;value`` CSV, into the history."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import import_values_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t


@main.command("import-values")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def import_values_command(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Les inn controllerens tall og tidligere perioders resultater (period;unit;indicator;value).

    Filen kan være lagret fra norsk Excel (semikolon, desimalkomma, Windows-1252 eller UTF-8).
    Bruk fylkets kode som enhet for tall på fylkesnivå. Alle feil meldes med linjenummer, og
    ingenting lagres før filen er uten feil. Samme fil to ganger endrer ingenting; en rettet fil
    erstatter de tidligere tallene for de samme enhetene, og begge blir stående i
    revisjonssporet.
    """
    project = state(ctx).project()
    result = import_values_project(project, file)
    findings = result.findings
    if as_json:
        print_json(
            {
                "file": result.file,
                "values": result.values,
                "added": result.added,
                "findings": [f.to_dict() for f in findings],
            }
        )
    else:
        con = stdout_console()
        for f in findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)
        if exit_code_for(findings) == 0:
            path = str(project.history_path)
            con.print(t("values.imported", n=result.values, added=result.added, path=path))
    sys.exit(exit_code_for(findings))
