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
    """An in-process store holding the knowledge graph (memory shares kg's own dataset; sparql
    connects to the remote store and pushes the data there if it does not hold this version)."""
    if check_backend(backend) == "memory":
        return MemoryStore(kg.dataset)
    if backend == "sparql":
        from tipgraph.store.remote import connect

        return connect(kg, settings if settings is not None else kg.config)
    if kg.oxigraph is not None:  # built on the oxigraph path: copy it engine to engine
        return OxigraphStore.from_nquads(kg.oxigraph.dump(format=ox.RdfFormat.N_QUADS))
    return OxigraphStore.from_dataset(kg.dataset)


@dataclass(frozen=True)
class StoreSpec:
    """Picklable: the backend and an N-Quads dump of the dataset, for worker processes."""

    backend: str
    nquads: Path

    @classmethod
    def dump(cls, kg: KnowledgeGraph, backend: str, folder: Path) -> StoreSpec:
        path = kg.write_nquads(Path(folder) / f"dataset-{kg.version[:16]}.nq")
        return cls(check_backend(backend), path)

    def open(self) -> Store:
        if self.backend == "memory":
            return MemoryStore.from_nquads(str(self.nquads))
        return OxigraphStore.from_nquads(str(self.nquads), path=True)


__all__ = ["BACKENDS", "STORES", "Answer", "MemoryStore", "OxigraphStore", "Store", "StoreSpec",
           "check_backend", "open_store"]
