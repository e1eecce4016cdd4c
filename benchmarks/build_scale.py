"""Build cost at scale: cold (no cache) and warm (cached inferences), both build paths.

    python benchmarks/build_scale.py DATA_FILE [--paths fast,rdflib]

Runs each build in a fresh process, prints wall and CPU seconds, peak RSS and sizes as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one(data: str, fast: bool, cache: str) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.config import load_config
    from tipgraph.model.build import build

    config = load_config({"root": REPO, "cache_dir": cache, "fast_build": fast}, environ={})
    wall, cpu = time.perf_counter(), time.process_time()
    kg = build(config, [REPO / "data" / "concept-schemes.ttl", data])
    return {"wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "inferred": len(kg.inferred)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--paths", default="fast,rdflib")
    parser.add_argument("--child", choices=["fast", "rdflib"])
    parser.add_argument("--cache")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one(args.data, args.child == "fast", args.cache)))
        return
    for path in args.paths.split(","):
        with tempfile.TemporaryDirectory() as cache:
            for phase in ("cold", "warm"):
                out = subprocess.run([sys.executable, __file__, args.data, "--child", path,
                                      "--cache", cache], capture_output=True, text=True,
                                     check=True).stdout
                print(json.dumps({"data": Path(args.data).name, "path": path, "phase": phase,
                                  **json.loads(out)}), flush=True)


if __name__ == "__main__":
    main()
