"""/openapi.json: the OpenAPI 3.0 description of the HTTP API, written in this one place.

The tests run schemathesis against a real server from this description
(tests/test_openapi.py), and check that every route of the app is described here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from tipgraph import __version__
from tipgraph.publish.formats import GRAPH_FORMATS, RDF_FORMATS, RESULT_FORMATS

blueprint = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}
RDF_TYPES = [f.media_type for f in RDF_FORMATS]
RESULT_TYPES = [f.media_type for f in RESULT_FORMATS]


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": ERROR},
                        "text/html": {"schema": {"type": "string"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "a malformed request or query", 403: "refused by the query policy",
             404: "nothing at this path", 406: "no acceptable representation",
             413: "the request is over max_request_bytes", 415: "an unsupported body type",
             429: "over the rate_limit", 503: "no query worker free within query_timeout",
             504: "the query ran past query_timeout"}
    found = {str(code): _error(words[code]) for code in codes}
    found["429"] = {**_error(words[429]), "headers": {"Retry-After": {
        "schema": {"type": "integer"}, "description": "seconds to wait"}}}
    return found


def _in_one_format(summary: str, description: str) -> dict[str, Any]:
    """A GET of ``<path>.{suffix}``: one document, HTML or RDF by its suffix."""
    return {"get": {
        "summary": summary,
        "parameters": [{"name": "suffix", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"description": description,
                              "content": _content("text/html", *RDF_TYPES)},
                      **_errors(404)}}}


def _content(*media_types: str, schema: dict | None = None) -> dict[str, Any]:
    def default(media_type: str) -> dict[str, Any]:
        return {"type": "object"} if media_type.endswith("json") else {"type": "string"}

    return {m: {"schema": schema or default(m)} for m in media_types}


def _query_params() -> list[dict[str, Any]]:
    return [
        {"name": "query", "in": "query", "schema": {"type": "string"},
         "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT, DESCRIBE). Without it, "
                        "the service description (RDF) or the query editor (HTML)."},
        {"name": "default-graph-uri", "in": "query", "style": "form", "explode": True,
         "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "named-graph-uri", "in": "query", "style": "form", "explode": True,
         "schema": {"type": "array", "items": {"type": "string"}}},
        {"name": "format", "in": "query", "schema": {"type": "string"},
         "description": "A format name or media type; overrides Accept."},
    ]


GRAPH_FILTERS = [
    {"name": name, "in": "query", "schema": {"type": kind}, "description": text}
    for name, kind, text in (
        ("region", "string", "region slugs, comma-separated"),
        ("kind", "string", "kinds or kind groups, comma-separated"),
        ("relation", "string", "relations, comma-separated"),
        ("theme", "string", "thematic areas, comma-separated"),
        ("year", "integer", "only what existed in that year"),
        ("instruments", "string", "1 to include instruments"),
        ("focus", "string", "a node id: its neighbourhood only"),
        ("depth", "integer", "neighbourhood depth around focus (1 to 5)"),
        ("group", "string", "1 to nest bodies in their organisation"),
    )
]


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    sparql_ok = {"description": "results (SELECT, ASK), a graph (CONSTRUCT, DESCRIBE), the "
                                "service description, or the query editor",
                 "content": _content(*RESULT_TYPES, *RDF_TYPES, "text/html")}
    sparql_errors = _errors(400, 403, 406, 413, 415, 503, 504)
    return {
        "openapi": "3.0.3",
        "info": {"title": "tipgraph", "version": __version__,
                 "description": "The knowledge graph of regional mechanisms against trafficking "
                                "in persons: SPARQL endpoint, linked-data pages, dumps, graph. "
                                "Every error is {\"error\", \"status\"} (or an HTML page for "
                                "browsers)."},
        "paths": {
            "/sparql": {
                "get": {"summary": "SPARQL 1.1 Protocol query", "parameters": _query_params(),
                        "responses": {"200": sparql_ok, **sparql_errors}},
                "post": {"summary": "SPARQL 1.1 Protocol query (form or direct body)",
                         "requestBody": {"content": {
                             "application/x-www-form-urlencoded": {"schema": {
                                 "type": "object", "required": ["query"],
                                 "properties": {"query": {"type": "string"}}}},
                             "application/sparql-query": {"schema": {"type": "string"}}}},
                         "responses": {"200": sparql_ok, **sparql_errors}},
            },
            "/id/": {"get": {
                "summary": "browse: classes, search by label, members of a class",
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}},
                               {"name": "class", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the listing",
                                      "content": _content("application/json", "text/html")},
                              **_errors(400)}}},
            "/id/{path}": {"get": {
                "summary": "a data IRI (303 to its document) or a document (.html, .ttl...)",
                "parameters": [{"name": "path", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "the document",
                            "content": _content("text/html", *RDF_TYPES)},
                    "303": {"description": "see the document in the negotiated format",
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    **_errors(404, 406)}}},
            "/ontology": {"get": {
                "summary": "the ontology (HTML documentation or RDF)",
                "responses": {"200": {"description": "the ontology",
                                      "content": _content("text/html", *RDF_TYPES)},
                              **_errors(406)}}},
            "/ontology.{suffix}": _in_one_format(
                "the ontology in one format (html, ttl, nt, jsonld, rdf, trig, nq)",
                "the ontology"),
            "/.well-known/void.{suffix}": _in_one_format(
                "the dataset description in one format", "the description"),
            "/dumps/": {"get": {
                "summary": "the dumps with sizes and checksums",
                "responses": {"200": {"description": "the list",
                                      "content": _content("application/json", "text/html")}}}},
            "/dumps/{name}": {"get": {
                "summary": "a dump: tipgraph.<suffix> or tipgraph-inferred.<suffix>",
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the dump", "content": _content(*RDF_TYPES)},
                              "304": {"description": "not modified (ETag)"},
                              **_errors(404)}}},
            "/.well-known/void": {"get": {
                "summary": "the dataset description (VoID, DCAT)",
                "responses": {"200": {"description": "the description",
                                      "content": _content(*RDF_TYPES, "text/html")},
                              **_errors(406)}}},
            "/context.jsonld": {"get": {
                "summary": "the JSON-LD context",
                "responses": {"200": {"description": "the context",
                                      "content": _content("application/ld+json")}}}},
            "/graph": {"get": {
                "summary": "the graph explorer (HTML)",
                "responses": {"200": {"description": "the page", "content": _content(
                    "text/html")}}}},
            "/graph.json": {"get": {
                "summary": "the organisation graph as Cytoscape elements",
                "parameters": GRAPH_FILTERS,
                "responses": {"200": {"description": "nodes and edges",
                                      "content": _content("application/json",
                                                          schema={"type": "object"})},
                              "304": {"description": "not modified (ETag)"},
                              **_errors(400)}}},
            "/graph.{suffix}": {"get": {
                "summary": "the organisation graph for desktop tools",
                "parameters": [{"name": "suffix", "in": "path", "required": True,
                                "schema": {"type": "string",
                                           "enum": [f.suffix for f in GRAPH_FORMATS]}},
                               *GRAPH_FILTERS],
                "responses": {"200": {"description": "the export", "content": _content(
                    *sorted({f.media_type for f in GRAPH_FORMATS}))},
                              "304": {"description": "not modified (ETag)"},
                              **_errors(400, 404, 503, 504)}}},
            "/": {"get": {
                "summary": "the landing page: counts and the mechanisms by region (HTML or JSON)",
                "responses": {"200": {"description": "the overview", "content": _content(
                    "text/html", "application/json")},
                              **_errors()}}},
            "/health": {"get": {
                "summary": "for monitoring: version, data version, workers, reloads",
                "responses": {
                    "200": {"description": "ready", "content": _content(
                        "application/json", schema={"$ref": "#/components/schemas/Health"})},
                    "503": {"description": "starting: no query worker ready yet",
                            "content": _content("application/json", schema={
                                "$ref": "#/components/schemas/Health"})}}}},
            "/openapi.json": {"get": {
                "summary": "this description",
                "responses": {"200": {"description": "OpenAPI 3.0",
                                      "content": _content("application/json",
                                                          schema={"type": "object"})}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "status"],
                      "additionalProperties": False,
                      "properties": {"error": {"type": "string"},
                                     "status": {"type": "integer", "minimum": 400,
                                                "maximum": 599}}},
            "Health": {"type": "object",
                       "required": ["status", "version", "data_version", "triples", "query"],
                       "properties": {"status": {"type": "string", "enum": ["ok", "starting"]},
                                      "version": {"type": "string"},
                                      "data_version": {"type": "string"},
                                      "triples": {"type": "integer"},
                                      "query": {"type": "object"},
                                      "reload": {"type": "object", "nullable": True}}},
        }},
    }


@blueprint.get("/openapi.json")
def openapi() -> Response:
    response = jsonify(spec())
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


__all__ = ["blueprint", "spec"]
