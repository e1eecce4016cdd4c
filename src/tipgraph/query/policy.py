"""What a query may do: read only, never reach outside the machine.

Parsing happens here once; the parsed query is checked against the policy before any engine
sees it. Refused: updates, SERVICE, and FROM / FROM NAMED naming a graph that is not local.
"""

from __future__ import annotations

from pyparsing import ParseException
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.sparql import Query

from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES


def _walk(node: object):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _walk(value)


def looks_like_update(sparql: str) -> bool:
    try:
        parseUpdate(sparql)
    except Exception:
        return False
    return True


def check_query(sparql: str) -> Query:
    """Parse a query and apply the policy. Raises QueryError with the parser's message."""
    try:
        query = prepareQuery(sparql, initNs=PREFIXES)
    except ParseException as error:
        if looks_like_update(sparql):
            raise QueryError("updates are not accepted: this endpoint is read-only",
                             status=403) from None
        raise QueryError(f"malformed query at line {error.lineno}, column {error.col}: "
                         f"{error.msg}") from None
    except Exception as error:
        raise QueryError(f"malformed query: {error}") from None
    for node in _walk(query.algebra):
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            raise QueryError("SERVICE is not allowed: this endpoint makes no outbound requests",
                             status=403)
    if query.algebra.get("datasetClause"):
        raise QueryError("FROM / FROM NAMED are not allowed in queries here; use GRAPH patterns "
                         "or the default-graph-uri / named-graph-uri protocol parameters",
                         status=403)
    return query
