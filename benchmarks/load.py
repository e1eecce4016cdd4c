"""Load: a mixed workload from concurrent clients, and an ASK while runaway queries run.

Serves the bundled data with `tipgraph serve` (a subprocess, as deployed), then:

1. **Mixed workload**: ``--clients`` clients (threads, one keep-alive connection each) send
   ``--requests`` requests in all, drawn (seeded) from: the example queries of queries/, entity
   pages (HTML and Turtle), /graph.json with filters, dumps (half of them revalidated with
   If-None-Match), the dataset description, /health, and requests that must fail (a malformed
   query: 400, an unknown IRI: 404, an unacceptable format: 406, an update: 403). An *error* is
   an answer other than the one expected, or no answer at all; the goal is zero.
2. **Runaways**: ``--runaways`` queries that can only end at the time limit are sent at once;
   meanwhile one client sends ``--asks`` simple ASK queries one after the other. Reports the
   ASK latencies (p50, p99, max), how many were answered 200, and what the runaways got.

Prints JSON and writes it (``--json FILE``). Run once with the defaults (2 workers growing to
12 on demand) and once with ``--workers-max 2`` (a fixed pool) to see what the growth buys:

    PYTHONPATH=src python benchmarks/load.py [--requests 10000] [--clients 8] [--runaways 8]
        [--workers 2] [--workers-max 12] [--query-timeout 30] [--json results/load.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from tipgraph.model.queries import example_queries

REPO = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK { ?s a owl:Class }"
JSON = "application/sparql-results+json"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def serve(args: argparse.Namespace) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_LOG_LEVEL="WARNING",
               TIPGRAPH_QUERY_WORKERS_MAX=str(args.workers_max))
    command = [sys.executable, "-m", "tipgraph", "serve", "--port", "0",
               "--query-workers", str(args.workers), "--query-timeout", str(args.query_timeout)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        found = re.search(r"serving on (http://127\.0\.0\.1:\d+)/", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            base = found.group(1)
            break
    else:
        raise SystemExit("the server did not start")
    deadline = time.monotonic() + 300
    while True:  # readiness: the dataset description answers once every dump is computed
        try:
            connection = http.client.HTTPConnection(*hostport(base), timeout=600)
            status, _, _ = request(connection, "/.well-known/void")
            _, _, body = request(connection, "/health")
            workers = json.loads(body)["query"]["workers"]
            if status == 200 and workers["ready"] == workers["size"]:  # every worker is up
                return process, base
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not become ready")
        time.sleep(0.2)


def hostport(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def request(connection: http.client.HTTPConnection, path: str, headers: dict | None = None,
            ) -> tuple[int, dict, bytes]:
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def workload(seed: int, count: int) -> list[tuple[str, str, dict, set[int]]]:
    """(kind, path, headers, expected statuses), drawn with fixed weights."""
    rng = random.Random(seed)
    queries = [q.sparql for q in example_queries(REPO)]
    slugs = ["ecowas", "african-union", "asean", "coe-convention", "greta", "iom", "unodc",
             "comp-act", "bali-process", "osce", "gcc", "sadc", "oas", "european-union"]
    graph_filters = ["", "?region=african-region", "?kind=mechanisms", "?instruments=1",
                     "?year=2005", "?focus=ecowas&depth=2", "?relation=supportedBy"]
    dumps = ["tipgraph.ttl", "tipgraph.nq", "tipgraph-inferred.jsonld", "tipgraph.rdf"]
    choices = [
        (30, lambda: ("query", "/sparql?" + urlencode({"query": rng.choice(queries)}),
                      {"Accept": JSON}, {200})),
        (20, lambda: ("page", f"/id/{rng.choice(slugs)}.html", {}, {200})),
        (10, lambda: ("page", f"/id/{rng.choice(slugs)}.ttl", {}, {200})),
        (5, lambda: ("page", f"/id/{rng.choice(slugs)}", {"Accept": "text/html"}, {303})),
        (12, lambda: ("graph", "/graph.json" + rng.choice(graph_filters), {}, {200})),
        (6, lambda: ("dump", "/dumps/" + rng.choice(dumps), {}, {200})),
        (3, lambda: ("dump", "/dumps/tipgraph.ttl", {"If-None-Match": "*"}, {304})),
        (2, lambda: ("void", "/.well-known/void", {}, {200})),
        (2, lambda: ("health", "/health", {}, {200})),
        (4, lambda: ("error", "/sparql?" + urlencode({"query": "SELECT WHERE {"}), {}, {400})),
        (3, lambda: ("error", f"/id/no-such-{rng.randrange(10**6)}", {}, {404})),
        (2, lambda: ("error", "/sparql?query=ASK%7B%7D", {"Accept": "image/png"}, {406})),
        (1, lambda: ("error", "/sparql?" + urlencode({"update": "CLEAR ALL"}), {}, {403})),
    ]
    weights = [w for w, _ in choices]
    return [rng.choices(choices, weights)[0][1]() for _ in range(count)]


def mixed(base: str, args: argparse.Namespace) -> dict:
    work = workload(args.seed, args.requests)
    cursor = iter(range(len(work)))
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection(*hostport(base), timeout=120)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                connection.close()
                return
            kind, path, headers, expected = work[index]
            started = time.perf_counter()
            try:
                status, _, body = request(connection, path, headers)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection(*hostport(base), timeout=120)
                status, body = None, repr(error).encode()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.setdefault(kind, []).append(elapsed)
                if status not in expected:
                    errors.append(f"{path[:80]}: {status} {body[:120]!r}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    every = [x for values in latencies.values() for x in values]
    return {
        "requests": len(work), "clients": args.clients, "errors": len(errors),
        "error_examples": errors[:10], "wall_s": round(wall, 1),
        "requests_per_s": round(len(work) / wall, 1),
        "p50_ms": round(statistics.median(every) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "by_kind": {kind: {"n": len(values),
                           "p50_ms": round(statistics.median(values) * 1000, 1),
                           "p99_ms": round(percentile(values, 0.99) * 1000, 1)}
                    for kind, values in sorted(latencies.items())},
    }


def runaways(base: str, args: argparse.Namespace) -> dict:
    outcomes: list[int | None] = []

    def runaway() -> None:
        connection = http.client.HTTPConnection(*hostport(base), timeout=args.query_timeout * 4)
        try:
            status, _, _ = request(connection, "/sparql?query=" + quote(RUNAWAY))
        except OSError:
            status = None
        outcomes.append(status)

    threads = [threading.Thread(target=runaway) for _ in range(args.runaways)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the runaways have reached the workers
    connection = http.client.HTTPConnection(*hostport(base), timeout=args.query_timeout * 4)
    asks: list[float] = []
    answered = 0
    statuses: dict[str, int] = {}
    for _ in range(args.asks):
        if not any(t.is_alive() for t in threads):
            break
        started = time.perf_counter()
        status, _, _ = request(connection, "/sparql?query=" + quote(ASK), {"Accept": JSON})
        asks.append(time.perf_counter() - started)
        answered += status == 200
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    still_running = sum(t.is_alive() for t in threads)
    for thread in threads:
        thread.join()
    return {
        "runaways": args.runaways, "workers": args.workers, "workers_max": args.workers_max,
        "asks": len(asks),
        "asks_200": answered, "ask_statuses": statuses,
        "runaways_still_running_after_the_asks": still_running,
        "ask_p50_ms": round(statistics.median(asks) * 1000, 1) if asks else None,
        "ask_p99_ms": round(percentile(asks, 0.99) * 1000, 1) if asks else None,
        "ask_max_ms": round(max(asks) * 1000, 1) if asks else None,
        "runaway_statuses": {str(s): outcomes.count(s) for s in sorted(set(outcomes), key=str)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runaways", type=int, default=8)
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workers-max", type=int, default=12)
    parser.add_argument("--query-timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    process, base = serve(args)
    try:
        result = {"load_average": os.getloadavg()[0]}
        if not args.skip_mixed:
            result["mixed"] = mixed(base, args)
        result["runaways"] = runaways(base, args)
        result["load_average_after"] = os.getloadavg()[0]
    finally:
        process.terminate()
        process.wait(120)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
