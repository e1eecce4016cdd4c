"""The query policy: read-only, nothing fetched, the same for every engine."""

from __future__ import annotations

import pytest

from tipgraph.errors import QueryError
from tipgraph.query.policy import DatasetSpec, check_query, tokens

LOCAL = {"urn:g:a", "urn:g:b"}


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "select * where { service silent <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE ?endpoint { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o }SERVICE<http://x/>{}",
    "SELECT * WHERE { FILTER(?a<?b)SERVICE<http://x/>{ ?s ?p ?o } }",
])
def test_service_is_refused_in_every_spelling(query):
    with pytest.raises(QueryError) as refused:
        check_query(query, LOCAL)
    assert refused.value.status == 403 and "SERVICE" in str(refused.value)


@pytest.mark.parametrize("query", [
    'SELECT ?service WHERE { BIND("SERVICE <http://x/> {}" AS ?service) }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/>",
    "PREFIX service: <urn:x:> SELECT * WHERE { ?s service:p ?o }",
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
    "SELECT ('''SERVICE\n<x>''' AS ?x) {}",
])
def test_the_word_service_elsewhere_is_fine(query):
    assert check_query(query, LOCAL).form == "SELECT"


@pytest.mark.parametrize("query", [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DELETE WHERE { ?s ?p ?o }", "LOAD <http://x/>",
    "CLEAR ALL", "DROP GRAPH <urn:g:a>", "CREATE GRAPH <urn:x>", "ADD <urn:g:a> TO <urn:g:b>",
    "WITH <urn:g:a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX : <urn:x:> MOVE :a TO :b", "COPY DEFAULT TO <urn:x>",
])
def test_updates_are_refused(query):
    with pytest.raises(QueryError) as refused:
        check_query(query, LOCAL)
    assert refused.value.status == 403 and "read-only" in str(refused.value)


@pytest.mark.parametrize("query, defaults, named", [
    ("SELECT * FROM <http://127.0.0.1:9/> WHERE { ?s ?p ?o }", (), ()),
    ("SELECT * FROM NAMED <http://127.0.0.1:9/> WHERE { ?s ?p ?o }", (), ()),
    ("PREFIX x: <http://127.0.0.1:9/> SELECT * FROM x:y WHERE { ?s ?p ?o }", (), ()),
    ("SELECT * FROM <relative> WHERE { ?s ?p ?o }", (), ()),
    ("SELECT * WHERE { ?s ?p ?o }", ("http://127.0.0.1:9/",), ()),
    ("SELECT * WHERE { ?s ?p ?o }", (), ("file:///etc/passwd",)),
])
def test_non_local_graphs_are_refused(query, defaults, named):
    with pytest.raises(QueryError) as refused:
        check_query(query, LOCAL, defaults, named, base="http://localhost/sparql")
    assert refused.value.status == 403


def test_local_graphs_make_the_dataset():
    checked = check_query("PREFIX g: <urn:g:> SELECT * FROM g:a FROM NAMED <urn:g:b> "
                          "WHERE { ?s ?p ?o }", LOCAL)
    assert checked.dataset == DatasetSpec(("urn:g:a",), ("urn:g:b",))
    assert check_query("SELECT * WHERE { ?s ?p ?o }", LOCAL).dataset is None


def test_protocol_dataset_overrides_from():
    checked = check_query("SELECT * FROM <urn:g:a> WHERE { ?s ?p ?o }", LOCAL, ["urn:g:b"], [])
    assert checked.dataset == DatasetSpec(("urn:g:b",), ())


@pytest.mark.parametrize("query, form", [
    ("PREFIX : <urn:x:> BASE <urn:y> SELECT * {}", "SELECT"),
    ("ask {}", "ASK"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { { SELECT * { ?s ?p ?o } } }", "CONSTRUCT"),
    ("DESCRIBE <urn:x>", "DESCRIBE"),
    ("SELEC * {}", None),
])
def test_query_form(query, form):
    assert check_query(query, LOCAL).form == form


def test_tokens_keep_strings_iris_and_comments_apart():
    kinds = [kind for kind, _ in tokens('SELECT ?x { <urn:a#b> "a # b" 1 } # done')]
    assert kinds == ["word", "var", "other", "iri", "string", "other", "other"]
