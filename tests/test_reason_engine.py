"""The engine-run rules give owlrl's closure on synthetic data from benchmarks/generate.py, on
the bundled data, and the same answer whether the data is an rdflib graph or lives in
pyoxigraph already (oxrdflib)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
from oxrdflib import OxigraphStore
from rdflib import BNode, Dataset, Graph, Literal, URIRef

from tipgraph.model import reason
from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import OWL, RDF, RDFS, TIP

REPO = Path(__file__).resolve().parent.parent
NOISE_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}
VOCABULARIES = ("http://www.w3.org/", "https://schema.org/", "http://purl.org/",
                "http://xmlns.com/", "http://data.europa.eu/", str(TIP))


def synthetic(triples: int, seed: int) -> str:
    spec = importlib.util.spec_from_file_location("generate", REPO / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    out = io.StringIO()
    generate.generate(triples, out, seed)
    return out.getvalue()


def triples_of(trig: str) -> Graph:
    dataset = Dataset()
    dataset.parse(data=trig, format="trig")
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def owlrl_new(data: Graph, ontology: Graph) -> set[tuple]:
    """owlrl's OWL-RL closure less the input and owlrl's axiomatic noise (facts about the
    vocabularies themselves, owl:sameAs x x, owl:Thing and rdfs:Resource types)."""
    graph = Graph()
    graph += data
    graph += ontology
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    schema_terms = set(ontology.subjects())
    new = set()
    for s, p, o in graph:
        if (s, p, o) in data or (s, p, o) in ontology:
            continue
        if isinstance(s, Literal | BNode) or s in schema_terms or str(s).startswith(VOCABULARIES):
            continue
        if (p == OWL.sameAs and s == o) or (p == RDF.type and o in NOISE_OBJECTS):
            continue
        new.add((s, p, o))
    return new


def ours(data: Graph, ontology: Graph) -> set[tuple]:
    return {t for t in reason.infer(data, ontology) if t[1] != TIP.adoptionYear}


@pytest.mark.parametrize("seed", [1, 7])
def test_same_closure_as_owlrl_on_synthetic_data(kg: KnowledgeGraph, seed: int) -> None:
    data = triples_of(synthetic(1500, seed))
    expected = owlrl_new(data, kg.ontology)
    got = ours(data, kg.ontology)
    assert sorted(expected - got) == [] and sorted(got - expected) == []
    predicates = {p for _, p, _ in got}
    # the synthetic data exercises inverse, symmetric, transitive and sub-property rules
    assert {TIP.hasUnit, TIP.partnerOf, TIP.hasPart, TIP.supersededBy, TIP.follows,
            TIP.supports} <= predicates
    chains = {(s, o) for s, p, o in got if p == TIP.partOf}
    assert chains, "project phases chained by tip:partOf close transitively"


def test_same_closure_as_owlrl_on_the_bundled_data(kg: KnowledgeGraph) -> None:
    data = kg.asserted()
    assert len(data) > 100
    assert ours(data, kg.ontology) == owlrl_new(data, kg.ontology)


def test_adoption_year_from_every_precision() -> None:
    data = triples_of(synthetic(600, 3))
    inferred = reason.infer(data, Graph())
    dated = {(s, str(o)[:4]) for s, o in data.subject_objects(TIP.adoptionDate)}
    years = {(s, str(o)) for s, o in inferred.subject_objects(TIP.adoptionYear)}
    assert dated and years == dated
    assert {o.datatype for o in inferred.objects(None, TIP.adoptionYear)} == {
        URIRef("http://www.w3.org/2001/XMLSchema#gYear")}


def test_oxigraph_backed_data_is_reasoned_in_place(kg: KnowledgeGraph) -> None:
    trig = synthetic(800, 5)
    store = ox.Store()
    store.load(trig.encode(), format=ox.RdfFormat.TRIG, to_graph=None)
    name = "urn:test:asserted"
    store.update(f"INSERT {{ GRAPH <{name}> {{ ?s ?p ?o }} }} WHERE {{ {{ ?s ?p ?o }} UNION "
                 "{ GRAPH ?g { ?s ?p ?o } } }")
    backed = Graph(store=OxigraphStore(store=store), identifier=URIRef(name))
    in_place = reason.infer(backed, kg.ontology)
    assert isinstance(in_place.store, OxigraphStore) and in_place.store._inner is store
    assert set(in_place) == set(reason.infer(triples_of(trig), kg.ontology))
    assert not set(in_place) & set(backed), "only what the data does not already hold"
