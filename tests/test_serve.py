"""`tipgraph serve` as a user starts it: prints its URL, answers /sparql, logs, stops cleanly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import REPO, fetch, wait_until_ready


def test_tipgraph_serve(kg, config):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_ROOT=str(REPO),
               TIPGRAPH_CACHE_DIR=str(config["cache_dir"]))  # warm: the kg fixture filled it
    lines: list[str] = []
    with subprocess.Popen([sys.executable, "-m", "tipgraph", "serve", "--port", "0"],
                          env=env, stderr=subprocess.PIPE, text=True) as process:
        served(process, lines)
    logged = [json.loads(line) for line in lines if line.startswith('{"method"')]
    assert any(e["path"] == "/sparql" and e["status"] == 200 and e["query_ms"] is not None
               for e in logged)


def served(process: subprocess.Popen, lines: list[str]) -> None:
    """Check the running server, then stop it and check its query workers stopped too."""
    try:
        for line in process.stderr:
            lines.append(line)
            found = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
            if found:
                base = found.group(1)
                break
        else:
            raise AssertionError("no URL printed: " + "".join(lines))
        reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
        reader.start()
        wait_until_ready(base)
        reply = fetch(f"{base}/sparql?query=ASK%20%7B%20%3Fs%20a%20owl%3AClass%20%7D",
                      headers={"Accept": "application/sparql-results+json"})
        assert reply.status == 200 and json.loads(reply.body)["boolean"] is True
        health = json.loads(fetch(f"{base}/health").body)
        pids = health["query"]["workers"]["pids"]
        assert health["version"] and pids  # at least one worker is up once /health says 200
        shared = health["query"]["workers"]["shared_store"]  # the workers' in-memory store
        assert shared["state"] == "ready" and shared["triples"] == health["triples"]
        pids.append(shared["pid"])
    finally:
        process.terminate()
        assert process.wait(30) == 0
    reader.join(10)
    for pid in pids:  # the query workers and their store's holder stopped with the server
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text()
