"""Validation in a child process, so that a server's request threads keep its interpreter.

pyshacl is pure Python: validating the bundled data is about ten seconds of CPU, and in the
server's process it would hold the interpreter lock against every request thread for as long.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Any

from tipgraph.errors import TipgraphError
from tipgraph.model.build import build

log = logging.getLogger(__name__)


def validate_elsewhere(settings: Mapping[str, Any], attempts: int = 2, changed: bool = False
                       ) -> tuple[str, Any]:
    """Build and validate in a child process: ("ok", (version, report)) or ("refused", why).

    The child builds from the same settings (reusing the inference cache the server's build
    has written); callers compare the version it reports with their own. Not at a lower
    priority: on a busy machine a niced child starved, and a reload took many minutes. A child
    that dies (killed, out of memory) is tried again once; then the reason is returned.
    ``changed``: a scoped validation (``validate(kg, changed=True)``)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    death = ""
    for _ in range(attempts):
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(sending, dict(settings), changed), daemon=True,
                                name="tipgraph-validation")
        child.start()
        sending.close()
        try:
            return receiving.recv()
        except EOFError:  # it died before answering
            child.join(10)
            death = f"the validating process died (exit code {child.exitcode})"
            if not threading.main_thread().is_alive():  # the server is stopping: it was us
                break
            log.warning("%s; trying again", death)
        finally:
            receiving.close()
            child.join(10)
    return "refused", f"{death}; nothing changed"


def _child(sending: Connection, settings: dict[str, Any], changed: bool = False) -> None:
    sending.send(_build_and_validate(settings, changed))
    sending.close()


def _build_and_validate(settings: dict[str, Any], changed: bool = False) -> tuple[str, Any]:
    from tipgraph.model.validate import validate

    try:
        kg = build(settings)
    except TipgraphError as error:
        return "refused", f"the files do not load: {error}"
    try:
        return "ok", (kg.version, validate(kg, changed=changed))
    except TipgraphError as error:
        return "refused", f"the shapes cannot be used: {error}"
    except Exception as error:
        log.exception("reload: validation failed unexpectedly")
        return "refused", f"validation failed: {type(error).__name__}: {error}"
