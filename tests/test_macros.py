"""The VBA ↔ Python contract: every RunPython target imports, every button names a Sub.

Reads the VBA source of truth in ``macros/*.bas`` and, with oletools' olevba, the VBA inside
the committed stop-gap ``vbaProject.bin`` and inside generated .xlsm files.
"""

from __future__ import annotations

import importlib
import inspect
import re
import zipfile
from pathlib import Path

import pytest
from helpers import macros_dir

from bms_excel.control_workbook import SUBS, add_validate_button, build_control_workbook
from bms_excel.generate import generate_workbooks
from bms_excel.project import init_project

olevba = pytest.importorskip("oletools.olevba")

RUNPYTHON = re.compile(r'RunPython\s+"import\s+([\w.]+)\s*;\s*([\w.]+)\.(\w+)\(\)"')
SUB = re.compile(r"^\s*(?:Public\s+|Private\s+)?Sub\s+(\w+)\s*\(", re.M | re.I)
VBA = macros_dir() / "vbaProject-libreoffice.bin"


def _bas_sources() -> dict[str, str]:
    return {p.name: p.read_bytes().decode("cp1252") for p in sorted(macros_dir().glob("*.bas"))}


def _ole_sources(path: Path) -> dict[str, str]:
    parser = olevba.VBA_Parser(str(path))
    try:
        return {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _check_targets(source: str) -> list[str]:
    """Assert every RunPython target is importable and callable without arguments."""
    targets = RUNPYTHON.findall(source)
    assert targets, "no RunPython call found: the contract test would prove nothing"
    for module, prefix, func in targets:
        assert prefix == module
        obj = getattr(importlib.import_module(module), func)
        assert callable(obj)
        params = inspect.signature(obj).parameters.values()
        assert all(p.default is not inspect.Parameter.empty for p in params), func
    return [f for _, _, f in targets]


def _normalised(source: str) -> list[str]:
    lines = source.replace("\r\n", "\n").split("\n")
    return [
        line.rstrip()
        for line in lines
        if line.strip() and not line.startswith(("Attribute VB_", "Option "))
    ]


def test_bas_modules_are_ascii_crlf_and_call_importable_entry_points() -> None:
    sources = _bas_sources()
    assert "BmsExcel.bas" in sources
    for name, text in sources.items():
        raw = (macros_dir() / name).read_bytes()
        assert raw.isascii(), name
        assert b"\n" not in raw.replace(b"\r\n", b""), name
        called = _check_targets(text)
        assert sorted(called) == sorted(SUBS)  # one button per adapter


def test_every_button_sub_exists_in_the_bas_source() -> None:
    subs = set(SUB.findall(_bas_sources()["BmsExcel.bas"]))
    assert set(SUBS.values()) <= subs


def test_committed_vba_project_matches_the_bas_source() -> None:
    sources = _ole_sources(VBA)
    ours = [code for code in sources.values() if "bms_excel.excel_buttons" in code]
    assert len(ours) == 1
    assert _normalised(ours[0]) == _normalised(_bas_sources()["BmsExcel.bas"])
    # The standalone xlwings module that provides RunPython travels with it.
    assert any(re.search(r"Function RunPython\(", code) for code in sources.values())


def _vml_macros(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        text = "".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml"))
    return re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", text)


def test_generated_xlsm_files_bind_buttons_to_subs_whose_targets_import(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk")
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    control = build_control_workbook(tmp_path / "k.xlsm", vba_project=VBA).path
    unit = generate_workbooks(
        definition,
        period,
        out_dir=tmp_path / "ut",
        secret=project.secret,
        units=[definition.units[0].code],
    ).files[0]
    for path in (control, add_validate_button(unit, VBA)):
        sources = _ole_sources(path)
        subs = set(SUB.findall("\n".join(sources.values())))
        buttons = _vml_macros(path)
        assert buttons and set(buttons) <= subs, (path.name, buttons)
        # Our module (xlwings' own module has example RunPython calls in its comments).
        ours = [code for code in sources.values() if re.search(r"Sub Bms\w+\(", code)]
        assert len(ours) == 1
        _check_targets(ours[0])
