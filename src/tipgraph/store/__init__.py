"""Store backends behind one interface, chosen by the ``store`` setting.

``open_store(kg, backend)`` gives an in-process store over a built knowledge graph;
``StoreSpec`` tells a worker process how to open the same store on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from tipgraph.errors import ConfigError
from tipgraph.model import diskstore
from tipgraph.model.build import KnowledgeGraph
from tipgraph.store.base import Answer, Store
from tipgraph.store.memory import MemoryStore
from tipgraph.store.oxigraph import OxigraphStore

BACKENDS = ("oxigraph", "memory")  # embedded: they hold the data in this machine
STORES = (*BACKENDS, "sparql")      # and a remote SPARQL 1.1 store (tipgraph.store.remote)


def check_backend(backend: str) -> str:
    if backend not in STORES:
        raise ConfigError(f"unknown store {backend!r}; use one of {', '.join(STORES)}")
    return backend


def open_store(kg: KnowledgeGraph, backend: str = "oxigraph",
               settings: Mapping[str, Any] | None = None) -> Store:
    """An in-process store holding the knowledge graph (memory shares an rdflib-held dataset;
    sparql connects to the remote store and pushes the data there if it does not hold this
    version)."""
    if check_backend(backend) == "memory":
        return MemoryStore.from_dataset(kg.dataset)
    if backend == "sparql":
        from tipgraph.store.remote import connect

        return connect(kg, settings if settings is not None else kg.config)
    if kg.store_directory is not None:  # read-only on disk, the union already in place
        return OxigraphStore(kg.oxigraph, size=diskstore.size_of(kg.store_directory))
    if kg.oxigraph is not None:  # built on the oxigraph path: copy it engine to engine
        return OxigraphStore.from_nquads(kg.oxigraph.dump(format=ox.RdfFormat.N_QUADS))
    return OxigraphStore.from_dataset(kg.dataset)


@dataclass(frozen=True)
class StoreSpec:
    """Picklable: how a worker process opens the store.

    oxigraph: an on-disk (RocksDB) store of the dataset, written once per data version and
    opened read-only by every worker. The workers share it through the OS page cache instead of
    each loading its own copy into memory (at a million triples that copy was about 1 GB per
    worker), and a restart on the same data version opens it at once. It lives in
    ``cache_dir/stores/`` when there is a cache folder (else in the service's temp folder).
    With ``in_memory``, one process copies that store into memory and the workers are forked
    from it, starting with the copy (tipgraph.query.holder).
    memory: an N-Quads dump that each worker parses (rdflib has no shared store)."""

    backend: str
    nquads: Path | None = None
    directory: Path | None = None
    size: int = 0
    in_memory: bool = False

    @classmethod
    def dump(cls, kg: KnowledgeGraph, backend: str, folder: Path,
             cache_dir: Path | None = None, in_memory_max_triples: int = 0) -> StoreSpec:
        """``in_memory_max_triples``: the largest dataset (distinct triples) whose workers
        answer from an in-memory copy of its store (0: never)."""
        if check_backend(backend) == "oxigraph":
            home = Path(cache_dir) / "stores" if cache_dir else Path(folder)
            directory, size = OxigraphStore.persist(kg, home / f"oxigraph-{kg.version[:32]}")
            return cls(backend, directory=directory, size=size,
                       in_memory=0 < size <= in_memory_max_triples)
        path = kg.write_nquads(Path(folder) / f"dataset-{kg.version[:16]}.nq")
        return cls(backend, path)

    def open(self) -> Store:
        if self.backend == "memory":
            return MemoryStore.from_nquads(str(self.nquads))
        if self.directory is not None:
            opened = diskstore.open_read_only(self.directory)  # locked: never pruned while open
            if opened is None:
                raise OSError(f"the store {self.directory} cannot be opened")
            return OxigraphStore(opened[0], size=self.size, lock=opened[1])
        return OxigraphStore.from_nquads(str(self.nquads), path=True)

    def open_in_memory(self) -> Store:
        """An in-memory copy of the on-disk store (copied quad by quad: it has the union
        already), for the process the workers are forked from."""
        if self.directory is None:
            return self.open()
        opened = diskstore.open_read_only(self.directory)
        if opened is None:
            raise OSError(f"the store {self.directory} cannot be opened")
        disk, lock = opened
        try:
            memory = ox.Store()
            memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
        finally:
            del disk
            lock.release()
        return OxigraphStore(memory, size=self.size)


__all__ = ["BACKENDS", "STORES", "Answer", "MemoryStore", "OxigraphStore", "Store", "StoreSpec",
           "check_backend", "open_store"]
