"""Test helper: read a workbook or fail loudly (the library reports problems as findings)."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence

from bms_excel.errors import WorkbookReadError
from bms_excel.reader import Limits, WorkbookData, read_submission


def read_workbook(
    path: str | os.PathLike[str],
    *,
    sheets: Sequence[str] | None = None,
    skip_sheets: Collection[str] = (),
    limits: Limits | None = None,
) -> WorkbookData:
    """A workbook's values and structure; ``WorkbookReadError`` (with the first error finding's
    code) when it cannot be read."""
    result = read_submission(path, sheets=sheets, skip_sheets=skip_sheets, limits=limits)
    if result.data is None:
        problem = next((f for f in result.findings if f.severity == "error"), result.findings[0])
        raise WorkbookReadError(problem.message, str(path), problem.code)
    return result.data
