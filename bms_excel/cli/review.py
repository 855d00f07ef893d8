"""``bms review UNIT --approve | --return --reason TEXT``: the controller's decision on a
unit's return; ``bms review --from MASTER`` reads the decisions entered on the master."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.api import review_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import t


@main.command("review")
@click.argument("unit", required=False)
@click.option("--approve", "decision", flag_value="approved", help="Godkjenn innleveringen.")
@click.option(
    "--return", "decision", flag_value="returned", help="Returner innleveringen (krever --reason)."
)
@click.option("--reason", default=None, help="Begrunnelsen (vises på Veiledning i ny arbeidsbok).")
@click.option("--period", default=None, help="Perioden (standard: prosjektets).")
@click.option("--by", default=None, help="Hvem som vurderer (standard: brukeren som kjører).")
@click.option(
    "--from",
    "master",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Les vurderingene fra masterens ark Innsending.",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def review_command(
    ctx: click.Context,
    unit: str | None,
    decision: str | None,
    reason: str | None,
    period: str | None,
    by: str | None,
    master: Path | None,
    as_json: bool,
) -> None:
    """Godkjenn eller returner en enhets innlevering. En returnert enhet får en ny arbeidsbok
    for samme periode med sine egne tall utfylt og begrunnelsen på Veiledning; neste
    innlevering erstatter den forrige. Hver vurdering lagres med hvem, når og hvorfor."""
    project = state(ctx).project()
    result = review_project(
        project,
        unit,
        decision=decision,
        reason=reason,
        period=period,
        by=by,
        master=master,
        lang=state(ctx).lang,
    )
    if as_json:
        print_json(
            {
                "period": result.period,
                "events": [
                    {"unit": e.unit, "decision": e.kind, "reason": e.reason, "by": e.by, "at": e.at}
                    for e in result.events
                ],
                "workbooks": {k: str(v) for k, v in result.workbooks.items()},
                "findings": [f.to_dict() for f in result.findings],
            }
        )
    else:
        con = stdout_console()
        for f in result.findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False, highlight=False)
        if master is not None:
            con.print(t("dialogue.cli-from-master", n=len(result.events), path=str(master)))
        for e in result.events:
            decided = t(f"dialogue.kind.{e.kind}")
            con.print(
                t("dialogue.cli-reviewed", unit=e.unit, period=e.period, decision=decided, by=e.by),
                markup=False,
            )
            if e.unit in result.workbooks:
                path = str(result.workbooks[e.unit])
                con.print(t("dialogue.cli-returned-workbook", unit=e.unit, path=path), markup=False)
    sys.exit(exit_code_for(result.findings))
