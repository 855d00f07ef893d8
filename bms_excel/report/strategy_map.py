"""The strategy map: focus areas, goals and factors coloured by status, with the cause–effect links.

The layout is Graphviz's ``dot`` (layered, edges drawn between ranks), driven through the
``graphviz`` binding; nothing is placed by hand. Each focus area is a frame (a cluster), each
goal and factor a box whose fill *and* text say its status; the definition's ``links`` are the
bold arrows (``source`` drives ``target``), drawn bottom-up as a strategy map reads. The thin
grey lines join each goal to its factors. Element ids in the SVG say what each element is
(``area-R``, ``node-R1``, ``link-0``, ``part-RM1-R1``), so a test can count them.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Sequence

import graphviz

from bms_excel.errors import ConfigError
from bms_excel.i18n import t
from bms_excel.report.tree import MapLink, MapNode

#: Fill per status (light, so black text keeps a contrast far above 4.5:1) and border.
FILLS = {"green": "#C6EFCE", "yellow": "#FFEB9C", "red": "#FFC7CE"}
BORDERS = {"green": "#006100", "yellow": "#7F6000", "red": "#9C0006"}
NO_STATUS_FILL, NO_STATUS_BORDER = "#EDEDED", "#595959"
FONT = "DejaVu Sans"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _safe_id(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", code)


def build_graph(nodes: Sequence[MapNode], links: Sequence[MapLink], lang: str) -> graphviz.Digraph:
    """The map as a Graphviz graph (not laid out yet)."""
    g = graphviz.Digraph("strategikart", format="svg")
    g.attr(rankdir="BT", newrank="true", nodesep="0.25", ranksep="0.45", fontname=FONT)
    g.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="10", margin="0.08")
    g.attr("edge", fontname=FONT)
    status_word = t("report.map.status", lang)
    for area in (n for n in nodes if n.kind == "focus_area"):
        with g.subgraph(name=f"cluster_{_safe_id(area.id)}") as c:
            c.attr(
                id=f"area-{_safe_id(area.id)}",
                label=f"{area.name} – {status_word}: {area.status_label}",
                style="rounded,filled",
                fillcolor="#FFFFFF",
                color=BORDERS.get(area.status, NO_STATUS_BORDER),
                penwidth="2",
                fontsize="12",
                fontname=f"{FONT} Bold",
            )
            for goal in (n for n in nodes if n.kind == "goal" and n.parent == area.id):
                _box(c, goal, status_word, bold=True)
                for factor in (n for n in nodes if n.kind == "factor" and n.parent == goal.id):
                    _box(c, factor, status_word, bold=False)
                    c.edge(
                        _safe_id(factor.id),
                        _safe_id(goal.id),
                        id=f"part-{_safe_id(goal.id)}-{_safe_id(factor.id)}",
                        color="#8C8C8C",
                        arrowhead="none",
                        style="dashed",
                    )
    _stack_areas(g, nodes)
    known = {n.id for n in nodes}
    area_of = _areas_of(nodes)
    for i, link in enumerate(links):
        if link.source not in known or link.target not in known:
            continue  # `bms check` reports links to unknown codes
        g.edge(
            _safe_id(link.source),
            _safe_id(link.target),
            id=f"link-{i}",
            color="#1F1F1F",
            penwidth="2",
            arrowsize="0.9",
            # Between areas the bands fix the ranks; inside one, a link orders its two boxes
            # (an edge within a rank inside a cluster trips dot's spline router).
            constraint=str(area_of.get(link.source) == area_of.get(link.target)).lower(),
        )
    return g


def _areas_of(nodes: Sequence[MapNode]) -> dict[str, str]:
    parent = {n.id: n.parent for n in nodes}
    out = {}
    for n in nodes:
        code: str | None = n.id
        while code is not None and parent.get(code) is not None:
            code = parent[code]
        out[n.id] = code or n.id
    return out


def _stack_areas(g: graphviz.Digraph, nodes: Sequence[MapNode]) -> None:
    """Stack the focus areas as bands, the first on top, as a strategy map reads.

    Invisible edges from each area's goals to every factor of the area above put every area
    on ranks of its own (the layout stays dot's; only the order of the bands is asked for).
    """
    areas = [n.id for n in nodes if n.kind == "focus_area"]
    goals = {a: [n.id for n in nodes if n.kind == "goal" and n.parent == a] for a in areas}
    factors = {
        a: [n.id for n in nodes if n.kind == "factor" and n.parent in goals[a]] for a in areas
    }
    for upper, lower in itertools.pairwise(areas):
        for goal in goals[lower]:
            for factor in factors[upper] or goals[upper]:
                g.edge(_safe_id(goal), _safe_id(factor), style="invis", id=f"band-{upper}")


def _box(g: graphviz.Digraph, node: MapNode, status_word: str, *, bold: bool) -> None:
    g.node(
        _safe_id(node.id),
        label=f"{node.id} {_wrap(node.name, 24)}\n{status_word}: {node.status_label}",
        id=f"node-{_safe_id(node.id)}",
        fillcolor=FILLS.get(node.status, NO_STATUS_FILL),
        color=BORDERS.get(node.status, NO_STATUS_BORDER),
        fontcolor="#000000",
        penwidth="1.5",
        fontname=f"{FONT} Bold" if bold else FONT,
    )


def render_map_svg(nodes: Sequence[MapNode], links: Sequence[MapLink], lang: str) -> str:
    """The laid-out map as an inline SVG element (no XML prolog), scaled to its container.

    Raises ``ConfigError`` when Graphviz' ``dot`` is not installed.
    """
    graph = build_graph(nodes, links, lang)
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise ConfigError(t("report.no-graphviz")) from exc
    except graphviz.CalledProcessError as exc:
        raise ConfigError(t("report.graphviz-failed", error=str(exc.stderr or exc))) from exc
    start = svg.find("<svg")
    svg = svg[start:]
    # Let the page decide the size: keep the viewBox, drop the fixed width/height in points.
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", svg, count=1)
