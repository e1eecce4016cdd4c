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
from collections.abc import Callable
from dataclasses import dataclass

from rdflib import URIRef
from rdflib.term import Node

from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import RDF
from tipgraph.publish.describe import ALT_LABEL_PROPERTIES, LABEL_PROPERTIES

_NOT_IN_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')  # what SPARQL's IRIREF cannot hold


@dataclass(frozen=True)
class Found:
    iri: URIRef
    label: str
    types: tuple[str, ...]  # labels of its asserted classes, sorted


def _literal(text: str) -> str:
    """A SPARQL string literal of any text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def _members(kg: KnowledgeGraph, cls: URIRef | None, text: str) -> str:
    """The graph pattern binding ?s to every candidate (a superset of the matches)."""
    base = _literal(str(kg.config["base_iri"]))
    if cls is None:
        pattern = (f"GRAPH ?g {{ ?s ?p ?o }} "
                   f"{not_in(kg.graphs_outside(inferred=False, ontology=False))}")
    else:
        pattern = (f"GRAPH ?g {{ ?s a <{cls}> }} "
                   f"{not_in(kg.graphs_outside(inferred=True, ontology=False))}")
    narrow = ""
    if text and "\\" not in text:  # (a backslash could start a \u escape: no narrowing then)
        names = " ".join(f"<{p}>" for p in (*LABEL_PROPERTIES, *ALT_LABEL_PROPERTIES))
        needle = _literal(text.lower())
        narrow = (f"FILTER(CONTAINS(LCASE(STR(?s)), {needle}) || EXISTS {{ VALUES ?n "
                  f"{{ {names} }} GRAPH ?h {{ ?s ?n ?name }} "
                  f"FILTER(CONTAINS(LCASE(STR(?name)), {needle})) }})")
    return (f"{{ SELECT DISTINCT ?s WHERE {{ {pattern} "
            f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {base})) {narrow} }} }}")


def find(kg: KnowledgeGraph, label_of: Callable[[Node], str], cls: URIRef | None = None,
         text: str = "") -> list[Found]:
    """Every match, sorted by label (lower case) then IRI."""
    if cls is None and not text:
        return []
    if cls is not None and _NOT_IN_IRI.search(cls):
        return []  # no such class can be in the data (and the text must not reach the query)
    candidates = {s for (s,) in kg.select(f"SELECT ?s WHERE {_members(kg, cls, text)}")}
    asserted = not_in(kg.graphs_outside(inferred=False, ontology=False))
    wanted = " ".join(f"<{p}>" for p in (RDF.type, *ALT_LABEL_PROPERTIES))
    facts: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in kg.select(f"SELECT DISTINCT ?s ?p ?o WHERE {{ {_members(kg, cls, text)} "
                             f"VALUES ?p {{ {wanted} }} GRAPH ?g {{ ?s ?p ?o }} {asserted} }}"):
        facts[s][p].append(o)
    needle = text.lower()
    found = []
    for s in candidates:
        names = [label_of(s)] + [str(o) for p in ALT_LABEL_PROPERTIES for o in facts[s][p]]
        if needle and not any(needle in n.lower() for n in names) and needle not in str(s):
            continue
        types = tuple(sorted({label_of(t) for t in facts[s][RDF.type]}))
        found.append(Found(s, label_of(s), types))
    found.sort(key=lambda f: (f.label.lower(), str(f.iri)))
    return found
