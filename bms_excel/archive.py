"""The zip level of reading a submitted workbook: judge the archive, inflate its XML parts
within limits, and hand python-calamine the very bytes that were checked.

Zip limits are judged from the central directory before anything is inflated
(:func:`check_zip_limits`); every XML part is then inflated as a stream in small steps with a
running cap at its declared size, so a member that lies about its size is a ``zip-bomb`` after
at most one step beyond it, and a part that declares a DTD is ``hostile-xml``
(:func:`inflate_xml_parts`). python-calamine then reads those inflated parts, stored
uncompressed in an in-memory package (:func:`stored_zip`): nothing is inflated twice, and
calamine never sees a byte the checks did not.
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bms_excel.errors import WorkbookReadError
from bms_excel.i18n import t

if TYPE_CHECKING:
    from bms_excel.reader import Limits

_INFLATE_STEP = 64 * 1024
_XML_SUFFIXES = (".xml", ".rels")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"))


class Deadline:
    """A wall-clock budget for reading one file; :meth:`check` between steps."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.end = time.monotonic() + budget

    def check(self) -> None:
        """Raise ``timeout`` once the budget is spent."""
        if time.monotonic() > self.end:
            raise fail("timeout", seconds=f"{self.budget:g}")


def fail(code: str, key: str | None = None, **params: Any) -> WorkbookReadError:
    """The error that stops reading a file: its finding code and catalogue message."""
    return WorkbookReadError(t(key or f"reader.{code}", **params), None, code)


def check_zip_limits(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Judge the archive from its central directory, before anything is inflated."""
    if len(infos) > limits.max_parts:
        raise fail("zip-bomb", "reader.zip-bomb.parts", count=len(infos), limit=limits.max_parts)
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_min_size and ratio > limits.max_compression_ratio:
            raise fail(
                "zip-bomb", "reader.zip-bomb.ratio", part=info.filename, ratio=f"{ratio:.0f}"
            )
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        mb = 1024 * 1024
        raise fail(
            "too-large",
            "reader.too-large.unpacked",
            size=f"{total / mb:.1f}",
            limit=limits.max_total_uncompressed // mb,
        )


def inflate_xml_parts(
    data: bytes, zf: zipfile.ZipFile, deadline: Deadline
) -> tuple[dict[str, bytes], dict[str, zipfile.ZipInfo]]:
    """Every XML part, lower-cased name → bytes (and → its entry in the archive, whose CRC the
    bytes match); refuses any part that declares a DTD.

    Each part is inflated as a stream with a running cap at its declared size (the central
    directory's sizes were judged by :func:`_check_zip_limits`), so memory stays bounded
    whatever the archive claims, and the CRC is checked, before python-calamine (which trusts
    the archive) reads the same members.
    """
    parts: dict[str, bytes] = {}
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename.lower()
        if info.is_dir() or not name.endswith(_XML_SUFFIXES):
            continue
        blob = _inflate_member(data, zf, info, deadline)
        # "!" (a memchr) first: most parts hold none, so the markers are looked for rarely.
        if b"!" in blob and any(marker in blob for marker in _DTD_MARKERS):
            raise fail("hostile-xml", part=info.filename)
        parts[name] = blob
        infos[name] = info
        deadline.check()
    return parts, infos


def _inflate_member(
    data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo, deadline: Deadline
) -> bytes:
    """One member, inflated in steps of ``_INFLATE_STEP`` and refused past its declared size.

    :meth:`zipfile.ZipFile.read` asks zlib for up to 2 GiB in one call and only then cuts at
    the declared size, so a member declaring 1 KiB that inflates to gigabytes was inflated
    whole; here at most one step beyond the declared size is ever held.
    """
    if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        with zf.open(info) as handle:  # zipfile bounds these at the declared size
            pieces = list(iter(lambda: handle.read(_INFLATE_STEP), b""))
        return b"".join(pieces)
    raw = _raw_member(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > info.file_size:
            raise fail("zip-bomb", "reader.zip-bomb.declared", part=info.filename)
        blob = bytes(raw)
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        out: list[bytes] = []
        size = 0
        pending: bytes | memoryview = raw
        while not inflater.eof:
            piece = inflater.decompress(pending, _INFLATE_STEP)
            size += len(piece)
            if size > info.file_size:
                raise fail("zip-bomb", "reader.zip-bomb.declared", part=info.filename)
            out.append(piece)
            pending = inflater.unconsumed_tail
            if not piece and not pending:
                break  # the compressed data ended before the stream did: truncated
            deadline.check()
        blob = out[0] if len(out) == 1 else b"".join(out)
    if len(blob) != info.file_size or zlib.crc32(blob) != info.CRC:
        raise zipfile.BadZipFile(f"bad size or CRC in {info.filename!r}")
    return blob


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The compressed bytes of ``info``, located through its local file header."""
    start = info.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    begin = start + 30 + int.from_bytes(header[26:28], "little")
    begin += int.from_bytes(header[28:30], "little")
    raw = memoryview(data)[begin : begin + info.compress_size]
    if len(raw) < info.compress_size:
        raise zipfile.BadZipFile(f"truncated member {info.filename!r}")
    return raw


def stored_zip(members: Iterable[tuple[str, bytes, int | None]]) -> bytes:
    """A zip package of ``(name, bytes, crc)`` members (``crc`` ``None``: computed here),
    stored uncompressed, built in memory.

    A few byte strings per member instead of :class:`zipfile.ZipFile`'s writer: this runs for
    every submitted workbook.
    """
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, blob, known in members:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else 0x800  # bit 11: the name is UTF-8
        crc, size = zlib.crc32(blob) if known is None else known, len(blob)
        common = struct.pack("<HHHHHIII", 20, flags, 0, 0, 0x21, crc, size, size)
        header = b"PK\x03\x04" + common + struct.pack("<HH", len(encoded), 0) + encoded
        local += (header, blob)
        central.append(
            b"PK\x01\x02"
            + struct.pack("<H", 20)
            + common
            + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, offset)
            + encoded
        )
        offset += len(header) + size
    directory = b"".join(central)
    end = b"PK\x05\x06" + struct.pack(
        "<HHHHIIH", 0, 0, len(central), len(central), len(directory), offset, 0
    )
    return b"".join(local) + directory + end
