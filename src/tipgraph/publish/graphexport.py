"""The relationship graph as files for desktop tools and reports.

- GraphML and GEXF (via networkx): Gephi, Cytoscape desktop, yEd. Every node carries its kind,
  labels, IRI, regions, thematic areas and dates as attributes; GEXF adds colours and sizes.
- DOT: Graphviz. Mechanisms are clusters holding their bodies; the same attributes as above.
- SVG and PNG: a picture laid out on the server by Graphviz (``fdp``, which honours clusters).
"""

from __future__ import annotations

import io
import shutil
import subprocess  # noqa: S404 - runs Graphviz on DOT we generate, never a shell
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx is slow to import: it is imported by the functions using it
    import networkx as nx

from tipgraph.errors import ExportError, LimitExceeded
from tipgraph.publish.formats import GRAPH_FORMATS, GraphFormat, graph_format
from tipgraph.publish.graphviews import FAMILY_STYLE, KIND_BY_NAME, GraphView, Node

GRAPHVIZ_TIMEOUT = 120  # seconds


def _node_attributes(view: GraphView, node: Node, degree: int) -> dict[str, Any]:
    """Flat attributes (str or int, never None) that every desktop format can store."""
    kind = KIND_BY_NAME[node.kind]
    attributes: dict[str, Any] = {
        "label": node.label, "short": node.short_label, "kind": node.kind,
        "kindLabel": kind.label, "group": kind.group, "iri": node.iri, "degree": degree,
    }
    optional: dict[str, Any] = {
        "acronym": node.acronym, "altLabels": "; ".join(node.alt_labels),
        "subtype": node.subtype, "status": node.status, "binding": node.binding,
        "regions": ";".join(sorted(view.full.reach_regions.get(node.id, ()))),
        "themes": ";".join(sorted(view.full.reach_themes.get(node.id, ()))),
        "startYear": node.start, "endYear": node.end,
        "pages": ";".join(str(p) for p in node.pages),
        "parent": view.parents.get(node.id), "url": node.url,
        **node.dates,
    }
    attributes.update({k: v for k, v in optional.items() if v not in (None, "")})
    return attributes


def to_networkx(view: GraphView) -> nx.MultiDiGraph:
    """The view as a networkx graph (node ids as keys, attributes as above)."""
    import networkx as nx

    graph = nx.MultiDiGraph(name="tipgraph organisation relationship graph")
    degree = view.degree()
    for node in view.nodes:
        graph.add_node(node.id, **_node_attributes(view, node, degree[node.id]))
    for edge in view.edges:
        relation = view.full.relations[edge.relation]
        graph.add_edge(edge.source, edge.target, key=edge.relation, relation=edge.relation,
                       label=relation.label, family=relation.family, iri=relation.iri)
    return graph


def _rgb(color: str) -> dict[str, int]:
    value = color.lstrip("#")
    return {"r": int(value[0:2], 16), "g": int(value[2:4], 16), "b": int(value[4:6], 16),
            "a": 1}


def to_graphml(view: GraphView) -> bytes:
    import networkx as nx

    buffer = io.BytesIO()
    nx.write_graphml(to_networkx(view), buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


def to_gexf(view: GraphView) -> bytes:
    import networkx as nx

    graph = to_networkx(view)
    for _, data in graph.nodes(data=True):
        data["viz"] = {"color": _rgb(KIND_BY_NAME[data["kind"]].color),
                       "size": 10.0 + 4.0 * min(int(data["degree"]), 10)}
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


def _quote(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _attrs(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={_quote(value)}" for key, value in values.items())


def _wrap(text: str, width: int = 22) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _is_dark(color: str) -> bool:
    rgb = _rgb(color)
    return 0.299 * rgb["r"] + 0.587 * rgb["g"] + 0.114 * rgb["b"] < 150


EDGE_LABELS_UPTO = 40   # a view with more links shows their names as tooltips only


def to_dot(view: GraphView, title: str = "", regions: bool = True) -> str:
    """Graphviz DOT: a cluster per region of the view (as the page draws it), inside it a
    cluster for each organisation that contains bodies; nodes styled by kind, links by family.
    ``regions=False`` leaves the region clusters out.
    """
    degree = view.degree()
    children: dict[str, list[Node]] = defaultdict(list)
    for node in view.nodes:
        if node.id in view.parents:
            children[view.parents[node.id]].append(node)
    by_id = {node.id: node for node in view.nodes}
    lines = [
        "digraph tipgraph {",
        f"  graph [{_attrs({'label': title, 'labelloc': 't', 'fontname': 'Helvetica', 'fontsize': 26, 'overlap': 'false', 'splines': 'true', 'outputorder': 'edgesfirst', 'K': 0.35, 'sep': '+4', 'bgcolor': 'white', 'pad': 0.3, 'pack': 'true'})}];",  # noqa: E501
        f"  node [{_attrs({'style': 'filled', 'fontname': 'Helvetica', 'fontsize': 12, 'penwidth': 0.8, 'color': '#ffffff', 'margin': '0.06,0.03'})}];",  # noqa: E501
        f"  edge [{_attrs({'fontname': 'Helvetica', 'fontsize': 9, 'arrowsize': 0.7, 'penwidth': 1.2})}];",  # noqa: E501
    ]
    edge_labels = sum(not view.is_contained(e) for e in view.edges) <= EDGE_LABELS_UPTO

    def node_line(node: Node, indent: str) -> str:
        kind = KIND_BY_NAME[node.kind]
        attributes = _node_attributes(view, node, degree[node.id])
        attributes.pop("label")
        size = 0.3 + 0.04 * min(degree[node.id], 12)
        style = {
            "label": _wrap(node.short_label, 18), "tooltip": node.label,
            "shape": kind.dot_shape, "fillcolor": kind.color,
            "fontcolor": "#ffffff" if _is_dark(kind.color) else "#1d2433",
            "width": round(size * 2.2, 2), "height": round(size, 2),
            "style": "filled,dashed" if node.id in view.past else "filled",
        }
        if kind.group == "mechanisms":
            style.update({"label": _wrap(node.short_label, 24), "fontsize": 16,
                          "fontname": "Helvetica-Bold", "style": "filled,rounded",
                          "penwidth": 2})
        return f"{indent}{_quote(node.id)} [{_attrs({**style, **attributes})}];"

    def cluster(node: Node, indent: str) -> list[str]:
        out = [f"{indent}subgraph {_quote('cluster_' + node.id)} {{",
               f"{indent}  graph [{_attrs({'label': '', 'style': 'rounded,filled', 'fillcolor': '#eef3fa', 'color': '#b9c7dd', 'margin': 6})}];",  # noqa: E501
               node_line(node, indent + "  ")]
        for child in sorted(children[node.id], key=lambda n: n.id):
            out += (cluster(child, indent + "  ") if child.id in children
                    else [node_line(child, indent + "  ")])
        out.append(f"{indent}}}")
        return out

    by_region: dict[str, list[Node]] = defaultdict(list)
    for node in view.nodes:
        if node.id not in view.parents:
            by_region[view.clusters.get(node.id, "") if regions else ""].append(node)
    for region in sorted(by_region, key=lambda r: (-len(by_region[r]), r)):
        indent = "  "
        if region and len(by_region) > 1:
            label = view.full.labels.get(region, region)
            lines += [f"  subgraph {_quote('cluster_region_' + region)} {{",
                      f"    graph [{_attrs({'label': label, 'labeljust': 'l', 'fontsize': 20, 'fontname': 'Helvetica-Bold', 'fontcolor': '#1d2433', 'style': 'rounded', 'color': '#c3ccda', 'penwidth': 1.5, 'margin': 10})}];"]  # noqa: E501
            indent = "    "
        for node in by_region[region]:
            lines += (cluster(node, indent) if node.id in children
                      else [node_line(node, indent)])
        if indent != "  ":
            lines.append("  }")
    for edge in view.edges:
        if view.is_contained(edge) and edge.source in by_id:
            continue
        relation = view.full.relations[edge.relation]
        style = FAMILY_STYLE[relation.family]
        attributes = {"tooltip": relation.label, "relation": edge.relation,
                      "iri": relation.iri, "color": style["color"], "fontcolor": style["color"],
                      "style": style["line"]}
        if edge_labels:
            attributes["label"] = relation.label
        if relation.symmetric:
            attributes["dir"] = "none"
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)} [{_attrs(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(view: GraphView, fmt: str = "svg", engine: str = "fdp", title: str = "") -> bytes:
    """Lay the view out with Graphviz and draw it as SVG or PNG."""
    if fmt not in {"svg", "png"}:
        raise ExportError(f"cannot draw a picture as {fmt!r}; use svg or png")
    executable = shutil.which("dot")
    if executable is None:
        raise ExportError("drawing the graph needs Graphviz, which is not installed: install it "
                          "(for example `apt-get install graphviz`) and try again")
    # fdp sometimes crashes (a segmentation fault, at random) on clusters nested three deep, as
    # the region clusters make them: try other seeds, then draw without the region clusters.
    attempts = [(to_dot(view, title), seed) for seed in (1, 2, 3, 4)]
    attempts.append((to_dot(view, title, regions=False), 1))
    for dot, seed in attempts:
        try:
            completed = subprocess.run(  # noqa: S603 - fixed arguments, our own DOT on stdin
                [executable, f"-K{engine}", f"-Gstart={seed}", f"-T{fmt}"],
                input=dot.encode("utf-8"), capture_output=True, timeout=GRAPHVIZ_TIMEOUT,
                check=False)
        except subprocess.TimeoutExpired:
            raise LimitExceeded(f"Graphviz took longer than {GRAPHVIZ_TIMEOUT} s to lay the graph "
                                "out; draw a smaller view (filter by region or kind)") from None
        if completed.returncode >= 0:
            break
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExportError(f"Graphviz failed: {detail[-1] if detail else 'no message'}")
    return completed.stdout


def export(view: GraphView, fmt: str | GraphFormat, title: str = "") -> bytes:
    """The view in one of GRAPH_FORMATS, as bytes."""
    found = fmt if isinstance(fmt, GraphFormat) else graph_format(fmt)
    if found is None:
        raise ExportError(f"unknown graph format {fmt!r}; use one of "
                          f"{', '.join(f.name for f in GRAPH_FORMATS)}")
    if found.name == "graphml":
        return to_graphml(view)
    if found.name == "gexf":
        return to_gexf(view)
    if found.name == "dot":
        return to_dot(view, title).encode("utf-8")
    return render(view, found.name, title=title)


__all__ = ["export", "render", "to_dot", "to_gexf", "to_graphml", "to_networkx"]
