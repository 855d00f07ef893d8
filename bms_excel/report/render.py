"""The report as accessible HTML (jinja2) and as PDF (headless Chromium's print-to-PDF).

One HTML page is rendered from :class:`~bms_excel.report.model.ReportModel` with the strategy
map and the charts inline as SVG. The PDF is that very page printed by Chromium through the
DevTools command ``Page.printToPDF`` (driven with selenium and chromedriver): A4, the county's
name and the period in the header and "side n av m" in the footer of every page, a tagged PDF
with selectable text in reading order. Both files are written atomically.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from bms_excel.errors import ConfigError, OutputError
from bms_excel.i18n import t
from bms_excel.report.charts import kostra_svg, trend_svg, unique_ids
from bms_excel.report.strategy_map import render_map_svg
from bms_excel.report.tree import ReportModel
from bms_excel.values import format_number
from bms_excel.xlsx.files import write_atomic

FORMATS = ("pdf", "html", "both")
#: Where Debian puts the browser and its driver (``apt-get install chromium chromium-driver``).
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: A4 in inches, and the margins that leave room for the header and the footer.
A4 = (8.27, 11.69)
MARGINS = {"marginTop": 0.75, "marginBottom": 0.7, "marginLeft": 0.6, "marginRight": 0.6}


@dataclass
class ReportFiles:
    """What ``bms report`` wrote, and how long each step took (seconds)."""

    html: Path | None = None
    pdf: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """The files written: the PDF, then the HTML."""
        return [p for p in (self.pdf, self.html) if p is not None]


def report_basename(model: ReportModel) -> str:
    """``rapport_<county>_<period>`` with only file-name-safe characters."""
    from bms_excel.generate import safe_filename

    return "rapport_" + safe_filename(model.county_code, model.period).removesuffix(".xlsx")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bms_excel.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v: "" if v is None else format_number(round(float(v)))
    return env


def _svg_with_label(svg: str, label: str) -> Markup:
    """An inline SVG marked as one image with ``label`` as its text alternative."""
    head = f'<svg role="img" aria-label="{escape(label)}" focusable="false"'
    return Markup(svg.replace("<svg", head, 1))


def chart_label(line: Any, lang: str) -> str:
    """The text alternative of an indicator's trend chart: every point, in words."""
    points = "; ".join(f"{p}: {_plain(v, line.decimals)}" for p, v in line.series)
    return t("report.chart.trend-alt", lang, code=line.code, name=line.name, points=points)


def _plain(value: float | None, decimals: int) -> str:
    from bms_excel.report.model import value_text

    return value_text(value, decimals) if value is not None else "–"


def render_html(model: ReportModel) -> str:
    """The whole report as one self-contained HTML page."""
    lang = model.lang
    trend_charts: dict[str, Markup] = {}
    kostra_charts: dict[str, Markup] = {}
    for i, line in enumerate(model.indicators()):
        svg = trend_svg(line, f"trend{i}")
        if svg is not None:
            trend_charts[line.code] = _svg_with_label(svg, chart_label(line, lang))
        svg = kostra_svg(line, f"kostra{i}")
        if svg is not None:
            alt = t("report.chart.kostra-alt", lang, code=line.code, name=line.name)
            kostra_charts[line.code] = _svg_with_label(svg, alt)
    map_svg = unique_ids(render_map_svg(model.map_nodes, model.map_links, lang), "map")
    strategy_map = _svg_with_label(map_svg, t("report.map.alt", lang, county=model.county_name))
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            m=model,
            T=lambda key, **kw: t(key, lang, **kw),
            html_lang=lang,
            strategy_map=strategy_map,
            trend_charts=trend_charts,
            kostra_charts=kostra_charts,
        )
    )


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data, prefix=f".{path.name}.", create_folder=True)
    except OSError as exc:
        raise OutputError(t("report.cannot-write", path=str(path), error=str(exc))) from exc


# -- PDF -------------------------------------------------------------------------------------


def find_chromium() -> tuple[str, str]:
    """The paths of Chromium and chromedriver; ``ConfigError`` (in Norwegian) when missing."""
    browser = os.environ.get("BMS_CHROMIUM") or next(
        (p for n in CHROMIUM_NAMES if (p := shutil.which(n))), None
    )
    driver = os.environ.get("BMS_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver or not os.path.isfile(browser) or not os.path.isfile(driver):
        raise ConfigError(t("report.no-pdf-engine"))
    return browser, driver


def _page_template(text: str, align: str) -> str:
    return (
        f'<div style="font-size:8pt;font-family:DejaVu Sans,sans-serif;width:100%;'
        f'margin:0 0.6in;text-align:{align};color:#333">{text}</div>'
    )


def print_pdf(html_path: Path, model: ReportModel) -> bytes:
    """``html_path`` printed to an A4 PDF by headless Chromium, with header and page numbers."""
    browser, driver_path = find_chromium()
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    with tempfile.TemporaryDirectory(prefix="bms-chromium-") as profile:
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        header = _page_template(
            escape(f"{model.county_name} · {t('report.title', model.lang)} {model.period_label}"),
            "left",
        )
        footer = _page_template(
            t(
                "report.page-of",
                model.lang,
                page='<span class="pageNumber"></span>',
                pages='<span class="totalPages"></span>',
            ),
            "right",
        )
        try:
            drv = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        except WebDriverException as exc:
            raise ConfigError(t("report.pdf-engine-failed", error=exc.msg or str(exc))) from exc
        try:
            drv.get(html_path.resolve().as_uri())
            result: Mapping[str, Any] = drv.execute_cdp_cmd(
                "Page.printToPDF",
                {
                    "paperWidth": A4[0],
                    "paperHeight": A4[1],
                    **MARGINS,
                    "printBackground": True,
                    "displayHeaderFooter": True,
                    "headerTemplate": header,
                    "footerTemplate": footer,
                    "generateTaggedPDF": True,
                    "generateDocumentOutline": True,
                },
            )
        except WebDriverException as exc:
            raise OutputError(t("report.pdf-failed", error=exc.msg or str(exc))) from exc
        finally:
            drv.quit()
    return base64.b64decode(result["data"])


def write_report(model: ReportModel, out_dir: Path, fmt: str = "both") -> ReportFiles:
    """Write the HTML and/or PDF of ``model`` into ``out_dir``; returns the paths and timings.

    The PDF needs the HTML page: with ``fmt="pdf"`` it is rendered to a temporary file.
    """
    if fmt not in FORMATS:
        raise ConfigError(t("report.bad-format", format=fmt))
    files = ReportFiles()
    if fmt in ("pdf", "both"):
        find_chromium()  # fail before any work when the PDF engine is missing
    started = time.perf_counter()
    html = render_html(model)
    files.timings["html"] = time.perf_counter() - started
    base = report_basename(model)
    html_path = out_dir / f"{base}.html"
    if fmt in ("html", "both"):
        _write_atomic(html_path, html.encode("utf-8"))
        files.html = html_path
    if fmt in ("pdf", "both"):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bms-report-") as tmp:
            page = Path(tmp) / f"{base}.html"
            page.write_text(html, encoding="utf-8")
            pdf = print_pdf(page, model)
        files.pdf = out_dir / f"{base}.pdf"
        _write_atomic(files.pdf, pdf)
        files.timings["pdf"] = time.perf_counter() - started
    return files
