"""Figures derived from one data version (the dataset description's counts, the dumps'
checksums), kept as JSON in the cache folder so that a restart does not compute them again.

A file is named after the data version, the base IRI and whatever else its figures depend on;
it is written atomically. A missing or damaged file reads as None (computed again, never
trusted), and a cache folder that cannot be written only costs time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tipgraph.errors import ExportError
from tipgraph.model.build import KnowledgeGraph
from tipgraph.publish.export import write_atomically

log = logging.getLogger(__name__)

T = TypeVar("T")


def derived_file(kg: KnowledgeGraph, kind: str, *depends_on: object) -> Path | None:
    """Where ``kind`` figures of this build are kept; None without a cache folder."""
    config = kg.config
    if not config.get("use_cache") or not config.get("cache_dir"):
        return None
    key = "|".join(str(part) for part in (kg.version, config["base_iri"], *depends_on))
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return Path(config["cache_dir"]) / f"{kind}-{digest}.json"


def read_derived(path: Path | None, decode: Callable[[Any], T]) -> T | None:
    """``decode`` of the JSON kept at ``path``; None when there is none or it is damaged."""
    if path is None or not path.is_file():
        return None
    try:
        return decode(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        log.warning("ignoring unreadable %s", path)
        return None


def write_derived(path: Path | None, value: Any) -> None:
    """Keep ``value`` (JSON) at ``path``, atomically; a warning if the folder refuses it."""
    if path is None:
        return
    try:
        write_atomically(path, json.dumps(value, indent=1).encode("utf-8"))
    except ExportError as error:
        log.warning("could not keep %s: %s", path.name, error)
