"""Peak memory: VmHWM of this process (resettable per phase) and ``ru_maxrss`` of the children.

``ru_maxrss`` of children is the largest single child, and on Linux a child inherits its
parent's high-water mark across ``exec`` (performance-floors.md), so it is an upper bound.
"""

from __future__ import annotations

import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_self_mib() -> float:
    """This process's peak RSS since start or the last :func:`reset_peak` (MiB)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024


def current_mib() -> float:
    """This process's current RSS (MiB)."""
    kib = _status_kib("VmRSS")
    return (kib or 0) / 1024


def peak_children_mib() -> float:
    """The largest peak RSS of any waited-for child process (MiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` value 5); False if not possible."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True
