"""Build the knowledge graph once: load the files, derive provenance, reason (cached).

``build(config)`` is what the CLI and the web app call; the result is immutable and shared.

Two paths, one result. With ``fast_build`` the files are bulk-loaded by
pyoxigraph's parser into a pyoxigraph store, provenance and inferences are computed by the engine
itself, and the inference cache (N-Triples) is bulk-loaded too; rdflib sees the store through
oxrdflib, so ``kg.dataset`` is still an rdflib Dataset. Without it (or with a
``base_iri`` other than the canonical one) everything is parsed by rdflib into its memory store.
pyoxigraph stores derived integer types as xsd:integer ("8"^^xsd:nonNegativeInteger reads back
as 8): the data therefore writes counts as plain integers, and both paths give the same graph
(tests/test_build_paths.py).

With a cache folder the fast path builds into an on-disk store of the data version
(tipgraph.model.diskstore, ``cache_dir/stores/``), which the query workers open too. The version
is a hash of the files, known before parsing: when its store is already complete (a warm start),
the files are only hashed and the store is opened read-only, nothing is parsed or held in memory.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import Dataset, Graph, URIRef
from rdflib.term import Node

from tipgraph import __version__
from tipgraph.config import load_config
from tipgraph.errors import DataLoadError
from tipgraph.model import diskstore, reason
from tipgraph.model.load import LoadedSources, hashed, load, load_oxigraph
from tipgraph.model.namespaces import (
    CANONICAL_BASE,
    GRAPH_CURATED,
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    GRAPH_SHAPES,
    PAGE,
    TIP,
    VOCABULARY_MOVED,
    is_page_graph,
)
from tipgraph.model.oxstore import PersistedOxigraphStore

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

    @functools.cached_property
    def triples(self) -> int:
        """``len(dataset)`` (distinct triples of the union), counted once and by the engine
        when there is one: through oxrdflib ``len`` walks every quad in Python (seconds at
        100k triples, a minute at a million), far too slow for /health."""
        if self.store_directory is not None:  # its default graph is that union, as a set
            return int(next(iter(self.oxigraph.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"))
                            )[0].value)
        if self.oxigraph is not None:
            count = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }"
            return int(next(iter(self.oxigraph.query(count)))[0].value)
        return len(self.dataset)

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

    def graphs_outside(self, inferred: bool = True, ontology: bool = True) -> list[URIRef]:
        """The named graphs that ``union(inferred, ontology)`` leaves out: a SPARQL query reads
        the same triples as that union with ``GRAPH ?g { ... } FILTER(?g NOT IN (...))``."""
        keep = set(self.data_graph_names())
        keep |= {GRAPH_INFERRED} if inferred else set()
        keep |= {GRAPH_ONTOLOGY} if ontology else set()
        return sorted(g.identifier for g in self.dataset.graphs() if g.identifier not in keep)

    def select(self, sparql: str) -> list[tuple[Node | None, ...]]:
        """The rows of a SELECT query, run by the engine where there is one: aggregates over the
        whole graph without copying it into rdflib (minutes and gigabytes at a million
        triples, for ``union``)."""
        store = self.oxigraph
        if store is None:
            return [tuple(row) for row in self.dataset.query(sparql)]
        return [tuple(None if term is None else reason.from_ox(term) for term in row)
                for row in store.query(sparql)]

    def class_sizes(self, iri_prefix: str | None = None) -> dict[Node, int]:
        """Distinct members of each class in the data, inferred types included (the ontology's
        own triples not), optionally only members whose IRI starts with ``iri_prefix``."""
        under = f"FILTER(isIRI(?x) && STRSTARTS(STR(?x), STR(<{iri_prefix}>)))" \
            if iri_prefix else ""
        rows = self.select(f"SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH ?g {{ ?x a ?c }} "
                           f"{under} {not_in(self.graphs_outside(ontology=False))} }} GROUP BY ?c")
        return {c: int(n) for c, n in rows}

    @property
    def store_directory(self) -> Path | None:
        """The on-disk store (tipgraph.model.diskstore) holding the dataset, if it is in one."""
        store = self.dataset.store
        return store.directory if isinstance(store, PersistedOxigraphStore) else None

    @property
    def oxigraph(self) -> ox.Store | None:
        """The pyoxigraph store holding the dataset, when built on the oxigraph path (an
        in-process engine can query it as it is, without a copy)."""
        store = self.dataset.store
        return store._inner if isinstance(store, OxigraphStore) else None

    def write_nquads(self, path: Path | str, union: bool = False) -> Path:
        """The whole dataset as N-Quads (for worker processes and dumps); fast on oxigraph.
        With ``union``, the union of the graphs (a set) follows in the default graph, in the
        same document: a store loading it keeps the blank nodes shared (tipgraph.model.
        diskstore)."""
        path, store = Path(path), self.oxigraph
        if self.store_directory is not None:  # its default graph holds the union already
            quads = (q for g in ([None] if union else store.named_graphs())
                     for q in store.quads_for_pattern(None, None, None, g))
            ox.serialize(quads, str(path), ox.RdfFormat.N_QUADS)
        elif store is not None:
            store.dump(path, format=ox.RdfFormat.N_QUADS)
            if union:
                with path.open("ab") as out:
                    store.query(_UNION).serialize(out, format=ox.RdfFormat.N_TRIPLES)
        else:
            self.dataset.serialize(destination=str(path), format="nquads", encoding="utf-8")
            if union:
                with path.open("ab") as out:
                    merged = Graph()
                    merged += self.dataset.triples((None, None, None))
                    out.write(merged.serialize(format="nt", encoding="utf-8"))
        return path


_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def not_in(names: Iterable[URIRef], variable: str = "?g") -> str:
    """``FILTER(?g NOT IN (<a>, <b>))``, or nothing when there is nothing to leave out."""
    listed = ", ".join(f"<{name}>" for name in names)
    return f"FILTER({variable} NOT IN ({listed}))" if listed else ""


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
                         f"{__version__}{_vocabulary()}".encode()).hexdigest()[:32]
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


def _vocabulary() -> str:
    """What a configured vocabulary namespace adds to the keys of builds (nothing for the
    canonical one, so that its data versions stay as they were)."""
    return f"|{TIP}" if VOCABULARY_MOVED else ""


def _version(digest: str) -> str:
    """The data version: the files, the rule set and tipgraph's own version (a new release may
    build differently: its on-disk store, ETags and cached answers must not be the old ones)."""
    return hashlib.sha256(f"{digest}|{reason.RULESET_VERSION}|{__version__}{_vocabulary()}"
                          .encode()).hexdigest()


def _build_on_disk(config: Mapping[str, Any], data_paths: Iterable[Path | str] | None,
                   home: Path) -> KnowledgeGraph:
    """The oxigraph path into the on-disk store of this data version, or, when that store is
    already complete (a warm start), only hash the files and open it read-only."""
    sources = hashed(config["root"], data_paths)
    version = _version(sources.digest)
    directory = diskstore.store_path(home, version)

    def dump(path: Path) -> None:  # built in memory, then bulk-loaded: far faster than updates
        built = _build_oxigraph(config, data_paths)
        if built.version != version:
            raise DataLoadError(str(config["root"]), None, "the files changed while loading",
                                "Load again once they are saved")
        built.write_nquads(path, union=True)

    opened = diskstore.open_read_only(directory)
    if opened is None:
        if directory.exists():  # incomplete or damaged: never opened, rebuilt
            diskstore.remove(directory)
        diskstore.write(directory, dump)
        opened = diskstore.open_read_only(directory)
    if opened is None:  # cannot be opened even when just written: keep it in memory
        log.warning("building in memory: the store %s cannot be opened", directory)
        return _build_oxigraph(config, data_paths)
    store, lock = opened
    diskstore.prune(directory)
    dataset = Dataset(store=PersistedOxigraphStore(store, directory, lock), default_union=True)
    return KnowledgeGraph(dataset, replace(sources, dataset=dataset), version, config)


def _build_oxigraph(config: Mapping[str, Any], data_paths: Iterable[Path | str] | None,
                    ) -> KnowledgeGraph:
    """The oxigraph path: bulk loads, and provenance and rules run by the engine."""
    sources = load_oxigraph(config["root"], data_paths)
    store = sources.dataset.store._inner
    version = _version(sources.digest)
    cache = _cache_file(config, sources.digest)
    inferred = ox.NamedNode(str(GRAPH_INFERRED))
    if cache is not None and cache.is_file():
        try:
            store.bulk_load(path=cache, format=ox.RdfFormat.N_TRIPLES, to_graph=inferred)
            return KnowledgeGraph(sources.dataset, sources, version, config)
        except (SyntaxError, OSError, ValueError):  # a damaged cache is rebuilt, never trusted
            log.warning("ignoring unreadable inference cache %s", cache)
            store.update(f"CLEAR SILENT GRAPH <{GRAPH_INFERRED}>")
    work = "urn:tipgraph:build:asserted"
    excluded = ", ".join(f"<{g}>" for g in (GRAPH_ONTOLOGY, GRAPH_SHAPES, GRAPH_INFERRED))
    store.update(f"INSERT {{ GRAPH <{work}> {{ ?s ?p ?o }} }} WHERE {{ "  # noqa: S608
                 f"GRAPH ?g {{ ?s ?p ?o }} FILTER (?g NOT IN ({excluded})) }}")
    # provenance: tip:describedOn from each subject to each page graph stating facts about it
    store.update(f"INSERT {{ GRAPH <{work}> {{ ?s <{TIP.describedOn}> ?g }} "
                 f"GRAPH <{GRAPH_INFERRED}> {{ ?s <{TIP.describedOn}> ?g }} }} WHERE {{ "
                 f"SELECT DISTINCT ?s ?g {{ GRAPH ?g {{ ?s ?p ?o }} "
                 f"FILTER (isIRI(?s) && STRSTARTS(STR(?g), \"{PAGE}\")) }} }}")
    data = Graph(store=sources.dataset.store, identifier=URIRef(work))
    entailed = reason.infer(data, Graph(store=sources.dataset.store,
                                        identifier=GRAPH_ONTOLOGY))
    if isinstance(entailed.store, OxigraphStore) and entailed.store._inner is store:
        store.update(f"ADD <{entailed.identifier}> TO <{GRAPH_INFERRED}>; "
                     f"DROP SILENT GRAPH <{entailed.identifier}>")
    else:  # an rdflib graph (a test's stand-in reasoner, for example)
        store.extend(ox.Quad(reason.to_ox(s), reason.to_ox(p), reason.to_ox(o), inferred)
                     for s, p, o in entailed)
    store.update(f"DROP SILENT GRAPH <{work}>")
    _write_oxigraph_cache(store, cache)
    return KnowledgeGraph(sources.dataset, sources, version, config)


def _write_oxigraph_cache(store: ox.Store, path: Path | None) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".inferred-", suffix=".nt")
        os.close(fd)
        store.dump(tmp, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(
            str(GRAPH_INFERRED)))
        os.replace(tmp, path)
    except OSError as error:  # a read-only cache folder only costs speed
        log.warning("could not write inference cache %s: %s", path, error)


def build(
    config: Mapping[str, Any] | None = None,
    data_paths: Iterable[Path | str] | None = None,
) -> KnowledgeGraph:
    """Load, derive and reason; reuse cached inferences when the inputs are unchanged."""
    config = load_config(config) if config is None or "root" not in config else config
    if config.get("fast_build") and config["base_iri"] == CANONICAL_BASE:
        if config.get("use_cache") and config.get("cache_dir"):
            return _build_on_disk(config, data_paths, Path(config["cache_dir"]) / "stores")
        return _build_oxigraph(config, data_paths)
    sources = load(config["root"], data_paths)
    dataset = sources.dataset
    if config["base_iri"] != CANONICAL_BASE:
        dataset = _rebase(dataset, config["base_iri"])
        sources = replace(sources, dataset=dataset)
    version = _version(sources.digest)
    cache = _cache_file(config, sources.digest)
    inferred = _read_cache(cache)
    if inferred is None:
        kg = KnowledgeGraph(dataset, sources, version, config)
        inferred = materialise(dataset, kg.ontology, kg.asserted())
        _write_cache(cache, inferred)
    target = dataset.graph(GRAPH_INFERRED)
    for triple in inferred:
        target.add(triple)
    return KnowledgeGraph(dataset, sources, version, config)
