"""One request to /.well-known/void in a fresh process: wall and CPU seconds, peak RSS.

    TIPGRAPH_ROOT=<root> TIPGRAPH_CACHE_DIR=<cache> PYTHONPATH=src \
        nice -n 19 python benchmarks/void_request.py LABEL

Builds the graph from the settings (warm when the cache folder has its store), creates the app
and asks for the dataset description as Turtle, as a harvester's first request would.
"""

from __future__ import annotations

import resource
import sys
import time

from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.web.app import create_app


def main(label: str) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    config = load_config()
    client = create_app({**config, "TESTING": True}, kg=build(config)).test_client()
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    print(label, "status", response.status_code, "bytes", len(response.data),
          "wall", round(time.perf_counter() - started, 1),
          "cpu", round(time.process_time() - cpu, 1),
          "maxrss_MiB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "void")
