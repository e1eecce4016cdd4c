"""`tipgraph serve --processes N`: N server processes on one port, under a supervisor that
forwards reloads and stops, replaces a process that dies, and fails as one server would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import REPO, fetch
from tests.test_reload import JSON, LABEL, LABEL_QUERY, Server, label, relabel, root  # noqa: F401

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux prctl")


def health(base: str) -> dict:
    reply = fetch(f"{base}/health")
    assert reply.status == 200, reply.text
    return json.loads(reply.body)


def server_pids(base: str, wanted: int, deadline: float = 60.0) -> dict[int, dict]:
    """/health of each server process, by pid: polled on new connections (the kernel gives
    each to one process) until ``wanted`` different processes have answered."""
    seen: dict[int, dict] = {}
    give_up = time.monotonic() + deadline
    while len(seen) < wanted:
        assert time.monotonic() < give_up, f"only {sorted(seen)} answered"
        found = health(base)
        seen[found["process"]["pid"]] = found
    return seen


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except OSError:
        return False


def wait_gone(pids, deadline: float = 60.0) -> None:
    give_up = time.monotonic() + deadline
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < give_up, [pid for pid in pids if alive(pid)]
        time.sleep(0.05)


def test_two_processes_answer_on_one_port_and_stop_together(tmp_path, config):
    server = Server(REPO, config["cache_dir"], "--processes", "2")
    try:
        assert "2 server processes" in server.log
        processes = server_pids(server.base, 2)
        assert all(h["process"]["of"] == 2 and h["status"] == "ok" for h in processes.values())
        workers = [pid for h in processes.values() for pid in h["query"]["workers"]["pids"]]
        assert len(set(workers)) >= 4  # each server process has its own query workers
        reply = fetch(f"{server.base}/sparql?{urlencode({'query': 'ASK { ?s a owl:Class }'})}",
                      headers={"Accept": JSON})
        assert reply.status == 200 and json.loads(reply.body)["boolean"] is True
    finally:
        server.stop()  # SIGTERM to the supervisor: exit code 0 (asserted by stop)
    wait_gone([*processes, *workers])


def test_a_dead_server_process_is_replaced(tmp_path, config):
    server = Server(REPO, config["cache_dir"], "--processes", "2")
    try:
        first = server_pids(server.base, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_gone([victim])
        give_up = time.monotonic() + 120
        while True:  # a new process takes its place; the other one served all along
            now = server_pids(server.base, 2)
            if victim not in now and len(now) == 2:
                break
            assert time.monotonic() < give_up, server.log
        assert max(first) in now
        assert f"server process {victim} exited (signal 9)" in server.log
        assert label(server.base) == "Gulf Cooperation Council"
    finally:
        server.stop()


def test_sighup_reloads_every_server_process(root, tmp_path):  # noqa: F811 (the fixture)
    server = Server(root, tmp_path / "cache", "--processes", "2")
    try:
        server_pids(server.base, 2)
        relabel(root, LABEL, '"Gulf Cooperation Council (reloaded)"@en')
        server.process.send_signal(signal.SIGHUP)
        give_up = time.monotonic() + 300
        reloaded: set[int] = set()
        while len(reloaded) < 2:  # each process reloads itself
            assert time.monotonic() < give_up, server.log
            found = health(server.base)
            if found["reload"]["reloads"] >= 1:
                reloaded.add(found["process"]["pid"])
        assert {label(server.base) for _ in range(20)} == {
            "Gulf Cooperation Council (reloaded)"}
    finally:
        server.stop()


def test_a_build_that_fails_stops_the_supervisor_with_its_error(tmp_path):
    for folder in ("ontology", "shapes"):
        (tmp_path / folder).symlink_to(REPO / folder)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "broken.ttl").write_text("@prefix : <urn:x:> .\n:a :b \n", "utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_CACHE_DIR=str(tmp_path / "c"))
    done = subprocess.run([sys.executable, "-m", "tipgraph", "--root", str(tmp_path), "serve",
                           "--port", "0", "--processes", "2"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "broken.ttl line 2: bad syntax" in done.stderr
    assert "serving on" not in done.stderr


def test_server_processes_stop_when_the_supervisor_is_killed(config):
    server = Server(REPO, config["cache_dir"], "--processes", "2")
    processes = server_pids(server.base, 2)
    server.process.kill()
    server.process.wait(10)
    wait_gone(processes)  # each got SIGTERM from the kernel (PR_SET_PDEATHSIG) and drained
    server.reader.join(10)
    server.process.stderr.close()


def test_a_replacement_that_cannot_start_leaves_the_others_serving(root, tmp_path):  # noqa: F811
    server = Server(root, tmp_path / "cache", "--processes", "2")
    try:
        first = server_pids(server.base, 2)
        broken = root / "data" / "broken-since.ttl"
        broken.write_text("@prefix : <urn:x:> .\n:a :b \n", "utf-8")  # not reloaded: served on
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        give_up = time.monotonic() + 120
        while "could not start: serving with 1 of 2" not in server.log:
            assert time.monotonic() < give_up, server.log
            time.sleep(0.1)
        assert "broken-since.ttl line 2: bad syntax" in server.log
        assert server.process.poll() is None  # the supervisor did not give up
        assert {label(server.base) for _ in range(5)} == {"Gulf Cooperation Council"}
        broken.unlink()  # fixed: the next attempt (RETRY_AFTER later) starts
        give_up = time.monotonic() + 120
        while len(now := server_pids(server.base, 2)) < 2 or victim in now:
            assert time.monotonic() < give_up, server.log
    finally:
        server.stop()


def test_processes_on_a_remote_store_push_each_data_version_once(root, tmp_path,  # noqa: F811
                                                                  oxigraph_server, monkeypatch):
    """The server processes reload together; one pushes the new version, the others wait for
    it and find it there (tipgraph.store.remote.push_lock), and every one serves it."""
    monkeypatch.setenv("TIPGRAPH_REMOTE_GRAPH_STORE", oxigraph_server.graph_store_url)
    monkeypatch.setenv("TIPGRAPH_REMOTE_UPDATE", oxigraph_server.update_url)
    server = Server(root, tmp_path / "cache", "--processes", "2", "--store", "sparql",
                    "--endpoint", oxigraph_server.query_url)
    try:
        first = server_pids(server.base, 2)
        assert {h["query"]["store"] for h in first.values()} == {"sparql"}
        relabel(root, LABEL, '"Gulf Cooperation Council (pushed)"@en')
        server.process.send_signal(signal.SIGHUP)
        give_up = time.monotonic() + 300
        reloaded: set[int] = set()
        while len(reloaded) < 2:
            assert time.monotonic() < give_up, server.log
            found = health(server.base)
            if found["reload"]["reloads"] >= 1:
                reloaded.add(found["process"]["pid"])
        versions = {h["data_version"] for h in server_pids(server.base, 2).values()}
        assert len(versions) == 1 and versions != {h["data_version"] for h in first.values()}
        assert {label(server.base) for _ in range(20)} == {"Gulf Cooperation Council (pushed)"}
        (version,) = versions
        pushes = [line for line in server.log.splitlines()
                  if f"pushing data version {version}" in line]
        assert len(pushes) == 1, server.log
    finally:
        server.stop()
