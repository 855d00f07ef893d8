"""The controller's workbook and the Valider button for unit workbooks: clean OOXML, bound buttons."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import macros_dir
from ooxml_check import assert_clean

from bms_excel.cli import main
from bms_excel.control_workbook import (
    NAMES,
    SUBS,
    add_validate_button,
    build_control_workbook,
    check_vba_project,
)
from bms_excel.errors import ConfigError
from bms_excel.generate import generate_workbooks
from bms_excel.i18n import t
from bms_excel.project import init_project
from bms_excel.reader import read_submission
from bms_excel.validate import validate_data

VBA = macros_dir() / "vbaProject-libreoffice.bin"


def _macros(path: Path) -> list[str]:
    """Every ``FmlaMacro`` of every VML drawing in the package."""
    with zipfile.ZipFile(path) as zf:
        vml = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml")]
    return [m for text in vml for m in re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", text)]


def test_xlsx_without_vba_is_clean_and_its_buttons_name_the_subs(tmp_path: Path) -> None:
    built = build_control_workbook(tmp_path / "k.xlsm", project_dir=tmp_path, period="2026-T1")
    assert built.path.suffix == ".xlsx" and not built.macros
    assert_clean(built.path)
    assert _macros(built.path) == [SUBS["generate"], SUBS["collect"], SUBS["consolidate"]]
    with zipfile.ZipFile(built.path) as zf:
        assert "xl/vbaProject.bin" not in zf.namelist()
        book = zf.read("xl/workbook.xml").decode()
    for name in NAMES.values():
        assert f'name="{name}"' in book
    assert 'name="xlwings.conf"' in book and 'state="hidden"' in book


def _captions(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        vml = [zf.read(n).decode() for n in zf.namelist() if n.endswith(".vml")]
    return [
        re.sub(r"<[^>]+>", "", box).strip()
        for text in vml
        for box in re.findall(r"<v:textbox[^>]*>(.*?)</v:textbox>", text, re.S)
    ]


def test_without_vba_each_button_says_where_the_steps_to_add_the_macros_are(
    tmp_path: Path,
) -> None:
    from python_calamine import CalamineWorkbook

    built = build_control_workbook(tmp_path / "k.xlsx", project_dir=tmp_path, period="2026-T1")
    captions = _captions(built.path)
    assert len(captions) == 3
    rows = {int(m) for c in captions for m in re.findall(r"rad (\d+)\)$", c)}
    assert len(rows) == 1, captions
    sheet = CalamineWorkbook.from_path(str(built.path)).get_sheet_by_name(built.settings_sheet)
    note = sheet.to_python()[rows.pop() - 1][0]
    assert note == t("cwb.macros.heading", "nb")
    with_vba = build_control_workbook(
        tmp_path / "v.xlsm", project_dir=tmp_path, period="2026-T1", vba_project=VBA
    )
    assert _captions(with_vba.path) == [
        t(f"cwb.button.{k}", "nb") for k in ("generate", "collect", "consolidate")
    ]


def test_xlsm_with_vba_is_clean_and_binds_buttons_to_existing_subs(tmp_path: Path) -> None:
    built = build_control_workbook(
        tmp_path / "k.xlsx", project_dir=tmp_path, period="2026-T1", vba_project=VBA
    )
    assert built.path.suffix == ".xlsm" and built.macros
    assert_clean(built.path)
    with zipfile.ZipFile(built.path) as zf:
        assert zf.read("xl/vbaProject.bin") == VBA.read_bytes()
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    assert "sheet.macroEnabled.main+xml" in types
    assert "relationships/vbaProject" in rels
    assert _macros(built.path) == [SUBS["generate"], SUBS["collect"], SUBS["consolidate"]]


def test_a_file_that_is_not_a_vba_project_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "vbaProject.bin"
    bad.write_bytes(b"not ole")
    with pytest.raises(ConfigError):
        build_control_workbook(tmp_path / "k.xlsm", vba_project=bad)
    with pytest.raises(ConfigError, match="NoSuchSub"):
        check_vba_project(VBA, ["BmsValidate", "NoSuchSub"])


def test_cli_writes_the_control_workbook(tmp_path: Path) -> None:
    init_project(tmp_path / "p", example="stfk")
    runner = CliRunner()
    result = runner.invoke(main, ["--project", str(tmp_path / "p"), "control-workbook"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "rapporter" / "kontroll.xlsx").is_file()
    out = tmp_path / "k.xlsm"
    result = runner.invoke(
        main,
        [
            "--project",
            str(tmp_path / "p"),
            "control-workbook",
            "--vba-project",
            str(VBA),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert_clean(out)
    missing = runner.invoke(
        main, ["--project", str(tmp_path / "p"), "control-workbook", "--vba-project", "nope.bin"]
    )
    assert missing.exit_code == 2


def test_valider_button_keeps_the_unit_workbook_valid(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk")
    definition = project.load_definition()
    period = project.resolve_period(None, definition)
    unit = definition.units[0]
    made = generate_workbooks(
        definition, period, out_dir=tmp_path / "ut", secret=project.secret, units=[unit.code]
    ).files[0]
    xlsm = add_validate_button(made, VBA)
    assert xlsm.suffix == ".xlsm"
    assert_clean(xlsm)
    assert _macros(xlsm) == [SUBS["validate"]]
    with zipfile.ZipFile(made) as a, zipfile.ZipFile(xlsm) as b:
        changed = {n for n in a.namelist() if a.read(n) != b.read(n)}
        added = set(b.namelist()) - set(a.namelist())
    assert {"xl/vbaProject.bin", "xl/drawings/vmlDrawing1.vml"} <= added
    assert all(
        n.startswith("xl/worksheets/_rels/")
        for n in added - {"xl/vbaProject.bin", "xl/drawings/vmlDrawing1.vml"}
    )
    # Only the package plumbing and the Kontroll sheet change: no cell, style or _meta part.
    assert {n for n in changed if not n.startswith("xl/worksheets/")} == {
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
    }
    assert len([n for n in changed if n.startswith("xl/worksheets/")]) == 1
    result = read_submission(xlsm)
    assert result.kind == "xlsm" and result.data is not None
    extract = validate_data(result.data, definition, project.secret, xlsm.name)
    assert extract.usable
    assert "bad-signature" not in {f.code for f in extract.findings}


def _part_digest(path: Path) -> str:
    """sha256 over every part's name and bytes, ``docProps/core.xml``'s timestamps blanked."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as zf:
        for name in sorted(zf.namelist()):
            data = zf.read(name)
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\1", data)
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


#: The controller's workbook part by part, as approved (issue 19: outputs stay byte for byte).
#: A deliberate change of the workbook updates these after its XML diff was reviewed.
GOLDEN = {
    ("nb", False): "235aaf3a5e8bc0e4235b3ff297c03981ea94c2af8af18d888978eff9bf665470",
    ("nb", True): "244a8c2f130fed5666ac0f92cf58d6adae13d0d066a95ad6e3036b1b2d5f561f",
    ("en", False): "70e61fdbbd4700112baabe9018ac2483bdc3d134b6db4602eba9c438685ba56f",
}


@pytest.mark.parametrize(("lang", "macros"), sorted(GOLDEN))
def test_the_control_workbook_is_unchanged_part_by_part(
    tmp_path: Path, lang: str, macros: bool
) -> None:
    built = build_control_workbook(
        tmp_path / "k.xlsx",
        project_dir=Path("/srv/bms/fylke"),
        period="2026-T2",
        lang=lang,
        vba_project=VBA if macros else None,
    )
    assert _part_digest(built.path) == GOLDEN[(lang, macros)]
