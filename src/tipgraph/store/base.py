"""The one interface every query engine implements; answers in rdflib terms.

A store holds the built dataset: one named graph per source page, the curated graph, the
ontology, the shapes and the inferences. Without an explicit dataset a query's default graph is
the union of them all; GRAPH patterns see each named graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from rdflib.term import Node

from tipgraph.errors import QueryError
from tipgraph.query.policy import DatasetSpec


@dataclass
class Answer:
    """What a query gave, engine-neutral: solutions, a boolean, or triples."""

    kind: str  # "bindings", "boolean" or "graph"
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Node | None, ...]] = field(default_factory=list)
    boolean: bool = False
    triples: list[tuple[Node, Node, Node]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return {"bindings": len(self.rows), "graph": len(self.triples)}.get(self.kind, 1)


def too_many(max_rows: int) -> QueryError:
    return QueryError(f"the result has more than {max_rows} rows (the max_result_rows limit): "
                      "add a LIMIT, and an OFFSET to page through it")


def take(items, max_rows: int | None) -> list:
    """At most max_rows items; refuse (without reading further) when there are more."""
    taken = []
    for item in items:
        if max_rows is not None and len(taken) >= max_rows:
            raise too_many(max_rows)
        taken.append(item)
    return taken


class Store(ABC):
    """A read-only query engine over the built dataset."""

    backend: ClassVar[str]

    @abstractmethod
    def query(self, sparql: str, dataset: DatasetSpec | None = None,
              max_rows: int | None = None, base: str | None = None) -> Answer:
        """Run a query that already passed the policy. Raises QueryError (400) on bad syntax."""

    def serialized(self, sparql: str, fmt: str, dataset: DatasetSpec | None = None,
                   max_rows: int | None = None,
                   base: str | None = None) -> tuple[bytes, str, int] | None:
        """(body, media type, size) written by the engine itself, when it can write ``fmt``
        faster than tipgraph.query.results; None to take that path (the default)."""
        return None

    @abstractmethod
    def graph_names(self) -> list[str]:
        """The named graphs, sorted."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of quads."""

    def close(self) -> None:  # noqa: B027  (optional for backends)
        """Release what the store holds."""
