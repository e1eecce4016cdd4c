"""Query worker processes: each holds its own store and answers one query at a time.

Why processes: pyoxigraph cannot be interrupted from Python and rdflib's parser is not
thread-safe. A query that runs past its time limit is stopped by killing its worker (SIGKILL: the
CPU is freed at once); a fresh worker takes its place. A worker that dies mid-query is replaced
the same way. Workers are forked from a fork server that has the libraries imported, so a
replacement costs the time to open the store, not to start Python; for a small store they are
forked from the process holding it in memory (tipgraph.query.holder), and start at once.

Each worker also leaves the network (a new, empty network namespace) where Linux allows it: a
second wall behind the query policy, so no engine can reach another machine whatever it is asked.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from tipgraph.errors import QueryError
from tipgraph.query.holder import Holder
from tipgraph.query.isolation import ignore_server_signals, leave_network
from tipgraph.query.policy import DatasetSpec
from tipgraph.query.results import run_serialized
from tipgraph.store import StoreSpec

log = logging.getLogger(__name__)

# A store this small (triples in the union) is copied into memory before the first worker
# starts (about a second); a larger one in the background, while workers read it on disk.
LOAD_BEFORE_START = 50_000


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


# Over the pipe to and from a worker, a job and an outcome travel as tuples of plain values:
# the server pickles and unpickles one of each per query, a tuple in about a microsecond, a
# dataclass in about ten (under the server's interpreter lock).

def _job_message(job: Job) -> tuple:
    dataset = job.dataset
    graphs = None if dataset is None else (dataset.default_graphs, dataset.named_graphs)
    return job.sparql, job.fmt, graphs, job.base, job.max_rows


def _job_of(message: tuple) -> Job:
    sparql, fmt, graphs, base, max_rows = message
    return Job(sparql, fmt, None if graphs is None else DatasetSpec(*graphs), base, max_rows)


def _outcome_message(outcome: Outcome) -> tuple:
    return outcome.body, outcome.media_type, outcome.size, outcome.query_ms


def answer(store: Any, job: Job) -> Outcome:
    """Run a job on a store, in this process (workers call this; so can tests and benchmarks)."""
    started = time.perf_counter()
    body, media_type, size = run_serialized(store, job.sparql, job.fmt, job.dataset,
                                            job.max_rows, job.base)
    return Outcome(body, media_type, size, (time.perf_counter() - started) * 1000)


def _serve(conn: Connection, spec: StoreSpec) -> None:
    """A worker started on its own: leave the network, open the store, answer jobs."""
    ignore_server_signals()
    isolated = leave_network()
    try:
        store = spec.open()
    except Exception as error:  # report why, the pool decides; never a silent death
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    answer_jobs(conn, store, {"pid": os.getpid(), "network_isolated": isolated})


def answer_jobs(conn: Connection, store: Any, info: dict[str, Any]) -> None:
    """Say ready (with ``info``), then answer jobs until told to stop or the pool goes."""
    conn.send(("ready", info))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        try:
            conn.send(("ok", _outcome_message(answer(store, _job_of(message)))))
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
        self.idle_since = 0.0

    @property
    def shares_store(self) -> bool:
        """Forked from the holder of the in-memory store (else it reads the on-disk one)."""
        return bool(self.info.get("shared_store"))

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class WorkerPool:
    """Worker processes that grow with demand; ``run`` is thread-safe and blocks until answered.

    ``size`` workers are kept running; while queries keep them busy, the pool forks more, up to
    ``max_size``, and keeps one spare idle so that a cheap query never waits behind long ones
    (eight runaway queries hold eight workers; an ASK still finds a ninth at once). The operating
    system shares the cores between them. Extra workers idle for ``retire_after`` seconds stop.
    """

    def __init__(self, spec: StoreSpec, size: int = 2, timeout: float = 30.0,
                 max_size: int | None = None, spare: int = 1,
                 retire_after: float = 60.0, load_before_start: int = LOAD_BEFORE_START) -> None:
        self.spec = spec
        self.load_before_start = load_before_start
        self.size = max(1, size)
        self.max_size = max(self.size, max_size if max_size is not None else self.size)
        self.spare = spare
        self.retire_after = retire_after
        self.timeout = timeout
        self._idle: list[_Worker] = []  # most recently used last: it is taken first
        self._changed = threading.Condition()
        self._workers: set[_Worker] = set()
        self._forking = 0   # counted, not in _workers yet
        self._starting = 0  # forked, not ready yet
        self._waiting = 0   # queries waiting for a worker
        self._closed = False
        self._started = False
        self.failure: str | None = None  # why workers cannot start, if they cannot
        self.replaced = 0  # workers killed (time limit) or found dead, and replaced
        self.retired = 0   # extra workers stopped after idling
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn")
        # the workers start with an in-memory copy of the store: forked from the process holding it
        self._holder = Holder(self._context, spec, answer_jobs) if spec.in_memory else None

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
        with self._changed:
            if self._started:
                return self
            self._started = True
        if self._context.get_start_method() == "forkserver":
            self.warm_up()
        if self._holder is not None and self.spec.size <= self.load_before_start:
            self._holder.load(self._shared_store_ready, wait=True)  # a second at most
        self._grow()  # workers on the on-disk store answer while a larger store loads
        if self._holder is not None:
            self._holder.load(self._shared_store_ready)
        if self.max_size > self.size:
            threading.Thread(target=self._retire_idle, daemon=True,
                             name="tipgraph-worker-retire").start()
        return self

    def _grow(self) -> None:
        """Fork workers until there are ``size`` of them and ``spare`` idle (or starting),
        within ``max_size``."""
        with self._changed:
            wanted = 0
            if not self._closed:
                total = len(self._workers) + self._forking
                free = len(self._idle) + self._starting
                needed = self.spare + self._waiting - free
                wanted = max(self.size - total, min(needed, self.max_size - total), 0)
                self._starting += wanted
                self._forking += wanted
        for _ in range(wanted):
            self._spawn()

    def _spawn(self) -> None:
        """Start a worker; a thread waits for it to be ready, then offers it to requests."""
        threading.Thread(target=self._start_worker, daemon=True,
                         name="tipgraph-worker-start").start()

    def _launch(self) -> tuple[Any, Connection]:
        """A new worker process and the pool's end of its pipe: forked from the holder of the
        in-memory store, or started on its own to open the store itself."""
        if self._holder is not None:
            forked = self._holder.fork(self._shared_store_ready)
            if forked is not None:
                return forked
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_serve, args=(child, self.spec), daemon=True,
                                        name="tipgraph-query-worker")
        process.start()
        child.close()
        return process, parent

    def _start_worker(self) -> None:
        try:
            process, conn = self._launch()
        except Exception as error:  # noqa: BLE001 - any reason: the pool reports it
            with self._changed:
                self._forking -= 1
                self._starting -= 1
            self._failed(str(error))
            return
        worker = _Worker(process, conn)
        with self._changed:
            self._workers.add(worker)
            self._forking -= 1
        self._await_ready(worker)

    def _await_ready(self, worker: _Worker) -> None:
        try:
            kind, info = worker.conn.recv()
        except (EOFError, OSError):
            code = worker.process.exitcode
            kind, info = "failed", "the worker exited" + (f" with code {code}" if code else "")
        with self._changed:
            self._starting -= 1
        if self._closed:
            self._forget(worker)
            return
        if kind != "ready":
            self._failed(info)
            self._forget(worker)
            return
        worker.info = info
        self.failure = None
        self._release(worker)

    def _failed(self, why: str) -> None:
        self.failure = f"a query worker could not start: {why}"
        log.error(self.failure)
        with self._changed:
            self._changed.notify_all()  # waiters re-check: no worker may mean failure

    def _shared_store_ready(self) -> None:
        """The holder can fork workers: idle ones reading the on-disk store make way now, busy
        ones when they finish their query (``_release``)."""
        with self._changed:
            reading_disk = [w for w in self._idle if not w.shares_store]
            for worker in reading_disk:
                self._idle.remove(worker)
        for worker in reading_disk:
            self._stop(worker)
        self._grow()

    def _stop(self, worker: _Worker) -> None:
        with contextlib.suppress(Exception):
            worker.conn.send(None)
        self._forget(worker)

    def _release(self, worker: _Worker) -> None:
        if (self._holder is not None and self._holder.ready and not worker.shares_store
                and not self._closed):
            self._stop(worker)
            self._grow()
            return
        worker.idle_since = time.monotonic()
        with self._changed:
            self._idle.append(worker)
            self._changed.notify()

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        with self._changed:
            self._workers.discard(worker)
            self._changed.notify_all()  # waiters re-check: no worker left may mean failure

    def _replace(self, worker: _Worker) -> None:
        self._forget(worker)
        self.replaced += 1
        self._grow()

    def _retire_idle(self) -> None:
        """Stop extra workers that have idled for ``retire_after`` seconds, oldest first."""
        while not self._closed:
            time.sleep(min(5.0, self.retire_after / 2))
            now = time.monotonic()
            with self._changed:
                extra = len(self._workers) - self.size
                stale = [w for w in self._idle if now - w.idle_since > self.retire_after]
                retiring = stale[:max(0, extra)]
                for worker in retiring:
                    self._idle.remove(worker)
            for worker in retiring:
                self._stop(worker)
                self.retired += 1

    def _take(self, limit: float) -> _Worker:
        """An idle, live worker (forking more if the pool may grow); replaces dead ones."""
        deadline = time.monotonic() + limit
        while True:
            with self._changed:
                self._waiting += 1
            try:
                self._grow()  # a worker for every waiting query, within max_size
                worker = self._wait_for_idle(deadline, limit)
            finally:
                with self._changed:
                    self._waiting -= 1
            self._grow()  # a spare for the next query, while this one runs
            if worker.process.is_alive():
                return worker
            self._replace(worker)

    def _wait_for_idle(self, deadline: float, limit: float) -> _Worker:
        with self._changed:
            while not self._idle:
                if self.failure and not self._workers:
                    raise QueryError(f"no query worker is available: {self.failure}",
                                     status=503)
                left = deadline - time.monotonic()
                if left <= 0:
                    reason = (f"all {len(self._workers)} query workers stayed busy for "
                              f"{limit:g} s; try again shortly")
                    raise QueryError(f"the server cannot take this query now: {reason}",
                                     status=503)
                self._changed.wait(left)
            return self._idle.pop()

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Answer a job in a worker; QueryError 503 when none is free, 504 past the limit."""
        self.start()
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        worker = self._take(limit)
        left = max(0.0, limit - (time.monotonic() - started))
        try:
            worker.conn.send(_job_message(job))
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
        self._release(worker)
        kind, payload = message
        if kind == "error":
            status, text = payload
            raise QueryError(text, status=status)
        return Outcome(*payload)

    def wait_ready(self, limit: float) -> str | None:
        """Wait until all ``size`` workers are ready: None, or why not (a start failure, or
        ``limit`` seconds passed)."""
        deadline = time.monotonic() + limit
        while self.status()["ready"] < self.size:
            if self.failure:
                return self.failure
            if time.monotonic() > deadline:
                return f"the query workers were not ready after {limit:g} s"
            time.sleep(0.05)  # polling the workers' readiness
        return None

    def status(self) -> dict[str, Any]:
        with self._changed:
            workers = [w for w in self._workers if w.info]
            idle = len(self._idle)
        return {"size": self.size, "max_size": self.max_size, "ready": len(workers),
                "idle": idle, "pids": sorted(w.info["pid"] for w in workers),
                "replaced": self.replaced, "retired": self.retired, "failure": self.failure,
                "network_isolated": bool(workers) and all(w.info.get("network_isolated")
                                                          for w in workers),
                "sharing_store": sum(w.shares_store for w in workers),
                "shared_store": self._holder.status() if self._holder is not None else None}

    def close(self) -> None:
        self._closed = True
        with self._changed:
            workers = list(self._workers)
            self._workers.clear()
            self._idle.clear()
            self._changed.notify_all()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
            worker.kill()
        if self._holder is not None:
            self._holder.close()
