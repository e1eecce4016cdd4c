"""Application factory. The knowledge graph is built once per app, never per request."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from tipgraph import __version__
from tipgraph.config import load_config
from tipgraph.errors import QueryError, TipgraphError
from tipgraph.model.build import KnowledgeGraph, build

log = logging.getLogger(__name__)
EXTENSION = "tipgraph"


class AppState:
    """What the app shares between requests: the built graph (and what later issues add)."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg


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
    app.extensions[EXTENSION] = AppState(kg or build(settings))
    _register_errors(app)
    _register_blueprints(app)
    app.after_request(_security_headers)
    return app


def _register_blueprints(app: Flask) -> None:
    from tipgraph.web import graph, health

    app.register_blueprint(health.blueprint)
    app.register_blueprint(graph.blueprint)


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

