"""oxrdflib's store, giving rdflib the terms rdflib itself would have parsed.

pyoxigraph types every plain literal as xsd:string (RDF 1.1); rdflib keeps "x" and
"x"^^xsd:string apart, and its parsers give the plain form. Without this, a graph read through
oxrdflib would not equal the same graph parsed by rdflib, and Turtle output would spell out
^^xsd:string. Lookups need nothing: oxrdflib already maps both forms to the same term.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from oxrdflib import OxigraphStore
from rdflib import Literal
from rdflib.namespace import XSD
from rdflib.term import Node

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
