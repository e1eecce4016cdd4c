"""The dataset description: VoID and DCAT, served at /.well-known/void and included in dumps.

IRIs: the dataset is ``<BASE>dataset`` (so it dereferences like any data IRI), the subset with
inferences ``<BASE>dataset/inferred``, each dump ``<BASE>dataset/dump/<format>`` (and
``.../inferred/dump/<format>``); download URLs sit under the site root (the base IRI without its
trailing ``id/``): ``<ROOT>dumps/tipgraph.ttl``; the SPARQL endpoint is ``<ROOT>sparql``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.term import Node
from rdflib.util import from_n3

from tipgraph import __version__
from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import (
    DCAT,
    DCTERMS,
    FOAF,
    ONTOLOGY_IRI,
    OWL,
    RDF,
    RDFS,
    SOURCE_DOCUMENT,
    VOID,
    XSD,
)
from tipgraph.model.validate import short
from tipgraph.publish.derived import derived_file, read_derived, write_derived
from tipgraph.publish.formats import RDF_FORMATS, RdfFormat

log = logging.getLogger(__name__)
SPDX = Namespace("http://spdx.org/rdf/terms#")
GRAPH_VOID = URIRef("https://w3id.org/tipgraph/graph/void")
LICENSE = URIRef("https://creativecommons.org/licenses/by/4.0/")
IANA = "https://www.iana.org/assignments/media-types/"

# (format name, inferred) -> (byte size, sha256 hex) of that dump
Checksums = Mapping[tuple[str, bool], tuple[int, str]]


def site_root(base_iri: str) -> str:
    """The site's root: the data base IRI without its trailing ``id/``."""
    return base_iri[: -len("id/")] if base_iri.endswith("/id/") else base_iri


def dataset_iri(kg: KnowledgeGraph) -> URIRef:
    return URIRef(kg.config["base_iri"] + "dataset")


def dump_url(kg: KnowledgeGraph, fmt: RdfFormat, inferred: bool) -> URIRef:
    from tipgraph.publish.export import dump_filename

    return URIRef(site_root(kg.config["base_iri"]) + "dumps/" + dump_filename(fmt, inferred))


def _slug(node: URIRef) -> str:
    name = short(node) or str(node)
    return re.sub(r"[^A-Za-z0-9]+", "-", name.strip("<>")).strip("-")


@dataclass(frozen=True)
class Statistics:
    """What the description counts in the asserted data (the page graphs and the curated graph,
    merged as a set of triples), and in that data with the inferences."""

    triples: int
    entities: int  # distinct IRI subjects
    subjects: int
    objects: int  # distinct IRI and blank-node objects
    classes: Mapping[Node, int]  # class -> distinct subjects typed with it
    properties: Mapping[Node, int]  # property -> distinct triples using it
    example: bool  # the example resource is described
    inferred_triples: int  # distinct triples of the asserted data plus the inferred graph


def statistics(kg: KnowledgeGraph) -> Statistics:
    """The counts, by aggregate queries on the engine (at a million triples on the on-disk
    store about 30 s of CPU; Python loops over an rdflib copy of the data took hours), kept in
    the cache folder per data version: they cannot change while the data does not."""
    path = derived_file(kg, "void-statistics")
    stats = read_derived(path, _decode_statistics)
    if stats is None:
        stats = _count(kg)
        write_derived(path, _encode_statistics(stats))
    return stats


def _count(kg: KnowledgeGraph) -> Statistics:
    data = not_in(kg.graphs_outside(inferred=False, ontology=False))
    with_inferred = not_in(kg.graphs_outside(inferred=True, ontology=False))
    distinct = f"SELECT DISTINCT ?s ?p ?o {{ GRAPH ?g {{ ?s ?p ?o }} {data} }}"
    (subjects, entities), = kg.select(
        f"SELECT (COUNT(*) AS ?n) (SUM(IF(isIRI(?s), 1, 0)) AS ?iris) "
        f"{{ SELECT DISTINCT ?s {{ GRAPH ?g {{ ?s ?p ?o }} {data} }} }}")
    # distinct objects first, their kind after: a test on each of a million quads reads its term
    (objects,), = kg.select(f"SELECT (SUM(IF(isLiteral(?o), 0, 1)) AS ?n) {{ SELECT DISTINCT ?o "
                            f"{{ GRAPH ?g {{ ?s ?p ?o }} {data} }} }}")
    classes = kg.select(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) {{ GRAPH ?g {{ ?s a ?c }} {data} }}"
                        f" GROUP BY ?c")
    properties = kg.select(f"SELECT ?p (COUNT(*) AS ?n) {{ {distinct} }} GROUP BY ?p")
    example = URIRef(kg.config["base_iri"] + "ecowas")
    found = kg.select(f"SELECT ?p {{ GRAPH ?g {{ <{example}> ?p ?o }} {data} }} LIMIT 1")
    (inferred,), = kg.select(f"SELECT (COUNT(*) AS ?t) {{ SELECT DISTINCT ?s ?p ?o {{ "
                             f"GRAPH ?g {{ ?s ?p ?o }} {with_inferred} }} }}")
    by_property = {p: int(n) for p, n in properties}
    return Statistics(sum(by_property.values()), int(entities), int(subjects), int(objects),
                      {c: int(n) for c, n in classes}, by_property, bool(found), int(inferred))


def _decode_statistics(saved: dict) -> Statistics:
    terms = {name: {from_n3(term): count for term, count in saved[name]}
             for name in ("classes", "properties")}
    return Statistics(**{**saved, **terms})


def _encode_statistics(stats: Statistics) -> dict:
    return {**asdict(stats), **{name: sorted([term.n3(), count] for term, count
                                             in getattr(stats, name).items())
                                for name in ("classes", "properties")}}


def _partitions(stats: Statistics, description: Graph, dataset: URIRef) -> None:
    for cls, count in sorted(stats.classes.items()):
        part = URIRef(f"{dataset}/class/{_slug(cls)}")
        description.add((dataset, VOID.classPartition, part))
        description.add((part, VOID["class"], cls))
        description.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for prop, count in sorted(stats.properties.items()):
        part = URIRef(f"{dataset}/property/{_slug(prop)}")
        description.add((dataset, VOID.propertyPartition, part))
        description.add((part, VOID.property, prop))
        description.add((part, VOID.triples, Literal(count, datatype=XSD.integer)))


def _counts(stats: Statistics, description: Graph, dataset: URIRef) -> None:
    for prop, value in ((VOID.triples, stats.triples), (VOID.entities, stats.entities),
                        (VOID.distinctSubjects, stats.subjects),
                        (VOID.distinctObjects, stats.objects),
                        (VOID.properties, len(stats.properties)),
                        (VOID.classes, len(stats.classes))):
        description.add((dataset, prop, Literal(value, datatype=XSD.integer)))


def _distributions(kg: KnowledgeGraph, description: Graph, dataset: URIRef, inferred: bool,
                   checksums: Checksums | None) -> None:
    for fmt in RDF_FORMATS:
        dist = URIRef(f"{dataset}/dump/{fmt.name}")
        url = dump_url(kg, fmt, inferred)
        description.add((dataset, VOID.dataDump, url))
        description.add((dataset, DCAT.distribution, dist))
        description.add((dist, RDF.type, DCAT.Distribution))
        description.add((dist, DCTERMS.title, Literal(
            f"tipgraph{' with inferences' if inferred else ''}, {fmt.name} dump", lang="en")))
        description.add((dist, DCAT.downloadURL, url))
        description.add((dist, DCAT.accessURL, url))
        description.add((dist, DCAT.mediaType, URIRef(IANA + fmt.media_type)))
        description.add((dist, DCTERMS["format"], Literal(fmt.media_type)))
        description.add((dist, DCTERMS.license, LICENSE))
        if checksums and (fmt.name, inferred) in checksums:
            size, digest = checksums[(fmt.name, inferred)]
            checksum = URIRef(f"{dist}/checksum")
            description.add((dist, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
            description.add((dist, SPDX.checksum, checksum))
            description.add((checksum, RDF.type, SPDX.Checksum))
            description.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            description.add((checksum, SPDX.checksumValue, Literal(digest,
                                                                   datatype=XSD.hexBinary)))


def describe_dataset(kg: KnowledgeGraph, checksums: Checksums | None = None) -> Graph:
    """VoID + DCAT description of the dataset, its subset with inferences and every dump.

    Without ``checksums`` (as inside the dumps themselves) the byte sizes and checksums are left
    out; with them, each distribution carries ``dcat:byteSize`` and an ``spdx:checksum``.
    """
    base = kg.config["base_iri"]
    root = site_root(base)
    stats = statistics(kg)
    dataset = dataset_iri(kg)
    inferred_set = URIRef(f"{dataset}/inferred")
    version = f"{__version__}+{kg.version[:12]}"
    d = Graph(bind_namespaces="none")
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("dcterms", DCTERMS), ("foaf", FOAF),
                       ("spdx", SPDX), ("xsd", XSD), ("rdf", RDF), ("rdfs", RDFS),
                       ("owl", OWL)):
        d.bind(prefix, ns)
    d.add((dataset, RDF.type, VOID.Dataset))
    d.add((dataset, RDF.type, DCAT.Dataset))
    d.add((dataset, DCTERMS.title, Literal(
        "tipgraph: regional and sub-regional mechanisms to counter trafficking in persons",
        lang="en")))
    d.add((dataset, DCTERMS.description, Literal(
        "A knowledge graph of the regional and sub-regional structures and initiatives that "
        "counter trafficking in persons, built from the December 2010 summary compiled for the "
        "UN Special Rapporteur on Trafficking in Persons. Every fact cites the page of the "
        "source it comes from (one named graph per page).", lang="en")))
    d.add((dataset, DCTERMS.license, LICENSE))
    d.add((dataset, DCTERMS.source, URIRef(str(SOURCE_DOCUMENT).replace(
        "https://w3id.org/tipgraph/id/", base, 1))))
    d.add((dataset, DCTERMS.creator, Literal("tipgraph developers")))
    d.add((dataset, DCAT.version, Literal(version)))
    d.add((dataset, OWL.versionInfo, Literal(version)))
    d.add((dataset, DCTERMS.conformsTo, ONTOLOGY_IRI))
    d.add((dataset, VOID.vocabulary, ONTOLOGY_IRI))
    for namespace in sorted({_namespace_of(p) for p in stats.properties}):
        if namespace:
            d.add((dataset, VOID.vocabulary, URIRef(namespace)))
    d.add((dataset, VOID.uriSpace, Literal(base)))
    d.add((dataset, VOID.sparqlEndpoint, URIRef(root + "sparql")))
    d.add((dataset, FOAF.homepage, URIRef(root)))
    d.add((dataset, DCAT.landingPage, URIRef(root + "id/")))
    d.add((dataset, VOID.rootResource, URIRef(root + "id/")))
    d.add((dataset, DCAT.keyword, Literal("trafficking in persons", lang="en")))
    d.add((dataset, DCAT.keyword, Literal("regional mechanisms", lang="en")))
    example = URIRef(base + "ecowas")
    if stats.example:
        d.add((dataset, VOID.exampleResource, example))
    _counts(stats, d, dataset)
    _partitions(stats, d, dataset)
    _distributions(kg, d, dataset, False, checksums)

    d.add((dataset, VOID.subset, inferred_set))
    d.add((inferred_set, RDF.type, VOID.Dataset))
    d.add((inferred_set, RDF.type, DCAT.Dataset))
    d.add((inferred_set, DCTERMS.title, Literal("tipgraph with inferences", lang="en")))
    d.add((inferred_set, DCTERMS.description, Literal(
        "The asserted data plus what the ontology's axioms entail (super-classes, "
        "super-properties, inverses) and the derived tip:describedOn page links.", lang="en")))
    d.add((inferred_set, DCTERMS.license, LICENSE))
    d.add((inferred_set, DCAT.version, Literal(version)))
    d.add((inferred_set, VOID.triples, Literal(stats.inferred_triples, datatype=XSD.integer)))
    _distributions(kg, d, inferred_set, True, checksums)
    return d


def _namespace_of(iri: URIRef) -> str:
    text = str(iri)
    cut = max(text.rfind("#"), text.rfind("/"))
    return text[: cut + 1] if cut > 0 else ""
