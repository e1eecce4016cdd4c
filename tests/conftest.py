"""Shared fixtures: the expensive knowledge graph once per session, cheap things per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tipgraph.config import load_config
from tipgraph.model.build import KnowledgeGraph, build

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def root_with_page(folder: Path, statements: str) -> Path:
    """A root in ``folder``: the bundled ontology and shapes, and one data file stating
    ``statements`` (Turtle, prefixes tip:, skos:, and : for the data) on page 3."""
    for part in ("ontology", "shapes"):
        shutil.copytree(REPO / part, folder / part)
    (folder / "data").mkdir()
    (folder / "data" / "page3.trig").write_text(
        "@prefix tip: <https://w3id.org/tipgraph/ontology#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix : <https://w3id.org/tipgraph/id/> .\n"
        "@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .\n"
        f"page:3 {{\n{statements}\n}}\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    cache = tmp_path_factory.mktemp("cache")
    return load_config({"root": REPO, "cache_dir": cache}, environ={})


@pytest.fixture(scope="session")
def kg(config: dict) -> KnowledgeGraph:
    return build(config)


# --- a real HTTP server (waitress) on a free port, and a small HTTP client --------------------

import contextlib  # noqa: E402
import http.client  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

from waitress import wasyncore  # noqa: E402

from tipgraph.web.serve import make_server  # noqa: E402


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()


def fetch(url: str, method: str = "GET", body: bytes | str | None = None,
          headers: dict | None = None, timeout: float = 60) -> Reply:
    """One HTTP request, nothing added but what is given (Host, and Content-Length for a body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


@contextlib.contextmanager
def running_server(app):
    """Serve a Flask app with waitress on 127.0.0.1, port 0; yield its base URL; stop it."""
    app.extensions["tipgraph"].queries.start()
    server = make_server(app, {**app.config["TIPGRAPH"], "host": "127.0.0.1", "port": 0})
    thread = threading.Thread(target=server.run, daemon=True, name="test-waitress")
    thread.start()
    base = f"http://127.0.0.1:{server.effective_port}"
    try:
        wait_until_ready(base)
        yield base
    finally:
        # Close the sockets in the loop thread itself (waitress's trigger runs the thunk there):
        # closing them from this thread races the loop's select() into EBADF.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(10)
        server.task_dispatcher.shutdown()
        app.extensions["tipgraph"].close()


def wait_until_ready(base: str, deadline: float = 120.0) -> None:
    """Poll /health until it says ready (200): the readiness check, not a fixed sleep."""
    give_up = time.monotonic() + deadline
    while fetch(base + "/health").status != 200:
        assert time.monotonic() < give_up, "the server did not become ready"
        time.sleep(0.05)


def app_settings(config: dict, **overrides) -> dict:
    return {**config, "TESTING": True, **overrides}


# --- real SPARQL servers (tests/servers.py), started once per session when a test needs one ---


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory):
    from tests.servers import OxigraphServer

    with OxigraphServer(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory):
    from tests.servers import VirtuosoServer

    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server
