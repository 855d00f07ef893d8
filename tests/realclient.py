"""Real-client checks for the test suite: LibreOffice headless recalculation and rendering.

LibreOffice's default profile never recalculates OOXML on load (``OOXMLRecalcMode=1``) and keeps
whatever cached values a file carries, so every call uses a throw-away profile set to
"always recalculate". ``soffice`` exits 0 even when it cannot load a file: success is judged by
the output file existing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
TIMEOUT = 180


def require_libreoffice() -> str:
    """Skip the calling test with a visible reason when LibreOffice is absent; fail under CI."""
    if SOFFICE:
        return SOFFICE
    reason = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def make_profile(directory: Path, locale: str | None = None) -> str:
    """A throw-away LibreOffice profile that recalculates on load; returns its file:// URL."""
    user = directory / "user"
    user.mkdir(parents=True, exist_ok=True)
    items = [
        ("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "0"),
        ("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "0"),
        ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
    ]
    if locale:
        items.append(("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", locale))
    body = "\n".join(
        f'<item oor:path="{p}"><prop oor:name="{n}" oor:op="fuse"><value>{v}</value></prop></item>'
        for p, n, v in items
    )
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{body}\n</oor:items>\n",
        encoding="utf-8",
    )
    return directory.resolve().as_uri()


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"soffice timed out after {TIMEOUT}s: {err}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(
    sources: list[Path], fmt: str, outdir: Path, locale: str | None = None
) -> dict[Path, Path]:
    """Convert ``sources`` with LibreOffice (recalculating); return source → output path.

    Raises ``AssertionError`` naming every file LibreOffice could not load.
    """
    soffice = require_libreoffice()
    outdir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    with tempfile.TemporaryDirectory(prefix="bms-lo-") as prof:
        url = make_profile(Path(prof), locale)
        cp = _run(
            [
                soffice,
                f"-env:UserInstallation={url}",
                "--headless",
                "--norestore",
                "--nologo",
                "--nolockcheck",
                "--convert-to",
                fmt,
                "--outdir",
                str(outdir),
                *map(str, sources),
            ]
        )
    result: dict[Path, Path] = {}
    failed = []
    for src in sources:
        out = outdir / f"{src.stem}.{ext}"
        if out.exists() and out.stat().st_size > 0:
            result[src] = out
        else:
            failed.append(src.name)
    if failed:
        raise AssertionError(f"LibreOffice could not load {failed}: {cp.stdout} {cp.stderr}")
    return result


def recalculate(source: Path, outdir: Path, locale: str | None = None) -> Path:
    """Open ``source`` in LibreOffice, recalculate every formula, save a copy as .xlsx."""
    return convert([source], "xlsx:Calc MS Excel 2007 XML", outdir, locale)[source]


def recalculated_values(source: Path, outdir: Path) -> dict[str, dict[str, Any]]:
    """Recalculate in LibreOffice and return ``{sheet: {cell: value}}`` of every non-empty cell."""
    import openpyxl

    out = recalculate(source, outdir)
    wb = openpyxl.load_workbook(out, data_only=True)
    try:
        return {
            ws.title: {
                c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None
            }
            for ws in wb.worksheets
        }
    finally:
        wb.close()


def formula_errors(values: dict[str, dict[str, Any]]) -> list[str]:
    """Cells whose recalculated value is an Excel error (``#NAME?``, ``#REF!``, ``Err:508`` ...)."""
    bad = []
    for sheet, cells in values.items():
        for ref, v in cells.items():
            if isinstance(v, str) and (
                (v.startswith("#") and v.endswith(("!", "?", "A"))) or v.startswith("Err:")
            ):
                bad.append(f"'{sheet}'!{ref}={v}")
    return bad


def render_png(source: Path, outdir: Path, dpi: int = 70, locale: str = "nb-NO") -> list[Path]:
    """Render ``source`` to PDF with LibreOffice and then to PNG pages with pdftoppm."""
    pdf = convert([source], "pdf", outdir, locale)[source]
    if not PDFTOPPM:
        pytest.skip("pdftoppm is not installed: apt-get install poppler-utils")
    prefix = outdir / source.stem
    subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(outdir.glob(f"{source.stem}*.png"))


PDFTOHTML = shutil.which("pdftohtml")


def printed_font_sizes(source: Path, outdir: Path) -> dict[str, list[tuple[int, str]]]:
    """Print ``source`` to PDF with LibreOffice; return ``{sheet: [(font size in pt, text)]}``.

    Sizes come from poppler's ``pdftohtml -xml`` (the font size of each text run as printed,
    after the sheet's print scale, whole points). A page belongs to the sheet whose name the
    page header shows at its top left (both the unit template and the master print ``&A``).
    """
    pdf = convert([source], "pdf", outdir, "nb-NO")[source]
    if not PDFTOHTML:
        pytest.skip("pdftohtml is not installed: apt-get install poppler-utils")
    xml = subprocess.run(
        [PDFTOHTML, "-xml", "-i", "-stdout", "-zoom", "1", str(pdf)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import re

    sizes = {k: int(v) for k, v in re.findall(r'<fontspec id="(\d+)" size="(-?\d+)"', xml)}
    text = re.compile(r'<text top="(-?\d+)" left="(-?\d+)"[^>]*font="(\d+)">(.*?)</text>')
    out: dict[str, list[tuple[int, str]]] = {}
    for page in xml.split("<page ")[1:]:
        runs = [
            (int(a), int(b), sizes[f], re.sub("<[^>]+>", "", s))
            for a, b, f, s in text.findall(page)
        ]
        header = [r for r in runs if r[0] < 45 and r[1] < 150]
        sheet = header[0][3].strip() if header else "?"
        out.setdefault(sheet, []).extend((size, s) for *_, size, s in runs)
    return out
