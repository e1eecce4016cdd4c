"""Build the knowledge graph once: load the files, derive provenance, reason (cached).

``build(config)`` is what the CLI and the web app call; the result is immutable and shared.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph, URIRef
from rdflib.term import Node

from tipgraph import __version__
from tipgraph.config import load_config
from tipgraph.model import reason
from tipgraph.model.load import LoadedSources, load, source_digest
from tipgraph.model.namespaces import (
    CANONICAL_BASE,
    GRAPH_CURATED,
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    GRAPH_SHAPES,
    TIP,
    is_page_graph,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeGraph:
    """The built graph: a Dataset whose default graph is the union of its named graphs."""

    dataset: Dataset
    sources: LoadedSources
    version: str  # content hash of the inputs and the rule set: changes whenever the data does
    config: Mapping[str, Any]

    def graph(self, name: URIRef) -> Graph:
        return self.dataset.graph(name)

    @property
    def ontology(self) -> Graph:
        return self.graph(GRAPH_ONTOLOGY)

    @property
    def shapes(self) -> Graph:
        return self.graph(GRAPH_SHAPES)

    @property
    def inferred(self) -> Graph:
        return self.graph(GRAPH_INFERRED)

    def data_graph_names(self) -> list[URIRef]:
        """The asserted data graphs: every source page's graph, and the curated graph."""
        names = [g.identifier for g in self.dataset.graphs() if is_page_graph(g.identifier)]
        return sorted(names, key=_page_sort_key) + [GRAPH_CURATED]

    def asserted(self) -> Graph:
        """The asserted data as one graph (pages merged, no ontology, no inferences)."""
        return _merge(self.graph(name) for name in self.data_graph_names())

    def union(self, inferred: bool = True, ontology: bool = True) -> Graph:
        """Asserted data, optionally with the inferences and the ontology, as one graph."""
        parts = [self.asserted()]
        if inferred:
            parts.append(self.inferred)
        if ontology:
            parts.append(self.ontology)
        return _merge(parts)


def _page_sort_key(name: URIRef) -> tuple[int, str]:
    tail = str(name).rsplit("/", 1)[-1]
    return (int(tail), "") if tail.isdigit() else (10**9, tail)


def _merge(graphs: Iterable[Graph]) -> Graph:
    merged = Graph()
    for graph in graphs:
        for triple in graph:
            merged.add(triple)
    return merged


def _rebase(dataset: Dataset, base: str) -> Dataset:
    """Rewrite IRIs under the canonical data base to the configured one."""
    def move(node: Node) -> Node:
        if isinstance(node, URIRef) and str(node).startswith(CANONICAL_BASE):
            return URIRef(base + str(node)[len(CANONICAL_BASE):])
        return node

    rebased = Dataset(default_union=True)
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = g.identifier if isinstance(g, Graph) else g
        rebased.add((move(s), move(p), move(o), rebased.graph(move(name))))
    return rebased


def derive_provenance(dataset: Dataset) -> Graph:
    """tip:describedOn links from every subject to each page graph that states facts about it."""
    derived = Graph()
    for graph in dataset.graphs():
        if is_page_graph(graph.identifier):
            for subject in set(graph.subjects()):
                if isinstance(subject, URIRef):
                    derived.add((subject, TIP.describedOn, graph.identifier))
    return derived


def _cache_file(config: Mapping[str, Any], digest: str) -> Path | None:
    if not config.get("use_cache") or not config.get("cache_dir"):
        return None
    key = hashlib.sha256(f"{digest}|{reason.RULESET_VERSION}|{config['base_iri']}|"
                         f"{__version__}".encode()).hexdigest()[:32]
    return Path(config["cache_dir"]) / f"inferred-{key}.nt"


def _read_cache(path: Path | None) -> Graph | None:
    if path is None or not path.is_file():
        return None
    try:
        return Graph().parse(path, format="nt")
    except Exception:  # a damaged cache is rebuilt, never trusted
        log.warning("ignoring unreadable inference cache %s", path)
        return None


def _write_cache(path: Path | None, graph: Graph) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".inferred-", suffix=".nt")
        with os.fdopen(fd, "wb") as out:
            out.write(graph.serialize(format="nt", encoding="utf-8"))
        os.replace(tmp, path)
    except OSError as error:  # a read-only cache folder only costs speed
        log.warning("could not write inference cache %s: %s", path, error)


def materialise(kg_dataset: Dataset, ontology: Graph, data: Graph) -> Graph:
    """Provenance links plus the reasoner's closure over data + provenance."""
    provenance = derive_provenance(kg_dataset)
    return _merge([provenance, reason.infer(_merge([data, provenance]), ontology)])


def build(
    config: Mapping[str, Any] | None = None,
    data_paths: Iterable[Path | str] | None = None,
) -> KnowledgeGraph:
    """Load, derive and reason; reuse cached inferences when the inputs are unchanged."""
    config = load_config(config) if config is None or "root" not in config else config
    if data_paths is None:  # the usual case: a snapshot of the last build of the same inputs
        snapshot = _snapshot_files(config, source_digest(config["root"]))
        kg = _read_snapshot(snapshot, config)
        if kg is not None:
            return kg
    sources = load(config["root"], data_paths)
    dataset = sources.dataset
    if config["base_iri"] != CANONICAL_BASE:
        dataset = _rebase(dataset, config["base_iri"])
        sources = replace(sources, dataset=dataset)
    version = hashlib.sha256(f"{sources.digest}|{reason.RULESET_VERSION}".encode()).hexdigest()
    cache = _cache_file(config, sources.digest)
    inferred = _read_cache(cache)
    if inferred is None:
        kg = KnowledgeGraph(dataset, sources, version, config)
        inferred = materialise(dataset, kg.ontology, kg.asserted())
        _write_cache(cache, inferred)
    target = dataset.graph(GRAPH_INFERRED)
    for triple in inferred:
        target.add(triple)
    kg = KnowledgeGraph(dataset, sources, version, config)
    if data_paths is None:
        _write_snapshot(_snapshot_files(config, sources.digest), kg)
    return kg


# A snapshot of the whole build (N-Quads + where each subject was written), keyed like the
# inference cache: `tipgraph serve` starts from it without parsing TriG or reasoning.

def _snapshot_files(config: Mapping[str, Any], digest: str) -> tuple[Path, Path] | None:
    cache = _cache_file(config, digest)
    if cache is None:
        return None
    stem = cache.name.replace("inferred-", "built-").removesuffix(".nt")
    return cache.with_name(stem + ".nq"), cache.with_name(stem + ".json")


def _read_snapshot(files: tuple[Path, Path] | None, config: Mapping[str, Any]
                   ) -> KnowledgeGraph | None:
    if files is None or not all(f.is_file() for f in files):
        return None
    try:
        meta = json.loads(files[1].read_text(encoding="utf-8"))
        dataset = Dataset(default_union=True)
        dataset.parse(files[0], format="nquads")
        if len(dataset) != meta["triples"]:
            raise ValueError("incomplete snapshot")
    except Exception:  # a damaged snapshot is rebuilt, never trusted
        log.warning("ignoring unreadable build snapshot %s", files[0])
        return None
    sources = LoadedSources(
        dataset, [Path(f) for f in meta["files"]], meta["digest"],
        {URIRef(s): set(f) for s, f in meta["subject_files"].items()},
        {URIRef(s): set(f) for s, f in meta["curated_files"].items()})
    return KnowledgeGraph(dataset, sources, meta["version"], config)


def _write_snapshot(files: tuple[Path, Path] | None, kg: KnowledgeGraph) -> None:
    if files is None:
        return
    meta = {"digest": kg.sources.digest, "version": kg.version, "triples": len(kg.dataset),
            "files": [str(f) for f in kg.sources.files],
            "subject_files": {str(s): sorted(f) for s, f in kg.sources.subject_files.items()},
            "curated_files": {str(s): sorted(f) for s, f in kg.sources.curated_files.items()}}
    try:
        files[0].parent.mkdir(parents=True, exist_ok=True)
        for path, data in ((files[0], kg.dataset.serialize(format="nquads", encoding="utf-8")),
                           (files[1], json.dumps(meta).encode("utf-8"))):
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".built-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
    except OSError as error:  # a read-only cache folder only costs speed
        log.warning("could not write build snapshot %s: %s", files[0], error)
