"""`tipgraph serve`: the production WSGI server (waitress) around create_app."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask
from waitress import create_server

from tipgraph.query.workers import WorkerPool
from tipgraph.web.app import EXTENSION, create_app


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
    server = make_server(app, settings)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly: workers too
    host, port = server.effective_host, server.effective_port  # type: ignore[attr-defined]
    click.echo(f"tipgraph serving on http://{host}:{port}/ (SPARQL endpoint: /sparql)", err=True)
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            server.run()
    finally:
        state.close()
