"""``bms generate --macros --vba-project FILE``: unit workbooks with a Valider button."""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from bms_excel.cli import main
from bms_excel.collect import validate_files
from bms_excel.project import init_project

VBA = Path(__file__).parents[1] / "macros" / "vbaProject-libreoffice.bin"


def test_macros_make_signed_xlsm_files_and_a_matching_manifest(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    args = ["--project", str(project.root), "generate", "--units", "HEIMDAL", "--units", "KULTUR"]
    result = CliRunner().invoke(main, [*args, "--macros", "--vba-project", str(VBA), "--json"])
    assert result.exit_code == 0, result.output
    out = project.generated_dir / "2026-T2"
    files = sorted(p.name for p in out.iterdir() if p.suffix in (".xlsx", ".xlsm"))
    assert files == ["2026-T2_HEIMDAL.xlsm", "2026-T2_KULTUR.xlsm"]
    with (out / "manifest.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    for row in rows:
        path = out / row["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
        assert "xl/vbaProject.bin" in zipfile.ZipFile(path).namelist()
    assert [r["file"] for r in json.loads((out / "manifest.json").read_text("utf-8"))] == files
    # The signature still holds: the controller accepts the macro workbook (values read,
    # macros never run).
    report = validate_files([out / files[0]], project.load_definition(), project.secret, "2026-T2")
    assert {f.code for f in report.findings} >= {"macro-workbook"}
    assert not any(f.severity == "error" for f in report.findings)
    assert report.units[0].state == "received"


def test_macros_without_a_vba_project_is_a_usage_error(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T2")
    result = CliRunner().invoke(
        main, ["--project", str(project.root), "generate", "--units", "HEIMDAL", "--macros"]
    )
    assert result.exit_code == 2
    assert "--vba-project" in result.output
