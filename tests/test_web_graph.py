"""/graph, /graph.json and /graph.<format> over HTTP (Flask test client)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import networkx as nx
import pytest

from tests.graph_support import REPO, fixture_kg
from tipgraph.web.app import create_app


@pytest.fixture
def client():
    return create_app({"root": REPO, "use_cache": False, "TESTING": True},
                      kg=fixture_kg()).test_client()


def node_ids(body):
    return {n["data"]["id"] for n in body["nodes"]}


def test_graph_json_without_filters_is_the_whole_graph(client):
    body = client.get("/graph.json").get_json()
    assert {"ecowas", "greta", "coe-convention", "nigeria"} <= node_ids(body)
    assert body["meta"]["counts"]["nodes"] == body["meta"]["counts"]["allNodes"]


def test_graph_json_filters_are_query_parameters(client):
    everything = node_ids(client.get("/graph.json").get_json())
    europe = node_ids(client.get("/graph.json?region=european-region&kind=mechanisms,bodies"
                                 ).get_json())
    assert europe == {"council-of-europe", "greta", "coe-committee-of-the-parties"}
    assert europe < everything
    in_2004 = node_ids(client.get("/graph.json?year=2004").get_json())
    assert "greta" not in in_2004 and "ecowas" in in_2004


def test_index_for_search_only_on_request(client):
    assert "index" not in client.get("/graph.json").get_json()["meta"]
    index = client.get("/graph.json?index=1").get_json()["meta"]["index"]
    assert {"id": "greta", "acronym": "GRETA"}.items() <= next(
        e for e in index if e["id"] == "greta").items()


@pytest.mark.parametrize("url", ["/graph.json?region=atlantis", "/graph.json?year=soon",
                                 "/graph.json?focus=nobody", "/graph.gexf?kind=dragon",
                                 "/graph.xlsx"])
def test_bad_requests_have_the_one_error_shape(client, url):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code in {400, 404}
    assert set(response.get_json()) == {"error", "status"}


def test_graph_json_revalidates_with_etag(client):
    first = client.get("/graph.json?kind=mechanisms")
    again = client.get("/graph.json?kind=mechanisms",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = client.get("/graph.json?kind=bodies", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_exports_over_http(client):
    graphml = client.get("/graph.graphml?region=european-region")
    assert graphml.mimetype == "application/graphml+xml"
    assert "attachment" in graphml.headers["Content-Disposition"]
    graph = nx.read_graphml(io.BytesIO(graphml.data))
    assert "greta" in graph.nodes and "ecowas" not in graph.nodes
    gexf = client.get("/graph.gexf")
    assert gexf.mimetype == "application/gexf+xml"
    assert "greta" in nx.read_gexf(io.BytesIO(gexf.data)).nodes
    dot = client.get("/graph.dot")
    assert dot.mimetype == "text/vnd.graphviz" and dot.data.startswith(b"digraph")
    svg = client.get("/graph.svg?kind=mechanisms")
    assert svg.mimetype == "image/svg+xml"
    assert ET.fromstring(svg.data).tag.endswith("svg")


def test_page_loads_only_local_scripts(client):
    html = client.get("/graph").get_data(as_text=True)
    assert "vendor/cytoscape-3.35.0.min.js" in html
    assert "vendor/cytoscape-fcose-2.2.0.min.js" in html
    assert "<script>" not in html  # no inline script (CSP script-src 'self')
    assert "https://" not in html.replace("https://w3id.org", "")
    for script in ("vendor/cytoscape-3.35.0.min.js", "vendor/layout-base-2.0.1.min.js",
                   "vendor/cose-base-2.2.0.min.js", "vendor/cytoscape-fcose-2.2.0.min.js",
                   "graph.js", "graph.css"):
        response = client.get(f"/static/{script}")
        assert response.status_code == 200
        response.close()


def test_vendored_libraries_have_licenses_and_pinned_versions():
    vendor = REPO / "src" / "tipgraph" / "web" / "static" / "vendor"
    readme = (vendor / "README.md").read_text(encoding="utf-8")
    for script in ("cytoscape-3.35.0", "cytoscape-fcose-2.2.0", "cose-base-2.2.0",
                   "layout-base-2.0.1"):
        assert (vendor / f"{script}.min.js").is_file()
        name, _, version = script.rpartition("-")
        assert (vendor / f"{name}-{version}.LICENSE").is_file()
        assert f"| {name} | {version} |" in readme
