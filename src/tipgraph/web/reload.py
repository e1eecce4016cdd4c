"""Reloading the data while serving: on SIGHUP, and on file changes with ``--watch``.

A reload never touches what is being served until the new build has proved itself:

1. build the graph again from the files (in a background thread, off the request path);
2. validate it (SHACL shapes and the ontology's checks), in a child process so that requests
   keep the server's interpreter to themselves; scoped to what changed since the last validated
   build when the cache folder holds its record (``validate(kg, changed=True)``: the same report
   as a full validation, which it is when there is no record);
3. start its query workers and wait until they are ready;
4. swap it in as a whole (``AppState.swap``: one assignment). A request in flight finishes on
   the generation it started with; the old workers stop when the last such request is done.

If the files fail to parse, or the build has violations, or its workers cannot start, the
server keeps serving the last good build and logs why (the file and line of a syntax error;
the validation report). A data file with a syntax error never takes the service down.

Reload requests that arrive while a reload runs are folded into one more reload afterwards.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipgraph.errors import TipgraphError
from tipgraph.model.build import build
from tipgraph.model.validate_child import validate_elsewhere
from tipgraph.web.app import AppState, Generation

log = logging.getLogger(__name__)

WATCHED = ("data", "ontology", "shapes")
READY_TIMEOUT = 120.0  # seconds the new query workers may take to load the data


@dataclass
class ReloadStatus:
    """What /health reports about reloads."""

    reloads: int = 0          # reloads that swapped in a new build
    refused: int = 0          # reloads that kept the old build (bad files, violations...)
    last: str = "none yet"    # what the last attempt did, in words
    last_error: str | None = None
    running: bool = False
    history: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"reloads": self.reloads, "refused": self.refused, "last": self.last,
                "last_error": self.last_error, "running": self.running}


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime_ns, size) of every file under the watched folders: changes when a file is
    added, removed, rewritten or touched."""
    found = []
    for folder in WATCHED:
        base = Path(root) / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            try:
                info = path.stat()
            except OSError:  # removed between listing and stat: the next poll sees it
                continue
            if path.is_file():
                found.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(found)


class Reloader:
    """Reloads an app's data on request, one reload at a time, in its own thread."""

    def __init__(self, app_state: AppState, settings: Mapping[str, Any],
                 validate: bool = True) -> None:
        self.app_state = app_state
        self.settings = settings
        self.validate = validate
        self.status = ReloadStatus()
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._idle = threading.Condition()
        self._pending = 0  # requested reloads not yet finished
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        app_state.reloader = self  # /health reports its status

    # -- requesting ---------------------------------------------------------------------------
    def request(self, reason: str = "requested") -> None:
        """Ask for a reload (safe from a signal handler: it only sets an event)."""
        self._reason = reason
        with self._idle:
            self._pending = 1
            self._wanted.set()
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True,
                                            name="tipgraph-reload")
            self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no reload is pending or running (for tests and the CLI)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wanted.wait()
            if self._stopped.is_set():
                return
            self._wanted.clear()
            self.reload_now(getattr(self, "_reason", "requested"))
            with self._idle:
                if not self._wanted.is_set():  # else: asked again meanwhile, go round again
                    self._pending = 0
                    self._idle.notify_all()

    # -- watching -----------------------------------------------------------------------------
    def watch(self, interval: float | None = None) -> None:
        """Poll the watched folders; reload when their files change (and then stay still for
        one more poll, so an editor's save in several steps gives one reload)."""
        interval = float(interval or self.settings.get("watch_interval") or 2.0)
        root = Path(self.settings["root"])

        def poll() -> None:
            seen = fingerprint(root)
            changed = False
            while not self._stopped.wait(interval):
                now = fingerprint(root)
                if now != seen:
                    seen, changed = now, True
                elif changed:
                    changed = False
                    self.request("files changed")

        self._watcher = threading.Thread(target=poll, daemon=True, name="tipgraph-watch")
        self._watcher.start()
        log.info("watching %s for changes every %g s", ", ".join(
            str(root / f) for f in WATCHED), interval)

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()

    # -- the reload itself ----------------------------------------------------------------------
    def reload_now(self, reason: str = "requested") -> bool:
        """Build, validate, start, swap. True if the new build is now served."""
        status = self.status
        status.running = True
        old = self.app_state.current
        started = time.monotonic()
        log.info("reload (%s): building the data from %s", reason, self.settings["root"])
        try:
            new = self._prepare()
        except _Refused as refusal:
            status.refused += 1
            status.last = status.last_error = (
                f"refused: {refusal}; still serving data version {old.version[:16]}")
            log.error("reload refused: %s\nstill serving the last good build (data version "
                      "%s)", refusal, old.version[:16])
            return False
        finally:
            status.running = False
        if new is None:
            status.last = f"no change: data version {old.version[:16]} already served"
            log.info("reload: the files give the data version already served; nothing to do")
            return True
        self.app_state.swap(new)
        status.reloads += 1
        status.last, status.last_error = (
            f"reloaded: data version {new.version[:16]} (was {old.version[:16]}) in "
            f"{time.monotonic() - started:.1f} s"), None
        log.info("reload: now serving data version %s (was %s), %.1f s", new.version[:16],
                 old.version[:16], time.monotonic() - started)
        return True

    def _prepare(self) -> Generation | None:
        try:
            kg = build(self.settings)
        except TipgraphError as error:  # names the file, the line and how to fix it
            raise _Refused(f"the files do not load: {error}") from None
        except Exception as error:  # an unforeseen failure must not take the service down
            log.exception("reload: the build failed unexpectedly")
            raise _Refused(f"the build failed: {type(error).__name__}: {error}") from None
        if kg.version == self.app_state.current.version:
            return None
        if self.validate:
            self._check(kg)
        from tipgraph.web.publishing import publishing_for

        publishing_for(kg).warm()  # dumps, description, labels: not on a request's time
        new = Generation(kg, self.settings)
        try:
            self._start(new)
        except _Refused:
            new.close()
            raise
        return new

    def _check(self, kg: Any) -> None:
        log.info("reload: validating the new build (in a separate process)")
        outcome, payload = validate_elsewhere(self.settings, changed=True)
        if outcome == "refused":
            raise _Refused(payload)
        version, report = payload
        if version != kg.version:  # a file changed meanwhile: the next poll or signal retries
            raise _Refused("the files changed while the new build was validated")
        if report.scope is not None:
            log.info("reload: %s validation (%s; %d focus node(s) re-checked)", report.scope.mode,
                     report.scope.reason, report.scope.rechecked_nodes)
        if report.violations:
            raise _Refused(f"the new build has {len(report.violations)} violation(s):\n"
                           f"{report.to_text()}")
        from tipgraph.web.publishing import publishing_for

        publishing_for(kg).adopt_findings(report.findings)  # the pages need not validate again

    def _start(self, new: Generation) -> None:
        pool = new.queries.start().pool
        if pool is None:
            return
        failure = pool.wait_ready(READY_TIMEOUT)
        if failure:
            raise _Refused(failure)


class _Refused(Exception):
    """Why a reload keeps the old build."""


__all__ = ["ReloadStatus", "Reloader", "fingerprint"]
