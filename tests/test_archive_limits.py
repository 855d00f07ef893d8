"""Each archive limit on its own, just over and just under, through the public collect path.

A good filled return gets extra package members (never referenced, so a reader that respects
the limits reads the workbook as before). Each pair of files sits on one limit, with every
other limit far away, so loosening or tightening any one limit fails its own pair:

* parts: 2000 members are read, 2001 are ``zip-bomb``;
* total inflated size: exactly 200 MiB is read, one byte more is ``too-large``;
* compression ratio: a member above 1 MiB inflating just under 100× its stored size is read,
  just over 100× is ``zip-bomb``; a member of exactly 1 MiB is not judged by its ratio at all.

Every archive is honest (sizes and CRCs true), so the same files hold for a reader that judges
the central directory and for one that counts while it inflates. The big members are built
from one deflate block repeated (a full flush makes the copies independent): milliseconds,
not a 200 MiB deflate.
"""

from __future__ import annotations

import random
import zipfile
import zlib
from pathlib import Path

import pytest
from conftest import PERIOD, SECRET
from hostile import raw_zip

from bms_excel.collect import validate_files
from bms_excel.model import Definition

MIB = 1024 * 1024
#: The limits as the README promises them (hard-coded: a test reading the constants would
#: move with them).
MAX_PARTS = 2000
MAX_TOTAL = 200 * MIB
MAX_RATIO = 100
RATIO_MIN_SIZE = MIB
LIMIT_CODES = {"zip-bomb", "too-large"}

# -- pre-deflated members for hostile.raw_zip ----------------------------------------------------

Member = tuple[str, bytes, int, int]  # name, raw deflate data, crc32, uncompressed size


def deflated(blob: bytes) -> Member:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return ("", comp.compress(blob) + comp.flush(), zlib.crc32(blob), len(blob))


def base_members(path: Path) -> list[Member]:
    """The members of a good return, re-deflated as they are."""
    with zipfile.ZipFile(path) as zf:
        return [(info.filename, *deflated(zf.read(info))[1:]) for info in zf.infolist()]


def big_member(name: str, size: int, *, noise: int) -> Member:
    """``size`` bytes made of 1 MiB chunks (``noise`` random bytes, then zeros), deflated.

    With 16 KiB of noise a chunk stores as ~16 KiB: a ratio near 64, far from the ratio limit.
    """
    chunk = random.Random(7).randbytes(noise) + bytes(MIB - noise)
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    count, tail = divmod(size, MIB)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    last = chunk[:tail]
    crc = zlib.crc32(last, crc)
    end = zlib.compressobj(1, zlib.DEFLATED, -15)
    data = block * count + end.compress(last) + end.flush()
    return (name, data, crc, size)


#: A non-final stored block of no bytes (after a sync flush the stream is byte-aligned), and a
#: final fixed-Huffman block of no bytes that ends the stream.
EMPTY_STORED = b"\x00\x00\x00\xff\xff"
EMPTY_FINAL = b"\x03\x00"


def member_with_ratio(name: str, size: int, stored: int) -> Member:
    """A member inflating to ``size`` bytes whose deflate data is about ``stored`` bytes long.

    Highly compressible data, then empty stored blocks (5 bytes each, inflating to nothing)
    until the stored length is as close to ``stored`` as 5-byte steps allow.
    """
    blob = random.Random(3).randbytes(stored // 4) + bytes(size - stored // 4)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(blob) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert len(data) < stored - 16, "the noise must leave room for padding"
    while len(data) + len(EMPTY_STORED) + len(EMPTY_FINAL) <= stored:
        data += EMPTY_STORED
    data += EMPTY_FINAL
    assert zlib.decompress(data, -15) == blob
    return (name, data, zlib.crc32(blob), size)


def limit_findings(path: Path, stfk: Definition) -> tuple[set[str], str]:
    report = validate_files([path], stfk, SECRET, PERIOD)
    codes = {f.code for f in report.findings if f.severity == "error"}
    return codes, report.files[0].state


def write(tmp_path: Path, name: str, members: list[Member]) -> Path:
    path = tmp_path / name
    path.write_bytes(raw_zip(members))
    with zipfile.ZipFile(path) as zf:  # honest: sizes as declared, CRCs right
        assert all(i.file_size == s for i, (_, _, _, s) in zip(zf.infolist(), members, strict=True))
    return path


@pytest.fixture(scope="module")
def base(filled: dict[str, Path]) -> list[Member]:
    return base_members(filled["HEIMDAL"])


def test_the_base_return_is_read(tmp_path: Path, stfk: Definition, base: list[Member]) -> None:
    assert limit_findings(write(tmp_path, "ok.xlsx", base), stfk) == (set(), "accepted")


# -- too many parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "refused"), [(MAX_PARTS, False), (MAX_PARTS + 1, True)])
def test_parts_limit(
    parts: int, refused: bool, tmp_path: Path, stfk: Definition, base: list[Member]
) -> None:
    tiny = deflated(b"x")[1:]
    extra = [(f"xl/media/pad{i}.bin", *tiny) for i in range(parts - len(base))]
    codes, state = limit_findings(write(tmp_path, "parts.xlsx", base + extra), stfk)
    assert (codes, state) == (({"zip-bomb"}, "rejected") if refused else (set(), "accepted"))


# -- total inflated size -------------------------------------------------------------------------


@pytest.mark.parametrize(("over", "refused"), [(0, False), (1, True)])
def test_total_inflated_size_limit(
    over: int, refused: bool, tmp_path: Path, stfk: Definition, base: list[Member]
) -> None:
    pad = MAX_TOTAL + over - sum(size for *_, size in base)
    member = big_member("xl/media/pad.bin", pad, noise=16 * 1024)
    assert member[3] / len(member[1]) < MAX_RATIO / 1.5  # the ratio limit is far away
    codes, state = limit_findings(write(tmp_path, "total.xlsx", [*base, member]), stfk)
    assert (codes, state) == (({"too-large"}, "rejected") if refused else (set(), "accepted"))


# -- compression ratio ------------------------------------------------------------------------

# A 2 MiB member: ratio 100 is 20 971.52 stored bytes. 20 990 stored is 99.9×; 20 950 is 100.1×.
RATIO_CASES = [
    (2 * MIB, 20_990, False),
    (2 * MIB, 20_950, True),
    # Exactly 1 MiB is never judged by its ratio (real workbooks compress that well); one byte
    # more at the same ~350× is.
    (RATIO_MIN_SIZE, 3_000, False),
    (RATIO_MIN_SIZE + 1, 3_000, True),
]


@pytest.mark.parametrize(("size", "stored", "refused"), RATIO_CASES)
def test_compression_ratio_limit(
    size: int, stored: int, refused: bool, tmp_path: Path, stfk: Definition, base: list[Member]
) -> None:
    member = member_with_ratio("xl/media/pad.bin", size, stored)
    ratio = size / len(member[1])
    if size == 2 * MIB:  # just either side of the limit
        assert (ratio > MAX_RATIO) is refused and abs(ratio - MAX_RATIO) < 0.2
    else:  # far over the ratio: only the size decides
        assert ratio > 3 * MAX_RATIO
    codes, state = limit_findings(write(tmp_path, "ratio.xlsx", [*base, member]), stfk)
    assert (codes, state) == (({"zip-bomb"}, "rejected") if refused else (set(), "accepted"))
