"""Store backends behind one interface, chosen by the ``store`` setting.

``open_store(kg, backend)`` gives an in-process store over a built knowledge graph;
``StoreSpec`` tells a worker process how to open the same store on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from tipgraph.errors import ConfigError
from tipgraph.model.build import KnowledgeGraph
from tipgraph.store.base import Answer, Store
from tipgraph.store.memory import MemoryStore
from tipgraph.store.oxigraph import OxigraphStore

BACKENDS = ("oxigraph", "memory")


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        hint = " (a remote SPARQL store is not available yet)" if backend == "sparql" else ""
        raise ConfigError(f"unknown store {backend!r}{hint}; use one of {', '.join(BACKENDS)}")
    return backend


def open_store(kg: KnowledgeGraph, backend: str = "oxigraph") -> Store:
    """An in-process store holding the knowledge graph (memory shares an rdflib-held dataset)."""
    if check_backend(backend) == "memory":
        return MemoryStore.from_dataset(kg.dataset)
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


__all__ = ["BACKENDS", "Answer", "MemoryStore", "OxigraphStore", "Store", "StoreSpec",
           "check_backend", "open_store"]
