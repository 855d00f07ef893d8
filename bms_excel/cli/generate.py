"""``bms generate``: one workbook per unit plus the send-out manifest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click
from rich.progress import Progress

from bms_excel.api import generate_project
from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, stderr_console, stdout_console
from bms_excel.errors import ConfigError
from bms_excel.i18n import LANGUAGES, t


@main.command("generate")
@click.option("--period", default=None, help="Periode, f.eks. 2026-T1 (standard: prosjektets).")
@click.option("--units", "units", multiple=True, help="Bare disse enhetskodene (kan gjentas).")
@click.option("--sector", default=None, help="Bare enhetene i denne sektoren.")
@click.option(
    "--lang",
    "workbook_lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Språk i arbeidsbøkene (standard: prosjektets).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Mappe for arbeidsbøkene (standard: prosjektets utsendt/<periode>).",
)
@click.option("--processes", type=click.IntRange(min=1), default=None, help="Antall prosesser.")
@click.option(
    "--macros",
    is_flag=True,
    help="Gi arbeidsbøkene en Valider-knapp (.xlsm); krever --vba-project og xlwings på PC-ene.",
)
@click.option(
    "--vba-project",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="vbaProject.bin med makroene fra macros/ (kompilert én gang i Excel).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv utsendingslisten som JSON.")
@click.pass_context
def generate_command(
    ctx: click.Context,
    period: str | None,
    units: tuple[str, ...],
    sector: str | None,
    workbook_lang: str | None,
    out: Path | None,
    processes: int | None,
    macros: bool,
    vba_project: Path | None,
    as_json: bool,
) -> None:
    """Lag én beskyttet, selvkontrollerende arbeidsbok per enhet, og en utsendingsliste."""
    if macros and vba_project is None:
        raise ConfigError(t("generate.macros-need-vba"))
    project = state(ctx).project()
    with _progress(enabled=not as_json) as progress:
        result = generate_project(
            project,
            period=period,
            units=units,
            sector=sector,
            lang=workbook_lang or state(ctx).lang,
            out=out,
            processes=processes,
            vba_project=vba_project if macros else None,
            progress=progress,
        )
    if as_json:
        print_json(
            {
                "period": result.period,
                "out": str(result.out_dir),
                "manifest_csv": str(result.manifest_csv),
                "manifest_json": str(result.manifest_json),
                "files": [asdict(r) for r in result.manifest],
            }
        )
        return
    stdout_console().print(
        t(
            "generate.done",
            n=len(result.files),
            period=result.period,
            out=str(result.out_dir),
            manifest=str(result.manifest_csv),
        )
    )


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A transient bar on stderr naming the unit being written (nothing with ``--json``)."""
    if not enabled:
        yield None
        return
    with Progress(console=stderr_console(), transient=True) as bar:
        task = bar.add_task(t("generate.progress"), total=None)

        def progress(done: int, total: int, code: str) -> None:
            bar.update(task, completed=done, total=total, description=code)

        yield progress
