"""The application factory, the error shape and the security headers."""

from __future__ import annotations

import pytest

from tipgraph.web.app import create_app


@pytest.fixture
def app(kg, config):
    return create_app({**{k: v for k, v in config.items() if k != "root"}, "root": config["root"],
                       "TESTING": True}, kg=kg)


@pytest.fixture
def client(app):
    return app.test_client()


def test_health_reports_version_and_triples(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["triples"] > 0


def test_unknown_route_has_the_json_error_shape(client):
    response = client.get("/no/such/route", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert set(response.get_json()) == {"error", "status"}


def test_security_headers_on_every_response(client):
    response = client.get("/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
