"""N-Triples / N-Quads written from the engine: the same bytes as the rdflib path."""

from __future__ import annotations

import pytest
from rdflib import BNode

from tests.conftest import root_with_page
from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.publish.canonical import canonical_quads
from tipgraph.publish.enginedump import can_write, engine_dump
from tipgraph.publish.export import (
    dump_quads,
    export,
    namespaces,
    parse_dump,
    resolve_format,
    serialize_quads,
)

LINE_FORMATS = ["ntriples", "nquads"]

# Blank nodes shared between two page graphs (one document: `_:shared` is one node), two
# blank nodes with the same structure (the canonicaliser must break the tie), a list, and
# literals whose spelling differs between writers (tab, quote, newline, carriage return,
# backslash, language tags, typed values).
BLANK_DATA = """
@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
page:3 {
  :ecowas a tip:RegionalOrganisation ; skos:prefLabel "ECOWAS"@en, "CEDEAO"@fr-BE ;
    tip:note _:shared ; tip:twin [ skos:prefLabel "twin" ], [ skos:prefLabel "twin" ] ;
    tip:items ( "a" "b" ) .
  _:shared skos:prefLabel "tab\\there, \\"quoted\\", new\\nline, cr\\r, back\\\\slash" .
  :plan skos:prefLabel "plan" ; tip:count 42 ; tip:date "2010-12-01"^^xsd:date ;
    tip:share 0.50 ; tip:ratio 1.5e0 ; tip:flag true ; tip:year "2009"^^xsd:gYear .
}
page:4 {
  _:shared skos:altLabel "seen on two pages" .
  :plan tip:about _:shared .
}
"""


@pytest.fixture(scope="module", params=["on-disk", "in-memory"])
def blank_kg(request, tmp_path_factory):
    folder = root_with_page(tmp_path_factory.mktemp("blank"), "")
    (folder / "data" / "page3.trig").write_text(BLANK_DATA, encoding="utf-8")
    overrides = {"root": folder}
    if request.param == "on-disk":
        overrides["cache_dir"] = tmp_path_factory.mktemp("blank-cache")
    else:
        overrides["use_cache"] = False
    kg = build(load_config(overrides, environ={}))
    assert (kg.store_directory is not None) == (request.param == "on-disk")
    return kg


def _rdflib_path(kg, fmt, inferred):
    """What export wrote before the engine path (and still writes for rdflib graphs)."""
    return serialize_quads(dump_quads(kg, inferred), resolve_format(fmt), namespaces(kg))


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_bundled_dump_is_byte_identical_to_the_rdflib_path(kg, fmt, inferred):
    assert can_write(kg, resolve_format(fmt))
    assert export(kg, fmt, inferred) == _rdflib_path(kg, fmt, inferred)


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
@pytest.mark.parametrize("fmt", LINE_FORMATS)
def test_blank_nodes_shared_between_graphs_give_the_same_bytes(blank_kg, fmt, inferred):
    data = export(blank_kg, fmt, inferred)
    assert b"_:" in data and b"\\t" not in data  # blank nodes there; tabs left as rdflib does
    assert data == _rdflib_path(blank_kg, fmt, inferred)


def test_shared_blank_node_keeps_one_label_across_graphs(blank_kg):
    quads = parse_dump(export(blank_kg, "nquads"), "nquads")
    shared = {s for s, p, o, g in quads if isinstance(s, BNode) and "seen on two" in str(o)}
    assert len(shared) == 1
    graphs = {str(g).rsplit("/", 1)[-1] for s, _, _, g in quads if s in shared}
    assert {"3", "4"} <= graphs


def test_canonicalising_only_the_blank_quads_gives_the_whole_datasets_labels(blank_kg):
    everything = dump_quads(blank_kg, inferred=True, description=False)
    with_blank = [q for q in everything if any(isinstance(t, BNode) for t in q[:3])]
    assert with_blank and len(with_blank) < len(everything)
    assert canonical_quads(with_blank) == [q for q in canonical_quads(everything)
                                           if any(isinstance(t, BNode) for t in q[:3])]


def test_a_literal_with_a_line_separator_stays_on_its_line(tmp_path):
    folder = root_with_page(tmp_path, ':x <http://www.w3.org/2004/02/skos/core#prefLabel> '
                                      '"one\u2028two\u0085three" .')
    kg = build(load_config({"root": folder, "use_cache": False}, environ={}))
    labels = {str(o) for _, _, o, _ in parse_dump(export(kg, "nquads"), "nquads")
              if "two" in str(o)}
    assert labels == {"one\u2028two\u0085three"}


@pytest.mark.parametrize("fmt", ["jsonld", "rdfxml"])
def test_formats_the_engine_does_not_write_are_refused(kg, fmt):
    assert not can_write(kg, resolve_format(fmt))
    with pytest.raises(ValueError, match=fmt):
        engine_dump(kg, resolve_format(fmt), inferred=False)


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_pyoxigraph_written_formats_round_trip_with_blank_nodes(blank_kg, fmt):
    resolved = resolve_format(fmt)
    assert can_write(blank_kg, resolved)
    data = export(blank_kg, resolved, inferred=True)
    assert data == export(blank_kg, resolved, inferred=True)
    expected = dump_quads(blank_kg, inferred=True)
    if not resolved.quads:
        expected = canonical_quads((s, p, o, None) for s, p, o, _ in expected)
    assert parse_dump(data, resolved) == expected


def test_trig_writes_each_graph_once(kg):
    text = export(kg, "trig", inferred=True).decode("utf-8")
    blocks = [line.split(" ")[0] for line in text.splitlines() if line.endswith("{")]
    assert len(blocks) == len(set(blocks)) > 20
