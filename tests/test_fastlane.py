"""The fast lane (tipgraph.web.fastlane): plain queries answered without Flask's machinery,
with the same answer and headers as the /sparql view; everything else, errors included, is
answered by the view."""

from __future__ import annotations

import time

import pytest

from tests.conftest import app_settings
from tipgraph.web.app import create_app

QUERY = "SELECT ?label WHERE { id:african-union skos:prefLabel ?label } ORDER BY ?label"
JSON = "application/sparql-results+json"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture
def app(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    yield app
    app.extensions["tipgraph"].close()


def lane_answers(app) -> int:
    return app.extensions["tipgraph.fastlane"].answered


def test_a_plain_get_and_a_form_post_take_the_lane(app):
    client = app.test_client()
    got = client.get("/sparql", query_string={"query": QUERY}, headers={"Accept": JSON})
    posted = client.post("/sparql", data={"query": QUERY + " ", "format": "xml"})
    assert got.status_code == posted.status_code == 200
    assert b"African Union" in got.data and posted.content_type.startswith(
        "application/sparql-results+xml")
    assert lane_answers(app) == 2
    assert client.get("/health").get_json()["query"]["fast_lane_answers"] == 2


def test_the_lane_gives_the_views_headers(app):
    """The same query through the lane (form POST) and through the view (a direct POST body,
    which the lane leaves to Flask): the same headers, but for the result cache's hit/miss."""
    client = app.test_client()
    through_view = client.post("/sparql", data=QUERY.encode(), headers={
        "Content-Type": "application/sparql-query", "Accept": JSON})
    assert lane_answers(app) == 0
    through_lane = client.post("/sparql", data={"query": QUERY}, headers={"Accept": JSON})
    assert lane_answers(app) == 1
    assert through_view.data == through_lane.data

    def named(response):
        return {k: v for k, v in response.headers if k != "X-Tipgraph-Cache"}

    assert named(through_view) == named(through_lane)
    assert through_lane.headers["X-Tipgraph-Cache"] == "hit"  # the result cache had it


def test_the_lane_gives_the_views_304(app):
    client = app.test_client()
    first = client.get("/sparql", query_string={"query": QUERY, "format": "json"})
    etag = first.headers["ETag"]
    app.extensions["tipgraph.answers"].cache.max_bytes = 0  # (so the lane, not the cache)
    lane = client.get("/sparql", query_string={"query": QUERY, "format": "json"},
                      headers={"If-None-Match": etag})
    view = client.head("/sparql", query_string={"query": QUERY, "format": "json"},
                       headers={"If-None-Match": etag})
    assert lane.status_code == view.status_code == 304 and lane.data == b""
    assert {k: v for k, v in lane.headers} == {k: v for k, v in view.headers}


@pytest.mark.parametrize(("query_string", "status"), [
    ({"query": "SELECT ?x WHERE { ?x"}, 400),
    ({"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, 403),
    ({"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, 403),
    ({"query": QUERY, "format": "turtle"}, 406),
    ({"query": QUERY, "format": "nonsense"}, 400),
])
def test_requests_the_lane_cannot_answer_get_the_views_error(app, query_string, status):
    client = app.test_client()
    response = client.get("/sparql", query_string=query_string, headers={"Accept": JSON})
    assert response.status_code == status
    assert set(response.get_json()) == {"error", "status"}
    assert lane_answers(app) == 0


def test_other_parameters_and_media_types_go_to_the_view(app):
    client = app.test_client()
    graph = "https://w3id.org/tipgraph/graph/ontology"
    with_dataset = client.get("/sparql", query_string={
        "query": "ASK { ?s a owl:Class }", "default-graph-uri": graph}, headers={"Accept": JSON})
    two_queries = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    charset = client.post("/sparql", data="query=ASK%7B%7D", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=latin-1"})
    assert with_dataset.status_code == 200 and with_dataset.get_json()["boolean"] is True
    assert two_queries.status_code == 400 and charset.status_code == 200
    assert lane_answers(app) == 0


def test_the_rate_limit_is_charged_once_per_request(kg, config):
    app = create_app(app_settings(config, query_workers=0, rate_limit=2), kg=kg)
    try:
        client = app.test_client()
        statuses = [client.get("/sparql", query_string={"query": f"{QUERY} LIMIT {n}"},
                               headers={"Accept": JSON}).status_code for n in (1, 2, 3)]
        assert statuses == [200, 200, 429]  # charged twice per request, the 2nd would be 429
        assert lane_answers(app) == 2
    finally:
        app.extensions["tipgraph"].close()


def test_a_query_that_fails_in_the_lane_is_not_run_again(kg, config):
    """A time limit reached in the lane is answered by the view's error handler (504, the one
    error shape) without running the query a second time (one worker replaced, not two)."""
    app = create_app(app_settings(config, query_workers=1, query_timeout=1), kg=kg)
    try:
        client = app.test_client()
        service = app.extensions["tipgraph"].queries
        service.start()  # a worker up first: on a busy machine its start-up could take the 1 s
        give_up = time.monotonic() + 60
        while service.status()["workers"]["ready"] < 1:
            assert time.monotonic() < give_up, service.status()
            time.sleep(0.02)
        runs = []
        service.run = lambda *args, run=service.run, **kw: runs.append(args) or run(*args, **kw)
        response = client.get("/sparql", query_string={"query": RUNAWAY},
                              headers={"Accept": JSON})
        assert response.status_code == 504 and "query_timeout" in response.get_json()["error"]
        assert len(runs) == 1 and app.extensions["tipgraph.fastlane"].failed == 1
        assert service.status()["workers"]["replaced"] == 1
    finally:
        app.extensions["tipgraph"].close()


def test_the_answer_caches_304_has_the_views_headers(app):
    client = app.test_client()
    args = {"query": QUERY, "format": "json"}
    etag = client.get("/sparql", query_string=args).headers["ETag"]
    cached = client.get("/sparql", query_string=args, headers={"If-None-Match": etag})
    view = client.head("/sparql", query_string=args, headers={"If-None-Match": etag})
    assert app.extensions["tipgraph.answers"].status()["hits"] == 1
    assert cached.status_code == view.status_code == 304 and cached.data == b""
    assert {k: v for k, v in cached.headers} == {k: v for k, v in view.headers}
