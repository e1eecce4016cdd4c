"""The SPARQL 1.1 Protocol on a real server, on every store backend.

After the W3C protocol test suite (sparql11/protocol/manifest.ttl: query_get, query_post_form,
query_dataset_*, query_multiple_dataset, query_content_type_*, bad_query_*, bad_update_*), with
this dataset's own graphs in place of the suite's data files; then the safety properties: no
outbound connection whatever the query, time limit with the worker killed, parallel answers.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from urllib.parse import quote, urlencode

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from tests.conftest import app_settings, fetch, running_server
from tipgraph.model.namespaces import GRAPH_CURATED, GRAPH_INFERRED, GRAPH_ONTOLOGY
from tipgraph.query.offline import run_query
from tipgraph.store import BACKENDS, open_store
from tipgraph.web.app import create_app

JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, kg, config):
    app = create_app(app_settings(config, store=request.param, query_workers=2,
                                  query_timeout=4.0), kg=kg)
    with running_server(app) as base:
        yield base


def get(server, query, accept=JSON, **params):
    url = f"{server}/sparql?{urlencode({'query': query, **params}, doseq=True)}"
    return fetch(url, headers={"Accept": accept})


def post_direct(server, query, params="", accept=JSON, content_type="application/sparql-query"):
    return fetch(f"{server}/sparql{params}", "POST", query.encode("utf-8"),
                 {"Content-Type": content_type, "Accept": accept})


def boolean(reply) -> bool:
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["boolean"]


def count(reply) -> int:
    assert reply.status == 200, reply.text
    return int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"])


def assert_error(reply, status):
    assert reply.status == status, reply.text
    assert reply.media_type == "application/json"
    assert json.loads(reply.body) == {"error": json.loads(reply.body)["error"], "status": status}


# --- positive cases of the W3C protocol suite ---------------------------------------------------

def test_query_get(server):
    assert boolean(get(server, "ASK {}")) is True


def test_query_post_form(server):
    reply = fetch(f"{server}/sparql", "POST", urlencode({"query": "ASK {}"}),
                  {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON})
    assert boolean(reply) is True


def test_form_posts_through_the_answer_cache_and_the_fast_lane(server, kg):
    """Through waitress: a plain form POST twice (the lane, then the answer cache) and a form
    POST with a dataset parameter, whose body both layers read before Flask reads it again."""
    plain = urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a owl:Class }"})
    with_dataset = urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                              "default-graph-uri": str(GRAPH_ONTOLOGY)})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON}
    for body, expected in ((plain, None), (with_dataset, len(kg.graph(GRAPH_ONTOLOGY)))):
        first, again = (fetch(f"{server}/sparql", "POST", body, headers) for _ in range(2))
        assert first.body == again.body and count(first) > 0
        assert expected is None or count(first) == expected
        assert first.headers["X-Tipgraph-Cache"] in {"miss", "hit"}
        assert again.headers["X-Tipgraph-Cache"] == "hit"
        assert first.headers["ETag"] == again.headers["ETag"]


def test_query_post_direct(server):
    assert boolean(post_direct(server, "ASK { ?s a owl:Class }")) is True


def test_query_dataset_default_graph(server, kg):
    reply = post_direct(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                        f"?default-graph-uri={quote(str(GRAPH_ONTOLOGY), safe='')}")
    assert count(reply) == len(kg.graph(GRAPH_ONTOLOGY))


def test_query_dataset_default_graphs(server, kg):
    # one triple from each graph must both be visible in the merged default graph
    ontology_class = next(iter(kg.graph(GRAPH_ONTOLOGY).subjects(RDF.type, OWL.Class)))
    curated_subject = next(iter(kg.graph(GRAPH_CURATED).subjects()))
    query = f"ASK {{ <{ontology_class}> a owl:Class . <{curated_subject}> ?p ?o }}"
    both = get(server, query, **{"default-graph-uri": [str(GRAPH_ONTOLOGY), str(GRAPH_CURATED)]})
    one = get(server, query, **{"default-graph-uri": [str(GRAPH_ONTOLOGY)]})
    assert boolean(both) is True
    assert boolean(one) is (curated_subject in set(kg.graph(GRAPH_ONTOLOGY).subjects()))


def test_query_dataset_named_graphs(server):
    names = [str(GRAPH_ONTOLOGY), str(GRAPH_INFERRED)]
    reply = get(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                **{"named-graph-uri": names})
    assert reply.status == 200
    found = {b["g"]["value"] for b in json.loads(reply.body)["results"]["bindings"]}
    assert found == set(names)
    # named graphs only: the default graph is empty
    assert boolean(get(server, "ASK { ?s ?p ?o }", **{"named-graph-uri": names})) is False


def test_query_dataset_full(server, kg):
    small, other = sorted(kg.data_graph_names(), key=lambda name: len(kg.graph(name)))[:2]
    reply = get(server, "SELECT ?g (COUNT(*) AS ?n) WHERE { ?x ?y ?z GRAPH ?g { ?s ?p ?o } } "
                        "GROUP BY ?g", format="json",
                **{"default-graph-uri": str(other), "named-graph-uri": [str(small)]})
    assert reply.status == 200, reply.text
    rows = json.loads(reply.body)["results"]["bindings"]
    assert [r["g"]["value"] for r in rows] == [str(small)]
    assert int(rows[0]["n"]["value"]) == len(kg.graph(other)) * len(kg.graph(small))


def test_query_multiple_dataset_protocol_wins_over_from(server, kg):
    has_class = (None, RDF.type, OWL.Class) in kg.inferred
    reply = post_direct(server, f"ASK FROM <{GRAPH_ONTOLOGY}> {{ ?c a owl:Class }}",
                        f"?default-graph-uri={quote(str(GRAPH_INFERRED), safe='')}")
    assert boolean(reply) is has_class
    assert boolean(post_direct(server, f"ASK FROM <{GRAPH_ONTOLOGY}> {{ ?c a owl:Class }}"))


@pytest.mark.parametrize("query, allowed", [
    ("SELECT (1 AS ?value) {}", {JSON, "application/sparql-results+xml", "text/csv",
                                 "text/tab-separated-values"}),
    ("ASK {}", {JSON, "application/sparql-results+xml"}),
    ("DESCRIBE <http://example.org/>", {"application/rdf+xml", "text/turtle",
                                         "application/n-triples"}),
    ("CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } WHERE {}",
     {"application/rdf+xml", "text/turtle", "application/n-triples"}),
])
def test_query_content_type(server, query, allowed):
    reply = post_direct(server, query, accept="*/*")
    assert reply.status == 200 and reply.media_type in allowed
    assert "Accept" in reply.headers.get("Vary", "")


# --- negative cases of the W3C protocol suite --------------------------------------------------

def test_bad_query_method(server):
    assert_error(fetch(f"{server}/sparql?query=ASK%20%7B%7D", "PUT",
                       headers={"Accept": "application/json"}), 405)


def test_bad_multiple_queries(server):
    reply = fetch(f"{server}/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D")
    assert_error(reply, 400)


@pytest.mark.parametrize("content_type, body", [
    ("text/plain", b"ASK {}"),                                   # bad_query_wrong_media_type
    (None, b"query=ASK%20%7B%7D"),                               # bad_query_missing_form_type
    (None, b"ASK {}"),                                           # bad_query_missing_direct_type
    ("application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16")),  # non_utf8
])
def test_bad_query_media_type(server, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    assert_error(fetch(f"{server}/sparql", "POST", body, headers), 415)


def test_bad_query_syntax_reports_line_and_column(server):
    reply = get(server, "SELECT ?s\nWHERE {\n  ?s ?p\n}")
    assert_error(reply, 400)
    assert "line 4" in json.loads(reply.body)["error"] or "line 3" in json.loads(reply.body)[
        "error"]
    assert "column" in json.loads(reply.body)["error"]


@pytest.mark.parametrize("method, url, body, content_type", [
    ("GET", "/sparql?update=CLEAR%20ALL", None, None),                        # bad_update_get
    ("POST", "/sparql", "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
     "application/x-www-form-urlencoded"),                                   # multiple updates
    ("POST", "/sparql", "update=CLEAR%20ALL", "application/x-www-form-urlencoded"),
    ("POST", "/sparql", "CLEAR ALL", "application/sparql-update"),
    ("POST", "/sparql", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-query"),
    ("POST", "/sparql", "LOAD <http://127.0.0.1:9/x>", "application/sparql-query"),
])
def test_updates_are_refused(server, method, url, body, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    reply = fetch(server + url, method, body, headers)
    assert_error(reply, 403)
    assert "read-only" in json.loads(reply.body)["error"]
    assert boolean(get(server, "ASK { <urn:a> <urn:b> <urn:c> }")) is False


def test_cors_for_any_origin_without_credentials(server):
    reply = fetch(f"{server}/sparql?query=ASK%7B%7D", headers={"Origin": "https://elsewhere.example"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in reply.headers
    preflight = fetch(f"{server}/sparql", "OPTIONS", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_oversized_requests_get_413(server, config):
    big = "ASK {} #" + "x" * config["max_request_bytes"]
    assert_error(post_direct(server, big), 413)
    assert_error(fetch(f"{server}/sparql?query={quote(big)}"), 413)


# --- safety: nothing leaves the machine --------------------------------------------------------

@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def accepted(sock) -> int:
    n = 0
    while True:
        try:
            connection, _ = sock.accept()
        except BlockingIOError:
            return n
        connection.close()
        n += 1


def outbound_attempts(url: str) -> list[tuple[str, dict]]:
    """Every way a query could make an engine fetch ``url``: (query, protocol parameters)."""
    return [
        (f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}", {}),
        (f"select * where {{ service <{url}> {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * WHERE {{ BIND(<{url}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}", {}),
        (f"PREFIX r: <{url}> SELECT * WHERE {{ SERVICE r: {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}", {}),
        (f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
        (f"PREFIX r: <{url}> SELECT * FROM r:data WHERE {{ ?s ?p ?o }}", {}),
        ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": url}),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": url}),
        (f"LOAD <{url}>", {}),
        (f"DESCRIBE <{url}>", {"default-graph-uri": url}),
    ]


def test_no_outbound_request_whatever_the_query(server, listener):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    for query, params in outbound_attempts(url):
        reply = get(server, query, **params)
        assert reply.status in {400, 403}, (query, reply.status, reply.text)
        assert set(json.loads(reply.body)) == {"error", "status"}
    # the listener is reachable (a connection from here is counted), and the server made none
    assert accepted(listener) == 0
    socket.create_connection(listener.getsockname(), timeout=5).close()
    assert accepted(listener) == 1


def test_query_text_mentioning_service_is_not_refused(server):
    query = ('SELECT ?service WHERE { BIND("SERVICE <http://x/> {}" AS ?service) } '
             "# SERVICE in a comment")
    reply = get(server, query)
    assert reply.status == 200, reply.text


# --- bounded queries --------------------------------------------------------------------------

def worker_pids(server) -> set[int]:
    return set(json.loads(fetch(f"{server}/health").body)["query"]["workers"]["pids"])


def test_runaway_query_is_stopped_and_others_are_answered(server):
    before = worker_pids(server)
    outcome: dict = {}
    runaway = threading.Thread(target=lambda: outcome.update(reply=get(server, RUNAWAY)))
    runaway.start()
    meanwhile = get(server, "ASK { ?s a owl:Class }")
    still_running = runaway.is_alive()
    runaway.join(60)
    assert boolean(meanwhile) is True and still_running
    assert_error(outcome["reply"], 504)
    assert "query_timeout" in json.loads(outcome["reply"].body)["error"]
    killed = before - worker_pids(server)
    assert len(killed) == 1  # the worker that ran it was replaced...
    pid = killed.pop()
    with pytest.raises(ProcessLookupError):  # ...and is gone: its CPU is free
        os.kill(pid, 0)
    assert boolean(get(server, "ASK {}")) is True  # and the service goes on


def test_concurrent_requests_get_their_own_answers(server, kg):
    queries = [f"SELECT ?c WHERE {{ ?c a owl:Class }} ORDER BY ?c LIMIT {n} OFFSET {n}"
               for n in range(1, 17)]
    store = open_store(kg, "memory")
    expected = {q: [str(row[0]) for row in run_query(kg, q, store).rows] for q in queries}
    replies: dict[str, list[str]] = {}

    def ask(query: str) -> None:
        body = json.loads(get(server, query).body)
        replies[query] = [b["c"]["value"] for b in body["results"]["bindings"]]

    threads = [threading.Thread(target=ask, args=(q,)) for q in queries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert replies == expected


def test_service_description(server, kg):
    reply = fetch(f"{server}/sparql", headers={"Accept": "text/turtle"})
    assert reply.status == 200 and reply.media_type == "text/turtle"
    sd = Graph().parse(data=reply.text, format="turtle")
    SD = "http://www.w3.org/ns/sparql-service-description#"
    service = next(sd.subjects(RDF.type, URIRef(SD + "Service")))
    assert (service, URIRef(SD + "endpoint"), URIRef(f"{server}/sparql")) in sd
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in sd
    assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in sd
    formats = set(sd.objects(service, URIRef(SD + "resultFormat")))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    names = {str(n) for n in sd.objects(None, URIRef(SD + "name"))}
    assert str(GRAPH_ONTOLOGY) in names and str(GRAPH_INFERRED) in names
    assert names == {str(g.identifier) for g in kg.dataset.graphs() if len(g)
                     and not str(g.identifier).startswith("urn:x-rdflib:")}
