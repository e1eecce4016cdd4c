"""The graph explorer: /graph (the page), /graph.json (its data) and /graph.<format> exports.

Every route takes the same filters as query parameters (see ``GraphFilter.from_params``):
region, kind (or kind group), relation, theme, year, instruments, focus, depth, group.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

from flask import Blueprint, Response, abort, jsonify, render_template, request

from tipgraph.errors import LimitExceeded
from tipgraph.publish.formats import GRAPH_FORMATS, graph_format
from tipgraph.publish.graphexport import export
from tipgraph.publish.graphviews import GraphFilter, default_filter, view
from tipgraph.web.app import state

blueprint = Blueprint("graph", __name__)


def _current_view():
    service = state().queries  # a remote store answers the view's queries itself
    source = service.store.graph_source() if service.backend == "sparql" else None
    return view(state().kg, GraphFilter.from_params(request.args), source)


def _conditional(response: Response) -> Response:
    """Cache by data version and query: browsers revalidate, and get 304 when nothing changed."""
    params = hashlib.sha256(request.query_string).hexdigest()[:16]  # hash() differs by process
    response.set_etag(f"{state().kg.version[:20]}-{params}")
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


# Pictures are laid out by Graphviz in a subprocess: up to GRAPHVIZ_TIMEOUT seconds of a CPU
# each. One at a time per server (others get 503 at once, not a queue of CPU hogs), and each
# kept once drawn, by data version and filters.
_DRAWING = threading.BoundedSemaphore(1)
_PICTURES: OrderedDict[tuple[str, str, bytes], bytes] = OrderedDict()
_PICTURES_KEPT = 16


def _picture(fmt) -> bytes:  # type: ignore[no-untyped-def]
    key = (state().kg.version, fmt.name, request.query_string)
    if key in _PICTURES:
        return _PICTURES[key]
    if not _DRAWING.acquire(blocking=False):
        raise LimitExceeded("another picture of the graph is being drawn: try again in a "
                            "minute, or download /graph.dot and draw it locally", status=503,
                            retry_after=30)
    try:
        body = export(_current_view(), fmt, title="tipgraph: organisation relationship graph")
    finally:
        _DRAWING.release()
    _PICTURES[key] = body
    while len(_PICTURES) > _PICTURES_KEPT:
        _PICTURES.popitem(last=False)
    return body


@blueprint.get("/graph")
def page() -> str:
    defaults = default_filter().to_params()
    exports = [{"name": f.name, "suffix": f.suffix} for f in GRAPH_FORMATS]
    return render_template("graph.html", defaults=json.dumps(defaults),
                           exports=json.dumps(exports))


@blueprint.get("/graph.json")
def elements() -> Response:
    graph_view = _current_view()
    return _conditional(jsonify(graph_view.to_cytoscape(index=request.args.get("index") == "1")))


@blueprint.get("/graph.<suffix>")
def download(suffix: str) -> Response:
    fmt = graph_format(suffix)
    if fmt is None or fmt.suffix != suffix:
        abort(404, description=f"no graph export /graph.{suffix}; use one of "
                               + ", ".join(f"/graph.{f.suffix}" for f in GRAPH_FORMATS)
                               + " or /graph.json")
    if fmt.name in {"svg", "png"}:
        body = _picture(fmt)
    else:
        body = export(_current_view(), fmt, title="tipgraph: organisation relationship graph")
    response = Response(body, mimetype=fmt.media_type)
    if fmt.name not in {"svg", "png"}:
        response.headers["Content-Disposition"] = f'attachment; filename="tipgraph.{fmt.suffix}"'
    return _conditional(response)
