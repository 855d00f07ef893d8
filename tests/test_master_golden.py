"""The master workbook and the history database stay byte-for-byte what they were (issue 19).

The bundled demo's returns (``tests/fixtures/golden_master``, see :mod:`golden_master` for how
to regenerate it deliberately) are consolidated on a fixed clock; every part of the master and
every table of the history must hash as recorded in ``golden.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from golden_master import GOLDEN, consolidate_fixture, part_hashes, table_hashes


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return consolidate_fixture(tmp_path_factory.mktemp("golden"))


def _differing(actual: dict[str, str], expected: dict[str, str]) -> list[str]:
    return sorted(k for k in set(actual) | set(expected) if actual.get(k) != expected.get(k))


def test_every_part_of_the_master_is_as_recorded(golden_run: tuple[Path, Path]) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))["master"]
    assert len(expected) > 20 and "xl/worksheets/sheet1.xml" in expected
    assert _differing(part_hashes(golden_run[0]), expected) == []


def test_every_table_of_the_history_is_as_recorded(golden_run: tuple[Path, Path]) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))["history"]
    assert {"submissions", "submission_values", "runs", "findings"} <= set(expected)
    assert _differing(table_hashes(golden_run[1]), expected) == []


def test_the_part_comparison_sees_one_changed_cell(
    golden_run: tuple[Path, Path], tmp_path: Path
) -> None:
    # The check can fail: one byte more in one sheet is named, nothing else is.
    changed = tmp_path / "changed.xlsx"
    with zipfile.ZipFile(golden_run[0]) as src, zipfile.ZipFile(changed, "w") as dest:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</sheetData>", b"<row r='9999'/></sheetData>")
            dest.writestr(info, data)
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))["master"]
    assert _differing(part_hashes(changed), expected) == ["xl/worksheets/sheet2.xml"]


def test_core_timestamps_do_not_count_but_the_title_does(
    golden_run: tuple[Path, Path], tmp_path: Path
) -> None:
    def rewrite(name: str, old: bytes, new: bytes) -> dict[str, str]:
        out = tmp_path / name
        with zipfile.ZipFile(golden_run[0]) as src, zipfile.ZipFile(out, "w") as dest:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "docProps/core.xml":
                    assert old in data
                    data = data.replace(old, new)
                dest.writestr(info, data)
        return part_hashes(out)

    with zipfile.ZipFile(golden_run[0]) as zf:
        core = zf.read("docProps/core.xml").decode()
    stamp = core.split("<dcterms:created", 1)[1].split(">", 1)[1].split("<", 1)[0]
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))["master"]
    later = rewrite("later.xlsx", stamp.encode(), b"2031-01-01T00:00:00Z")
    assert _differing(later, expected) == []
    retitled = rewrite("retitled.xlsx", b"bms_excel</dc:creator>", b"x</dc:creator>")
    assert _differing(retitled, expected) == ["docProps/core.xml"]
