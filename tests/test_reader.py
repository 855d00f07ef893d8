"""reader.py: every hostile file gets exactly its code, valid files read intact, nothing changes."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import zipfile
import zlib
from datetime import datetime
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest
from hostile import (
    SECRET_FILE,
    SHEET,
    VALID,
    VALID_FORMULAS,
    VALID_VALUES,
    build_hostile_corpus,
    valid_workbook_bytes,
)
from reading import read_workbook

from bms_excel.archive import Deadline, stored_zip
from bms_excel.codes import TABLE
from bms_excel.errors import WorkbookReadError
from bms_excel.i18n import set_language
from bms_excel.reader import (
    Limits,
    ReadResult,
    Wanted,
    light_pass,
    read_submission,
    read_values,
)
from bms_excel.sheet_extent import plainly_within, sheet_extent
from bms_excel.sheet_scan import _plain_attributes, plainly_without_dtd
from bms_excel.submissions import _biff_has_filepass, sniff, sniff_stream, walk_submissions


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, build_hostile_corpus(folder, libreoffice=False)


@pytest.fixture(scope="module")
def valid_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("valid") / "heimdal.xlsx"
    path.write_bytes(valid_workbook_bytes())
    return path


def _codes(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for candidate in walk_submissions(folder):
        if candidate.skip:
            finding = candidate.finding()
            assert finding is not None and finding.file == candidate.relpath
            found[candidate.relpath] = [finding.code]
        else:
            result = read_submission(candidate.path, display_name=candidate.relpath)
            found[candidate.relpath] = [f.code for f in result.findings]
    return found


def test_each_file_gets_exactly_its_code(corpus: tuple[Path, dict[str, str]]) -> None:
    folder, expected = corpus
    assert _codes(folder) == {name: [code] if code else [] for name, code in expected.items()}


def test_corpus_is_small_and_covers_every_brief_case(corpus: tuple[Path, dict[str, str]]) -> None:
    folder, expected = corpus
    size = sum(p.lstat().st_size for p in folder.rglob("*"))
    assert size < 1024 * 1024
    wanted = {
        "zip-bomb",
        "hostile-xml",
        "encrypted",
        "not-a-workbook",
        "corrupt-zip",
        "empty-file",
        "skipped-lock-file",
        "skipped-hidden",
        "xlsb-unsupported",
        VALID,
    }
    assert wanted <= set(expected.values())
    if os.name == "posix":
        assert expected["outside-link.xlsx"] == "symlink-outside"


def test_every_code_has_a_severity_and_findings_carry_it(
    corpus: tuple[Path, dict[str, str]],
) -> None:
    folder, expected = corpus
    assert set(expected.values()) - {VALID} <= {r.code for r in TABLE if r.family == "reader"}
    result = read_submission(folder / "macros.xlsm")
    assert [(f.code, f.severity) for f in result.findings] == [("macro-workbook", "warning")]
    assert result.data is not None and result.data.values == VALID_VALUES


def test_valid_workbook_reads_values_and_structure(valid_path: Path) -> None:
    result = read_submission(valid_path)
    assert (result.kind, result.findings) == ("xlsx", [])
    assert result.sha256 == hashlib.sha256(valid_path.read_bytes()).hexdigest()
    assert result.size == valid_path.stat().st_size
    data = result.data
    assert data is not None and data.structure_known
    assert data.values == VALID_VALUES
    assert type(data.values[SHEET][(2, 2)]) is float
    assert data.formulas == VALID_FORMULAS  # the "=SUM(A1)" typed as text is not a formula
    assert [(s.name, s.state, s.protected) for s in data.sheets] == [
        (SHEET, "visible", True),
        ("_meta", "veryHidden", False),
    ]
    assert data.sheets[0].protection is not None and "password" in data.sheets[0].protection
    assert data.structure_locked
    assert data.custom_properties == {"bms_unit": "heimdal"}
    assert isinstance(data.created, datetime) and isinstance(data.modified, datetime)


def test_only_the_named_sheets_are_read(valid_path: Path) -> None:
    data = read_workbook(valid_path, sheets=["_meta", "No such sheet"])
    assert list(data.values) == ["_meta"]
    assert list(data.formulas) == ["_meta"]
    assert [s.name for s in data.sheets] == [SHEET, "_meta"]  # states are always known


def test_result_pickles_small(valid_path: Path) -> None:
    result = read_submission(valid_path)
    blob = pickle.dumps(result)
    assert len(blob) < 4096
    assert pickle.loads(blob) == result


def test_read_submission_never_raises_and_changes_nothing(
    corpus: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = corpus
    paths = sorted(folder.rglob("*"))

    def snapshot() -> dict[Path, tuple[int, str]]:
        return {
            p: (p.lstat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in paths
            if p.is_file() and not p.is_symlink()
        }

    before = snapshot()
    results = [read_submission(p) for p in paths if p.is_file()]  # skipped files too
    assert all(isinstance(r, ReadResult) for r in results)
    assert snapshot() == before
    assert sorted(p.name for p in folder.rglob("*")) == sorted(p.name for p in paths)


def test_entities_are_never_expanded(corpus: tuple[Path, dict[str, str]]) -> None:
    folder, expected = corpus
    secret = Path(SECRET_FILE).read_text() if Path(SECRET_FILE).is_file() else "root:x:0:0"
    first_line = secret.splitlines()[0] if secret else "root:x:0:0"
    for name in [n for n, code in expected.items() if code == "hostile-xml"]:
        result = read_submission(folder / name)
        assert result.data is None
        text = repr(result)
        assert first_line not in text and "lollol" not in text and len(text) < 10_000


def test_limits_are_overridable(valid_path: Path) -> None:
    def codes(limits: Limits) -> list[str]:
        result = read_submission(valid_path, limits=limits)
        assert result.data is None
        return [f.code for f in result.findings]

    assert codes(Limits(max_file_size=1000)) == ["too-large"]
    assert codes(Limits(max_total_uncompressed=2000)) == ["too-large"]
    assert codes(Limits(max_parts=3)) == ["zip-bomb"]
    assert codes(Limits(max_compression_ratio=1.5, ratio_min_size=100)) == ["zip-bomb"]
    assert codes(Limits(time_budget=0)) == ["timeout"]


def test_files_are_recognised_by_content_not_name(
    corpus: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, _ = corpus
    renamed = tmp_path / "report.pdf"
    renamed.write_bytes((folder / "valid.xlsx").read_bytes())
    assert sniff(renamed) == "xlsx"
    kinds = {
        name: sniff(folder / name)
        for name in [
            "renamed-pdf.xlsx",
            "renamed-csv.xlsx",
            "renamed-text.xlsx",
            "encrypted.xlsx",
            "truncated.xlsx",
            "binary.xlsx",
            "macros.xlsm",
            "empty.xlsx",
            "renamed-docx.xlsx",
        ]
    }
    assert kinds == {
        "renamed-pdf.xlsx": "pdf",
        "renamed-csv.xlsx": "csv",
        "renamed-text.xlsx": "text",
        "encrypted.xlsx": "encrypted",
        "truncated.xlsx": "corrupt-zip",
        "binary.xlsx": "xlsb",
        "macros.xlsm": "xlsm",
        "empty.xlsx": "empty",
        "renamed-docx.xlsx": "unknown",
    }


def test_read_workbook_raises_with_the_code(corpus: tuple[Path, dict[str, str]]) -> None:
    folder, _ = corpus
    with pytest.raises(WorkbookReadError) as info:
        read_workbook(folder / "encrypted.xlsx")
    assert info.value.code == "encrypted"


def test_messages_follow_the_language(corpus: tuple[Path, dict[str, str]]) -> None:
    folder, _ = corpus
    try:
        messages = []
        for lang in ("nb", "nn", "en"):
            set_language(lang)
            messages.append(read_submission(folder / "encrypted.xlsx").findings[0].message)
    finally:
        set_language("nb")
    assert len(set(messages)) == 3
    assert messages[0].startswith("Filen er passordbeskyttet")


def test_walk_survives_loops_and_odd_entries(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("symbolic links and FIFOs need a POSIX system")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.xlsx").write_bytes(b"x")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)  # a directory loop
    (tmp_path / "alias").symlink_to(tmp_path / "a")  # the same folder twice
    (tmp_path / "inner-link.xlsx").symlink_to(tmp_path / "a" / "one.xlsx")
    (tmp_path / "broken.xlsx").symlink_to(tmp_path / "gone.xlsx")
    os.mkfifo(tmp_path / "pipe.xlsx")
    found = {c.relpath: c.skip for c in walk_submissions(tmp_path)}
    assert found == {
        "a/loop": "symlink-loop",  # reported, not silently dropped
        "a/one.xlsx": None,
        "alias": "symlink-loop",
        "broken.xlsx": "unreadable-file",
        "inner-link.xlsx": None,
        "pipe.xlsx": "unreadable-file",
    }
    assert [f.code for f in read_submission(tmp_path / "pipe.xlsx").findings] == ["unreadable-file"]


def _rewrite_sheet(data: bytes, edit: object) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            blob = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                blob = edit(blob)  # type: ignore[operator]
            target.writestr(name, blob)
    return out.getvalue()


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(
            lambda b: re.sub(
                rb'(<c) r="[A-Z]+[0-9]+"', rb"\1", b.replace(b'<c r="B5"', b'<c r="A5"/><c r="B5"')
            ),
            id="cells-without-r",
        ),
        pytest.param(
            lambda b: re.sub(rb"<(/?)(?!\?)", rb"<\1x:", b).replace(b"xmlns=", b"xmlns:x="),
            id="prefixed-xml",
        ),
    ],
)
def test_unusual_sheet_xml_falls_back_to_a_full_parse(tmp_path: Path, edit: object) -> None:
    path = tmp_path / "odd.xlsx"
    path.write_bytes(_rewrite_sheet(valid_workbook_bytes(), edit))
    result = read_submission(path)
    assert result.findings == []
    assert result.data is not None
    assert result.data.formulas == VALID_FORMULAS
    assert result.data.sheets[0].protected
    assert result.data.values == VALID_VALUES


def test_encrypted_xls_is_recognised_by_its_filepass_record() -> None:
    bof = (0x0809).to_bytes(2, "little") + (4).to_bytes(2, "little") + b"\x00" * 4
    filepass = (0x002F).to_bytes(2, "little") + (2).to_bytes(2, "little") + b"\x00\x00"
    sheet = (0x0085).to_bytes(2, "little") + (0).to_bytes(2, "little")
    assert _biff_has_filepass(bof + filepass + sheet)
    assert not _biff_has_filepass(bof + sheet + filepass)
    assert not _biff_has_filepass(b"\x09")


@pytest.mark.libreoffice
def test_ods_and_xls_saved_by_libreoffice_are_read_with_a_warning(tmp_path: Path) -> None:
    from realclient import require_libreoffice

    require_libreoffice()
    expected = build_hostile_corpus(tmp_path)
    for name, code in [("libreoffice.ods", "saved-as-ods"), ("libreoffice.xls", "saved-as-xls")]:
        assert expected[name] == code
        result = read_submission(tmp_path / name)
        assert [f.code for f in result.findings] == [code]
        assert result.data is not None and not result.data.structure_known
        for sheet, cells in VALID_VALUES.items():
            assert {k: result.data.values[sheet].get(k) for k in cells} == cells, (name, sheet)


def test_skipped_sheets_keep_their_structure_but_not_their_values(valid_path: Path) -> None:
    data = read_workbook(valid_path, skip_sheets={SHEET})
    assert list(data.values) == ["_meta"]
    assert SHEET not in data.formulas
    assert [(s.name, s.protected) for s in data.sheets] == [(SHEET, True), ("_meta", False)]


@pytest.mark.parametrize(
    ("edit", "protected"),
    [
        # Protection removed, a commented-out element left behind: must not count as protected.
        pytest.param(
            lambda b: re.sub(rb"<sheetProtection\b[^>]*/>", rb"<!--\g<0>-->", b),
            False,
            id="commented-out",
        ),
        pytest.param(
            lambda b: re.sub(
                rb"<sheetProtection\b([^>]*)/>", rb"<sheetProtection\1></sheetProtection>", b
            ),
            True,
            id="open-and-close-tags",
        ),
        pytest.param(lambda b: re.sub(rb"<sheetProtection\b[^>]*/>", b"", b), False, id="removed"),
    ],
)
def test_sheet_protection_is_read_from_the_element_itself(
    tmp_path: Path, edit: object, protected: bool
) -> None:
    path = tmp_path / "prot.xlsx"
    path.write_bytes(_rewrite_sheet(valid_workbook_bytes(), edit))
    result = read_submission(path)
    assert result.data is not None
    assert result.data.sheets[0].protected is protected
    assert result.data.values == VALID_VALUES


# -- the light pass's fast paths (issue 19): each must give what the full parse gives ------------


def test_the_stored_view_is_a_zip_of_exactly_the_given_parts() -> None:
    members = [("[Content_Types].xml", b"<Types/>", None), ("xl/æøå.xml", b"x" * 5000, None)]
    members.append(("xl/known.xml", b"<a/>", zlib.crc32(b"<a/>")))
    with zipfile.ZipFile(io.BytesIO(stored_zip(members))) as view:
        assert view.testzip() is None  # every CRC right
        assert [(i.filename, i.compress_type) for i in view.infolist()] == [
            ("[Content_Types].xml", zipfile.ZIP_STORED),
            ("xl/æøå.xml", zipfile.ZIP_STORED),
            ("xl/known.xml", zipfile.ZIP_STORED),
        ]
        assert [view.read(name) for name, _, _ in members] == [b for _, b, _ in members]


def test_calamine_reads_the_checked_parts_not_the_submitted_bytes(valid_path: Path) -> None:
    # The package calamine reads is built from the parts the light pass inflated and checked:
    # the same values as from the file itself, and stored, so nothing is inflated twice.
    data = valid_path.read_bytes()
    kind, archive = sniff_stream(io.BytesIO(data))
    assert archive is not None
    workbook, view, wanted = light_pass(
        data, archive, kind, Wanted(None, frozenset()), Limits(), Deadline(10)
    )
    with zipfile.ZipFile(io.BytesIO(view)) as package:
        assert {i.compress_type for i in package.infolist()} == {zipfile.ZIP_STORED}
    read_values(view, workbook, wanted, Deadline(10))
    assert workbook.values == VALID_VALUES


def _utf16_core_with_entity(data: bytes) -> bytes:
    # A DTD in UTF-16, big-endian: refused (the byte markers see it one byte on; the guarded
    # parser stands behind them, see the next test but one).
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE c [<!ENTITY e "boom">]>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties">&e;</cp:coreProperties>'
    )
    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["docProps/core.xml"] = b"\xfe\xff" + xml.encode("utf-16-be")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def test_a_dtd_in_utf16_still_meets_the_guarded_parser(tmp_path: Path) -> None:
    path = tmp_path / "utf16.xlsx"
    path.write_bytes(_utf16_core_with_entity(valid_workbook_bytes()))
    result = read_submission(path)
    assert [f.code for f in result.findings] == ["hostile-xml"]
    assert result.data is None


@pytest.mark.parametrize(
    "tag",
    [
        b'<sheetProtection sheet="1" objects="1" password="CC1A"/>',
        b'<sheetProtection  sheet="1" >',
        b"<sheetProtection/>",
        b'<sheetProtection sheet="&#49;"/>',  # a reference: the parser decodes it
        b"<sheetProtection sheet='1'/>",
        b'<sheetProtection sheet="1"\n  formatCells="0"/>',
        b'<sheetProtection sheet="\xc3\xa6"/>',
    ],
)
def test_plain_protection_attributes_are_what_the_parser_reads(tag: bytes) -> None:
    parsed = dict(fromstring(tag if tag.endswith(b"/>") else tag[:-1] + b"/>").attrib)
    plain = _plain_attributes(tag)
    assert plain is None or plain == parsed
    if b"&" not in tag and b"'" not in tag and b"\n" not in tag:
        assert plain == parsed  # the common case takes the fast path


@pytest.mark.parametrize("bad", [b'sheet="1" sheet="0"', b'sheet="1"\x0b', b'x:sheet="1"'])
def test_unusual_protection_attributes_leave_the_fast_path(bad: bytes) -> None:
    assert _plain_attributes(b"<sheetProtection " + bad + b"/>") is None


@pytest.mark.parametrize(
    ("cells", "plain"),
    [
        (b'<c r="A1"/><c r="O999"><v>1</v></c>', True),
        (b'<c r="A1500"><v>1</v></c>', False),  # as many digits as max_rows: measured
        (b'<c r="AA1"><v>1</v></c>', False),  # two letters: measured
        (b'<c r="A1"/><c><v>1</v></c>', False),  # a cell without its reference
        (b'<x:c r="A1"><x:v>1</x:v></x:c>', False),  # a prefixed cell
        (b'<c  r="A1"><v>1</v></c>', False),  # not written the usual way
    ],
)
def test_the_plain_extent_check_passes_only_plainly_near_cells(cells: bytes, plain: bool) -> None:
    blob = b"<worksheet><sheetData><row>" + cells + b"</row></sheetData></worksheet>"
    start, end = blob.find(b"sheetData"), blob.rfind(b"sheetData")
    limits = Limits(max_rows=1500, max_cols=64)
    assert plainly_within(blob, start, end, limits) is plain
    if plain:  # and the exact measure agrees that it fits
        rows, cols, _ = sheet_extent(blob, start, end)
        assert rows <= limits.max_rows and cols <= limits.max_cols


@pytest.mark.parametrize(
    ("blob", "plain"),
    [
        (b'<?xml version="1.0"?><a/>', True),
        (b"\xef\xbb\xbf<a/>", True),
        (b'<?xml version="1.0"?><!DOCTYPE a><a/>', False),
        ("<a/>".encode("utf-16-le"), False),
        (b"\xfe\xff" + "<a/>".encode("utf-16-be"), False),
        (b" <a/>", False),
    ],
)
def test_only_a_part_plainly_without_a_dtd_skips_the_guarded_parser(
    blob: bytes, plain: bool
) -> None:
    assert plainly_without_dtd(blob) is plain
