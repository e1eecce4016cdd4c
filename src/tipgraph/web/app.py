"""Application factory. The knowledge graph is built once per app, never per request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from tipgraph import __version__
from tipgraph.config import load_config
from tipgraph.errors import LimitExceeded, QueryError, TipgraphError
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.queries import ExampleQuery, example_queries
from tipgraph.query.service import QueryService
from tipgraph.web import accesslog, ratelimit
from tipgraph.web.answers import AnswerCache

log = logging.getLogger(__name__)
EXTENSION = "tipgraph"


class Generation:
    """One loaded build of the data: the graph, its query service (store and worker processes)
    and the example queries. A request uses one generation from start to end (``state()``), so
    a reload never shows it half of each; a replaced generation closes when its last request
    has finished."""

    def __init__(self, kg: KnowledgeGraph, settings: Mapping[str, Any]) -> None:
        self.kg = kg
        self.queries = QueryService(kg, settings)
        self.examples: list[ExampleQuery] = example_queries(settings["root"])
        self._lock = threading.Lock()
        self._users = 0
        self._retired = False

    @property
    def version(self) -> str:
        """The data version (a content hash of the inputs): what a result cache keys on."""
        return self.kg.version

    def enter(self) -> Generation:
        with self._lock:
            self._users += 1
        return self

    def leave(self) -> None:
        with self._lock:
            self._users -= 1
            done = self._retired and self._users == 0
        if done:
            self.close()

    def retire(self) -> None:
        """No new request will use this generation; close it once the last one has finished."""
        with self._lock:
            self._retired = True
            done = self._users == 0
        if done:
            self.close()

    def close(self) -> None:
        """Stop the query workers (the server calls this on exit; tests on teardown)."""
        self.queries.close()


class AppState:
    """What the app shares between requests: the current generation of the data, swapped as a
    whole on reload (tipgraph.web.reload). ``kg``, ``queries`` and ``examples`` are the current
    generation's; request code reads them through ``state()``, which pins one generation per
    request. Callbacks given to ``on_swap`` run after each swap with the new generation (a
    result cache drops its entries there, or keys them on ``generation.version``)."""

    def __init__(self, kg: KnowledgeGraph, settings: Mapping[str, Any]) -> None:
        self.settings = settings
        self.current = Generation(kg, settings)
        self.generations = 1  # how many builds this app has served, the first included
        self._swap_callbacks: list[Callable[[Generation], None]] = []
        self.reloader: Any = None  # a tipgraph.web.reload.Reloader when serving with reloads
        self._lock = threading.Lock()

    @property
    def kg(self) -> KnowledgeGraph:
        return self.current.kg

    @property
    def queries(self) -> QueryService:
        return self.current.queries

    @property
    def examples(self) -> list[ExampleQuery]:
        return self.current.examples

    def on_swap(self, callback: Callable[[Generation], None]) -> None:
        self._swap_callbacks.append(callback)

    def swap(self, new: Generation) -> Generation:
        """Make ``new`` the generation new requests use (one assignment: atomic); retire the old
        one (it closes when its in-flight requests are done). Returns the old one."""
        with self._lock:
            old, self.current = self.current, new
            self.generations += 1
        for callback in self._swap_callbacks:
            try:
                callback(new)
            except Exception:  # a listener's bug must not undo or block a good reload
                log.exception("a reload listener failed")
        old.retire()
        return old

    def close(self) -> None:
        self.current.close()


def state() -> Generation:
    """The one accessor for the app's data: the generation this request started with."""
    if has_request_context():
        pinned = g.get("tipgraph_generation")
        if pinned is not None:
            return pinned
    return current_app.extensions[EXTENSION].current


def _pin_generation() -> None:
    g.tipgraph_generation = current_app.extensions[EXTENSION].current.enter()


def _unpin_generation(_error: BaseException | None = None) -> None:
    pinned = g.pop("tipgraph_generation", None)
    if pinned is not None:
        pinned.leave()


def create_app(config: Mapping[str, Any] | None = None,
               kg: KnowledgeGraph | None = None) -> Flask:
    """Build the app. ``config`` overrides settings; ``kg`` reuses an already built graph."""
    app = Flask(__name__)
    settings = load_config({k: v for k, v in (config or {}).items() if k != "TESTING"})
    app.config["TIPGRAPH"] = settings
    app.config["TESTING"] = bool((config or {}).get("TESTING", False))
    app.config["DEBUG"] = False  # never the Werkzeug debugger, whatever FLASK_DEBUG says
    app.debug = False
    app.config["MAX_CONTENT_LENGTH"] = settings["max_request_bytes"]
    app.config["MAX_FORM_MEMORY_SIZE"] = settings["max_request_bytes"]
    app.extensions[EXTENSION] = AppState(kg or build(settings), settings)
    _register_errors(app)
    _register_blueprints(app)
    app.before_request(_start_clock)
    ratelimit.init_app(app, int(settings["rate_limit"]))  # refused before any other work
    app.before_request(_pin_generation)
    app.teardown_request(_unpin_generation)
    app.after_request(_security_headers)
    app.after_request(_access_log)
    _plain_queries_before_flask(app, settings)
    return app


def _plain_queries_before_flask(app: Flask, settings: Mapping[str, Any]) -> None:
    """Two layers in front of Flask for /sparql: the answer cache (tipgraph.web.answers: the
    same request again) around the fast lane (tipgraph.web.fastlane: plain queries); a reload
    frees the answers of the old data."""
    from tipgraph.web.fastlane import FastLane

    app_state = app.extensions[EXTENSION]
    limiter = app.extensions.get("tipgraph.ratelimit")
    lane = FastLane(app.wsgi_app, app_state, limiter)
    answers = AnswerCache(lane, lambda: app_state.queries.kg.version,
                          int(settings.get("result_cache_bytes", 0) or 0), limiter)
    app.wsgi_app = answers  # type: ignore[method-assign]
    app.extensions["tipgraph.answers"] = answers
    app.extensions["tipgraph.fastlane"] = lane
    app_state.on_swap(lambda generation: answers.drop_other_versions(generation.version))


def _register_blueprints(app: Flask) -> None:
    from tipgraph.web import dumps, graph, health, home, openapi, pages, sparql

    app.add_url_rule("/favicon.ico", "favicon", lambda: redirect(
        "/static/favicon.svg", code=301))  # for clients that ask without reading the page
    app.register_blueprint(health.blueprint)
    app.register_blueprint(home.blueprint)
    app.register_blueprint(openapi.blueprint)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(dumps.blueprint)
    app.register_blueprint(graph.blueprint)


def _start_clock() -> None:
    g.started = time.perf_counter()


def _access_log(response: Response) -> Response:
    accesslog.log_access(request.environ, response.status_code, g.get("started"),
                         g.get("query_ms"), g.get("result_size"), response.content_length)
    return response


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # no inline script anywhere: every script is a file under /static/
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"),
}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
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

    @app.errorhandler(LimitExceeded)
    def limit_error(error: LimitExceeded) -> Response:
        response = error_response(error.status, str(error))
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.errorhandler(TipgraphError)
    def domain_error(error: TipgraphError) -> Response:
        return error_response(400, str(error))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal error: the server logged the details")


def settings_of(app: Flask | None = None) -> Mapping[str, Any]:
    return (app or current_app).config["TIPGRAPH"]


__all__ = ["SECURITY_HEADERS", "AppState", "Generation", "create_app", "error_response",
           "settings_of", "state", "wants_html"]
