"""``bms period close P`` and ``bms period reopen P --reason ...``: lock a period against new
returns, or open it again; both are in the history's audit trail and on the master's Om."""

from __future__ import annotations

import click

from bms_excel.api import close_period_project, reopen_period_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, stdout_console
from bms_excel.i18n import t


@main.group("period")
def period_group() -> None:
    """Lukk en periode (ingen nye innleveringer) eller åpne den igjen."""


@period_group.command("close")
@click.argument("period")
@click.option("--reason", default=None, help="Hvorfor (valgfritt).")
@click.option("--by", default=None, help="Hvem (standard: brukeren som kjører).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def close_command(
    ctx: click.Context, period: str, reason: str | None, by: str | None, as_json: bool
) -> None:
    """Lukk perioden: konsolidering tar da ikke imot nye innleveringer for den."""
    event = close_period_project(state(ctx).project(), period, by=by, reason=reason)
    if as_json:
        print_json({"period": event.period, "state": event.kind, "by": event.by, "at": event.at})
    else:
        stdout_console().print(t("dialogue.cli-period-closed", period=period, by=event.by))


@period_group.command("reopen")
@click.argument("period")
@click.option("--reason", required=True, help="Hvorfor perioden åpnes igjen (påkrevd).")
@click.option("--by", default=None, help="Hvem (standard: brukeren som kjører).")
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def reopen_command(
    ctx: click.Context, period: str, reason: str, by: str | None, as_json: bool
) -> None:
    """Åpne en lukket periode igjen (begrunnelsen lagres i revisjonssporet)."""
    event = reopen_period_project(state(ctx).project(), period, reason=reason, by=by)
    if as_json:
        print_json(
            {"period": event.period, "state": event.kind, "by": event.by, "reason": event.reason}
        )
    else:
        con = stdout_console()
        con.print(
            t("dialogue.cli-period-reopened", period=period, by=event.by, reason=reason),
            markup=False,
        )
