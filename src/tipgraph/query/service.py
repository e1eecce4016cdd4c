"""The one way a query is answered: policy, then a store (in a worker process), then a format.

``QueryService`` is what the web app and the benchmarks hold. With ``query_workers = 0`` it
answers in the calling thread on an in-process store (for embedding and quick tests; the time
limit cannot be enforced then). A bounded result cache (tipgraph.query.cache), keyed on the data
version among the rest, answers repeated queries without a worker.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rdflib import URIRef

from tipgraph.model.build import KnowledgeGraph
from tipgraph.query.cache import CacheKey, ResultCache
from tipgraph.query.limits import Limits
from tipgraph.query.policy import CheckedQuery, check_query
from tipgraph.query.workers import Job, Outcome, WorkerPool, answer
from tipgraph.store import Store, StoreSpec, check_backend, open_store


def local_graph_names(kg: KnowledgeGraph) -> frozenset[str]:
    """The non-empty named graphs (one triple of each is read: through oxrdflib ``len`` counts
    them all, ten minutes at a million triples and thousands of graphs)."""
    return frozenset(str(g.identifier) for g in kg.dataset.graphs()
                     if isinstance(g.identifier, URIRef)
                     and not str(g.identifier).startswith("urn:x-rdflib:")
                     and next(iter(g), None) is not None)


class QueryService:
    def __init__(self, kg: KnowledgeGraph, settings: Mapping[str, Any]) -> None:
        self.kg = kg
        self.settings = settings
        self.backend = check_backend(settings["store"])
        self.limits = Limits.from_settings(settings)
        self.local_graphs = local_graph_names(kg)
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._pool: WorkerPool | None = None
        self._folder: str | None = None
        self.cache = ResultCache(int(settings.get("result_cache_bytes", 0) or 0))

    @property
    def store(self) -> Store:
        """An in-process store (built on first use), for internal queries and query_workers=0."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.kg, self.backend, self.settings)
            return self._store

    @property
    def pool(self) -> WorkerPool | None:
        """The worker processes; none for a remote store (the store runs the query, under
        the time limit as the request's timeout; workers could not reach it: no network)."""
        if self.limits.workers <= 0 or self.backend == "sparql":
            return None
        with self._lock:
            if self._pool is None:
                self._folder = tempfile.mkdtemp(prefix="tipgraph-store-")
                cache = self.settings.get("cache_dir") if self.settings.get("use_cache") else None
                spec = StoreSpec.dump(self.kg, self.backend, Path(self._folder), cache,
                                      int(self.settings.get("memory_store_max_triples", 0) or 0))
                # memory workers each parse their own copy of the data (seconds, and its
                # size in RAM): that pool does not grow; oxigraph workers share one on disk
                grows = self.backend == "oxigraph"
                most = self.limits.max_workers if grows else self.limits.workers
                self._pool = WorkerPool(spec, self.limits.workers, self.limits.timeout, most)
            return self._pool

    def start(self) -> QueryService:
        """Start the workers now rather than on the first query."""
        if self.pool is not None:
            self.pool.start()
        elif self.backend == "sparql":
            _ = self.store  # connect (and push the data) before the first request
        return self

    def check(self, sparql: str, default_graph_uris: Sequence[str] = (),
              named_graph_uris: Sequence[str] = (), base: str | None = None) -> CheckedQuery:
        self.limits.check_size(len(sparql.encode("utf-8")))
        return check_query(sparql, self.local_graphs, default_graph_uris, named_graph_uris, base)

    def key(self, checked: CheckedQuery, fmt: str, base: str | None = None) -> CacheKey:
        """What an answer depends on; its ``etag()`` is the HTTP entity tag of the answer."""
        return CacheKey.of(self.kg.version, checked.sparql, checked.dataset, base, fmt,
                           self.limits.max_rows)

    def run(self, checked: CheckedQuery, fmt: str, base: str | None = None,
            key: CacheKey | None = None) -> Outcome:
        """The answer, from the result cache when the same query was answered on this data
        version; else from a worker (or in-process), then kept in the cache. ``key`` is
        ``self.key(checked, fmt, base)`` when the caller has made it already (for the ETag)."""
        if key is None:
            key = self.key(checked, fmt, base)
        found = self.cache.get(key)
        if found is not None:
            return replace(found, cached=True)
        job = Job(checked.sparql, fmt, checked.dataset, base, self.limits.max_rows)
        pool = self.pool
        outcome = pool.run(job) if pool is not None else answer(self.store, job)
        self.cache.put(key, outcome, len(outcome.body))
        return outcome

    def status(self) -> dict[str, Any]:
        workers = self._pool.status() if self._pool is not None else None
        found = {"store": self.backend, "workers": workers, "result_cache": self.cache.status(),
                 "query_timeout": self.limits.timeout, "max_result_rows": self.limits.max_rows}
        if self.backend == "sparql":
            found["endpoint"] = self.settings.get("endpoint")
            found["connected"] = self._store is not None
        return found

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            if self._store is not None:
                self._store.close()
                self._store = None
            if self._folder:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None
