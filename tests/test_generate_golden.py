"""Generated workbooks stay byte for byte what they were (issue 19: speed must not change output).

Every part of every generated unit workbook (and the manifest) is compared by sha256 with
``tests/fixtures/generate_golden.json``, recorded from the generator before it was rewritten
for speed. The input is fixed: the bundled example county with its history and KOSTRA
figures, fixed periods, secret and clock, every unit of every sector, a second run in nynorsk,
one unit carrying actions and lessons from the period before and one pre-filled workbook.
``docProps/core.xml``'s timestamps are normalised (they are the fixed clock anyway).

To record the fixture again — only when an output change is intended, and say so in the
commit — run::

    .venv/bin/python tests/test_generate_golden.py --update
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import sys
import zipfile
from pathlib import Path

from conftest import history_from_rows
from helpers import load_example_history

from bms_excel.dialogue import UnitFollowUp
from bms_excel.examples import example_dir, load_example_definition
from bms_excel.generate import WorkbookWriter, generate_workbooks
from bms_excel.history import open_history
from bms_excel.kostra_import import import_kostra, kostra_views
from bms_excel.unit_results import UnitInputs

FIXTURE = Path(__file__).parent / "fixtures" / "generate_golden.json"
SECRET = b"golden-secret-0123456789abcdef0123456789"
NOW = dt.datetime(2026, 9, 1, 8, 30, 15, tzinfo=dt.UTC)
_STAMPS = re.compile(
    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)"
)


def _part_digests(data: bytes) -> dict[str, str]:
    """Part name → sha256 of its bytes (core.xml timestamps normalised), in package order."""
    out: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            body = zf.read(name)
            if name == "docProps/core.xml":
                body = _STAMPS.sub(rb"\1TIME\2", body)
            out[name] = hashlib.sha256(body).hexdigest()
    return out


def _followup() -> dict[str, UnitFollowUp]:
    actions = (
        {
            "code": "R1.1",
            "action": "Flere læreplasser & «tett» oppfølging",
            "responsible": "Rektor",
            "deadline": dt.date(2026, 10, 15),
            "status": "Pågår",
        },
        {
            "code": None,
            "action": "Ny rutine",
            "responsible": None,
            "deadline": None,
            "status": None,
        },
    )
    return {"BYASEN": UnitFollowUp("2026-T1", actions, {"R": "Tett dialog hjelper."})}


def golden_outputs(tmp: Path) -> dict[str, dict[str, str]]:
    """Output name → part name → sha256, for every output of the fixed runs."""
    definition = load_example_definition("stfk")
    history = history_from_rows(load_example_history("stfk"))
    samples = sorted(Path(str(example_dir("stfk"))).joinpath("kostra").glob("*.json"))
    with open_history(tmp / "history.sqlite") as db:
        import_kostra(samples, definition, db, definition.period("2026-T2"))
        kostra = kostra_views(db, definition, definition.period("2026-T2"))
    assert kostra, "the example's KOSTRA figures must reach the workbooks"
    out: dict[str, dict[str, str]] = {}
    runs = (
        ("nb", "2026-T2", None, kostra, _followup()),
        ("nn", "2026-T1", ["HEIMDAL", "FYLKESVEG", "TANNHELSE", "KULTUR"], None, None),
    )
    for lang, period, units, figures, followup in runs:
        known = {u.code for u in definition.units}
        chosen = [u for u in units or known if u in known] or None
        result = generate_workbooks(
            definition,
            period,
            out_dir=tmp / f"{lang}-{period}",
            secret=SECRET,
            units=chosen,
            lang=lang,
            history=history,
            kostra=figures,
            now=NOW,
            followup=followup,
        )
        for path in result.files:
            out[f"{lang}/{path.name}"] = _part_digests(path.read_bytes())
        # The manifest names each file's sha256, which covers the zip's member dates (the
        # time of writing): checked against the files, then left out of the comparison.
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in result.files}
        assert [(r.file, r.sha256) for r in result.manifest] == list(files.items())
        for extra in (result.manifest_csv, result.manifest_json):
            assert extra is not None
            text = extra.read_bytes()
            for digest in files.values():
                assert text.count(digest.encode()) == 1, extra.name
                text = text.replace(digest.encode(), b"SHA256")
            out[f"{lang}/{extra.name}"] = {"": hashlib.sha256(text).hexdigest()}
    # A pre-filled workbook (a correction): results, comments and actions in the input cells.
    writer = WorkbookWriter(definition, "2026-T2", secret=SECRET, history=history, now=NOW)
    filled = UnitInputs(
        results={"R1.1": 2.5, "R1.2": "i.a.", "R2.1": 0.68, "O1.1": -3},
        comments={"O1.1": "Overskridelse <2 %> & mer"},
        actions=(
            {
                "code": "O1.1",
                "action": "Kutt",
                "responsible": "Økonomi",
                "deadline": dt.date(2026, 11, 1),
                "status": "Planlagt",
            },
        ),
        percent=frozenset({"R2.1"}),
    )
    for unit in ("HEIMDAL", "STRINDA"):
        path = tmp / f"filled-{unit}.xlsx"
        writer.write(definition.unit(unit), path, filled)
        out[f"filled/{unit}"] = _part_digests(path.read_bytes())
    return out


def _differences(
    expected: dict[str, dict[str, str]], actual: dict[str, dict[str, str]]
) -> list[str]:
    out: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if want is None or got is None:
            out.append(f"{name}: {'missing' if got is None else 'not in the fixture'}")
            continue
        if list(want) != list(got):
            out.append(f"{name}: part list/order {list(got)} != {list(want)}")
        out += [
            f"{name}: {part}"
            for part in sorted(want.keys() | got.keys())
            if want.get(part) != got.get(part)
        ]
    return out


def test_generated_parts_are_byte_for_byte_the_golden_ones(tmp_path: Path) -> None:
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    actual = golden_outputs(tmp_path)
    assert len(actual) > 40  # every example unit, the nynorsk run, the manifests, the corrections
    differing = _differences(expected, actual)
    assert not differing, "parts that differ from the golden fixture:\n" + "\n".join(differing)


def test_the_comparison_names_a_changed_part() -> None:
    expected = {"nb/a.xlsx": {"xl/styles.xml": "1", "xl/worksheets/sheet2.xml": "2"}}
    changed = {"nb/a.xlsx": {"xl/styles.xml": "1", "xl/worksheets/sheet2.xml": "X"}}
    assert _differences(expected, changed) == ["nb/a.xlsx: xl/worksheets/sheet2.xml"]
    assert _differences(expected, {}) == ["nb/a.xlsx: missing"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {sys.argv[0]} --update   (records {FIXTURE.name} from the current code)")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        outputs = golden_outputs(Path(folder))
    FIXTURE.write_text(json.dumps(outputs, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE} ({len(outputs)} outputs)")
