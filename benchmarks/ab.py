"""Interleaved A/B: two tipgraph trees (say main and a branch) and Oxigraph server on the same
data, measured in turn, round after round, so that the load of a shared machine falls on each
alike. Prints the medians over the rounds and the ratios, round by round.

    PYTHONPATH=src python benchmarks/ab.py --a /path/to/tree-a --b /path/to/tree-b
        [--size bundled] [--rounds 3] [--seconds 8] [--modes distinct-1,distinct-8,repeat-8]

Each tree serves with its own code (``PYTHONPATH=<tree>/src``, ``tipgraph serve --store
oxigraph``, defaults otherwise) over the data of this tree's ``run.py`` size; the query mix,
the load drivers and the Oxigraph server are run.py's (see its docstring).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402


def start_tree(tree: Path, root: Path, cache: Path) -> bench.Server:
    port = bench.free_port()
    env = bench.env_for(root, cache)
    env["PYTHONPATH"] = str(tree / "src")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tipgraph", "serve", "--port", str(port), "--store", "oxigraph"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    ready = bench.wait_ready(process, port, "/health")
    if bench.warms_dumps(port):  # warm, as run.py measures it
        bench.wait_ready(process, port, "/.well-known/void")
    bench.wait_shared_store(port, started)  # and the workers share their in-memory store
    return bench.Server(process, port, "/sparql", started, ready)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, type=Path)
    parser.add_argument("--b", required=True, type=Path)
    parser.add_argument("--size", default="bundled")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--modes", default="distinct-1,distinct-8,repeat-8")
    args = parser.parse_args()
    root = bench.make_root(args.size)
    mix = bench.query_mix(root)
    prologue = bench.prefixes()
    load = [round(x, 2) for x in __import__("os").getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as folder:
        nquads = Path(folder) / "dataset.nq"
        sys.path.insert(0, str(bench.REPO / "src"))
        from tipgraph.config import load_config
        from tipgraph.model.build import build

        build(load_config({"root": root, "use_cache": False}, environ={})).write_nquads(nquads)
        servers = {"a": start_tree(args.a.resolve(), root, Path(folder) / "a"),
                   "b": start_tree(args.b.resolve(), root, Path(folder) / "b"),
                   "oxigraph-server": bench.start_oxigraph(nquads)}
        tasks = {name: bench.http_task(s.port, s.path) for name, s in servers.items()}
        found: dict[str, dict[str, list[dict]]] = {n: {} for n in servers}
        try:
            for turn in range(args.rounds):
                names = list(servers)
                names = names[turn % len(names):] + names[:turn % len(names)]
                for mode in args.modes.split(","):
                    kind, clients = mode.split("-")
                    for name in names:
                        text = prologue if name == "oxigraph-server" else ""
                        bench.drive(tasks[name], mix, kind, int(clients),
                                    len(mix) if kind == "repeat" else 3, args.seconds, text)
                        row = bench.drive(tasks[name], mix, kind, int(clients), 100_000,
                                          args.seconds, text)
                        found[name].setdefault(mode, []).append(row)
                        print(f"round {turn + 1} {mode:>10} {name:>16} {row['rps']:>8.1f} "
                              f"req/s  p50 {row['p50_ms']:>7.2f} ms  errors {row['errors']}",
                              file=sys.stderr, flush=True)
        finally:
            for server in servers.values():
                server.stop()
    summary = {"a": str(args.a), "b": str(args.b), "size": args.size, "rounds": args.rounds,
               "seconds": args.seconds, "load_before": load,
               "load_after": [round(x, 2) for x in __import__("os").getloadavg()], "modes": {}}
    print(f"\n{'mode':>10} {'target':>16} {'req/s':>8} {'p50 ms':>8}   per round req/s")
    for mode in args.modes.split(","):
        entry = {}
        for name in servers:
            rows = found[name][mode]
            entry[name] = {"rps": statistics.median(r["rps"] for r in rows),
                           "p50_ms": statistics.median(r["p50_ms"] for r in rows),
                           "rounds_rps": [r["rps"] for r in rows]}
            print(f"{mode:>10} {name:>16} {entry[name]['rps']:>8.1f} "
                  f"{entry[name]['p50_ms']:>8.2f}   {entry[name]['rounds_rps']}")
        for pair in (("b", "a"), ("a", "oxigraph-server"), ("b", "oxigraph-server")):
            per_round = [round(x["rps"] / y["rps"], 2)
                         for x, y in zip(found[pair[0]][mode], found[pair[1]][mode], strict=True)]
            entry[f"{pair[0]}/{pair[1]}"] = {"median": statistics.median(per_round),
                                             "rounds": per_round}
            print(f"{mode:>10} {pair[0] + ' / ' + pair[1]:>27} req/s x "
                  f"{statistics.median(per_round):.2f}   per round {per_round}")
        summary["modes"][mode] = entry
    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    path = bench.RESULTS / f"ab-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"\nwritten {path}; load average before {summary['load_before']}, after "
          f"{summary['load_after']}")


if __name__ == "__main__":
    main()
