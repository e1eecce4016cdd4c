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

IRIREF_FORBIDDEN = r'<>"{}|^`\\\x00-\x20'  # what SPARQL's IRIREF cannot hold (a class body)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# PN_PREFIX, near enough, and at most MAX_PREFIX characters: unbounded, "a.a.a.a..." made the
# match at each "a" scan the whole run looking for a ":" (quadratic: minutes for 200 KB). A
# longer prefix is not recognised, which can only refuse a FROM, never allow anything.
MAX_PREFIX = 64
_PN = r"[^\W\d_][\w\-.\u00B7\u0300-\u036F\u203F-\u2040]" + f"{{0,{MAX_PREFIX - 1}}}"
# The tokens are tried in this order at each position, the first that matches wins: these,
# then a word, then one character of any other kind ("other").
_KINDS = {
    "string": r"""\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                  |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*'""",
    "iri": rf"<[^{IRIREF_FORBIDDEN}]*>",
    "var": r"[?$]\w+",
    "bnode": r"_:[\w\-.]*",
    "pname": r"(?:" + _PN + r")?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*",
}
_WORD = r"[^\W\d]\w*"
_TRIVIA = r"\s++ | \#[^\n\r]*+"  # whitespace, a comment
# Whitespace and comments are skipped inside the match of the token after them (after the last
# token, \Z matches). What follows a repeat below always matches (\Z, or any character), so
# the repeats never need to give anything back: possessive, they keep no backtracking points.
_TOKEN = re.compile(
    rf"(?: {_TRIVIA} )*+"
    + "(?:" + "".join(f"(?P<{kind}>{pattern}) | " for kind, pattern in _KINDS.items())
    + rf"(?P<word>{_WORD}) | (?P<other>.) | \Z)",
    re.VERBOSE | re.DOTALL,
)
# The policy needs only words and brackets (and a few tokens after some words, from _TOKEN):
# everything else is passed over inside this regex, as tokens of the same kinds tried in the
# same order (so they end where _TOKEN's do), plus the characters that would be "other" tokens
# but for brackets and quotes (\W or a digit). Group 1 is a word, group 2 a bracket, group 3 a
# quote that opens no complete string (a syntax error: refused there, because passing over it
# and trying again at the next quote would scan the rest of the line each time: quadratic,
# about 40 minutes of the server's interpreter for a hostile query of 1 MB); none at the end.
_WORD_OR_BRACKET = re.compile(
    rf"(?: {_TRIVIA} | " + " | ".join(_KINDS.values()) + r""" | [^\w(){}\[\]"'] | \d )*+"""
    + rf"""(?: ({_WORD}) | ([(){{}}\[\]]) | (["']) | \Z)""",
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
    if "\\" not in sparql:  # most queries have none: no need to run the regex
        return sparql
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)


def tokens(sparql: str) -> list[tuple[str, str]]:
    """(kind, text) pairs, without whitespace and comments."""
    found = []
    for match in _TOKEN.finditer(expand_escapes(sparql)):
        kind = match.lastgroup
        if kind is not None:  # None: the end, after the last token
            found.append((kind, match.group(kind)))
    return found


def _following(text: str, pos: int, count: int = 2) -> list[tuple[str, str]]:
    """The ``count`` tokens after position ``pos`` (fewer at the end), as ``tokens`` gives them;
    ``pos`` is where a token ends."""
    found: list[tuple[str, str]] = []
    while len(found) < count:
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:  # the end (\Z: it never fails)
            break
        found.append((match.lastgroup, match.group(match.lastgroup)))
        pos = match.end()
    return found


def _resolve(kind: str, text: str, prefixes: Mapping[str, str], base: str | None) -> str | None:
    if kind == "iri":
        return urljoin(base, text[1:-1]) if base else text[1:-1]
    if kind == "pname":
        prefix, _, local = text.partition(":")
        namespace = prefixes.get(prefix)
        return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
    return None


def _place(text: str, pos: int) -> str:
    """'line L, column C' of a position (both from 1), as the engines' messages say it."""
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - text.rfind(chr(10), 0, pos)}"


def _words(text: str) -> list[tuple[str, int]]:
    """The query's words (keywords and the like), upper-cased, each with where it ends.

    Refuses brackets nested deeper than MAX_NESTING, before looking at any word: engines parse
    them recursively, and a few thousand levels overflow pyoxigraph's stack (the process dies)
    or rdflib's recursion. Refuses a quote that opens no complete string (see
    _WORD_OR_BRACKET)."""
    words = []
    depth = 0
    for match in _WORD_OR_BRACKET.finditer(text):
        word, bracket, quote = match.groups()
        if word is not None:
            words.append((word.upper(), match.end()))
        elif quote is not None:
            raise QueryError(f"malformed query at {_place(text, match.start(3))}: a string "
                             f"opened with {quote} is not closed")
        elif bracket is None:  # the end
            continue
        elif bracket in "({[":
            depth += 1
            if depth > MAX_NESTING:
                raise QueryError(f"the query nests brackets more than {MAX_NESTING} levels "
                                 "deep: simplify it")
        else:
            depth -= 1
    return words


def _scan(sparql: str, base: str | None) -> tuple[str | None, list[str], list[str]]:
    """The query form and its FROM / FROM NAMED graphs; refuses updates and SERVICE."""
    prefixes = dict(PREFIXES)
    form: str | None = None
    defaults: list[str] = []
    named: list[str] = []
    text = expand_escapes(sparql)
    for word, end in _words(text):
        if word in UPDATE_KEYWORDS:
            raise QueryError(READ_ONLY, status=403)
        if word == "SERVICE":
            raise QueryError("SERVICE is not allowed: this endpoint never makes outbound "
                             "requests", status=403)
        if word == "PREFIX":
            after = _following(text, end)
            if len(after) >= 2 and after[0][0] == "pname":
                prefixes[after[0][1].rstrip(":")] = after[1][1][1:-1]
        elif word == "BASE":
            after = _following(text, end, 1)
            if after and after[0][0] == "iri":
                base = after[0][1][1:-1]
        elif word in FORMS and form is None:
            form = word
        elif word == "FROM" and (after := _following(text, end)):
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
