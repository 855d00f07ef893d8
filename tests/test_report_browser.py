"""``bms report`` in a real browser: axe-core in headless Chromium, and the PDF Chromium prints.

Needs Chromium and chromedriver (``apt-get install chromium chromium-driver``; ``.ci/run``
installs them) and poppler's ``pdftotext``. Without them these tests are skipped with the
reason shown — except under ``CI=true``, where a missing browser fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import test_report
from test_report import PERIOD, master_county_values

from bms_excel.errors import ConfigError
from bms_excel.project import Project
from bms_excel.report.model import ReportModel, value_text
from bms_excel.report.render import CHROMIUM_FLAGS, find_chromium, render_html, write_report

demo = test_report.demo  # the module's fixtures, shared
model = test_report.model
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def require_chromium() -> tuple[str, str]:
    """Chromium and chromedriver, or skip with the reason (fail under CI=true)."""
    try:
        return find_chromium()
    except ConfigError:
        reason = "Chromium is not installed: apt-get install chromium chromium-driver"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require_pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found:
        return found
    reason = "pdftotext is not installed: apt-get install poppler-utils"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    browser_path, driver_path = require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    with tempfile.TemporaryDirectory(prefix="bms-axe-") as profile:
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        driver.set_script_timeout(300)
        try:
            yield driver
        finally:
            driver.quit()


def axe_violations(driver: Any, page: Path) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.1 A and AA on ``page``."""
    driver.get(page.resolve().as_uri())
    driver.execute_script(resources.files("axe_core_python").joinpath("axe.min.js").read_text())
    options = json.dumps({"runOnly": {"type": "tag", "values": WCAG_AA}})
    result = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        f"axe.run(document, {options}, function (err, res) {{"
        " done(err ? {error: String(err)} : res); });"
    )
    assert "error" not in result, result
    assert result["passes"], "axe ran no check"
    return list(result["violations"])


@pytest.mark.parametrize("lang", ["nb", "nn"])
def test_axe_finds_no_wcag_aa_violation(
    browser: Any, demo: Project, tmp_path: Path, lang: str
) -> None:
    from bms_excel.report.model import build_report

    m = build_report(demo.load_definition(), demo.history_path, PERIOD, lang=lang)
    page = tmp_path / "rapport.html"
    page.write_text(render_html(m), encoding="utf-8")
    violations = axe_violations(browser, page)
    assert [(v["id"], v["nodes"][0]["html"][:120]) for v in violations] == []


def test_axe_check_can_fail(browser: Any, model: ReportModel, tmp_path: Path) -> None:
    # The same page with faint text, an unlabelled chart and no language: axe must say so.
    html = render_html(model)
    html = html.replace('<html lang="nb">', "<html>", 1)
    html = html.replace('role="img" aria-label="', 'data-x="', 1)
    html = html.replace("<main", '<p style="color:#bbbbbb">Svak tekst</p><main', 1)
    page = tmp_path / "doctored.html"
    page.write_text(html, encoding="utf-8")
    ids = {v["id"] for v in axe_violations(browser, page)}
    assert {"html-has-lang", "color-contrast"} <= ids


@pytest.fixture(scope="module")
def pdf_text(demo: Project, model: ReportModel, tmp_path_factory: pytest.TempPathFactory) -> str:
    require_chromium()
    pdftotext = require_pdftotext()
    out = tmp_path_factory.mktemp("pdf")
    files = write_report(model, out, "both")
    assert files.pdf is not None and files.pdf.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(files.pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info), info
    done = subprocess.run(
        [pdftotext, "-layout", str(files.pdf), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_pdf_rows_hold_the_masters_values_and_statuses(
    demo: Project, model: ReportModel, pdf_text: str
) -> None:
    master = master_county_values(demo)
    lines = pdf_text.replace("\xa0", " ").splitlines()
    for line in model.indicators():
        given = master[line.code]
        if not isinstance(given, float | int):
            continue
        shown = value_text(float(given), line.decimals).replace("\xa0", " ")  # as pdftotext
        rows = [s for s in lines if s.strip().startswith(f"{line.code} ")]
        hits = [s for s in rows if shown in s and line.status_label in s]
        assert hits, (line.code, shown, line.status_label, rows)


def test_pdf_every_page_has_county_period_and_page_number(
    model: ReportModel, pdf_text: str
) -> None:
    pages = [p for p in pdf_text.split("\f") if p.strip()]
    assert len(pages) >= 5
    for number, page in enumerate(pages, start=1):
        assert model.county_name in page, number
        assert model.period_label in page, number
        assert f"Side {number} av {len(pages)}" in page, number


def test_pdf_text_is_in_reading_order(model: ReportModel, pdf_text: str) -> None:
    headings = ["Sammendrag", "Strategikart", *(a.name for a in model.areas), "Avvik", "Om tallene"]
    lines = [s.strip() for s in pdf_text.splitlines()]
    at = 0
    for heading in headings:  # each heading, as a line of its own, after the one before it
        assert heading in lines[at:], (heading, at)
        at = lines.index(heading, at) + 1
