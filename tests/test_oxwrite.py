"""The worker's fast path on the oxigraph store (pyoxigraph writes the answer) against the rdflib
path (terms converted, tipgraph.query.results writes): the same answers, parsed back, in every
format; the same row limit; the row counters exact however pyoxigraph cuts its writes."""

from __future__ import annotations

import csv
import io
import random
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.conftest import REPO
from tipgraph.errors import QueryError
from tipgraph.model.queries import example_queries
from tipgraph.publish.formats import RDF_FORMATS, RESULT_FORMATS
from tipgraph.query.results import run_serialized, serialize
from tipgraph.store import OxigraphStore, open_store
from tipgraph.store.oxwrite import SINKS, drop_unused_prefixes

E = "http://example.org/"
NS = "{http://www.w3.org/2005/sparql-results#}"
NASTY = ['say "hi"\tand\nbye', "back\\slash\\", 'end quote\\"', "},{\"x\":{", "[{", "<result>",
         "a,b", "\r\n", "", "ünïcødé ✓", "{}", ',{"v":{', "x,{", "[{}]",
         "@prefix e: <http://example.org/> .\n", '""', "\\\\\""]


def _term(i: int, text: str) -> ox.Literal:
    kinds = [ox.Literal(text), ox.Literal(text, language="en"),
             ox.Literal(text, datatype=ox.NamedNode(E + "type"))]
    return kinds[i % 3]


@pytest.fixture(scope="module")
def small() -> OxigraphStore:
    nq = io.BytesIO()
    quads = []
    for i, text in enumerate(NASTY * 3):
        quads.append(ox.Quad(ox.NamedNode(f"{E}s{i}"), ox.NamedNode(E + "p"), _term(i, text),
                             ox.NamedNode(E + "g")))
        quads.append(ox.Quad(ox.BlankNode(f"b{i}"), ox.NamedNode(E + "q"),
                             ox.Literal(str(i), datatype=ox.NamedNode(
                                 "http://www.w3.org/2001/XMLSchema#integer")),
                             ox.NamedNode(E + "g")))
    ox.serialize(quads, nq, ox.RdfFormat.N_QUADS)
    return OxigraphStore.from_nquads(nq.getvalue())


@pytest.fixture(scope="module")
def bundled(kg) -> OxigraphStore:
    return open_store(kg, "oxigraph")


def solutions(body: bytes, fmt: str) -> list[tuple]:
    """The rows of a results document, as comparable values."""
    if fmt == "csv":  # (one empty field is an empty line, or "" as Python's csv writes it)
        header, *rows = csv.reader(io.StringIO(body.decode("utf-8"), newline=""))
        return [tuple(header)] + [tuple(row or [""] * len(header)) for row in rows]
    if fmt == "xml":  # (pyoxigraph's XML reader trims a literal's final line break)
        root = ET.fromstring(body)
        names = [v.get("name") for v in root.iter(NS + "variable")]
        rows = [{b.get("name"): (b[0].tag, b[0].text or "", tuple(sorted(b[0].attrib.items())))
                 for b in result.iter(NS + "binding")} for result in root.iter(NS + "result")]
        return [tuple(names)] + [tuple(row.get(name) for name in names) for row in rows]
    parsed = ox.parse_query_results(body, getattr(ox.QueryResultsFormat, fmt.upper()))
    if isinstance(parsed, ox.QueryBoolean):
        return [(bool(parsed),)]
    names = [v.value for v in parsed.variables]
    return [tuple(names)] + [tuple(row[name] for name in names) for row in parsed]


def both(store: OxigraphStore, sparql: str, fmt: str, max_rows: int | None = None):
    fast = store.serialized(sparql, fmt, max_rows=max_rows)
    answer = store.query(sparql, max_rows=max_rows)
    slow = serialize(answer, fmt)
    return fast, (*slow, answer.size)


SMALL_QUERIES = [
    "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?s ?p ?o",
    "SELECT ?o ?missing WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o",  # unbound column
    "SELECT ?x WHERE { VALUES ?x { UNDEF UNDEF } }",                          # empty rows
    "SELECT * WHERE { ?s <http://example.org/nothing> ?o }",                  # no rows
]


@pytest.mark.parametrize("fmt", [f.name for f in RESULT_FORMATS])
@pytest.mark.parametrize("sparql", SMALL_QUERIES)
def test_select_paths_agree_on_awkward_literals(small, sparql, fmt):
    (fast_body, fast_media, fast_size), (slow_body, slow_media, slow_size) = both(
        small, sparql, fmt)
    assert fast_media == slow_media
    assert fast_size == slow_size
    assert solutions(fast_body, fmt) == solutions(slow_body, fmt)
    assert len(solutions(fast_body, fmt)) == fast_size + 1  # the header


EXAMPLES = example_queries(REPO)


@pytest.mark.parametrize("query", EXAMPLES, ids=[q.name for q in EXAMPLES])
def test_example_queries_agree_in_every_results_format(bundled, query):
    for fmt in RESULT_FORMATS:
        (fast_body, fast_media, fast_size), (slow_body, slow_media, slow_size) = both(
            bundled, query.sparql, fmt.name)
        assert (fast_media, fast_size) == (slow_media, slow_size), fmt.name
        assert solutions(fast_body, fmt.name) == solutions(slow_body, fmt.name), fmt.name


GRAPH_QUERIES = [
    "CONSTRUCT { ?c a owl:Class ; rdfs:label ?l } WHERE { ?c a owl:Class OPTIONAL { ?c "
    "rdfs:label ?l } }",
    "DESCRIBE ?m WHERE { ?m a tip:Mechanism } LIMIT 3",
    "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 400",  # blank nodes, every kind of literal
]


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("sparql", GRAPH_QUERIES)
def test_graph_paths_agree(bundled, sparql, fmt):
    (fast_body, fast_media, fast_size), (slow_body, slow_media, slow_size) = both(
        bundled, sparql, fmt.name)
    assert fast_media == slow_media == fmt.media_type
    fast = Graph().parse(data=fast_body, format=fmt.rdflib)
    slow = Graph().parse(data=slow_body, format=fmt.rdflib)
    assert len(fast) == fast_size == slow_size > 0
    assert isomorphic(fast, slow)


def test_turtle_declares_the_prefixes_it_uses_and_no_others(bundled):
    body, _, _ = bundled.serialized("CONSTRUCT WHERE { ?c a owl:Class } LIMIT 3", "turtle")
    text = body.decode("utf-8")
    assert "@prefix owl: <http://www.w3.org/2002/07/owl#> ." in text
    assert "@prefix foaf:" not in text and "@prefix sh:" not in text
    assert drop_unused_prefixes(b"@prefix a: <x:> .\n@prefix b: <y:> .\na:s a:p 1 .\n") == (
        b"@prefix a: <x:> .\na:s a:p 1 .\n")


@pytest.mark.parametrize("fmt", [f.name for f in RESULT_FORMATS] + ["turtle", "ntriples"])
def test_row_limit_is_the_same_on_both_paths(small, fmt):
    select = "SELECT ?s ?o WHERE { ?s ?p ?o }"
    construct = "CONSTRUCT WHERE { ?s ?p ?o }"
    sparql = construct if fmt in {"turtle", "ntriples"} else select
    total = small.query(sparql).size
    assert small.serialized(sparql, fmt, max_rows=total)[2] == total
    for path in (lambda: small.serialized(sparql, fmt, max_rows=total - 1),
                 lambda: small.query(sparql, max_rows=total - 1)):
        with pytest.raises(QueryError, match="max_result_rows") as raised:
            path()
        assert raised.value.status == 400


def test_a_large_result_is_stopped_early():
    store = OxigraphStore(ox.Store())
    store._store.extend(ox.Quad(ox.NamedNode(f"{E}s{i}"), ox.NamedNode(E + "p"),
                                ox.Literal("x" * 50)) for i in range(20_000))
    with pytest.raises(QueryError, match="max_result_rows"):
        store.serialized("SELECT * WHERE { ?s ?p ?o }", "json", max_rows=10)
    body, _, size = store.serialized("SELECT * WHERE { ?s ?p ?o }", "tsv", max_rows=20_000)
    assert size == 20_000 and body.count(b"\n") == 20_001


@pytest.mark.parametrize("fmt", [f.name for f in RESULT_FORMATS])
@pytest.mark.parametrize("sparql", SMALL_QUERIES[:3])
def test_row_counters_are_exact_however_the_output_is_cut(small, fmt, sparql):
    body = ox.Store.query(small._store, sparql).serialize(
        format=getattr(ox.QueryResultsFormat, fmt.upper()))
    expected = len(solutions(body, fmt)) - 1
    rng = random.Random(8)
    for attempt in range(60):
        sink = SINKS[fmt](None)
        position = 0
        while position < len(body):
            step = 1 + (attempt % 5 if attempt < 20 else rng.randrange(40))
            sink.write(body[position:position + step])
            position += step
        assert sink.rows <= expected and sink.exact_rows() == expected, (fmt, attempt)
        assert sink.getvalue() == body


def test_ask_and_jsonld_keep_tipgraphs_writers(bundled):
    assert run_serialized(bundled, "ASK {}", "csv")[0] == b"_askResult\r\ntrue\r\n"
    assert run_serialized(bundled, "ASK {}", "json")[:2] == (
        b'{"head": {}, "boolean": true}', "application/sparql-results+json")
    body, media, size = run_serialized(bundled, "CONSTRUCT WHERE { ?c a owl:Class } LIMIT 2",
                                       "jsonld")
    assert media == "application/ld+json" and size == 2
    assert len(Graph().parse(data=body, format="json-ld")) == 2


@pytest.mark.parametrize("sparql", [
    "SELECT (<<( <http://a> <http://b> <http://c> )>> AS ?t) {}",
    "SELECT (tRiPlE(<http://a>, <http://b>, <http://c>) AS ?t) {}",
    "CONSTRUCT { <http://a> <http://b> <http://c> {| <http://d> 1 |} } WHERE {}",
])
def test_triple_terms_are_still_refused(bundled, sparql):
    for fmt in ("json", "csv", "turtle", "ntriples"):
        with pytest.raises(QueryError, match="RDF-star"):
            run_serialized(bundled, sparql, fmt)
