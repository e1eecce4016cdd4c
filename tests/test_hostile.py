"""Hostile and malformed requests: never a 500, a crash, a hang or a traceback. Every error is
the one JSON shape (or the HTML page for browsers) with a 4xx status, or 503/504 for limits.

Fuzzing (hypothesis) goes through the Flask test client on an app with real query workers (so
the time limit holds); what only a real server sees (bytes that are not UTF-8 in the request
line, giant headers, methods waitress has never heard of) goes over a socket.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import app_settings, fetch, running_server
from tipgraph.query.policy import MAX_NESTING
from tipgraph.web.app import SECURITY_HEADERS, create_app

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
LIMIT_STATUSES = {503, 504}
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def app(kg, config):
    app = create_app(app_settings(config, query_workers=2, query_timeout=3.0), kg=kg)
    app.extensions["tipgraph"].queries.start()
    yield app
    app.extensions["tipgraph"].close()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def assert_sane(response, html_ok: bool = True) -> None:
    """A 2xx/3xx, or an error in the one shape with a 4xx (or 503/504) status."""
    status = response.status_code
    body = response.get_data()
    assert status < 500 or status in LIMIT_STATUSES, (status, body[:300])
    assert b"Traceback" not in body and b"File \"/" not in body
    if status >= 400:
        if response.mimetype == "text/html" and html_ok:
            assert f"Error {status}".encode() in body
        else:
            assert response.mimetype == "application/json", (response.mimetype, body[:200])
            assert response.get_json() == {"error": response.get_json()["error"],
                                           "status": status}
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


# --- grammar-based and random queries ---------------------------------------------------------

TERMS = st.sampled_from([
    "?s", "?p", "?o", "?x", "id:ecowas", "tip:Mechanism", "skos:prefLabel", "rdf:type", "a",
    "<https://w3id.org/tipgraph/id/asean>", '"ECOWAS"@en', "42", "3.5e2", "true", "_:b",
    '"\\u0053ERVICE"', "<>", "undefined:thing",
])
VARS = st.sampled_from(["?s", "?p", "?o", "?x", "?n"])
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)


@st.composite
def expressions(draw, depth: int = 0) -> str:
    leaf = st.one_of(VARS, TERMS, texts.map(json.dumps))
    if depth > 3:
        return draw(leaf)
    sub = expressions(depth + 1)
    return draw(st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["=", "!=", "<", "&&", "||", "+", "*", "/"]), sub)
          .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["STR", "LCASE", "BOUND", "isIRI", "STRLEN", "ABS", "xsd:integer",
                                   "NOT EXISTS", "LANG", "DATATYPE"]), sub)
          .map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(sub, st.sampled_from(["^(a+)+$", "(x+x+)+y", ".*.*.*=.*", "[", "\\\\", ""]))
          .map(lambda t: f'REGEX(STR({t[0]}), "{t[1]}", "i")'),
    ))


@st.composite
def patterns(draw, depth: int = 0) -> str:
    triple = st.tuples(st.one_of(VARS, TERMS), st.one_of(VARS, TERMS), st.one_of(VARS, TERMS)) \
        .map(lambda t: " ".join(t) + " .")
    if depth > 2:
        return draw(triple)
    sub = patterns(depth + 1)
    return draw(st.one_of(
        triple,
        expressions().map(lambda e: f"FILTER({e})"),
        sub.map(lambda p: f"OPTIONAL {{ {p} }}"),
        st.tuples(sub, sub).map(lambda t: f"{{ {t[0]} }} UNION {{ {t[1]} }}"),
        st.tuples(expressions(), VARS).map(lambda t: f"BIND({t[0]} AS {t[1]})"),
        sub.map(lambda p: f"GRAPH ?g {{ {p} }}"),
        sub.map(lambda p: f"MINUS {{ {p} }}"),
        st.tuples(VARS, st.lists(TERMS, max_size=3)).map(
            lambda t: f"VALUES {t[0]} {{ {' '.join(t[1])} }}"),
    ))


@st.composite
def queries(draw) -> str:
    body = " ".join(draw(st.lists(patterns(), min_size=1, max_size=4)))
    form = draw(st.sampled_from([
        "SELECT *", "SELECT DISTINCT ?s ?o", "SELECT (COUNT(*) AS ?n)", "ASK",
        "CONSTRUCT { ?s ?p ?o }", "DESCRIBE ?s", "SELECT ?s (SAMPLE(?o) AS ?x)",
    ]))
    modifiers = draw(st.sampled_from([
        "", "LIMIT 5", "LIMIT 0", "LIMIT 99999999999999999999999", "OFFSET 18446744073709551617",
        "ORDER BY ?s LIMIT 3", "GROUP BY ?s", "HAVING (COUNT(*) > 1)", "LIMIT -1",
    ]))
    return f"{form} WHERE {{ {body} }} {modifiers}"


@FUZZ
@given(query=queries(), accept=st.sampled_from([
    "application/sparql-results+json", "text/csv", "text/turtle", "text/html", "*/*", "",
    "application/n-quads", "application/sparql-results+xml;q=0.1, text/tab-separated-values"]))
def test_grammar_based_queries(client, query, accept):
    assert_sane(client.get("/sparql", query_string={"query": query}, headers={"Accept": accept}))


@FUZZ
@given(query=st.text(max_size=300))
def test_random_text_as_a_query(client, query):
    assert_sane(client.post("/sparql", data={"query": query}))


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from([
    "application/sparql-query", "application/sparql-query; charset=latin-1",
    "application/x-www-form-urlencoded", "application/sparql-update", "text/plain", "",
    "multipart/form-data; boundary=x", "application/json"]))
def test_random_bytes_as_a_body(client, body, content_type):
    assert_sane(client.post("/sparql", data=body, headers={"Content-Type": content_type}))


@FUZZ
@given(tokens=st.lists(st.sampled_from([
    "SELECT", "ASK", "WHERE", "{", "}", "(", ")", "[", "]", "?s", ".", ";", ",", "FILTER",
    "OPTIONAL", "UNION", "GRAPH", "SERVICE", "<http://127.0.0.1:1/>", "LIMIT", "1", "*", '"',
    "'''", "#", "\\u0053", "PREFIX", "x:", "BASE", "FROM", "NAMED", "INSERT", "DATA", "\x00",
    "\ud7ff", "\U0001f600", "a", "^^", "@en", "<", ">"]), max_size=40))
def test_random_token_soup(client, tokens):
    assert_sane(client.get("/sparql", query_string={"query": " ".join(tokens)}))


@FUZZ
@given(accept=st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]),
                      max_size=200), path=st.sampled_from([
    "/sparql?query=ASK%7B%7D", "/sparql", "/id/ecowas", "/id/ecowas.html", "/ontology",
    "/.well-known/void", "/dumps/", "/graph.json", "/id/", "/nowhere"]))
def test_absurd_accept_headers(client, accept, path):
    assert_sane(client.get(path, headers={"Accept": accept}))


ROUTES_WITH_A_PATH = ["/id/{}", "/id/{}.ttl", "/ontology.{}", "/dumps/{}", "/static/{}",
                      "/graph.{}", "/.well-known/void.{}", "/{}"]


@FUZZ
@given(route=st.sampled_from(ROUTES_WITH_A_PATH), segment=st.one_of(
    st.sampled_from(["..", "../..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "....//....//etc/passwd",
                     "%252e%252e%252f", "..\\..\\windows", "%00", "%ff%fe", "/etc/passwd",
                     "~root", "a" * 5000, ".git/config", "%c0%ae%c0%ae/", "\u202e", "con"]),
    st.text(max_size=60).map(lambda t: quote(t, safe="/%."))))
def test_path_traversal_on_every_route_that_takes_a_path(client, route, segment):
    response = client.get(route.format(segment))
    assert_sane(response)
    body = response.get_data()
    assert b"root:x:0:0" not in body and b"[core]" not in body  # /etc/passwd, .git/config


@pytest.mark.parametrize("query", [
    "ASK { FILTER(" + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1) + ") }",
    "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000,
    "ASK { " + "[ <p> " * 5000 + "]" * 5000 + " }",
    "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 3000 + "}" * 3001,
])
def test_deep_nesting_is_refused_not_a_crash(client, query):
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 400 and "nests" in response.get_json()["error"]
    assert_sane(client.get("/sparql", query_string={"query": "ASK {}"}))  # workers all alive


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(x+x+)+y", "^(([a-z])+.)+[A-Z]([a-z])+$",
                                     "(.*a){20}", "((((((((((a*)*)*)*)*)*)*)*)*)*)*b"])
def test_catastrophic_regex_on_every_label_is_bounded(client, pattern):
    query = ("SELECT ?s WHERE { ?s ?p ?l FILTER(isLiteral(?l) && "
             f'REGEX(CONCAT(STR(?l), STR(?l), STR(?l)), "{pattern}")) }}')
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code in {200, 504}, response.get_data()[:300]
    assert_sane(response)


@pytest.mark.parametrize("limit", ["99999999999999999999999999", "18446744073709551615",
                                   "9223372036854775807", "0"])
def test_huge_limits(client, limit):
    response = client.get("/sparql", query_string={
        "query": f"SELECT ?c WHERE {{ ?c a owl:Class }} LIMIT {limit}"})
    assert response.status_code in {200, 400}
    assert_sane(response)


def test_a_result_over_the_row_limit_is_refused_not_cut(kg, config):
    app = create_app(app_settings(config, query_workers=0, max_result_rows=50), kg=kg)
    response = app.test_client().get("/sparql", query_string={
        "query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1000000"})
    assert response.status_code == 400 and "LIMIT" in response.get_json()["error"]


def test_gigantic_query_gets_413(client, config):
    big = "ASK {} #" + "x" * (config["max_request_bytes"] + 1)
    assert_sane(response := client.post("/sparql", data={"query": big}))
    assert response.status_code == 413


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "BREW"])
@pytest.mark.parametrize("path", ["/sparql", "/id/ecowas", "/dumps/tipgraph.ttl", "/graph.json",
                                  "/health", "/openapi.json"])
def test_unknown_methods_get_405(client, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert_sane(response)


# --- over a real socket: what only a real server sees -----------------------------------------

@pytest.fixture(scope="module")
def server(app):
    with running_server(app) as base:
        yield base


def raw(base: str, request: bytes, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read the whole answer (the server closes or sends Content-Length)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:  # the server may close while we still send
                break
            if not chunk:
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in
                           head.decode("latin-1").split("\r\n")[1:] if ": " in line)
            length = {k.lower(): v for k, v in headers.items()}.get("content-length")
            if length is not None and len(body) >= int(length):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:]
                                         if ": " in line)}
    return int(lines[0].split()[1]), headers, body


def assert_raw_sane(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status < 500 or status in LIMIT_STATUSES, (status, body[:300])
    if status >= 400:
        assert headers["content-type"].startswith("application/json"), headers
        document = json.loads(body)
        assert document == {"error": document["error"], "status": status}
    assert headers.get("x-content-type-options") == "nosniff"


@pytest.mark.parametrize("request_line", [
    b"GET /sparql?query=\xff\xfe HTTP/1.1",
    b"GET /id/\xff\xfe\xfd HTTP/1.1",
    b"GET /sparql?query=%ff%fe%fd HTTP/1.1",
    b"GET /\xc0\xae\xc0\xae/etc/passwd HTTP/1.1",
    b"BREW /sparql HTTP/1.1",
    b"GET /sparql?query=ASK%7B%7D HTTP/9.9",
    b"GET  HTTP/1.1",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS hello on the plain port
])
def test_malformed_request_lines(server, request_line):
    assert_raw_sane(*raw(server, request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n"))


def test_invalid_utf8_body(server):
    body = b"\xff\xfeASK {}"
    status, headers, answer = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/sparql-query\r\n"
                                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                                  + body)
    assert status == 400
    assert_raw_sane(status, headers, answer)


@pytest.mark.parametrize("size", [70_000, 2_000_000])
def test_gigantic_headers(server, size):
    header = b"X-Junk: " + b"j" * size + b"\r\n"
    status, headers, body = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\n" + header
                                + b"Connection: close\r\n\r\n")
    assert status in {200, 413, 431}
    assert_raw_sane(status, headers, body)


def test_gigantic_body_is_refused(server, config):
    size = config["max_request_bytes"] * 3
    status, headers, body = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/sparql-query\r\n"
                                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size
                                + b"#" * size)
    assert status == 413
    assert_raw_sane(status, headers, body)


def test_unknown_transfer_coding_is_a_4xx(server):
    status, headers, body = raw(server, b"POST /sparql HTTP/1.1\r\nHost: x\r\n"
                                b"Transfer-Encoding: gzip\r\nConnection: close\r\n\r\n")
    assert 400 <= status < 500
    assert_raw_sane(status, headers, body)


def test_an_ask_is_answered_while_eight_runaway_queries_run(kg, config):
    """Behaviour under load (the timings are in benchmarks/load.py): with the default pool (2
    workers, growing to 12 and keeping a spare), a simple ASK gets its 200 while 8 runaway
    queries hold 8 workers, and each runaway gets its 504 in the one shape."""
    app = create_app(app_settings(config), kg=kg)  # every default, the 30 s limit included
    with running_server(app) as base:
        replies: list = []
        runaways = [threading.Thread(target=lambda: replies.append(fetch(
            f"{base}/sparql?query={quote(RUNAWAY)}"))) for _ in range(8)]
        for thread in runaways:
            thread.start()

        def grown() -> bool:
            workers = json.loads(fetch(f"{base}/health").body)["query"]["workers"]
            return workers["ready"] >= 9 and workers["idle"] >= 1
        while not grown() and any(thread.is_alive() for thread in runaways):
            time.sleep(0.05)
        ask = fetch(f"{base}/sparql?query={quote('ASK { ?s a owl:Class }')}",
                    headers={"Accept": "application/sparql-results+json"})
        busy = sum(thread.is_alive() for thread in runaways)
        for thread in runaways:
            thread.join(120)
        assert ask.status == 200 and json.loads(ask.body)["boolean"] is True
        assert busy == 8  # answered while every runaway was still running
        assert sorted(r.status for r in replies) == [504] * 8
        assert all(set(json.loads(r.body)) == {"error", "status"} for r in replies)
