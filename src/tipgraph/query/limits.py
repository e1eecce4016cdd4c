"""The limits every query runs under, from the settings (documented with their defaults there).

- ``query_timeout``: seconds a query may run; past it the worker is killed (504).
- ``max_result_rows``: most rows or triples a result may have (400 past it: add a LIMIT).
- ``max_request_bytes``: largest query string or request body (413 past it).
- ``query_workers`` .. ``query_workers_max``: worker processes; the pool grows with demand up
  to the maximum (queries answered at the same time); more wait for a free worker (503 if none
  frees up within the time limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tipgraph.errors import QueryError


@dataclass(frozen=True)
class Limits:
    timeout: float = 30.0
    max_rows: int = 100_000
    max_request_bytes: int = 1_000_000
    workers: int = 2
    max_workers: int = 12

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Limits:
        return cls(float(settings["query_timeout"]), int(settings["max_result_rows"]),
                   int(settings["max_request_bytes"]), int(settings["query_workers"]),
                   int(settings.get("query_workers_max", settings["query_workers"])))

    def check_size(self, size: int) -> None:
        if size > self.max_request_bytes:
            raise QueryError(f"the request is {size} bytes, more than the max_request_bytes "
                             f"limit ({self.max_request_bytes})", status=413)
