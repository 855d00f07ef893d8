"""``bms demo``: run the whole cycle on the bundled example county."""

from __future__ import annotations

from pathlib import Path

import click

from bms_excel.cli import main
from bms_excel.cli.render import print_json, stdout_console
from bms_excel.i18n import t


@main.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo-out"),
    show_default=True,
    help="Mappe for demoprosjektet (en tidligere demo der slettes).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv stiene som JSON.")
@click.option("--example", default="stfk", show_default=True, help="Eksempel: stfk eller nynorsk.")
def demo_command(out: Path, as_json: bool, example: str) -> None:
    """Kjør hele syklusen på eksempelfylket og vis hva som ble laget."""
    from bms_excel.demo import run_demo

    con = stdout_console()
    result = run_demo(out.resolve(), example=example, say=None if as_json else con.print)
    if as_json:
        print_json(result.paths)
    else:
        con.print(t("demo.done", path=result.paths["project"]))
