"""Hostile returns aimed at the native reader and at the process running it (issue 12, items 1-3).

Each generator takes the bytes of a good workbook and returns a hostile variant, built in the
test run (nothing downloaded, each file at most a few MB on disk):

* :func:`far_cell_bytes` — one cell far beyond the form (``XFD1048576``): python-calamine would
  allocate the whole grid from A1 to it (512 GiB) and abort the process;
* :func:`unreferenced_far_bytes` — cells without ``r`` in a far row, which calamine places
  after the row's start: the same grid, but the cells cannot be located one by one;
* :func:`lying_zip_bytes` — a member whose central directory and local header declare a small
  size but whose deflate stream inflates to ``inflated`` bytes (1.5 GiB by default) from
  about 1.5 MB on disk;
* :func:`write_raw_name` — a file whose name holds bytes that are not UTF-8 (Latin-1 ``æøå``
  as an old zip tool writes them) or a newline that could forge a finding line.

:func:`run_measured` runs a command in a fresh process and reports its peak RSS (the largest
process of its tree, from ``RUSAGE_CHILDREN``), exit code and output.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

FAR = "XFD1048576"
GIB = 1024 * 1024 * 1024
BOMB_INFLATED = 3 * GIB // 2


def _members(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _replace_member(data: bytes, part: str, change: bytes) -> bytes:
    """``data`` with ``part``'s ``</sheetData>`` preceded by ``change``, re-zipped."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, blob in _members(data):
            if info.filename == part:
                assert b"</sheetData>" in blob, f"{part} has no sheet data to extend"
                blob = blob.replace(b"</sheetData>", change + b"</sheetData>", 1)
            zf.writestr(info.filename, blob)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str) -> str:
    """The part name of ``sheet`` (``xl/worksheets/sheetN.xml``), from the workbook's rels."""
    import openpyxl  # only to map names; the hostile bytes are written by hand

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    index = book.sheetnames.index(sheet)
    book.close()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(
            (n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")),
            key=lambda n: int(n.rsplit("sheet", 1)[1].split(".")[0]),
        )
    return names[index]


def far_cell_bytes(data: bytes, part: str, ref: str = FAR, value: str = "5") -> bytes:
    """One numeric cell at ``ref`` added to ``part`` (in a row of its own, after the others)."""
    row = "".join(ch for ch in ref if ch.isdigit())
    cell = f'<row r="{row}"><c r="{ref}" t="n"><v>{value}</v></c></row>'
    return _replace_member(data, part, cell.encode("ascii"))


def empty_far_cell_bytes(data: bytes, part: str, ref: str = FAR) -> bytes:
    """A formatted empty cell at ``ref`` (LibreOffice writes these for formatted rows): no
    value, so no reader places it."""
    row = "".join(ch for ch in ref if ch.isdigit())
    return _replace_member(data, part, f'<row r="{row}"><c r="{ref}" s="1"/></row>'.encode())


def unreferenced_far_bytes(data: bytes, part: str, row: int = 1_048_576) -> bytes:
    """Three cells without references in row ``row`` of ``part``."""
    cells = "".join(f"<c><v>{i}</v></c>" for i in range(3))
    return _replace_member(data, part, f'<row r="{row}">{cells}</row>'.encode("ascii"))


def prefixed_bytes(data: bytes, part: str) -> bytes:
    """``part`` rewritten with the main namespace as prefix ``x:`` (as the Open XML SDK
    writes it): ``<x:worksheet xmlns:x="…"><x:sheetData><x:row><x:c>``."""
    main = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, blob in _members(data):
            if info.filename == part:
                blob = re.sub(rb"<(/?)([A-Za-z]+)(?=[\s>/])", rb"<\1x:\2", blob)
                blob = blob.replace(main, main.replace(b"xmlns=", b"xmlns:x="), 1)
            zf.writestr(info.filename, blob)
    return out.getvalue()


def _bomb_stream(inflated: int) -> bytes:
    """A raw deflate stream of ``inflated`` spaces, built from one repeated block.

    A full flush ends the block byte-aligned and with no reference to earlier data, so the same
    compressed block may be repeated; a final empty block ends the stream.
    """
    step = 1024 * 1024
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(b" " * step) + packer.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS).flush()
    return block * (inflated // step) + final


def lying_zip_bytes(data: bytes, part: str, inflated: int = BOMB_INFLATED) -> bytes:
    """``data`` with ``part`` replaced by a stream of ``inflated`` bytes that both headers
    declare as the original part's size and CRC (what an archive crafted to lie looks like)."""
    out = io.BytesIO()
    central = io.BytesIO()
    count = 0
    for info, blob in _members(data):
        name = info.filename.encode("utf-8")
        if info.filename == part:
            packed, method = _bomb_stream(inflated), 8
        else:
            packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            packed, method = packer.compress(blob) + packer.flush(), 8
        crc, size = zlib.crc32(blob), len(blob)  # what the part held: a lie for ``part``
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(packed),
                size,
                len(name),
                0,
            )
        )
        out.write(name + packed)
        fields = (0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(packed), size)  # fmt: skip
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", *fields, len(name), 0, 0, 0, 0, 0, offset))
        central.write(name)
        count += 1
    start = out.tell()
    directory = central.getvalue()
    out.write(directory)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))
    return out.getvalue()


def write_raw_name(folder: Path, name: bytes, data: bytes) -> Path:
    """Write ``data`` under a file name given as raw bytes (any bytes but ``/`` and NUL)."""
    raw = os.path.join(os.fsencode(folder), name)
    fd = os.open(raw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(os.fsdecode(raw))


_MEASURE = """
import json, resource, subprocess, sys
args, cwd, env = json.loads(sys.argv[1])
done = subprocess.run(args, cwd=cwd, env=env, capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
sys.stdout.buffer.write(json.dumps({"rc": done.returncode, "peak": peak}).encode() + b"\\n")
sys.stdout.buffer.write(done.stdout)
sys.stderr.buffer.write(done.stderr)
"""


def run_measured(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[int, bytes, bytes, int]:
    """Run ``args`` in a fresh process: exit code, stdout, stderr, and peak RSS in bytes of the
    largest process the run started (the command itself or any of its workers)."""
    spec = json.dumps([args, str(cwd), {**os.environ, **(env or {})}])
    done = subprocess.run([sys.executable, "-c", _MEASURE, spec], capture_output=True, timeout=600)
    head, _, stdout = done.stdout.partition(b"\n")
    info = json.loads(head)
    return info["rc"], stdout, done.stderr, info["peak"]
