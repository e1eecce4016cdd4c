"""Optional per-client rate limiting (the ``rate_limit`` setting: requests per minute; 0 is off).

A token bucket per client address: a client may send ``rate_limit`` requests at once, then one
more each ``60 / rate_limit`` seconds. Past that it gets ``429`` in the one error shape, with
``Retry-After`` (whole seconds until its next request would be accepted). ``/health`` is never
limited, so monitoring keeps working while a client is throttled. The buckets live in memory:
a restart forgets them, and several server processes each count on their own.

The client is ``request.remote_addr`` (the peer of the TCP connection). Behind a reverse proxy
every client has the proxy's address: limit there instead, or leave this off.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, request

EXEMPT_PATHS = frozenset({"/health"})
CHARGED = "tipgraph.rate_limit_charged"  # environ key: this request has taken its token
MAX_CLIENTS = 100_000  # buckets kept at most; full buckets are dropped first


class RateLimiter:
    """Token buckets by client key; thread-safe. ``clock`` is injectable for tests."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take a token for ``key``: 0.0 if granted, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, when = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - when) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > MAX_CLIENTS:
                    self._forget_full(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled (they hold no information)."""
        for key, (tokens, when) in list(self._buckets.items()):
            if tokens + (now - when) * self.rate >= self.capacity:
                del self._buckets[key]


def charge(limiter: RateLimiter | None, environ: dict) -> float:
    """Take this request's token, once, whichever layer answers it (tipgraph.web.answers, the
    fast lane, Flask): 0.0 if granted (or already taken, or no limit), else seconds to wait.
    A refusal takes no token, so a later layer asking again is refused the same way."""
    if limiter is None or environ.get(CHARGED):
        return 0.0
    wait = limiter.acquire(environ.get("REMOTE_ADDR") or "unknown")
    if not wait:
        environ[CHARGED] = True
    return wait


def init_app(app: Flask, per_minute: int) -> None:
    """Refuse requests past the limit before any work is done for them (when it is above 0)."""
    if per_minute <= 0:
        return
    limiter = RateLimiter(per_minute)
    app.extensions["tipgraph.ratelimit"] = limiter

    @app.before_request
    def _limit() -> Response | None:
        if request.path in EXEMPT_PATHS:
            return None
        wait = charge(limiter, request.environ)
        if not wait:
            return None
        from tipgraph.web.app import error_response

        seconds = max(1, math.ceil(wait))
        response = error_response(429, f"too many requests from {request.remote_addr}: this "
                                  f"server accepts {per_minute} per minute from one client; "
                                  f"try again in {seconds} s")
        response.headers["Retry-After"] = str(seconds)
        return response


__all__ = ["RateLimiter", "charge", "init_app"]
