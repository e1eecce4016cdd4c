"""Dereferenceable IRIs: 303 content negotiation, entity pages, browse/search, ontology docs."""

from __future__ import annotations

import re

import pytest
from rdflib import Dataset, Graph, URIRef

from tests.conftest import REPO, root_with_page
from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.model.namespaces import RDFS, TIP
from tipgraph.publish.formats import RDF_FORMATS
from tipgraph.web.app import create_app
from tipgraph.web.publishing import publishing_for

ENTITY = "african-region"


def _triples(data: bytes, fmt) -> Graph:
    """Whatever the format, the triples it holds (graph names dropped)."""
    if not fmt.quads:
        return Graph().parse(data=data, format=fmt.rdflib)
    dataset = Dataset()
    dataset.parse(data=data, format=fmt.rdflib)
    graph = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


@pytest.fixture
def app(kg, config):
    return create_app({**config, "TESTING": True}, kg=kg)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize(("accept", "suffix"), [
    ("text/html", "html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # a browser
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("application/trig", "trig"),
    ("application/n-quads", "nq"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "jsonld"),
    ("*/*", "html"),
])
def test_data_iri_answers_303_to_the_negotiated_document(client, accept, suffix):
    response = client.get(f"/id/{ENTITY}", headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/id/{ENTITY}.{suffix}")
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_each_rdf_document_parses_and_describes_the_resource(client, fmt):
    response = client.get(f"/id/{ENTITY}.{fmt.suffix}")
    assert response.status_code == 200
    assert response.mimetype == fmt.media_type
    iri = URIRef(f"https://w3id.org/tipgraph/id/{ENTITY}")
    assert (iri, None, None) in _triples(response.data, fmt)


def test_description_has_incoming_links_and_the_page_of_each_fact(client):
    data = Dataset()
    data.parse(data=client.get(f"/id/{ENTITY}.nq").data, format="nquads")
    iri = URIRef(f"https://w3id.org/tipgraph/id/{ENTITY}")
    graphs = {str(g) for s, p, o, g in data.quads((iri, None, None, None))}
    assert "https://w3id.org/tipgraph/id/source/summary-2010/page/2" in graphs
    # the source page resource is described with the resources it states facts about
    page = Graph().parse(data=client.get("/id/source/summary-2010/page/2.ttl").data,
                         format="turtle")
    assert (iri, TIP.describedOn, URIRef("https://w3id.org/tipgraph/id/source/summary-2010/"
                                         "page/2")) in page


def test_incoming_links_are_described(client):
    # un-special-rapporteur links to united-nations with tip:postIn (page 1)
    graph = Graph().parse(data=client.get("/id/united-nations.ttl").data, format="turtle")
    un = URIRef("https://w3id.org/tipgraph/id/united-nations")
    rapporteur = URIRef("https://w3id.org/tipgraph/id/un-special-rapporteur-trafficking")
    assert (rapporteur, TIP.postIn, un) in graph


def test_entity_page_shows_label_types_sources_alternates_and_graph(client):
    response = client.get("/id/united-nations.html")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>United Nations</h1>" in html
    assert "UN" in html  # acronym as alternative label
    assert 'href="/ontology#IntergovernmentalOrganisation"' in html
    assert 'href="/id/source/summary-2010/page/1"' in html  # the page each fact comes from
    for fmt in RDF_FORMATS:
        assert f'<link rel="alternate" type="{fmt.media_type}" href="/id/united-nations.' \
               f'{fmt.suffix}"' in html
    assert "<svg" in html and 'href="/id/un-special-rapporteur-trafficking"' in html
    assert "<h2>Validation</h2>" in html
    assert "<script" not in html  # no inline script, nothing to run


def test_unknown_iri_is_a_404_in_the_json_error_shape(client):
    response = client.get("/id/no-such-thing", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "status"}
    assert response.get_json()["status"] == 404
    assert client.get("/id/no-such-thing.ttl").status_code == 404


@pytest.mark.parametrize("path", [
    "/id/../etc/passwd",
    "/id/%2e%2e/%2e%2e/etc/passwd",
    "/id/..%2F..%2Fpyproject.toml",
    "/id/source/../../../etc/passwd.ttl",
    "/id/.%2e/config.py",
    "/id/a//b",
    "/id/%00",
    "/id/" + "a" * 2000,
])
def test_path_traversal_and_odd_paths_are_plain_404s(client, path):
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "status"}
    assert b"root:" not in response.data and b"[project]" not in response.data


def test_unacceptable_media_type_is_406(client):
    response = client.get(f"/id/{ENTITY}", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert set(response.get_json()) == {"error", "status"}


def test_dataset_iri_redirects_to_the_void(client):
    response = client.get("/id/dataset", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/.well-known/void")


def test_base_iri_is_mapped_to_the_server(config, tmp_path):
    base = "http://127.0.0.1:8123/id/"
    kg = build(load_config({"root": REPO, "base_iri": base, "cache_dir": tmp_path},
                           environ={}))
    client = create_app({"root": REPO, "base_iri": base, "TESTING": True}, kg=kg).test_client()
    graph = Graph().parse(data=client.get(f"/id/{ENTITY}.ttl").data, format="turtle")
    assert (URIRef(base + ENTITY), None, None) in graph


def test_browse_lists_classes_and_searches_labels(client):
    body = client.get("/id/?q=africa", headers={"Accept": "application/json"}).get_json()
    assert any(r["iri"].endswith("/african-region") for r in body["results"])
    assert all("africa" in (r["label"] + r["iri"]).lower() for r in body["results"])
    by_class = client.get("/id/?class=tip:Region", headers={"Accept": "application/json"})
    labels = {r["label"] for r in by_class.get_json()["results"]}
    assert {"African Region", "Asian Region"} <= labels
    html = client.get("/id/?class=tip:Region", headers={"Accept": "text/html"})
    assert "African Region" in html.get_data(as_text=True)
    bad = client.get("/id/?class=nope:Thing", headers={"Accept": "application/json"})
    assert bad.status_code == 400 and set(bad.get_json()) == {"error", "status"}


def test_ontology_documents_terms_with_shape_expectations(client):
    response = client.get("/ontology", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "Accept" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert 'id="Mechanism"' in html and 'id="supersedes"' in html
    # tip:Organisation is a target of the labelled-entity shape: its expectations are shown
    section = html.split('id="Organisation"', 1)[1].split('<article class="term"', 1)[0]
    assert "What the shapes expect" in section and "skos:prefLabel" in section


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=[f.name for f in RDF_FORMATS])
def test_ontology_dereferences_as_rdf(client, fmt):
    response = client.get("/ontology", headers={"Accept": fmt.media_type})
    assert response.status_code == 200 and response.mimetype == fmt.media_type
    assert response.headers["Content-Location"] == f"/ontology.{fmt.suffix}"
    assert (TIP.Mechanism, RDFS.subClassOf, TIP.Organisation) in _triples(response.data, fmt)


# --- values from the data are escaped -------------------------------------------------------

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    root = root_with_page(tmp_path_factory.mktemp("hostile"), f"""
    :evil a tip:NonGovernmentalOrganisation ;
        skos:prefLabel {HOSTILE!r}@en ;
        skos:altLabel "</title><script>alert(2)</script>"@en ;
        tip:partnerOf :friend .
    :friend a tip:NonGovernmentalOrganisation ; skos:prefLabel "Friend \\"&\\" co"@en .
    :twice-named a tip:NonGovernmentalOrganisation ;
        skos:prefLabel "One name"@en, "Another name"@en .""")
    config = load_config({"root": root, "use_cache": False}, environ={})
    kg = build(config)
    publishing_for(kg).findings(wait=600)  # the validation report, before the pages ask
    return create_app({"root": root, "use_cache": False, "TESTING": True}, kg=kg).test_client()


def test_entity_page_shows_the_validation_status(hostile_client):
    html = hostile_client.get("/id/twice-named.html").get_data(as_text=True)
    status = html.split("<h2>Validation</h2>", 1)[1].split("</section>", 1)[0]
    assert "Violation" in status and "prefLabel" in status
    friend = hostile_client.get("/id/friend.html").get_data(as_text=True)
    assert "Violation" not in friend.split("<h2>Validation</h2>", 1)[1].split("</section>")[0]


def test_markup_in_labels_renders_as_text(hostile_client):
    for path in ("/id/evil.html", "/id/friend.html"):
        html = hostile_client.get(path).get_data(as_text=True)
        assert "<script" not in html and "<img" not in html and "</title><script" not in html
        assert "&lt;script&gt;" in html or path.endswith("friend.html")
    html = hostile_client.get("/id/evil.html").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html  # shown, as text: heading, svg, title
    assert re.search(r"<title>[^<]*&lt;script&gt;", html)
    search = hostile_client.get("/id/?q=%3Cscript%3E", headers={"Accept": "text/html"})
    assert "<script" not in search.get_data(as_text=True)


def test_pages_send_a_script_free_content_security_policy(client):
    response = client.get(f"/id/{ENTITY}.html")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1] \
        .split(";")[0]


def test_warm_up_leaves_the_dumps_of_a_large_graph_to_their_first_request(kg):
    """Past warm_dumps_max_triples the start-up computes labels, class counts and the ontology
    documentation (by the engine, no copy of the graph) but not the dumps and the dataset
    description, which are built through rdflib in memory."""
    from dataclasses import replace

    from tipgraph.web.publishing import Publishing

    large = replace(kg, config={**kg.config, "warm_dumps_max_triples": kg.triples - 1})
    warmed = Publishing(large).warm()
    assert {"labels", "class_counts", "ontology_doc"} <= set(warmed._cache)
    assert "void" not in warmed._cache and not any(
        isinstance(key, tuple) and key[0] == "dump" for key in warmed._cache)
    small = Publishing(replace(kg, config={**kg.config, "warm_dumps_max_triples": kg.triples}))
    assert "void" in small.warm()._cache


def test_labels_and_counts_read_by_the_engine_match_the_merged_graph(kg):
    """LabelIndex.of and the class counts query the store; the merged rdflib union (what they
    replace: minutes and gigabytes at a million triples) gives the same answers."""
    from collections import defaultdict

    from rdflib import RDF

    from tipgraph.publish.describe import LabelIndex
    from tipgraph.web.publishing import Publishing

    merged = LabelIndex([kg.union(inferred=False, ontology=True)])
    assert LabelIndex.of(kg)._labels == merged._labels and len(merged._labels) > 500
    members: dict = defaultdict(set)
    for s, c in kg.union(inferred=True, ontology=False).subject_objects(RDF.type):
        if str(s).startswith(kg.config["base_iri"]):
            members[c].add(s)
    assert Publishing(kg).class_counts == {c: len(m) for c, m in members.items()}


def test_a_class_the_engine_cannot_parse_is_a_class_with_no_member(client):
    # found by the OpenAPI fuzzer: private-use code points pass rdflib but not SPARQL's IRIREF
    reply = client.get("/id/?class=tip:%F1%A2%8E%88%F3%B3%BC%A5y9&q=off",
                       headers={"Accept": "application/json"})
    assert reply.status_code == 200 and reply.get_json()["results"] == []
