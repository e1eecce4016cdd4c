"""oxrdflib's store, giving rdflib the terms rdflib itself would have parsed.

pyoxigraph types every plain literal as xsd:string (RDF 1.1); rdflib keeps "x" and
"x"^^xsd:string apart, and its parsers give the plain form. Without this, a graph read through
oxrdflib would not equal the same graph parsed by rdflib, and Turtle output would spell out
^^xsd:string. Lookups need nothing: oxrdflib already maps both forms to the same term.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from oxrdflib._converter import from_ox, to_ox
from rdflib import Graph, Literal
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD
from rdflib.query import Result
from rdflib.term import Node, Variable

_STRING = XSD.string


def plain(term: Node) -> Node:
    if isinstance(term, Literal) and term.datatype == _STRING:
        return Literal(str(term))
    return term


class TipgraphOxigraphStore(OxigraphStore):
    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        for (s, p, o), contexts in super().triples(triple_pattern, context):
            yield (s, p, plain(o)), contexts

    def query(self, *args: Any, **kwargs: Any) -> Any:
        result = super().query(*args, **kwargs)
        if result.type == "SELECT":
            result.bindings = ({v: plain(t) for v, t in row.items()} for row in result.bindings)
        elif result.type == "CONSTRUCT" and result.graph is not None:
            graph = result.graph
            for s, p, o in list(graph):
                if plain(o) is not o:
                    graph.remove((s, p, o))
                    graph.add((s, p, plain(o)))
        return result


class PersistedOxigraphStore(TipgraphOxigraphStore):
    """A read-only on-disk store (tipgraph.model.diskstore) seen through rdflib.

    Its default graph holds the union of the named graphs, for the query workers' SPARQL; rdflib
    is shown the named graphs only and an empty default graph, as with a store built in memory:
    a Dataset's union, its graphs and its queries (a bag over the named graphs) give the same
    answers. ``directory`` is where it lives; ``lock`` keeps it from being deleted while open."""

    def __init__(self, store: ox.Store, directory: Path, lock: Any) -> None:
        super().__init__(store=store)
        self.directory, self._lock = directory, lock

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[Any]:
        if _is_default(context):
            return
        for triple, contexts in super().triples(triple_pattern, context):
            graph = next(contexts)
            if not _is_default(graph):
                yield triple, iter((graph,))

    def __len__(self, context: Any = None) -> int:
        return 0 if _is_default(context) else super().__len__(context)

    def add_graph(self, graph: Any) -> None:
        """Nothing to do: rdflib asks on every ``Dataset.graph(name)``; the store is read-only
        (a graph it does not hold reads as empty)."""

    def contexts(self, triple: Any = None) -> Iterator[Any]:
        return (g for g in super().contexts(triple) if not _is_default(g))

    def query(self, query: Any, initNs: Any, initBindings: Any, queryGraph: Any,  # noqa: N803
              **kwargs: Any) -> Any:
        if queryGraph != "__UNION__" and not _is_default(queryGraph):
            return super().query(query, initNs, initBindings, queryGraph, **kwargs)
        graphs = [ox.NamedNode(str(g.identifier)) for g in self.contexts()]
        if _is_default(queryGraph) or not graphs:
            graphs = [ox.NamedNode("urn:tipgraph:empty-graph")]
        found = self._inner.query(
            query, default_graph=graphs, prefixes=dict(self.namespaces(), **initNs),
            substitutions={ox.Variable(k): to_ox(v) for k, v in initBindings.items()})
        if isinstance(found, ox.QueryBoolean):
            result = Result("ASK")
            result.askAnswer = bool(found)
        elif isinstance(found, ox.QuerySolutions):
            result = Result("SELECT")
            result.vars = [Variable(v.value) for v in found.variables]
            result.bindings = ({v: plain(from_ox(row[i])) for i, v in enumerate(result.vars)}
                               for row in found)
        else:
            result = Result("CONSTRUCT")
            result.graph = Graph()
            result.graph += ((from_ox(t.subject), from_ox(t.predicate),
                              plain(from_ox(t.object))) for t in found)
        return result


def _is_default(graph: Any) -> bool:
    return getattr(graph, "identifier", graph) == DATASET_DEFAULT_GRAPH_ID
