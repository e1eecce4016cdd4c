"""Repeated SPARQL requests answered before Flask: the answer cache at the WSGI layer.

Public endpoints see the same requests again and again (the example queries, a page's widget).
Through Flask, even an answer from the result cache costs about a millisecond of CPU under the
interpreter lock (request context, routing, form parsing, the protocol checks, the headers);
here it costs a dictionary lookup. A request is answered from this cache only when the very same
request (method, query string, body, content type, Accept, host) got a 200 answer from the
/sparql view on the data version that is current now: the key holds the data version the answer
was computed on, so a reload can never make it serve a stale answer. A conditional GET whose
``If-None-Match`` names the answer's ETag gets 304 here without a body.

Everything else (misses, errors, HEAD, the editor, pages, other paths) goes to Flask unchanged;
an answer Flask gives for /sparql is kept when the view marks it cacheable (``mark_cacheable``).
The rate limit, when on, is charged for an answer given here (tipgraph.web.ratelimit.charge:
once per request); a refused request goes to Flask, which answers the 429.
Memory is bounded by ``result_cache_bytes`` (LRU by bytes, as tipgraph.query.cache); the bodies
are the same bytes objects as in the result cache, so holding them here costs little more.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from werkzeug.http import parse_etags, unquote_etag

from tipgraph.query.cache import ResultCache
from tipgraph.web import ratelimit
from tipgraph.web.accesslog import log_access

PATH = "/sparql"
MAX_BODY = 64 * 1024  # larger POST bodies are not looked up (rare; Flask answers them)
CACHEABLE = "tipgraph.cacheable_version"  # environ key the /sparql view sets on a good answer
KEPT_ON_304 = frozenset({"etag", "cache-control", "vary", "access-control-allow-origin",
                         "access-control-expose-headers", "x-content-type-options",
                         "referrer-policy", "content-security-policy", "x-tipgraph-version"})

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class RequestKey:
    """Everything a /sparql answer depends on, as the client sent it, and the data version."""

    version: str
    method: str
    query_string: str
    content_type: str
    body: bytes
    accept: str
    origin: tuple[str, str, str]  # scheme, host, script name: the endpoint IRI is the base

    @property
    def size(self) -> int:
        return len(self.query_string) + len(self.body) + len(self.accept)


@dataclass(frozen=True)
class StoredAnswer:
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str | None
    query_ms: str
    result_size: str


def mark_cacheable(environ: Environ, version: str) -> None:
    """Called by the /sparql view: this 200 answer is a pure function of the request and of
    the data version ``version`` (the generation that computed it)."""
    environ[CACHEABLE] = version


def read_body(environ: Environ, most: int) -> bytes | None:
    """A request body of a stated length up to ``most`` bytes, put back for the next reader
    (the next layer, then Flask) as an in-memory stream; None if it is longer or unstated."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 <= length <= most:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class AnswerCache:
    """WSGI middleware around the Flask app (``app.wsgi_app = AnswerCache(...)``)."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]],
                 current_version: Callable[[], str], max_bytes: int,
                 rate_limiter: Any = None) -> None:
        self.app = app
        self.current_version = current_version
        self.cache = ResultCache(max_bytes)
        self.rate_limiter = rate_limiter

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        key = self._key(environ) if self.cache.max_bytes else None
        if key is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        found = self.cache.get(key)
        if found is not None and self._charge(environ):
            return self._answer(environ, start_response, found, started)
        return self._through_flask(environ, start_response, key)

    def _key(self, environ: Environ) -> RequestKey | None:
        """The request's key, or None when this layer does not handle it. Reads a POST body
        (then given to Flask again from memory)."""
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != PATH or method not in {"GET", "POST"}:
            return None
        body = read_body(environ, MAX_BODY) if method == "POST" else b""
        if body is None:
            return None  # chunked or large: Flask reads it under its own limits
        return RequestKey(self.current_version(), method, environ.get("QUERY_STRING", ""),
                          environ.get("CONTENT_TYPE", ""), body, environ.get("HTTP_ACCEPT", ""),
                          (environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""),
                           environ.get("SCRIPT_NAME", "")))

    def _charge(self, environ: Environ) -> bool:
        """Take the request's rate-limit token; False (Flask answers the 429) when refused."""
        return not ratelimit.charge(self.rate_limiter, environ)

    def _answer(self, environ: Environ, start_response: StartResponse, found: StoredAnswer,
                started: float) -> Iterable[bytes]:
        if found.etag and environ["REQUEST_METHOD"] == "GET" and _matches(
                environ.get("HTTP_IF_NONE_MATCH"), found.etag):
            headers = [(k, v) for k, v in found.headers if k.lower() in KEPT_ON_304]
            start_response("304 Not Modified", headers)
            log_access(environ, 304, started, found.query_ms, found.result_size, 0)
            return [b""]
        start_response(found.status, list(found.headers))
        log_access(environ, 200, started, found.query_ms, found.result_size, len(found.body))
        return [found.body]

    def _through_flask(self, environ: Environ, start_response: StartResponse,
                       key: RequestKey) -> Iterable[bytes]:
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured[:] = [status, headers]
            return start_response(status, headers, exc_info) if exc_info else \
                start_response(status, headers)

        chunks = self.app(environ, capture)
        version = environ.get(CACHEABLE)
        if version is None or not captured or not captured[0].startswith("200"):
            return chunks
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self._keep(key, version, captured[0], captured[1], body)
        return [body]

    def _keep(self, key: RequestKey, version: str, status: str,
              headers: list[tuple[str, str]], body: bytes) -> None:
        if key.version != version:  # a reload happened while Flask answered: key it right
            key = replace(key, version=version)
        named = {k.lower(): v for k, v in headers}
        stored = tuple((k, "hit" if k.lower() == "x-tipgraph-cache" else v) for k, v in headers)
        etag = named.get("etag")
        self.cache.put(key, StoredAnswer(status, stored, body, etag,
                                         named.get("x-tipgraph-query-ms", ""),
                                         named.get("x-tipgraph-result-size", "")), len(body))

    def drop_other_versions(self, version: str) -> int:
        return self.cache.drop_other_versions(version)

    def status(self) -> dict[str, Any]:
        return self.cache.status()


def _matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match (weak comparison, as RFC 9110 says for it) against a quoted ETag."""
    if not if_none_match:
        return False
    return parse_etags(if_none_match).contains_weak(unquote_etag(etag)[0])

