"""The one atomic write: every output (workbooks, the master, CSV, Parquet, manifests).

A temporary file in the target folder is written, given the mode a normal file gets
(``0666`` less the umask: ``mkstemp`` alone makes ``0600``, so a reminder list would be
unreadable to the colleague who gets the master), and moved over the target with
``os.replace``. A crash at any point leaves the old file as it was; at worst a stray temporary
file (``<prefix>…<suffix>``) remains.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

#: What the write puts into the temporary file: bytes, text (UTF-8, newlines as given) or a
#: function that writes the file at the path it is given (pandas, pyarrow).
Content = bytes | str | Callable[[Path], None]


def file_mode() -> int:
    """The mode of a newly created normal file: ``0666`` less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(
    path: Path,
    content: Content,
    *,
    prefix: str = ".~bms-",
    suffix: str = ".tmp",
    fsync: bool = False,
    create_folder: bool = False,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write ``content`` to ``path`` through a temporary file in the same folder.

    ``create_folder`` makes the target folder first (a missing folder is otherwise an error:
    the unit workbooks go into a folder the run made). ``before_replace`` runs after the temporary file is complete, just before it replaces
    ``path`` (the master checks there that nobody opened the old file meanwhile). ``fsync``
    forces the data to disk first. Raises ``OSError`` (the caller wraps it in its own
    :class:`~bms_excel.errors.OutputError`); the temporary file is removed on any failure.
    """
    if create_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        if callable(content):
            os.close(fd)
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if fsync:
                    fh.flush()
                    os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TRANSLIT = str.maketrans({"æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "å": "a", "Å": "A"})


def safe_filename(period: str, unit_code: str) -> str:
    """``<period>_<unitcode>.xlsx`` with everything but ``A-Z a-z 0-9 . _ -`` replaced.

    Path separators, ``..``, drive letters, control characters and leading dots cannot survive,
    so the name is always a plain file inside the output folder.
    """

    def part(text: str, fallback: str) -> str:
        text = unicodedata.normalize("NFKD", str(text).translate(_TRANSLIT))
        text = text.encode("ascii", "ignore").decode("ascii")
        text = _UNSAFE.sub("_", text)
        text = re.sub(r"\.{2,}", "_", text).strip("._-")
        return text[:60] or fallback

    return f"{part(period, 'periode')}_{part(unit_code, 'enhet')}.xlsx"
