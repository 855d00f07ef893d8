"""A bms project folder: ``bms.toml`` (county, period, paths, language, signing secret).

Every command finds its project by walking up from the working directory (like git) or from
``--project DIR``. ``bms init`` creates one, optionally from a bundled example.

Layout of a project::

    bms.toml            settings; holds the signing secret (file mode 0600, never printed)
    definition.yaml     the scorecard definition
    utsendt/            generated unit workbooks and the send-out manifest
    innkommet/          returned workbooks (any sub-folders)
    rapporter/          master workbook, reminder lists, exports
    bms.sqlite          the history database
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bms_excel.errors import ConfigError, DefinitionError
from bms_excel.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, check_language, t
from bms_excel.model import Definition

CONFIG_NAME = "bms.toml"
DEFAULT_PATHS = {
    "definition": "definition.yaml",
    "generated": "utsendt",
    "submissions": "innkommet",
    "reports": "rapporter",
    "history": "bms.sqlite",
}


@dataclass(frozen=True)
class Project:
    """A loaded project: absolute paths and settings. The secret is never shown in ``repr``."""

    root: Path
    county: str
    period: str | None
    #: ``language`` in ``bms.toml``; ``None`` when the file does not say (see
    #: :meth:`resolve_language`).
    language: Language | None
    definition_path: Path
    generated_dir: Path
    submissions_dir: Path
    reports_dir: Path
    history_path: Path
    template_path: Path | None = None
    secret: bytes = field(default=b"", repr=False)

    @property
    def config_path(self) -> Path:
        """The project's ``bms.toml``."""
        return self.root / CONFIG_NAME

    def load_definition(self) -> Definition:
        """Load and validate the project's definition (raises ``DefinitionError``, also for a
        status rule that cannot be built: see :func:`bms_excel.checks.load_usable_definition`)."""
        from bms_excel.checks import load_usable_definition

        return load_usable_definition(self.definition_path)

    def resolve_period(self, period: str | None, definition: Definition) -> str:
        """The period to work on: ``period`` if given, else the project's, else the last one."""
        chosen = (
            period or self.period or (definition.periods[-1].code if definition.periods else None)
        )
        if chosen is None:
            raise ConfigError(t("project.no-period"))
        try:
            definition.period(chosen)
        except KeyError:
            known = ", ".join(p.code for p in definition.periods)
            raise ConfigError(t("project.unknown-period", period=chosen, known=known)) from None
        return chosen

    def resolve_language(
        self, option: str | None = None, definition: Definition | None = None
    ) -> Language:
        """The language to work in: ``option`` (``--lang``, the Innstillinger sheet) if given,
        else ``bms.toml``'s, else the definition's ``settings.language``, else bokmål.

        The one rule for the CLI, the Excel buttons and the demo, for messages and workbooks
        alike. Without ``definition`` the project's is read when the rule gets that far (a
        definition that does not load then counts as silent: its problems are reported by the
        command that needs it).
        """
        for lang in (option, self.language):
            if lang:
                return check_language(lang)
        if definition is None:
            try:
                definition = self.load_definition()
            except DefinitionError:
                return DEFAULT_LANGUAGE
        return check_language(definition.settings.language)


def find_project(start: Path | None = None, explicit: Path | None = None) -> Project:
    """Find and load the project at ``explicit`` or in ``start`` (default: cwd) or its parents."""
    if explicit is not None:
        cfg = explicit / CONFIG_NAME if explicit.is_dir() else explicit
        if not cfg.is_file():
            raise ConfigError(t("cli.no-project", start=str(explicit)))
        return load_project(cfg)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        cfg = folder / CONFIG_NAME
        if cfg.is_file():
            return load_project(cfg)
    raise ConfigError(t("cli.no-project", start=str(here)))


def load_project(config_path: Path) -> Project:
    """Read ``bms.toml`` and return the project (raises ``ConfigError`` with the file named)."""
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(t("cli.bad-config", path=str(config_path), detail=str(exc))) from exc
    root = config_path.parent.resolve()
    proj: dict[str, Any] = data.get("project", {})
    paths: dict[str, Any] = {**DEFAULT_PATHS, **data.get("paths", {})}
    language = proj.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise ConfigError(
            t("cli.bad-config", path=str(config_path), detail=f"language = {language!r}")
        )
    secret = data.get("security", {}).get("secret", "")
    if not isinstance(secret, str) or len(secret) < 32:
        raise ConfigError(t("project.bad-secret", path=str(config_path)))
    template = paths.get("template") or None

    def p(key: str) -> Path:
        return (root / str(paths[key])).resolve()

    return Project(
        root=root,
        county=str(proj.get("county", "")),
        period=proj.get("period") or None,
        language=language,
        definition_path=p("definition"),
        generated_dir=p("generated"),
        submissions_dir=p("submissions"),
        reports_dir=p("reports"),
        history_path=p("history"),
        template_path=(root / template).resolve() if template else None,
        secret=secret.encode("ascii"),
    )


def _toml_str(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes for everything json.dumps emits.
    return json.dumps(value, ensure_ascii=False)


def render_config(county: str, period: str | None, language: str, secret: str) -> str:
    """The text of a new ``bms.toml``."""
    lines = [
        "# bms_excel-prosjekt. Stiene er relative til denne mappen.",
        "[project]",
        f"county = {_toml_str(county)}",
        f"period = {_toml_str(period or '')}",
        f"language = {_toml_str(language)}  # nb (bokmål), nn (nynorsk) eller en",
        "",
        "[paths]",
        *(f"{k} = {_toml_str(v)}" for k, v in DEFAULT_PATHS.items()),
        '# template = "workbook_templates/min_mal.xlsx"  # egen Excel-mal (valgfritt)',
        "",
        "[security]",
        "# Hemmelig nøkkel for signaturen i arbeidsbøkene. Ikke del denne filen.",
        f"secret = {_toml_str(secret)}",
        "",
    ]
    return "\n".join(lines)


def init_project(
    dest: Path,
    *,
    example: str | None = None,
    definition: Path | None = None,
    period: str | None = None,
    language: str | None = None,
) -> Project:
    """Create a project folder at ``dest`` (must be absent or empty) and return it.

    The definition comes from ``definition``, from a bundled ``example``, or else is the small
    commented starter definition (``bms init DIR``). A fresh random
    signing secret is written to ``bms.toml`` (mode 0600); it is never printed.
    """
    from bms_excel.defbook.layout import is_workbook_file
    from bms_excel.definition import load_definition
    from bms_excel.examples import STARTER, example_definition_path, starter_definition_path

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ConfigError(t("project.not-empty", path=str(dest)))
    if definition is not None:
        source = definition
    elif example is None or example == STARTER:
        source = Path(str(starter_definition_path()))
    else:
        try:
            source = Path(str(example_definition_path(example)))
        except KeyError:
            raise ConfigError(t("project.unknown-example", name=example)) from None
    yaml_text: str | None = None
    if is_workbook_file(Path(str(source))):  # the definition workbook (issue 18) → YAML
        from bms_excel.defbook.importer import load_definition_workbook
        from bms_excel.defbook.shape import definition_yaml

        defn = load_definition_workbook(Path(str(source)))
        yaml_text = definition_yaml(defn, t("defbook.yaml-header", file=Path(str(source)).name))
    else:
        defn = load_definition(source)
    lang = language or defn.settings.language
    chosen_period = period or _default_period(defn)
    dest.mkdir(parents=True, exist_ok=True)
    if yaml_text is not None:
        (dest / DEFAULT_PATHS["definition"]).write_text(yaml_text, encoding="utf-8")
    else:
        shutil.copyfile(source, dest / DEFAULT_PATHS["definition"])
    for key in ("generated", "submissions", "reports"):
        (dest / DEFAULT_PATHS[key]).mkdir(exist_ok=True)
    cfg = dest / CONFIG_NAME
    fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(render_config(defn.county.name, chosen_period, lang, secrets.token_hex(32)))
    return load_project(cfg)


def _default_period(defn: Definition) -> str | None:
    """The first period whose deadline has not passed, else the last period."""
    import datetime as dt

    today = dt.date.today()
    upcoming = [p for p in defn.periods if p.deadline >= today]
    if upcoming:
        return upcoming[0].code
    return defn.periods[-1].code if defn.periods else None
