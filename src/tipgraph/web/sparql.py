"""/sparql: the SPARQL 1.1 Protocol (query operation), read-only, with a query editor.

A request goes: read the protocol parameters → policy (tipgraph.query.policy) → choose the
output format → a query worker → the response. Without a query, /sparql answers the service
description (RDF) or the query editor (HTML), by content negotiation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from flask import Blueprint, Response, g, render_template, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header, quote_etag

from tipgraph import __version__
from tipgraph.errors import QueryError
from tipgraph.model.namespaces import PREFIXES, VOID
from tipgraph.publish.formats import RDF_FORMATS, RESULT_FORMATS, rdf_format, result_format
from tipgraph.query.cache import CacheKey
from tipgraph.query.policy import READ_ONLY
from tipgraph.query.results import serialize
from tipgraph.query.workers import Outcome
from tipgraph.store.base import Answer
from tipgraph.web.answers import mark_cacheable
from tipgraph.web.app import settings_of, state

blueprint = Blueprint("sparql", __name__)

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
HTML = ("text/html", "application/xhtml+xml")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, X-Tipgraph-Query-Ms, X-Tipgraph-Result-Size, "
                                     "X-Tipgraph-Cache",
}


def _media_types(formats: Sequence) -> list[str]:
    return [m for f in formats for m in (f.media_type, *f.aliases)]


def _aliases(media_type: str) -> set[str]:
    """The canonical media type a (possibly alias) media type stands for, as a set."""
    return {f.media_type for f in (*RESULT_FORMATS, *RDF_FORMATS)
            if media_type in (f.media_type, *f.aliases)}


_RESULT_OFFERS = _media_types(RESULT_FORMATS)
_RDF_OFFERS = _media_types(RDF_FORMATS)


def _best(offers: list[str]) -> str | None:
    accept = request.accept_mimetypes
    if not accept.provided:  # no Accept header: anything will do
        return offers[0]
    return accept.best_match(offers)


def _not_acceptable(what: str, formats: Sequence) -> QueryError:
    names = ", ".join(f"{f.media_type} (format={f.name})" for f in formats)
    return QueryError(f"no acceptable format for {what}; this endpoint offers {names}",
                      status=406)


def choose_format(form: str | None, override: str | None) -> tuple[str, str | None]:
    """The output format's name, from ``format=`` or the Accept header (q-values, wildcards),
    and the media type to answer with when the client asked for an alias (application/json)."""
    return format_for(form, override, request.headers.get("Accept"))


def format_for(form: str | None, override: str | None,
               accept: str | None) -> tuple[str, str | None]:
    """choose_format on the request's raw values (also for the fast lane, without Flask)."""
    if len(accept or "") + len(override or "") > MEMO_KEY_CHARS:
        return _choose_format(form, override, accept)
    return _choose_format_memo(form, override, accept)


MEMO_KEY_CHARS = 2000  # longer Accept headers or format= values are not remembered


def _choose_format(form: str | None, override: str | None,
                   accept: str | None) -> tuple[str, str | None]:
    """A pure function of its arguments: clients send a handful of distinct Accept headers,
    so format_for remembers its answers."""
    graph_form = form in {"CONSTRUCT", "DESCRIBE"}
    formats = RDF_FORMATS if graph_form else RESULT_FORMATS
    what = f"a {form or 'SELECT'} query"
    if override:
        found = rdf_format(override) if graph_form else result_format(override)
        if found is None:
            if rdf_format(override) or result_format(override):
                raise _not_acceptable(what, formats)
            raise QueryError(f"unknown format {override!r}; use one of "
                             f"{', '.join(f.name for f in formats)}")
        return found.name, None
    offers = _RDF_OFFERS if graph_form else _RESULT_OFFERS
    parsed = parse_accept_header(accept, MIMEAccept)  # what request.accept_mimetypes is
    best = parsed.best_match(offers) if parsed.provided else offers[0]
    if best is None:
        raise _not_acceptable(what, formats)
    found = rdf_format(best) if graph_form else result_format(best)
    assert found is not None
    return found.name, best


_choose_format_memo = functools.lru_cache(maxsize=256)(_choose_format)


def _read_request() -> tuple[str | None, MultiDict]:
    """The query text and the parameters, as the protocol carries them. Refuses updates."""
    limits = state().queries.limits
    limits.check_size(len(request.query_string))
    if request.content_length:
        limits.check_size(request.content_length)
    params: MultiDict = MultiDict(request.args)
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == FORM:
            params = MultiDict(list(request.args.items(multi=True))
                               + list(request.form.items(multi=True)))
        elif mimetype == UPDATE:
            raise QueryError(READ_ONLY, status=403)
        elif mimetype == DIRECT:
            charset = request.mimetype_params.get("charset", "utf-8").lower()
            if charset not in {"utf-8", "utf8"}:
                raise QueryError(f"the query must be UTF-8, not {charset}", status=415)
            try:
                text = request.get_data(cache=False).decode("utf-8")
            except UnicodeDecodeError:
                raise QueryError("the query is not valid UTF-8") from None
            if params.getlist("query"):
                raise QueryError("give the query either in the body or as ?query=, not both")
            params.add("query", text)
        else:
            raise QueryError(f"unsupported media type {mimetype or '(none)'!r}: POST a query as "
                             f"{FORM} (query=...) or as {DIRECT}", status=415)
    if params.getlist("update") or params.getlist("using-graph-uri"):
        raise QueryError(READ_ONLY, status=403)
    queries = params.getlist("query")
    if len(queries) > 1:
        raise QueryError("more than one query given: send exactly one query parameter")
    return (queries[0] if queries else None), params


@blueprint.route("/sparql", methods=["GET", "POST", "OPTIONS"],
                 provide_automatic_options=False)
def sparql() -> Response:
    if request.method == "OPTIONS":
        return _preflight()
    sparql_text, params = _read_request()
    if sparql_text is None:
        if request.method == "POST":
            raise QueryError("no query given: send query=... (or an application/sparql-query "
                             "body)")
        return _description_or_editor()
    carried = request.environ.pop(FAILED_IN_FAST_LANE, None)
    if carried is not None:
        raise carried  # the fast lane ran this query and it failed: answered here, not re-run
    service = state().queries
    endpoint = request.base_url
    checked = service.check(sparql_text, params.getlist("default-graph-uri"),
                            params.getlist("named-graph-uri"), base=endpoint)
    fmt, media_type = choose_format(checked.form, params.get("format"))
    key = service.key(checked, fmt, base=endpoint)
    etag = answer_etag(key, media_type)
    if request.method in {"GET", "HEAD"} and request.if_none_match.contains_weak(etag):
        return _not_modified(etag)  # the client holds this very answer: no engine, no body
    outcome = service.run(checked, fmt, base=endpoint, key=key)
    g.query_ms, g.result_size = outcome.query_ms, outcome.size
    mark_cacheable(request.environ, service.kg.version)
    return Response(outcome.body, headers=answer_headers(outcome, media_type, etag))


FAILED_IN_FAST_LANE = "tipgraph.fast_lane_error"  # environ key: tipgraph.web.fastlane's error


def answer_etag(key: CacheKey, media_type: str | None) -> str:
    """The entity tag of the answer ``key`` names (``QueryService.key``), as ``media_type``."""
    return _etag(key.etag(), media_type)


def answer_headers(outcome: Outcome, media_type: str | None,
                   etag: str) -> list[tuple[str, str]]:
    """The headers of a query's answer, as the /sparql view gives them (the fast lane too)."""
    if media_type is None or outcome.media_type not in {media_type, *_aliases(media_type)}:
        media_type = outcome.media_type
    return [
        ("Content-Type", f"{media_type}; charset=utf-8"),
        ("X-Tipgraph-Query-Ms", f"{outcome.query_ms:.2f}"),
        ("X-Tipgraph-Result-Size", str(outcome.size)),
        ("X-Tipgraph-Cache", "hit" if outcome.cached else "miss"),
        ("ETag", quote_etag(etag)),
        ("Cache-Control", REVALIDATE),
    ]


REVALIDATE = "public, no-cache"  # caches may keep an answer, but ask (If-None-Match) each time


def _etag(answer_tag: str, media_type: str | None) -> str:
    """The entity tag of one representation: the answer's tag (data version, query, dataset,
    format) and the media type answered (application/json and its canonical type differ)."""
    return f"{answer_tag[:32]}-{(media_type or '').replace('/', '.').replace('+', '.')}"


def _not_modified(etag: str) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    response.headers["Cache-Control"] = REVALIDATE
    g.result_size = 0
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Cache-Control"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    return response


@blueprint.after_request
def _cors_and_vary(response: Response) -> Response:
    response.headers.update(CORS_HEADERS)
    response.vary.add("Accept")
    return response


def _description_or_editor() -> Response:
    override = request.args.get("format")
    if override and override.lower() != "html":
        found = rdf_format(override)
        if found is None:
            raise QueryError(f"unknown format {override!r} for the service description; use "
                             f"html or one of {', '.join(f.name for f in RDF_FORMATS)}")
        return _description(found.name, found.media_type)
    best = "text/html" if override else _best([*_media_types(RDF_FORMATS), *HTML])
    if best in HTML:
        return _editor()
    found = rdf_format(best) if best else None
    if found is None:
        raise _not_acceptable("the service description", RDF_FORMATS)
    return _description(found.name, best)


def service_description(endpoint: str) -> Graph:
    """sd:Service: endpoint, language, result formats, features and the default dataset."""
    kg = state().kg
    sd = Graph()
    sd.bind("sd", SD)
    sd.bind("void", VOID)
    sd.bind("dcterms", DCTERMS)
    service = URIRef(endpoint + "#service")
    sd.add((service, RDF.type, SD.Service))
    sd.add((service, SD.endpoint, URIRef(endpoint)))
    sd.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    sd.add((service, SD.feature, SD.UnionDefaultGraph))
    sd.add((service, SD.defaultEntailmentRegime,
            URIRef("http://www.w3.org/ns/entailment/Simple")))
    sd.add((service, DCTERMS.title, Literal("tipgraph SPARQL endpoint", lang="en")))
    sd.add((service, RDFS.comment, Literal(
        "Read-only. SERVICE, LOAD, updates and FROM or dataset parameters naming non-local graphs "
        "are refused; nothing is ever fetched. The default graph is the union of the named "
        "graphs; the inferences (materialised) are in their own graph. "
        f"tipgraph {__version__}.", lang="en")))
    for fmt in (*RESULT_FORMATS, *RDF_FORMATS):
        sd.add((service, SD.resultFormat, URIRef(fmt.iri)))
    dataset = BNode()
    sd.add((service, SD.defaultDataset, dataset))
    sd.add((dataset, RDF.type, SD.Dataset))
    default = BNode()
    sd.add((dataset, SD.defaultGraph, default))
    sd.add((default, RDF.type, SD.Graph))
    sd.add((default, VOID.triples, Literal(kg.triples, datatype=XSD.integer)))
    for name in sorted(state().queries.local_graphs):
        named, graph = BNode(), BNode()
        sd.add((dataset, SD.namedGraph, named))
        sd.add((named, RDF.type, SD.NamedGraph))
        sd.add((named, SD.name, URIRef(name)))
        sd.add((named, SD.graph, graph))
        sd.add((graph, RDF.type, SD.Graph))
        sd.add((graph, VOID.triples, Literal(len(kg.dataset.graph(URIRef(name))),
                                             datatype=XSD.integer)))
    return sd


def _description(fmt: str, media_type: str) -> Response:
    graph = service_description(request.base_url)
    body, _ = serialize(Answer("graph", triples=list(graph)), fmt,
                        {"sd": str(SD), "void": str(VOID), "dcterms": str(DCTERMS),
                         "rdfs": str(RDFS), "xsd": str(XSD)})
    return Response(body, content_type=f"{media_type}; charset=utf-8")


def _link_base(base_iri: str) -> str:
    """The site's base IRI: the data base without its final ``id/`` (IRIs under it have pages
    at the same path on this server)."""
    return base_iri[:-3] if base_iri.endswith("id/") else base_iri


def _editor() -> Response:
    app_state = state()
    config = {
        "endpoint": url_for("sparql.sparql"),
        "prefixes": PREFIXES,
        "linkBase": _link_base(settings_of()["base_iri"]),
        "examples": [{"name": q.name, "title": q.title, "description": q.description,
                      "category": q.category, "sparql": q.sparql}
                     for q in app_state.examples],
    }
    return Response(render_template("sparql.html", config=config), content_type="text/html")
