"""The browse page's search: resources of the dataset by name, by class, or both.

Read by the engine (``KnowledgeGraph.select``), not from a merged rdflib copy of the graph: at a
million triples that copy took minutes and gigabytes on the first search. The engine narrows the
candidates with a test that keeps every possible match (any label, acronym or alternative label
containing the text, or the IRI containing it, compared in lower case); the exact rule below is
then applied to those few in Python, so the result is the same as reading the whole graph.

The rule: a resource is an IRI under the data's base IRI that is the subject of an asserted
triple (or, with a class, a member of that class, inferred types included); it matches the text
when its label, one of its acronyms or alternative labels (lower-cased) contains the text
(lower-cased), or its IRI contains the text as typed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.term import Node

from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import RDF
from tipgraph.publish.describe import ALT_LABEL_PROPERTIES, LABEL_PROPERTIES
from tipgraph.query.policy import IRIREF_FORBIDDEN

CHUNK = 500  # subjects per query when reading their facts
_NOT_IN_IRI = re.compile(f"[{IRIREF_FORBIDDEN}]")


@dataclass(frozen=True)
class Found:
    iri: URIRef
    label: str
    types: tuple[str, ...]  # labels of its asserted classes, sorted


def _literal(text: str) -> str:
    """A SPARQL string literal of any text (rdflib's Turtle form is valid SPARQL)."""
    return Literal(text).n3()


def resources(kg: KnowledgeGraph) -> frozenset[Node]:
    """Every IRI under the data's base IRI that is the subject of an asserted triple (worth
    keeping for the life of a build: a second at 250k triples)."""
    base = _literal(str(kg.config["base_iri"]))
    return frozenset(s for (s,) in kg.select(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"{not_in(kg.graphs_outside(inferred=False, ontology=False))} "
        f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {base})) }}"))


def _members(kg: KnowledgeGraph, cls: URIRef) -> set[Node]:
    """The class's members under the base IRI, inferred types included."""
    base = _literal(str(kg.config["base_iri"]))
    return {s for (s,) in kg.select(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a <{cls}> }} "
        f"{not_in(kg.graphs_outside(inferred=True, ontology=False))} "
        f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {base})) }}")}


def _named(kg: KnowledgeGraph, text: str) -> set[Node]:
    """Whatever has a label, acronym or alternative label containing ``text``, in lower case,
    in any graph: a superset of the names the rule reads."""
    names = " ".join(f"<{p}>" for p in (*LABEL_PROPERTIES, *ALT_LABEL_PROPERTIES))
    return {s for (s,) in kg.select(
        f"SELECT DISTINCT ?s WHERE {{ VALUES ?n {{ {names} }} GRAPH ?g {{ ?s ?n ?name }} "
        f"FILTER(CONTAINS(LCASE(STR(?name)), {_literal(text.lower())})) }}")}


def _facts(kg: KnowledgeGraph, subjects: Iterable[Node]) -> dict[Node, dict[Node, list[Node]]]:
    """The asserted types, acronyms and alternative labels of each subject."""
    asserted = not_in(kg.graphs_outside(inferred=False, ontology=False))
    facts: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
    listed = sorted(str(s) for s in subjects)
    for start in range(0, len(listed), CHUNK):
        values = " ".join(f"<{s}>" for s in listed[start:start + CHUNK])
        for p in (RDF.type, *ALT_LABEL_PROPERTIES):  # (one at a time: ten times faster)
            for s, o in kg.select(f"SELECT DISTINCT ?s ?o WHERE {{ VALUES ?s {{ {values} }} "
                                  f"GRAPH ?g {{ ?s <{p}> ?o }} {asserted} }}"):
                facts[s][p].append(o)
    return facts


def find(kg: KnowledgeGraph, label_of: Callable[[Node], str], cls: URIRef | None = None,
         text: str = "", everything: Callable[[], frozenset[Node]] | None = None) -> list[Found]:
    """Every match, sorted by label (lower case) then IRI. ``everything`` gives ``resources``
    (kept by the caller), for a search by text alone."""
    if cls is None and not text:
        return []
    if cls is not None and _NOT_IN_IRI.search(cls):
        return []  # no such class can be in the data (and the text must not reach the query)
    candidates = _members(kg, cls) if cls is not None else (everything or (
        lambda: resources(kg)))()
    needle = text.lower()
    if text and "\\" not in text:  # (a backslash could start a \u escape: not narrowed then)
        named = _named(kg, text)
        candidates = {s for s in candidates if s in named or needle in str(s).lower()}
    facts = _facts(kg, candidates)
    found = []
    for s in candidates:
        names = [label_of(s)] + [str(o) for p in ALT_LABEL_PROPERTIES for o in facts[s][p]]
        if needle and not any(needle in n.lower() for n in names) and needle not in str(s):
            continue
        types = tuple(sorted({label_of(t) for t in facts[s][RDF.type]}))
        found.append(Found(s, label_of(s), types))
    found.sort(key=lambda f: (f.label.lower(), str(f.iri)))
    return found
