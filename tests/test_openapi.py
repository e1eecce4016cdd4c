"""The published OpenAPI description covers every route, and a real server honours it:
schemathesis generates requests from it (valid and invalid) and checks each answer: no server
error but 503/504 for limits, status codes and media types as described, errors in the one
shape, the security headers on everything."""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import app_settings, fetch, running_server
from tipgraph.web.app import SECURITY_HEADERS, create_app
from tipgraph.web.openapi import spec
from tipgraph.web.publishing import publishing_for

EXAMPLES = 20  # per operation: 16 operations, a few hundred requests


@pytest.fixture(scope="module")
def api_server(kg, config):
    app = create_app(app_settings(config, query_workers=2, query_timeout=5.0), kg=kg)
    publishing_for(kg).warm()  # as `tipgraph serve` does at start
    with running_server(app) as base:
        yield base


# The same document /openapi.json serves; minus the Graphviz pictures (/graph.svg, .png: up to
# two minutes of CPU each, one at a time: tests/test_hostile.py checks that guard instead).
schema = schemathesis.openapi.from_dict(spec()).exclude(path="/graph.{suffix}")


@schemathesis.serializer("application/sparql-query")
def _sparql_body(ctx, value):
    """A direct POST body: the query text (anything generated, as UTF-8)."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else \
        json.dumps(value).encode("utf-8")


def header(response, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


def limits_only_server_errors(ctx, response, case):
    """No 5xx but 503 (busy) and 504 (time limit); every error in the one shape."""
    status = response.status_code
    assert status < 500 or status in {503, 504}, f"{status}: {response.text[:300]}"
    if status >= 400:
        media_type = (header(response, "Content-Type") or "").split(";")[0]
        assert media_type in {"application/json", "text/html"}, media_type
        if media_type == "application/json":
            body = json.loads(response.content)
            assert set(body) == {"error", "status"} and body["status"] == status, body
    assert "Traceback" not in response.text


def security_headers_everywhere(ctx, response, case):
    for name, value in SECURITY_HEADERS.items():
        assert header(response, name) == value, name


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_api_honours_its_description(case, api_server):
    case.call_and_validate(base_url=api_server, timeout=60,
                           checks=[limits_only_server_errors, security_headers_everywhere,
                                   status_code_conformance, content_type_conformance,
                                   response_schema_conformance])


def test_every_route_is_described(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    described = set(spec()["paths"])
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "home", "favicon"}:  # redirects and files
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in described, f"{rule.rule} is not in /openapi.json"


def test_openapi_is_served_and_names_the_error_shape(api_server):
    reply = fetch(f"{api_server}/openapi.json")
    assert reply.status == 200 and reply.media_type == "application/json"
    document = json.loads(reply.body)
    assert document["openapi"].startswith("3.")
    assert document == json.loads(json.dumps(spec()))
