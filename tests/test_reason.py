"""The reasoner gives owlrl's OWL-RL closure on the ontology's axioms, keeps inferences out of
the asserted graphs, and is not rerun while the inputs are unchanged."""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
from rdflib import BNode, Graph, Literal, URIRef

from tipgraph.config import load_config
from tipgraph.model import reason
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.namespaces import GRAPH_INFERRED, ID, OWL, RDF, RDFS, TIP, is_page_graph

# Triples owlrl writes about everything (axiomatic noise), not consequences of tipgraph's axioms.
NOISE_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}

SYNTHETIC = """
@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:nigeria a tip:Country ; tip:memberOf :ecowas ; tip:partnerOf :iom .
:ecowas a tip:SubRegionalMechanism ; tip:hasUnit :unit .
:unit a tip:Body ; tip:monitors :plan-ii .
:plan-iii a tip:PolicyInstrument ; tip:supersedes :plan-ii .
:plan-i a tip:PolicyInstrument ; tip:followedBy :plan-ii .
:plan-ii a tip:PolicyInstrument ; tip:fundedBy :eu ; tip:adoptionDate "2008-05"^^xsd:gYearMonth .
:town a tip:City ; tip:partOf :province .
:province a tip:SubnationalArea ; tip:partOf :country .
:country a tip:Country ; tip:partOf :region .
:iom a tip:IntergovernmentalOrganisation ; tip:coChairedBy :eu .
"""


def owlrl_new(data: Graph, ontology: Graph) -> set[tuple]:
    """owlrl's OWL-RL closure of data + ontology, less the input and the noise."""
    graph = Graph()
    for triple in data:
        graph.add(triple)
    for triple in ontology:
        graph.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    ontology_terms = set(ontology.subjects()) | {URIRef(str(TIP))}
    new = set()
    for s, p, o in graph:
        if (s, p, o) in data or (s, p, o) in ontology:
            continue
        if isinstance(s, (Literal, BNode)) or s in ontology_terms or str(s).startswith(str(TIP)):
            continue
        if p == OWL.sameAs and s == o:
            continue
        if p == RDF.type and o in NOISE_OBJECTS:
            continue
        if str(s).startswith(("http://www.w3.org/", "https://schema.org/", "http://purl.org/",
                              "http://xmlns.com/", "http://data.europa.eu/")):
            continue
        new.add((s, p, o))
    return new


def ours(data: Graph, ontology: Graph) -> set[tuple]:
    inferred = reason.infer(data, ontology)
    return {t for t in inferred if t[1] != TIP.adoptionYear}  # tipgraph's own extra rule


def test_same_closure_as_owlrl_on_a_synthetic_graph(kg: KnowledgeGraph) -> None:
    data = Graph().parse(data=SYNTHETIC, format="turtle")
    expected = owlrl_new(data, kg.ontology)
    got = ours(data, kg.ontology)
    assert sorted(expected - got) == [] and sorted(got - expected) == []
    # the rules the ontology's axioms call for are all exercised here
    for triple in [
        (ID.ecowas, TIP.hasMember, ID.nigeria),              # inverse
        (ID.iom, TIP.partnerOf, ID.nigeria),                 # symmetric
        (ID.town, TIP.partOf, ID.region),                    # transitive
        (ID.region, TIP.hasPart, ID.town),                   # inverse of transitive
        (ID["plan-iii"], TIP.follows, ID["plan-ii"]),        # sub-property
        (ID["plan-ii"], TIP.followedBy, ID["plan-iii"]),     # inverse of a sub-property
        (ID.eu, TIP.supports, ID["plan-ii"]),                # inverse + sub-property
        (ID.iom, TIP.chairedBy, ID.eu),                      # sub-property
        (ID.nigeria, RDF.type, URIRef("http://www.w3.org/ns/prov#Agent")),  # sub-class
    ]:
        assert triple in got


def test_same_closure_as_owlrl_on_the_bundled_data(kg: KnowledgeGraph) -> None:
    data = kg.asserted()
    assert len(data) > 100
    assert ours(data, kg.ontology) == owlrl_new(data, kg.ontology)


def test_adoption_year_is_derived() -> None:
    ontology = Graph()
    data = Graph().parse(data=SYNTHETIC, format="turtle")
    inferred = reason.infer(data, ontology)
    year = inferred.value(ID["plan-ii"], TIP.adoptionYear)
    assert year is not None and str(year) == "2008"


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "x.trig"
    path.parent.mkdir()
    path.write_text("""
@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
page:4 { :nigeria a tip:Country ; tip:memberOf :ecowas . }
""", encoding="utf-8")
    return path


def test_inferences_only_in_the_inferred_graph(repo_root: Path, data_file: Path,
                                               tmp_path: Path) -> None:
    config = load_config({"root": repo_root, "cache_dir": tmp_path / "cache"}, environ={})
    kg = build(config, [data_file])
    inverse = (ID.ecowas, TIP.hasMember, ID.nigeria)
    assert inverse in kg.graph(GRAPH_INFERRED)
    pages = [g for g in kg.dataset.graphs() if is_page_graph(g.identifier)]
    assert pages and any((ID.nigeria, TIP.memberOf, ID.ecowas) in g for g in pages)
    for graph in kg.dataset.graphs():
        if graph.identifier != GRAPH_INFERRED:
            assert inverse not in graph, graph.identifier
    assert inverse in kg.union()
    assert inverse not in kg.asserted()


def test_cache_reused_when_unchanged_and_rebuilt_when_data_changes(
    repo_root: Path, data_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = reason.infer

    def counting(data: Graph, ontology: Graph) -> Graph:
        calls.append(len(data))
        return real(data, ontology)

    monkeypatch.setattr(reason, "infer", counting)
    cache = tmp_path / "cache"
    config = load_config({"root": repo_root, "cache_dir": cache}, environ={})
    first = build(config, [data_file])
    assert len(calls) == 1 and len(list(cache.glob("inferred-*.nt"))) == 1
    second = build(config, [data_file])
    assert len(calls) == 1, "unchanged inputs: the cached inferences are reused"
    assert set(second.inferred) == set(first.inferred)
    data_file.write_text(data_file.read_text(encoding="utf-8").replace(
        ":ecowas .", ":ecowas , :african-union ."), encoding="utf-8")
    third = build(config, [data_file])
    assert len(calls) == 2, "a changed data file: inference is redone"
    assert (ID["african-union"], TIP.hasMember, ID.nigeria) in third.inferred
    assert len(list(cache.glob("inferred-*.nt"))) == 2
