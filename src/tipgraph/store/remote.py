"""A remote SPARQL 1.1 store (``store = "sparql"``, ``endpoint = URL``): how tipgraph outgrows
one machine (Oxigraph server, Virtuoso, GraphDB, QLever, any SPARQL 1.1 service).

At start tipgraph pushes its dataset there (every named graph, through the Graph Store HTTP
Protocol or SPARQL Update: tipgraph.publish.push) unless the store already holds this data
version, then answers queries, entity pages and graph views from it.

- **The dataset.** Each named graph is pushed under its own name, and their merge (a set, as
  the local default graph) as ``urn:tipgraph:union``; a small manifest graph
  (``urn:tipgraph:remote``) records the data version and the graphs. A query without a dataset
  is sent with ``default-graph-uri=urn:tipgraph:union`` and a ``named-graph-uri`` for each
  pushed graph (stores' own union default graphs are bags, Virtuoso's holds its system graphs,
  and Oxigraph hides the named graphs once a default graph is named). Blank nodes travel as
  skolem IRIs (``.../.well-known/genid/...``), the same in every graph, and come back as blank
  nodes.
- **Safety.** The query policy runs before a query gets here (SERVICE, LOAD, updates and
  non-local graphs are refused). A request to the store carries the query and its dataset
  parameters only: no client header, no cookie, no credentials (those are only used to push).
- **Protocol.** Queries go as form-encoded POST (Virtuoso hangs on a direct
  ``application/sparql-query`` POST). Answers are read as SPARQL JSON results or N-Triples.
- **Limits.** Each request has the query time limit as its timeout (504 past it). A store that
  cuts results silently (Virtuoso's ``ResultSetMaxRows``, announced by ``X-SPARQL-MaxRows``) is
  detected: the answer is refused rather than given short.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import requests
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS, XSD
from rdflib.term import Node

from tipgraph.errors import ConfigError, QueryError
from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query.policy import DatasetSpec, _scan
from tipgraph.store.base import Answer, Store, take, too_many

log = logging.getLogger(__name__)

SKOLEM_AUTHORITY = "https://w3id.org/tipgraph/"
SKOLEM = SKOLEM_AUTHORITY + ".well-known/genid/"
MANIFEST = "urn:tipgraph:remote"
UNION = "urn:tipgraph:union"
M_VERSION = "urn:tipgraph:remote#version"
M_GRAPH = "urn:tipgraph:remote#graph"
M_QUADS = "urn:tipgraph:remote#quads"
ACCEPT_RESULTS = "application/sparql-results+json"
ACCEPT_GRAPH = "application/n-triples, text/plain;q=0.9, text/turtle;q=0.5"
_PROLOGUE = "".join(f"PREFIX {prefix}: <{ns}>\n" for prefix, ns in PREFIXES.items())


def from_json(term: Mapping[str, str] | None) -> Node | None:
    """A term of SPARQL JSON results as rdflib gives it (skolem IRIs back to blank nodes)."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return BNode(value[len(SKOLEM):]) if value.startswith(SKOLEM) else URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if "xml:lang" in term:
        return Literal(value, lang=term["xml:lang"])
    datatype = term.get("datatype")
    if datatype is None or datatype == str(XSD.string):
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


def _unskolem(node: Node) -> Node:
    if isinstance(node, URIRef) and str(node).startswith(SKOLEM):
        return BNode(str(node)[len(SKOLEM):])
    return node


def _plain(node: Node) -> Node:
    if isinstance(node, Literal) and node.datatype == XSD.string:
        return Literal(str(node))
    return _unskolem(node)


class RemoteStore(Store):
    backend = "sparql"

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigError(f"store = sparql needs endpoint = the store's SPARQL query URL "
                              f"(http:// or https://), not {endpoint!r}")
        self.endpoint = endpoint
        self.timeout = timeout
        self._local = threading.local()  # one HTTP session (keep-alive) per thread
        self.version: str | None = None
        self._graphs: list[str] | None = None
        self._quads = 0
        self.default_dataset: DatasetSpec | None = None  # sent with a query that has none

    @property
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep none
            session.trust_env = False  # no proxy or netrc credentials from the environment
        return session

    # -- the protocol ------------------------------------------------------------------------
    def _post(self, sparql: str, dataset: DatasetSpec | None, base: str | None,
              timeout: float | None = None, form_name: str | None = None) -> requests.Response:
        prologue = (f"BASE <{base}>\n" if base else "") + _PROLOGUE
        form: list[tuple[str, str]] = [("query", prologue + sparql)]
        if dataset is None and self.default_dataset is not None:
            form += [("default-graph-uri", g) for g in self.default_dataset.default_graphs]
            form += [("named-graph-uri", g) for g in self.default_dataset.named_graphs]
        elif dataset is not None:  # an empty list would mean "the store's default": never empty
            form += [("default-graph-uri", g) for g in dataset.default_graphs or (MANIFEST,)]
            form += [("named-graph-uri", g) for g in dataset.named_graphs or (MANIFEST,)]
        limit = self.timeout if timeout is None else timeout
        try:
            accept = ACCEPT_GRAPH if form_name in {"CONSTRUCT", "DESCRIBE"} else ACCEPT_RESULTS
            return self._session.post(self.endpoint, data=form, timeout=(10, limit),
                                      headers={"Accept": accept})
        except requests.ReadTimeout:
            raise QueryError(f"the remote store did not answer within {limit:g} s (the "
                             "query_timeout limit): make the query more selective or add a "
                             "LIMIT", status=504) from None
        except requests.RequestException as error:
            log.warning("remote store %s unreachable: %s", self.endpoint, error)
            raise QueryError(f"the remote store at {self.endpoint} cannot be reached: try "
                             "again later", status=502) from None

    def query(self, sparql: str, dataset: DatasetSpec | None = None,
              max_rows: int | None = None, base: str | None = None) -> Answer:
        form_name = _scan(sparql, base)[0]  # Virtuoso answers CONSTRUCT in JSON if let
        response = self._post(sparql, dataset, base, form_name=form_name)
        if response.status_code >= 400:
            detail = " ".join(response.text.split())[:300]
            status = 400 if response.status_code in {400, 422} else 502
            if status == 400:
                raise QueryError(f"the store refused the query: {detail}")
            raise QueryError(f"the remote store failed ({response.status_code}): {detail}",
                             status=502)
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        cut = response.headers.get("X-SPARQL-MaxRows")
        if media in {"application/sparql-results+json", "application/json"}:
            data = response.json()
            if "boolean" in data:
                return Answer("boolean", boolean=bool(data["boolean"]))
            names = list(data.get("head", {}).get("vars", []))
            bindings = data.get("results", {}).get("bindings", [])
            self._check_cut(cut, len(bindings), max_rows)
            rows = (tuple(from_json(b.get(v)) for v in names) for b in bindings)
            return Answer("bindings", variables=names, rows=take(rows, max_rows))
        fmt = {"application/n-triples": "nt", "text/plain": "nt", "text/turtle": "turtle",
               "text/n3": "n3", "application/rdf+xml": "xml"}.get(media)
        if fmt is None:
            raise QueryError(f"the remote store answered {media or 'no media type'}, which "
                             "tipgraph does not read", status=502)
        graph = Graph().parse(data=response.content, format=fmt)
        self._check_cut(cut, len(graph), max_rows)
        triples = ((_plain(s), p, _plain(o)) for s, p, o in graph)
        return Answer("graph", triples=take(triples, max_rows))

    @staticmethod
    def _check_cut(cut: str | None, size: int, max_rows: int | None) -> None:
        if cut is not None and cut.isdigit() and size >= int(cut):
            if max_rows is not None and int(cut) > max_rows:
                raise too_many(max_rows)
            raise QueryError(f"the remote store cut the result at {cut} rows (its own limit, "
                             "e.g. Virtuoso's ResultSetMaxRows): add a LIMIT and an OFFSET "
                             "to page through it", status=502)

    def select(self, sparql: str, max_rows: int | None = None) -> list[dict[str, Node | None]]:
        answer = self.query(sparql, max_rows=max_rows)
        return [dict(zip(answer.variables, row, strict=True)) for row in answer.rows]

    def _select_plain(self, sparql: str) -> list[dict[str, Node | None]]:
        """A SELECT over the store's own dataset (the manifest is in no default graph)."""
        default, self.default_dataset = self.default_dataset, None
        try:
            return self.select(sparql)
        finally:
            self.default_dataset = default

    # -- the manifest: what tipgraph pushed ----------------------------------------------------
    def remote_version(self) -> str | None:
        rows = self._select_plain(f"SELECT ?v WHERE {{ GRAPH <{MANIFEST}> {{ <{MANIFEST}> "
                           f"<{M_VERSION}> ?v }} }}")
        return str(rows[0]["v"]) if rows else None

    def _read_manifest(self) -> None:
        rows = self._select_plain(f"SELECT ?g ?n WHERE {{ GRAPH <{MANIFEST}> {{ <{MANIFEST}> "
                           f"<{M_GRAPH}> ?g . OPTIONAL {{ <{MANIFEST}> <{M_QUADS}> ?n }} }} }}")
        self._graphs = sorted(str(r["g"]) for r in rows)
        self._quads = int(str(rows[0]["n"])) if rows and rows[0]["n"] is not None else 0

    def graph_names(self) -> list[str]:
        if self._graphs is None:
            self._read_manifest()
        return list(self._graphs or [])

    def __len__(self) -> int:
        if self._graphs is None:
            self._read_manifest()
        return self._quads

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()

    # -- pages: the part of the dataset one resource's page shows -----------------------------
    def excerpt(self, kg: KnowledgeGraph, iri: URIRef) -> KnowledgeGraph:
        """A small knowledge graph holding what the store says about ``iri`` (facts in and
        out, in every graph; the blank nodes hanging from it; the labels of its neighbours and
        properties): tipgraph.publish.describe works on it as on the whole graph."""
        node = f"<{iri}>"
        labels = " ".join(f"<{p}>" for p in (SKOS.prefLabel, RDFS.label))
        sparql = f"""SELECT ?g ?s ?p ?o WHERE {{
  {{ GRAPH ?g {{ {node} ?p ?o }} BIND({node} AS ?s) }}
  UNION {{ GRAPH ?g {{ ?s ?p {node} }} BIND({node} AS ?o) }}
  UNION {{ GRAPH ?g {{ {node} ?via ?s . ?s ?p ?o }}
           FILTER(isBlank(?s) || STRSTARTS(STR(?s), "{SKOLEM}")) }}
  UNION {{ {{ SELECT DISTINCT ?s WHERE {{
             {{ GRAPH ?h {{ {node} ?s ?x }} }} UNION {{ GRAPH ?h {{ {node} ?x ?s }} }}
             UNION {{ GRAPH ?h {{ ?s ?x {node} }} }} UNION {{ GRAPH ?h {{ ?x ?s {node} }} }} }} }}
           VALUES ?p {{ {labels} }} GRAPH ?g {{ ?s ?p ?o }} }}
}}"""  # noqa: S608 (the IRI matched the page path pattern; not user SPARQL)
        dataset = Dataset(default_union=True)
        for row in self.select(sparql):
            g, s, p, o = row["g"], row["s"], row["p"], row["o"]
            if None in (g, s, p, o):
                continue
            dataset.graph(URIRef(str(g))).add((_plain(s), p, _plain(o)))  # type: ignore[arg-type]
        if not len(dataset) and str(iri) in self.graph_names():
            dataset.graph(iri)  # a graph by that name exists (an empty view of it is enough)
        return KnowledgeGraph(dataset, kg.sources, kg.version, kg.config)

    def graph_source(self) -> _Rows:
        """What tipgraph.publish.graphviews reads the relationship graph through."""
        return _Rows(self)


class _Rows:
    """Runs the graph view's SELECT queries on the store; rows as attribute namespaces. A query
    the store cannot run (Virtuoso refuses a transitive path with neither end bound) runs on
    the union graph read from the store, a page at a time, once."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self._copy: Any = None

    def query(self, sparql: str) -> list[Any]:
        from types import SimpleNamespace

        if self._copy is None:
            try:
                return [SimpleNamespace(**row) for row in self.store.select(sparql)]
            except QueryError as error:
                if error.status != 502:
                    raise
                log.info("the store refused a graph-view query (%s): reading the union", error)
                self._copy = self._read_union()
        return self._copy.query(sparql)

    def _read_union(self) -> Any:
        """One CONSTRUCT (no ORDER BY paging: Virtuoso sorts at most 10,000 rows); a store
        that cuts it says so (X-SPARQL-MaxRows) and the view fails rather than be partial."""
        from tipgraph.publish.graphviews import _Sparql

        union = Graph()
        for triple in self.store.query("CONSTRUCT WHERE { ?s ?p ?o }").triples:
            union.add(triple)
        return _Sparql(union)


# -- pushing the dataset ----------------------------------------------------------------------


def manifest(kg: KnowledgeGraph, graphs: Iterable[str]) -> Graph:
    graph = Graph()
    subject = URIRef(MANIFEST)
    graph.add((subject, URIRef(M_VERSION), Literal(kg.version)))
    graph.add((subject, URIRef(M_QUADS), Literal(len(kg.dataset), datatype=XSD.integer)))
    for name in graphs:
        graph.add((subject, URIRef(M_GRAPH), URIRef(name)))
    return graph


def publish(kg: KnowledgeGraph, store: RemoteStore, settings: Mapping[str, Any],
            say: Any = None) -> list[Any]:
    """Push every named graph of ``kg`` to the store, then the manifest (last: a store holding
    this version's manifest holds all of this version's graphs). Returns the push reports."""
    from tipgraph.publish.push import make_auth, push

    auth = make_auth(settings.get("remote_user") or None, settings.get("remote_password"),
                     settings.get("remote_auth") or "digest")
    options = {"graph_store": settings.get("remote_graph_store") or None,
               "update_endpoint": settings.get("remote_update") or None, "auth": auth,
               "timeout": max(60.0, float(settings.get("query_timeout", 30))),
               "skolem_authority": SKOLEM_AUTHORITY}
    names = sorted(str(g.identifier) for g in kg.dataset.graphs()
                   if isinstance(g.identifier, URIRef) and len(g)
                   and not str(g.identifier).startswith("urn:x-rdflib:"))
    reports = []
    union = Graph()
    for name in names:
        if say:
            say(f"pushing <{name}>")
        graph = skolem(kg.graph(URIRef(name)))
        union += graph
        reports.append(push(graph, store.endpoint, name, **options))
    reports.append(push(union, store.endpoint, UNION, **options))
    reports.append(push(manifest(kg, names), store.endpoint, MANIFEST, **options))
    return reports


def skolem(graph: Graph) -> Graph:
    """The graph with each blank node as an IRI made from its label: the same node gets the
    same IRI in every graph it appears in (a push's own skolemising is per graph)."""
    def iri(node: Node) -> Node:
        return URIRef(SKOLEM + str(node)) if isinstance(node, BNode) else node

    result = Graph()
    for s, p, o in graph:
        result.add((iri(s), p, iri(o)))
    return result


def choose_default_dataset(store: RemoteStore) -> DatasetSpec:
    """The union as the default graph, the pushed graphs as the named graphs, listed one by
    one: Oxigraph hides every named graph once a default-graph-uri is given, and Virtuoso
    shows every graph it has (the union, the manifest, its system graphs) unless told which."""
    return DatasetSpec((UNION,), tuple(store.graph_names()))


@contextlib.contextmanager
def push_lock(settings: Mapping[str, Any], endpoint: str) -> Iterator[None]:
    """Held while one process checks the remote store's data version and pushes: the server
    processes of ``tipgraph serve --processes N`` reload together, and the first pushes while
    the others wait, then find the data there (two pushes of the same graphs at once could mix
    their staging graphs)."""
    folder = Path(settings.get("cache_dir") or tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    with open(folder / f"tipgraph-push-{name}.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def connect(kg: KnowledgeGraph, settings: Mapping[str, Any]) -> RemoteStore:
    """The remote store, holding this data version (pushed now if it does not yet)."""
    store = RemoteStore(str(settings.get("endpoint") or ""), float(settings["query_timeout"]))
    with push_lock(settings, store.endpoint):
        _hold_this_version(kg, store, settings)
    store.version = kg.version
    store._read_manifest()
    store.default_dataset = choose_default_dataset(store)
    return store


def _hold_this_version(kg: KnowledgeGraph, store: RemoteStore,
                       settings: Mapping[str, Any]) -> None:
    try:
        version = store.remote_version()
    except QueryError as error:
        raise ConfigError(f"store = sparql: {error}") from None
    if version == kg.version:
        return
    if not settings.get("remote_push", True):
        raise ConfigError(f"the store at {store.endpoint} holds data version "
                          f"{(version or 'none')[:16]}, not {kg.version[:16]}: push the "
                          "data (remote_push = true) or point endpoint at a store that "
                          "holds it")
    log.info("pushing data version %s to %s", kg.version[:16], store.endpoint)
    publish(kg, store, settings, say=log.info)
    store.version = store.remote_version()
    if store.version != kg.version:
        raise ConfigError(f"pushed to {store.endpoint} but it reports data version "
                          f"{store.version!r}")
