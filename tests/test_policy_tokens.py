"""The policy's tokenizer and scan give what they gave before they were made faster.

``Reference`` below is the policy's lexical part as it was (commit 6baffdf): one regex match per
token, whitespace and comment, the nesting check over the whole token list, then the words. The
faster code (tipgraph.query.policy) must give the same tokens, and the same answer or the same
error, on every example query, on the policy's and the hostile tests' cases, and on random
token soups and random text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_policy import LOCAL
from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query import policy

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "queries").glob("*.rq"))
BASE = "http://localhost/sparql"


class Reference:
    """The tokenizer and scan of tipgraph.query.policy before they were made faster."""

    PN = r"[^\W\d_][\w\-.\u00B7\u0300-\u036F\u203F-\u2040]*"
    TOKEN = re.compile(
        r"""(?P<ws>\s+)
          | (?P<comment>\#[^\n\r]*)
          | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                      |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
          | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
          | (?P<var>[?$]\w+)
          | (?P<bnode>_:[\w\-.]*)
          | (?P<pname>(?:""" + PN + r""")?:(?:[\w\-:%]|\\.|\.(?=[\w\-:%]))*)
          | (?P<word>[^\W\d]\w*)
          | (?P<other>.)""",
        re.VERBOSE | re.DOTALL,
    )
    ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

    @classmethod
    def tokens(cls, sparql: str) -> list[tuple[str, str]]:
        found = []
        expanded = cls.ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), sparql)
        for match in cls.TOKEN.finditer(expanded):
            kind = match.lastgroup or "other"
            if kind not in {"ws", "comment"}:
                found.append((kind, match.group()))
        return found

    @staticmethod
    def resolve(kind, text, prefixes, base):
        if kind == "iri":
            return policy.urljoin(base, text[1:-1]) if base else text[1:-1]
        if kind == "pname":
            prefix, _, local = text.partition(":")
            namespace = prefixes.get(prefix)
            return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
        return None

    @staticmethod
    def check_nesting(toks):
        depth = 0
        for kind, text in toks:
            if kind != "other":
                continue
            if text in "({[":
                depth += 1
                if depth > policy.MAX_NESTING:
                    raise QueryError(f"the query nests brackets more than {policy.MAX_NESTING} "
                                     "levels deep: simplify it")
            elif text in ")}]":
                depth -= 1

    @classmethod
    def scan(cls, sparql, base):
        prefixes = dict(PREFIXES)
        form = None
        defaults, named = [], []
        toks = cls.tokens(sparql)
        cls.check_nesting(toks)
        for i, (kind, text) in enumerate(toks):
            if kind != "word":
                continue
            word = text.upper()
            after = toks[i + 1:i + 4]
            if word in policy.UPDATE_KEYWORDS:
                raise QueryError(policy.READ_ONLY, status=403)
            if word == "SERVICE":
                raise QueryError("SERVICE is not allowed: this endpoint never makes outbound "
                                 "requests", status=403)
            if word == "PREFIX" and len(after) >= 2 and after[0][0] == "pname":
                prefixes[after[0][1].rstrip(":")] = after[1][1][1:-1]
            elif word == "BASE" and after and after[0][0] == "iri":
                base = after[0][1][1:-1]
            elif word in policy.FORMS and form is None:
                form = word
            elif word == "FROM" and after:
                is_named = after[0][0] == "word" and after[0][1].upper() == "NAMED"
                target = after[1] if is_named and len(after) > 1 else after[0]
                iri = cls.resolve(*target, prefixes, base)
                if iri is None:
                    raise QueryError("FROM must be followed by the IRI of a local graph")
                (named if is_named else defaults).append(iri)
        return form, defaults, named


def outcome(scan, sparql: str) -> tuple:
    """A scan's answer, or its error as (status, message)."""
    try:
        return ("answer", scan(sparql, BASE))
    except QueryError as error:
        return ("refused", error.status, str(error))


def assert_same(sparql: str) -> None:
    """Same tokens; same answer or error, except that a quote opening no complete string (a
    syntax error the engine would report) is now refused by the policy itself (400), or by the
    nesting check when that comes first."""
    tokens = Reference.tokens(sparql)
    assert policy.tokens(sparql) == tokens
    found = outcome(policy._scan, sparql)
    if ("other", '"') in tokens or ("other", "'") in tokens:
        assert found[:2] == ("refused", 400), found
        assert "is not closed" in found[2] or "nests brackets" in found[2]
    else:
        assert found == outcome(Reference.scan, sparql)


CASES = [
    "", " ", "#", "# only a comment", "SELECT * {} # trailing comment", "ASK {}\n\n  \t",
    "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o }SERVICE<http://x/>{}",
    "SELECT * WHERE { FILTER(?a<?b)SERVICE<http://x/>{ ?s ?p ?o } }",
    'SELECT ?service WHERE { BIND("SERVICE <http://x/> {}" AS ?service) }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/>",
    "PREFIX service: <urn:x:> SELECT * WHERE { ?s service:p ?o }",
    "SELECT ('''SERVICE\n<x>''' AS ?x) {}", "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "WITH <urn:g:a> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "PREFIX : <urn:x:> MOVE :a TO :b",
    "PREFIX g: <urn:g:> SELECT * FROM g:a FROM NAMED <urn:g:b> WHERE { ?s ?p ?o }",
    "PREFIX x: <http://127.0.0.1:9/> SELECT * FROM x:y WHERE { ?s ?p ?o }",
    "BASE <http://a/b/> SELECT * FROM <c> FROM NAMED <../d> {}", "SELECT * FROM", "FROM NAMED",
    "SELECT * FROM NAMED", "SELECT * FROM ?x {}", "SELECT * FROM NAMED NAMED {}", "PREFIX x:",
    "PREFIX x: ", "BASE", "PREFIX 1: <x>", "ſERVICE <x> {}", "CONﬆRUCT {} {}", "ıNSERT",
    "SELECT * FROM x:a\\.b {}", "PREFIX x: <urn:> SELECT * FROM x:a\\.b {}",
    "SELECT * {} #\r\nINSERT", 'SELECT ("a\\"b" AS ?x) {}', "SELECT (\"\"\"a\"\"b\"\"\" AS ?x) {}",
    "SELECT * { ?s ?p 12.5e3, -4, .5 } LIMIT 10", "SELECT * { [] ?p [ ?q 'x' ] }",
    "SELECT * WHERE " + "{" * 64 + "}" * 64, "SELECT * WHERE " + "{" * 65 + "}" * 65,
    "INSERT " + "(" * 65, "(" * 65 + " INSERT", ")" * 100 + "(" * 100,
    "ASK { " + "[] ( ) {}" * 100 + " }", "[" * 64 + "]" + "[" * 2, "{" * 64 + "'}'" + "{",
    "ASK { FILTER(" + "(" * 65 + "1" + ")" * 65 + ") }",
    "ASK { " + "[ <p> " * 5000 + "]" * 5000 + " }",
    "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 3000 + "}" * 3001,
    "'''unterminated", '"""unterminated', "'single\nline'", '"a\\', "<iri with space>",
    "_:b1.x _: $v ?x ?? $", ":a.b. :c", "a:b:c%20d\\~e", "\\u0028" * 70, "\\U00000028 \\u00",
    "\x00\ud7ff\U0001f600", "x:" + "a" * 50 + ".",
]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_queries(path):
    assert_same(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("sparql", CASES)
def test_policy_and_hostile_cases(sparql):
    assert_same(sparql)


SOUP = st.sampled_from([
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "[", "]", "?s", "$o",
    ".", ";", ",", "FILTER", "OPTIONAL", "SERVICE", "service", "<http://127.0.0.1:1/>", "<urn:g>",
    "<a b>", "1", "2.5", "*", '"', "'", "'''", '"""', '"x"', "'y'", "#", "# c\n", "\\", "\\u0053",
    "\\u0028", "\\U0000007B", "PREFIX", "x:", "x:y", ":", ":z", "x:a\\.b", "BASE", "FROM",
    "NAMED", "named", "INSERT", "insert", "DATA", "WITH", "\x00", "\ud7ff", "\U0001f600", "a",
    "^^", "@en", "<", ">", "_:b", "_", "ſ", "ﬆ", "é", "9a", "-", "%", "\n", "\r", "\t",
])
SEPARATORS = st.sampled_from(["", " ", "\n", "\t", "#c\n", "  "])


@settings(max_examples=1500, deadline=None)
@given(parts=st.lists(st.tuples(SOUP, SEPARATORS), max_size=40))
def test_random_token_soup(parts):
    assert_same("".join(token + separator for token, separator in parts))


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.sampled_from(["(", "{", "[", "(", "{", "[", ")", "}", "]", "INSERT",
                                       "x", "'", '"', "#", "\n", " ", "<", ">"]), max_size=400))
def test_random_brackets(parts):
    """Deep enough, often, to cross MAX_NESTING (and to refuse before or after a keyword)."""
    assert_same("".join(parts))


@settings(max_examples=1500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("\"'\\<>#:?$_.(){}[]aAſ1 \n\r\tu0%-é")),
                    max_size=60))
def test_random_text(text):
    assert_same(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_random_unicode(text):
    assert_same(text)


def test_the_scan_skips_comments_whitespace_and_strings_inside_one_match():
    """What makes it fast: a match per word or bracket, not per token (nor per blank)."""
    text = "SELECT ?x # a comment\n WHERE { ?x a <urn:c> ; <urn:p> 'a' , 12 . }\n\n"
    found = [m.group() for m in policy._WORD_OR_BRACKET.finditer(text)]
    assert [m.strip() for m in found] == ["SELECT", "?x # a comment\n WHERE", "{", "?x a",
                                          "<urn:c> ; <urn:p> 'a' , 12 . }", "", ""]


@pytest.mark.parametrize(("unit", "refused"), [
    ("'xx\\\"", True), ('"\\', True), ("a.", False), ("a-", False), ("é·", False),
    ("a\\.", False), ('"""a', False),
])
def test_hostile_runs_are_scanned_once(unit, refused):
    """Inputs that made the scan quadratic (each quote, or each word of a run like a.a.a.,
    scanned the rest of the line again): 100 KB of them took the old scan 25 s to 70 s.
    Answered now; an unclosed string is refused with where it starts."""
    sparql = unit * (100_000 // len(unit))
    if refused:
        with pytest.raises(QueryError, match=r"line 1, column \d+: a string opened with"):
            policy.check_query(sparql, LOCAL)
    else:
        assert policy.check_query(sparql, LOCAL).form is None
