"""The oxigraph workers' store: one read-only on-disk copy per data version, shared."""

from __future__ import annotations

from tipgraph.store import StoreSpec, open_store

COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


def test_workers_share_one_store_per_data_version(kg, tmp_path):
    spec = StoreSpec.dump(kg, "oxigraph", tmp_path / "run", tmp_path / "cache")
    assert spec.directory is not None and spec.nquads is None
    assert spec.directory.parent == tmp_path / "cache" / "stores"
    assert kg.version[:32] in spec.directory.name
    marker = spec.directory / "tipgraph-size"
    written = marker.stat().st_mtime_ns
    again = StoreSpec.dump(kg, "oxigraph", tmp_path / "other", tmp_path / "cache")
    assert again == spec and marker.stat().st_mtime_ns == written  # reused, not rewritten
    first, second = spec.open(), again.open()  # two read-only opens at once
    local = open_store(kg, "oxigraph")
    assert first.query(COUNT).rows == second.query(COUNT).rows == local.query(COUNT).rows
    assert len(first) == len(local) == len(kg.dataset)
    assert not list((tmp_path / "cache" / "stores").glob("*.part-*"))  # no leftovers


def test_without_a_cache_folder_the_store_is_temporary(kg, tmp_path):
    spec = StoreSpec.dump(kg, "oxigraph", tmp_path, None)
    assert spec.directory is not None and spec.directory.parent == tmp_path
    assert spec.open().query("ASK { ?s a tip:Mechanism }").boolean
