"""IRIs that tipgraph mints or reuses, in one place."""

from __future__ import annotations

import os
import re

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, DefinedNamespace, Namespace

CANONICAL_ONTOLOGY_IRI = "https://w3id.org/tipgraph/ontology"
CANONICAL_TIP = CANONICAL_ONTOLOGY_IRI + "#"
_NAMESPACE = re.compile(r"https?://[^\s<>\"{}|\\^`#]+[#/]")


def is_namespace(text: str) -> bool:
    """An http(s) IRI ending in '#' or '/', as a vocabulary namespace must."""
    return bool(_NAMESPACE.fullmatch(text))


def _vocabulary_namespace() -> str:
    """tipgraph's own terms live under the canonical namespace, or under TIPGRAPH_ONTOLOGY_IRI
    (the ontology_iri setting). Read once, when tipgraph starts: every module binds TIP at import,
    and the worker processes inherit the environment. An invalid value is reported by the
    settings (tipgraph.config), not here."""
    configured = os.environ.get("TIPGRAPH_ONTOLOGY_IRI", "")
    return configured if is_namespace(configured) else CANONICAL_TIP


TIP = Namespace(_vocabulary_namespace())
ONTOLOGY_IRI = URIRef(str(TIP)[:-1])  # the ontology itself: its namespace without '#' or '/'
VOCABULARY_MOVED = str(TIP) != CANONICAL_TIP  # files are rewritten as they are read
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
    "CANONICAL_BASE", "CANONICAL_ONTOLOGY_IRI", "CANONICAL_TIP", "DCAT", "DCTERMS",
    "DefinedNamespace", "ELI", "FOAF", "GRAPH_CURATED",
    "GRAPH_INFERRED", "GRAPH_ONTOLOGY", "GRAPH_SHAPES", "ID", "ONTOLOGY_IRI", "ORG", "OWL", "PAGE",
    "PREFIXES", "PROV", "RDF", "RDFS", "SCHEMA", "SH", "SKOS", "SOURCE_DOCUMENT", "TIME", "TIP",
    "VANN", "VOCABULARY_MOVED", "VOID", "XSD", "is_namespace", "rebase_vocabulary",
]


def rebase_vocabulary(text: str) -> str:
    """The text of an ontology, shapes, data or query file with tipgraph's canonical namespace
    (and the ontology's own IRI and version IRI) moved to the configured one."""
    if not VOCABULARY_MOVED:
        return text
    return text.replace(CANONICAL_TIP, str(TIP)).replace(CANONICAL_ONTOLOGY_IRI, ONTOLOGY_IRI)


_PAGE_PATH = "/id/" + str(PAGE)[len(CANONICAL_BASE):]  # "/id/source/summary-2010/page/"


def is_page_graph(name: URIRef | str) -> bool:
    """True for the named graphs that hold the facts of one source page (under any base IRI:
    a configured base_iri rebases the page IRIs too)."""
    text = str(name)
    if text.startswith(str(PAGE)):
        return True
    head, _, tail = text.rpartition(_PAGE_PATH)
    return bool(head) and tail.isdigit()
