"""`tipgraph serve`: the production WSGI server (waitress) around create_app.

Signals: SIGHUP reloads the data (tipgraph.web.reload: built and validated off the request
path, swapped in only if good); SIGTERM and SIGINT stop the server gracefully: it stops
accepting connections, lets the requests in flight finish and their answers leave (within
``query_timeout`` plus a margin), then stops the query workers.

With ``server_processes`` > 1, tipgraph.web.supervisor runs several such servers on one
listening socket (``serve_process`` is what each of them runs).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import click
from flask import Flask
from waitress import create_server, wasyncore
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from tipgraph.query.workers import WorkerPool
from tipgraph.web.app import EXTENSION, SECURITY_HEADERS, create_app
from tipgraph.web.publishing import publishing_for
from tipgraph.web.reload import READY_TIMEOUT, Reloader

log = logging.getLogger(__name__)
DRAIN_MARGIN = 10.0  # seconds beyond query_timeout that answers in flight may take to leave


class _JsonErrorTask(ErrorTask):
    """What waitress answers itself (a request it cannot parse, headers or a body far over the
    limit, a transfer coding it does not know), in the one error shape: JSON, 4xx."""

    def execute(self) -> None:
        error = self.request.error
        status = error.code if 400 <= error.code < 500 else 400  # 501 for a transfer coding
        message = f"{error.reason}: {error.body}".rstrip(": ")
        body = (json.dumps({"error": message, "status": status}) + "\n").encode("utf-8")
        self.status = f"{status} {HTTPStatus(status).phrase}"
        self.response_headers.extend([("Content-Type", "application/json"),
                                      *SECURITY_HEADERS.items()])
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class _Channel(HTTPChannel):
    error_task_class = _JsonErrorTask


def make_server(app: Flask, settings: Mapping[str, Any],
                listener: socket.socket | None = None) -> Any:
    """The waitress server for an app, on ``listener`` if given (a bound socket shared with
    other server processes), else on host and port. Requests up to max_request_bytes (in the
    body, or in the URL of a GET) reach the app, which answers 413 past the limit in the JSON
    error shape; waitress itself refuses what is far larger (413 or 431, also in the JSON error
    shape)."""
    limit = int(settings["max_request_bytes"])
    where: dict[str, Any] = {"sockets": [listener]} if listener is not None else {
        "host": settings["host"], "port": settings["port"]}
    server = create_server(app, threads=settings["threads"], ident="tipgraph",
                           max_request_body_size=limit + 65536,
                           max_request_header_size=limit + 65536, **where)
    server.channel_class = _Channel
    return server


def run_server(settings: Mapping[str, Any]) -> None:
    """`tipgraph serve`: one server process, or a supervisor of several (server_processes)."""
    logging.basicConfig(level=str(settings["log_level"]).upper(), format="%(message)s")
    if int(settings.get("server_processes", 1)) > 1:
        from tipgraph.web.supervisor import supervise

        supervise(settings)
    else:
        serve_process(settings)


def serve_process(settings: Mapping[str, Any], listener: socket.socket | None = None,
                  on_ready: Callable[[str, int], None] | None = None) -> None:
    """Build, serve until SIGTERM or SIGINT, drain. ``on_ready(host, port)`` is called once the
    server accepts connections (default: print the URL)."""
    if settings["query_workers"] > 0:
        WorkerPool.warm_up()  # the fork server imports its libraries while the graph is built
    app = create_app(dict(settings))
    state = app.extensions[EXTENSION]
    state.queries.start()  # the query workers start now, not on the first query
    if listener is not None and state.queries.pool is not None:
        # a process joining others on their socket takes connections only once it can answer
        state.queries.pool.wait_ready(READY_TIMEOUT)
    threading.Thread(target=publishing_for(state.kg).warm, daemon=True,
                     name="tipgraph-warm").start()  # dumps and pages, before anyone asks
    reloader = Reloader(state, settings)
    if settings.get("watch"):
        reloader.watch()
    server = make_server(app, settings, listener)
    stopping = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: reloader.request("SIGHUP"))
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    (on_ready or announce)(server.effective_host, server.effective_port)
    try:
        serve_until(server, stopping)
        drain(server, float(settings["query_timeout"]) + DRAIN_MARGIN)
    finally:
        reloader.stop()
        server.task_dispatcher.shutdown(timeout=5)
        state.close()


def announce(host: str, port: int, processes: int = 1) -> None:
    """The line a user (and a test) waits for: where the server listens."""
    more = f", {processes} server processes" if processes > 1 else ""
    click.echo(f"tipgraph serving on http://{host}:{port}/ (SPARQL endpoint: /sparql{more})",
               err=True)


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
