"""A bounded in-memory cache of query answers, in front of the query workers.

Public endpoints see the same queries again and again (the example queries, a page's widget):
an answer found here skips the workers entirely. The key holds everything the answer depends on:
the data version (``kg.version``, a hash of every input and of the rule set), the query text,
the dataset parameters, the base IRI, the output format and the row limit. A reload builds a new
knowledge graph with a new version, so an answer cached for the old data can never match a
request on the new data: the cache cannot serve a stale answer, whether or not anyone clears it.

Entries are evicted least recently used first, by bytes (the serialised bodies), not by count.
Errors are never cached: a timeout may pass when the machine is less busy.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from tipgraph.query.policy import DatasetSpec

ENTRY_OVERHEAD = 200  # bytes counted per entry besides its body (key, bookkeeping)


@dataclass(frozen=True)
class CacheKey:
    version: str
    sparql: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    explicit_dataset: bool
    base: str
    fmt: str
    max_rows: int | None

    @classmethod
    def of(cls, version: str, sparql: str, dataset: DatasetSpec | None, base: str | None,
           fmt: str, max_rows: int | None) -> CacheKey:
        return cls(version, sparql,
                   tuple(dataset.default_graphs) if dataset is not None else (),
                   tuple(dataset.named_graphs) if dataset is not None else (),
                   dataset is not None, base or "", fmt, max_rows)

    def etag(self) -> str:
        """A strong entity tag for the answer this key names (stable across processes)."""
        text = "\x1f".join([self.version, self.sparql, "\x1e".join(self.default_graphs),
                            "\x1e".join(self.named_graphs), str(self.explicit_dataset),
                            self.base, self.fmt, str(self.max_rows)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    @property
    def size(self) -> int:
        return len(self.sparql) + sum(map(len, self.default_graphs + self.named_graphs))


class ResultCache:
    """LRU by bytes; thread-safe. ``max_bytes = 0`` turns it off."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self._entries: OrderedDict[CacheKey, Any] = OrderedDict()
        self._sizes: dict[CacheKey, int] = {}
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: CacheKey) -> Any | None:
        if not self.max_bytes:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: CacheKey, value: Any, body_bytes: int) -> bool:
        """Keep an answer; False when it is larger than a quarter of the cache (not kept)."""
        size = body_bytes + key.size + ENTRY_OVERHEAD
        if not self.max_bytes or size > self.max_bytes // 4:
            return False
        with self._lock:
            if key in self._entries:
                self.bytes -= self._sizes[key]
            self._entries[key] = value
            self._entries.move_to_end(key)
            self._sizes[key] = size
            self.bytes += size
            while self.bytes > self.max_bytes:
                old, _ = self._entries.popitem(last=False)
                self.bytes -= self._sizes.pop(old)
                self.evictions += 1
        return True

    def drop_other_versions(self, version: str) -> int:
        """Free the memory of answers for any other data version (they can never match again)."""
        with self._lock:
            stale = [key for key in self._entries if key.version != version]
            for key in stale:
                del self._entries[key]
                self.bytes -= self._sizes.pop(key)
        return len(stale)

    def __len__(self) -> int:
        return len(self._entries)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self.bytes,
                    "max_bytes": self.max_bytes, "hits": self.hits, "misses": self.misses,
                    "evictions": self.evictions}
