"""IRIs that tipgraph mints or reuses, in one place."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, DefinedNamespace, Namespace

TIP = Namespace("https://w3id.org/tipgraph/ontology#")
ONTOLOGY_IRI = URIRef("https://w3id.org/tipgraph/ontology")
ID = Namespace("https://w3id.org/tipgraph/id/")
CANONICAL_BASE = str(ID)
SOURCE_DOCUMENT = ID["source/summary-2010"]
PAGE = Namespace(str(SOURCE_DOCUMENT) + "/page/")

ORG = Namespace("http://www.w3.org/ns/org#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
TIME = Namespace("http://www.w3.org/2006/time#")
SCHEMA = Namespace("https://schema.org/")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SH = Namespace("http://www.w3.org/ns/shacl#")
VANN = Namespace("http://purl.org/vocab/vann/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")

_GRAPH = "https://w3id.org/tipgraph/graph/"
GRAPH_ONTOLOGY = URIRef(_GRAPH + "ontology")
GRAPH_SHAPES = URIRef(_GRAPH + "shapes")
GRAPH_INFERRED = URIRef(_GRAPH + "inferred")
GRAPH_CURATED = URIRef(_GRAPH + "curated")

# Prefixes offered to users (query editor, serialisations).
PREFIXES: dict[str, str] = {
    "tip": str(TIP),
    "id": str(ID),
    "page": str(PAGE),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "org": str(ORG),
    "eli": str(ELI),
    "time": str(TIME),
    "schema": str(SCHEMA),
    "void": str(VOID),
    "dcat": str(DCAT),
    "sh": str(SH),
    "foaf": str(FOAF),
}

__all__ = [
    "CANONICAL_BASE", "DCAT", "DCTERMS", "DefinedNamespace", "ELI", "FOAF", "GRAPH_CURATED",
    "GRAPH_INFERRED", "GRAPH_ONTOLOGY", "GRAPH_SHAPES", "ID", "ONTOLOGY_IRI", "ORG", "OWL", "PAGE",
    "PREFIXES", "PROV", "RDF", "RDFS", "SCHEMA", "SH", "SKOS", "SOURCE_DOCUMENT", "TIME", "TIP",
    "VANN", "VOID", "XSD",
]


_PAGE_PATH = "/id/" + str(PAGE)[len(CANONICAL_BASE):]  # "/id/source/summary-2010/page/"


def is_page_graph(name: URIRef | str) -> bool:
    """True for the named graphs that hold the facts of one source page (under any base IRI:
    a configured base_iri rebases the page IRIs too)."""
    text = str(name)
    if text.startswith(str(PAGE)):
        return True
    head, _, tail = text.rpartition(_PAGE_PATH)
    return bool(head) and tail.isdigit()
