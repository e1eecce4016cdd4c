"""The build snapshot (what `tipgraph serve` starts from) gives the same graph as a fresh build."""

from __future__ import annotations

import pytest
from rdflib.compare import isomorphic

from tests.conftest import REPO
from tipgraph.config import load_config
from tipgraph.model.build import _snapshot_files, build


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    config = load_config({"root": REPO, "cache_dir": tmp_path_factory.mktemp("cache")},
                         environ={})
    return config, build(config)


def test_snapshot_equals_fresh_build(built):
    config, fresh = built
    files = _snapshot_files(config, fresh.sources.digest)
    assert files and all(f.is_file() for f in files)
    again = build(config)
    assert again.dataset is not fresh.dataset and again.version == fresh.version
    names = sorted(g.identifier for g in fresh.dataset.graphs() if len(g))
    assert names == sorted(g.identifier for g in again.dataset.graphs() if len(g))
    for name in names:
        assert isomorphic(fresh.graph(name), again.graph(name)), name
    assert again.sources.subject_files == fresh.sources.subject_files
    assert again.sources.curated_files == fresh.sources.curated_files


def test_damaged_snapshot_is_rebuilt(built):
    config, fresh = built
    nquads, _ = _snapshot_files(config, fresh.sources.digest)
    nquads.write_text("<broken", encoding="utf-8")
    assert len(build(config).dataset) == len(fresh.dataset)
