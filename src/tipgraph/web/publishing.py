"""What the linked-data pages and dumps compute once per app and share between requests.

Everything here is derived from the app's knowledge graph, lazily (the first request that needs
it pays) and once: labels, the validation report, the ontology documentation, the dumps and
their checksums, the dataset description. A lock keeps two threads from computing the same
thing twice.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app
from rdflib import Graph

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.validate import Finding
from tipgraph.publish.describe import LabelIndex
from tipgraph.publish.formats import RDF_FORMATS, RdfFormat
from tipgraph.web.app import state

EXTENSION = "tipgraph.publishing"
T = TypeVar("T")


class Publishing:
    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self._lock = threading.RLock()
        self._cache: dict[Any, Any] = {}

    def _once(self, key: Any, compute: Callable[[], T]) -> T:
        if key in self._cache:
            return self._cache[key]
        with self._lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    @property
    def labels(self) -> LabelIndex:
        return self._once("labels", lambda: LabelIndex(
            [self.kg.union(inferred=False, ontology=True)]))

    @property
    def findings(self) -> dict[str, list[Finding]]:
        """Validation findings by focus node (in ``short()`` form)."""
        def compute() -> dict[str, list[Finding]]:
            from tipgraph.model.validate import validate

            by_focus: dict[str, list[Finding]] = defaultdict(list)
            for finding in validate(self.kg).findings:
                by_focus[finding.focus].append(finding)
            return dict(by_focus)
        return self._once("findings", compute)

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

    def checksums(self) -> dict[tuple[str, bool], tuple[int, str]]:
        def compute() -> dict[tuple[str, bool], tuple[int, str]]:
            result = {}
            for fmt in RDF_FORMATS:
                for inferred in (False, True):
                    data = self.dump(fmt, inferred)
                    result[(fmt.name, inferred)] = (len(data), hashlib.sha256(data).hexdigest())
            return result
        return self._once("checksums", compute)

    @property
    def void(self) -> Graph:
        from tipgraph.publish.void import describe_dataset

        return self._once("void", lambda: describe_dataset(self.kg, self.checksums()))


def publishing() -> Publishing:
    """The one accessor for the app's shared publishing state."""
    app = current_app
    found = app.extensions.get(EXTENSION)
    if found is None or found.kg is not state().kg:
        found = app.extensions[EXTENSION] = Publishing(state().kg)
    return found
