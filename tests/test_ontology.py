"""The ontology checks itself: documentation, declared terms, no misspelt W3C terms, header."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS, XSD

import tipgraph
from tipgraph.model.load import rdf_files
from tipgraph.model.namespaces import ONTOLOGY_IRI, TIP, VANN

CLOSED = {str(ns): ns for ns in (OWL, RDF, RDFS, SH, SKOS, XSD)}
TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


@pytest.fixture(scope="module")
def ontology(repo_root: Path) -> Graph:
    graph = Graph()
    for path in rdf_files(repo_root / "ontology"):
        graph.parse(path)
    return graph


def own_terms(ontology: Graph) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in ontology.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(str(TIP))}


def every_iri(repo_root: Path) -> dict[URIRef, str]:
    """Every IRI in ontology/, data/ and shapes/, with a file it occurs in."""
    found: dict[URIRef, str] = {}
    for folder in ("ontology", "data", "shapes"):
        for path in rdf_files(repo_root / folder):
            dataset = Dataset()
            dataset.parse(path, format="trig" if path.suffix == ".trig" else "turtle")
            for quad in dataset.quads((None, None, None, None)):
                for node in quad[:3]:
                    if isinstance(node, URIRef):
                        found.setdefault(node, str(path.relative_to(repo_root)))
    return found


def test_every_term_has_a_label_and_a_comment(ontology: Graph) -> None:
    terms = own_terms(ontology)
    assert len(terms) > 50
    undocumented = sorted(f"{t} lacks rdfs:{what}" for t in terms
                          for prop, what in ((RDFS.label, "label"), (RDFS.comment, "comment"))
                          if not any(o.language == "en" for o in ontology.objects(t, prop)))
    assert undocumented == []


def test_no_undeclared_tip_term_in_data_or_shapes(ontology: Graph, repo_root: Path) -> None:
    declared = own_terms(ontology)
    undeclared = sorted(f"{iri} ({where})" for iri, where in every_iri(repo_root).items()
                        if str(iri).startswith(str(TIP)) and iri not in declared)
    assert undeclared == []


def test_no_misspelt_w3c_terms(repo_root: Path) -> None:
    """rdflib's closed namespaces raise on a term the vocabulary does not define."""
    misspelt = []
    for iri, where in every_iri(repo_root).items():
        for base, namespace in CLOSED.items():
            local = str(iri)[len(base):]
            if str(iri).startswith(base) and local:
                try:
                    namespace[local]
                except (AttributeError, KeyError):
                    misspelt.append(f"{iri} ({where})")
    assert misspelt == []


def test_the_closed_namespace_check_catches_a_typo() -> None:
    with pytest.raises((AttributeError, KeyError)):
        OWL["ObjectPropery"]
    with pytest.raises((AttributeError, KeyError)):
        SH["minCout"]


def test_header(ontology: Graph) -> None:
    header = ONTOLOGY_IRI
    assert (header, RDF.type, OWL.Ontology) in ontology
    assert str(ontology.value(header, OWL.versionInfo)) == tipgraph.__version__
    version_iri = ontology.value(header, OWL.versionIRI)
    assert isinstance(version_iri, URIRef) and str(version_iri).endswith(tipgraph.__version__)
    for prop in (DCTERMS.license, DCTERMS.title, DCTERMS.creator):
        assert ontology.value(header, prop) is not None, f"header lacks {prop}"
    assert str(ontology.value(header, VANN.preferredNamespacePrefix)) == "tip"


@pytest.mark.parametrize(("prop", "inverse"), [
    (TIP.memberOf, TIP.hasMember), (TIP.unitOf, TIP.hasUnit), (TIP.partOf, TIP.hasPart),
    (TIP.supersedes, TIP.supersededBy), (TIP.follows, TIP.followedBy),
    (TIP.monitors, TIP.monitoredBy), (TIP.adopts, TIP.adoptedBy),
    (TIP.establishes, TIP.establishedBy), (TIP.implements, TIP.implementedBy),
    (TIP.supports, TIP.supportedBy), (TIP.funds, TIP.fundedBy), (TIP.launches, TIP.launchedBy),
    (TIP.secretariatOf, TIP.hasSecretariat), (TIP.observerOf, TIP.hasObserver),
    (TIP.participant, TIP.participatesIn), (TIP.basedOn, TIP.basisFor),
])
def test_inverses_are_declared(ontology: Graph, prop: URIRef, inverse: URIRef) -> None:
    assert ((prop, OWL.inverseOf, inverse) in ontology
            or (inverse, OWL.inverseOf, prop) in ontology)


def test_symmetric_and_transitive_properties(ontology: Graph) -> None:
    assert (TIP.partnerOf, RDF.type, OWL.SymmetricProperty) in ontology
    for prop in (TIP.partOf, TIP.hasPart, TIP.locatedIn):
        assert (prop, RDF.type, OWL.TransitiveProperty) in ontology


def test_own_properties_have_no_domain_or_range(ontology: Graph) -> None:
    """Usage is enforced by the shapes; a domain would turn a handbook into a legal resource."""
    assert [s for s in own_terms(ontology)
            if ontology.value(s, RDFS.domain) or ontology.value(s, RDFS.range)] == []
