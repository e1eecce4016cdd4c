"""The result cache and HTTP conditional requests on /sparql: repeated queries skip the engine,
an unchanged answer is a 304, and a new data version never gets an old answer."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from tests.conftest import REPO, app_settings
from tipgraph.model.build import build
from tipgraph.query.cache import CacheKey, ResultCache
from tipgraph.query.policy import DatasetSpec
from tipgraph.web.app import Generation, create_app

QUERY = ("SELECT ?label WHERE { id:african-union skos:prefLabel ?label } ORDER BY ?label")


def key(version: str = "v1", sparql: str = "ASK {}", fmt: str = "json", **kwargs) -> CacheKey:
    return CacheKey.of(version, sparql, kwargs.get("dataset"), kwargs.get("base"), fmt,
                       kwargs.get("max_rows", 10))


def test_cache_evicts_least_recently_used_by_bytes():
    cache = ResultCache(4_000)
    for name in "abcd":
        assert cache.put(key(sparql=name), name, 600)  # 801 bytes counted each
    assert cache.get(key(sparql="a")) == "a"  # a is now the most recently used
    assert cache.put(key(sparql="e"), "e", 600)  # over 4,000 bytes: b goes first
    assert cache.get(key(sparql="b")) is None
    assert [cache.get(key(sparql=n)) for n in "acde"] == ["a", "c", "d", "e"]
    assert cache.bytes <= cache.max_bytes and cache.evictions >= 1


def test_cache_refuses_answers_too_large_and_can_be_off():
    assert not ResultCache(4_000).put(key(), "x", 3_000)
    off = ResultCache(0)
    assert not off.put(key(), "x", 1) and off.get(key()) is None


def test_every_part_of_the_key_matters():
    base = key()
    others = [key(version="v2"), key(sparql="ASK { ?s ?p ?o }"), key(fmt="xml"),
              key(max_rows=11), key(base="http://example.org/"),
              key(dataset=DatasetSpec(("urn:g",), ())), key(dataset=DatasetSpec((), ("urn:g",))),
              key(dataset=DatasetSpec((), ()))]
    cache = ResultCache(100_000)
    cache.put(base, "answer", 10)
    for other in others:
        assert other != base and other.etag() != base.etag()
        assert cache.get(other) is None
    assert cache.get(base) == "answer"
    assert key().etag() == base.etag()  # stable: the same in every process


def test_dropping_other_versions_frees_them():
    cache = ResultCache(100_000)
    cache.put(key(version="old"), "a", 10)
    cache.put(key(version="new"), "b", 10)
    assert cache.drop_other_versions("new") == 1
    assert len(cache) == 1 and cache.get(key(version="new")) == "b"


@pytest.fixture
def app(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    yield app
    app.extensions["tipgraph"].close()


def get(client, query=QUERY, accept="application/sparql-results+json", **headers):
    return client.get("/sparql", query_string={"query": query},
                      headers={"Accept": accept, **headers})


def test_a_repeated_query_is_answered_from_the_cache(app):
    client = app.test_client()
    first, second = get(client), get(client)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Tipgraph-Cache"] == "miss"
    assert second.headers["X-Tipgraph-Cache"] == "hit"
    assert first.data == second.data and b"African Union" in first.data
    assert first.headers["ETag"] == second.headers["ETag"]
    # the second request never reached Flask: the answer cache (tipgraph.web.answers) gave it
    answers = app.extensions["tipgraph.answers"].status()
    assert answers["hits"] == 1 and answers["entries"] == 1
    assert {k: v for k, v in first.headers if k != "X-Tipgraph-Cache"} == \
        {k: v for k, v in second.headers if k != "X-Tipgraph-Cache"}
    # the same query asked another way (POST) is another request, answered by the result cache
    posted = client.post("/sparql", data={"query": QUERY},
                         headers={"Accept": "application/sparql-results+json"})
    assert posted.data == first.data and posted.headers["X-Tipgraph-Cache"] == "hit"
    status = app.extensions["tipgraph"].queries.status()["result_cache"]
    assert status["hits"] == 1 and status["entries"] == 1
    assert client.post("/sparql", data={"query": QUERY}, headers={
        "Accept": "application/sparql-results+json"}).data == first.data
    assert app.extensions["tipgraph.answers"].status()["hits"] == 2


def test_if_none_match_gives_304_without_a_body(app):
    client = app.test_client()
    first = get(client)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = get(client, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    # another representation of the same answer has another tag: a full answer
    xml = get(client, accept="application/sparql-results+xml", **{"If-None-Match": etag})
    assert xml.status_code == 200 and xml.headers["ETag"] != etag
    alias = get(client, accept="application/json", **{"If-None-Match": etag})
    assert alias.status_code == 200 and alias.headers["ETag"] != etag
    other = get(client, query=QUERY + " LIMIT 1", **{"If-None-Match": etag})
    assert other.status_code == 200


def test_post_is_answered_in_full_even_with_a_matching_tag(app):
    client = app.test_client()
    etag = get(client).headers["ETag"]
    posted = client.post("/sparql", data={"query": QUERY},
                         headers={"Accept": "application/sparql-results+json",
                                  "If-None-Match": etag})
    assert posted.status_code == 200 and posted.headers["ETag"] == etag


def test_errors_are_not_cached(app):
    client = app.test_client()
    for _ in range(2):
        assert get(client, query="SELECT ?x WHERE { ?x").status_code == 400
    assert app.extensions["tipgraph"].queries.status()["result_cache"]["entries"] == 0


def test_a_new_data_version_never_gets_an_old_answer(app, kg, config, tmp_path):
    """A reload replaces the knowledge graph: the cached answer and its tag no longer apply."""
    root = tmp_path / "root"
    for part in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(REPO / part, root / part)
    section = root / "data" / "sections" / "african-union.trig"
    section.write_text(section.read_text(encoding="utf-8").replace(
        '"African Union"@en', '"African Union (renamed)"@en', 1), encoding="utf-8")
    changed = build({**config, "root": root})
    assert changed.version != kg.version

    client = app.test_client()
    first = get(client)
    assert get(client).headers["X-Tipgraph-Cache"] == "hit"
    app_state = app.extensions["tipgraph"]
    app_state.swap(Generation(changed, app_state.settings))  # what a reload does
    answers = app.extensions["tipgraph.answers"]
    assert answers.status()["entries"] == 0  # the old version's answers are freed
    after = get(client, **{"If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["X-Tipgraph-Cache"] == "miss"
    assert after.headers["ETag"] != first.headers["ETag"]
    assert b"African Union (renamed)" in after.data


def test_an_answer_computed_on_old_data_is_never_kept_for_the_new(app, kg, config):
    """A reload between the lookup and the answer: the answer is keyed on the version that
    computed it, so requests on the new data do not get it."""
    from tipgraph.web.answers import AnswerCache

    versions = iter(["new", "new"])
    seen = []

    def flask_app(environ, start_response):  # computed on "old" while the lookup saw "new"
        seen.append(environ["PATH_INFO"])
        environ["tipgraph.cacheable_version"] = "old"
        start_response("200 OK", [("ETag", '"t"')])
        return [b"old answer"]

    answers = AnswerCache(flask_app, lambda: next(versions), 1_000_000)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "QUERY_STRING": "query=x"}
    for _ in range(2):
        assert b"".join(answers(dict(environ), lambda *a: None)) == b"old answer"
    assert len(seen) == 2  # the second request was not answered with the "old" answer


def test_the_rate_limit_applies_to_cached_answers(kg, config):
    app = create_app(app_settings(config, query_workers=0, rate_limit=3), kg=kg)
    try:
        client = app.test_client()
        statuses = [get(client).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]  # the 4th was found, then refused
        assert app.extensions["tipgraph.answers"].status()["hits"] == 3
    finally:
        app.extensions["tipgraph"].close()


def test_head_and_other_paths_go_to_flask(app):
    client = app.test_client()
    get(client)
    head = client.head("/sparql", query_string={"query": QUERY},
                       headers={"Accept": "application/sparql-results+json"})
    assert head.status_code == 200 and head.data == b""
    assert app.extensions["tipgraph.answers"].status()["hits"] == 0


def test_the_version_alone_changes_the_key(app, kg):
    client = app.test_client()
    get(client)
    service = app.extensions["tipgraph"].queries
    service.kg = replace(kg, version="0" * 64)
    assert get(client).headers["X-Tipgraph-Cache"] == "miss"
