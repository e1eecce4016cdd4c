"""Application factory. The knowledge graph is built once per app, never per request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from tipgraph import __version__
from tipgraph.config import load_config
from tipgraph.errors import QueryError, TipgraphError
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.queries import ExampleQuery, example_queries
from tipgraph.query.service import QueryService

log = logging.getLogger(__name__)
access_log = logging.getLogger("tipgraph.access")
EXTENSION = "tipgraph"


class AppState:
    """What the app shares between requests: the built graph, the query service (store and
    worker processes) and the example queries, all made once at app start."""

    def __init__(self, kg: KnowledgeGraph, settings: Mapping[str, Any]) -> None:
        self.kg = kg
        self.queries = QueryService(kg, settings)
        self.examples: list[ExampleQuery] = example_queries(settings["root"])

    def close(self) -> None:
        """Stop the query workers (the server calls this on exit; tests on teardown)."""
        self.queries.close()


def state() -> AppState:
    """The one accessor for the app's knowledge graph."""
    return current_app.extensions[EXTENSION]


def create_app(config: Mapping[str, Any] | None = None,
               kg: KnowledgeGraph | None = None) -> Flask:
    """Build the app. ``config`` overrides settings; ``kg`` reuses an already built graph."""
    app = Flask(__name__)
    settings = load_config({k: v for k, v in (config or {}).items() if k != "TESTING"})
    app.config["TIPGRAPH"] = settings
    app.config["TESTING"] = bool((config or {}).get("TESTING", False))
    app.config["MAX_CONTENT_LENGTH"] = settings["max_request_bytes"]
    app.config["MAX_FORM_MEMORY_SIZE"] = settings["max_request_bytes"]
    app.extensions[EXTENSION] = AppState(kg or build(settings), settings)
    _register_errors(app)
    _register_blueprints(app)
    app.before_request(_start_clock)
    app.after_request(_security_headers)
    app.after_request(_access_log)
    return app


def _register_blueprints(app: Flask) -> None:
    from tipgraph.web import dumps, graph, health, home, pages, sparql

    app.register_blueprint(health.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(dumps.blueprint)
    app.register_blueprint(graph.blueprint)


def _start_clock() -> None:
    g.started = time.perf_counter()


def _access_log(response: Response) -> Response:
    """One structured line (JSON) per request: what, how it went, how long, how much."""
    started = g.get("started")
    entry = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "query_ms": round(g.query_ms, 1) if "query_ms" in g else None,
        "result_size": g.get("result_size"),
        "bytes": response.content_length,
        "client": request.remote_addr,
        "version": __version__,
    }
    access_log.info(json.dumps(entry))
    return response


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    response.headers.setdefault("X-Tipgraph-Version", __version__)
    return response


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > 0


def error_response(status: int, message: str) -> Response:
    """The one error shape: JSON {"error", "status"}, or an HTML page for browsers."""
    if wants_html():
        body = render_template("error.html", status=status, message=message)
        return Response(body, status=status, mimetype="text/html")
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = error_response(error.code or 500, error.description or error.name)
        for key, value in error.get_headers():  # keep Allow: on 405 and the like
            if key.lower() not in {"content-type", "content-length"}:
                response.headers[key] = value
        return response

    @app.errorhandler(QueryError)
    def query_error(error: QueryError) -> Response:
        return error_response(error.status, str(error))

    @app.errorhandler(TipgraphError)
    def domain_error(error: TipgraphError) -> Response:
        return error_response(400, str(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal error: the server logged the details")


def settings_of(app: Flask | None = None) -> Mapping[str, Any]:
    return (app or current_app).config["TIPGRAPH"]


__all__ = ["AppState", "create_app", "error_response", "settings_of", "state", "wants_html"]

