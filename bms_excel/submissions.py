"""Finding and recognising submitted files: walk a folder safely, tell a file's kind by its bytes.

* :func:`walk_submissions` lists a folder, skipping lock, hidden and temporary files and never
  following a symbolic link out of the folder;
* :func:`sniff` tells what a file is by its bytes, never by its name.

Reading a file is :mod:`bms_excel.reader`.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

import olefile

from bms_excel.codes import make_finding
from bms_excel.errors import Finding
from bms_excel.i18n import t

FileKind = Literal[
    "xlsx",
    "xlsm",
    "xlsb",
    "ods",
    "encrypted",
    "xls",
    "pdf",
    "csv",
    "text",
    "empty",
    "corrupt-zip",
    "unknown",
]

MAX_MANIFEST_SIZE = 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file found by :func:`walk_submissions`; ``skip`` is the finding code when it is skipped."""

    path: Path
    relpath: str
    skip: str | None = None
    detail: str = ""

    def finding(self) -> Finding | None:
        """The finding that reports why this file is skipped, or ``None`` when it is to be read."""
        if self.skip is None:
            return None
        params: dict[str, Any] = {}
        if self.skip == "unreadable-file":
            params["error"] = self.detail
        elif self.skip in ("symlink-outside", "symlink-loop"):
            params["target"] = self.detail
        return make_finding(
            self.skip, message_key=f"reader.{self.skip}", file=self.relpath, **params
        )


# --------------------------------------------------------------------------- walking


def _skip_reason(name: str) -> str | None:
    lower = name.lower()
    if name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")):
        return "skipped-lock-file"
    if name.startswith(".") or lower in {"thumbs.db", "desktop.ini", "__macosx"}:
        return "skipped-hidden"
    if lower.endswith(".tmp"):
        return "skipped-temp-file"
    return None


def escape_name(raw: str) -> str:
    """A file name as every output shows it: valid UTF-8 on one line, and reversible.

    A byte that is not UTF-8 (a surrogate-escaped ``str`` from the file system on Linux, e.g.
    Latin-1 ``æ`` from an old zip tool) becomes ``\\xe6``; a control character (a newline
    could forge a finding line) becomes ``\\n``, ``\\t`` or ``\\u0085``; a backslash is
    doubled, so :func:`unescape_name` gives the raw name back. Applied once, where a name
    enters the program (:func:`walk_submissions`, single files), so every text, JSON, CSV,
    workbook and database output holds the same escaped name.
    """
    # On Windows a backslash is the separator and names hold neither controls nor stray bytes.
    if raw.isprintable() and ("\\" not in raw or os.sep == "\\"):
        return raw
    out: list[str] = []
    for ch in raw:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape for a non-UTF-8 byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in _NAME_ESCAPES:
            out.append(_NAME_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "".join(out)


def unescape_name(text: str) -> str:
    """The raw name (surrogate-escaped where it was not UTF-8) behind :func:`escape_name`."""
    return _NAME_ESCAPE.sub(_unescape_one, text)


_NAME_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NAME_ESCAPE = re.compile(r"\\(\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})")


def _unescape_one(match: re.Match[str]) -> str:
    body = match.group(1)
    if body == "\\":
        return "\\"
    if body in ("n", "r", "t"):
        return {"n": "\n", "r": "\r", "t": "\t"}[body]
    if body[0] == "x":
        return chr(0xDC00 + int(body[1:], 16))
    return chr(int(body[1:], 16))


def walk_submissions(folder: str | os.PathLike[str]) -> Iterator[Candidate]:
    """Every file under ``folder`` (recursively, sorted), skipped ones with their reason.

    ``relpath`` is the name relative to ``folder``, escaped by :func:`escape_name`; ``path``
    is the raw path to read. Raises ``OSError`` when ``folder`` itself does not exist.
    """
    root = Path(folder)
    root_real = root.resolve(strict=True)
    yield from _walk(root, root_real, "", {root_real})


def _walk(directory: Path, root_real: Path, prefix: str, seen: set[Path]) -> Iterator[Candidate]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield Candidate(directory, prefix.rstrip("/") or ".", "unreadable-file", exc.strerror or "")
        return
    for entry in entries:
        path, rel = Path(entry.path), prefix + escape_name(entry.name)
        reason = _skip_reason(entry.name)
        if reason:
            yield Candidate(path, rel, reason)
            continue
        try:
            real = path.resolve(strict=True)
            is_dir = real.is_dir()
        except (OSError, RuntimeError):  # broken link or a link loop
            yield Candidate(path, rel, "unreadable-file", t("reader.broken-link"))
            continue
        if entry.is_symlink() and not real.is_relative_to(root_real):
            yield Candidate(path, rel, "symlink-outside", escape_name(str(real)))
        elif is_dir:
            if real in seen:  # a loop, or a folder already walked by another path
                shown = escape_name(str(real.relative_to(root_real))) if real != root_real else "."
                yield Candidate(path, rel, "symlink-loop", shown)
            else:
                seen.add(real)
                yield from _walk(path, root_real, rel + "/", seen)
        elif real.is_file():
            yield Candidate(path, rel)
        else:
            yield Candidate(path, rel, "unreadable-file", t("reader.not-a-regular-file"))


# --------------------------------------------------------------------------- sniffing


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """What ``path`` is, judged by its content (the name is never trusted)."""
    with open(path, "rb") as handle:
        kind, archive = sniff_stream(handle)
        if archive is not None:
            archive.close()
        return kind


def sniff_stream(handle: BinaryIO) -> tuple[FileKind, zipfile.ZipFile | None]:
    """The kind, and for a zip the open archive (its directory is read once, not twice)."""
    head = handle.read(4096)
    handle.seek(0)
    if not head.strip():
        rest = handle.read(1024 * 1024 + 1)
        handle.seek(0)
        if not rest.strip() and len(rest) <= 1024 * 1024:
            return "empty", None
    if head.startswith(b"PK"):
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError):
            return "corrupt-zip", None
        kind = _sniff_zip(archive)
        return kind, archive
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(handle), None
    if b"%PDF-" in head[:1024]:
        return "pdf", None
    return _sniff_text(head), None


def _sniff_zip(zf: zipfile.ZipFile) -> FileKind:
    names = {info.filename.lower(): info for info in zf.infolist()}
    if any(info.flag_bits & 0x1 for info in names.values()):
        return "encrypted"  # a zip-level password: no Office application writes this
    try:
        mime = names.get("mimetype")
        if mime is not None and mime.file_size <= 256:
            if zf.read(mime).strip() == _ODS_MIME:
                return _sniff_ods(zf, names)
            return "unknown"
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        return "corrupt-zip"
    except NotImplementedError:  # a compression method zipfile does not know
        return "unknown"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names:
        return "xlsm" if "xl/vbaproject.bin" in names else "xlsx"
    return "unknown"


def _sniff_ods(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo]) -> FileKind:
    manifest = names.get("meta-inf/manifest.xml")
    # A password-protected .ods keeps its manifest in clear and lists encryption data there.
    if (
        manifest is not None
        and manifest.file_size <= MAX_MANIFEST_SIZE
        and b"encryption-data" in zf.read(manifest)
    ):
        return "encrypted"
    return "ods"


def _sniff_ole(handle: BinaryIO) -> FileKind:
    try:
        ole = olefile.OleFileIO(handle)
    except (OSError, ValueError, IndexError, KeyError, TypeError):
        return "unknown"
    try:
        streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
        if {"encryptioninfo", "encryptedpackage"} <= streams:
            return "encrypted"
        book = next((s for s in ("workbook", "book") if s in streams), None)
        if book is None:
            return "unknown"
        head = ole.openstream(book).read(64 * 1024)
        return "encrypted" if _biff_has_filepass(head) else "xls"
    except (OSError, ValueError, IndexError, KeyError, TypeError):
        return "unknown"
    finally:
        ole.close()


def _biff_has_filepass(stream: bytes) -> bool:
    """Whether a BIFF workbook stream carries FILEPASS (0x002F): an encrypted .xls."""
    pos = 0
    for _ in range(64):  # FILEPASS follows the first BOF within a few records
        if pos + 4 > len(stream):
            return False
        rtype = int.from_bytes(stream[pos : pos + 2], "little")
        size = int.from_bytes(stream[pos + 2 : pos + 4], "little")
        if rtype == 0x002F:
            return True
        if rtype == 0x0085:  # BOUNDSHEET: past the place FILEPASS would be
            return False
        pos += 4 + size
    return False


def _sniff_text(head: bytes) -> FileKind:
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "unknown"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("utf-16") if head.startswith((b"\xff\xfe", b"\xfe\xff")) else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            text = head.decode("cp1252", errors="replace")
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    if lines and not any(ch < " " and ch not in "\t\r\n" for ch in text):
        for sep in (";", ",", "\t"):
            if lines[0].count(sep) and len({line.count(sep) for line in lines[:-1] or lines}) == 1:
                return "csv"
        return "text"
    return "unknown"
