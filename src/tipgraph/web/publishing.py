"""What the linked-data pages and dumps compute once per app and share between requests.

Everything here is derived from the app's knowledge graph, lazily (the first request that needs
it pays) and once: labels, the validation report, the ontology documentation, the dumps and
their checksums, the dataset description. A lock keeps two threads from computing the same
thing twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from rdflib import Graph

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.validate import Finding
from tipgraph.publish.describe import LabelIndex
from tipgraph.publish.formats import RDF_FORMATS, RdfFormat
from tipgraph.web.app import state

T = TypeVar("T")
log = logging.getLogger(__name__)


class Publishing:
    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self._lock = threading.RLock()
        self._cache: dict[Any, Any] = {}
        self._key_locks: dict[Any, threading.Lock] = {}
        self._validation: threading.Thread | None = None
        self._findings: dict[str, list[Finding]] | None = None
        self.validation_failed = False

    def _once(self, key: Any, compute: Callable[[], T]) -> T:
        """Compute a value once. One lock per key: a thread computing one dump (seconds) does
        not hold up a request that needs another value."""
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    @property
    def labels(self) -> LabelIndex:
        return self._once("labels", lambda: LabelIndex.of(self.kg))

    def findings(self, wait: float = 0.0) -> dict[str, list[Finding]] | None:
        """Validation findings by focus node (in ``short()`` form), or None while the report is
        still being computed: validating the whole graph takes long, so it runs in a background
        thread started on first need, and pages say "pending" meanwhile."""
        with self._lock:
            if self._validation is None:
                self._validation = threading.Thread(target=self._validate, daemon=True,
                                                    name="tipgraph-validation")
                self._validation.start()
        if wait:
            self._validation.join(wait)
        return self._findings

    def warm(self) -> Publishing:
        """Compute now what the first request of each kind would otherwise wait for (labels,
        class counts, the ontology documentation, the resources the browse page searches, and,
        up to ``warm_dumps_max_triples``, the dumps in every format with their checksums and the
        dataset description): the server calls it at start and before a reload's swap."""
        _ = (self.labels, self.context, self.class_counts, self.ontology_doc, self.resources)
        limit = int(self.kg.config.get("warm_dumps_max_triples", 100_000))
        if self.kg.triples <= limit:
            _ = self.void
        else:
            log.info("%d triples: the dumps and the dataset description are computed on "
                     "first request (warm_dumps_max_triples = %d)", self.kg.triples, limit)
        return self

    def adopt_findings(self, findings: list[Finding]) -> None:
        """Use a validation report already computed for this graph (a reload validates before
        it swaps the graph in) instead of validating again."""
        by_focus: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_focus[finding.focus].append(finding)
        with self._lock:
            if self._validation is None:
                self._findings = dict(by_focus)
                self._validation = threading.Thread(target=lambda: None)  # nothing left to do
                self._validation.start()

    def _validate(self) -> None:
        from tipgraph.model.validate import validate
        from tipgraph.model.validate_child import validate_elsewhere

        try:
            outcome, payload = validate_elsewhere(self.kg.config)  # not in the server's GIL
            if outcome == "ok" and payload[0] == self.kg.version:
                report = payload[1]
            else:  # a graph not built from its settings alone (a test's, for one): here
                report = validate(self.kg)
            by_focus: dict[str, list[Finding]] = defaultdict(list)
            for finding in report.findings:
                by_focus[finding.focus].append(finding)
            self._findings = dict(by_focus)
        except Exception:  # a broken shapes file must not take the pages down
            log.exception("validation for the entity pages failed")
            self._findings = {}
            self.validation_failed = True

    @property
    def resources(self) -> frozenset[Any]:
        """The resources the browse page searches by text (tipgraph.publish.browse)."""
        from tipgraph.publish.browse import resources

        return self._once("resources", lambda: resources(self.kg))

    @property
    def class_counts(self) -> dict[Any, int]:
        """Members of each class that are resources of this dataset (inferred types too)."""
        return self._once("class_counts",
                          lambda: self.kg.class_sizes(str(self.kg.config["base_iri"])))

    @property
    def ontology_doc(self):  # type: ignore[no-untyped-def]
        from tipgraph.publish.ontology_docs import ontology_doc

        return self._once("ontology_doc", lambda: ontology_doc(self.kg))

    @property
    def context(self) -> dict[str, Any]:
        from tipgraph.publish.export import jsonld_context

        return self._once("context", lambda: jsonld_context(self.kg))

    def dump(self, fmt: RdfFormat, inferred: bool) -> bytes:
        from tipgraph.publish.export import export

        return self._once(("dump", fmt.name, inferred), lambda: export(self.kg, fmt, inferred))

    def checksummed(self, fmt: RdfFormat) -> bool:
        """Whether the dataset description gives this format's dumps a size and checksum.

        A checksum needs the whole dump. N-Triples, N-Quads, Turtle and TriG are written from
        the engine (tipgraph.publish.enginedump; at a million triples one to two minutes of CPU
        each, benchmarks/README.md "Dumps at scale"): always. JSON-LD and RDF/XML go through
        rdflib in memory (an hour or more at a million triples): only up to
        ``warm_dumps_max_triples``; past that they are listed without size or checksum and
        written on their first request. A fixed rule, not "what has been computed so far", so
        the description of one build never changes."""
        from tipgraph.publish.enginedump import can_write

        limit = int(self.kg.config.get("warm_dumps_max_triples", 100_000))
        return can_write(self.kg, fmt) or self.kg.triples <= limit

    def checksums(self) -> dict[tuple[str, bool], tuple[int, str]]:
        """(format, inferred) -> (byte size, sha256) of the dumps that are checksummed. Up to
        ``warm_dumps_max_triples`` from the dumps kept for serving; past it each dump is hashed
        as it is written and dropped (keeping all eight would hold about 2 GB at a million
        triples), and the figures are kept in the cache folder for the next start."""
        from tipgraph.publish.derived import derived_file, read_derived, write_derived
        from tipgraph.publish.export import DUMP_BYTES_REVISION, dump_checksum

        limit = int(self.kg.config.get("warm_dumps_max_triples", 100_000))

        def compute() -> dict[tuple[str, bool], tuple[int, str]]:
            large = self.kg.triples > limit
            path = derived_file(self.kg, "dump-checksums", DUMP_BYTES_REVISION)
            saved = (read_derived(path, _decode_checksums) or {}) if large else {}
            result = {}
            for fmt in RDF_FORMATS:
                if not self.checksummed(fmt):
                    continue
                for inferred in (False, True):
                    key = (fmt.name, inferred)
                    if key in saved:
                        result[key] = saved[key]
                    elif large:
                        result[key] = dump_checksum(self.kg, fmt, inferred)
                    else:
                        data = self.dump(fmt, inferred)
                        result[key] = (len(data), hashlib.sha256(data).hexdigest())
            if large:
                write_derived(path, sorted([name, inferred, size, digest] for (name, inferred),
                                           (size, digest) in result.items()))
            return result
        return self._once("checksums", compute)

    @property
    def void(self) -> Graph:
        from tipgraph.publish.void import describe_dataset

        return self._once("void", lambda: describe_dataset(self.kg, self.checksums()))

    def void_document(self, fmt: RdfFormat) -> bytes:
        """The dataset description serialised in one format, once per format (tens of ms of
        CPU each time otherwise, on a route crawlers and harvesters call again and again)."""
        from tipgraph.publish.canonical import canonical_quads
        from tipgraph.publish.export import namespaces, serialize_quads
        from tipgraph.publish.void import GRAPH_VOID

        def compute() -> bytes:
            quads = canonical_quads((s, p, o, GRAPH_VOID if fmt.quads else None)
                                    for s, p, o in self.void)
            return serialize_quads(quads, fmt, namespaces(self.kg), self.context)
        return self._once(("void", fmt.name), compute)


_BY_GRAPH: dict[int, Publishing] = {}
_BY_GRAPH_LOCK = threading.Lock()


def publishing_for(kg: KnowledgeGraph) -> Publishing:
    """The publishing state of a built graph: shared by every app serving that same graph."""
    with _BY_GRAPH_LOCK:
        found = _BY_GRAPH.get(id(kg))
        if found is None or found.kg is not kg:
            if len(_BY_GRAPH) >= 4:  # graphs are built a few times per process at most
                _BY_GRAPH.pop(next(iter(_BY_GRAPH)))
            found = _BY_GRAPH[id(kg)] = Publishing(kg)
        return found


def publishing() -> Publishing:
    """The one accessor for the current app's shared publishing state."""
    return publishing_for(state().kg)


def _decode_checksums(rows: list) -> dict[tuple[str, bool], tuple[int, str]]:
    return {(name, bool(inferred)): (int(size), str(digest))
            for name, inferred, size, digest in rows}
