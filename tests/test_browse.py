"""The browse page's search (tipgraph.publish.browse) read by the engine gives what reading the
whole graph in rdflib gives: the same resources, labels and types, in the same order."""

from __future__ import annotations

import pytest
from rdflib import URIRef

from tipgraph.model.namespaces import RDF, SKOS, TIP
from tipgraph.publish.browse import find
from tipgraph.publish.describe import LabelIndex

TEXTS = ["", "africa", "ECOWAS", "eco", "action plan", "Plan", "https://w3id", "id/ec", "ASEAN",
         "zzz-nothing", "-", "é", '"', "\\", "\\u0022", "'", "{", "?s", "traffick", "UN"]


def by_reading_everything(kg, label_of, cls, text):
    """The rule as the page applied it before: on merged rdflib graphs of the whole data."""
    asserted, data = kg.asserted(), kg.union(inferred=True, ontology=False)
    base = str(kg.config["base_iri"])
    candidates = ({s for s in data.subjects(RDF.type, cls)} if cls is not None
                  else {s for s in asserted.subjects() if isinstance(s, URIRef)})
    needle, results = text.lower(), []
    for s in candidates:
        if not str(s).startswith(base):
            continue
        names = [label_of(s)] + [str(o) for p in (TIP.acronym, SKOS.altLabel)
                                 for o in asserted.objects(s, p)]
        if needle and not any(needle in n.lower() for n in names) and needle not in str(s):
            continue
        types = tuple(sorted({label_of(t) for t in asserted.objects(s, RDF.type)}))
        results.append((s, label_of(s), types))
    return sorted(results, key=lambda r: (r[1].lower(), str(r[0])))


@pytest.fixture(scope="module")
def labels(kg):
    return LabelIndex.of(kg)


@pytest.mark.parametrize("text", TEXTS)
def test_search_by_text_is_the_same(kg, labels, text):
    found = [(f.iri, f.label, f.types) for f in find(kg, labels, None, text)]
    assert found == (by_reading_everything(kg, labels, None, text) if text else [])


@pytest.mark.parametrize("cls", ["Mechanism", "Organisation", "Instrument", "Region", "Body",
                                 "Nothing"])
@pytest.mark.parametrize("text", ["", "africa", "plan", "\\"])
def test_search_by_class_is_the_same(kg, labels, cls, text):
    iri = TIP[cls]
    found = [(f.iri, f.label, f.types) for f in find(kg, labels, iri, text)]
    expected = by_reading_everything(kg, labels, iri, text)
    assert found == expected
    if cls == "Mechanism" and not text:
        assert len(found) >= 19  # not vacuous: the document's mechanisms are all there


def test_hostile_text_is_only_text(kg, labels):
    # a needle that would close the string and add a pattern if it were pasted into the query
    assert find(kg, labels, None, 'x") || true || CONTAINS("') == []


@pytest.mark.parametrize("cls", ["<script>x</script>", "urn:a> } ; DROP ALL ; { <urn:b",
                                 "urn:a b", 'urn:"x"', "urn:a\\b"])
def test_a_class_that_cannot_be_an_iri_finds_nothing(kg, labels, cls):
    assert find(kg, labels, URIRef(cls), "") == []

