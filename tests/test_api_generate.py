"""``generate_project`` reads, validates and checks the definition once (issue 14), and still
refuses a definition that ``bms check`` finds errors in."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_excel import checks, definition
from bms_excel.api import generate_project
from bms_excel.errors import DefinitionError
from bms_excel.project import Project, init_project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return init_project(tmp_path / "p", example="stfk")


def _count(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_generate_reads_and_checks_the_definition_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _count(monkeypatch, checks, "read_definition_text")
    reads_too = _count(monkeypatch, definition, "read_definition_text")
    checked = _count(monkeypatch, checks, "check_definition")
    result = generate_project(project, period="2026-T2", units=["HEIMDAL"])
    assert [p.name for p in result.files] == ["2026-T2_HEIMDAL.xlsx"]
    assert (len(reads) + len(reads_too), len(checked)) == (1, 1)


def test_generate_refuses_a_definition_with_check_errors(project: Project) -> None:
    path = project.definition_path
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("                owner: Rektor\n", "", 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        generate_project(project, period="2026-T2", units=["HEIMDAL"])
    assert [f.code for f in info.value.problems] == ["missing-owner"]
    assert info.value.code == "definition-invalid"
    assert not (project.generated_dir / "2026-T2").exists()
