"""Every example query in queries/ returns the answer the source gives (its `# expect:` lines),
on every store backend."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tipgraph.model.queries import example_queries
from tipgraph.query.offline import run_query
from tipgraph.store import BACKENDS, open_store

QUERIES = example_queries(REPO)


@pytest.fixture(scope="module", params=BACKENDS)
def store(request, kg):
    return open_store(kg, request.param)


def _values(answer) -> set[str]:
    if answer.kind == "boolean":
        return {str(answer.boolean).lower()}
    return {str(row[0]) for row in answer.rows if row[0] is not None}


def test_there_are_example_queries():
    assert len(QUERIES) >= 20


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_example_query_gives_the_source_answer(kg, store, query):
    assert query.expect, f"{query.name}.rq has no '# expect:' line"
    assert query.title and query.description, f"{query.name}.rq needs a title and a description"
    assert _values(run_query(kg, query.sparql, store)) == set(query.expect)
