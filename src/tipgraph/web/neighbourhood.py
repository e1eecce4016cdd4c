"""A small neighbourhood graph of one resource, laid out server-side as SVG geometry.

The template draws it (inline SVG, autoescaped): no script, nothing fetched, works offline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tipgraph.publish.describe import Value

WIDTH, HEIGHT = 720, 460
MAX_NEIGHBOURS = 18
LABEL_CHARS = 30


@dataclass(frozen=True)
class Node:
    x: float
    y: float
    label: str
    title: str
    href: str | None
    anchor: str  # text-anchor of the label


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    lx: float
    ly: float
    outgoing: bool


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    centre: Node
    nodes: list[Node]
    edges: list[Edge]
    hidden: int  # neighbours left out to keep the drawing readable


def _clip(text: str, size: int = LABEL_CHARS) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def layout(label: str, neighbours: list[tuple[str, str, Value]]) -> Layout:
    """Neighbours on a circle around the resource; edges carry the property's label."""
    shown = neighbours[:MAX_NEIGHBOURS]
    cx, cy = WIDTH / 2, HEIGHT / 2
    rx, ry = WIDTH / 2 - 150, HEIGHT / 2 - 45
    centre = Node(cx, cy, _clip(label, 36), label, None, "middle")
    nodes, edges = [], []
    count = max(len(shown), 1)
    for i, (direction, prop_label, value) in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / count
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        anchor = "start" if math.cos(angle) > 0.2 else "end" if math.cos(angle) < -0.2 else "middle"
        nodes.append(Node(round(x, 1), round(y, 1), _clip(value.text), value.text, value.href,
                          anchor))
        outgoing = direction == "out"
        # shorten the line so arrows stop at the node circles
        dx, dy = x - cx, y - cy
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        start = (cx + ux * 14, cy + uy * 14)
        end = (x - ux * 9, y - uy * 9)
        if not outgoing:
            start, end = end, start
        edges.append(Edge(round(start[0], 1), round(start[1], 1), round(end[0], 1),
                          round(end[1], 1), _clip(prop_label, 22),
                          round(cx + dx * 0.5, 1), round(cy + dy * 0.5 - 3, 1), outgoing))
    return Layout(WIDTH, HEIGHT, centre, nodes, edges, max(0, len(neighbours) - len(shown)))
