"""Benchmark the SPARQL endpoint against its own engine, in the same run.

Serves the bundled data with `tipgraph serve` (a subprocess, as deployed: waitress + query
worker processes), then runs the example queries of queries/ with 1 and 8 concurrent clients:

- over HTTP (POST application/sparql-query, JSON results), and
- in-process on the same engine (store.query + the same JSON serialisation, no HTTP, no
  worker), which is the ceiling the endpoint can approach.

Prints requests/s and p50/p99 latency (medians over --runs runs) and the endpoint/engine ratios.

    PYTHONPATH=src python benchmarks/endpoint.py [--store oxigraph|memory] [--rounds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.model.queries import example_queries
from tipgraph.query.policy import check_query
from tipgraph.query.service import local_graph_names
from tipgraph.query.workers import Job, answer
from tipgraph.store import open_store

REPO = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def drive(task: Callable[[str], None], queries: list[str], clients: int, rounds: int) -> dict:
    """Each client runs every query `rounds` times (each client starts at a different query)."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def client(offset: int) -> None:
        mine = []
        for r in range(rounds):
            for i in range(len(queries)):
                query = queries[(i + offset + r) % len(queries)]
                started = time.perf_counter()
                try:
                    task(query)
                except Exception as error:  # counted and reported, the run goes on
                    errors.append(str(error)[:200])
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c * 7,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"rps": len(latencies) / elapsed, "p50": percentile(latencies, 0.5) * 1000,
            "p99": percentile(latencies, 0.99) * 1000, "errors": len(errors),
            "error_sample": errors[:3]}


def http_task(port: int) -> Callable[[str], None]:
    local = threading.local()

    def task(query: str) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        local.conn.request("POST", "/sparql", body=query.encode("utf-8"), headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json"})
        response = local.conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:200]!r}")

    return task


def start_server(store: str, workers: int) -> tuple[subprocess.Popen, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "tipgraph", "serve", "--port", "0", "--store", store,
         "--query-workers", str(workers)], env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"http://[\d.]+:(\d+)/", line)
        if found:
            port = int(found.group(1))
            break
    else:
        raise RuntimeError("the server did not start")
    threading.Thread(target=process.stderr.read, daemon=True).start()  # keep the pipe drained
    while True:  # readiness: /health answers 200 once a query worker is up
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        if conn.getresponse().status == 200:
            return process, port
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="oxigraph", choices=["oxigraph", "memory"])
    parser.add_argument("--workers", type=int, default=2, help="query worker processes")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the queries per client")
    parser.add_argument("--runs", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    settings = load_config({"store": args.store})
    kg = build(settings)
    queries = [q.sparql for q in example_queries(settings["root"])]
    store = open_store(kg, args.store)
    local = local_graph_names(kg)

    def engine_task(query: str) -> None:
        checked = check_query(query, local)
        answer(store, Job(checked.sparql, "json", checked.dataset, None, 100_000))

    process, port = start_server(args.store, args.workers)
    results: dict[str, dict[int, list[dict]]] = {"endpoint": {}, "engine": {}}
    try:
        for clients in (1, 8):
            for _ in range(args.runs):
                results["engine"].setdefault(clients, []).append(
                    drive(engine_task, queries, clients, args.rounds))
                results["endpoint"].setdefault(clients, []).append(
                    drive(http_task(port), queries, clients, args.rounds))
    finally:
        process.terminate()
        process.wait(30)

    def median(kind: str, clients: int, key: str) -> float:
        return statistics.median(r[key] for r in results[kind][clients])

    print(f"tipgraph endpoint benchmark: store={args.store}, {len(queries)} queries from "
          f"queries/, {len(kg.dataset)} triples, {args.workers} query workers, "
          f"{args.rounds} rounds x {args.runs} runs, {os.cpu_count()} CPUs; medians")
    print(f"{'clients':>7} {'mode':>9} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'errors':>7}")
    summary = {}
    for clients in (1, 8):
        for kind in ("engine", "endpoint"):
            row = {k: median(kind, clients, k) for k in ("rps", "p50", "p99", "errors")}
            summary[f"{kind}-{clients}"] = row
            print(f"{clients:>7} {kind:>9} {row['rps']:>9.1f} {row['p50']:>9.2f} "
                  f"{row['p99']:>9.2f} {int(row['errors']):>7}")
        e, n = summary[f"endpoint-{clients}"], summary[f"engine-{clients}"]
        print(f"{clients:>7} {'ratio':>9} {e['rps'] / n['rps']:>9.2f} {e['p50'] / n['p50']:>9.2f} "
              f"{e['p99'] / n['p99']:>9.2f}   (endpoint / engine)")
    samples = [s for kind in results.values() for runs in kind.values() for r in runs
               for s in r["error_sample"]]
    if samples:
        print("error samples:", *samples, sep="\n  ")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
