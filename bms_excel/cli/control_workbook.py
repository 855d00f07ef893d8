"""``bms control-workbook``: the controller's workbook with the Excel buttons (DESIGN §8)."""

from __future__ import annotations

from pathlib import Path

import click

from bms_excel.api import DEFAULT_INTERPRETER, control_workbook_project
from bms_excel.cli import main, state
from bms_excel.cli.render import stdout_console
from bms_excel.i18n import t


@main.command("control-workbook")
@click.option(
    "--vba-project",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="vbaProject.bin kompilert i Excel: gir en .xlsm med makroer (se macros/README.md).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Filen som skrives (standard: prosjektets rapporter/kontroll.xlsx eller .xlsm).",
)
@click.option("--period", default=None, help="Periode i Innstillinger (standard: prosjektets).")
@click.option(
    "--interpreter",
    default=DEFAULT_INTERPRETER,
    show_default=True,
    help="Python som knappene starter (Interpreter_Win i arket xlwings.conf).",
)
@click.pass_context
def control_workbook_command(
    ctx: click.Context,
    vba_project: Path | None,
    out: Path | None,
    period: str | None,
    interpreter: str,
) -> None:
    """Lag kontrollarbeidsboken med knappene Generer, Samle inn og Konsolider."""
    cli = state(ctx)
    result = control_workbook_project(
        cli.project(),
        out=out,
        period=period,
        lang=cli.lang,
        vba_project=vba_project,
        interpreter=interpreter,
    )
    key = "cwb.written-xlsm" if result.macros else "cwb.written-xlsx"
    stdout_console().print(
        t(key, path=str(result.path), sheet=result.settings_sheet), markup=False, highlight=False
    )
