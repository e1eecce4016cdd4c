"""`tipgraph serve`: the production WSGI server (waitress) around create_app."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import click
from waitress import create_server

from tipgraph.web.app import create_app


def run_server(settings: Mapping[str, Any]) -> None:
    app = create_app(dict(settings))
    server = create_server(app, host=settings["host"], port=settings["port"],
                           threads=settings["threads"], ident="tipgraph")
    host, port = server.effective_host, server.effective_port  # type: ignore[attr-defined]
    click.echo(f"tipgraph serving on http://{host}:{port}/ (SPARQL endpoint: /sparql)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
