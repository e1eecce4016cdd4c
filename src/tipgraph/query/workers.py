"""Query worker processes: each holds its own store and answers one query at a time.

Why processes: pyoxigraph cannot be interrupted from Python and rdflib's parser is not
thread-safe. A query that runs past its time limit is stopped by killing its worker (SIGKILL: the
CPU is freed at once); a fresh worker takes its place. A worker that dies mid-query is replaced
the same way. Workers are forked from a fork server that has the libraries imported, so a
replacement costs the time to load the data, not to start Python.

Each worker also leaves the network (a new, empty network namespace) where Linux allows it: a
second wall behind the query policy, so no engine can reach another machine whatever it is asked.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tipgraph.errors import QueryError
from tipgraph.query.policy import DatasetSpec
from tipgraph.query.results import run_serialized
from tipgraph.store import StoreSpec

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


@dataclass(frozen=True)
class Job:
    """One query for a worker. ``fmt`` names the output format (see publish.formats)."""

    sparql: str
    fmt: str
    dataset: DatasetSpec | None = None
    base: str | None = None
    max_rows: int | None = None


@dataclass(frozen=True)
class Outcome:
    body: bytes
    media_type: str
    size: int          # rows, triples, or 1 for a boolean
    query_ms: float    # time in the engine, serialisation included
    cached: bool = False  # answered from the result cache (query_ms is the original time)


def answer(store: Any, job: Job) -> Outcome:
    """Run a job on a store, in this process (workers call this; so can tests and benchmarks)."""
    started = time.perf_counter()
    body, media_type, size = run_serialized(store, job.sparql, job.fmt, job.dataset,
                                            job.max_rows, job.base)
    return Outcome(body, media_type, size, (time.perf_counter() - started) * 1000)


def leave_network() -> bool:
    """Move this process into an empty network namespace. True if it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    attempts = (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET)  # as root; else a user namespace
    return any(libc.unshare(flags) == 0 for flags in attempts)


def _serve(conn: Connection, spec: StoreSpec) -> None:
    """A worker's life: leave the network, open the store, answer jobs until told to stop."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a reload signal sent to the whole group
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # or Ctrl-C: the server decides, not us
    isolated = leave_network()
    try:
        store = spec.open()
    except Exception as error:  # report why, the pool decides; never a silent death
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    conn.send(("ready", {"pid": os.getpid(), "network_isolated": isolated}))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(("ok", answer(store, job)))
        except QueryError as error:
            conn.send(("error", (error.status, str(error))))
        except Exception:  # a bug, not the user's fault: logged here, generic to the client
            log.exception("query worker failed on a job")
            conn.send(("error", (500, "the query failed in the engine: the server logged the "
                                      "details")))


class _Worker:
    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.info: dict[str, Any] = {}

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class WorkerPool:
    """A fixed number of worker processes; ``run`` is thread-safe and blocks until answered."""

    def __init__(self, spec: StoreSpec, size: int = 2, timeout: float = 30.0) -> None:
        self.spec = spec
        self.size = max(1, size)
        self.timeout = timeout
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        self._started = False
        self.failure: str | None = None  # why workers cannot start, if they cannot
        self.replaced = 0  # workers killed (time limit) or found dead, and replaced
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn")

    @staticmethod
    def warm_up() -> None:
        """Start the fork server (it imports the libraries) now, in parallel with whatever the
        caller does next; workers forked from it later start at once."""
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["tipgraph.query.workers"])
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def start(self) -> WorkerPool:
        with self._lock:
            if self._started:
                return self
            self._started = True
            if self._context.get_start_method() == "forkserver":
                self.warm_up()
        for _ in range(self.size):
            self._spawn()
        return self

    def _spawn(self) -> None:
        """Start a worker; a thread waits for it to be ready, then offers it to requests."""
        if self._closed:
            return
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_serve, args=(child, self.spec), daemon=True,
                                        name="tipgraph-query-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers.add(worker)
        threading.Thread(target=self._await_ready, args=(worker,), daemon=True).start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            kind, info = worker.conn.recv()
        except (EOFError, OSError):
            kind, info = "failed", f"the worker exited with code {worker.process.exitcode}"
        if self._closed:
            self._forget(worker)
            return
        if kind != "ready":
            self.failure = f"a query worker could not start: {info}"
            log.error(self.failure)
            self._forget(worker)
            return
        worker.info = info
        self.failure = None
        self._idle.put(worker)

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def _replace(self, worker: _Worker) -> None:
        self._forget(worker)
        self.replaced += 1
        self._spawn()

    def _take(self, limit: float) -> _Worker:
        """An idle, live worker; replaces dead ones found on the way."""
        deadline = time.monotonic() + limit
        while True:
            if self.failure and not self._workers:
                raise QueryError(f"no query worker is available: {self.failure}", status=503)
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                reason = (f"all {self.size} query workers stayed busy for {limit:g} s; "
                          "try again shortly")
                raise QueryError(f"the server cannot take this query now: {reason}",
                                 status=503) from None
            if worker.process.is_alive():
                return worker
            self._replace(worker)

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Answer a job in a worker; QueryError 503 when none is free, 504 past the limit."""
        self.start()
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        worker = self._take(limit)
        left = max(0.0, limit - (time.monotonic() - started))
        try:
            worker.conn.send(job)
            ready = worker.conn.poll(left)
            message = worker.conn.recv() if ready else None
        except (EOFError, OSError, BrokenPipeError):
            self._replace(worker)
            raise QueryError("the query worker stopped unexpectedly (it was replaced): try "
                             "again; if it happens again the query may need too much memory",
                             status=503) from None
        if message is None:
            self._replace(worker)  # SIGKILL: its CPU is free now
            raise QueryError(f"the query was stopped after {limit:g} s (the query_timeout "
                             "limit): make it more selective or add a LIMIT", status=504)
        self._idle.put(worker)
        kind, payload = message
        if kind == "error":
            status, text = payload
            raise QueryError(text, status=status)
        return payload

    def status(self) -> dict[str, Any]:
        with self._lock:
            workers = [w for w in self._workers if w.info]
        return {"size": self.size, "ready": len(workers), "idle": self._idle.qsize(),
                "pids": sorted(w.info["pid"] for w in workers),
                "replaced": self.replaced, "failure": self.failure,
                "network_isolated": bool(workers) and all(w.info.get("network_isolated")
                                                          for w in workers)}

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
            worker.kill()
