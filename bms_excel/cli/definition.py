"""``bms definition export|import``: the scorecard definition as a workbook (issue 18)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import export_definition_project, import_definition_file
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stderr_console, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t


@main.group("definition")
def definition_group() -> None:
    """Målekartet i Excel: eksporter definisjonen til en arbeidsbok og les den inn igjen."""


@definition_group.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Arbeidsboka som skrives (standard: rapporter/malekart.xlsx).",
)
@click.pass_context
def export_command(ctx: click.Context, out: Path | None) -> None:
    """Skriv målekortdefinisjonen som en arbeidsbok controllere kan redigere i Excel."""
    cli = state(ctx)
    result = export_definition_project(cli.project(), out=out, lang=cli.lang)
    seconds = f"{result.seconds:.1f}"
    stdout_console().print(t("defbook.cli-exported", path=str(result.path), seconds=seconds))


@definition_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML-filen som skrives (standard: definition.yaml ved siden av arbeidsboka).",
)
@click.option("--force", is_flag=True, help="Skriv over en fil som finnes.")
@click.option("--json", "as_json", is_flag=True, help="Skriv funnene som JSON.")
def import_command(file: Path, out: Path | None, force: bool, as_json: bool) -> None:
    """Les en redigert målekart-arbeidsbok og skriv definition.yaml.

    Alle feil meldes med ark og celle ('Indikatorer'!F12) og samme koder som «bms check»;
    når arbeidsboka har feil, skrives ingenting.
    """
    target = out or file.with_name("definition.yaml")
    if target.exists() and not force:
        stderr_console().print(f"bms: {t('defbook.cli-exists', path=str(target))}", markup=False)
        sys.exit(2)
    result = import_definition_file(file, out=target)
    findings = result.findings
    if as_json:
        print_json({"file": result.file, "findings": [f.to_dict() for f in findings]})
    else:
        con = stdout_console()
        for f in findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)
        key = "defbook.cli-imported" if result.definition is not None else "defbook.cli-not-written"
        con.print(t(key, path=str(target)), markup=False)
    sys.exit(exit_code_for(findings))
