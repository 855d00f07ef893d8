"""``bms report``: the period's report (PDF and accessible HTML) from the history database."""

from __future__ import annotations

from pathlib import Path

import click

from bms_excel.cli import main, state
from bms_excel.cli.render import print_json, stdout_console
from bms_excel.i18n import LANGUAGES, get_language, t


@main.command("report")
@click.option("--period", default=None, help="Perioden rapporten gjelder (standard: prosjektets).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("pdf", "html", "both")),
    default="both",
    show_default=True,
    help="PDF, HTML eller begge.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Mappe for rapporten (standard: rapporter/).",
)
@click.option(
    "--lang",
    "report_lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Språk i rapporten: nb (bokmål), nn (nynorsk), en (standard: prosjektets).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.pass_context
def report_command(
    ctx: click.Context,
    period: str | None,
    fmt: str,
    out: Path | None,
    report_lang: str | None,
    as_json: bool,
) -> None:
    """Lag tertialrapporten (PDF og tilgjengelig HTML) fra historikkdatabasen."""
    from bms_excel.report import report_project

    cli = state(ctx)
    project = cli.project()
    lang = report_lang or cli.lang or project.language
    model, files = report_project(project, period=period, fmt=fmt, out=out, lang=lang)
    written = files.files()
    if as_json:
        print_json(
            {
                "period": model.period,
                "files": {k: str(v) for k, v in (("pdf", files.pdf), ("html", files.html)) if v},
                "seconds": {k: round(v, 3) for k, v in files.timings.items()},
                "green": model.green_indicators,
                "indicators": model.total_indicators,
            }
        )
        return
    con = stdout_console()
    for path in written:
        con.print(t("report.written", get_language(), path=str(path)), markup=False)
    seconds = f"{files.timings['total']:.1f}".replace(".", ",")
    con.print(t("report.timing", get_language(), seconds=seconds), markup=False)
