"""The report's charts, drawn with matplotlib as SVG: an indicator's trend and its KOSTRA comparison.

Figures are made with matplotlib's object API (``Figure`` + the SVG canvas), never pyplot, so
no global state or GUI backend is involved. Text is drawn as paths: the charts' words never
interleave with the page's text when a PDF is read aloud or copied; each chart's text
alternative (``aria-label``, and a table beside it) carries the numbers instead.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from bms_excel.report.tree import IndicatorLine

LINE = "#1F4E79"
COUNTY_BAR, OTHER_BAR = "#1F4E79", "#8FA9C8"

_RC: dict[Any, Any] = {
    "svg.fonttype": "path",
    "svg.hashsalt": "bms-report",  # the same input gives the same SVG
    "font.family": "DejaVu Sans",
    "font.size": 8,
}


def _svg(fig: Figure, prefix: str) -> str:
    """The figure as an inline SVG element whose ids are unique in the page (``prefix``)."""
    buffer = io.StringIO()
    FigureCanvasSVG(fig)
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, transparent=True)
    return unique_ids(buffer.getvalue(), prefix)


def unique_ids(svg: str, prefix: str) -> str:
    """``svg`` without its XML prolog, every id and reference to it prefixed with ``prefix``.

    Several SVGs inline in one HTML page would otherwise repeat ids (``patch_1``, clip paths).
    """
    svg = svg[svg.find("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def trend_svg(line: IndicatorLine, prefix: str) -> str | None:
    """The county value over the periods as a small line chart; ``None`` with under two points."""
    points = [(p, v) for p, v in line.series if v is not None]
    if len(points) < 2:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(2.6, 1.05)
        ax = fig.add_subplot()
        xs = list(range(len(line.series)))
        ys = [v for _, v in line.series]
        ax.plot(xs, [float("nan") if v is None else v for v in ys], color=LINE, marker="o", ms=3)
        ax.set_xticks(xs, [p for p, _ in line.series], fontsize=6)
        ax.tick_params(axis="y", labelsize=6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.margins(x=0.08, y=0.25)
        return _svg(fig, prefix)


def kostra_svg(line: IndicatorLine, prefix: str) -> str | None:
    """The county's KOSTRA figure beside its comparison groups, as horizontal bars."""
    bars = [(k.name, k.value, k.is_county) for k in line.kostra if k.value is not None]
    if len(bars) < 2:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(5.2, 0.35 * len(bars) + 0.5)
        ax = fig.add_subplot()
        names: Sequence[str] = [b[0] for b in bars]
        values = [float(b[1]) for b in bars if b[1] is not None]
        colours = [COUNTY_BAR if b[2] else OTHER_BAR for b in bars]
        drawn = ax.barh(range(len(bars)), values, color=colours)
        ax.set_yticks(range(len(bars)), names, fontsize=7)
        ax.invert_yaxis()
        shown = [k.value_text for k in line.kostra if k.value is not None]
        ax.bar_label(drawn, labels=shown, fontsize=7, padding=2)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.margins(x=0.15)
        return _svg(fig, prefix)
