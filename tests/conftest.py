"""Shared fixtures: the expensive knowledge graph once per session, cheap things per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipgraph.config import load_config
from tipgraph.model.build import KnowledgeGraph, build

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    cache = tmp_path_factory.mktemp("cache")
    return load_config({"root": REPO, "cache_dir": cache}, environ={})


@pytest.fixture(scope="session")
def kg(config: dict) -> KnowledgeGraph:
    return build(config)


# --- real SPARQL servers (tests/servers.py), started once per session when a test needs one ---


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory):
    from tests.servers import OxigraphServer

    with OxigraphServer(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory):
    from tests.servers import VirtuosoServer

    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server
