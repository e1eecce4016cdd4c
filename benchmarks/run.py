"""The benchmark suite: build, validation, start-up and query costs per backend and size, with
the references measured in the same run. Prints a table; writes JSON to benchmarks/results/.

    PYTHONPATH=src python benchmarks/run.py [--sizes bundled,10k,100k] [--sizes 1m]
        [--targets tipgraph-oxigraph,tipgraph-memory,tipgraph-sparql,pyoxigraph,oxigraph-server,
                   rdflib-endpoint] [--requests 200] [--seconds 20] [--validate]

Per size (the bundled data; or the bundled data plus `generate.py --triples N`):
- build: load + provenance + inference in a fresh process, cold (no cache) and warm (cached
  inferences): wall and CPU seconds, peak RSS (ru_maxrss); the inference alone;
- validate (with --validate): `tipgraph validate`, wall, CPU and peak RSS of the process;
- serve: `tipgraph serve` from spawn to /health 200, cold (empty cache folder) and warm (the
  same folder again); then, if the query workers share an in-memory store, until it is loaded
  (``shared_store_warm_s``, from spawn); memory of the server and its workers after the
  queries, as RSS (shared pages counted once per process) and PSS (shared pages once in all);
- queries: the mix (queries/ plus the heavier analytic queries below) by HTTP POST
  (form-encoded) with 1 and 8 clients, each client cycling through the mix, in two modes:
  ``distinct`` (a unique comment makes every request a new query text: no cache can answer it)
  and ``repeat`` (the same texts again and again, as public endpoints see); requests/s, p50, p99.
  Each measurement stops after --requests requests per client or --seconds, whichever first.

With --startup-only: only the start-up of the tipgraph targets (ready cold and warm, wall and
the CPU seconds the server and its workers had used when ready) and their resident memory after
one pass through the query mix (one client); no build, query or reference measurements.

Targets: tipgraph with each store (oxigraph, memory, sparql = a remote Oxigraph server that
tipgraph pushes to; a suffix ``-pN`` runs it with N server processes, e.g.
``tipgraph-oxigraph-p2``), and the references: pyoxigraph in-process (the engine's own limit: the
same queries on a pyoxigraph Store in this process, threads as clients), Oxigraph server
(`oxigraph serve --union-default-graph` over the same N-Quads), rdflib-endpoint (FastAPI +
uvicorn over an rdflib Dataset of the same N-Quads). Queries to the references get tipgraph's
PREFIX declarations prepended (tipgraph declares them for every query).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SIZES = {"bundled": 0, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
TIPGRAPH = ("tipgraph-oxigraph", "tipgraph-memory", "tipgraph-sparql")
REFERENCES = ("pyoxigraph", "oxigraph-server", "rdflib-endpoint")

ANALYTIC = {
    "a-members-per-mechanism": """
SELECT ?m (COUNT(DISTINCT ?s) AS ?n) WHERE { ?m a tip:Mechanism ; tip:hasMember ?s }
GROUP BY ?m ORDER BY DESC(?n) LIMIT 20""",
    "a-class-counts": """
SELECT ?c (COUNT(?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c ORDER BY DESC(?n) LIMIT 50""",
    "a-label-regex": """
SELECT ?x ?l WHERE { ?x skos:prefLabel ?l FILTER(REGEX(STR(?l), "traffick", "i")) }
ORDER BY ?l LIMIT 100""",
    "a-predicate-usage-by-graph": """
SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }
GROUP BY ?p ORDER BY DESC(?n) LIMIT 30""",
    "a-supersession-chains": """
SELECT ?a ?b WHERE { ?a tip:supersedes+ ?b } LIMIT 500""",
    "a-partners-of-many": """
SELECT ?p (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x tip:hasPartner|tip:fundedBy ?p }
GROUP BY ?p HAVING (COUNT(DISTINCT ?x) > 2) ORDER BY DESC(?n) LIMIT 20""",
}


# -- helpers ---------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """A process and all its live descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _kb_of(path: str, field: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_tree_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB). Pages shared by several of
    them (the query workers' in-memory store) count once per process."""
    return round(sum(_kb_of(f"/proc/{p}/status", "VmRSS") for p in process_tree(pid)) / 1024, 1)


def pss_tree_mb(pid: int) -> float:
    """Proportional memory of a process and its descendants (MB): a page shared by N of them
    counts 1/N for each, so shared pages count once in all."""
    return round(sum(_kb_of(f"/proc/{p}/smaps_rollup", "Pss") for p in process_tree(pid))
                 / 1024, 1)


def cpu_tree_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for current in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return round(total / ticks, 2)


def prefixes() -> str:
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.model.namespaces import PREFIXES

    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def query_mix(root: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.model.queries import example_queries

    return [(q.name, q.sparql) for q in example_queries(root)] + list(ANALYTIC.items())


def make_root(size: str) -> Path:
    """The bundled data, or the bundled data plus a generated file of about N triples."""
    if SIZES[size] == 0:
        return REPO
    root = RESULTS / "roots" / size
    data = root / "data"
    synthetic = data / f"synthetic-{size}.trig"
    if not synthetic.is_file():
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(REPO / "data", data)
        for part in ("ontology", "shapes", "queries"):
            (root / part).symlink_to(REPO / part)
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--triples",
                        str(SIZES[size]), "-o", str(synthetic)], check=True)
    return root


def env_for(root: Path, cache: Path | None, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TIPGRAPH_ROOT=str(root),
               TIPGRAPH_LOG_LEVEL="WARNING", **extra)
    env["TIPGRAPH_CACHE_DIR"] = str(cache) if cache else ""
    env["TIPGRAPH_USE_CACHE"] = "true" if cache else "false"
    return env


# -- build, validation: measured in child processes -----------------------------------------


def child(kind: str, root: str, cache: str) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.config import load_config
    from tipgraph.model.build import build

    config = load_config({"root": root, "cache_dir": cache or None, "use_cache": bool(cache)},
                         environ={})
    wall, cpu = time.perf_counter(), time.process_time()
    if kind == "validate":
        from tipgraph.model.validate import validate

        kg = build(config)
        built = time.perf_counter() - wall
        report = validate(kg)
        extra = {"validate_only_s": round(time.perf_counter() - wall - built, 2),
                 "findings": len(report.findings)}
    elif kind == "infer":
        from tipgraph.model import build as build_module

        original, timing = build_module.reason.infer, {}

        def timed(*args, **kwargs):  # the inference alone, inside the cold build
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timing["infer_s"] = round(time.perf_counter() - started, 2)

        build_module.reason.infer = timed
        kg = build(config)
        extra = timing
    else:
        kg = build(config)
        extra = {}
    return {"wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "quads": len(kg.dataset), "inferred": len(kg.inferred), **extra}


def in_child(kind: str, root: Path, cache: Path | None) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--root", str(root),
                          "--cache", str(cache or "")], capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- servers -----------------------------------------------------------------------------------


class Server:
    def __init__(self, process: subprocess.Popen, port: int, path: str, started: float,
                 ready: float, cleanup: Callable[[], None] = lambda: None) -> None:
        self.process, self.port, self.path = process, port, path
        self.ready_s = round(ready - started, 2)
        self.ready_cpu_s = cpu_tree_s(process.pid)
        self.cleanup = cleanup

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait(10)
        self.cleanup()


def wait_ready(process: subprocess.Popen, port: int, path: str, deadline: float = 1800) -> float:
    give_up = time.monotonic() + deadline
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return time.perf_counter()
        time.sleep(0.05)  # polling interval of the readiness check
    raise RuntimeError("server not ready")


def start_tipgraph(root: Path, cache: Path | None, store: str, endpoint: str = "",
                   processes: int = 1) -> Server:
    port = free_port()
    env = env_for(root, cache, TIPGRAPH_ENDPOINT=endpoint,
                  TIPGRAPH_SERVER_PROCESSES=str(processes))
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tipgraph", "serve", "--port", str(port), "--store", store],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ready = wait_ready(process, port, "/health")
    shared_store_s = wait_shared_store(port, started)
    # measure a warm server: labels, the ontology documentation and (up to
    # warm_dumps_max_triples) the dumps and the dataset description are computed in the
    # server's process after it is ready (about 15 s of CPU on the bundled data, holding the
    # interpreter lock), and queries measured meanwhile paid for it
    wait_ready(process, port, "/ontology")
    if warms_dumps(port):
        wait_ready(process, port, "/.well-known/void")
    server = Server(process, port, "/sparql", started, ready)
    server.shared_store_s = shared_store_s
    return server


def wait_shared_store(port: int, started: float) -> float | None:
    """Seconds from spawn until the query workers' in-memory store is loaded (a warm server is
    one whose workers have it); None when they read the on-disk store."""
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        workers = json.loads(conn.getresponse().read())["query"]["workers"] or {}
        shared = workers.get("shared_store")
        if shared is None or shared["state"] == "failed":
            return None
        if shared["state"] == "ready":
            return round(time.perf_counter() - started, 2)
        time.sleep(0.2)  # polling the holder's loading


def warms_dumps(port: int) -> bool:
    """Whether the server computes its dumps at start (its graph is at most
    warm_dumps_max_triples): then a warm server is one whose dumps are done."""
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.config import load_config

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/health")
    triples = json.loads(conn.getresponse().read())["triples"]
    return triples <= load_config({}, environ=dict(os.environ))["warm_dumps_max_triples"]


def start_oxigraph(nquads: Path) -> Server:
    folder = Path(tempfile.mkdtemp(prefix="bench-oxigraph-"))
    binary = str(Path(sys.executable).parent / "oxigraph")
    started = time.perf_counter()
    if nquads.stat().st_size:
        subprocess.run([binary, "load", "--location", str(folder), "--file", str(nquads)],
                       check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    ready = wait_ready(process, port, "/query?query=ASK%7B%7D")
    return Server(process, port, "/query", started, ready,
                  lambda: shutil.rmtree(folder, ignore_errors=True))


def start_empty_oxigraph() -> Server:
    """A fresh Oxigraph server (no union default graph) for tipgraph's remote store."""
    folder = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    port = free_port()
    binary = str(Path(sys.executable).parent / "oxigraph")
    started = time.perf_counter()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ready = wait_ready(process, port, "/query?query=ASK%7B%7D")
    return Server(process, port, "/query", started, ready,
                  lambda: shutil.rmtree(folder, ignore_errors=True))


RDFLIB_ENDPOINT = """
import sys, uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint
data = Dataset(default_union=True)
data.parse(sys.argv[1], format="nquads")
uvicorn.run(SparqlEndpoint(graph=data), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""


def start_rdflib_endpoint(nquads: Path) -> Server:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", RDFLIB_ENDPOINT, str(nquads), str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    ready = wait_ready(process, port, "/?query=ASK%7B%7D")
    return Server(process, port, "/", started, ready)


# -- load drivers ----------------------------------------------------------------------------


def texts(mix: list[tuple[str, str]], mode: str, prologue: str) -> Iterator[str]:
    """Endless query texts: the mix again and again; ``distinct`` makes each one unique."""
    while True:
        for _, sparql in mix:
            text = prologue + sparql
            yield text + f"\n# {uuid.uuid4().hex}\n" if mode == "distinct" else text


def drive(task: Callable[[str], float | None], mix: list[tuple[str, str]], mode: str,
          clients: int, requests_per_client: int, seconds: float, prologue: str = "") -> dict:
    """Clients (threads) sending the mix; requests/s, latency p50/p99 and, where the server
    says it (tipgraph's X-Tipgraph-Query-Ms), the p50 of the time spent in the engine."""
    latencies: list[float] = []
    engine_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        source = texts(mix[offset % len(mix):] + mix[:offset % len(mix)], mode, prologue)
        mine: list[float] = []
        engines: list[float] = []
        for _ in range(requests_per_client):
            if time.perf_counter() > deadline:
                break
            text = next(source)
            started = time.perf_counter()
            try:
                in_engine = task(text)
                if in_engine is not None:
                    engines.append(in_engine)
            except Exception as error:  # counted and reported; the run goes on
                with lock:
                    errors.append(str(error)[:200])
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            engine_ms.extend(engines)

    threads = [threading.Thread(target=client, args=(c * 7,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    found = {"requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
             "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
             "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
             "errors": len(errors), "error_sample": errors[:2]}
    if engine_ms:
        found["engine_p50_ms"] = round(percentile(engine_ms, 0.5), 3)
    return found


def http_task(port: int, path: str) -> Callable[[str], float | None]:
    local = threading.local()

    def task(query: str) -> float | None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        body = urllib.parse.urlencode({"query": query})
        try:
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json, application/n-triples;q=0.5"})
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            local.conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {data[:150]!r}")
        in_engine = response.getheader("X-Tipgraph-Query-Ms")
        return float(in_engine) if in_engine else None

    return task


def pyoxigraph_task(nquads: Path) -> Callable[[str], float | None]:
    import pyoxigraph as ox

    store = ox.Store()
    if nquads.stat().st_size:
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    serializer = ox.QueryResultsFormat.JSON

    def task(query: str) -> float | None:
        result = store.query(query, use_default_graph_as_union=True)
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            result.serialize(format=serializer)
        else:
            result.serialize(format=ox.RdfFormat.N_TRIPLES)
        return None

    return task


def measure_queries(task: Callable[[str], None], mix, args, prologue: str = "") -> dict:
    found = {}
    for clients in (1, 8):
        for mode in ("distinct", "repeat"):
            # warm-up: a few requests; in repeat mode the whole mix once (the cache fills)
            drive(task, mix, mode, clients, len(mix) if mode == "repeat" else 3, args.seconds,
                  prologue)
            found[f"{mode}-{clients}"] = drive(task, mix, mode, clients, args.requests,
                                               args.seconds, prologue)
    return found


# -- the run ---------------------------------------------------------------------------------


def run_size(size: str, args) -> dict:
    root = make_root(size)
    mix = query_mix(root)
    prologue = prefixes()
    out: dict = {"size": size, "targets": {}}
    say = lambda text: print(f"[{size}] {text}", file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as folder:
        cache = Path(folder)
        if args.startup_only:
            for target in (t for t in args.targets if t.startswith("tipgraph-")):
                say(f"{target}: start-up only")
                out["targets"][target] = run_target(target, root, cache, cache, mix, prologue,
                                                     args)
            return out
        say("build cold / warm, inference")
        out["build_cold"] = in_child("build", root, None)
        out["inference"] = in_child("infer", root, None)
        out["build_warm_fill"] = in_child("build", root, cache)
        out["build_warm"] = in_child("build", root, cache)
        if args.validate:
            say("validate")
            out["validate"] = in_child("validate", root, cache)
        nquads = cache / "dataset.nq"
        sys.path.insert(0, str(REPO / "src"))
        from tipgraph.config import load_config
        from tipgraph.model.build import build

        kg = build(load_config({"root": root, "cache_dir": cache}, environ={}))
        kg.write_nquads(nquads)
        out["quads"] = len(kg.dataset)
        del kg
        for target in args.targets:
            say(target)
            try:
                out["targets"][target] = run_target(target, root, cache, nquads, mix,
                                                     prologue, args)
            except Exception as error:  # reported in the results; the run goes on
                out["targets"][target] = {"error": f"{type(error).__name__}: {error}"}
    return out


def run_target(target: str, root: Path, cache: Path, nquads: Path, mix, prologue: str,
               args) -> dict:
    if target == "pyoxigraph":
        started = time.perf_counter()
        task = pyoxigraph_task(nquads)
        return {"load_s": round(time.perf_counter() - started, 2),
                "queries": measure_queries(task, mix, args, prologue)}
    if target == "oxigraph-server":
        server = start_oxigraph(nquads)
        return serve_and_measure(server, mix, args, prologue)
    if target == "rdflib-endpoint":
        server = start_rdflib_endpoint(nquads)
        return serve_and_measure(server, mix, args, prologue)
    store, _, processes = target.split("-", 1)[1].partition("-p")
    processes = int(processes or 1)
    remote = start_empty_oxigraph() if store == "sparql" else None
    endpoint = f"http://127.0.0.1:{remote.port}/query" if remote else ""
    extra = {}
    try:
        if remote is not None:
            os.environ["TIPGRAPH_REMOTE_GRAPH_STORE"] = f"http://127.0.0.1:{remote.port}/store"
            os.environ["TIPGRAPH_REMOTE_UPDATE"] = f"http://127.0.0.1:{remote.port}/update"
        with tempfile.TemporaryDirectory(prefix="bench-serve-") as own:
            cold = start_tipgraph(root, Path(own), store, endpoint, processes)  # empty cache
            cold.stop()
            warm = start_tipgraph(root, Path(own), store, endpoint, processes)
            extra = {"ready_cold_s": cold.ready_s, "ready_cold_cpu_s": cold.ready_cpu_s,
                     "ready_warm_cpu_s": warm.ready_cpu_s,
                     "shared_store_warm_s": warm.shared_store_s}
            found = serve_and_measure(warm, mix, args)
            extra["ready_warm_s"] = found.pop("ready_s")
    finally:
        if remote is not None:
            extra["remote_rss_mb"] = rss_tree_mb(remote.process.pid)
            remote.stop()
    return {**extra, **found}


def serve_and_measure(server: Server, mix, args, prologue: str = "") -> dict:
    try:
        task = http_task(server.port, server.path)
        if args.startup_only:  # one pass through the mix, then the memory
            queries = {"once-1": drive(task, mix, "repeat", 1, len(mix), 3600, prologue)}
        else:
            queries = measure_queries(task, mix, args, prologue)
        return {"ready_s": server.ready_s, "rss_mb": rss_tree_mb(server.process.pid),
                "pss_mb": pss_tree_mb(server.process.pid), "queries": queries}
    finally:
        server.stop()


def ratios(result: dict) -> list[dict]:
    """Pair by pair: tipgraph-oxigraph (and -pN) against each reference, per clients and
    mode."""
    targets = result["targets"]
    rows = []
    for mine in (t for t in targets if t.startswith("tipgraph-oxigraph")):
        rows += _ratios_of(result, mine)
    return rows


def _ratios_of(result: dict, mine: str) -> list[dict]:
    targets = result["targets"]
    ours = targets[mine].get("queries")
    rows = []
    for name in (*REFERENCES, "tipgraph-sparql", "tipgraph-memory"):
        theirs = targets.get(name, {}).get("queries")
        if not ours or not theirs:
            continue
        for key in ours:
            if key in theirs and theirs[key]["rps"] and theirs[key]["p50_ms"]:
                row = {"size": result["size"], "ours": mine, "against": name, "run": key,
                       "rps_ratio": round(ours[key]["rps"] / theirs[key]["rps"], 2),
                       "p50_ratio": round(ours[key]["p50_ms"] / theirs[key]["p50_ms"], 2)}
                if "engine_p50_ms" in ours[key]:  # tipgraph's time in its engine, vs theirs
                    row["engine_p50_ratio"] = round(
                        ours[key]["engine_p50_ms"] / theirs[key]["p50_ms"], 2)
                rows.append(row)
    return rows


def print_table(results: list[dict]) -> None:
    print(f"{'size':>8} {'target':>18} {'run':>12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>9} "
          f"{'err':>4} {'engine p50 ms':>8}")
    for result in results:
        for name, target in result["targets"].items():
            if "error" in target:
                print(f"{result['size']:>8} {name:>18}  error: {target['error'][:80]}")
                continue
            for key, row in target.get("queries", {}).items():
                print(f"{result['size']:>8} {name:>18} {key:>12} {row['rps']:>8.1f} "
                      f"{row['p50_ms']:>8.2f} {row['p99_ms']:>9.2f} {row['errors']:>4} "
                      f"{row.get('engine_p50_ms', ''):>8}")
    print()
    print(f"{'size':>8} {'target':>18} {'ready cold s':>12} {'ready warm s':>12} {'RSS MB':>8}"
          f" {'PSS MB':>8} {'cold CPU s':>10} {'warm CPU s':>10} {'shared s':>8}")
    for result in results:
        for name, target in result["targets"].items():
            if "rss_mb" in target:
                print(f"{result['size']:>8} {name:>18} {target.get('ready_cold_s', ''):>12} "
                      f"{target.get('ready_warm_s', target.get('ready_s')):>12} "
                      f"{target['rss_mb']:>8} {target.get('pss_mb', ''):>8} "
                      f"{target.get('ready_cold_cpu_s', ''):>10} "
                      f"{target.get('ready_warm_cpu_s', ''):>10} "
                      f"{target.get('shared_store_warm_s') or '':>8}")
    print()
    if any("build_cold" not in result for result in results):
        return
    for result in results:
        print(f"{result['size']}: {result.get('quads')} quads; build cold "
              f"{result['build_cold']}; warm {result['build_warm']}; inference "
              f"{result['inference'].get('infer_s')} s"
              + (f"; validate {result['validate']}" if "validate" in result else ""))
    print()
    print(f"{'size':>8} {'tipgraph':>20} {'vs':>20} {'run':>12} {'req/s x':>8} {'p50 x':>7}"
          f" {'engine p50 x':>12}")
    for result in results:
        for row in ratios(result):
            print(f"{row['size']:>8} {row['ours']:>20} {row['against']:>20} {row['run']:>12} "
                  f"{row['rps_ratio']:>8.2f} {row['p50_ratio']:>7.2f} "
                  f"{row.get('engine_p50_ratio', ''):>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="bundled,10k,100k")
    parser.add_argument("--targets", default=",".join(TIPGRAPH + REFERENCES))
    parser.add_argument("--requests", type=int, default=200, help="per client, per measurement")
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement, at most")
    parser.add_argument("--validate", action="store_true", help="also time tipgraph validate")
    parser.add_argument("--startup-only", action="store_true",
                        help="only the tipgraph targets' start-up and memory (see above)")
    parser.add_argument("--child")
    parser.add_argument("--root")
    parser.add_argument("--cache")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.root, args.cache)))
        return
    args.targets = [t for t in args.targets.split(",") if t]
    results = []
    load = os.getloadavg()
    for size in args.sizes.split(","):
        results.append(run_size(size, args))
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"cpus": os.cpu_count(), "load_before": load,
                                "load_after": os.getloadavg(), "args": vars(args),
                                "results": results,
                                "ratios": [r for res in results for r in ratios(res)]},
                               indent=2), encoding="utf-8")
    print(f"\nwritten {path.relative_to(REPO)}; load average before {load}, after "
          f"{os.getloadavg()}")


if __name__ == "__main__":
    main()
