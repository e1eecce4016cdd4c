"""Answer a SPARQL query in-process, for `tipgraph query` and the tests.

The same policy and the same store interface as the endpoint, in the calling process.
"""

from __future__ import annotations

import re

from rdflib import BNode, URIRef

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import PREFIXES
from tipgraph.query.policy import check_query
from tipgraph.query.results import serialize
from tipgraph.query.service import local_graph_names
from tipgraph.store import Answer, Store, open_store


def run_query(kg: KnowledgeGraph, sparql: str, store: Store | None = None) -> Answer:
    """Run a read-only query over the union of every graph (asserted, inferred, ontology)."""
    checked = check_query(sparql, local_graph_names(kg))
    store = store or open_store(kg, kg.config.get("store", "oxigraph"))
    return store.query(checked.sparql, checked.dataset)


_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?<!\.)")  # safe as a Turtle local name
# Longest namespaces first, so that page: wins over id: for a page IRI.
_NAMESPACES = sorted(((ns, name) for name, ns in PREFIXES.items()), key=lambda p: -len(p[0]))


def _cell(term: object) -> str:
    """A term as a person reads it in a table: IRIs as prefixed names where a known prefix
    fits (id:ecowas), blank nodes as _:b, literals as their text."""
    if term is None:
        return ""
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, URIRef):
        text = str(term)
        for namespace, name in _NAMESPACES:
            local = text[len(namespace):]
            if text.startswith(namespace) and _LOCAL_NAME.fullmatch(local):
                return f"{name}:{local}"
    return str(term)


def format_result(answer: Answer, fmt: str) -> str:
    if answer.kind == "graph":
        return serialize(answer, "turtle" if fmt == "table" else fmt)[0].decode("utf-8")
    if answer.kind == "boolean" and fmt == "table":
        return f"{str(answer.boolean).lower()}\n"
    if fmt != "table":
        text = serialize(answer, fmt)[0].decode("utf-8")
        return text if text.endswith("\n") else text + "\n"
    variables = answer.variables
    rows = [[_cell(term) for term in row] for row in answer.rows]
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
