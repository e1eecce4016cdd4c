"""Push the graph into another SPARQL 1.1 store, replacing one named graph.

How:
1. **Graph Store HTTP Protocol**: ``PUT <graph-store>?graph=<IRI>`` with the whole graph as one
   Turtle body. The store replaces the graph in one transaction: it never holds half of it.
2. **SPARQL Update** when there is no Graph Store URL, or the store answers that it does not
   support it (404, 405, 415, 501): the triples go in chunks of ``INSERT DATA`` into a staging
   graph, then one ``DROP SILENT GRAPH <IRI> ; MOVE <staging> TO <IRI>`` request swaps it in.
   A failure before the swap drops the staging graph; the target graph is never half-written.
3. **Verification**: ``SELECT (COUNT(*) AS ?n) { GRAPH <IRI> { ?s ?p ?o } }`` on the query
   endpoint must give the number of triples sent.

Pushing twice leaves one copy (both ways replace the graph). Blank nodes are skolemised to stable
IRIs first (Virtuoso rejects blank nodes in INSERT DATA, and a skolem IRI is the same on every
push). Queries go as GET or form-encoded POST, never as a direct ``application/sparql-query``
POST (Virtuoso hangs on those). Every request has a timeout; a store that is down or too slow
gives a PushError that says which and where, within that timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from rdflib import Graph, Literal
from rdflib.namespace import XSD
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from tipgraph.errors import TipgraphError
from tipgraph.publish.canonical import skolemise

CHUNK_TRIPLES = 1_000
MIN_CHUNK_TRIPLES = 25
UNSUPPORTED = {404, 405, 406, 415, 501}


class PushError(TipgraphError):
    """The remote store could not be reached, refused the data, or does not hold what was sent."""


@dataclass
class PushReport:
    endpoint: str
    graph: str
    method: str               # "graph-store" or "update"
    triples_sent: int
    bytes_sent: int
    requests: int
    remote_triples: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.remote_triples == self.triples_sent

    def to_text(self) -> str:
        how = ("Graph Store HTTP Protocol PUT" if self.method == "graph-store"
               else "SPARQL Update (staging graph, then MOVE)")
        lines = [f"pushed {self.triples_sent} triples ({self.bytes_sent} bytes) to graph "
                 f"<{self.graph}>",
                 f"  via {how} in {self.requests} request(s), {self.seconds:.2f}s",
                 f"  remote graph now holds {self.remote_triples} triples: "
                 + ("verified" if self.verified else "MISMATCH")]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def make_auth(user: str | None, password: str | None, scheme: str = "digest") -> AuthBase | None:
    if not user:
        return None
    if scheme == "basic":
        return HTTPBasicAuth(user, password or "")
    if scheme == "digest":
        return HTTPDigestAuth(user, password or "")
    raise PushError(f"unknown authentication scheme {scheme!r}: use basic or digest")


def ntriples(graph: Graph) -> str:
    """Sorted N-Triples (also valid Turtle): the same graph always gives the same text."""
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return "\n".join(sorted(line for line in text.splitlines() if line.strip())) + "\n"


def prepare(graph: Graph, skolem_authority: str) -> Graph:
    """The graph with blank nodes replaced by stable skolem IRIs."""
    result = Graph()
    for s, p, o, _ in skolemise(((s, p, o, None) for s, p, o in graph), skolem_authority):
        result.add((s, p, o))
    return result


class _Client:
    def __init__(self, auth: AuthBase | None, timeout: float) -> None:
        self.session = requests.Session()
        self.auth = auth
        self.timeout = timeout
        self.count = 0

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        self.count += 1
        try:
            response = self.session.request(method, url, auth=self.auth, timeout=self.timeout,
                                            **kwargs)
        except requests.ConnectTimeout:
            raise PushError(f"{what}: no connection to {url} within {self.timeout:g}s: is the "
                            "store running and reachable?") from None
        except requests.ReadTimeout:
            raise PushError(f"{what}: {url} did not answer within {self.timeout:g}s: the store "
                            "is down or too slow (raise --timeout if it is just slow)") from None
        except requests.ConnectionError as error:
            reason = "connection refused" if "refused" in str(error).lower() else "cannot connect"
            raise PushError(f"{what}: {reason} at {url}: is the store running, and is the URL "
                            "right?") from None
        except requests.RequestException as error:
            raise PushError(f"{what}: request to {url} failed: {error}") from None
        if response.status_code == 401:
            raise PushError(f"{what}: {url} refused the credentials (401): give --user and "
                            "--password, and --auth basic or digest as the store expects")
        return response


def _fail(what: str, response: requests.Response) -> PushError:
    body = " ".join(response.text.split())[:300]
    return PushError(f"{what}: {response.request.method} {response.url} answered "
                     f"{response.status_code}: {body}")


def count_remote(client: _Client, endpoint: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = client.request("GET", endpoint, "verify", params={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
    if response.status_code != 200:
        raise _fail("verify", response)
    try:
        bindings = response.json()["results"]["bindings"]
        return int(bindings[0]["n"]["value"]) if bindings else 0
    except (ValueError, KeyError, IndexError) as error:
        raise PushError(f"verify: {endpoint} did not return SPARQL JSON results "
                        f"({error}): is it the query endpoint?") from None


def _update(client: _Client, url: str, update: str, what: str) -> None:
    response = client.request("POST", url, what, data={"update": update},
                              headers={"Accept": "*/*"})
    if response.status_code >= 300:
        raise _fail(what, response)


def staging_graph(graph: str, lines: list[str]) -> str:
    """The staging graph of a push: named after its target, then its content (a push that the
    store cut off half-way can leave one behind; the same push again drops it first)."""
    target = hashlib.sha256(graph.encode()).hexdigest()[:12]
    content = hashlib.sha256(f"{graph}\n{''.join(lines)}".encode()).hexdigest()[:24]
    return f"{STAGING_PREFIX}{target}:{content}"


STAGING_PREFIX = "urn:tipgraph:staging:"


def _push_update(client: _Client, update_url: str, graph: str, lines: list[str]) -> None:
    staging = staging_graph(graph, lines)
    _update(client, update_url, f"DROP SILENT GRAPH <{staging}>", "prepare staging graph")
    try:
        # Virtuoso confuses "0"^^xsd:nonNegativeInteger with false when one INSERT DATA holds
        # both (it stores 0 as boolean false): booleans go in chunks of their own.
        boolean = f"^^<{XSD.boolean}>"
        booleans = [line for line in lines if line.rstrip(" .\n").endswith(boolean)]
        others = [line for line in lines if not line.rstrip(" .\n").endswith(boolean)]
        for batch in (others, booleans):
            _insert(client, update_url, staging, batch)
        _update(client, update_url,
                f"DROP SILENT GRAPH <{graph}> ;\nMOVE SILENT GRAPH <{staging}> TO GRAPH <{graph}>",
                "swap the staging graph in")
    except PushError:
        with contextlib.suppress(PushError):
            _update(client, update_url, f"DROP SILENT GRAPH <{staging}>", "clean up")
        raise


def _insert(client: _Client, update_url: str, staging: str, lines: list[str]) -> None:
    start, size = 0, CHUNK_TRIPLES
    while start < len(lines):
        chunk = lines[start:start + size]
        what = f"insert triples {start + 1}-{start + len(chunk)}"
        try:
            _update(client, update_url,
                    f"INSERT DATA {{ GRAPH <{staging}> {{\n{''.join(chunk)}}} }}", what)
        except PushError as error:
            # Virtuoso compiles INSERT DATA to SQL and refuses more than 10,000 lines of it
            # (error SP031): send smaller chunks rather than fail.
            if "SP031" in str(error) and size > MIN_CHUNK_TRIPLES:
                size = max(MIN_CHUNK_TRIPLES, size // 2)
                continue
            raise
        start += len(chunk)


def push(
    graph: Graph,
    endpoint: str,
    graph_iri: str,
    *,
    graph_store: str | None = None,
    update_endpoint: str | None = None,
    auth: AuthBase | None = None,
    timeout: float = 30.0,
    skolem_authority: str = "https://w3id.org/tipgraph/",
    progress: Callable[[str], None] | None = None,
) -> PushReport:
    """Replace ``graph_iri`` in the store with ``graph``; verify the remote count.

    ``endpoint`` is the SPARQL query endpoint (used to verify); ``graph_store`` the Graph Store
    HTTP Protocol endpoint (tried first); ``update_endpoint`` the SPARQL Update endpoint (the
    fallback; default: ``endpoint``).
    """
    started = time.monotonic()
    say = progress or (lambda _: None)
    prepared = prepare(graph, skolem_authority)
    text = ntriples(prepared)
    lines = [line + "\n" for line in text.splitlines() if line.strip()]
    body = text.encode("utf-8")
    client = _Client(auth, timeout)
    try:
        return _push(client, prepared_lines=lines, body=body, endpoint=endpoint,
                     graph_iri=graph_iri, graph_store=graph_store,
                     update_endpoint=update_endpoint, say=say, started=started)
    finally:
        client.close()


def _push(client: _Client, *, prepared_lines: list[str], body: bytes, endpoint: str,
          graph_iri: str, graph_store: str | None, update_endpoint: str | None,
          say: Callable[[str], None], started: float) -> PushReport:
    lines = prepared_lines
    notes: list[str] = []
    method = "update"
    if graph_store:
        say(f"PUT {len(lines)} triples to {graph_store}")
        response = client.request(
            "PUT", graph_store, "graph store PUT", params={"graph": graph_iri}, data=body,
            headers={"Content-Type": "text/turtle; charset=utf-8"})
        if response.status_code < 300:
            method = "graph-store"
        elif response.status_code in UNSUPPORTED:
            notes.append(f"the Graph Store answered {response.status_code}; used SPARQL Update")
        else:
            raise _fail("graph store PUT", response)
    if method == "update":
        target = update_endpoint or endpoint
        say(f"SPARQL Update of {len(lines)} triples to {target}")
        _push_update(client, target, graph_iri, lines)
    remote = count_remote(client, endpoint, graph_iri)
    report = PushReport(endpoint, graph_iri, method, len(lines), len(body), client.count,
                        remote, time.monotonic() - started, notes)
    if not report.verified:
        raise PushError(f"pushed {report.triples_sent} triples to <{graph_iri}> but the store "
                        f"reports {remote}: the remote graph is not what was sent")
    return report


def fetch_graph(endpoint: str, graph_iri: str, *, auth: AuthBase | None = None,
                timeout: float = 30.0, page: int = 5_000) -> Graph:
    """Read a remote graph back, a page at a time (Virtuoso cuts results at ResultSetMaxRows
    without saying so: each page stays under it, and paging stops at the first short page)."""
    client = _Client(auth, timeout)
    try:
        return _fetch(client, endpoint, graph_iri, page)
    finally:
        client.close()


def _fetch(client: _Client, endpoint: str, graph_iri: str, page: int) -> Graph:
    result = Graph()
    offset = 0
    while True:
        query = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT ?s ?p ?o WHERE {{ GRAPH "
                 f"<{graph_iri}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o LIMIT {page} "
                 f"OFFSET {offset} }} }}")
        response = client.request("GET", endpoint, "fetch", params={"query": query},
                                  headers={"Accept": "application/n-triples"})
        if response.status_code != 200:
            raise _fail("fetch", response)
        chunk = Graph().parse(data=response.text, format="nt")
        for triple in chunk:
            result.add(triple)
        if len(chunk) < page:
            return result
        offset += page


_INTEGER_TYPES = {XSD[name] for name in (
    "integer", "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte")}


def normalise_store_quirks(graph: Graph) -> Graph:
    """The graph as stores give it back, for comparing a round trip: language tags in lower case
    (RDF compares them case-insensitively; Virtuoso lowers them) and integer-derived datatypes
    as xsd:integer (Oxigraph stores ``"47"^^xsd:nonNegativeInteger`` as ``47``, an
    xsd:integer). Same values, other terms; everything else must come back unchanged."""
    result = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.language:
            o = Literal(str(o), lang=o.language.lower())
        elif isinstance(o, Literal) and o.datatype in _INTEGER_TYPES:
            o = Literal(str(int(str(o))), datatype=XSD.integer)
        result.add((s, p, o))
    return result


__all__ = ["PushError", "PushReport", "count_remote", "fetch_graph", "make_auth",
           "normalise_store_quirks", "ntriples", "prepare", "push"]
