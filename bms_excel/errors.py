"""Exceptions for operator and programmer errors, and Finding values for problems in data.

Raise for what stops a command (a broken definition, an unwritable output); return a
:class:`Finding` for a problem in a submitted workbook or a definition quality check, so that
every problem in a file is reported at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


class BmsError(Exception):
    """Base class: a user-facing error with a Norwegian message and an optional location.

    ``code`` is a registered code (:mod:`bms_excel.codes`, family ``command``): tests and
    scripts match on it, never on the message. Each subclass has its own; ``code=`` overrides.
    """

    code: str = "command-failed"

    def __init__(self, message: str, location: str | None = None, *, code: str | None = None):
        self.message = message
        self.location = location
        if code is not None:
            self.code = code
        super().__init__(f"{location}: {message}" if location else message)


class DefinitionError(BmsError):
    """The scorecard definition cannot be loaded; ``problems`` holds every located problem."""

    code = "definition-invalid"

    def __init__(self, problems: list[Finding], message: str | None = None) -> None:
        self.problems = problems
        text = message or "\n".join(p.format_line() for p in problems)
        super().__init__(text)


class ConfigError(BmsError):
    """The project configuration (bms.toml) is missing or invalid."""

    code = "config-error"


class TemplateError(BmsError):
    """A workbook template, placeholder or Excel limit is violated at generate time."""

    code = "template-error"


class WorkbookReadError(BmsError):
    """A file is not a readable workbook (encrypted, corrupt, not a spreadsheet)."""

    def __init__(self, message: str, location: str | None = None, code: str = "not-a-workbook"):
        super().__init__(message, location, code=code)


class OutputError(BmsError):
    """An output cannot be written (file open in Excel, disk full, no permission)."""

    code = "output-error"


@dataclass(frozen=True, slots=True)
class Finding:
    """One located problem: a value, never an exception.

    ``sheet``/``cell`` locate problems in workbooks; ``line``/``path`` locate problems in a
    definition file. Unused coordinates are ``None``.
    """

    code: str
    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def location(self) -> str:
        """The ``file:line`` or ``file: 'sheet'!cell`` prefix of the one-line format."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.sheet:
            parts.append(f"'{self.sheet}'!{self.cell}" if self.cell else f"'{self.sheet}'")
        return ": ".join(parts)

    def format_line(self, severity_label: str | None = None) -> str:
        """``<file>: '<sheet>'!<cell>: <severity>: <message> [<code>]``."""
        loc = self.location()
        sev = severity_label or self.severity
        head = f"{loc}: " if loc else ""
        return f"{head}{sev}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of a finding, in every ``--json`` output and the collect report:
        ``code, severity, message, file, sheet, cell, line, path`` (unused ones ``null``), plus
        ``extra`` only when present."""
        data = asdict(self)
        if not data["extra"]:
            del data["extra"]
        return data


def exit_code_for(findings: list[Finding]) -> int:
    """0 when nothing worse than warnings, 1 when any error finding."""
    return 1 if any(f.severity == "error" for f in findings) else 0
