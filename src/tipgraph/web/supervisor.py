"""Several server processes on one listening socket (``server_processes`` > 1).

A server process answers HTTP under one interpreter lock: however many query workers it has,
its own share of each request (parsing, the policy check, the hand-over, the answer) runs on
one core at a time. With ``server_processes = N`` the supervisor here binds the socket and forks
N server processes (tipgraph.web.serve.serve_process) that accept connections from it: the
kernel gives each new connection to whichever process takes it first. Each process is a whole
server with its own graph, query workers, caches and reloads, so one that fails takes only its
own connections with it. What is per process: the caches (a repeated query may be computed once
in each), the rate-limit counts (a client may get up to N times ``rate_limit``), /health.

The supervisor holds no thread and no data (forking is safe) and:
- starts the first server process and waits until it serves (it fills the cache), then the
  others, which start from the warm cache; until the first is ready, connections are refused
  (the socket does not listen yet), as with one process;
- forwards SIGHUP (reload) to every server process, and SIGTERM or SIGINT (each stops
  accepting, answers its requests in flight, stops);
- replaces a server process that dies (every ``RETRY_AFTER`` seconds when they keep dying:
  ``MAX_DEATHS`` within ``DEATH_WINDOW`` seconds). If a replacement cannot start (a data file
  broken since, say), the others keep serving their good build and it is tried again later.
  If the first process cannot start, or none is left and none can start, it stops them all
  and exits with the failure's code, as one server would.
A server process stops (gracefully) when the supervisor dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from typing import Any

from tipgraph.errors import TipgraphError
from tipgraph.query.isolation import die_with_parent
from tipgraph.web.serve import announce, serve_process

log = logging.getLogger(__name__)

MAX_DEATHS = 5        # server processes dying within DEATH_WINDOW: replaced more slowly then
DEATH_WINDOW = 60.0   # seconds
RETRY_AFTER = 5.0     # seconds between two attempts to start a replacement, when slowed
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket for host and port, not listening yet (the first server process
    listens once it is ready), inherited by the server processes."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    listener.bind(address)
    return listener


def _run_child(settings: Mapping[str, Any], listener: socket.socket, ready: int) -> int:
    """A server process's life; its exit code. ``ready`` is a pipe: one byte once serving."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a reload before serving: the build is new
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_DFL)
    die_with_parent(signal.SIGTERM)  # even when the supervisor is killed

    def on_ready(host: str, port: int) -> None:
        os.write(ready, b"1")
        os.close(ready)

    try:
        serve_process(settings, listener, on_ready)
        return 0
    except TipgraphError as error:  # as the CLI reports it (tipgraph.cli.handle_errors)
        print(f"tipgraph: error: {error}", file=sys.stderr)
        return error.exit_code
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        traceback.print_exc()
        return 1


class Supervisor:
    def __init__(self, settings: Mapping[str, Any], listener: socket.socket) -> None:
        self.settings = settings
        self.listener = listener
        self.wanted = int(settings["server_processes"])
        self.children: set[int] = set()  # pids of the server processes
        self.deaths: list[float] = []
        self.stopping = False
        self.exit_code = 0

    def fork(self) -> tuple[int, int]:
        """(pid, read end of its readiness pipe) of a new server process."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the server process: never returns into the supervisor's code
            os.close(read)
            code = _run_child(self.settings, self.listener, write)
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        os.close(write)
        self.children.add(pid)
        return pid, read

    def start_one(self) -> bool:
        """Fork a server process and wait until it serves; False if it failed (and why is
        recorded in ``exit_code``) or a stop came first."""
        pid, ready = self.fork()
        try:
            while not self.stopping:
                readable, _, _ = select.select([ready], [], [], 0.2)
                if readable:
                    if os.read(ready, 1):
                        return True
                    self._reap(block_on=pid)  # closed without a byte: it exited
                    return False
                self._reap()
                if pid not in self.children:
                    return False
            return False
        finally:
            os.close(ready)

    def _reap(self, block_on: int | None = None) -> None:
        """Collect exited server processes; record a failure's exit code."""
        while self.children:
            try:
                pid, status = os.waitpid(block_on or -1, 0 if block_on else os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if not self.stopping:
                log.warning("server process %d exited (%s)", pid,
                            f"code {code}" if code >= 0 else f"signal {-code}")
                self.deaths.append(time.monotonic())
                self.exit_code = self.exit_code or (code if code > 0 else 1)
            block_on = None

    def forward(self, signum: int) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def run(self) -> int:
        signal.signal(signal.SIGHUP, lambda *_: self.forward(signal.SIGHUP))
        for stop in STOP_SIGNALS:
            signal.signal(stop, lambda *_: setattr(self, "stopping", True))
        if not self.start_one():
            return self.stop()  # the first one: fail as a single server would
        host, port = self.listener.getsockname()[:2]
        announce(host, port, self.wanted)
        retry_at = 0.0
        while not self.stopping:
            self._reap()
            if len(self.children) < self.wanted and time.monotonic() >= retry_at:
                self.exit_code = 0
                if self.start_one():
                    retry_at = self._backoff()
                elif not self.children:
                    return self.stop()  # none left, and none can start: fail
                else:  # e.g. a data file broken since: the others keep their good build
                    log.error("a server process could not start: serving with %d of %d, "
                              "trying again in %g s", len(self.children), self.wanted,
                              RETRY_AFTER)
                    retry_at = time.monotonic() + RETRY_AFTER
            time.sleep(0.2)  # the polling interval of the supervisor's watch
        return self.stop()

    def _backoff(self) -> float:
        """When the next server process may start: at once, unless MAX_DEATHS died within
        DEATH_WINDOW seconds (then RETRY_AFTER seconds from now)."""
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < DEATH_WINDOW]
        return now + RETRY_AFTER if len(self.deaths) >= MAX_DEATHS else 0.0

    def stop(self) -> int:
        """Stop every server process (each drains its requests in flight) and wait for them."""
        failed = not self.stopping and self.exit_code
        self.stopping = True
        self.forward(signal.SIGTERM)
        while self.children:
            self._reap(block_on=next(iter(self.children)))
        return self.exit_code if failed else 0


def supervise(settings: Mapping[str, Any]) -> None:
    """`tipgraph serve` with server_processes > 1; exits with a failed server's code."""
    listener = bind(str(settings["host"]), int(settings["port"]))
    try:
        code = Supervisor(settings, listener).run()
    finally:
        listener.close()
    if code:
        sys.exit(code)
