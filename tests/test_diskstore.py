"""The on-disk store of a data version (tipgraph.model.diskstore): a warm start opens it without
parsing and answers as a build in memory does; damaged stores are rebuilt; old ones pruned."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from rdflib import BNode, Graph

from tipgraph.config import load_config
from tipgraph.model import diskstore
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.namespaces import GRAPH_CURATED, ID, TIP
from tipgraph.publish.export import dump_filename
from tipgraph.publish.formats import RDF_FORMATS
from tipgraph.web.app import create_app

QUERY = "PREFIX tip: <https://w3id.org/tipgraph/ontology#>\n" \
    "SELECT ?m (COUNT(?x) AS ?n) WHERE { ?m tip:hasMember ?x } GROUP BY ?m ORDER BY ?m"


def _quads(kg: KnowledgeGraph) -> set[tuple]:
    return {(s, p, o, g) for s, p, o, g in kg.dataset.quads((None, None, None, None))
            if not isinstance(s, BNode) and not isinstance(o, BNode)}


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a warm start must not parse the files")

    monkeypatch.setattr("tipgraph.model.build.load_oxigraph", refuse)
    monkeypatch.setattr("tipgraph.model.build.load", refuse)


@pytest.fixture(scope="module")
def memory(repo_root: Path) -> KnowledgeGraph:
    """The reference: the same fast build, in memory (no cache folder)."""
    return build(load_config({"root": repo_root, "use_cache": False}, environ={}))


@pytest.fixture(scope="module")
def warm_config(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    config = load_config({"root": repo_root, "cache_dir": tmp_path_factory.mktemp("cache")},
                         environ={})
    build(config)  # cold: writes the store
    return config


def test_warm_start_opens_the_store_without_parsing(warm_config: dict, memory: KnowledgeGraph,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _no_parsing(monkeypatch)
    warm = build(warm_config)
    assert warm.store_directory is not None and memory.store_directory is None
    assert warm.store_directory.parent == Path(warm_config["cache_dir"]) / "stores"
    assert warm.version == memory.version
    assert _quads(warm) == _quads(memory)
    assert len(warm.dataset) == len(memory.dataset) and warm.triples == memory.triples
    assert warm.data_graph_names() == memory.data_graph_names()
    assert set(warm.asserted()) == set(memory.asserted())
    assert set(warm.union()) == set(memory.union())
    assert set(warm.graph(GRAPH_CURATED)) == set(memory.graph(GRAPH_CURATED))
    assert len(warm.dataset.default_graph) == len(memory.dataset.default_graph) == 0
    assert sorted(warm.dataset.query(QUERY)) == sorted(memory.dataset.query(QUERY))
    member = next(iter(memory.dataset.subjects(TIP.hasMember)))
    assert (sorted(warm.dataset.triples((member, None, None)))
            == sorted(memory.dataset.triples((member, None, None))))
    assert dict(warm.sources.subject_files) == dict(memory.sources.subject_files)
    assert warm.sources.files == memory.sources.files


def test_warm_start_serves_the_same_pages_queries_and_dumps(warm_config: dict,
                                                            memory: KnowledgeGraph,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    _no_parsing(monkeypatch)
    settings = {**warm_config, "TESTING": True, "query_workers": 0}
    warm = create_app(settings, kg=build(warm_config)).test_client()
    cold = create_app(settings, kg=memory).test_client()
    path = "/id/" + str(ID["african-region"])[len(str(ID)):]
    paths = [f"{path}.ttl", f"{path}.html", "/.well-known/void",
             *(f"/dumps/{dump_filename(f, i)}" for f in RDF_FORMATS[:2] for i in (False, True))]
    for where in paths:
        a, b = warm.get(where), cold.get(where)
        assert a.status_code == b.status_code == 200, where
        if where.endswith(".ttl") or "void" in where:
            assert set(Graph().parse(data=a.data, format="turtle")) == set(
                Graph().parse(data=b.data, format="turtle")), where
        elif where.endswith(".html"):  # the drawing places nodes in the store's order
            assert set(re.findall(rb'href="[^"]*"', a.data)) == set(
                re.findall(rb'href="[^"]*"', b.data))
        else:
            assert a.data == b.data, where
    form = {"query": QUERY}
    accept = {"Accept": "application/sparql-results+json"}
    a, b = warm.post("/sparql", data=form, headers=accept), cold.post(
        "/sparql", data=form, headers=accept)
    assert a.status_code == b.status_code == 200
    assert a.get_json()["results"] == b.get_json()["results"]


def _store_of(config: dict) -> Path:
    kg = build(config)
    assert kg.store_directory is not None
    return kg.store_directory


@pytest.mark.parametrize("damage", ["incomplete", "unreadable"])
def test_a_damaged_store_is_never_opened_but_rebuilt(repo_root: Path, tmp_path: Path,
                                                     memory: KnowledgeGraph,
                                                     damage: str) -> None:
    config = load_config({"root": repo_root, "cache_dir": tmp_path}, environ={})
    directory = diskstore.store_path(tmp_path / "stores", memory.version)
    directory.mkdir(parents=True)
    (directory / "CURRENT").write_text("not a RocksDB store\n")
    if damage == "unreadable":
        (directory / diskstore.MARK).write_text("12")
    kg = build(config)
    assert kg.store_directory == directory
    assert diskstore.size_of(directory) != 12
    assert _quads(kg) == _quads(memory)


def test_older_stores_are_removed_unless_open(repo_root: Path, tmp_path: Path) -> None:
    config = load_config({"root": repo_root, "cache_dir": tmp_path}, environ={})
    home = tmp_path / "stores"
    old, busy, incomplete = (home / f"oxigraph-{name * 32}" for name in "abc")
    for folder in (old, busy):
        folder.mkdir(parents=True)
        (folder / diskstore.MARK).write_text("1")
        os.utime(folder / diskstore.MARK, (1_000_000_000, 1_000_000_000))
    incomplete.mkdir()
    held = diskstore.Lock(busy)  # as a server or a query worker of a running generation does
    try:
        current = _store_of(config)
        assert not old.exists() and busy.is_dir() and incomplete.is_dir()
        assert current.is_dir() and diskstore.size_of(current)
    finally:
        held.release()
    _store_of(config)  # the next start removes it, once nobody has it open
    assert not busy.exists()
    assert sorted(p.name for p in home.iterdir()) == sorted([current.name, incomplete.name])


def test_a_store_left_half_written_is_removed_but_not_one_being_written(
        repo_root: Path, tmp_path: Path) -> None:
    """A start-up killed while writing its store leaves a ``.part-`` folder (and its dump):
    the next prune removes it, unless its writer is still alive (it holds the lock)."""
    config = load_config({"root": repo_root, "cache_dir": tmp_path}, environ={})
    home = tmp_path / "stores"
    home.mkdir()
    dead, alive, lockless = (home / f"oxigraph-{name * 32}.part-x1" for name in "def")
    for work in (dead, alive, lockless):
        work.mkdir()
        (work / "000001.sst").write_bytes(b"half")
    dead.with_name(dead.name + ".nq").write_text("<urn:a> <urn:b> <urn:c> .\n")
    diskstore._writer_lock(dead).close()  # its writer died: the lock file stays, unlocked
    writer = diskstore._writer_lock(alive)
    os.utime(lockless, (1_000_000_000, 1_000_000_000))  # died before taking its lock, long ago
    try:
        current = _store_of(config)
        assert not dead.exists() and not dead.with_name(dead.name + ".nq").exists()
        assert not lockless.exists() and alive.is_dir()
        assert sorted(p.name for p in home.iterdir()) == sorted(
            [current.name, alive.name, alive.name + ".lock"])
    finally:
        writer.close()
