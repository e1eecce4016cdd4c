"""Faults: a query worker killed mid-query is replaced; a server stopped with requests in flight
answers them and a restart serves the same data; an export interrupted half-way (the process
killed, or the disk full) leaves the previous file intact."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from urllib.parse import quote

import pytest

from tests.conftest import REPO, app_settings, fetch, running_server, wait_until_ready
from tipgraph.errors import ExportError
from tipgraph.publish import export as export_module
from tipgraph.publish.export import write_export
from tipgraph.web.app import create_app

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
JSON = "application/sparql-results+json"


def health(base: str) -> dict:
    return json.loads(fetch(f"{base}/health").body)


def test_a_worker_killed_mid_query_is_replaced_and_the_next_request_succeeds(kg, config):
    app = create_app(app_settings(config, query_workers=1, query_workers_max=1,
                                    query_timeout=60.0), kg=kg)
    with running_server(app) as base:
        (pid,) = health(base)["query"]["workers"]["pids"]
        outcome: dict = {}
        runaway = threading.Thread(target=lambda: outcome.update(
            reply=fetch(f"{base}/sparql?query={quote(RUNAWAY)}")))
        runaway.start()
        while health(base)["query"]["workers"]["idle"] != 0:  # the worker has the query
            threading.Event().wait(0.02)
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        runaway.join(60)
        reply = outcome["reply"]
        assert reply.status == 503 and json.loads(reply.body)["status"] == 503
        assert "replaced" in json.loads(reply.body)["error"]
        answer = fetch(f"{base}/sparql?query={quote('ASK { ?s a owl:Class }')}",
                       headers={"Accept": JSON})
        assert answer.status == 200 and json.loads(answer.body)["boolean"] is True
        workers = health(base)["query"]["workers"]
        assert workers["replaced"] == 1 and pid not in workers["pids"]


# --- stop and restart -------------------------------------------------------------------------

def serve(config, *args: str) -> tuple[subprocess.Popen, str, list[str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_ROOT=str(REPO),
               TIPGRAPH_CACHE_DIR=str(config["cache_dir"]))
    process = subprocess.Popen([sys.executable, "-m", "tipgraph", "serve", "--port", "0", *args],
                               env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    for line in process.stderr:
        lines.append(line)
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
        if found:
            break
    else:
        raise AssertionError("no URL printed: " + "".join(lines))
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    process.reader = reader  # type: ignore[attr-defined]
    wait_until_ready(found.group(1))
    return process, found.group(1), lines


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    process.reader.join(10)  # type: ignore[attr-defined]
    process.stderr.close()
    return code


def snapshot(base: str) -> dict:
    """What a client can see of the served data."""
    status = health(base)
    dump = fetch(f"{base}/dumps/tipgraph.nq", timeout=300).body  # seconds when cold
    query = quote("SELECT ?l WHERE { id:ecowas skos:prefLabel ?l }")
    answer = fetch(f"{base}/sparql?query={query}", headers={"Accept": JSON}).body
    return {"data_version": status["data_version"], "triples": status["triples"],
            "dump": hashlib.sha256(dump).hexdigest(), "answer": json.loads(answer)}


def test_stop_answers_requests_in_flight_and_a_restart_loses_nothing(kg, config):
    process, base, lines = serve(config, "--query-timeout", "3")
    try:
        before = snapshot(base)
        outcome: dict = {}
        runaway = threading.Thread(target=lambda: outcome.update(
            reply=fetch(f"{base}/sparql?query={quote(RUNAWAY)}")))
        runaway.start()
        while health(base)["query"]["workers"]["idle"] == 2:  # a worker has the query
            threading.Event().wait(0.02)
        code = stop(process)  # SIGTERM with a query in flight
        runaway.join(60)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, "".join(lines)
    reply = outcome["reply"]  # answered (its time limit), not cut off
    assert reply.status == 504 and json.loads(reply.body)["status"] == 504
    with pytest.raises(OSError):  # and the port is closed
        fetch(f"{base}/health", timeout=5)

    process, base, lines = serve(config)
    try:
        assert snapshot(base) == before
    finally:
        assert stop(process) == 0, "".join(lines)


# --- exports ------------------------------------------------------------------------------------

def test_disk_full_during_an_export_keeps_the_previous_file(kg, tmp_path, monkeypatch):
    target = tmp_path / "tipgraph.ttl"
    target.write_bytes(b"the previous dump\n")

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export_module.os, "fsync", full)
    with pytest.raises(ExportError, match="No space left on device"):
        write_export(kg, "turtle", target)
    assert target.read_bytes() == b"the previous dump\n"
    assert [p.name for p in tmp_path.iterdir()] == ["tipgraph.ttl"]  # no temporary left


def test_an_export_killed_half_way_keeps_the_previous_file(tmp_path):
    """The process dies (SIGKILL) after writing half the bytes: the target is untouched."""
    target = tmp_path / "tipgraph.ttl"
    target.write_bytes(b"the previous dump\n")
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from tipgraph.publish import export

        real_write = os.write
        class Dying:
            def __init__(self, out): self.out = out
            def write(self, data):
                self.out.write(data[: len(data) // 2])
                self.out.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            def __getattr__(self, name): return getattr(self.out, name)
        real_fdopen = os.fdopen
        export.os.fdopen = lambda *a, **k: _Ctx(Dying(real_fdopen(*a, **k)))
        class _Ctx:
            def __init__(self, f): self.f = f
            def __enter__(self): return self.f
            def __exit__(self, *exc): self.f.out.close()
        export.write_atomically(Path({str(target)!r}), b"new dump " * 100_000)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120,
                            env=dict(os.environ, PYTHONPATH=str(REPO / "src")))
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert target.read_bytes() == b"the previous dump\n"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "tipgraph.ttl"]
    assert leftovers and all(p.name.startswith(".tipgraph.ttl.") for p in leftovers)
    assert 0 < leftovers[0].stat().st_size < len(b"new dump ") * 100_000  # half-written


# --- push: the store goes silent half-way ---------------------------------------------------------

class StallingProxy:
    """An HTTP proxy to a real store that forwards the first ``answer`` requests, then holds
    every later one without a word (a store that hangs mid-push)."""

    def __init__(self, target: str, answer: int) -> None:
        import http.server

        import requests

        proxy = self
        self.seen = 0
        self.release = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.seen += 1
                if proxy.seen > answer:
                    proxy.release.wait(60)  # silent
                    return
                length = int(self.headers.get("Content-Length") or 0)
                upstream = requests.request(
                    self.command, target + self.path, data=self.rfile.read(length),
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                    timeout=60)
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            do_GET = do_POST = do_PUT = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def test_a_store_going_silent_mid_push_leaves_the_graph_as_it_was(oxigraph_server, kg):
    from rdflib import Graph, Literal, URIRef

    from tipgraph.publish.push import PushError, count_remote, push
    from tipgraph.publish.push import _Client as Client

    graph_iri = "https://w3id.org/tipgraph/graph/faults"
    before = Graph()
    before.add((URIRef("http://example.org/old"), URIRef("http://example.org/p"), Literal(1)))
    push(before, oxigraph_server.query_url, graph_iri, update_endpoint=oxigraph_server.update_url)
    new = kg.asserted()  # several INSERT DATA chunks
    proxy = StallingProxy(oxigraph_server.base_url, answer=2)  # prepare + first chunk, then nothing
    try:
        with pytest.raises(PushError, match="did not answer within 2s"):
            push(new, f"{proxy.url}/query", graph_iri, update_endpoint=f"{proxy.url}/update",
                 timeout=2)
    finally:
        proxy.close()
    assert proxy.seen >= 3  # it did get half-way
    client = Client(None, 10)
    try:
        assert count_remote(client, oxigraph_server.query_url, graph_iri) == 1  # as it was
    finally:
        client.close()
