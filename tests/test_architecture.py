"""Import rules from STYLE.md: heavy libraries only where needed, imports point one way."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "bms_excel"

# Which modules may import a heavy or optional library (module path relative to bms_excel/).
ALLOWED = {
    "xlwings": {"excel_buttons.py"},
    "pandas": {"consolidate.py", "master/run.py", "export.py"},
    "click": {"cli/"},
    "matplotlib": {"report/charts.py"},
    "graphviz": {"report/strategy_map.py"},
    "selenium": {"report/render.py"},
}
# Pure modules must not import I/O-heavy libraries at all.
PURE = {
    "model.py",
    "status.py",
    "layout.py",
    "values.py",
    "periods.py",
    "records.py",
    "errors.py",
    "codes.py",
    "xlsx/cells.py",
}
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


def _module_name(rel: str) -> str:
    return "bms_excel." + rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _package_imports(path: Path) -> set[str]:
    """Every ``bms_excel`` module ``path`` imports, function bodies included (``from bms_excel
    import x`` counts as ``bms_excel.x``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "bms_excel":
                out.update(f"bms_excel.{a.name}" for a in node.names)
            elif node.module.startswith("bms_excel."):
                out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("bms_excel."))
    return out


#: Library modules every layer may use: the message catalogue.
SHARED = {"bms_excel.i18n"}


def test_the_pure_core_imports_nothing_above_it() -> None:
    core = {_module_name(rel) for rel in PURE}
    wrong = [
        f"{rel} imports {name}"
        for rel in sorted(PURE)
        if (PACKAGE / rel).is_file()
        for name in sorted(_package_imports(PACKAGE / rel) - core - SHARED)
    ]
    assert wrong == []


def test_xlsx_imports_nothing_from_the_pipeline() -> None:
    # bms_excel/xlsx/ writes and patches package parts from plain values and openpyxl
    # workbooks: it may use itself, the pure core and the catalogue, never generate, collect,
    # master, ... (the master's save once imported generate's rule check lazily).
    allowed = {_module_name(rel) for rel in PURE} | SHARED
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / "xlsx").glob("*.py"))
        for name in sorted(_package_imports(path))
        if name not in allowed and not name.startswith("bms_excel.xlsx")
    ]
    assert wrong == []


def test_the_layering_check_sees_a_lazy_import(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from bms_excel.generate import rule_problems\n", encoding="utf-8")
    assert _package_imports(src) == {"bms_excel.generate"}


def test_the_master_imports_no_stage_lazily() -> None:
    # A helper two stages share lives in a neutral module (xlsx/, periods, ...), not in one
    # stage that the master imports inside a function to dodge an import cycle. (The entry
    # points in api.py import the generator lazily on purpose: ``bms --help`` stays fast.)
    wrong = []
    for path in sorted([*(PACKAGE / "master").glob("*.py"), *(PACKAGE / "xlsx").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.module == "bms_excel.generate":
                        wrong.append(str(path.relative_to(PACKAGE)))
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


# -- adapters: the CLI and the Excel buttons call entry points, nothing deeper -----------------

#: Library modules any adapter may use to show results: messages and findings.
PRESENTATION = {"bms_excel.i18n", "bms_excel.errors"}
#: Per adapter module: what else it may import from the library (module → names). The entry
#: points are in ``bms_excel.api`` (plus ``consolidate_project``, which lives with the master,
#: and the demo); the buttons also need the plain structures they translate the open workbook
#: into and the controller workbook's defined names.
ADAPTER_IMPORTS: dict[str, dict[str, set[str]]] = {
    "cli/__init__.py": {
        "bms_excel": {"__version__"},
        "bms_excel.project": {"Project", "find_project"},
    },
    "cli/render.py": {},
    "cli/init.py": {"bms_excel.api": {"init_project"}},
    "cli/check.py": {"bms_excel.api": {"check_definition_file"}},
    "cli/definition.py": {"bms_excel.api": {"export_definition_project", "import_definition_file"}},
    "cli/generate.py": {"bms_excel.api": {"generate_project"}},
    "cli/collect.py": {
        "bms_excel.api": {"CollectReport", "collect_project", "validate_project_files"}
    },
    "cli/consolidate.py": {
        "bms_excel.master": {"consolidate_project"},
        "bms_excel.status": {"Status", "status_label"},
    },
    "cli/values.py": {"bms_excel.api": {"import_values_project"}},
    "cli/kostra.py": {"bms_excel.api": {"check_kostra_project", "import_kostra_project"}},
    "cli/control_workbook.py": {
        "bms_excel.api": {"DEFAULT_INTERPRETER", "control_workbook_project"}
    },
    "cli/demo.py": {"bms_excel.demo": {"run_demo"}},
    "cli/report.py": {"bms_excel.report": {"report_project"}},
    "cli/review.py": {"bms_excel.api": {"review_project"}},
    "cli/feedback.py": {"bms_excel.api": {"feedback_project"}},
    "cli/period.py": {"bms_excel.api": {"close_period_project", "reopen_period_project"}},
    "excel_buttons.py": {
        "bms_excel.api": {
            "Project",
            "collect_project",
            "find_project",
            "generate_project",
            "validate_open_workbook",
            "workbook_language",
        },
        "bms_excel.master": {"consolidate_project"},
        "bms_excel.control_workbook": {"NAMES", "XLWINGS_CONF", "output_sheet_names"},
        "bms_excel.layout": {"CONTROL_CHECKS", "DEFAULT_ANCHORS", "sheet_names"},
        "bms_excel.reader": {"CellValue", "FileKind", "SheetInfo", "WorkbookData"},
        "bms_excel.validate": {"parse_a1"},
    },
}


def _library_imports(path: Path) -> set[tuple[str, str]]:
    """``(module, name)`` for every import of the library in ``path``, function bodies included;
    the CLI's own modules are not the library."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "bms_excel":
                out.update((node.module, a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            out.update((a.name, "*") for a in node.names if a.name.split(".")[0] == "bms_excel")
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.add((f"{'.' * node.level}{node.module or ''}", "*"))  # relative: never allowed
    return {(m, n) for m, n in out if m != "bms_excel.cli" and not m.startswith("bms_excel.cli.")}


def test_every_adapter_module_has_an_allow_list() -> None:
    cli = [str(p.relative_to(PACKAGE)) for p in (PACKAGE / "cli").glob("*.py")]
    assert sorted(ADAPTER_IMPORTS) == sorted([*cli, "excel_buttons.py"])


def test_the_cli_and_the_buttons_import_only_entry_points() -> None:
    wrong = []
    for rel, allowed in ADAPTER_IMPORTS.items():
        for module, name in sorted(_library_imports(PACKAGE / rel)):
            if module in PRESENTATION or name in allowed.get(module, set()):
                continue
            wrong.append(f"{rel}: from {module} import {name}")
    assert wrong == []


def test_the_allow_list_catches_a_stage_function(tmp_path: Path) -> None:
    # The check above reads lazy imports too: the Generer button once called the generator
    # directly (without the history), from inside the function.
    src = tmp_path / "button.py"
    src.write_text(
        "def generate(book):\n    from bms_excel.generate import generate_workbooks\n",
        encoding="utf-8",
    )
    assert _library_imports(src) == {("bms_excel.generate", "generate_workbooks")}


def test_every_cli_module_registers_its_commands() -> None:
    # cli/__init__.py imports the command modules plainly: a missing or broken module stops
    # ``bms`` with an ImportError instead of quietly dropping its commands.
    from bms_excel.cli import main

    declared = set()
    for path in (PACKAGE / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    if (
                        isinstance(deco, ast.Call)
                        and isinstance(deco.func, ast.Attribute)
                        and isinstance(deco.func.value, ast.Name)
                        and deco.func.value.id == "main"
                        and deco.args
                        and isinstance(deco.args[0], ast.Constant)
                    ):
                        declared.add(deco.args[0].value)
    assert len(declared) >= 10
    assert declared == set(main.commands)
    init = ast.parse((PACKAGE / "cli" / "__init__.py").read_text(encoding="utf-8"))
    caught = {
        n.id
        for h in ast.walk(init)
        if isinstance(h, ast.ExceptHandler) and h.type is not None
        for n in ast.walk(h.type)
        if isinstance(n, ast.Name)
    }
    assert not caught & {"ImportError", "ModuleNotFoundError"}


# -- no public function that only the tests call (or nothing) -----------------------------------

#: Public functions of the package that only tests call (or nothing), found when the rule was
#: introduced, each with what should become of it. They live in modules other work was changing at the
#: time; the rule keeps new ones out, and an entry goes when its function does.
TEST_ONLY: dict[str, str] = {
    "submissions.py:unescape_name": "keep: the README's way to recover a raw file name from the history",
}


def _referenced(paths: list[Path]) -> set[str]:
    """Every name used (not defined) in ``paths``: names, attributes and imported names."""
    used: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                used.update(a.name for a in node.names)
    return used


def test_every_public_function_has_a_caller_in_the_package() -> None:
    root = PACKAGE.parent
    production = _referenced(sorted(PACKAGE.rglob("*.py")))
    # The Excel buttons are called by name from the VBA source (RunPython).
    production |= set(re.findall(r"\w+", (root / "macros" / "BmsExcel.bas").read_text()))
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            # A method of a subclass may be an override its base class calls (openpyxl's
            # ExcelWriter.write_worksheet): only plain classes are checked.
            if isinstance(node, ast.ClassDef) and node.bases:
                continue
            body = node.body if isinstance(node, ast.ClassDef) else [node]
            for item in body:
                if (
                    isinstance(item, ast.FunctionDef)
                    and not item.name.startswith("_")
                    and not item.decorator_list  # click commands, properties, button scripts
                    and item.name not in production
                ):
                    found.add(f"{rel}:{item.name}")
    assert sorted(found - set(TEST_ONLY)) == []


# -- no function over ~80 lines -----------------------------------------------------------------

MAX_FUNCTION_LINES = 80
#: Functions over the limit when it was introduced (issue 14), in modules other work was
#: changing at the time; each should be split at its seams, and an entry goes when it is.
LONG_FUNCTIONS: set[str] = set()


def _long_functions(paths: list[Path], root: Path = PACKAGE) -> set[str]:
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    found.add(f"{path.relative_to(root)}:{node.name}")
    return found


def test_no_new_function_over_80_lines() -> None:
    found = _long_functions(sorted(PACKAGE.rglob("*.py")))
    assert sorted(found - LONG_FUNCTIONS) == []


def test_the_length_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "probe.py").write_text(f"def long():\n{body}\n\ndef short():\n    pass\n")
    assert _long_functions([tmp_path / "probe.py"], tmp_path) == {"probe.py:long"}
