"""Answer a SPARQL query in-process, for `tipgraph query` and the tests."""

from __future__ import annotations

import csv
import io
import json

from rdflib import Graph
from rdflib.query import Result

from tipgraph.errors import QueryError
from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import PREFIXES


def run_query(kg: KnowledgeGraph, sparql: str) -> Result:
    """Run a read-only query over the union of every graph (asserted, inferred, ontology)."""
    from tipgraph.query.policy import check_query

    parsed = check_query(sparql)
    try:
        return kg.dataset.query(parsed, initNs=PREFIXES)
    except Exception as error:  # evaluation errors from rdflib (bad function arguments...)
        raise QueryError(f"the query failed: {error}") from None


def _cell(term: object) -> str:
    return "" if term is None else str(term)


def format_result(result: Result, fmt: str) -> str:
    if result.type in {"CONSTRUCT", "DESCRIBE"}:
        graph = result.graph if result.graph is not None else Graph()
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns)
        return graph.serialize(format="turtle" if fmt in {"table", "turtle"} else "json-ld")
    if result.type == "ASK":
        answer = bool(result.askAnswer)
        return json.dumps({"head": {}, "boolean": answer}) + "\n" if fmt == "json" else (
            f"{str(answer).lower()}\n")
    if fmt == "json":
        return result.serialize(format="json").decode("utf-8") + "\n"
    variables = [str(v) for v in result.vars or []]
    rows = [[_cell(row[i]) for i in range(len(variables))] for row in result]
    if fmt in {"csv", "tsv"}:
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(variables)
        writer.writerows(rows)
        return out.getvalue()
    widths = [max([len(v)] + [len(r[i]) for r in rows]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"
