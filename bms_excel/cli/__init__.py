"""The ``bms`` command line: thin adapters that parse options, call the library, print results.

Exit codes everywhere: 0 = ok or warnings only, 1 = error findings, 2 = usage or configuration
error (bad option, no project, broken definition file where one is needed, unwritable output),
3 = internal failure (an unexpected exception in bms itself: a crash is never reported as
findings). ``BMS_DEBUG=1`` shows the traceback of an internal failure.
Each command lives in its own module and registers itself on :data:`main`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from bms_excel import __version__
from bms_excel.errors import BmsError, DefinitionError
from bms_excel.i18n import LANGUAGES, set_language
from bms_excel.project import Project, find_project


@dataclass
class CliState:
    """Options shared by every command; the project is found lazily."""

    project_dir: Path | None = None
    lang: str | None = None
    _project: Project | None = field(default=None, repr=False)

    def project(self) -> Project:
        """The project (found once, by walking up from the working directory)."""
        if self._project is None:
            self._project = find_project(explicit=self.project_dir)
            if self.lang is None:
                set_language(self._project.resolve_language())
        return self._project


#: Exit code of an internal failure (a bug or an unexpected fault in bms, not in the input).
EXIT_INTERNAL = 3


class BmsGroup(click.Group):
    """A click group that turns library errors into clear messages and exit code 2, and any
    other exception into a short message and exit code 3."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; show ``BmsError`` messages without a traceback."""
        try:
            return super().invoke(ctx)
        except DefinitionError as exc:
            from bms_excel.cli.check import print_definition_error

            print_definition_error(exc)
            sys.exit(2)
        except BmsError as exc:
            from bms_excel.cli.render import print_error_lines

            print_error_lines([str(exc)])
            sys.exit(2)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors (2), --help/--version (0) and Ctrl-C
        # The last resort, on purpose: a crash must not look like a run with error findings.
        except Exception as exc:
            if os.environ.get("BMS_DEBUG"):
                raise
            from bms_excel.cli.render import print_error_lines
            from bms_excel.i18n import t

            print_error_lines([t("cli.internal-error", error=type(exc).__name__)])
            sys.exit(EXIT_INTERNAL)


@click.group(cls=BmsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bms")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Prosjektmappe (standard: søk oppover fra gjeldende mappe).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Språk for meldinger: nb (bokmål), nn (nynorsk), en.",
)
@click.pass_context
def main(ctx: click.Context, project_dir: Path | None, lang: str | None) -> None:
    """bms — balansert målstyring i Excel."""
    # Every invocation starts from the default (or the option): a language chosen by an
    # earlier call in the same process (tests, the Excel buttons) must not leak into this one.
    set_language(lang)
    ctx.obj = CliState(project_dir=project_dir, lang=lang)


def state(ctx: click.Context) -> CliState:
    """The shared CLI state of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


# The commands register themselves on ``main`` when their module is imported; a missing module
# is an ImportError here, never a command that silently disappears.
from bms_excel.cli import (  # noqa: E402
    check,
    collect,
    consolidate,
    control_workbook,
    definition,
    demo,
    feedback,
    generate,
    init,
    kostra,
    period,
    report,
    review,
    values,
)

__all__ = [
    "CliState",
    "check",
    "collect",
    "consolidate",
    "control_workbook",
    "definition",
    "demo",
    "feedback",
    "generate",
    "init",
    "kostra",
    "main",
    "period",
    "report",
    "review",
    "state",
    "values",
]
