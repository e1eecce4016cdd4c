"""pyoxigraph's embedded store: the default engine (``store = "oxigraph"``).

The dataset is copied in as N-Quads; answers come back as rdflib terms. pyoxigraph would follow
SERVICE and cannot be interrupted from Python: the policy refuses SERVICE before a query gets
here, and the worker processes (tipgraph.query.workers) enforce the time limit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from tipgraph.errors import QueryError
from tipgraph.model import diskstore
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query.policy import DatasetSpec
from tipgraph.store.base import Answer, Store, take

if TYPE_CHECKING:
    from tipgraph.model.build import KnowledgeGraph

_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_EMPTY = ox.NamedNode("urn:tipgraph:empty-graph")  # stands for "no graph" in a dataset


def to_rdflib(term: object) -> Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if term.language:
            return Literal(term.value, lang=term.language)
        if datatype == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise QueryError("quoted triples (RDF-star) cannot be returned by this endpoint")


class OxigraphStore(Store):
    backend = "oxigraph"

    def __init__(self, store: ox.Store, size: int | None = None, lock: object = None) -> None:
        """``store``: named graphs as loaded, and their union (a set) in the default graph;
        ``lock``: what keeps an on-disk store from being pruned while this one is open."""
        self._store, self._lock = store, lock
        self._size = size if size is not None else sum(
            1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    @staticmethod
    def persist(kg: KnowledgeGraph, directory: Path) -> tuple[Path, int]:
        """An on-disk store of the dataset (named graphs, and their union in the default
        graph) at ``directory``, written unless a complete one is there (tipgraph.model.
        diskstore: a half-written store is never opened); and its size."""
        if diskstore.size_of(directory) is None:
            diskstore.write(directory, lambda path: kg.write_nquads(path, union=True))
        return directory, diskstore.size_of(directory) or 0

    @classmethod
    def from_nquads(cls, data: str | bytes, *, path: bool = False) -> OxigraphStore:
        store = ox.Store()
        if path:
            store.bulk_load(path=data, format=ox.RdfFormat.N_QUADS)
        else:
            store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        # pyoxigraph's own union of graphs keeps duplicates (a bag); SPARQL's merge is a set.
        store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        return cls(store)

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> OxigraphStore:
        return cls.from_nquads(dataset.serialize(format="nquads", encoding="utf-8"))

    def query(self, sparql: str, dataset: DatasetSpec | None = None,
              max_rows: int | None = None, base: str | None = None) -> Answer:
        options: dict = {"prefixes": PREFIXES, "base_iri": base}
        if dataset is not None:
            options["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs] or [
                _EMPTY]
            options["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs] or [
                _EMPTY]
        try:
            result = self._store.query(sparql, **options)
            if isinstance(result, ox.QueryBoolean):
                return Answer("boolean", boolean=bool(result))
            if isinstance(result, ox.QueryTriples):
                triples = ((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                           for t in result)
                return Answer("graph", triples=take(triples, max_rows))
            names = [v.value for v in result.variables]
            rows = ((tuple(to_rdflib(s[i]) for i in range(len(names)))) for s in result)
            return Answer("bindings", variables=names, rows=take(rows, max_rows))
        except SyntaxError as error:
            match = _SYNTAX.match(str(error))
            if match:
                line, column, detail = match.groups()
                if "Prefix not found" in detail:
                    detail = "a prefix is used but not declared (add a PREFIX line)"
                elif len(detail) > 300:
                    detail = detail[:300] + "..."
                raise QueryError(f"malformed query at line {line}, column {column}: "
                                 f"{detail}") from None
            raise QueryError(f"malformed query: {error}") from None
        except (OSError, ValueError, RuntimeError) as error:
            raise QueryError(f"the query failed: {error}") from None

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return self._size

