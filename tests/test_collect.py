"""collect.py: hostile folders, duplicates, unit states, the reminder list, flat memory."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import GENERATED_UNITS, ON_TIME, PERIOD, SECRET, copy_file, good_entry
from hostile import build_hostile_corpus

from bms_excel.collect import (
    FileOutcome,
    collect_submissions,
    process_file,
    write_reminder_csv,
)
from bms_excel.model import Definition
from bms_excel.reader import WorkbookData

# Reader codes of hostile files that are still read (they are not bms workbooks, so they are
# also rejected by identification with "meta-incomplete": the corpus's _meta has no signature).
_READ_WITH_WARNING = {"macro-workbook", "saved-as-ods", "saved-as-xls"}


def _snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``folder`` (links not followed) → (sha256 or link target, mtime_ns)."""
    snap: dict[str, tuple[str, int]] = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(root, name)
            st = path.lstat()
            if path.is_symlink():
                digest = "link:" + os.readlink(path)
            elif path.is_dir():
                digest = "dir"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            snap[str(path.relative_to(folder))] = (digest, st.st_mtime_ns)
    return snap


def _typed_values(definition: Definition, unit: str) -> dict[str, tuple[str, float, str | None]]:
    entry: Any = good_entry(definition, unit)
    return {
        code: ("number", float(value), entry.comments.get(code))
        for code, value in entry.values.items()
    }


# -- 1. the hostile mix ------------------------------------------------------------------------


def test_hostile_mix(tmp_path: Path, stfk: Definition, filled: dict[str, Path]) -> None:
    folder = tmp_path / "innkommet"
    expected = build_hostile_corpus(folder, libreoffice=False)
    for unit, path in filled.items():
        copy_file(path, folder / "returns" / unit.lower() / path.name)
    before = _snapshot(folder)

    report = collect_submissions(folder, stfk, PERIOD, SECRET)

    assert _snapshot(folder) == before  # nothing written, touched or re-saved
    codes: dict[str, list[str]] = {}
    for f in report.findings:
        assert f.file is not None
        codes.setdefault(f.file, []).append(f.code)
    for name, code in expected.items():
        if code in ("", *_READ_WITH_WARNING):
            want = sorted(c for c in (code, "meta-incomplete") if c)
        else:
            want = [code]
        assert sorted(codes.pop(name)) == want, name
    assert codes == {}, "the valid returns must have no findings"
    states = {u.code: u.state for u in report.units}
    assert {u: states[u] for u in GENERATED_UNITS} == dict.fromkeys(GENERATED_UNITS, "received")
    got: dict[str, dict[str, tuple[str, float | None, str | None]]] = {}
    for v in report.batch.values:
        assert not v.has_error
        got.setdefault(v.unit, {})[v.indicator] = (v.kind, v.value, v.comment)
    assert got == {u: _typed_values(stfk, u) for u in GENERATED_UNITS}
    accepted = sorted(s.path for s in report.batch.submissions if s.state == "accepted")
    assert accepted == sorted(f"returns/{u.lower()}/{PERIOD}_{u}.xlsx" for u in GENERATED_UNITS)


# -- 3. duplicates -----------------------------------------------------------------------------


def _set_document_modified(path: Path, stamp: str, creator: str | None = None) -> None:
    """Rewrite ``dcterms:modified`` in docProps/core.xml (what Excel sets on save)."""
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    core = members["docProps/core.xml"].decode()
    core, n = re.subn(
        r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{stamp}\g<2>", core
    )
    assert n == 1
    if creator is not None:
        core, n = re.subn(r"(<dc:creator[^>]*>)[^<]*(</dc:creator>)", rf"\g<1>{creator}\g<2>", core)
        assert n == 1
    members["docProps/core.xml"] = core.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    path.write_bytes(buf.getvalue())
    os.utime(path, (ON_TIME, ON_TIME))


def _triples(findings: list[Any]) -> list[tuple[str, str | None]]:
    return sorted((f.code, f.file) for f in findings)


def test_duplicate_identical_newest_by_document_time_wins(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    folder = tmp_path / "innkommet"
    # "b-old" sorts after "a-new" by name: only the document time can make "a-new" the newest.
    new = copy_file(filled["HEIMDAL"], folder / "a-new.xlsx")
    old = copy_file(filled["HEIMDAL"], folder / "b-old.xlsx")
    _set_document_modified(new, "2026-09-10T10:00:00Z")
    _set_document_modified(old, "2026-09-01T10:00:00Z")
    report = collect_submissions(folder, stfk, PERIOD, SECRET)
    assert _triples(report.findings) == [("duplicate-identical", "b-old.xlsx")]
    assert {s.path: s.state for s in report.batch.submissions} == {
        "a-new.xlsx": "accepted",
        "b-old.xlsx": "duplicate",
    }
    assert {v.file for v in report.batch.values} == {"a-new.xlsx"}
    assert next(u for u in report.units if u.code == "HEIMDAL").state == "received"


def test_duplicate_identical_same_time_newest_by_name(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    folder = tmp_path / "innkommet"
    for name in ("b.xlsx", "a.xlsx"):  # different bytes (creator), same document time
        path = copy_file(filled["HEIMDAL"], folder / name)
        _set_document_modified(path, "2026-09-10T10:00:00Z", creator=name)
    report = collect_submissions(folder, stfk, PERIOD, SECRET)
    assert _triples(report.findings) == [("duplicate-identical", "a.xlsx")]
    assert {v.file for v in report.batch.values} == {"b.xlsx"}


def test_duplicate_conflict(tmp_path: Path, stfk: Definition, fill: Callable[..., Path]) -> None:
    folder = tmp_path / "innkommet"
    fill("HEIMDAL", folder / "first.xlsx")
    entry: Any = good_entry(stfk, "HEIMDAL")
    entry.values["R1.1"] = 3.0
    entry.values["T2.1"] = 8.0
    fill("HEIMDAL", folder / "sub" / "second.xlsx", entry)
    report = collect_submissions(folder, stfk, PERIOD, SECRET)
    conflict = [f for f in report.findings if f.code == "duplicate-conflict"]
    assert _triples(report.findings) == [("duplicate-conflict", conflict[0].file)]
    assert conflict[0].severity == "error"
    assert sorted(conflict[0].extra["files"]) == ["first.xlsx", "sub/second.xlsx"]
    assert conflict[0].extra["indicators"] == ["R1.1", "T2.1"]
    unit = next(u for u in report.units if u.code == "HEIMDAL")
    assert (unit.state, unit.files) == ("duplicate", ["first.xlsx", "sub/second.xlsx"])
    assert report.batch.values == []  # none is used until the controller removes one
    assert {s.state for s in report.batch.submissions} == {"duplicate"}


def test_same_bytes_twice(tmp_path: Path, stfk: Definition, filled: dict[str, Path]) -> None:
    folder = tmp_path / "innkommet"
    copy_file(filled["HEIMDAL"], folder / "a.xlsx")
    copy_file(filled["HEIMDAL"], folder / "videresendt" / "a.xlsx")
    report = collect_submissions(folder, stfk, PERIOD, SECRET)
    assert _triples(report.findings) == [("duplicate-file", "videresendt/a.xlsx")]
    assert next(u for u in report.units if u.code == "HEIMDAL").state == "received"
    assert {v.file for v in report.batch.values} == {"a.xlsx"}
    assert len(report.batch.values) == len(_typed_values(stfk, "HEIMDAL"))


# -- 4. unit states and the reminder list ----------------------------------------------------


@pytest.fixture
def mixed_folder(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path], fill: Callable[..., Path]
) -> Path:
    """HEIMDAL received, BYASEN rejected (edited _meta), CHARLOTTENLUND duplicate, rest missing."""
    folder = tmp_path / "innkommet"
    copy_file(filled["HEIMDAL"], folder / "heimdal.xlsx")
    bad = copy_file(filled["BYASEN"], folder / "byasen.xlsx")
    wb = openpyxl.load_workbook(bad)
    sig = next(r for r in wb["_meta"].iter_rows(max_col=2) if r[0].value == "signature")
    sig[1].value = "0" * 64  # a forged signature: the workbook can no longer be trusted
    wb.save(bad)
    os.utime(bad, (ON_TIME, ON_TIME))
    fill("CHARLOTTENLUND", folder / "charlottenlund-1.xlsx")
    entry: Any = good_entry(stfk, "CHARLOTTENLUND")
    entry.values["R1.1"] = 2.1  # still green: only the values differ
    fill("CHARLOTTENLUND", folder / "charlottenlund-2.xlsx", entry)
    return folder


def test_unit_states_and_json(mixed_folder: Path, stfk: Definition) -> None:
    report = collect_submissions(mixed_folder, stfk, PERIOD, SECRET)
    data = report.to_json()
    states = {u["code"]: u["state"] for u in data["units"]}
    assert states == {
        u.code: {"HEIMDAL": "received", "BYASEN": "rejected", "CHARLOTTENLUND": "duplicate"}.get(
            u.code, "missing"
        )
        for u in stfk.units
    }
    by_code = {u["code"]: u for u in data["units"]}
    for unit in stfk.units:
        entry = by_code[unit.code]
        if entry["state"] == "received":
            assert "email" not in entry
        else:
            assert unit.contact is not None
            assert (entry["contact"], entry["email"]) == (unit.contact.name, unit.contact.email)
    assert by_code["BYASEN"]["files"] == ["byasen.xlsx"]
    assert [(f["path"], f["state"]) for f in data["files"]] == [
        ("byasen.xlsx", "rejected"),
        ("charlottenlund-1.xlsx", "duplicate"),
        ("charlottenlund-2.xlsx", "duplicate"),
        ("heimdal.xlsx", "accepted"),
    ]
    assert sorted((f["code"], f["file"]) for f in data["findings"]) == [
        ("bad-signature", "byasen.xlsx"),
        ("duplicate-conflict", "charlottenlund-2.xlsx"),
    ]


def test_reminder_csv(mixed_folder: Path, tmp_path: Path, stfk: Definition) -> None:
    evil = '=HYPERLINK("http://x")'
    units = [u.model_copy(update={"name": evil}) if u.code == "STRINDA" else u for u in stfk.units]
    definition = stfk.model_copy(update={"units": tuple(units)})
    report = collect_submissions(mixed_folder, definition, PERIOD, SECRET)
    path = write_reminder_csv(report, definition, tmp_path / "rapporter")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(header) == 7
    assert [r[0] for r in body] == [u.code for u in stfk.units if u.code != "HEIMDAL"]
    names = {r[0]: r[1] for r in body}
    assert names["STRINDA"] == "'" + evil
    byasen = next(u for u in stfk.units if u.code == "BYASEN")
    assert names["BYASEN"] == byasen.name and "å" in byasen.name
    assert all(not c.startswith(("=", "+", "-", "@")) for r in body for c in r)


# -- 6. memory stays flat ------------------------------------------------------------------------


def _holds_workbook(obj: object, depth: int = 0) -> bool:
    if isinstance(obj, WorkbookData):
        return True
    if depth > 4:
        return False
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return any(
            _holds_workbook(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj)
        )
    if isinstance(obj, list | tuple | set):
        return any(_holds_workbook(x, depth + 1) for x in obj)
    if isinstance(obj, dict):
        return any(_holds_workbook(x, depth + 1) for x in obj.values())
    return False


def test_outcome_is_records_not_a_workbook(stfk: Definition, filled: dict[str, Path]) -> None:
    outcome = process_file(filled["HEIMDAL"], "heimdal.xlsx", stfk, SECRET, PERIOD)
    assert isinstance(outcome, FileOutcome)
    assert not _holds_workbook(outcome)
    assert len(outcome.values) == len(_typed_values(stfk, "HEIMDAL"))
    # What a worker sends back is a few kB, not the workbook (the file itself is ~30 kB+).
    assert len(pickle.dumps(outcome)) < 16 * 1024


def test_pool_run_equals_serial_run(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    folder = tmp_path / "innkommet"
    for i in range(17):
        for unit, path in filled.items():
            copy_file(path, folder / f"{i:02d}" / f"{unit}.xlsx")
    serial = collect_submissions(folder, stfk, PERIOD, SECRET, processes=1)
    seen: list[tuple[int, int]] = []
    pooled = collect_submissions(
        folder, stfk, PERIOD, SECRET, processes=2, progress=lambda d, t: seen.append((d, t))
    )
    assert len(serial.files) == 68
    assert seen[-1] == (68, 68)
    assert pooled.batch == serial.batch
    assert [(f.code, f.file) for f in pooled.findings] == [
        (f.code, f.file) for f in serial.findings
    ]
    assert sum(f.code == "duplicate-file" for f in serial.findings) == 64
    assert not any(_holds_workbook(o) for o in pooled.files)
