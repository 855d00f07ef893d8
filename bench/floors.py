"""The floors: what reading and writing a unit workbook costs at the least (performance-floors.md).

* unzip: inflate every member of the package (the read floor);
* calamine: python-calamine reading the same input cells, nothing else;
* re-zip: write the finished workbook's members, already in memory, into a new zip with the
  same compression (the write floor; reading the members is not timed).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

_A1 = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def unzip_all(path: Path) -> int:
    """Inflate every member of ``path``; the number of bytes inflated."""
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            total += len(zf.read(info))
    return total


def cell_index(ref: str) -> tuple[int, int]:
    """``"B3"`` → ``(2, 1)``: 0-based row and column."""
    m = _A1.match(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def calamine_cells(path: Path, sheet: str, cells: list[tuple[int, int]]) -> list[Any]:
    """Read ``cells`` (0-based) of ``sheet`` with python-calamine alone."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    finally:
        wb.close()
    out: list[Any] = []
    for r, c in cells:
        row = rows[r] if r < len(rows) else ()
        out.append(row[c] if c < len(row) else "")
    return out


def load_members(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    """Every member of ``path`` with its bytes (the untimed half of the re-zip floor)."""
    with zipfile.ZipFile(path) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def rezip(members: list[tuple[zipfile.ZipInfo, bytes]], target: Path) -> int:
    """Write ``members`` to ``target`` as a new zip with each member's compression; its size."""
    with zipfile.ZipFile(target, "w") as zf:
        for info, data in members:
            zf.writestr(info, data, compress_type=info.compress_type)
    return target.stat().st_size
