"""Import KOSTRA figures from Statistics Norway into the history database, and check coverage.

Parsing lives in :mod:`bms_excel.kostra` (JSON-stat and statbank CSV); this module matches the figures to the definition's
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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.history import ExternalFigure, History
from bms_excel.i18n import t
from bms_excel.kostra import KostraFigure, Role, kostra_finding, parse_bytes
from bms_excel.model import Definition, Indicator, Period


@dataclass(frozen=True, slots=True)
class MatchedFigure:
    """A figure an indicator uses: for the county, a unit or a comparison group."""

    indicator: str
    period: str
    role: Role
    region: str
    unit: str | None
    figure: KostraFigure


# -- matching figures to indicators ---------------------------------------------------------------------------------


def _norm_table(table: str) -> str:
    table = table.strip()
    return (table.lstrip("0") or "0") if table.isdigit() else table


def _wanted(ind: Indicator, definition: Definition) -> list[tuple[Role, str, str | None]]:
    """(role, region, unit code) for every region an indicator asks for, without duplicates."""
    ks = ind.kostra
    assert ks is not None
    out: list[tuple[Role, str, str | None]] = []
    county_region = ks.region or definition.county.kostra_region
    if county_region:
        out.append(("county", county_region, None))
    units = definition.units_for_indicator(ind)
    units += [u for u in definition.units if u.code in ks.unit_regions and u not in units]
    for unit in units:
        reg = ks.unit_regions.get(unit.code) or unit.kostra_region
        if reg:
            out.append(("unit", reg, unit.code))
    out += [("comparison", reg, None) for reg in ks.comparison]
    return out


def _sample(items: Iterable[str], limit: int = 5) -> str:
    items = sorted(items)
    shown = ", ".join(i or t("kostra.no-region-label") for i in items[:limit])
    return shown + (f" … (+{len(items) - limit})" if len(items) > limit else "")


def match_figures(
    figures: Sequence[KostraFigure], definition: Definition, period: Period | str
) -> tuple[list[MatchedFigure], list[Finding]]:
    """Find each KOSTRA indicator's figures for the period's year; report gaps and unused data.

    When several files hold the same cell, the later figure in ``figures`` wins (a June import
    after a March one).
    """
    per = definition.period(period) if isinstance(period, str) else period
    year = per.year
    index: dict[tuple[str, str, str, int], dict[tuple[tuple[str, str], ...], KostraFigure]] = {}
    for fig in figures:
        key = (_norm_table(fig.table), fig.contents, fig.region, fig.year)
        index.setdefault(key, {})[fig.other] = fig

    matched: list[MatchedFigure] = []
    findings: list[Finding] = []
    used: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for *_, ind in definition.iter_indicators():
        if ind.source != "kostra" or ind.kostra is None:
            continue
        ks = ind.kostra
        table = _norm_table(ks.table)
        wanted = _wanted(ind, definition)
        if not wanted:
            msg = t("kostra.no-region-in-definition", indicator=ind.code)
            findings.append(kostra_finding("kostra-no-region", msg, None, indicator=ind.code))
        for role, region, unit in wanted:
            used[table][ks.contents].add(region)
            candidates = index.get((table, ks.contents, region, year), {})
            where = dict(
                indicator=ind.code, table=ks.table, contents=ks.contents, region=region, year=year
            )
            if len(candidates) > 1:
                dims = _sample({f"{k}={v}" for other in candidates for k, v in other})
                msg = t("kostra.ambiguous", count=len(candidates), dimensions=dims, **where)
                findings.append(kostra_finding("kostra-ambiguous", msg, None, **where))
                continue
            if not candidates:
                role_text = {
                    "county": t("kostra.role.county"),
                    "unit": t("kostra.role.unit", unit=unit or ""),
                    "comparison": t("kostra.role.comparison"),
                }[role]
                msg = t("kostra.no-data", role=role_text, **where)
                findings.append(kostra_finding("kostra-no-data", msg, None, role=role, **where))
                continue
            fig = next(iter(candidates.values()))
            if fig.superseded_until is not None and fig.superseded_until < year:
                msg = t("kostra.superseded-region", until=fig.superseded_until, **where)
                findings.append(kostra_finding("kostra-superseded-region", msg, None, **where))
            matched.append(MatchedFigure(ind.code, per.code, role, region, unit, fig))
    findings += _unused(figures, used)
    return matched, findings


def _unused(
    figures: Iterable[KostraFigure], used: Mapping[str, Mapping[str, set[str]]]
) -> list[Finding]:
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for fig in figures:
        found[_norm_table(fig.table)][fig.contents].add(fig.region)
    findings: list[Finding] = []
    for table, contents_map in sorted(found.items()):
        if table not in used:
            msg = t("kostra.unused-table", table=table or "?")
            findings.append(kostra_finding("kostra-unused", msg, None, table=table))
            continue
        file_regions = set().union(*contents_map.values())
        wanted_regions = set().union(*used[table].values())
        if not file_regions & wanted_regions:
            msg = t(
                "kostra.other-region",
                table=table,
                regions=_sample(file_regions),
                expected=_sample(wanted_regions),
            )
            findings.append(kostra_finding("kostra-other-region", msg, None, table=table))
            continue
        for contents, regions in sorted(contents_map.items()):
            if contents not in used[table]:
                msg = t("kostra.unused-contents", table=table, contents=contents)
                findings.append(
                    kostra_finding("kostra-unused", msg, None, table=table, contents=contents)
                )
                continue
            extra = regions - used[table][contents]
            if extra:
                msg = t(
                    "kostra.unused-regions",
                    table=table,
                    contents=contents,
                    count=len(extra),
                    regions=_sample(extra),
                )
                findings.append(
                    kostra_finding("kostra-unused", msg, None, table=table, contents=contents)
                )
    return findings


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
            error = exc.strerror or str(exc)
            findings.append(make_finding("kostra-unreadable", file=str(path), error=error))
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


@dataclass
class KostraView:
    """The KOSTRA figures one indicator shows for a period: its year, the county's figure,
    each unit's, and the comparison groups (region code → figure)."""

    indicator: str
    year: int
    county: ExternalFigure | None = None
    units: dict[str, ExternalFigure] = field(default_factory=dict)
    comparisons: dict[str, ExternalFigure] = field(default_factory=dict)
    series: dict[str, dict[int, float | None]] = field(default_factory=dict)


def kostra_views(history: History, definition: Definition, period: Period) -> dict[str, KostraView]:
    """Per KOSTRA indicator: the figures of the period's KOSTRA year, and every stored year as
    a series per region (``series[region][year]``) for charts of the county against the groups."""
    year = kostra_year(period)
    wanted = {ind.code for *_, ind in definition.iter_indicators() if ind.source == "kostra"}
    views = {code: KostraView(code, year) for code in sorted(wanted)}
    for fig in history.external_figures():
        if fig.source != "kostra" or fig.indicator not in views:
            continue
        view = views[fig.indicator]
        fig_year = int(fig.period[:4])
        if fig.role != "unit":
            view.series.setdefault(fig.region, {})[fig_year] = fig.value
        if fig_year != year:
            continue
        if fig.role == "county":
            view.county = fig
        elif fig.role == "unit" and fig.unit:
            view.units[fig.unit] = fig
        elif fig.role == "comparison":
            view.comparisons[fig.region] = fig
    return views
