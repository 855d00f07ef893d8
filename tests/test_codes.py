"""The finding-code registry: one table, the README rendered from it, every emitted code in it."""

from __future__ import annotations

import pytest
from test_docs import FINDING_CALLS, README, _emitted_codes

from bms_excel.checks import CHECK_SEVERITY
from bms_excel.codes import CODES, FAMILIES, TABLE, make_finding, readme_tables, severity_of
from bms_excel.definition import LOAD_CODES
from bms_excel.errors import (
    BmsError,
    ConfigError,
    DefinitionError,
    Finding,
    OutputError,
    TemplateError,
    WorkbookReadError,
)
from bms_excel.i18n import LANGUAGES, catalogue
from bms_excel.import_values import CODES as IMPORT_CODES


def _readme_section() -> str:
    start = README.index(next(iter(FAMILIES.values())))
    return README[start : README.index("## Libraries, and why")].rstrip("\n") + "\n"


def test_the_readme_tables_are_the_registry() -> None:
    # Regenerate with: python -c "from bms_excel.codes import readme_tables; print(readme_tables())"
    assert _readme_section() == readme_tables()


def test_the_comparison_sees_a_changed_severity() -> None:
    changed = readme_tables().replace("| `encrypted` | error |", "| `encrypted` | warning |")
    assert changed != readme_tables() and "| `encrypted` | error |" in _readme_section()


def test_one_severity_per_code_and_known_families() -> None:
    for row in TABLE:
        assert row.family in FAMILIES
        assert CODES[row.code].severity == row.severity, row.code
    assert len(CODES) > 100


def test_every_code_the_package_emits_is_registered() -> None:
    assert {"make_finding", "kostra_finding"} <= FINDING_CALLS
    emitted = _emitted_codes()
    assert len(emitted) > 60, "the scan found too few codes to prove anything"
    missing = sorted(f"{code} ({where})" for code, where in emitted.items() if code not in CODES)
    assert missing == []
    tables = dict(CHECK_SEVERITY)
    wrong = sorted(c for c, sev in tables.items() if CODES[c].severity != sev)
    assert wrong == []
    assert set(LOAD_CODES) | set(IMPORT_CODES) <= set(CODES)


def test_every_message_key_is_in_the_catalogue_in_every_language() -> None:
    cat = catalogue()
    keys = {row.key for row in TABLE if row.key is not None}
    assert len(keys) > 80
    missing = sorted(k for k in keys if k not in cat or set(LANGUAGES) - set(cat[k]))
    assert missing == []


def test_make_finding_takes_the_severity_from_the_registry() -> None:
    f = make_finding("duplicate-key", file="d.yaml", line=3, lang="en", key="units", first=1)
    assert (f.code, f.severity, f.file, f.line) == ("duplicate-key", "error", "d.yaml", 3)
    assert "units" in f.message
    assert make_finding("missing-target", message_key="check.missing-target").severity == (
        severity_of("missing-target")
    )
    with pytest.raises(KeyError):
        make_finding("no-such-code")


def test_errors_carry_registered_codes() -> None:
    errors = [
        BmsError("x"),
        ConfigError("x"),
        TemplateError("x"),
        OutputError("x"),
        DefinitionError([]),
        WorkbookReadError("x", code="encrypted"),
        BmsError("x", code="unknown-reference"),
    ]
    codes = [e.code for e in errors]
    assert codes == [
        "command-failed",
        "config-error",
        "template-error",
        "output-error",
        "definition-invalid",
        "encrypted",
        "unknown-reference",
    ]
    assert all(c in CODES for c in codes)


def test_one_json_shape_for_findings() -> None:
    keys = {"code", "severity", "message", "file", "sheet", "cell", "line", "path"}
    assert set(Finding("c-d", "error", "m").to_dict()) == keys
    assert set(Finding("c-d", "error", "m", extra={"n": 1}).to_dict()) == keys | {"extra"}
