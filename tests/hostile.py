"""The hostile test corpus: files a submissions folder may hold, each with the code it must get.

``build_hostile_corpus(folder)`` writes the corpus and returns file name → expected finding code
(``VALID`` for the files that must be read without findings, a warning code for files that are
read with a warning). Everything is generated here, nothing is downloaded; the corpus stays
under 1 MB on disk and builds in well under a second without LibreOffice. The .ods and .xls
cases need LibreOffice and are left out when it is missing (or when ``libreoffice=False``).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import openpyxl
from openpyxl.packaging.custom import StringProperty
from openpyxl.workbook.protection import WorkbookProtection

VALID = ""
SHEET = "Scorecard"
META = "_meta"
# What the valid workbook holds, 1-based (row, col) → value, as the reader must return it.
VALID_VALUES: dict[str, dict[tuple[int, int], object]] = {
    SHEET: {
        (1, 1): "Kode",
        (1, 2): "Verdi",
        (1, 3): "Kommentar",
        (2, 1): "R1.1",
        (2, 2): 12.5,
        (3, 1): "R1.2",
        (3, 2): "1 234,5",
        (3, 3): "=SUM(A1)",
        (4, 1): "R1.3",
        (4, 2): "i.a.",
    },
    META: {(1, 1): "unit", (1, 2): "heimdal", (2, 1): "period", (2, 2): "2026-T1"},
}
VALID_FORMULAS = {SHEET: frozenset({(5, 2)}), META: frozenset()}
BOMB_SIZE = 201 * 1024 * 1024
SECRET_FILE = "/etc/passwd"


def valid_workbook_bytes() -> bytes:
    """A small filled scorecard as openpyxl writes it: values, a formula, a veryHidden _meta."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    for (row, col), value in VALID_VALUES[SHEET].items():
        # A text that starts with "=" is typed text in a comment cell, not a formula.
        cell = ws.cell(row=row, column=col, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
    ws["B5"] = "=SUM(B2:B4)"
    ws.protection.sheet = True
    ws.protection.password = "bms"
    meta = wb.create_sheet(META)
    for (row, col), value in VALID_VALUES[META].items():
        meta.cell(row=row, column=col, value=value)
    meta.sheet_state = "veryHidden"
    wb.security = WorkbookProtection(lockStructure=True)
    wb.custom_doc_props.append(StringProperty(name="bms_unit", value="heimdal"))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip from pre-deflated members: (name, raw deflate data, crc32, uncompressed size)."""
    out = io.BytesIO()
    central = []
    for name, data, crc, size in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(encoded), 0
            )
        )
        out.write(encoded + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0
        )
    )
    return out.getvalue()


def _deflate(blob: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(blob) + comp.flush()


def zip_bomb_bytes(valid: bytes, size: int = BOMB_SIZE) -> bytes:
    """An xlsx-shaped zip with one extra part that inflates to ``size`` bytes of spaces.

    The part is one deflate block of 1 MiB repeated (a full flush makes each copy independent),
    so building it costs milliseconds instead of deflating 200 MB.
    """
    chunk = b" " * (1024 * 1024)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    count = size // len(chunk)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    bomb = block * count + b"\x03\x00"  # an empty final block ends the stream
    members = [
        (name, _deflate(blob), zlib.crc32(blob), len(blob))
        for name, blob in _members(valid).items()
    ]
    members.append(("xl/worksheets/sheet3.xml", bomb, crc, count * len(chunk)))
    return raw_zip(members)


def billion_laughs_bytes(valid: bytes) -> bytes:
    """The valid workbook with a nested-entity DTD in ``xl/workbook.xml``."""
    members = _members(valid)
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = members["xl/workbook.xml"].decode().replace("<definedNames/>", "")
    body = body.replace(
        "</workbook>",
        "<definedNames><definedName name='x'>&lol9;</definedName></definedNames></workbook>",
    )
    members["xl/workbook.xml"] = (
        f"<?xml version='1.0'?><!DOCTYPE workbook [{entities}]>{body}".encode()
    )
    return _zip(members)


def external_entity_bytes(valid: bytes, part: str) -> bytes:
    """The valid workbook with an XXE (``SYSTEM "file:///etc/passwd"``) entity used in ``part``."""
    members = _members(valid)
    body = members[part].decode()
    dtd = f'<!DOCTYPE root [<!ENTITY xxe SYSTEM "file://{SECRET_FILE}">]>'
    if part.endswith("sheet1.xml"):
        body = body.replace("<t>Kode</t>", "<t>&xxe;</t>", 1)
    else:
        body = body.replace("heimdal", "&xxe;", 1)
    assert "&xxe;" in body, part
    members[part] = (dtd + body.split("?>", 1)[-1]).encode()
    return _zip(members)


def encrypted_bytes(valid: bytes) -> bytes:
    """The valid workbook encrypted with a password, as Excel does (an OLE container)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(valid)).encrypt("hemmelig", out)
    return out.getvalue()


def build_hostile_corpus(
    folder: str | os.PathLike[str], *, libreoffice: bool = True
) -> dict[str, str]:
    """Write the hostile corpus into ``folder``; return file name → expected finding code."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    valid = valid_workbook_bytes()
    members = _members(valid)
    files: dict[str, tuple[bytes, str]] = {
        "valid.xlsx": (valid, VALID),
        "sub/valid-copy.xlsx": (valid, VALID),
        "zip-bomb.xlsx": (zip_bomb_bytes(valid), "zip-bomb"),
        "many-parts.xlsx": (_zip({**members, **{f"p/{i}": b"" for i in range(2001)}}), "zip-bomb"),
        "billion-laughs.xlsx": (billion_laughs_bytes(valid), "hostile-xml"),
        "xxe-sheet.xlsx": (external_entity_bytes(valid, "xl/worksheets/sheet1.xml"), "hostile-xml"),
        "xxe-custom.xlsx": (external_entity_bytes(valid, "docProps/custom.xml"), "hostile-xml"),
        "encrypted.xlsx": (encrypted_bytes(valid), "encrypted"),
        "renamed-pdf.xlsx": (
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            "not-a-workbook",
        ),
        "renamed-csv.xlsx": (b"kode;verdi\nR1.1;12,5\nR1.2;70 %\n", "not-a-workbook"),
        "renamed-text.xlsx": (b"Hei! Tallene kommer i morgen.\n", "not-a-workbook"),
        "renamed-docx.xlsx": (_zip({"word/document.xml": b"<w/>"}), "not-a-workbook"),
        "truncated.xlsx": (valid[: len(valid) // 2], "corrupt-zip"),
        "bad-crc.xlsx": (_flip_sheet_byte(valid), "corrupt-zip"),
        "empty.xlsx": (b"", "empty-file"),
        "blank.xlsx": (b"  \r\n\t\n", "empty-file"),
        "binary.xlsx": (
            _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01\x00"}),
            "xlsb-unsupported",
        ),
        "macros.xlsm": (
            _zip({**members, "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not run"}),
            "macro-workbook",
        ),
        "~$heimdal.xlsx": (b"\x07Heimdal" + b"\x20" * 100, "skipped-lock-file"),
        ".~lock.heimdal.xlsx#": (b"Heimdal,host,2026;", "skipped-lock-file"),
        ".hidden.xlsx": (valid, "skipped-hidden"),
        ".hidden-folder/inside.xlsx": (valid, "skipped-hidden"),
        "~WRL0001.tmp": (valid, "skipped-temp-file"),
    }
    expected: dict[str, str] = {}
    for name, (blob, code) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        # A hidden folder is skipped as a whole: the walk reports the folder, not its files.
        expected[name.split("/")[0] if name.startswith(".hidden-folder") else name] = code
    target = SECRET_FILE if os.path.exists(SECRET_FILE) else sys.executable
    try:
        (root / "outside-link.xlsx").symlink_to(target)
        expected["outside-link.xlsx"] = "symlink-outside"
    except OSError:  # no symlinks on this platform or without privileges
        pass
    if libreoffice:
        expected.update(_libreoffice_cases(root, valid))
    return expected


def _flip_sheet_byte(valid: bytes) -> bytes:
    """The valid workbook with one byte of the sheet's deflate data changed: a bad CRC."""
    with zipfile.ZipFile(io.BytesIO(valid)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(valid)
    data[start + info.compress_size // 2] ^= 0x55
    return bytes(data)


def _libreoffice_cases(root: Path, valid: bytes) -> dict[str, str]:
    from realclient import SOFFICE, convert

    if not SOFFICE:
        return {}
    with tempfile.TemporaryDirectory(prefix="bms-hostile-") as tmp:
        source = Path(tmp) / "lo.xlsx"
        source.write_bytes(valid)
        found: dict[str, str] = {}
        for fmt, code in (("ods", "saved-as-ods"), ("xls:MS Excel 97", "saved-as-xls")):
            out = convert([source], fmt, Path(tmp) / fmt.split(":")[0])[source]
            name = f"libreoffice.{fmt.split(':')[0]}"
            shutil.copyfile(out, root / name)
            found[name] = code
    return found
