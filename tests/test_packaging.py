"""The installed wheel carries its data: templates, macros, examples, catalogue, schemas.

Top-level ``workbook_templates/`` and ``macros/`` are not in a wheel unless mapped in (hatch
``force-include``); this test builds the wheel and imports the package from it, away from the
checkout, so a missing mapping fails here rather than on a controller's PC.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    cp = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cp.returncode == 0, cp.stdout[-2000:] + cp.stderr[-2000:]
    (whl,) = out.glob("*.whl")
    return whl


def test_wheel_contains_the_data_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected_prefixes = [
        "bms_excel/_data/workbook_templates/",
        "bms_excel/_data/macros/",
        "bms_excel/examples/stfk/definition.yaml",
        "bms_excel/i18n/core.yaml",
    ]
    for prefix in expected_prefixes:
        assert any(n.startswith(prefix) for n in names), prefix


def test_installed_package_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    probe = (
        "import bms_excel, pathlib, sys\n"
        "from bms_excel.examples import example_definition_path\n"
        "from bms_excel.i18n import t\n"
        "assert str(pathlib.Path(bms_excel.__file__).parent).startswith(sys.argv[1]), bms_excel.__file__\n"
        "assert pathlib.Path(str(example_definition_path('stfk'))).is_file()\n"
        "assert t('status.green') == 'Grønn'\n"
        "from bms_excel import resources\n"
        "assert resources.templates_dir().is_dir(), resources.templates_dir()\n"
        "assert any(resources.templates_dir().glob('*.xlsx'))\n"
        "assert resources.data_dir('macros').is_dir()\n"
    )
    cp = subprocess.run(
        [sys.executable, "-c", probe, str(target)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert cp.returncode == 0, cp.stderr[-3000:]
