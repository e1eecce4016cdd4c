"""Stable blank-node labels and sorted quads: what makes serialisations byte-identical.

rdflib labels blank nodes at random and iterates its stores in insertion order, so the same
data can serialise differently from one run to the next. ``canonical_quads`` relabels blank
nodes from the structure around them (rdflib's canonicaliser, over the whole dataset so a
blank node shared by two graphs keeps one label) and returns the quads sorted.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import _TripleCanonicalizer
from rdflib.term import Node

Quad = tuple[Node, Node, Node, URIRef | None]

# Joins a graph name and a predicate into one predicate for the canonicaliser; never in an IRI.
_JOIN = "\x01"
_NO_GRAPH = "\x02"


def quads_of(data: Graph | Dataset) -> list[Quad]:
    """Every quad of a Dataset (graph names as URIRefs), or a Graph's triples with name None."""
    if isinstance(data, Dataset):
        result = []
        for s, p, o, g in data.quads((None, None, None, None)):
            name = g.identifier if isinstance(g, Graph) else g
            if name is not None and str(name) == "urn:x-rdflib:default":
                name = None
            result.append((s, p, o, name))
        return result
    return [(s, p, o, None) for s, p, o in data]


def _sort_key(quad: Quad) -> tuple[str, str, str, str]:
    s, p, o, g = quad
    return ("" if g is None else g.n3(), s.n3(), p.n3(), o.n3())


def canonical_quads(quads: Iterable[Quad]) -> list[Quad]:
    """The quads with blank nodes relabelled from their structure, sorted."""
    quads = list(quads)
    if not any(isinstance(t, BNode) for q in quads for t in q[:3]):
        return sorted(set(quads), key=_sort_key)
    encoded = Graph()
    for s, p, o, g in quads:
        encoded.add((s, URIRef(f"{_NO_GRAPH if g is None else g}{_JOIN}{p}"), o))
    result = set()
    for s, p, o in _TripleCanonicalizer(encoded).canonical_triples():
        graph, predicate = str(p).split(_JOIN, 1)
        result.add((s, URIRef(predicate), o, None if graph == _NO_GRAPH else URIRef(graph)))
    return sorted(result, key=_sort_key)


def skolemise(quads: Iterable[Quad], authority: str) -> list[Quad]:
    """Blank nodes replaced by stable IRIs ``<authority>.well-known/genid/<label>`` (RDF 1.1 §3.5).

    Labels come from ``canonical_quads``, so skolemising the same data twice gives the same IRIs:
    a store that receives it twice holds one copy.
    """
    prefix = authority.rstrip("/") + "/.well-known/genid/"

    def iri(node: Node) -> Node:
        return URIRef(prefix + str(node)) if isinstance(node, BNode) else node

    return [(iri(s), p, iri(o), g) for s, p, o, g in canonical_quads(quads)]


class _SortedDataset(Dataset):
    """A Dataset that lists its graphs in order of their names (the TriG serialiser asks)."""

    def contexts(self, triple=None):  # type: ignore[no-untyped-def,override]
        with warnings.catch_warnings():  # rdflib deprecates contexts() but its serialisers call it
            warnings.simplefilter("ignore", DeprecationWarning)
            graphs = list(super().contexts(triple))
        return iter(sorted(graphs, key=lambda g: g.identifier.n3()))


class _SortedGraph(Graph):
    """A Graph that lists its subjects sorted (the RDF/XML serialiser asks)."""

    def subjects(self, predicate=None, object=None, unique=False):  # type: ignore[no-untyped-def,override]  # noqa: A002
        return iter(sorted(set(super().subjects(predicate, object)), key=lambda n: n.n3()))


def to_dataset(quads: Iterable[Quad], namespaces: dict[str, str] | None = None) -> Dataset:
    """A fresh Dataset filled in order (rdflib's memory store then iterates in that order)."""
    dataset = _SortedDataset()
    for prefix, namespace in sorted((namespaces or {}).items()):
        dataset.bind(prefix, namespace, replace=True)
    for s, p, o, g in quads:
        target = dataset.default_graph if g is None else dataset.graph(g)
        target.add((s, p, o))
    return dataset


def to_graph(quads: Iterable[Quad], namespaces: dict[str, str] | None = None) -> Graph:
    graph = _SortedGraph(bind_namespaces="none")
    for prefix, namespace in sorted((namespaces or {}).items()):
        graph.bind(prefix, namespace, replace=True)
    seen = set()
    for s, p, o, _ in quads:
        if (s, p, o) not in seen:
            seen.add((s, p, o))
            graph.add((s, p, o))
    return graph
