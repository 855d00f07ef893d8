"""``bms consolidate``: collect, record in the history, and write the county master workbook."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bms_excel.cli import main, state
from bms_excel.cli.collect import print_report
from bms_excel.cli.render import print_json, progress_bar, stdout_console
from bms_excel.errors import exit_code_for
from bms_excel.i18n import get_language, t
from bms_excel.status import Status, status_label


@main.command("consolidate")
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False), required=False, default=None
)
@click.option("--period", default=None, help="Perioden som konsolideres (standard: prosjektets).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Fylkesrapporten (standard: rapporter/bms_<fylke>_<periode>.xlsx).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Eksporter langtabellen som CSV (semikolon, desimalkomma).",
)
@click.option(
    "--parquet",
    "parquet_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Eksporter langtabellen som Parquet (krever pyarrow).",
)
@click.option("--json", "as_json", is_flag=True, help="Skriv resultatet som JSON.")
@click.option("--processes", type=click.IntRange(min=1), default=None, help="Antall prosesser.")
@click.pass_context
def consolidate_command(
    ctx: click.Context,
    folder: Path | None,
    period: str | None,
    out: Path | None,
    csv_path: Path | None,
    parquet_path: Path | None,
    as_json: bool,
    processes: int | None,
) -> None:
    """Konsolider: samle inn, lagre i historikken og lag fylkesrapporten (masterarbeidsboka)."""
    # pandas (≈0.6 s to import) is loaded only by this command.
    from bms_excel.master import consolidate_project

    project = state(ctx).project()
    with progress_bar(t("consolidate.progress"), enabled=not as_json) as progress:
        result = consolidate_project(
            project,
            period=period,
            folder=folder,
            out=out,
            csv_path=csv_path,
            parquet_path=parquet_path,
            lang=state(ctx).lang,
            processes=processes,
            progress=progress,
        )
    lang = get_language()
    if as_json:
        print_json(result.to_json())
    else:
        con = stdout_console()
        if result.aborted_runs or result.removed_temp_files:
            runs = ", ".join(str(r) for r in result.aborted_runs) or "–"
            n = len(result.removed_temp_files)
            con.print(t("consolidate.cleaned-up", runs=runs, files=n), markup=False)
        print_report(result.report)
        for area in result.focus_areas():
            score = f" ({area['score']:.0f})" if area["score"] is not None else ""
            con.print(
                t(
                    "consolidate.area-line",
                    code=area["code"] or "–",
                    name=area["name"],
                    status=status_label(Status(area["status"]), lang),
                    score=score,
                ),
                markup=False,
            )
        con.print(t("consolidate.history-written", path=str(result.history), run=result.run_id))
        for path in result.exports.values():
            con.print(t("consolidate.export-written", path=str(path)))
        con.print(t("consolidate.done", path=str(result.master)))
    sys.exit(exit_code_for(result.report.findings))
