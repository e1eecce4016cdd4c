"""/sparql through Flask's test client: content negotiation, the service description, the
editor page, limits and the error shape. (Queries run in-process here: query_workers = 0.)"""

from __future__ import annotations

import json
import logging
import re

import pytest
from rdflib import Graph

from tests.conftest import app_settings
from tipgraph.publish.formats import RDF_FORMATS, RESULT_FORMATS
from tipgraph.web.app import create_app

SELECT = "SELECT ?c WHERE { ?c a owl:Class } ORDER BY ?c LIMIT 3"
CONSTRUCT = "CONSTRUCT WHERE { ?c a owl:Class } LIMIT 3"


@pytest.fixture
def app(kg, config):
    app = create_app(app_settings(config, query_workers=0, max_result_rows=50), kg=kg)
    yield app
    app.extensions["tipgraph"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def ask(client, query, accept="*/*", **params):
    return client.get("/sparql", query_string={"query": query, **params},
                      headers={"Accept": accept})


@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
def test_select_in_every_results_format(client, fmt):
    reply = ask(client, SELECT, fmt.media_type)
    assert reply.status_code == 200 and reply.mimetype == fmt.media_type
    assert "owl#AnnotationProperty" in reply.get_data(as_text=True) or reply.data


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
def test_construct_in_every_rdf_format(client, fmt):
    reply = ask(client, CONSTRUCT, fmt.media_type)
    assert reply.status_code == 200 and reply.mimetype == fmt.media_type
    parsed = Graph().parse(data=reply.data, format=fmt.rdflib)
    assert len(parsed) == 3


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+xml;q=0.5, application/sparql-results+json;q=0.4",
     "application/sparql-results+xml"),
    ("text/csv;q=0.2, text/tab-separated-values", "text/tab-separated-values"),
    ("text/*", "text/csv"),
    ("*/*", "application/sparql-results+json"),
    ("application/json", "application/json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/xml"),
])
def test_q_values_and_wildcards(client, accept, expected):
    reply = ask(client, SELECT, accept)
    assert reply.status_code == 200 and reply.mimetype == expected
    assert "Accept" in reply.headers["Vary"]


def test_no_accept_header_gets_the_default(client):
    reply = client.get("/sparql", query_string={"query": SELECT})
    assert reply.mimetype == "application/sparql-results+json"


@pytest.mark.parametrize("query, accept", [(SELECT, "image/png"), (SELECT, "text/turtle"),
                                           (CONSTRUCT, "application/sparql-results+json")])
def test_406_when_nothing_fits(client, query, accept):
    reply = ask(client, query, accept)
    assert reply.status_code == 406 and reply.get_json()["status"] == 406
    assert "Accept" in reply.headers["Vary"]


def test_format_parameter_overrides_accept(client):
    assert ask(client, SELECT, "text/html", format="csv").mimetype == "text/csv"
    assert ask(client, CONSTRUCT, "text/html", format="ntriples").mimetype == (
        "application/n-triples")
    assert ask(client, SELECT, format="turtle").status_code == 406
    assert ask(client, SELECT, format="nonsense").status_code == 400


def test_ask_answers(client):
    assert json.loads(ask(client, "ASK { ?c a owl:Class }").data)["boolean"] is True
    assert ask(client, "ASK {}", "text/csv").get_data(as_text=True) == "_askResult\r\ntrue\r\n"


def test_result_row_limit(client):
    reply = ask(client, "SELECT * WHERE { ?s ?p ?o }")
    assert reply.status_code == 400 and "max_result_rows" in reply.get_json()["error"]
    assert ask(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 50").status_code == 200


@pytest.mark.parametrize("request_args, status", [
    ({"query_string": {"query": "SELECT * WHERE { ?s ?p }"}}, 400),
    ({"query_string": {"query": "SELECT * WHERE { SERVICE <http://x/> {} }"}}, 403),
    ({"query_string": {"query": SELECT, "format": "bogus"}}, 400),
    ({"query_string": {"query": SELECT}, "headers": {"Accept": "image/png"}}, 406),
    ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415),
    ({"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"}, 403),
    ({"method": "POST", "data": {}, "content_type": "application/x-www-form-urlencoded"}, 400),
    ({"method": "DELETE"}, 405),
])
def test_every_error_has_the_one_shape(client, request_args, status):
    request_args = {"headers": {"Accept": "application/json"}, **request_args}
    reply = client.open("/sparql", **request_args)
    assert reply.status_code == status
    assert reply.get_json() == {"error": reply.get_json()["error"], "status": status}
    assert reply.get_json()["error"]


def test_service_description_by_negotiation(client):
    for fmt in RDF_FORMATS:
        reply = client.get("/sparql", headers={"Accept": fmt.media_type})
        assert reply.status_code == 200 and reply.mimetype == fmt.media_type
        described = Graph().parse(data=reply.data, format=fmt.rdflib)
        assert any(str(o).endswith("sparql-service-description#Service")
                   for o in described.objects())
    assert client.get("/sparql").mimetype == "text/turtle"  # no Accept: RDF, not the editor
    assert client.get("/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_editor_for_browsers(client, app):
    reply = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert reply.status_code == 200 and reply.mimetype == "text/html"
    page = reply.get_data(as_text=True)
    assert "vendor/yasgui-4.6.2.min.js" in page and "sparql-editor.js" in page
    assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", page)  # no inline JS
    config = json.loads(re.search(r'id="tipgraph-sparql-config">(.*?)</script>', page, re.S)[1])
    assert config["prefixes"]["tip"] == "https://w3id.org/tipgraph/ontology#"
    assert config["endpoint"] == "/sparql"
    assert len(config["examples"]) == len(app.extensions["tipgraph"].examples)
    for name in ["yasgui-4.6.2.min.js", "yasgui-4.6.2.min.css", "yasgui-4.6.2.LICENSE"]:
        with client.get(f"/static/vendor/{name}") as static:
            assert static.status_code == 200


def test_access_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="tipgraph.access"):
        ask(client, SELECT)
    entry = json.loads(caplog.records[-1].getMessage())
    assert entry["method"] == "GET" and entry["path"] == "/sparql" and entry["status"] == 200
    assert entry["result_size"] == 3 and entry["query_ms"] >= 0 and entry["version"]
