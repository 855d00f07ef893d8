"""``bms check [DEFINITION]``: quality checks of a scorecard definition."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import check_definition_file
from bms_excel.cli import main, state
from bms_excel.cli.render import findings_table, print_json, stdout_console, summary_line
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t

JSON_KEYS = ("code", "severity", "file", "line", "path", "message")


@main.command("check")
@click.argument(
    "definition", type=click.Path(path_type=Path, dir_okay=False), required=False, default=None
)
@click.option("--json", "as_json", is_flag=True, help="Skriv funnene som JSON.")
@click.option(
    "--max-indicators",
    type=click.IntRange(min=1),
    default=None,
    help="Største antall indikatorer per enhet (overstyrer settings.max_indicators_per_unit).",
)
@click.pass_context
def check_command(
    ctx: click.Context, definition: Path | None, as_json: bool, max_indicators: int | None
) -> None:
    """Kvalitetssjekk av et målekart: koder, terskler, eiere, koblinger, balanse."""
    path = definition if definition is not None else state(ctx).project().definition_path
    findings = check_definition_file(path, max_indicators=max_indicators)
    if as_json:
        print_json({"findings": [{k: getattr(f, k) for k in JSON_KEYS} for f in findings]})
    else:
        con = stdout_console()
        if findings:
            con.print(findings_table(findings, ("file", "line", "path")))
        con.print(t("check.summary", file=str(path), summary=summary_line(findings)))
    sys.exit(exit_code_for(findings))
