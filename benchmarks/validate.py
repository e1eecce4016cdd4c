"""Validation cost: full, and scoped (``validate(kg, changed=True)``) after one file changed.

    PYTHONPATH=src python benchmarks/validate.py --triples 10000 [--repeat 3] [--json FILE]

Makes a root under benchmarks/results/validate-<N>/ (the bundled ontology and shapes, the
concept schemes, and ``generate.py --triples N`` split into one file per 10 page graphs, so
that "one file changed" is a tenth of a percent of the data at 100k), then, each in a fresh
process with a fresh cache folder: a full validation (which also writes the record); and a
scoped one after rewriting one data file (a label changed, and one entity's type changed so
that the relations pointing to it must be re-checked). Prints, per measure, the median of
``--repeat`` runs: wall and CPU seconds of the validation alone (the build is not counted), the
peak RSS of the process, the load average, the number of findings and of re-checked nodes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
PAGES_PER_FILE = 10


def make_root(triples: int) -> Path:
    root = RESULTS / f"validate-{triples}"
    if (root / "data" / "done").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "data" / "synthetic").mkdir(parents=True)
    for part in ("ontology", "shapes"):
        (root / part).symlink_to(REPO / part)
    shutil.copy(REPO / "data" / "concept-schemes.ttl", root / "data")
    text = subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--triples",
                           str(triples)], check=True, capture_output=True,
                          text=True).stdout
    head, _, body = text.partition("\npage:")
    prefixes = "\n".join(line for line in head.splitlines() if line.startswith("@prefix"))
    blocks = ["page:" + block for block in re.split(r"\n(?=page:\d+ \{)", "page:" + body)]
    blocks[0] = blocks[0][len("page:"):]
    for start in range(0, len(blocks), PAGES_PER_FILE):
        chunk = "\n".join(blocks[start:start + PAGES_PER_FILE])
        name = root / "data" / "synthetic" / f"part-{start // PAGES_PER_FILE:04d}.trig"
        name.write_text(f"{prefixes}\n\n{chunk}\n", encoding="utf-8")
    (root / "data" / "done").write_text("", encoding="utf-8")
    return root


def change_one_file(root: Path) -> Path:
    """Rewrite the middle data file: one label, and one typed entity becomes a tip:Event (so
    relations to it that want an organisation or an instrument now fail)."""
    files = sorted((root / "data" / "synthetic").glob("*.trig"))
    target = files[len(files) // 2]
    text = target.read_text(encoding="utf-8")
    text = re.sub(r'skos:prefLabel "([^"]*)"@en', r'skos:prefLabel "\1 (changed)"@en', text,
                  count=1)
    text = re.sub(r" a tip:(Body|PolicyInstrument|LegalInstrument) ;", " a tip:Event ;", text,
                  count=1)
    target.write_text(text, encoding="utf-8")
    return target


def child(root: str, cache: str, changed: bool) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from tipgraph.config import load_config
    from tipgraph.model.build import build
    from tipgraph.model.validate import validate

    config = load_config({"root": root, "cache_dir": cache, "use_cache": True}, environ={})
    kg = build(config)
    import pyshacl  # noqa: F401  (imported before the clock starts, as a server has it)

    wall, cpu = time.perf_counter(), time.process_time()
    report = validate(kg, changed=changed)
    scope = report.scope
    return {"wall_s": round(time.perf_counter() - wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "load_1m": round(os.getloadavg()[0], 1), "findings": len(report.findings),
            "mode": scope.mode if scope else "full",
            "rechecked": scope.rechecked_nodes if scope else None,
            "touched": scope.touched_nodes if scope else None}


def in_child(root: Path, cache: Path, changed: bool, timeout: float) -> dict:
    out = subprocess.run(["nice", sys.executable, __file__, "--child", str(root), str(cache)]
                         + (["--changed"] if changed else []), capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(runs: list[dict]) -> dict:
    keys = ("wall_s", "cpu_s", "peak_rss_mb", "load_1m")
    return {**runs[0], **{k: statistics.median(r[k] for r in runs) for k in keys},
            "runs": len(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--changed", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.changed)))
        return
    full, scoped = [], []
    for _ in range(args.repeat):
        source = make_root(args.triples)
        with tempfile.TemporaryDirectory() as work:
            root = Path(work) / "root"
            shutil.copytree(source, root, symlinks=True)
            cache = Path(work) / "cache"
            full.append(in_child(root, cache, False, args.timeout))
            change_one_file(root)
            scoped.append(in_child(root, cache, True, args.timeout))
    result = {"triples": args.triples, "full": median(full), "scoped_one_file": median(scoped)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
