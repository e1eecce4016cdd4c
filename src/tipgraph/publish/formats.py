"""The one table of media types: used by content negotiation, exports and the CLI."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RdfFormat:
    name: str          # the name users type: --format turtle, ?format=turtle
    media_type: str    # the canonical media type
    rdflib: str        # rdflib's serializer / parser name
    suffix: str        # file suffix, also accepted as /id/slug.<suffix>
    quads: bool = False  # carries named graphs
    aliases: tuple[str, ...] = ()  # other media types that mean the same
    iri: str = ""  # the W3C format IRI (http://www.w3.org/ns/formats/), for service descriptions


_W3C = "http://www.w3.org/ns/formats/"

RDF_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat("turtle", "text/turtle", "turtle", "ttl", aliases=("application/x-turtle",),
              iri=_W3C + "Turtle"),
    RdfFormat("ntriples", "application/n-triples", "nt", "nt", aliases=("text/plain",),
              iri=_W3C + "N-Triples"),
    RdfFormat("jsonld", "application/ld+json", "json-ld", "jsonld", quads=True,
              iri=_W3C + "JSON-LD"),
    RdfFormat("rdfxml", "application/rdf+xml", "xml", "rdf", aliases=("application/xml",),
              iri=_W3C + "RDF_XML"),
    RdfFormat("trig", "application/trig", "trig", "trig", quads=True, iri=_W3C + "TriG"),
    RdfFormat("nquads", "application/n-quads", "nquads", "nq", quads=True,
              iri=_W3C + "N-Quads"),
)


@dataclass(frozen=True)
class ResultFormat:
    name: str
    media_type: str
    rdflib: str
    aliases: tuple[str, ...] = ()
    iri: str = ""


RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", "json", aliases=("application/json",),
                 iri=_W3C + "SPARQL_Results_JSON"),
    ResultFormat("xml", "application/sparql-results+xml", "xml", aliases=("application/xml",),
                 iri=_W3C + "SPARQL_Results_XML"),
    ResultFormat("csv", "text/csv", "csv", iri=_W3C + "SPARQL_Results_CSV"),
    ResultFormat("tsv", "text/tab-separated-values", "tsv", iri=_W3C + "SPARQL_Results_TSV"),
)


def rdf_format(key: str) -> RdfFormat | None:
    """Find an RDF format by name, suffix or media type (aliases included)."""
    key = key.strip().lower()
    for fmt in RDF_FORMATS:
        if key in {fmt.name, fmt.suffix, fmt.media_type, fmt.rdflib, *fmt.aliases}:
            return fmt
    return None


def result_format(key: str) -> ResultFormat | None:
    key = key.strip().lower()
    for fmt in RESULT_FORMATS:
        if key in {fmt.name, fmt.media_type, *fmt.aliases}:
            return fmt
    return None


@dataclass(frozen=True)
class GraphFormat:
    """A file format of the relationship graph (publish/graphexport.py)."""

    name: str          # --format graphml, /graph.graphml
    media_type: str
    suffix: str
    binary: bool = False


GRAPH_FORMATS: tuple[GraphFormat, ...] = (
    GraphFormat("graphml", "application/graphml+xml", "graphml"),
    GraphFormat("gexf", "application/gexf+xml", "gexf"),
    GraphFormat("dot", "text/vnd.graphviz", "dot"),
    GraphFormat("svg", "image/svg+xml", "svg"),
    GraphFormat("png", "image/png", "png", binary=True),
)


def graph_format(key: str) -> GraphFormat | None:
    """Find a graph format by name, suffix or media type."""
    key = key.strip().lower().lstrip(".")
    for fmt in GRAPH_FORMATS:
        if key in {fmt.name, fmt.suffix, fmt.media_type}:
            return fmt
    return None
