"""What the data says about one resource: its RDF description and the view its page shows.

No Flask here: the web pages and any other publisher use these functions.

The description of a resource holds, as quads (the graph name is the page a fact comes from):
- every asserted fact with the resource as subject or object (outgoing and incoming links),
  and the blank nodes hanging from it;
- what the reasoner inferred about it (its super-types, inverse links, ``tip:describedOn``);
- the incoming ``tip:describedOn`` links when the resource is a source page;
- the labels of every resource it links to, so a client can show readable names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import (
    GRAPH_CURATED,
    GRAPH_INFERRED,
    ONTOLOGY_IRI,
    RDF,
    RDFS,
    SKOS,
    TIP,
    XSD,
    is_page_graph,
)
from tipgraph.model.validate import short
from tipgraph.publish.canonical import Quad, canonical_quads

LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label)
ALT_LABEL_PROPERTIES = (TIP.acronym, SKOS.altLabel)
DATE_TYPES = {XSD.date, XSD.dateTime, XSD.gYear, XSD.gYearMonth}


class LabelIndex:
    """Readable labels for every IRI in the data and the ontology, built once per graph."""

    def __init__(self, graphs: Iterable[Graph]) -> None:
        self._labels = _best_labels((s, p, o) for graph in graphs for p in LABEL_PROPERTIES
                                    for s, o in graph.subject_objects(p))

    @classmethod
    def of(cls, kg: KnowledgeGraph) -> LabelIndex:
        """The labels of the asserted data and the ontology, read by the engine (no copy of the
        graph: at a million triples the union alone took minutes and gigabytes)."""
        values = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        rows = kg.select(f"SELECT DISTINCT ?s ?p ?l WHERE {{ VALUES ?p {{ {values} }} "
                         f"GRAPH ?g {{ ?s ?p ?l }} "
                         f"{not_in(kg.graphs_outside(inferred=False, ontology=True))} }}")
        index = cls([])
        index._labels = _best_labels(rows)
        return index

    def __call__(self, node: Node) -> str:
        if node in self._labels:
            return self._labels[node]
        if isinstance(node, URIRef):
            text = str(node)
            tail = re.split(r"[#/]", text.rstrip("/#"))[-1]
            return tail or text
        return str(node)

    def has(self, node: Node) -> bool:
        return node in self._labels


def _best_labels(triples: Iterable[tuple]) -> dict[Node, str]:
    """For each subject, its label: skos:prefLabel before rdfs:label, English or no language
    before others, then the first in code-point order (the same whatever order they come in)."""
    ranked: dict[Node, tuple[int, str]] = {}
    for subject, prop, label in triples:
        if not isinstance(label, Literal):
            continue
        score = LABEL_PROPERTIES.index(prop) * 2 + (0 if label.language in (None, "en") else 1)
        if subject not in ranked or (score, str(label)) < ranked[subject]:
            ranked[subject] = (score, str(label))
    return {node: text for node, (_, text) in ranked.items()}


def is_known(kg: KnowledgeGraph, iri: URIRef) -> bool:
    """True when some data graph (asserted or inferred) mentions the IRI, or names a graph by it."""
    for name in [*kg.data_graph_names(), GRAPH_INFERRED]:
        graph = kg.graph(name)
        if (iri, None, None) in graph or (None, None, iri) in graph:
            return True
    return any(g.identifier == iri for g in kg.dataset.graphs())


def _blank_closure(graph: Graph, start: Iterable[Node], name: URIRef) -> list[Quad]:
    quads: list[Quad] = []
    todo = [n for n in start if isinstance(n, BNode)]
    seen: set[Node] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in graph.predicate_objects(node):
            quads.append((node, p, o, name))
            if isinstance(o, BNode):
                todo.append(o)
    return quads


def describe(kg: KnowledgeGraph, iri: URIRef, labels: bool = True) -> list[Quad]:
    """The resource's description as canonical, sorted quads (see the module docstring)."""
    quads: list[Quad] = []
    neighbours: set[Node] = set()
    for name in kg.data_graph_names():
        graph = kg.graph(name)
        for p, o in graph.predicate_objects(iri):
            quads.append((iri, p, o, name))
            neighbours.update((p, o))
        quads += _blank_closure(graph, graph.objects(iri), name)
        for s, p in graph.subject_predicates(iri):
            quads.append((s, p, iri, name))
            neighbours.update((s, p))
    inferred = kg.inferred
    for p, o in inferred.predicate_objects(iri):
        quads.append((iri, p, o, GRAPH_INFERRED))
        neighbours.update((p, o))
    for s in inferred.subjects(TIP.describedOn, iri):
        quads.append((s, TIP.describedOn, iri, GRAPH_INFERRED))
        neighbours.add(s)
    if labels:
        neighbours.discard(iri)
        for name in kg.data_graph_names():
            graph = kg.graph(name)
            for node in neighbours:
                if isinstance(node, URIRef):
                    for prop in LABEL_PROPERTIES:
                        for label in graph.objects(node, prop):
                            quads.append((node, prop, label, name))
    return canonical_quads(quads)


# --- the view an entity page shows ----------------------------------------------------------


@dataclass
class Value:
    node: Node
    text: str            # label of an IRI, or the literal's text
    href: str | None     # where the page links (local page for our IRIs)
    note: str = ""       # datatype or language of a literal
    is_date: bool = False
    pages: list[URIRef] = field(default_factory=list)  # source pages stating the fact
    curated: bool = False
    inferred_only: bool = False


@dataclass
class PropertyValues:
    prop: URIRef
    label: str
    href: str | None
    values: list[Value]


@dataclass
class EntityView:
    iri: URIRef
    label: str
    alt_labels: list[str]
    types: list[Value]
    inferred_types: list[Value]
    outgoing: list[PropertyValues]
    incoming: list[PropertyValues]
    inferred: list[PropertyValues]
    dates: list[tuple[str, Value]]
    pages: list[Value]
    stated_here: list[Value]     # for a source page: the resources it describes
    neighbours: list[tuple[str, str, Value]]  # (direction, property label, neighbour)


def href_for(node: Node, base_iri: str) -> str | None:
    """The local page of an IRI from this dataset or ontology; the IRI itself otherwise."""
    if not isinstance(node, URIRef):
        return None
    text = str(node)
    if text.startswith(base_iri):
        return "/id/" + text[len(base_iri):]
    if text.startswith(str(TIP)):
        return "/ontology#" + text[len(str(TIP)):]
    if text == str(ONTOLOGY_IRI):
        return "/ontology"
    return text if text.startswith(("http://", "https://")) else None


def _literal_note(value: Literal) -> str:
    if value.language:
        return f"@{value.language}"
    if value.datatype is not None and value.datatype != XSD.string:
        return short(value.datatype) or ""
    return ""


def entity_view(kg: KnowledgeGraph, iri: URIRef, label_of: LabelIndex) -> EntityView:
    base = kg.config["base_iri"]
    facts: dict[tuple[Node, Node, Node], set[URIRef]] = defaultdict(set)
    for name in kg.data_graph_names():
        graph = kg.graph(name)
        for p, o in graph.predicate_objects(iri):
            facts[(iri, p, o)].add(name)
        for s, p in graph.subject_predicates(iri):
            facts[(s, p, iri)].add(name)

    def value(node: Node, graphs: Iterable[URIRef] = (), inferred_only: bool = False) -> Value:
        graphs = set(graphs)
        pages = sorted((g for g in graphs if is_page_graph(g)), key=_page_key)
        if isinstance(node, Literal):
            return Value(node, str(node), None, _literal_note(node),
                         node.datatype in DATE_TYPES, pages, GRAPH_CURATED in graphs,
                         inferred_only)
        return Value(node, label_of(node), href_for(node, base), "", False, pages,
                     GRAPH_CURATED in graphs, inferred_only)

    def group(items: Mapping[URIRef, list[Value]]) -> list[PropertyValues]:
        result = [PropertyValues(p, label_of(p), href_for(p, base),
                                 sorted(vals, key=lambda v: (v.text.lower(), str(v.node))))
                  for p, vals in items.items()]
        return sorted(result, key=lambda pv: (pv.label.lower(), str(pv.prop)))

    outgoing: dict[URIRef, list[Value]] = defaultdict(list)
    incoming: dict[URIRef, list[Value]] = defaultdict(list)
    types, alt_labels, dates = [], [], []
    for (s, p, o), graphs in facts.items():
        if s == iri:
            if p == RDF.type:
                types.append(value(o, graphs))
                continue
            if p in ALT_LABEL_PROPERTIES and isinstance(o, Literal):
                alt_labels.append(str(o))
            v = value(o, graphs)
            outgoing[p].append(v)
            if v.is_date:
                dates.append((label_of(p), v))
        else:
            incoming[p].append(value(s, graphs))
    asserted_types = {v.node for v in types}
    inferred_types, inferred = [], defaultdict(list)
    for p, o in kg.inferred.predicate_objects(iri):
        if (iri, p, o) in facts:
            continue
        if p == RDF.type:
            if o not in asserted_types:
                inferred_types.append(value(o, inferred_only=True))
        elif p != TIP.describedOn:
            inferred[p].append(value(o, inferred_only=True))
    pages = sorted({g for gs in facts.values() for g in gs if is_page_graph(g)}, key=_page_key)
    stated_here = sorted((value(s) for s in set(kg.inferred.subjects(TIP.describedOn, iri))),
                         key=lambda v: (v.text.lower(), str(v.node)))
    neighbours: list[tuple[str, str, Value]] = []
    seen: set[Node] = set()
    for direction, groups in (("out", outgoing), ("in", incoming)):
        for p, vals in sorted(groups.items(), key=lambda kv: str(kv[0])):
            for v in vals:
                if isinstance(v.node, URIRef) and v.node not in seen and v.node != iri:
                    seen.add(v.node)
                    neighbours.append((direction, label_of(p), v))
    return EntityView(
        iri=iri,
        label=label_of(iri),
        alt_labels=sorted(set(alt_labels)),
        types=sorted(types, key=lambda v: v.text.lower()),
        inferred_types=sorted(inferred_types, key=lambda v: v.text.lower()),
        outgoing=group(outgoing),
        incoming=group(incoming),
        inferred=group(inferred),
        dates=sorted(dates, key=lambda d: str(d[1].node)),
        pages=[value(p) for p in pages],
        stated_here=stated_here,
        neighbours=neighbours,
    )


def _page_key(name: URIRef) -> tuple[int, str]:
    tail = str(name).rsplit("/", 1)[-1]
    return (int(tail), "") if tail.isdigit() else (10**9, tail)
