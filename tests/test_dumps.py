"""HTTP dumps, the VoID/DCAT description at /.well-known/void and the JSON-LD context."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from rdflib import Graph, Literal, Namespace, URIRef

from tests.conftest import root_with_page
from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.model.namespaces import DCAT, DCTERMS, GRAPH_INFERRED, RDF, VOID, XSD
from tipgraph.publish.export import dump_filename, export
from tipgraph.publish.formats import RDF_FORMATS
from tipgraph.publish.void import Statistics, statistics
from tipgraph.web.app import create_app
from tipgraph.web.publishing import publishing_for

SPDX = Namespace("http://spdx.org/rdf/terms#")
DATASET = URIRef("https://w3id.org/tipgraph/id/dataset")


@pytest.fixture(scope="module")
def client(kg, config):
    return create_app({**config, "TESTING": True}, kg=kg).test_client()


@pytest.fixture(scope="module")
def void(client) -> Graph:
    response = client.get("/.well-known/void")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    return Graph().parse(data=response.data, format="turtle")


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_http_dump_is_the_export(client, kg, fmt, inferred):
    response = client.get(f"/dumps/{dump_filename(fmt, inferred)}")
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    assert response.data == export(kg, fmt, inferred)
    assert response.headers["ETag"].strip('"') == hashlib.sha256(response.data).hexdigest()
    again = client.get(f"/dumps/{dump_filename(fmt, inferred)}",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_void_lists_every_dump_with_media_type_size_and_checksum(client, void):
    for fmt in RDF_FORMATS:
        for inferred in (False, True):
            data = client.get(f"/dumps/{dump_filename(fmt, inferred)}").data
            url = URIRef(f"https://w3id.org/tipgraph/dumps/{dump_filename(fmt, inferred)}")
            dataset = URIRef(f"{DATASET}/inferred") if inferred else DATASET
            assert (dataset, VOID.dataDump, url) in void
            dist = void.value(predicate=DCAT.downloadURL, object=url)
            assert (dataset, DCAT.distribution, dist) in void
            assert void.value(dist, DCAT.mediaType) == URIRef(
                "https://www.iana.org/assignments/media-types/" + fmt.media_type)
            assert void.value(dist, DCAT.byteSize).toPython() == len(data)
            checksum = void.value(dist, SPDX.checksum)
            assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(
                data).hexdigest()


def test_void_describes_the_dataset(kg, void):
    assert (DATASET, RDF.type, VOID.Dataset) in void and (DATASET, RDF.type, DCAT.Dataset) in void
    assert void.value(DATASET, DCTERMS.title) is not None
    assert void.value(DATASET, DCTERMS.license) is not None
    assert void.value(DATASET, DCTERMS.source) == URIRef(
        "https://w3id.org/tipgraph/id/source/summary-2010")
    assert void.value(DATASET, DCAT.version) is not None
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef("https://w3id.org/tipgraph/sparql")
    assert void.value(DATASET, VOID.triples) == Literal(len(kg.asserted()), datatype=XSD.integer)
    asserted = kg.asserted()
    region = URIRef("https://w3id.org/tipgraph/ontology#Region")
    partition = next(p for p in void.objects(DATASET, VOID.classPartition)
                     if void.value(p, VOID["class"]) == region)
    assert void.value(partition, VOID.entities).toPython() == len(
        set(asserted.subjects(RDF.type, region)))
    label = URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")
    partition = next(p for p in void.objects(DATASET, VOID.propertyPartition)
                     if void.value(p, VOID.property) == label)
    assert void.value(partition, VOID.triples).toPython() == len(
        list(asserted.triples((None, label, None))))


def test_dumps_include_the_description_without_checksums(kg):
    graph = Graph().parse(data=export(kg, "turtle"), format="turtle")
    assert (DATASET, RDF.type, VOID.Dataset) in graph
    assert not list(graph.triples((None, SPDX.checksum, None)))


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_void_in_every_format_by_accept_and_suffix(client, fmt):
    by_accept = client.get("/.well-known/void", headers={"Accept": fmt.media_type})
    by_suffix = client.get(f"/.well-known/void.{fmt.suffix}")
    assert by_accept.status_code == by_suffix.status_code == 200
    assert by_accept.data == by_suffix.data and by_accept.mimetype == fmt.media_type


def test_void_and_dump_listing_for_browsers(client):
    html = client.get("/.well-known/void", headers={"Accept": "text/html"}).get_data(
        as_text=True)
    assert "tipgraph.ttl" in html and "void:Dataset" in html
    listing = client.get("/dumps/", headers={"Accept": "application/json"}).get_json()
    assert len(listing["dumps"]) == 2 * len(RDF_FORMATS)


def test_unknown_dump_is_a_404_in_the_error_shape(client):
    response = client.get("/dumps/../../pyproject.toml", headers={"Accept": "application/json"})
    assert response.status_code == 404
    response = client.get("/dumps/tipgraph.yaml", headers={"Accept": "application/json"})
    assert response.status_code == 404 and set(response.get_json()) == {"error", "status"}


def test_context_is_published(client, kg):
    body = client.get("/context.jsonld").get_json()
    assert body["@context"]["prefLabel"] == {"@id": "skos:prefLabel"}
    assert body["@context"]["supersedes"] == {"@id": "tip:supersedes", "@type": "@id"}


def _statistics_by_rdflib(kg) -> Statistics:
    """The counts as the description computed them before the engine did: Python loops over
    an rdflib copy of the asserted data."""
    asserted = kg.asserted()
    example = URIRef(kg.config["base_iri"] + "ecowas")
    return Statistics(
        triples=len(asserted),
        entities=len({s for s in asserted.subjects() if isinstance(s, URIRef)}),
        subjects=len(set(asserted.subjects())),
        objects=len({o for o in asserted.objects() if not isinstance(o, Literal)}),
        classes=dict(Counter(o for _, o in set(asserted.subject_objects(RDF.type)))),
        properties=dict(Counter(p for _, p, _ in asserted)),
        example=(example, None, None) in asserted,
        inferred_triples=len(asserted) + len(set(kg.graph(GRAPH_INFERRED)) - set(asserted)))


def test_engine_statistics_equal_the_rdflib_counts(kg):
    assert kg.oxigraph is not None  # the engine answers, not rdflib
    assert statistics(kg) == _statistics_by_rdflib(kg)


def test_engine_statistics_with_blank_nodes_and_without_an_engine(tmp_path):
    folder = root_with_page(tmp_path, ':a a tip:Region ; tip:note [ skos:prefLabel "x" ] .\n'
                                      '_:b a tip:Region ; skos:prefLabel "b"@en .')
    for overrides in ({"use_cache": False}, {"use_cache": False, "fast_build": False}):
        kg = build(load_config({"root": folder, **overrides}, environ={}))
        stats = statistics(kg)
        assert stats == _statistics_by_rdflib(kg)
        assert stats.subjects == stats.entities + 2 and stats.example is False


def test_past_the_warm_limit_only_engine_written_dumps_are_checksummed(config):
    """At scale the rdflib-written formats (JSON-LD, RDF/XML) are listed without size and
    checksum (they would take hours to write just to be counted); N-Triples, N-Quads, Turtle
    and TriG, written from the engine, still carry theirs."""
    kg = build({**config, "warm_dumps_max_triples": 100})
    client = create_app({**config, "TESTING": True}, kg=kg).test_client()
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    rows = {row["name"]: row for row in client.get(
        "/dumps/", headers={"Accept": "application/json"}).get_json()["dumps"]}
    kept = publishing_for(kg)._cache
    assert not [key for key in kept if isinstance(key, tuple) and key[0] == "dump"]  # hashed
    for fmt in RDF_FORMATS:
        for inferred in (False, True):
            name = dump_filename(fmt, inferred)
            url = URIRef(f"https://w3id.org/tipgraph/dumps/{name}")
            dist = void.value(predicate=DCAT.downloadURL, object=url)
            size, digest = void.value(dist, DCAT.byteSize), rows[name]["sha256"]
            if fmt.name in {"ntriples", "nquads", "turtle", "trig"}:
                data = client.get(f"/dumps/{name}").data
                assert size.toPython() == len(data) == rows[name]["bytes"]
                assert digest == hashlib.sha256(data).hexdigest()
            else:
                assert size is None and digest is None and rows[name]["bytes"] is None
    assert client.get("/dumps/tipgraph.rdf").status_code == 200
    html = client.get("/dumps/", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "computed on first download" in html


def test_statistics_are_kept_per_data_version_and_a_damaged_file_is_recounted(kg, config):
    from tipgraph.publish.derived import derived_file

    path = derived_file(kg, "void-statistics")
    assert path is not None and path.parent == config["cache_dir"]
    counted = statistics(kg)
    assert path.is_file() and statistics(kg) == counted
    path.write_text('{"triples": 1, "classes": [["not n3", 2]]}', encoding="utf-8")
    assert statistics(kg) == counted == _statistics_by_rdflib(kg)
    assert '"triples": 1,' not in path.read_text(encoding="utf-8")


def test_past_the_warm_limit_dump_checksums_are_kept_for_the_next_start(config, monkeypatch):
    from tipgraph.publish import export as export_module

    first = build({**config, "warm_dumps_max_triples": 100})
    listed = create_app({**config, "TESTING": True}, kg=first).test_client().get(
        "/dumps/", headers={"Accept": "application/json"}).get_json()["dumps"]

    def no_rewrite(*args, **kwargs):
        raise AssertionError("the dumps were written again")
    monkeypatch.setattr(export_module, "dump_checksum", no_rewrite)
    again = build({**config, "warm_dumps_max_triples": 100})
    assert again is not first
    assert create_app({**config, "TESTING": True}, kg=again).test_client().get(
        "/dumps/", headers={"Accept": "application/json"}).get_json()["dumps"] == listed


def test_saved_checksums_of_an_older_dump_writer_are_not_reused(config, monkeypatch):
    """A writer that changes the bytes of a dump bumps DUMP_BYTES_REVISION: the checksums that
    the previous writer saved for this data version are computed again, not served."""
    from tipgraph.publish import export as export_module

    settings = {**config, "warm_dumps_max_triples": 100, "TESTING": True}
    create_app(settings, kg=build(settings)).test_client().get("/dumps/")  # saves them
    written = []
    original = export_module.dump_checksum
    monkeypatch.setattr(export_module, "dump_checksum",
                        lambda *args, **kwargs: written.append(args[1:]) or original(*args,
                                                                                     **kwargs))
    monkeypatch.setattr(export_module, "DUMP_BYTES_REVISION",
                        export_module.DUMP_BYTES_REVISION + 1)
    listed = create_app(settings, kg=build(settings)).test_client().get(
        "/dumps/", headers={"Accept": "application/json"}).get_json()["dumps"]
    assert len(written) == 8  # N-Triples, N-Quads, Turtle, TriG; asserted and inferred
    assert all(d["sha256"] for d in listed if d["name"].endswith((".nt", ".nq", ".ttl", ".trig")))
