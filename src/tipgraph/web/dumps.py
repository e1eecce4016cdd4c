"""Dumps over HTTP, the dataset description (VoID + DCAT) and the published JSON-LD context.

- ``/dumps/`` lists the dumps (HTML, or JSON for machines) with size and checksum (null for a
  format written through rdflib of a graph past ``warm_dumps_max_triples``: see
  ``Publishing.checksummed``);
- ``/dumps/tipgraph.<suffix>`` (asserted) and ``/dumps/tipgraph-inferred.<suffix>`` are the
  same bytes ``tipgraph export`` writes, with an ETag (their sha256);
- ``/.well-known/void`` describes the dataset (Turtle by default, any RDF form by Accept or
  suffix, an HTML summary for browsers);
- ``/context.jsonld`` is the JSON-LD context the JSON-LD forms use.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, jsonify, render_template, request

from tipgraph.publish.export import dump_filename
from tipgraph.publish.formats import RDF_FORMATS, RdfFormat
from tipgraph.publish.void import dataset_iri
from tipgraph.web.app import error_response, state, wants_html
from tipgraph.web.negotiation import (
    HTML,
    alternates,
    link_header,
    negotiate,
    rdf_response,
    split_suffix,
    suffix_of,
    vary_accept,
)
from tipgraph.web.publishing import publishing

blueprint = Blueprint("dumps", __name__)

_DUMPS = {dump_filename(fmt, inferred): (fmt, inferred)
          for fmt in RDF_FORMATS for inferred in (False, True)}


def _listing() -> list[dict]:
    checksums = publishing().checksums()
    rows = []
    for name, (fmt, inferred) in _DUMPS.items():
        size, digest = checksums.get((fmt.name, inferred), (None, None))  # None: not computed
        rows.append({"name": name, "href": f"/dumps/{name}", "format": fmt.name,
                     "media_type": fmt.media_type, "inferred": inferred, "named_graphs": fmt.quads,
                     "bytes": size, "sha256": digest})
    return rows


@blueprint.get("/dumps/")
def listing() -> Response:
    rows = _listing()
    if not wants_html():
        return vary_accept(jsonify({"dumps": rows, "void": "/.well-known/void"}))
    return vary_accept(Response(render_template("ld/dumps.html", rows=rows), mimetype="text/html"))


@blueprint.get("/dumps/<name>")
def dump(name: str) -> Response:
    if name not in _DUMPS:
        return error_response(404, f"no dump named {name!r}: see /dumps/ for the list")
    fmt, inferred = _DUMPS[name]
    data = publishing().dump(fmt, inferred)
    response = rdf_response(data, fmt)
    response.set_etag(hashlib.sha256(data).hexdigest())
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response.make_conditional(request)


@blueprint.get("/.well-known/void")
@blueprint.get("/.well-known/void.<suffix>")
def void(suffix: str | None = None) -> Response:
    kg = state().kg
    if suffix is not None:
        _, choice = split_suffix("void." + suffix)
        if choice is None:
            return error_response(404, f"no description /.well-known/void.{suffix}")
    else:
        choice = negotiate(html_first=False)
        if choice is None:
            return vary_accept(error_response(406, "ask for an RDF media type or text/html"))
    if choice == HTML:
        turtle = publishing().void_document(_fmt("turtle")).decode("utf-8")
        body = render_template("ld/void.html", turtle=turtle, rows=_listing(),
                               dataset=str(dataset_iri(kg)),
                               alternates=alternates("/.well-known/void"))
        response = Response(body, mimetype="text/html")
    else:
        assert isinstance(choice, RdfFormat)
        response = rdf_response(publishing().void_document(choice), choice)
    response.headers["Link"] = link_header("/.well-known/void")
    if suffix is None:
        response.headers["Content-Location"] = f"/.well-known/void.{suffix_of(choice)}"
    return vary_accept(response)


def _fmt(name: str) -> RdfFormat:
    return next(f for f in RDF_FORMATS if f.name == name)


@blueprint.get("/context.jsonld")
def context() -> Response:
    body = json.dumps({"@context": publishing().context}, indent=2, ensure_ascii=False)
    response = Response(body + "\n", mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
