"""/health: for monitoring. Says the version, what graph is loaded and how the workers are."""

from __future__ import annotations

from flask import Blueprint, jsonify

from tipgraph import __version__
from tipgraph.web.app import state

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health():
    kg = state().kg
    return jsonify({"status": "ok", "version": __version__, "data_version": kg.version[:16],
                    "triples": len(kg.dataset), "query": state().queries.status()})
