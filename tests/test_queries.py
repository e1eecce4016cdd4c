"""Every example query in queries/ returns the answer the source gives (its `# expect:` lines)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tipgraph.model.queries import example_queries
from tipgraph.query.offline import run_query

QUERIES = example_queries(REPO)


def _values(result) -> set[str]:
    if result.type == "ASK":
        return {str(bool(result.askAnswer)).lower()}
    return {str(row[0]) for row in result if row[0] is not None}


def test_there_are_example_queries():
    assert len(QUERIES) >= 20


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_example_query_gives_the_source_answer(kg, query):
    assert query.expect, f"{query.name}.rq has no '# expect:' line"
    assert query.title and query.description, f"{query.name}.rq needs a title and a description"
    assert _values(run_query(kg, query.sparql)) == set(query.expect)
