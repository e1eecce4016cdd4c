"""One process holds the store in memory; the query workers are forked from it.

Why: pyoxigraph answers from an in-memory store with about half the CPU it needs on its on-disk
(RocksDB) store (benchmarks/README.md, "Query workers on an in-memory copy of the store").
Copying the store into memory is slow (about 40 s per million triples), so it is done once, by
this process, and workers forked from it start at once with the copy in their address space.

The pages are shared copy-on-write only until a worker's queries touch them: pyoxigraph's
in-memory store writes to its entries as it reads them, so a worker that has scanned the whole
store holds a whole private copy (measured: one full scan in a forked worker made 168 of the
store's 210 MB private). Memory is then up to one copy per worker, which is why only small
stores are held in memory (setting ``memory_store_max_triples``).

The holder is single-threaded (forking a process with threads can leave a lock held forever) and
does one thing: on each request from the pool it forks a worker, then sends back the worker's pid
and two file descriptors, the pool's end of the worker's pipe and a pidfd. The pool watches and
signals the worker through the pidfd: it is not the worker's parent, and a pid alone could be
reused by another process once the holder has reaped the worker. Workers die with the holder
(PR_SET_PDEATHSIG), and the holder stops when the server's end of its pipe closes.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import signal
import socket
import threading
import time
import weakref
from collections.abc import Callable
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

from tipgraph.query.isolation import die_with_parent, ignore_server_signals, leave_network
from tipgraph.store import StoreSpec

log = logging.getLogger(__name__)

REAP_EVERY = 1.0  # seconds: how often the holder collects its exited workers
MAX_STARTS = 3    # a holder that keeps dying (out of memory, say) is not started again

Serve = Callable[[Connection, Any, dict[str, Any]], None]


class HolderError(Exception):
    """The holder could not load the store."""


class ForkedWorker:
    """A worker forked by the holder, seen from the pool: it is not the pool's child, so it is
    watched and killed through its pidfd (readable once the process has exited)."""

    exitcode = None  # only its parent, the holder, learns it

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd = pidfd
        self._closing = weakref.finalize(self, os.close, pidfd)

    def _exited(self, timeout: float) -> bool:
        if not self._closing.alive:
            return True
        return bool(select.select([self._pidfd], [], [], timeout)[0])

    def is_alive(self) -> bool:
        return not self._exited(0)

    def kill(self) -> None:
        if self._closing.alive:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def join(self, timeout: float | None = None) -> None:
        """Wait until it has exited and its parent, the holder, has collected it (a zombie
        still holds its pid), or ``timeout`` seconds."""
        if self._exited(timeout):
            give_up = time.monotonic() + (timeout if timeout is not None else 5.0)
            while self._closing.alive and time.monotonic() < give_up:
                try:  # signal 0 reaches a zombie; once collected, nothing is there
                    signal.pidfd_send_signal(self._pidfd, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.005)  # the holder collects its children as their SIGCHLD comes
        self._closing()


class Holder:
    """The pool's handle on the holder process. ``load`` starts it in the background (it copies
    the store into memory: about 40 s per million triples on this kind of machine); until it is
    ready, and if it fails, ``fork`` says None and the pool starts workers that read the on-disk
    store. A holder that dies is started again, at most ``MAX_STARTS`` times in all."""

    def __init__(self, context: Any, spec: StoreSpec, serve: Serve) -> None:
        """``serve(conn, store, info)`` is a worker's life once forked (module-level: it is
        pickled by name to reach the holder)."""
        self._context = context
        self._spec = spec
        self._serve = serve
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._loading = False
        self._closed = False
        self.starts = 0
        self.info: dict[str, Any] = {}
        self.failure: str | None = None

    @property
    def ready(self) -> bool:
        return self._conn is not None

    def load(self, on_ready: Callable[[], None], wait: bool = False) -> None:
        """Start the holder, in a thread unless ``wait``, unless it is running, loading or has
        failed too often; ``on_ready()`` once it can fork workers."""
        with self._lock:
            if self._closed or self._loading or self.ready or self.starts >= MAX_STARTS:
                return
            self._loading = True
            self.starts += 1
        if wait:
            self._load(on_ready)
        else:
            threading.Thread(target=self._load, args=(on_ready,), daemon=True,
                             name="tipgraph-store-holder-start").start()

    def _load(self, on_ready: Callable[[], None]) -> None:
        try:
            process, conn, info = self._start()
        except HolderError as error:
            self.failure = str(error)
            log.warning("query workers read the on-disk store: %s", error)
            with self._lock:
                self._loading = False
            return
        with self._lock:
            self._loading = False
            if self._closed:
                _stop(process, conn)
                return
            self._process, self._conn, self.info, self.failure = process, conn, info, None
        on_ready()

    def _start(self) -> tuple[Any, Connection, dict[str, Any]]:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_hold, args=(theirs, self._spec, self._serve),
                                        daemon=True, name="tipgraph-store-holder")
        process.start()
        theirs.close()
        try:
            kind, info = ours.recv()
        except (EOFError, OSError):
            kind, info = "failed", f"it exited with code {process.exitcode}"
        if kind != "ready":
            _stop(process, ours)
            raise HolderError(f"the store could not be held in memory: {info}")
        return process, ours, info

    def fork(self, on_ready: Callable[[], None]) -> tuple[ForkedWorker, Connection] | None:
        """A new worker sharing the in-memory store (it then says "ready" on its pipe, as a
        worker started on its own does); None when the holder is not ready (it is started
        again, with ``on_ready``, if it stopped)."""
        with self._lock:
            if self._conn is not None and not self._process.is_alive():
                self._forget("it exited")
            if self._conn is None:
                forked = None
            else:
                try:
                    forked = self._fork()
                except (EOFError, OSError, RuntimeError) as error:
                    self._forget(str(error))
                    forked = None
        if forked is None:
            self.load(on_ready)
        return forked

    def _fork(self) -> tuple[ForkedWorker, Connection]:
        assert self._conn is not None
        self._conn.send("fork")
        pid = self._conn.recv()
        with socket.fromfd(self._conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as channel:
            pipe, pidfd = reduction.recvfds(channel, 2)
        return ForkedWorker(pid, pidfd), Connection(pipe)

    def _forget(self, why: str) -> None:
        log.warning("the process holding the store in memory stopped (%s): query workers read "
                    "the on-disk store until it is loaded again", why)
        self.failure = f"stopped: {why}"
        _stop(self._process, self._conn)
        self._process, self._conn = None, None

    def status(self) -> dict[str, Any]:
        state = "ready" if self.ready else "loading" if self._loading else "failed"
        return {"state": state, "starts": self.starts, "failure": self.failure,
                "pid": self.info.get("pid") if self.ready else None,
                "triples": self.info.get("triples")}

    def close(self) -> None:
        """Stop the holder; its workers die with it."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                _stop(self._process, self._conn)
            self._process, self._conn = None, None


def _stop(process: Any, conn: Connection) -> None:
    with contextlib.suppress(OSError):
        conn.send(None)
    conn.close()
    process.join(2)
    if process.is_alive():
        process.kill()
        process.join(5)


# -- in the holder process ------------------------------------------------------------------


def _hold(conn: Connection, spec: StoreSpec, serve: Serve) -> None:
    """The holder's life: leave the network (its workers inherit that), load the store, then
    fork a worker for each request until the pool says stop or goes."""
    ignore_server_signals()
    isolated = leave_network()
    try:
        store = spec.open_in_memory()
    except Exception as error:  # reported to the pool: never a silent death
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return
    # The collector would write to every tracked object it visits, copying the page each sits
    # on in every worker: objects that exist now are left out of its visits.
    gc.collect()
    gc.freeze()
    # a worker killed at its time limit is collected at once, not left a zombie for a while
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    conn.send(("ready", {"pid": os.getpid(), "triples": len(store)}))
    while True:
        _reap()
        try:
            if not conn.poll(REAP_EVERY):
                continue
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        _fork_worker(conn, serve, store, {"network_isolated": isolated, "shared_store": True})


def _fork_worker(conn: Connection, serve: Serve, store: Any, info: dict[str, Any]) -> None:
    ours, theirs = socket.socketpair()
    holder = os.getpid()
    # no reaping between the fork and the pidfd: until then the pid alone names the worker
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            conn.close()
            ours.close()
            die_with_parent()
            if os.getppid() != holder:  # the holder died before the line above
                return
            serve(Connection(theirs.detach()), store, {"pid": os.getpid(), **info})
        except BaseException:  # noqa: BLE001 - nothing may unwind into the holder's loop
            code = 1
        finally:
            os._exit(code)
    try:
        pidfd = os.pidfd_open(pid)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    theirs.close()
    try:
        conn.send(pid)
        with socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as channel:
            reduction.sendfds(channel, [ours.fileno(), pidfd])
    finally:
        ours.close()
        os.close(pidfd)


def _reap() -> None:
    """Collect exited workers (killed at their time limit, retired, or crashed)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
