"""Both store backends give the same answers through the one interface."""

from __future__ import annotations

import pytest

from tipgraph.errors import QueryError
from tipgraph.model.namespaces import GRAPH_INFERRED, GRAPH_ONTOLOGY
from tipgraph.query.policy import DatasetSpec
from tipgraph.store import BACKENDS, open_store


@pytest.fixture(scope="module")
def stores(kg):
    return {backend: open_store(kg, backend) for backend in BACKENDS}


QUERIES = [
    "SELECT ?c ?label WHERE { ?c a owl:Class ; rdfs:label ?label } ORDER BY ?c ?label",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?s WHERE { ?s a skos:Concept FILTER(CONTAINS(LCASE(STR(?s)), 'type')) } ORDER BY ?s",
]


@pytest.mark.parametrize("query", QUERIES)
def test_backends_agree(stores, query):
    answers = [stores[b].query(query) for b in BACKENDS]
    assert answers[0].rows and all(a.rows == answers[0].rows for a in answers)


def test_default_graph_is_the_union_as_a_set(stores, kg):
    for store in stores.values():
        assert len(store) == len(kg.dataset)
        n = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
        assert int(n) == len(kg.dataset)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dataset_spec_selects_local_graphs(stores, kg, backend):
    store = stores[backend]
    only = DatasetSpec((str(GRAPH_ONTOLOGY),), ())
    assert int(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", only).rows[0][0]) == len(
        kg.ontology)
    assert store.query("ASK { GRAPH ?g { ?s ?p ?o } }", only).boolean is False
    named = DatasetSpec((), (str(GRAPH_INFERRED),))
    graphs = store.query("SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", named).rows
    assert graphs == [(GRAPH_INFERRED,)]
    assert store.query("ASK { ?s ?p ?o }", named).boolean is False


@pytest.mark.parametrize("backend", BACKENDS)
def test_syntax_errors_say_line_and_column(stores, backend):
    with pytest.raises(QueryError) as error:
        stores[backend].query("SELECT ?s\nWHERE { ?s ?p }")
    assert error.value.status == 400
    assert "line 2" in str(error.value) and "column" in str(error.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_limit_refuses_without_truncating(stores, backend):
    store = stores[backend]
    assert len(store.query("SELECT * { ?s ?p ?o } LIMIT 5", max_rows=5).rows) == 5
    with pytest.raises(QueryError, match="max_result_rows"):
        store.query("SELECT * { ?s ?p ?o } LIMIT 6", max_rows=5)
    with pytest.raises(QueryError, match="max_result_rows"):
        store.query("CONSTRUCT WHERE { ?s ?p ?o }", max_rows=5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_construct_and_describe_give_triples(stores, kg, backend):
    answer = stores[backend].query("CONSTRUCT WHERE { ?c a owl:Class }")
    assert answer.kind == "graph" and len(answer.triples) == answer.size > 0
    described = stores[backend].query(f"DESCRIBE <{next(iter(answer.triples))[0]}>")
    assert described.kind == "graph" and described.size > 0
