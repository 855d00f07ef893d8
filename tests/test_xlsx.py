"""bms_excel.xlsx: the one A1 helper, XML escape, worksheet element order and atomic write."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from openpyxl.utils import column_index_from_string, get_column_letter
from test_roundtrip import fill_returns, make_project

from bms_excel.api import collect_project
from bms_excel.master.run import consolidate_project
from bms_excel.project import Project
from bms_excel.xlsx.cells import (
    WORKSHEET_ORDER,
    a1,
    column_letter,
    column_number,
    elements_after,
    escape_attr,
    escape_text,
    parse_a1,
)
from bms_excel.xlsx.files import file_mode, write_atomic


@pytest.mark.parametrize("n", [1, 2, 25, 26, 27, 52, 53, 702, 703, 16_384])
def test_column_letters_agree_with_openpyxl(n: int) -> None:
    assert column_letter(n) == get_column_letter(n)
    assert column_number(get_column_letter(n)) == n == column_index_from_string(column_letter(n))
    assert column_number(column_letter(n).lower()) == n


def test_a1_round_trip() -> None:
    assert a1(7, 7) == "G7" and a1(1_048_576, 16_384) == "XFD1048576"
    assert parse_a1("G7") == (7, 7) and parse_a1("AA10") == (10, 27)
    for bad in ("7G", "G", "$G$7", "ABCD1", ""):
        with pytest.raises(ValueError):
            parse_a1(bad)


def test_escape_matches_lxml() -> None:
    from lxml import etree

    text = 'a & b < c > d\r"e"\n'
    el = etree.Element("t")
    el.text = text
    assert etree.tostring(el).decode() == f"<t>{escape_text(text)}</t>"
    el.set("v", text)
    assert f'v="{escape_attr(text)}"' in etree.tostring(el).decode()
    assert escape_text("plain") == "plain"


def test_worksheet_order_is_the_schemas() -> None:
    # The one table: hyperlinks come after dataValidations and before printOptions; legacyDrawing
    # is followed by the header/footer drawings, tableParts and extLst.
    assert len(set(WORKSHEET_ORDER)) == len(WORKSHEET_ORDER)
    assert elements_after("hyperlinks")[:3] == ("printOptions", "pageMargins", "pageSetup")
    assert elements_after("legacyDrawing")[0] == "legacyDrawingHF"
    assert elements_after("extLst") == ()
    order = WORKSHEET_ORDER.index
    assert order("sheetData") < order("sheetProtection") < order("conditionalFormatting")
    assert order("dataValidations") < order("hyperlinks") < order("drawing") < order("tableParts")


@pytest.mark.parametrize("content", [b"bytes", "tekst æøå\r\n", "callable"])
def test_write_atomic_writes_a_normal_file(tmp_path: Path, content: object) -> None:
    path = tmp_path / "out" / "file.txt"
    if content == "callable":
        write_atomic(path, lambda tmp: tmp.write_bytes(b"via callable"), create_folder=True)
        assert path.read_bytes() == b"via callable"
    else:
        assert isinstance(content, bytes | str)
        write_atomic(path, content, create_folder=True)
        expected = content.encode("utf-8") if isinstance(content, str) else content
        assert path.read_bytes() == expected
    assert stat.S_IMODE(path.stat().st_mode) == file_mode()
    assert [p.name for p in path.parent.iterdir()] == ["file.txt"]


def test_file_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        assert file_mode() == 0o600
        write_atomic(tmp_path / "private.txt", "x")
        assert stat.S_IMODE((tmp_path / "private.txt").stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert file_mode() == 0o666 & ~old


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("old", encoding="utf-8")

    def fail(tmp: Path) -> None:
        tmp.write_text("half", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomic(path, fail)
    with pytest.raises(RuntimeError):
        write_atomic(path, "new", before_replace=lambda: (_ for _ in ()).throw(RuntimeError()))
    assert path.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_reminder_list_and_master_get_the_same_mode(tmp_path: Path) -> None:
    # The reminder CSV once kept mkstemp's 0600 while the master was 0644.
    project: Project = make_project(tmp_path)
    fill_returns(project)
    old = os.umask(0o022)
    try:
        report = collect_project(project)
        master = consolidate_project(project).master
    finally:
        os.umask(old)
    assert report.reminder_csv is not None
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (report.reminder_csv, master)}
    assert modes == {0o644}
