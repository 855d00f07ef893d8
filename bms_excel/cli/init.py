"""``bms init DIR``: create a project folder."""

from __future__ import annotations

from pathlib import Path

import click

from bms_excel.api import init_project
from bms_excel.cli import main
from bms_excel.cli.render import stdout_console
from bms_excel.i18n import LANGUAGES, t


@main.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--example", default=None, help="Start fra et innebygd eksempel (stfk, nynorsk).")
@click.option(
    "--definition",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Start fra en eksisterende definition.yaml eller målekart-arbeidsbok (.xlsx).",
)
@click.option("--period", default=None, help="Gjeldende periode, f.eks. 2026-T1.")
@click.option("--language", type=click.Choice(LANGUAGES), default=None, help="Språk i prosjektet.")
def init_command(
    directory: Path,
    example: str | None,
    definition: Path | None,
    period: str | None,
    language: str | None,
) -> None:
    """Opprett en prosjektmappe med bms.toml, definisjon og mapper for utsending og innsamling."""
    project = init_project(
        directory, example=example, definition=definition, period=period, language=language
    )
    stdout_console().print(t("project.created", path=str(project.root)))
