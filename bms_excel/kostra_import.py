"""Import KOSTRA figures from Statistics Norway into the history database, and check coverage.

Parsing lives in :mod:`bms_excel.kostra`; this module matches the figures to the definition's
``source: kostra`` indicators for every year a file holds, and stores them with their source
(table, region, year, status and SSB symbol, import time, file sha256) as external figures:
the county's own figure, each unit's, and the comparison groups (``role = comparison``).

KOSTRA is annual. A period uses the figures of its *KOSTRA year*: its own year for an annual
period (``2025`` → 2025), the year before for a tertial (``2026-T2`` → 2025, the latest complete
year when the tertial is reported).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.errors import Finding
from bms_excel.history import ExternalFigure, History
from bms_excel.i18n import t
from bms_excel.kostra import KostraFigure, MatchedFigure, match_figures, parse_bytes
from bms_excel.model import Definition, Period


def kostra_year(period: Period) -> int:
    """The year of KOSTRA figures a period reports: its own for annual, else the year before."""
    return period.year if period.kind == "annual" else period.year - 1


def year_period(year: int) -> Period:
    """A synthetic annual period for matching figures of ``year``."""
    return Period(
        code=str(year),
        label=str(year),
        kind="annual",
        end=dt.date(year, 12, 31),
        deadline=dt.date(year + 1, 12, 31),
    )


@dataclass
class ImportedFile:
    """One imported file: what it held."""

    path: str
    sha256: str | None
    table: str | None
    figures: int


@dataclass
class ImportReport:
    """What ``bms kostra import`` did."""

    files: list[ImportedFile] = field(default_factory=list)
    matched: list[MatchedFigure] = field(default_factory=list)
    stored: int = 0
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The ``--json`` output."""
        return {
            "files": [vars(f) for f in self.files],
            "stored": self.stored,
            "matched": [
                {
                    "indicator": m.indicator,
                    "year": m.figure.year,
                    "role": m.role,
                    "region": m.region,
                    "unit": m.unit,
                    "value": m.figure.value,
                    "status": m.figure.status,
                }
                for m in self.matched
            ],
            "findings": [f.to_dict() for f in self.findings],
        }


def read_kostra_files(
    paths: Sequence[Path], *, table: str | None = None, region: str | None = None
) -> tuple[list[tuple[KostraFigure, str]], list[ImportedFile], list[Finding]]:
    """Parse every file; return (figure, file sha256) pairs, a summary per file, and findings."""
    pairs: list[tuple[KostraFigure, str]] = []
    files: list[ImportedFile] = []
    findings: list[Finding] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            findings.append(
                Finding(
                    "kostra-unreadable",
                    "error",
                    t("kostra.unreadable", error=exc.strerror or str(exc)),
                    file=str(path),
                )
            )
            files.append(ImportedFile(str(path), None, None, 0))
            continue
        sha = hashlib.sha256(data).hexdigest()
        result = parse_bytes(data, source_name=str(path), table=table, region=region)
        findings.extend(result.findings)
        pairs.extend((fig, sha) for fig in result.figures)
        files.append(ImportedFile(str(path), sha, result.table, len(result.figures)))
    return pairs, files, findings


def _external(m: MatchedFigure, sha: str) -> ExternalFigure:
    fig = m.figure
    return ExternalFigure(
        source="kostra",
        period=str(fig.year),
        value=fig.value,
        table_id=fig.table,
        contents=fig.contents,
        region=m.region,
        status=fig.status,
        indicator=m.indicator,
        unit=m.unit if m.role == "unit" else None,
        file_sha256=sha,
        role=m.role,
        status_symbol=fig.status_symbol,
        region_name=fig.region_name,
    )


def match_all_years(
    pairs: Sequence[tuple[KostraFigure, str]], definition: Definition
) -> list[tuple[MatchedFigure, str]]:
    """Match the figures of every year present to the definition's KOSTRA indicators."""
    sha_of = {id(fig): sha for fig, sha in pairs}
    figures = [fig for fig, _ in pairs]
    out: list[tuple[MatchedFigure, str]] = []
    for year in sorted({f.year for f in figures}):
        of_year = [f for f in figures if f.year == year]
        matched, _ = match_figures(of_year, definition, year_period(year))
        out.extend((m, sha_of[id(m.figure)]) for m in matched)
    return out


def import_kostra(
    paths: Sequence[Path],
    definition: Definition,
    history: History,
    period: Period,
    *,
    table: str | None = None,
    region: str | None = None,
) -> ImportReport:
    """Parse, match and store the figures of ``paths``; findings cover ``period``'s KOSTRA year."""
    pairs, files, findings = read_kostra_files(paths, table=table, region=region)
    report = ImportReport(files=files, findings=findings)
    matched = match_all_years(pairs, definition)
    report.matched = [m for m, _ in matched]
    report.stored = history.record_external(_external(m, sha) for m, sha in matched)
    report.findings.extend(check_coverage([f for f, _ in pairs], definition, period))
    return report


def check_coverage(
    figures: Iterable[KostraFigure], definition: Definition, period: Period
) -> list[Finding]:
    """Which KOSTRA indicators lack data for the period's KOSTRA year, and what is unused."""
    year = kostra_year(period)
    _, findings = match_figures(list(figures), definition, year_period(year))
    return findings


def stored_figures(history: History) -> list[KostraFigure]:
    """The stored KOSTRA figures as parsed figures (for ``--check`` without new files)."""
    out = []
    for f in history.external_figures():
        if f.source != "kostra":
            continue
        out.append(
            KostraFigure(
                table=f.table_id,
                contents=f.contents,
                region=f.region,
                region_name=f.region_name,
                year=int(f.period[:4]),
                value=f.value,
                status=f.status or "ok",  # type: ignore[arg-type]
                status_symbol=f.status_symbol,
                unit=None,
                period=f.period,
            )
        )
    return out
