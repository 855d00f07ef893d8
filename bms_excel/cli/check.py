"""``bms check [DEFINITION]``: quality checks of a scorecard definition."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bms_excel.api import check_definition_file
from bms_excel.cli import main, state
from bms_excel.cli.render import (
    findings_table,
    print_json,
    severity_label,
    stderr_console,
    stdout_console,
    summary_line,
)
from bms_excel.errors import DefinitionError, Finding, exit_code_for
from bms_excel.i18n import t

if TYPE_CHECKING:
    from rich.console import Console


def print_finding_lines(con: Console, findings: Sequence[Finding]) -> None:
    """One ``file:line: severity: message [code]`` line per finding (the README's format)."""
    for f in findings:
        con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)


def print_definition_error(exc: DefinitionError) -> None:
    """A definition that stops a command: its problems in the one-line format on stderr."""
    con = stderr_console()
    if not exc.problems:
        con.print(f"bms: {exc.message}", markup=False, highlight=False)
        return
    print_finding_lines(con, exc.problems)
    name = exc.problems[0].file or ""
    con.print(t("check.summary", file=name, summary=summary_line(exc.problems)), markup=False)


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
    # The definition workbook's findings are located to sheet!cell instead of line and path.
    in_book = any(f.sheet for f in findings)
    if as_json:
        print_json({"findings": [f.to_dict() for f in findings]})
    else:
        con = stdout_console()
        if findings and sys.stdout.isatty():
            where = ("file", "sheet", "cell") if in_book else ("file", "line", "path")
            table = findings_table(findings, where)
            code = table.columns[-1]  # a code is what scripts and people search for: never cut
            code.no_wrap, code.min_width = True, max(len(f.code) for f in findings)
            con.print(table)
        else:  # piped or redirected: one greppable line per finding
            print_finding_lines(con, findings)
        con.print(t("check.summary", file=str(path), summary=summary_line(findings)))
    sys.exit(exit_code_for(findings))
