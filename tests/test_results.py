"""SPARQL results serialisations, checked against the W3C results format specifications."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from tipgraph.query.results import serialize
from tipgraph.store import Answer

ROWS = Answer("bindings", ["x", "y"], [
    (URIRef("http://example.org/a"), Literal('say "hi"\tand\nbye', lang="en")),
    (BNode("b0"), Literal("42", datatype=XSD.integer)),
    (Literal("plain, with comma"), None),
])
NS = "{http://www.w3.org/2005/sparql-results#}"


def test_json():
    body, media = serialize(ROWS, "json")
    data = json.loads(body)
    assert media == "application/sparql-results+json"
    assert data["head"]["vars"] == ["x", "y"]
    first, second, third = data["results"]["bindings"]
    assert first["y"] == {"type": "literal", "value": 'say "hi"\tand\nbye', "xml:lang": "en"}
    assert second == {"x": {"type": "bnode", "value": "b0"},
                      "y": {"type": "literal", "value": "42", "datatype": str(XSD.integer)}}
    assert third == {"x": {"type": "literal", "value": "plain, with comma"}}  # unbound: absent
    assert json.loads(serialize(Answer("boolean", boolean=True), "json")[0]) == {
        "head": {}, "boolean": True}


def test_xml():
    root = ET.fromstring(serialize(ROWS, "xml")[0])
    assert [v.get("name") for v in root.iter(NS + "variable")] == ["x", "y"]
    results = list(root.iter(NS + "result"))
    assert results[0].find(f"{NS}binding/{NS}uri").text == "http://example.org/a"
    literal = results[0].find(f"{NS}binding[@name='y']/{NS}literal")
    assert literal.text == 'say "hi"\tand\nbye'
    assert literal.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert len(results[2].findall(NS + "binding")) == 1
    ask = ET.fromstring(serialize(Answer("boolean", boolean=False), "xml")[0])
    assert ask.find(NS + "boolean").text == "false"


def test_csv():
    body, media = serialize(ROWS, "csv")
    assert media == "text/csv" and body.startswith(b"x,y\r\n")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[1] == ["http://example.org/a", 'say "hi"\tand\nbye']
    assert rows[2] == ["_:b0", "42"]
    assert rows[3] == ["plain, with comma", ""]


def test_tsv():
    body, media = serialize(ROWS, "tsv")
    lines = body.decode("utf-8").split("\n")
    assert media == "text/tab-separated-values"
    assert lines[0] == "?x\t?y"
    assert lines[1] == '<http://example.org/a>\t"say \\"hi\\"\\tand\\nbye"@en'
    assert lines[2] == f'_:b0\t"42"^^<{XSD.integer}>'
    assert lines[3] == '"plain, with comma"\t'


def test_graph_formats_parse_back():
    from rdflib import Graph

    triples = [(URIRef("http://example.org/a"), URIRef("http://example.org/p"), Literal("v"))]
    for fmt, rdflib_format in [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"),
                               ("rdfxml", "xml"), ("trig", "trig"), ("nquads", "nquads")]:
        body, _ = serialize(Answer("graph", triples=triples), fmt)
        parsed = Graph().parse(data=body, format=rdflib_format)
        assert set(parsed) == set(triples), fmt
