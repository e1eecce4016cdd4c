"""What a query may do: read only, never reach outside the machine. The same for every engine.

The check is lexical, so it is cheap, thread-safe and independent of the engine's own parser
(which reports syntax errors later, with line and column). SPARQL's ``\\uXXXX`` escapes are
expanded first, as every SPARQL parser does, so they cannot hide a keyword. Refused (403):

- updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY, WITH);
- SERVICE, in any form (pyoxigraph and rdflib would both follow it);
- FROM / FROM NAMED, default-graph-uri / named-graph-uri naming anything but a local graph.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES

READ_ONLY = "updates are not accepted: this endpoint is read-only"
MAX_NESTING = 64  # brackets ( { [ inside one another; real queries stay under 15
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD",
                             "MOVE", "COPY", "WITH"})

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN = r"[^\W\d_][\w\-.\u00B7\u0300-\u036F\u203F-\u2040]*"  # PN_PREFIX, near enough
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<comment>\#[^\n\r]*)
      | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                  |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<var>[?$]\w+)
      | (?P<bnode>_:[\w\-.]*)
      | (?P<pname>(?:""" + _PN + r""")?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*)
      | (?P<word>[^\W\d]\w*)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class DatasetSpec:
    """The RDF dataset of one query: which local graphs form its default graph, which are named."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckedQuery:
    sparql: str
    form: str | None            # SELECT, ASK, CONSTRUCT, DESCRIBE; None if the parser must say
    dataset: DatasetSpec | None  # None: the default dataset (default graph = union of all)


def expand_escapes(sparql: str) -> str:
    """SPARQL 1.1 section 19.2: \\u and \\U escapes are processed before parsing."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)


def tokens(sparql: str) -> list[tuple[str, str]]:
    """(kind, text) pairs, without whitespace and comments."""
    found = []
    for match in _TOKEN.finditer(expand_escapes(sparql)):
        kind = match.lastgroup or "other"
        if kind not in {"ws", "comment"}:
            found.append((kind, match.group()))
    return found


def _resolve(kind: str, text: str, prefixes: Mapping[str, str], base: str | None) -> str | None:
    if kind == "iri":
        return urljoin(base, text[1:-1]) if base else text[1:-1]
    if kind == "pname":
        prefix, _, local = text.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
    return None


def _check_nesting(toks: list[tuple[str, str]]) -> None:
    """Refuse brackets nested deeper than MAX_NESTING: engines parse them recursively, and a few
    thousand levels overflow pyoxigraph's stack (the process dies) or rdflib's recursion."""
    depth = 0
    for kind, text in toks:
        if kind != "other":
            continue
        if text in "({[":
            depth += 1
            if depth > MAX_NESTING:
                raise QueryError(f"the query nests brackets more than {MAX_NESTING} levels "
                                 "deep: simplify it")
        elif text in ")}]":
            depth -= 1


def _scan(sparql: str, base: str | None) -> tuple[str | None, list[str], list[str]]:
    """The query form and its FROM / FROM NAMED graphs; refuses updates and SERVICE."""
    prefixes = dict(PREFIXES)
    form: str | None = None
    defaults: list[str] = []
    named: list[str] = []
    toks = tokens(sparql)
    _check_nesting(toks)
    for i, (kind, text) in enumerate(toks):
        if kind != "word":
            continue
        word = text.upper()
        after = toks[i + 1:i + 4]
        if word in UPDATE_KEYWORDS:
            raise QueryError(READ_ONLY, status=403)
        if word == "SERVICE":
            raise QueryError("SERVICE is not allowed: this endpoint never makes outbound "
                             "requests", status=403)
        if word == "PREFIX" and len(after) >= 2 and after[0][0] == "pname":
            prefixes[after[0][1].rstrip(":")] = after[1][1][1:-1]
        elif word == "BASE" and after and after[0][0] == "iri":
            base = after[0][1][1:-1]
        elif word in FORMS and form is None:
            form = word
        elif word == "FROM" and after:
            is_named = after[0][0] == "word" and after[0][1].upper() == "NAMED"
            target = after[1] if is_named and len(after) > 1 else after[0]
            iri = _resolve(*target, prefixes, base)
            if iri is None:
                raise QueryError("FROM must be followed by the IRI of a local graph")
            (named if is_named else defaults).append(iri)
    return form, defaults, named


def check_query(
    sparql: str,
    local_graphs: Collection[str],
    default_graph_uris: Sequence[str] = (),
    named_graph_uris: Sequence[str] = (),
    base: str | None = None,
) -> CheckedQuery:
    """Apply the policy; work out the query form and its dataset. Raises QueryError."""
    form, from_defaults, from_named = _scan(sparql, base)
    for iri in [*from_defaults, *from_named, *default_graph_uris, *named_graph_uris]:
        if iri not in local_graphs:
            raise QueryError(f"<{iri}> is not a graph of this dataset: only local graphs can be "
                             "queried and nothing is ever fetched (see the service description "
                             "at /sparql for the graph names)", status=403)
    dataset = None
    if default_graph_uris or named_graph_uris:  # the protocol's dataset overrides FROM
        dataset = DatasetSpec(tuple(default_graph_uris), tuple(named_graph_uris))
    elif from_defaults or from_named:
        dataset = DatasetSpec(tuple(from_defaults), tuple(from_named))
    return CheckedQuery(sparql, form, dataset)
