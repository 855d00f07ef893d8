"""Import rules from STYLE.md: heavy libraries only where needed, imports point one way."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "bms_excel"

# Which modules may import a heavy or optional library (module path relative to bms_excel/).
ALLOWED = {
    "xlwings": {"excel_buttons.py"},
    "pandas": {"consolidate.py", "master.py", "export.py"},
    "click": {"cli/"},
    "matplotlib": {"report/charts.py"},
    "graphviz": {"report/strategy_map.py"},
    "selenium": {"report/render.py"},
}
# Pure modules must not import I/O-heavy libraries at all.
PURE = {"model.py", "status.py", "layout.py", "records.py", "errors.py"}
HEAVY = {"openpyxl", "pandas", "xlwings", "click", "python_calamine", "xlsxwriter", "lxml"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> list[tuple[str, set[str]]]:
    return [(str(p.relative_to(PACKAGE)), _imports(p)) for p in sorted(PACKAGE.rglob("*.py"))]


def test_heavy_libraries_are_imported_only_where_allowed() -> None:
    wrong = []
    for rel, names in _modules():
        for lib, allowed in ALLOWED.items():
            if lib in names and not any(rel == a or rel.startswith(a) for a in allowed):
                wrong.append(f"{rel} imports {lib}")
    assert wrong == []


def test_pure_modules_do_no_io_imports() -> None:
    modules = dict(_modules())
    present = [m for m in PURE if m in modules]
    assert "model.py" in present and "errors.py" in present
    wrong = [f"{m} imports {sorted(modules[m] & HEAVY)}" for m in present if modules[m] & HEAVY]
    assert wrong == []


def test_library_never_imports_the_cli() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = str(path.relative_to(PACKAGE))
        if rel.startswith("cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bms_excel.cli"):
                wrong.append(rel)
    assert wrong == []
