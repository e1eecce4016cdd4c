"""Content negotiation over the one media-type table (tipgraph.publish.formats).

A real Accept parser (Werkzeug's ``best_match``), never a substring test. Offers are listed in
order of preference: on a tie (``*/*``, or no Accept header) the first offer wins.
"""

from __future__ import annotations

from flask import Response, request

from tipgraph.publish.formats import RDF_FORMATS, RdfFormat, rdf_format

HTML = "text/html"
HTML_SUFFIX = "html"


def negotiate(html_first: bool = True) -> RdfFormat | str | None:
    """The representation the client prefers: HTML (the string "text/html"), an RdfFormat,
    or None when it accepts none of them (answer 406)."""
    rdf_offers = [fmt.media_type for fmt in RDF_FORMATS]
    rdf_offers += [alias for fmt in RDF_FORMATS for alias in fmt.aliases]
    offers = [HTML, *rdf_offers] if html_first else [*rdf_offers, HTML]
    if not request.accept_mimetypes:  # no Accept header: anything goes, the first offer wins
        best = offers[0]
    else:
        best = request.accept_mimetypes.best_match(offers)
    if best is None:
        return None
    return HTML if best == HTML else rdf_format(best)


def split_suffix(path: str) -> tuple[str, RdfFormat | str | None]:
    """``ecowas.ttl`` -> ("ecowas", turtle); ``ecowas.html`` -> ("ecowas", HTML); else no suffix."""
    head, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix or not head:
        return path, None
    if suffix == HTML_SUFFIX:
        return head, HTML
    fmt = next((f for f in RDF_FORMATS if f.suffix == suffix), None)
    return (head, fmt) if fmt is not None else (path, None)


def suffix_of(choice: RdfFormat | str) -> str:
    return HTML_SUFFIX if choice == HTML else choice.suffix  # type: ignore[union-attr]


def alternates(path: str) -> list[tuple[str, str, str]]:
    """(href, media type, format name) of every RDF form of a document at ``path``."""
    return [(f"{path}.{fmt.suffix}", fmt.media_type, fmt.name) for fmt in RDF_FORMATS]


def link_header(path: str) -> str:
    forms = [f'<{path}.html>; rel="alternate"; type="text/html"']
    forms += [f'<{href}>; rel="alternate"; type="{media}"' for href, media, _ in alternates(path)]
    return ", ".join(forms)


def rdf_response(data: bytes, fmt: RdfFormat, path: str | None = None) -> Response:
    response = Response(data, mimetype=fmt.media_type)
    if fmt.media_type.startswith("text/") or fmt.name in {"ntriples", "nquads"}:
        response.headers["Content-Type"] = f"{fmt.media_type}; charset=utf-8"
    if path:
        response.headers["Link"] = link_header(path)
    return response


def vary_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response
