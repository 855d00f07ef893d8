"""``bms generate``: one workbook per unit plus the send-out manifest."""

from __future__ import annotations

from pathlib import Path

import click

from bms_excel.cli import main, state
from bms_excel.cli.check import checked_definition
from bms_excel.cli.render import print_json, stderr_console, stdout_console
from bms_excel.errors import ConfigError
from bms_excel.i18n import LANGUAGES, get_language, t


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
    from dataclasses import asdict

    from rich.progress import Progress

    from bms_excel.control_workbook import add_macros_to_generated
    from bms_excel.generate import generate_workbooks

    if macros and vba_project is None:
        raise ConfigError(t("generate.macros-need-vba"))
    project = state(ctx).project()
    definition = checked_definition(project)
    chosen = project.resolve_period(period, definition)
    lang = workbook_lang or state(ctx).lang or project.language or get_language()
    out_dir = out or project.generated_dir / chosen
    history = None
    kostra = None
    if project.history_path.exists():
        from bms_excel.history import open_history
        from bms_excel.kostra_import import kostra_views

        with open_history(project.history_path, lock=False) as db:
            history = db.history_for_generation(definition, chosen, list(units) or None)
            kostra = kostra_views(db, definition, definition.period(chosen))
    kwargs = {
        "history": history,
        "kostra": kostra,
        "out_dir": out_dir,
        "secret": project.secret,
        "units": list(units) or None,
        "sector": sector,
        "lang": lang,
        "template": project.template_path,
        "processes": processes,
    }
    if as_json:
        result = generate_workbooks(definition, chosen, **kwargs)  # type: ignore[arg-type]
        if vba_project is not None and macros:
            result = add_macros_to_generated(result, vba_project)
        print_json(
            {
                "period": chosen,
                "out": str(out_dir),
                "manifest_csv": str(result.manifest_csv),
                "manifest_json": str(result.manifest_json),
                "files": [asdict(r) for r in result.manifest],
            }
        )
        return
    with Progress(console=stderr_console(), transient=True) as bar:
        task = bar.add_task(t("generate.progress"), total=None)

        def progress(done: int, total: int, code: str) -> None:
            bar.update(task, completed=done, total=total, description=code)

        result = generate_workbooks(definition, chosen, progress=progress, **kwargs)  # type: ignore[arg-type]
    if vba_project is not None and macros:
        result = add_macros_to_generated(result, vba_project)
    stdout_console().print(
        t(
            "generate.done",
            n=len(result.files),
            period=chosen,
            out=str(out_dir),
            manifest=str(result.manifest_csv),
        )
    )
