"""The README documents every command and every finding code the code can emit."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bms_excel.cli import main

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
# Calls whose first argument (or ``code=``) is a finding code, wherever findings are made.
FINDING_CALLS = {
    "Finding",
    "make_finding",
    "kostra_finding",
    "add",
    "_finding",
    "_fail",
    "finding",
    "_add",
    "_emit",
    "_problem",
}


def _emitted_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in (ROOT / "bms_excel").rglob("*.py"):
        if path.name in {"limits.py"} or "cli" in path.parts:
            continue  # ooxml rules are developer-facing guards, not user findings
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in FINDING_CALLS:
                continue
            args = node.args[:1] + [k.value for k in node.keywords if k.arg == "code"]
            for arg in args:
                if (
                    isinstance(arg, ast.Constant)
                    and isinstance(arg.value, str)
                    and CODE.match(arg.value)
                ):
                    found.setdefault(arg.value, str(path.relative_to(ROOT)))
    return found


def test_readme_starts_with_the_two_setup_commands() -> None:
    head = README[:600]
    assert "make demo" in head and "make test" in head


def test_every_command_is_documented() -> None:
    commands = sorted(main.commands)
    assert {"init", "check", "generate", "collect", "validate", "demo"} <= set(commands)
    assert [c for c in commands if f"`bms {c}" not in README] == []


def test_every_finding_code_is_in_the_readme_table() -> None:
    from bms_excel.checks import CHECK_SEVERITY
    from bms_excel.codes import TABLE
    from bms_excel.definition import LOAD_CODES
    from bms_excel.import_values import CODES as IMPORT_CODES

    codes = {
        **_emitted_codes(),
        **dict.fromkeys(CHECK_SEVERITY, "definition"),
        **dict.fromkeys(LOAD_CODES, "definition"),
        **dict.fromkeys(IMPORT_CODES, "import-values"),
        **{row.code: "reader" for row in TABLE if row.family == "reader"},
    }
    assert len(codes) > 60, "the scan found too few codes to prove anything"
    missing = sorted(
        f"{code} ({where})" for code, where in codes.items() if f"`{code}`" not in README
    )
    assert missing == []
