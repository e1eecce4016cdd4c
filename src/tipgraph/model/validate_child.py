"""Validation in a child process, so that a server's request threads keep its interpreter.

pyshacl is pure Python: validating the bundled data is about ten seconds of CPU, and in the
server's process it would hold the interpreter lock against every request thread for as long.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tipgraph.errors import TipgraphError
from tipgraph.model.build import build

log = logging.getLogger(__name__)


def validate_elsewhere(settings: Mapping[str, Any]) -> tuple[str, Any]:
    """Build and validate in a child process: ("ok", (version, report)) or ("refused", why).

    The child builds from the same settings (reusing the inference cache the server's build
    has written); callers compare the version it reports with their own. Not at a lower
    priority: on a busy machine a niced child starved, and a reload took many minutes."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as executor:
            return executor.submit(_build_and_validate, dict(settings)).result()
    except BrokenProcessPool:
        return "refused", "the validating process died (out of memory?); nothing changed"


def _build_and_validate(settings: dict[str, Any]) -> tuple[str, Any]:
    from tipgraph.model.validate import validate

    try:
        kg = build(settings)
    except TipgraphError as error:
        return "refused", f"the files do not load: {error}"
    try:
        return "ok", (kg.version, validate(kg))
    except TipgraphError as error:
        return "refused", f"the shapes cannot be used: {error}"
    except Exception as error:
        log.exception("reload: validation failed unexpectedly")
        return "refused", f"validation failed: {type(error).__name__}: {error}"
