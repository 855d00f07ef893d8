"""``bms import-values FILE``: figures the controller reports (``source: controller``) and
results of earlier periods, from a ``period,unit,indicator,value`` CSV, into the history."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, severity_label, stdout_console
from bms_excel.errors import ConfigError, Finding, exit_code_for
from bms_excel.history import open_history, read_history_csv
from bms_excel.i18n import t
from bms_excel.model import Definition
from bms_excel.records import ValueRecord


def check_rows(values: list[ValueRecord], definition: Definition, file: str) -> list[Finding]:
    """Rows naming a unit, indicator or period the definition does not have (line-located)."""
    units = {u.code for u in definition.units} | {definition.county.code}
    indicators = {i.code for *_, i in definition.iter_indicators()}
    periods = {p.code for p in definition.periods}
    findings = []
    for line, v in enumerate(values, start=2):
        for ok, key, value in (
            (v.unit in units, "values.unknown-unit", v.unit),
            (v.indicator in indicators, "values.unknown-indicator", v.indicator),
            (v.period in periods, "values.unknown-period", v.period),
        ):
            if not ok:
                findings.append(
                    Finding("unknown-reference", "error", t(key, value=value), file=file, line=line)
                )
    return findings


@main.command("import-values")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def import_values_command(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Les inn controllerens tall og tidligere perioders resultater (period,unit,indicator,value).

    Bruk fylkets kode som enhet for tall på fylkesnivå. Samme fil to ganger endrer ingenting;
    en rettet fil erstatter de tidligere tallene for de samme enhetene, og begge blir stående i
    revisjonssporet.
    """
    project = state(ctx).project()
    definition = project.load_definition()
    if not file.is_file():
        raise ConfigError(t("cli.file-not-found", path=str(file)))
    values = read_history_csv(file)
    findings = check_rows(values, definition, file.name)
    added = 0
    if not findings:
        with open_history(project.history_path) as db:
            added = db.import_history_csv(file).values_added
    if as_json:
        print_json(
            {
                "file": str(file),
                "values": len(values),
                "added": added,
                "findings": [f.to_dict() for f in findings],
            }
        )
    else:
        con = stdout_console()
        for f in findings:
            con.print(f.format_line(severity_label(f.severity)), markup=False)
        if not findings:
            con.print(
                t("values.imported", n=len(values), added=added, path=str(project.history_path))
            )
    sys.exit(exit_code_for(findings))
