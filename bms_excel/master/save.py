"""Saving the master workbook: the Excel-limit guard, the splice of deferred rows, the
atomic write, and the check that nobody has the master open.

:func:`save_workbook_atomic` builds the whole file in memory, writes it to a temporary file
in the target folder and moves it over the old master with ``os.replace``. A crash or
``kill -9`` at any point leaves the previous master as it was (at worst a stray
``.~bms-master-<pid>-*.xlsx.tmp`` file, which the next run removes:
:func:`remove_stale_temp_files`). A master that is open in Excel or LibreOffice (their lock files
``~$<name>`` / ``.~lock.<name>#`` sit beside it, or Windows refuses to open it) is an
:class:`~bms_excel.errors.OutputError` before anything is written.
"""

from __future__ import annotations

import io
import os
import re
import sys
import zipfile
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.utils import column_index_from_string

from bms_excel.errors import OutputError
from bms_excel.i18n import t
from bms_excel.master.lists import DATA_TABLE
from bms_excel.templates import has_jinja
from bms_excel.xlsx.cached_formula import fill_results, sheet_results
from bms_excel.xlsx.cells import a1, elements_after
from bms_excel.xlsx.files import write_atomic
from bms_excel.xlsx.limits import (
    MAX_COL,
    MAX_ROW,
    check_names,
    formula_problems,
    over_cell_limit,
    rule_problems,
)
from bms_excel.xlsx.rows import deferred_rows

#: The temporary master files this module writes: ``.~bms-master-<pid>-<random>.xlsx.tmp``.
#: The writer's process id in the name lets a later run tell a leftover from a live write.
TEMP_PREFIX = ".~bms-master-"
TEMP_SUFFIX = ".xlsx.tmp"
_TEMP_NAME = re.compile(rf"^{re.escape(TEMP_PREFIX)}(\d+)-[^/\\]*{re.escape(TEMP_SUFFIX)}$")


# -- writing -----------------------------------------------------------------------------------


def _lock_files(path: Path) -> list[Path]:
    # Excel's owner file is "~$" + the name; for long names Word and some Excel builds replace
    # the first two characters instead. LibreOffice writes ".~lock.<name>#".
    name = path.name
    return [
        path.with_name("~$" + name),
        path.with_name("~$" + name[2:]),
        path.with_name(f".~lock.{name}#"),
    ]


def check_master_writable(path: Path) -> None:
    """Raise ``OutputError`` when ``path`` is open in Excel/LibreOffice or cannot be written."""
    for lock in _lock_files(path):
        if lock.exists():
            raise OutputError(t("master.locked-excel", path=str(path), lock=lock.name), str(path))
    if path.exists():
        try:
            # On Windows a workbook open in Excel cannot be opened for writing at all.
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise OutputError(
                t("master.cannot-write", path=str(path), detail=exc.strerror or str(exc)),
                str(path),
            ) from exc


#: An A1 cell reference (``$`` optional) not part of a name, a function or a sheet name.
_A1_REF = re.compile(r"(?<![A-Za-z0-9_.$])(\$?)([A-Z]{1,3})(\$?)([0-9]{1,7})(?![A-Za-z0-9_(!])")
#: Conditional-format formulas known to be clean, with their in-range cell references
#: normalised: the Enheter matrix repeats one status formula per value run, differing only
#: in the cell it reads, so each shape is parsed once per process.
_CLEAN_RULE_SHAPES: set[tuple[str, int]] = set()


def _normalise_refs(formula: str) -> str:
    """``formula`` with every in-range A1 reference written ``A1`` (out-of-range ones kept)."""

    def one(m: re.Match[str]) -> str:
        col, row = m.group(2), int(m.group(4))
        if column_index_from_string(col) <= MAX_COL and 1 <= row <= MAX_ROW:
            return f"{m.group(1)}A{m.group(3)}1"
        return m.group(0)

    return _A1_REF.sub(one, formula)


def _rule_formula_problems(formula: str, where: str) -> list[str]:
    """:func:`formula_problems` of a rule's formula, cached by its shape."""
    key = (_normalise_refs(formula), len(formula))
    if key in _CLEAN_RULE_SHAPES:
        return []
    problems = [p.message for p in formula_problems(formula, where=where)]
    if not problems:
        if len(_CLEAN_RULE_SHAPES) > 200_000:
            _CLEAN_RULE_SHAPES.clear()
        _CLEAN_RULE_SHAPES.add(key)
    return problems


def _text_problems(where: str, text: str) -> list[str]:
    """A text longer than a cell holds.

    Unlike a unit workbook, the master renders no placeholders: ``{{`` in a text is the
    units' own words (a comment, an action) and is written as it is.
    """
    out: list[str] = []
    if over_cell_limit(text) is not None:
        out.append(f"{where}: {t('generate.text-too-long', None, n=len(text))}")
    return out


def guard_master(wb: Workbook) -> list[str]:
    """Excel-limit problems of the master (names, formulas, texts, rules, the Data table).

    The checks of :func:`bms_excel.generate.guard_workbook`, over the cells openpyxl holds
    (not the empty ones of their bounding box); conditional-format formulas are parsed once
    per shape. The rows :func:`defer_rows` set aside were cleaned and measured when they were
    set aside.
    """
    problems: list[str] = []
    names = [str(n) for n in wb.defined_names]
    problems += [p.message for p in check_names([ws.title for ws in wb.worksheets], names)]
    for ws in wb.worksheets:
        for cell in ws._cells.values():
            value = cell.value
            if not isinstance(value, str):
                continue
            if cell.data_type != "f" and over_cell_limit(value) is None:
                continue  # the common case: a text within a cell's limit
            where = f"'{ws.title}'!{cell.coordinate}"
            if cell.data_type == "f":
                if has_jinja(value):
                    problems.append(
                        f"{where}: {t('generate.leftover-placeholder', None, text=value[:40])}"
                    )
                problems += [f"{where}: {m}" for m in _rule_formula_problems(value[1:], where)]
            else:
                problems += _text_problems(where, value)
        problems += rule_problems(ws, _rule_formula_problems)
    tables = [name for ws in wb.worksheets for name in ws.tables]
    problems += [p.message for p in check_names([ws.title for ws in wb.worksheets], (), tables)]
    if DATA_TABLE not in tables:
        problems.append(f"the Data table {DATA_TABLE} is missing")
    return problems


_DIMENSION = re.compile(rb'<dimension ref="[^"]*"\s*/>')


def workbook_payload(wb: Workbook) -> bytes:
    """The saved workbook's bytes, with the rows :func:`defer_rows` set aside spliced in.

    openpyxl writes each such sheet with its header only; its ``<row>`` elements are then
    streamed into the sheet part before ``</sheetData>`` and ``<dimension>`` is widened. The
    other parts are copied as they are.
    """
    buffer = io.BytesIO()
    wb.save(buffer)
    deferred = deferred_rows(wb)
    # openpyxl writes formulas without results: fill in the ones the writers know.
    results = {ws.path.lstrip("/"): sheet_results(ws._cells) for ws in wb.worksheets}
    results = {part: found for part, found in results.items() if found}
    if not deferred and not results:
        return buffer.getvalue()
    by_part = {wb[title].path.lstrip("/"): rows for title, rows in deferred.items()}
    pending_rels = {_rels_part(part) for part, rows in by_part.items() if rows.links}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        rels_xml: dict[str, str] = {}
        for info in src.infolist():
            blob = src.read(info)
            if info.filename in results:
                blob = fill_results(blob, results[info.filename])
            rows = by_part.get(info.filename)
            if rows is None:
                if info.filename not in pending_rels:
                    dst.writestr(info, blob)
                continue
            cut = blob.rfind(b"</sheetData>")
            if cut < 0 or not rows.rows:
                raise OutputError(f"cannot splice rows into {info.filename}")  # openpyxl changed
            head, tail = blob[:cut], blob[cut:]
            match = _DIMENSION.search(head)
            if match is not None:
                ref = match.group(0).decode("ascii").split('"')[1]
                top_left = ref.split(":")[0]
                last = a1(rows.last_row, max(rows.width, 1))
                new_ref = f'<dimension ref="{top_left}:{last}"/>'.encode("ascii")
                head = head[: match.start()] + new_ref + head[match.end() :]
            if rows.links:
                tail = _with_hyperlinks(tail, rows.hyperlinks_xml())
                rels = _rels_part(info.filename)
                rels_xml[rels] = rows.relationships_xml()
            target = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            target.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(target, "w") as fh:
                fh.write(head)
                for chunk in rows.xml_chunks():
                    fh.write(chunk)
                fh.write(tail)
        for rels, extra in rels_xml.items():
            existing = src.read(rels) if rels in src.namelist() else _EMPTY_RELS
            cut = existing.rfind(b"</Relationships>")
            if cut < 0:
                raise OutputError(f"cannot add hyperlinks to {rels}")  # pragma: no cover
            dst.writestr(rels, existing[:cut] + extra.encode("utf-8") + existing[cut:])
    return out.getvalue()


_EMPTY_RELS = (
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b"</Relationships>"
)
#: Elements that follow ``<hyperlinks>`` in a worksheet (CT_Worksheet order).
_AFTER_HYPERLINKS = re.compile(
    rb"<(" + "|".join(elements_after("hyperlinks")).encode("ascii") + rb")[\s/>]"
)


def _rels_part(part: str) -> str:
    """The relationships part of ``part`` (``xl/worksheets/_rels/sheet1.xml.rels``)."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels"


def _with_hyperlinks(tail: bytes, hyperlinks: str) -> bytes:
    """``tail`` (from ``</sheetData>`` on) with ``hyperlinks`` inserted where the schema wants."""
    if b"<hyperlinks" in tail:
        raise OutputError("the sheet has hyperlinks already")  # pragma: no cover
    match = _AFTER_HYPERLINKS.search(tail)
    at = match.start() if match is not None else tail.rfind(b"</worksheet>")
    return tail[:at] + hyperlinks.encode("utf-8") + tail[at:]


def _write_payload(fh: BinaryIO, payload: bytes) -> None:
    """Write the whole master to the temporary file and force it to disk."""
    fh.write(payload)
    fh.flush()
    os.fsync(fh.fileno())


def _process_gone(pid: int) -> bool:
    """Whether no process ``pid`` exists (POSIX); on Windows, True: there a temporary file
    that another process still writes cannot be deleted, so removing it fails harmlessly."""
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        return False
    return False


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the temporary master files in ``folder`` whose writer process is gone.

    Only names of :data:`TEMP_PREFIX` / :data:`TEMP_SUFFIX` with a dead writer's process id
    are touched, never any other file. The caller holds the project's history lock, so no
    other consolidation of the project is writing. Returns the files removed.
    """
    removed: list[Path] = []
    try:
        candidates = sorted(folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"))
    except OSError:  # no such folder yet: nothing to clean
        return removed
    for candidate in candidates:
        match = _TEMP_NAME.match(candidate.name)
        if match is None or not candidate.is_file() or candidate.is_symlink():
            continue
        if not _process_gone(int(match.group(1))):
            continue
        try:
            candidate.unlink()
        except OSError:  # open in a live process (Windows) or no permission: leave it
            continue
        removed.append(candidate)
    return removed


def save_workbook_atomic(wb: Workbook, path: Path) -> None:
    """Write ``wb`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    check_master_writable(path)
    payload = workbook_payload(wb)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            _write_payload(fh, payload)

    try:
        write_atomic(
            path,
            write,
            prefix=f"{TEMP_PREFIX}{os.getpid()}-",
            suffix=TEMP_SUFFIX,
            create_folder=True,
            # it may have been opened while we were writing
            before_replace=lambda: check_master_writable(path),
        )
    except OSError as exc:
        raise OutputError(
            t("master.cannot-write", path=str(path), detail=exc.strerror or str(exc)), str(path)
        ) from exc
