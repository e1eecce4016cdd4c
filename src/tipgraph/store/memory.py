"""rdflib's in-memory store: the pure-Python fallback (``store = "memory"``).

rdflib's SPARQL parser and evaluator are not thread-safe, so queries on one store take turns.
Before evaluation the FROM clauses are removed from the parsed query: rdflib would fetch a FROM
graph it does not hold. The dataset is built here from local graphs instead.
"""

from __future__ import annotations

import threading

from pyparsing import ParseException
from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.plugins.stores.memory import Memory

from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query.policy import DatasetSpec
from tipgraph.store.base import Answer, Store, take


def _walk(node: object):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _walk(value)


def parse(sparql: str, base: str | None = None) -> Query:
    """rdflib's parse, with its message (line and column) as a QueryError."""
    try:
        query = prepareQuery(sparql, initNs=PREFIXES, base=base)
    except ParseException as error:
        raise QueryError(f"malformed query at line {error.lineno}, column {error.col}: "
                         f"{error.msg}") from None
    except Exception as error:  # rdflib raises bare Exceptions (unknown prefix...)
        raise QueryError(f"malformed query: {error}") from None
    for node in _walk(query.algebra):  # the policy already refused SERVICE: defence in depth
        if getattr(node, "name", None) == "ServiceGraphPattern":
            raise QueryError("SERVICE is not allowed", status=403)
    query.algebra["datasetClause"] = None
    return query


class MemoryStore(Store):
    backend = "memory"

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._lock = threading.Lock()

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> MemoryStore:
        """Share an rdflib in-memory dataset; copy one held by another store (oxrdflib), whose
        union default graph would count a triple stated on two pages twice."""
        if isinstance(dataset.store, Memory):
            return cls(dataset)
        copy = Dataset(default_union=True)
        for s, p, o, g in dataset.quads((None, None, None, None)):
            copy.add((s, p, o, copy.graph(g.identifier if isinstance(g, Graph) else g)))
        return cls(copy)

    @classmethod
    def from_nquads(cls, path: str) -> MemoryStore:
        dataset = Dataset(default_union=True)
        dataset.parse(path, format="nquads")
        return cls(dataset)

    def _view(self, spec: DatasetSpec) -> Dataset:
        """A dataset of copies of the local graphs the query names."""
        view = Dataset(default_union=False)
        for name in spec.default_graphs:
            view.default_graph += self._dataset.graph(URIRef(name))
        for name in spec.named_graphs:
            view.graph(URIRef(name)).__iadd__(self._dataset.graph(URIRef(name)))
        return view

    def query(self, sparql: str, dataset: DatasetSpec | None = None,
              max_rows: int | None = None, base: str | None = None) -> Answer:
        with self._lock:
            parsed = parse(sparql, base)
            target = self._dataset if dataset is None else self._view(dataset)
            try:
                result = target.query(parsed)
                if result.type == "ASK":
                    return Answer("boolean", boolean=bool(result.askAnswer))
                if result.type in {"CONSTRUCT", "DESCRIBE"}:
                    graph = result.graph if result.graph is not None else Graph()
                    return Answer("graph", triples=take(graph, max_rows))
                names = [str(v) for v in result.vars or []]
                rows = take((tuple(row) for row in result), max_rows)
                return Answer("bindings", variables=names, rows=rows)
            except QueryError:
                raise
            except Exception as error:  # rdflib's evaluation errors have no common base class
                raise QueryError(f"the query failed: {error}") from None

    def graph_names(self) -> list[str]:
        return sorted(str(g.identifier) for g in self._dataset.graphs()
                      if isinstance(g.identifier, URIRef) and len(g))

    def __len__(self) -> int:
        return len(self._dataset)
