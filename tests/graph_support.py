"""The small graph the graph-view tests run on (tests/fixtures/graph), built once per session."""

from __future__ import annotations

import functools
from pathlib import Path

from tipgraph.config import load_config
from tipgraph.model.build import KnowledgeGraph, build

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "graph"
# The concept schemes and regions give labels to the fixture's thematic areas and regions.
FIXTURE_PATHS = (REPO / "data" / "concept-schemes.ttl", REPO / "data" / "regions.trig", FIXTURE)


@functools.cache
def fixture_kg() -> KnowledgeGraph:
    config = load_config({"root": REPO, "use_cache": False}, environ={})
    return build(config, data_paths=FIXTURE_PATHS)


def build_with(*extra: Path) -> KnowledgeGraph:
    config = load_config({"root": REPO, "use_cache": False}, environ={})
    return build(config, data_paths=[*FIXTURE_PATHS, *extra])
