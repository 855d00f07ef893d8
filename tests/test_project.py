"""Project configuration: finding, loading and rejecting bms.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bms_excel.errors import ConfigError
from bms_excel.project import find_project, init_project, load_project, render_config

SECRET = "0123456789abcdef" * 4


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "bms.toml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def test_render_config_round_trips_quotes_and_non_ascii(tmp_path: Path) -> None:
    county = 'Møre og Romsdal "fylke" \\ test'
    cfg = _write(tmp_path, render_config(county, "2026-T1", "nn", SECRET))
    project = load_project(cfg)
    assert project.county == county
    assert project.period == "2026-T1"
    assert project.language == "nn"
    assert project.secret == SECRET.encode()
    assert project.definition_path == (tmp_path / "definition.yaml").resolve()
    assert project.submissions_dir == (tmp_path / "innkommet").resolve()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[project\ncounty = 'x'", "bms.toml"),
        (f'[project]\nlanguage = "de"\n[security]\nsecret = "{SECRET}"\n', "language"),
        ('[project]\n[security]\nsecret = "short"\n', "secret"),
        ("[project]\n", "secret"),
    ],
)
def test_bad_config_is_a_clear_config_error(tmp_path: Path, text: str, fragment: str) -> None:
    cfg = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_project(cfg)
    assert fragment in str(err.value)
    assert str(cfg) in str(err.value)


def test_find_project_walks_up_and_stops_at_the_nearest(tmp_path: Path) -> None:
    _write(tmp_path / "outer", render_config("Ytre", None, "nb", SECRET))
    _write(tmp_path / "outer" / "inner", render_config("Indre", None, "nb", SECRET))
    deep = tmp_path / "outer" / "inner" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(deep).county == "Indre"
    assert find_project(tmp_path / "outer").county == "Ytre"
    with pytest.raises(ConfigError):
        find_project(tmp_path)


def test_explicit_project_dir(tmp_path: Path) -> None:
    _write(tmp_path / "p", render_config("P", None, "en", SECRET))
    assert find_project(explicit=tmp_path / "p").language == "en"
    with pytest.raises(ConfigError):
        find_project(explicit=tmp_path / "nowhere")


def test_resolve_period(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", example="stfk", period="2026-T1")
    defn = project.load_definition()
    assert project.resolve_period(None, defn) == "2026-T1"
    assert project.resolve_period("2025-T2", defn) == "2025-T2"
    with pytest.raises(ConfigError) as err:
        project.resolve_period("2031-T9", defn)
    assert "2026-T1" in str(err.value)


def test_unknown_example(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        init_project(tmp_path / "p", example="oslo")
    assert not (tmp_path / "p").exists()
