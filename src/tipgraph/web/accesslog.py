"""The access log: one structured line (JSON) per request, from Flask or from the answer cache."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from tipgraph import __version__

access_log = logging.getLogger("tipgraph.access")


def enabled() -> bool:
    """False when INFO is off (benchmarks, quiet mode): then no line is even built."""
    return access_log.isEnabledFor(logging.INFO)


def log_access(environ: Mapping[str, Any], status: int, started: float | None,
               query_ms: float | str | None, result_size: int | str | None,
               sent: int | None) -> None:
    """What was asked, how it went, how long it took and how much it sent."""
    if not enabled():
        return
    access_log.info(json.dumps({
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "query_ms": round(float(query_ms), 1) if query_ms not in (None, "") else None,
        "result_size": int(result_size) if result_size not in (None, "") else None,
        "bytes": sent,
        "client": environ.get("REMOTE_ADDR"),
        "version": __version__,
    }))
