"""pyoxigraph's embedded store: the default engine (``store = "oxigraph"``).

The dataset is copied in as N-Quads; answers come back as rdflib terms. pyoxigraph would follow
SERVICE and cannot be interrupted from Python: the policy refuses SERVICE before a query gets
here, and the worker processes (tipgraph.query.workers) enforce the time limit.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query.policy import DatasetSpec, expand_escapes
from tipgraph.store import oxwrite
from tipgraph.store.base import Answer, Store, take

if TYPE_CHECKING:
    from tipgraph.model.build import KnowledgeGraph

_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_EMPTY = ox.NamedNode("urn:tipgraph:empty-graph")  # stands for "no graph" in a dataset
_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


_TRIPLE_CALL = re.compile(r"\bTRIPLE\s*\(", re.IGNORECASE)


def may_make_triple_terms(sparql: str) -> bool:
    """Triple terms (RDF 1.2) can only come from the query (the data has none): <<( )>>,
    << >>, TRIPLE(), and annotations {| |}. Conservative: a mention in a string counts."""
    text = expand_escapes(sparql) if "\\" in sparql else sparql
    return "<<" in text or "{|" in text or (
        "triple" in text.lower() and _TRIPLE_CALL.search(text) is not None)


@contextlib.contextmanager
def _engine_errors() -> Iterator[None]:
    """pyoxigraph's errors as QueryErrors: syntax (with line and column) and evaluation."""
    try:
        yield
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


def _answer(result: object, max_rows: int | None) -> Answer:
    """A pyoxigraph result in rdflib terms."""
    if isinstance(result, ox.QueryBoolean):
        return Answer("boolean", boolean=bool(result))
    if isinstance(result, ox.QueryTriples):
        triples = ((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                   for t in result)
        return Answer("graph", triples=take(triples, max_rows))
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    rows = ((tuple(to_rdflib(s[i]) for i in range(len(names)))) for s in result)
    return Answer("bindings", variables=names, rows=take(rows, max_rows))


class OxigraphStore(Store):
    backend = "oxigraph"

    def __init__(self, store: ox.Store, size: int | None = None) -> None:
        """``store``: named graphs as loaded, and their union (a set) in the default graph."""
        self._store = store
        self._size = size if size is not None else sum(
            1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    @staticmethod
    def persist(kg: KnowledgeGraph, directory: Path) -> tuple[Path, int]:
        """An on-disk store of the dataset (named graphs, and their union in the default
        graph) at ``directory``, written unless a complete one is there; and its size. Written
        beside, then renamed: a half-written store is never opened."""
        ready = directory / "tipgraph-size"
        if ready.is_file():
            return directory, int(ready.read_text())
        directory.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=directory.name + ".part-", dir=directory.parent))
        try:
            dump = work.with_suffix(".nq")
            kg.write_nquads(dump)
            if kg.oxigraph is not None:  # the union (default graph) goes in the same bulk load
                union = kg.oxigraph.query(_UNION)
                with dump.open("ab") as out:
                    union.serialize(out, format=ox.RdfFormat.N_TRIPLES)
                del union
            store = ox.Store(str(work))
            store.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
            dump.unlink()
            if kg.oxigraph is None:
                store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                                  for t in store.query(_UNION))
            store.flush()
            size = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))[0].value)
            del store
            (work / "tipgraph-size").write_text(str(size))
            try:
                work.rename(directory)
            except OSError:  # another process wrote it first: theirs is as good
                if not ready.is_file():
                    raise
                shutil.rmtree(work, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(OSError):
                work.with_suffix(".nq").unlink()
            raise
        return directory, int(ready.read_text())

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

    def _run(self, sparql: str, dataset: DatasetSpec | None, base: str | None) -> object:
        options: dict = {"prefixes": PREFIXES, "base_iri": base}
        if dataset is not None:
            options["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs] or [
                _EMPTY]
            options["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs] or [
                _EMPTY]
        return self._store.query(sparql, **options)

    def query(self, sparql: str, dataset: DatasetSpec | None = None,
              max_rows: int | None = None, base: str | None = None) -> Answer:
        with _engine_errors():
            return _answer(self._run(sparql, dataset, base), max_rows)

    def serialized(self, sparql: str, fmt: str, dataset: DatasetSpec | None = None,
                   max_rows: int | None = None,
                   base: str | None = None) -> tuple[bytes, str, int] | None:
        """Written by pyoxigraph (tipgraph.store.oxwrite); a boolean and JSON-LD by
        tipgraph.query.results. None (the rdflib path) for a query that could make RDF-star
        triple terms: that path refuses them."""
        if may_make_triple_terms(sparql):  # the rdflib path refuses them
            return None
        with _engine_errors():
            result = self._run(sparql, dataset, base)
            if isinstance(result, ox.QuerySolutions):
                return oxwrite.write_solutions(result, fmt, max_rows)
            if isinstance(result, ox.QueryTriples) and oxwrite.graph_writer(fmt) is not None:
                return oxwrite.write_triples(result, fmt, max_rows)
            answer = _answer(result, max_rows)
        from tipgraph.query.results import serialize  # (it imports this package)

        body, media_type = serialize(answer, fmt)
        return body, media_type, answer.size

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return self._size

