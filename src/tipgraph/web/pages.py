"""Linked-data pages: every IRI of the data dereferences here; so do the ontology's terms.

The data base IRI is mapped to this server: ``<BASE>ecowas`` is answered at ``/id/ecowas``.

Content negotiation follows the W3C note "Cool URIs for the Semantic Web":
- a data IRI names a thing (an organisation, a treaty), not a document, so ``/id/ecowas``
  answers **303 See Other** to the document that describes it in the format the client
  prefers: ``/id/ecowas.html`` for browsers, ``/id/ecowas.ttl`` (Turtle), ``.jsonld``, ``.nt``,
  ``.rdf`` (RDF/XML), ``.trig`` and ``.nq`` (with the page graph of each fact) for machines;
- those documents answer 200 directly; each carries ``Link: rel="alternate"`` to the others;
- the ontology uses hash IRIs (``tip:Mechanism`` is ``/ontology#Mechanism``), so ``/ontology``
  is answered directly (200, ``Vary: Accept``) with HTML documentation or the ontology in RDF.

Unknown IRIs get 404 in the one JSON error shape; paths are checked against a strict pattern
and never touch the file system.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from rdflib import URIRef

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import GRAPH_ONTOLOGY, ONTOLOGY_IRI, TIP
from tipgraph.model.validate import short
from tipgraph.publish import browse
from tipgraph.publish.canonical import canonical_quads
from tipgraph.publish.describe import LabelIndex, describe, entity_view, href_for, is_known
from tipgraph.publish.export import namespaces, serialize_quads
from tipgraph.publish.formats import RdfFormat
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
from tipgraph.web.neighbourhood import layout
from tipgraph.web.publishing import publishing

blueprint = Blueprint("pages", __name__)

# Slugs are lower-case words and hyphens; accept a little more (dots for suffixes, upper case
# for external data), never "..", empty segments, or anything that needs percent-encoding.
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_~-]+(?:[./][A-Za-z0-9_~-]+)*$")
MAX_PATH = 300
INDEX_LIMIT = 500


def _not_found(iri: str) -> Response:
    return error_response(404, f"no resource <{iri}> in this dataset: see /id/ for what it holds")


def _not_acceptable() -> Response:
    return error_response(406, "no representation matches the Accept header: ask for text/html, "
                          "text/turtle, application/ld+json, application/n-triples, "
                          "application/rdf+xml, application/trig or application/n-quads")


@blueprint.get("/id/<path:path>")
def resource(path: str) -> Response:
    base = state().kg.config["base_iri"]
    if len(path) > MAX_PATH or not _SAFE_PATH.match(path):
        return _not_found(base + path)
    stem, choice = split_suffix(path)
    if stem == "dataset" or stem.startswith("dataset/"):
        target = "/.well-known/void" + (f".{suffix_of(choice)}" if choice else "")
        return vary_accept(redirect(target, code=303))
    iri = URIRef(base + stem)
    kg, labels = _source(iri)
    if not is_known(kg, iri):
        return _not_found(str(iri))
    if choice is None:
        choice = negotiate(html_first=True)
        if choice is None:
            return vary_accept(_not_acceptable())
        response = redirect(f"/id/{stem}.{suffix_of(choice)}", code=303)
        response.headers["Link"] = link_header(f"/id/{stem}")
        return vary_accept(response)
    if choice == HTML:
        return _entity_page(iri, stem, kg, labels)
    assert isinstance(choice, RdfFormat)
    data = serialize_quads(describe(kg, iri) if choice.quads else _as_triples(kg, iri), choice,
                           namespaces(kg), publishing().context)
    return rdf_response(data, choice, f"/id/{stem}")


def _as_triples(kg, iri: URIRef):  # type: ignore[no-untyped-def]
    return canonical_quads((s, p, o, None) for s, p, o, _ in describe(kg, iri))


def _source(iri: URIRef) -> tuple[KnowledgeGraph, LabelIndex | None]:
    """Where a resource's page reads from: the knowledge graph, or with a remote store
    (store = sparql) what the store says about the resource, and the labels it gives."""
    service = state().queries
    if service.backend != "sparql":
        return state().kg, None
    excerpt = service.store.excerpt(state().kg, iri)  # type: ignore[attr-defined]
    return excerpt, LabelIndex([excerpt.dataset])


def _entity_page(iri: URIRef, stem: str, kg: KnowledgeGraph,
                 labels: LabelIndex | None = None) -> Response:
    pub = publishing()
    view = entity_view(kg, iri, labels or pub.labels)
    report = pub.findings()
    findings = None if report is None else report.get(short(iri) or "", [])
    body = render_template(
        "ld/entity.html", view=view, findings=findings, path=f"/id/{stem}",
        validation_failed=pub.validation_failed,
        alternates=alternates(f"/id/{stem}"), graph=layout(view.label, view.neighbours),
        short=short, href=lambda n: href_for(n, kg.config["base_iri"]))
    response = Response(body, mimetype="text/html")
    response.headers["Link"] = link_header(f"/id/{stem}")
    return response


@blueprint.get("/id/")
def index() -> Response:
    """Browse the data: classes with counts, search by label, list the members of a class."""
    kg = state().kg
    pub = publishing()
    label_of = pub.labels
    base = kg.config["base_iri"]
    query = (request.args.get("q") or "").strip()
    class_arg = (request.args.get("class") or "").strip()
    cls = _expand(class_arg) if class_arg else None
    if class_arg and cls is None:
        return error_response(400, f"unknown class {class_arg!r}: use a prefixed name such as "
                              "tip:Mechanism or a full IRI")
    classes = sorted(((c, n) for c, n in pub.class_counts.items() if isinstance(c, URIRef)),
                     key=lambda cn: (not str(cn[0]).startswith(str(TIP)), label_of(cn[0]).lower()))
    found = [] if cls is not None and cls not in pub.class_counts else browse.find(
        kg, label_of, cls, query, lambda: pub.resources)  # a class with no member: none found
    results = [{"iri": str(f.iri), "label": f.label, "types": list(f.types),
                "href": href_for(f.iri, base)} for f in found]
    truncated = len(results) > INDEX_LIMIT
    results = results[:INDEX_LIMIT]
    if not wants_html():
        return vary_accept(jsonify({
            "query": query, "class": str(cls) if cls else None, "results": results,
            "truncated": truncated,
            "classes": [{"iri": str(c), "label": label_of(c), "count": n,
                         "href": f"/id/?class={short(c) or c}"} for c, n in classes]}))
    body = render_template("ld/index.html", query=query, cls=cls, class_arg=class_arg,
                           results=results, truncated=truncated, limit=INDEX_LIMIT,
                           classes=classes, label_of=label_of, short=short)
    return vary_accept(Response(body, mimetype="text/html"))


def _expand(name: str) -> URIRef | None:
    kg = state().kg
    if ":" in name and not name.startswith(("http://", "https://")):
        prefix, local = name.split(":", 1)
        ns = namespaces(kg).get(prefix)
        return URIRef(ns + local) if ns else None
    if name.startswith(("http://", "https://")):
        return URIRef(name)
    return URIRef(str(TIP) + name)


@blueprint.get("/ontology")
@blueprint.get("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The ontology: HTML documentation or RDF, answered directly (hash IRIs)."""
    kg = state().kg
    if suffix is not None:
        _, choice = split_suffix("ontology." + suffix)
        if choice is None:
            return error_response(404, f"no ontology document /ontology.{suffix}: use one of "
                                  + ", ".join(f".{h.rsplit('.', 1)[1]}"
                                              for h, _, _ in alternates("/ontology")))
    else:
        choice = negotiate(html_first=True)
        if choice is None:
            return vary_accept(_not_acceptable())
    if choice == HTML:
        body = render_template("ld/ontology.html", doc=publishing().ontology_doc,
                               alternates=alternates("/ontology"), short=short,
                               href=lambda n: href_for(n, kg.config["base_iri"]),
                               label_of=publishing().labels)
        response = Response(body, mimetype="text/html")
    else:
        assert isinstance(choice, RdfFormat)
        quads = canonical_quads((s, p, o, GRAPH_ONTOLOGY if choice.quads else None)
                                for s, p, o in kg.ontology)
        response = rdf_response(serialize_quads(quads, choice, namespaces(kg),
                                                publishing().context), choice)
    response.headers["Link"] = link_header("/ontology")
    if suffix is None:
        response.headers["Content-Location"] = f"/ontology.{suffix_of(choice)}"
    return vary_accept(response)


__all__ = ["ONTOLOGY_IRI", "blueprint"]
