"""The landing page and its JSON twin."""

from __future__ import annotations

import pytest

from tipgraph.web.app import create_app


@pytest.fixture
def client(kg, config):
    return create_app({**config, "TESTING": True, "query_workers": 0}, kg=kg).test_client()


def test_home_lists_the_mechanisms_under_their_regions(client):
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    african = html.index("<h3>African Region</h3>")
    european = html.index("<h3>European Region</h3>")
    assert african < html.index('href="/id/ecowas"') < european
    assert european < html.index('href="/id/council-of-europe"')
    for door in ("/sparql", "/graph", "/id/", "/ontology", "/dumps/"):
        assert f'href="{door}"' in html


def test_home_json_twin_counts_what_the_graph_holds(client):
    body = client.get("/", headers={"Accept": "application/json"}).get_json()
    assert body["counts"]["Mechanism"] >= 19
    regions = {r["region"]: {m["label"] for m in r["mechanisms"]} for r in body["regions"]}
    assert "Association of Southeast Asian Nations" in regions["Asian Region"]
    assert body["links"]["sparql"] == "/sparql"
