"""`tipgraph serve`: the production WSGI server (waitress) around create_app.

Signals: SIGHUP reloads the data (tipgraph.web.reload: built and validated off the request
path, swapped in only if good); SIGTERM and SIGINT stop the server gracefully: it stops
accepting connections, lets the requests in flight finish and their answers leave (within
``query_timeout`` plus a margin), then stops the query workers.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from waitress import create_server, wasyncore

from tipgraph.query.workers import WorkerPool
from tipgraph.web.app import EXTENSION, create_app
from tipgraph.web.reload import Reloader

log = logging.getLogger(__name__)
DRAIN_MARGIN = 10.0  # seconds beyond query_timeout that answers in flight may take to leave


def make_server(app: Flask, settings: Mapping[str, Any]) -> Any:
    """The waitress server for an app. Requests up to max_request_bytes (in the body, or in
    the URL of a GET) reach the app, which answers 413 past the limit in the JSON error shape;
    waitress itself refuses (413 or 431, plain text) what is far larger."""
    limit = int(settings["max_request_bytes"])
    return create_server(app, host=settings["host"], port=settings["port"],
                         threads=settings["threads"], ident="tipgraph",
                         max_request_body_size=limit + 65536,
                         max_request_header_size=limit + 65536)


def run_server(settings: Mapping[str, Any]) -> None:
    logging.basicConfig(level=str(settings["log_level"]).upper(), format="%(message)s")
    if settings["query_workers"] > 0:
        WorkerPool.warm_up()  # the fork server imports its libraries while the graph is built
    app = create_app(dict(settings))
    state = app.extensions[EXTENSION]
    state.queries.start()  # the query workers start now, not on the first query
    reloader = Reloader(state, settings)
    if settings.get("watch"):
        reloader.watch()
    server = make_server(app, settings)
    stopping = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: reloader.request("SIGHUP"))
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    host, port = server.effective_host, server.effective_port  # type: ignore[attr-defined]
    click.echo(f"tipgraph serving on http://{host}:{port}/ (SPARQL endpoint: /sparql)", err=True)
    try:
        serve_until(server, stopping)
        drain(server, float(settings["query_timeout"]) + DRAIN_MARGIN)
    finally:
        reloader.stop()
        server.task_dispatcher.shutdown(timeout=5)
        state.close()


def serve_until(server: Any, stopping: threading.Event, tick: float = 0.5) -> None:
    """Run waitress's event loop until ``stopping`` is set (checked every ``tick`` seconds)."""
    while not stopping.is_set():
        wasyncore.loop(timeout=tick, map=server._map, use_poll=server.adj.asyncore_use_poll,
                       count=1)


def drain(server: Any, limit: float) -> None:
    """Stop accepting; keep the loop running until every request in flight is answered and its
    bytes are sent (or ``limit`` seconds pass)."""
    server.accepting = False
    wasyncore.dispatcher.close(server)  # the listening socket closes: new connections refused
    deadline = time.monotonic() + limit
    while _busy(server) and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.1, map=server._map, use_poll=server.adj.asyncore_use_poll,
                       count=1)
    if _busy(server):
        log.warning("stopping with requests still in flight after %g s", limit)


def _busy(server: Any) -> bool:
    dispatcher = server.task_dispatcher
    with dispatcher.lock:
        queued, active = len(dispatcher.queue), dispatcher.active_count
    if queued or active:
        return True
    channels = [c for c in server._map.values() if hasattr(c, "total_outbufs_len")]
    return any(c.total_outbufs_len or c.requests for c in channels)
