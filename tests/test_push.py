"""Push to real stores: Oxigraph server and Virtuoso (tests/servers.py starts them)."""

from __future__ import annotations

import socket
import threading

import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from tests.conftest import REPO
from tests.servers import free_port
from tipgraph.cli import main
from tipgraph.publish.push import (
    PushError,
    count_remote,
    fetch_graph,
    make_auth,
    normalise_store_quirks,
    prepare,
    push,
    staging_graph,
)
from tipgraph.publish.push import _Client as Client

GRAPH = "https://w3id.org/tipgraph/graph/pushed"
SKOLEM = "https://w3id.org/tipgraph/"


@pytest.fixture(scope="module")
def data(kg) -> Graph:
    """The asserted data plus what stores find hard: a blank node, an upper-case language tag."""
    graph = Graph()
    for triple in kg.asserted():
        graph.add(triple)
    node = BNode()
    subject = URIRef("https://w3id.org/tipgraph/id/push-test")
    graph.add((subject, URIRef("https://w3id.org/tipgraph/ontology#count"), node))
    graph.add((node, URIRef("https://w3id.org/tipgraph/ontology#countValue"), Literal(47)))
    graph.add((subject, URIRef("http://www.w3.org/2004/02/skos/core#altLabel"),
               Literal("Mixed Case", lang="en-GB")))
    return graph


def _stores(request):
    if request.param == "oxigraph":
        server = request.getfixturevalue("oxigraph_server")
        return server, None, server.update_url
    server = request.getfixturevalue("virtuoso_server")
    return server, make_auth(server.user, server.password, "digest"), server.update_url


@pytest.fixture(params=["oxigraph", "virtuoso"])
def store(request):
    return _stores(request)


@pytest.mark.parametrize("via", ["graph-store", "update"])
def test_push_round_trips_and_is_idempotent(store, data, via):
    server, auth, update_url = store
    options = ({"graph_store": server.graph_store_url} if via == "graph-store"
               else {"update_endpoint": update_url})
    graph = f"{GRAPH}/{via}"
    first = push(data, server.query_url, graph, auth=auth, skolem_authority=SKOLEM, **options)
    assert first.method == via and first.verified
    assert first.triples_sent == len(data)
    second = push(data, server.query_url, graph, auth=auth, skolem_authority=SKOLEM, **options)
    assert second.remote_triples == len(data)  # one copy, not two
    back = fetch_graph(server.query_url, graph, auth=auth, page=500)
    expected = normalise_store_quirks(prepare(data, SKOLEM))
    assert isomorphic(normalise_store_quirks(back), expected)
    assert not [t for t in back if any(isinstance(x, BNode) for x in t)]


def test_push_replaces_what_the_graph_held(store, data):
    server, auth, update_url = store
    graph = f"{GRAPH}/replaced"
    small = Graph()
    small.add((URIRef("http://example.org/old"), URIRef("http://example.org/p"), Literal("x")))
    push(small, server.query_url, graph, auth=auth, graph_store=server.graph_store_url)
    report = push(data, server.query_url, graph, auth=auth, update_endpoint=update_url)
    assert report.remote_triples == len(data)
    back = fetch_graph(server.query_url, graph, auth=auth)
    assert (URIRef("http://example.org/old"), None, None) not in back


def test_falls_back_to_update_when_there_is_no_graph_store(oxigraph_server, data):
    report = push(data, oxigraph_server.query_url, f"{GRAPH}/fallback",
                  graph_store=oxigraph_server.base_url + "/no-graph-store-here",
                  update_endpoint=oxigraph_server.update_url)
    assert report.method == "update" and report.verified
    assert "used SPARQL Update" in report.notes[0]


def test_wrong_password_is_a_clear_error(virtuoso_server, data):
    with pytest.raises(PushError, match="refused the credentials"):
        push(data, virtuoso_server.query_url, f"{GRAPH}/denied",
             graph_store=virtuoso_server.graph_store_url,
             auth=make_auth("dba", "not-the-password", "digest"), timeout=20)


def test_failed_update_leaves_the_target_graph_whole(oxigraph_server, data):
    """A push that fails half-way (a bad chunk) leaves the old graph as it was."""
    graph = f"{GRAPH}/atomic"
    push(data, oxigraph_server.query_url, graph, update_endpoint=oxigraph_server.update_url)
    client = Client(None, 10)
    before = count_remote(client, oxigraph_server.query_url, graph)
    broken = Graph()
    for i in range(5000):  # more than one chunk; the second chunk carries a literal that breaks
        broken.add((URIRef(f"http://example.org/s{i}"), URIRef("http://example.org/p"),
                    Literal(i)))
    from tipgraph.publish import push as push_module

    original = push_module.ntriples

    def corrupt(graph):
        lines = original(graph).splitlines(keepends=True)
        lines[3000] = "<http://example.org/bad> <http://example.org/p> \"unclosed .\n"
        return "".join(lines)

    push_module.ntriples = corrupt
    try:
        with pytest.raises(PushError, match="insert triples"):
            push(broken, oxigraph_server.query_url, graph,
                 update_endpoint=oxigraph_server.update_url)
    finally:
        push_module.ntriples = original
    assert count_remote(client, oxigraph_server.query_url, graph) == before
    staging = client.request("GET", oxigraph_server.query_url, "check", params={
        "query": "ASK { GRAPH ?g { ?s ?p ?o } "
                 f"FILTER(STRSTARTS(STR(?g), '{staging_graph(graph, [])[:-24]}')) }}"},
        headers={"Accept": "application/sparql-results+json"}).json()
    client.close()
    assert staging["boolean"] is False


def test_down_remote_is_a_clear_error(data):
    port = free_port()  # nothing listens there
    with pytest.raises(PushError, match="connection refused"):
        push(data, f"http://127.0.0.1:{port}/query", GRAPH,
             graph_store=f"http://127.0.0.1:{port}/store", timeout=5)


def test_silent_remote_times_out_with_a_clear_error(data):
    """A server that accepts the connection but never answers: the timeout ends it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(PushError, match="did not answer within 1s"):
            push(data, f"http://127.0.0.1:{port}/query", GRAPH,
                 graph_store=f"http://127.0.0.1:{port}/store", timeout=1)
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_cli_push_reports_what_it_sent(oxigraph_server, kg):
    result = CliRunner().invoke(main, [
        "--root", str(REPO), "push", "--endpoint", oxigraph_server.query_url,
        "--graph", f"{GRAPH}/cli", "--graph-store", oxigraph_server.graph_store_url])
    assert result.exit_code == 0, result.output
    assert f"pushed {len(kg.asserted())} triples" in result.stdout
    assert "verified" in result.stdout


def test_cli_push_to_a_down_store_exits_2(kg):
    result = CliRunner().invoke(main, [
        "--root", str(REPO), "push", "--endpoint", f"http://127.0.0.1:{free_port()}/query",
        "--graph", GRAPH, "--timeout", "3"])
    assert result.exit_code == 2
    assert "connection refused" in result.output and "Traceback" not in result.output
