"""/health: for monitoring. Says the version, what graph is loaded and how the workers are."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, jsonify

from tipgraph import __version__
from tipgraph.web.app import EXTENSION, state

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health():
    """200 when queries can be answered; 503 (status "starting") until a query worker is up."""
    kg = state().kg
    query = state().queries.status()
    answers = current_app.extensions.get("tipgraph.answers")
    if answers is not None:
        query["answer_cache"] = answers.status()
    lane = current_app.extensions.get("tipgraph.fastlane")
    if lane is not None:
        query["fast_lane_answers"] = lane.answered
    workers = query["workers"]
    ready = workers is None or workers["ready"] > 0
    response = jsonify({"status": "ok" if ready else "starting", "version": __version__,
                        "data_version": kg.version[:16], "triples": kg.triples,
                        "query": query, "reload": _reload_status(),
                        "process": {"pid": os.getpid(), "of": _server_processes()}})
    response.status_code = 200 if ready else 503
    return response


def _reload_status() -> dict | None:
    """Reloads done and refused, and the last one's outcome (None when reloading is off)."""
    app_state = current_app.extensions[EXTENSION]
    reloader = getattr(app_state, "reloader", None)
    if reloader is None:
        return None
    return {"generations": app_state.generations, **reloader.status.to_json()}


def _server_processes() -> int:
    """How many server processes share the port (tipgraph.web.supervisor); 1 without one."""
    return int(current_app.extensions[EXTENSION].settings.get("server_processes", 1))
