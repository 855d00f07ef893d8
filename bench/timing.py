"""Interleaved timing: every method on every workbook, order rotated, per-workbook medians.

Per performance-floors.md: methods run side by side on the same file (so a noisy neighbour
hits them alike), the order rotates per workbook and round (no method always runs cold or
warm), each workbook's times are reduced to their median over the rounds, and a stage is
reported as the median of those per-workbook medians.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Method(Generic[T]):
    """A timed method: ``prepare(item)`` is untimed, ``run(prepared)`` is timed."""

    key: str
    run: Callable[[Any], Any]
    prepare: Callable[[T], Any] | None = None


def rotated(methods: Sequence[Method[T]], shift: int) -> list[Method[T]]:
    """``methods`` rotated left by ``shift``."""
    k = shift % len(methods) if methods else 0
    return [*methods[k:], *methods[:k]]


def time_interleaved(
    items: Sequence[T],
    methods: Sequence[Method[T]],
    *,
    rounds: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[float]]:
    """Per method, each item's median time in milliseconds over ``rounds`` rounds."""
    samples: dict[str, list[list[float]]] = {m.key: [[] for _ in items] for m in methods}
    total = rounds * len(items)
    done = 0
    for r in range(rounds):
        for i, item in enumerate(items):
            for method in rotated(methods, i + r):
                arg = method.prepare(item) if method.prepare else item
                start = time.perf_counter()
                method.run(arg)
                samples[method.key][i].append((time.perf_counter() - start) * 1000)
                del arg
            done += 1
            if progress:
                progress(done, total)
    return {key: [statistics.median(s) for s in per_item] for key, per_item in samples.items()}


def median(values: Sequence[float]) -> float | None:
    """The median, or ``None`` for no values."""
    return statistics.median(values) if values else None
