"""The fast lane: plain SPARQL queries answered without Flask's request machinery.

Most requests to a public endpoint are the plainest the protocol allows: a GET with ``query=``
(and maybe ``format=``), or a form POST with the same. For those, Flask's request context,
routing, hooks, form parser and header objects cost more CPU than the query (about 0.7 ms of the
server's interpreter per request). This layer answers them with the /sparql view's own parts
(tipgraph.web.sparql: the policy check, format negotiation, entity tag, the query service and
the answer's headers), so both give the same answer with the same headers (a test compares them).

Anything else goes to Flask unchanged: other paths and methods, other parameters, other media
types, and every request the lane cannot answer cleanly (a policy refusal, a malformed query,
an unacceptable format, a size limit): Flask's view checks it again and answers the error in
the one error shape. An error from running the query (a time limit, a busy pool) is not run
again: it is handed to the view in the WSGI environ, which raises it there.
"""

from __future__ import annotations

import codecs
import functools
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.http import parse_etags, quote_etag
from werkzeug.wsgi import get_current_url

from tipgraph import __version__
from tipgraph.web import ratelimit
from tipgraph.web.accesslog import log_access
from tipgraph.web.answers import mark_cacheable, read_body
from tipgraph.web.app import SECURITY_HEADERS, AppState
from tipgraph.web.sparql import (
    CORS_HEADERS,
    FAILED_IN_FAST_LANE,
    FORM,
    REVALIDATE,
    answer_etag,
    answer_headers,
    format_for,
)

PATH = "/sparql"
PARAMETERS = frozenset({"query", "format"})
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
# what Flask's hooks add to every /sparql answer (tipgraph.web.app, tipgraph.web.sparql)
FINISHING = (*CORS_HEADERS.items(), ("Vary", "Accept"), *SECURITY_HEADERS.items(),
             ("X-Tipgraph-Version", __version__))


class FastLane:
    """WSGI middleware around the Flask app; see the module's docstring."""

    def __init__(self, app: Callable[[Environ, StartResponse], Iterable[bytes]],
                 app_state: AppState, rate_limiter: Any = None) -> None:
        self.app = app
        self.app_state = app_state
        self.rate_limiter = rate_limiter
        self.answered = 0  # requests this lane answered (the rest went to Flask)
        self.failed = 0    # queries that failed here, answered by the view's error handler

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        plain = _plain_query(environ, int(self.app_state.settings["max_request_bytes"]))
        if plain is None or ratelimit.charge(self.rate_limiter, environ):
            return self.app(environ, start_response)
        generation = self.app_state.current.enter()
        try:
            answered = self._answer(generation.queries, environ, *plain)
        finally:
            generation.leave()
        if answered is None:
            return self.app(environ, start_response)
        status, headers, body, outcome = answered
        self.answered += 1  # (a lost increment between threads only blurs a statistic)
        start_response(status, headers)
        log_access(environ, int(status[:3]), started, getattr(outcome, "query_ms", None),
                   getattr(outcome, "size", None), len(body))
        return [body]

    def _answer(self, service: Any, environ: Environ, sparql: str,
                override: str | None) -> tuple[str, list, bytes, Any] | None:
        """(status, headers, body, outcome), or None to let Flask answer (or raise) it."""
        endpoint = _endpoint(environ)
        try:
            checked = service.check(sparql, base=endpoint)
            fmt, media_type = format_for(checked.form, override, environ.get("HTTP_ACCEPT"))
        except Exception:  # refused or malformed: Flask's view says why, in the error shape
            return None
        key = service.key(checked, fmt, base=endpoint)
        etag = answer_etag(key, media_type)
        if environ["REQUEST_METHOD"] == "GET" and parse_etags(
                environ.get("HTTP_IF_NONE_MATCH")).contains_weak(etag):
            return "304 Not Modified", [("ETag", quote_etag(etag)),
                                        ("Cache-Control", REVALIDATE), *FINISHING], b"", None
        try:
            outcome = service.run(checked, fmt, base=endpoint, key=key)
        except Exception as error:  # not run twice: the view raises it (tipgraph.web.sparql)
            environ[FAILED_IN_FAST_LANE] = error
            self.failed += 1
            return None
        mark_cacheable(environ, service.kg.version)
        headers = [*answer_headers(outcome, media_type, etag), *FINISHING,
                   ("Content-Length", str(len(outcome.body)))]
        return "200 OK", headers, outcome.body, outcome


def _plain_query(environ: Environ, max_bytes: int) -> tuple[str, str | None] | None:
    """(query, format override) of a GET or form POST to /sparql that carries nothing else;
    None for any other request. A POST body read here is given to Flask again from memory."""
    if environ.get("PATH_INFO") != PATH:
        return None
    method = environ.get("REQUEST_METHOD")
    if method == "GET":
        raw = environ.get("QUERY_STRING", "")
    elif method == "POST" and environ.get("CONTENT_TYPE") == FORM \
            and not environ.get("QUERY_STRING"):
        body = read_body(environ, max_bytes)
        if body is None:
            return None
        try:
            raw = body.decode("ascii")  # a form body is percent-encoded ASCII
        except UnicodeDecodeError:
            return None
    else:
        return None
    if len(raw) > max_bytes:
        return None
    try:
        pairs = form_fields(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    names = [name for name, _ in pairs]
    if names.count("query") != 1 or names.count("format") > 1 or not set(names) <= PARAMETERS:
        return None
    found = dict(pairs)
    return found["query"], found.get("format")


def form_fields(raw: str) -> list[tuple[str, str]]:
    """``parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=2)``: the same
    fields, or the same error (it answers whatever is unusual itself).

    parse_qsl decodes percent escapes in Python, one at a time (about 40 µs for a typical
    query); here they become ``\\xhh`` escapes for the C ``unicode_escape`` codec, which gives
    their bytes as characters U+0000 to U+00FF (latin-1), in one pass."""
    if raw.count("&") > 1 or not raw.isascii():  # too many fields (its error), or not ASCII
        return _parse_qsl(raw)
    try:
        return [(_unquote_plus(name), _unquote_plus(value))
                for name, _, value in (field.partition("=") for field in raw.split("&") if field)]
    except UnicodeDecodeError:  # a malformed escape (parse_qsl keeps it as it is), or not UTF-8
        return _parse_qsl(raw)


def _parse_qsl(raw: str) -> list[tuple[str, str]]:
    return parse_qsl(raw, keep_blank_values=True, errors="strict", max_num_fields=2)


def _unquote_plus(text: str) -> str:
    """parse_qsl's decoding of one ASCII name or value (``+`` is a space); UnicodeDecodeError
    when an escape is malformed (``%`` not followed by two hex digits) or the bytes are not
    UTF-8. Backslashes are escaped first, so that the codec sees no escapes but ours."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    escaped = text.replace("\\", "%5C").replace("%", "\\x")
    return codecs.decode(escaped, "unicode_escape").encode("latin-1").decode("utf-8")


def _endpoint(environ: Environ) -> str:
    """The endpoint's IRI as Flask's ``request.base_url`` gives it (the query's base IRI)."""
    return _endpoint_of(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                        environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
                        environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""))


@functools.lru_cache(maxsize=64)
def _endpoint_of(scheme: str, host: str | None, server_name: str | None,
                 server_port: str | None, script: str, path: str) -> str:
    environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server_name,
               "SERVER_PORT": server_port, "SCRIPT_NAME": script, "PATH_INFO": path}
    if host is not None:
        environ["HTTP_HOST"] = host
    return get_current_url(environ, strip_querystring=True)
