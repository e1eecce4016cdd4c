"""Changing the data while serving: SIGHUP and --watch reload it without dropping a request; a
broken file or a build with violations leaves the last good build served, and the log says why.
Also: a request uses one generation of the data from start to end (atomic switch)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import jsonify

from tests.conftest import REPO, app_settings, fetch, wait_until_ready
from tipgraph.web.app import EXTENSION, Generation, create_app, state

LABEL = '"Gulf Cooperation Council"@en'
LABEL_QUERY = "SELECT ?l WHERE { id:gcc skos:prefLabel ?l }"
JSON = "application/sparql-results+json"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the data, to change while a server serves it."""
    for folder in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def relabel(root: Path, old: str, new: str) -> None:
    """Replace a label in every file (an entity's label must agree across files)."""
    changed = 0
    for path in (root / "data").rglob("*.trig"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            path.write_text(text.replace(old, new), encoding="utf-8")
            changed += 1
    assert changed


def label(base: str) -> str:
    reply = fetch(f"{base}/sparql?{urlencode({'query': LABEL_QUERY})}", headers={"Accept": JSON})
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["results"]["bindings"][0]["l"]["value"]


class Server:
    """`tipgraph serve` in a subprocess on a root; its log lines collected as they come."""

    def __init__(self, root: Path, cache: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_CACHE_DIR=str(cache),
                   TIPGRAPH_WATCH_INTERVAL="0.2")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tipgraph", "--root", str(root), "serve", "--port", "0",
             *args], env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        for line in self.process.stderr:
            self.lines.append(line)
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
            if found:
                self.base = found.group(1)
                break
        else:
            raise AssertionError("no URL printed: " + "".join(self.lines))
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stderr),
                                       daemon=True)
        self.reader.start()
        wait_until_ready(self.base)

    def reload_status(self) -> dict:
        return json.loads(fetch(f"{self.base}/health").body)["reload"]

    def wait_for(self, key: str, value: int, deadline: float = 300.0) -> dict:
        """Poll /health until reload[key] reaches value (the readiness check of a reload)."""
        give_up = time.monotonic() + deadline
        while (status := self.reload_status())[key] < value:
            assert time.monotonic() < give_up, f"no reload: {status}\n{self.log}"
            time.sleep(0.1)
        return status

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.process.terminate()
        code = self.process.wait(60)
        self.reader.join(10)
        self.process.stderr.close()
        assert code == 0, self.log


class Traffic:
    """Clients sending requests all along; every answer must be a 200."""

    def __init__(self, base: str, clients: int = 3) -> None:
        self.base = base
        self.failures: list[str] = []
        self.sent = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                         for i in range(clients)]
        for thread in self._threads:
            thread.start()

    def _run(self, i: int) -> None:
        urls = [f"/sparql?{urlencode({'query': LABEL_QUERY})}", "/id/gcc.html",
                "/graph.json", "/health"]
        while not self._stop.is_set():
            path = urls[(self.sent + i) % len(urls)]
            try:
                reply = fetch(self.base + path, headers={"Accept": JSON}, timeout=60)
                if reply.status != 200:
                    self.failures.append(f"{path}: {reply.status} {reply.body[:200]!r}")
            except OSError as error:
                self.failures.append(f"{path}: {error!r}")
            self.sent += 1

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


@pytest.mark.soak
def test_sighup_reloads_without_dropping_requests_and_keeps_the_last_good_build(root, config):
    server = Server(root, config["cache_dir"])
    try:
        traffic = Traffic(server.base)
        assert label(server.base) == "Gulf Cooperation Council"
        relabel(root, LABEL, '"Gulf Cooperation Council (renamed)"@en')
        server.process.send_signal(signal.SIGHUP)
        status = server.wait_for("reloads", 1)
        assert status["refused"] == 0 and status["generations"] == 2
        assert label(server.base) == "Gulf Cooperation Council (renamed)"
        page = fetch(f"{server.base}/id/gcc.html").text
        assert "Gulf Cooperation Council (renamed)" in page

        # a syntax error: refused, the log names the file and the line, the data stays
        broken = root / "data" / "sections" / "gcc.trig"
        lines = broken.read_text(encoding="utf-8").splitlines()
        lines.insert(30, "    this is not turtle ;;")
        broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
        server.process.send_signal(signal.SIGHUP)
        status = server.wait_for("refused", 1)
        assert "data/sections/gcc.trig line 31" in status["last_error"]
        assert re.search(r"reload refused: .*gcc\.trig line 31", server.log)
        assert label(server.base) == "Gulf Cooperation Council (renamed)"
        assert fetch(f"{server.base}/health").status == 200
        traffic.stop()
        assert traffic.sent > 20 and traffic.failures == []
    finally:
        server.stop()


@pytest.mark.soak
def test_watch_reloads_on_change_and_refuses_violations(root, config):
    server = Server(root, config["cache_dir"], "--watch")
    try:
        relabel(root, LABEL, '"Gulf Cooperation Council (watched)"@en')
        server.wait_for("reloads", 1)
        assert label(server.base) == "Gulf Cooperation Council (watched)"
        # parses, but breaks a shape (two English labels on page 23 only): refused, reported
        gcc = root / "data" / "sections" / "gcc.trig"
        text = gcc.read_text(encoding="utf-8")
        gcc.write_text(text.replace('"Gulf Cooperation Council (watched)"@en',
                                    '"Gulf Cooperation Council (watched)"@en, "Another"@en', 1),
                       encoding="utf-8")
        status = server.wait_for("refused", 1)
        assert "violation" in status["last_error"] and "id:gcc" in status["last_error"]
        assert "data/sections/gcc.trig" in server.log
        assert label(server.base) == "Gulf Cooperation Council (watched)"
    finally:
        server.stop()


# --- in process: the switch is atomic per request ---------------------------------------------

def test_a_request_sees_one_generation_and_the_old_one_closes_after_it(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    holder = app.extensions[EXTENSION]
    first = holder.current
    replacement = Generation(kg, holder.settings)
    closed: list[Generation] = []
    first.close = lambda: closed.append(first)  # record instead of stopping workers

    @app.get("/_probe")
    def probe():  # a request during which the data is swapped
        before = state()
        holder.swap(replacement)
        during = state()
        return jsonify(same=before is during is first, closed_meanwhile=bool(closed))

    body = app.test_client().get("/_probe").get_json()
    assert body == {"same": True, "closed_meanwhile": False}
    assert closed == [first]  # retired, closed once its last request finished
    with app.test_request_context("/"):
        app.preprocess_request()
        assert state() is replacement


def test_swap_listeners_hear_the_new_version(kg, config):
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    holder = app.extensions[EXTENSION]
    heard: list[str] = []
    holder.on_swap(lambda generation: heard.append(generation.version))
    holder.on_swap(lambda generation: 1 / 0)  # a broken listener does not stop the swap
    new = Generation(kg, holder.settings)
    holder.swap(new)
    assert heard == [kg.version] and holder.current is new
