"""Serialise an Answer: SPARQL results (JSON, XML, CSV, TSV) or RDF (the formats table).

Written from the W3C specifications (SPARQL 1.1 Query Results JSON, XML, CSV and TSV formats),
so the output is the same whatever engine answered.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from tipgraph.model.namespaces import PREFIXES
from tipgraph.publish.formats import RDF_FORMATS, RESULT_FORMATS, rdf_format, result_format
from tipgraph.query.policy import DatasetSpec
from tipgraph.store.base import Answer, Store

ASK_VARIABLE = "_askResult"  # how CSV and TSV carry an ASK answer (as Jena and others do)


def _json_term(term: Node) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype is not None and term.datatype != XSD.string:
        out["datatype"] = str(term.datatype)
    return out


def _json(answer: Answer) -> str:
    if answer.kind == "boolean":
        return json.dumps({"head": {}, "boolean": answer.boolean})
    bindings = [{name: _json_term(term) for name, term in zip(answer.variables, row, strict=True)
                 if term is not None} for row in answer.rows]
    return json.dumps({"head": {"vars": answer.variables}, "results": {"bindings": bindings}},
                      ensure_ascii=False)


_XML_CR = {"\r": "&#13;"}  # a raw carriage return would reach the reader as a line feed


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    assert isinstance(term, Literal)
    attribute = ""
    if term.language:
        attribute = f" xml:lang={quoteattr(term.language)}"
    elif term.datatype is not None and term.datatype != XSD.string:
        attribute = f" datatype={quoteattr(str(term.datatype))}"
    return f"<literal{attribute}>{escape(str(term), _XML_CR)}</literal>"


def _xml(answer: Answer) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "<head>"]
    out += [f"<variable name={quoteattr(name)}/>" for name in answer.variables]
    out.append("</head>")
    if answer.kind == "boolean":
        out.append(f"<boolean>{str(answer.boolean).lower()}</boolean>")
    else:
        out.append("<results>")
        for row in answer.rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
                    for name, term in zip(answer.variables, row, strict=True) if term is not None]
            out.append("</result>")
        out.append("</results>")
    out.append("</sparql>")
    return "\n".join(out) + "\n"


def _table(answer: Answer) -> tuple[list[str], list[tuple[Node | None, ...]]]:
    if answer.kind == "boolean":
        return [ASK_VARIABLE], [(Literal(answer.boolean),)]
    return answer.variables, answer.rows


def _csv(answer: Answer) -> str:
    names, rows = _table(answer)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as the CSV results spec says
    writer.writerow(names)
    for row in rows:
        writer.writerow(["" if t is None else f"_:{t}" if isinstance(t, BNode) else str(t)
                         for t in row])
    return out.getvalue()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_term(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    assert isinstance(term, Literal)
    text = f'"{str(term).translate(_TSV_ESCAPES)}"'
    if term.language:
        return f"{text}@{term.language}"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"{text}^^<{term.datatype}>"
    return text


def _tsv(answer: Answer) -> str:
    names, rows = _table(answer)
    lines = ["\t".join(f"?{name}" for name in names)]
    lines += ["\t".join(_tsv_term(term) for term in row) for row in rows]
    return "\n".join(lines) + "\n"


_RESULT_WRITERS = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}


def serialize(answer: Answer, fmt: str,
              prefixes: Mapping[str, str] = PREFIXES) -> tuple[bytes, str]:
    """(body, media type). ``fmt`` names a format of the table that fits the answer's kind;
    a format that does not fit falls back to the first one that does (JSON, or Turtle)."""
    if answer.kind == "graph":
        rdf = rdf_format(fmt) or RDF_FORMATS[0]
        dataset = Dataset()  # TriG and N-Quads: the triples go to the default graph
        graph = dataset.default_graph if rdf.quads else Graph()
        for prefix, namespace in prefixes.items():
            graph.bind(prefix, namespace)
        for triple in answer.triples:
            graph.add(triple)
        target = dataset if rdf.quads and rdf.name != "jsonld" else graph
        return target.serialize(format=rdf.rdflib, encoding="utf-8"), rdf.media_type
    results = result_format(fmt) or RESULT_FORMATS[0]
    return _RESULT_WRITERS[results.name](answer).encode("utf-8"), results.media_type


def run_serialized(store: Store, sparql: str, fmt: str, dataset: DatasetSpec | None = None,
                   max_rows: int | None = None,
                   base: str | None = None) -> tuple[bytes, str, int]:
    """(body, media type, size) of a query: written by the engine where it can (pyoxigraph:
    no rdflib terms), else through an Answer and ``serialize``."""
    direct = store.serialized(sparql, fmt, dataset, max_rows, base)
    if direct is not None:
        return direct
    answer = store.query(sparql, dataset, max_rows, base)
    body, media_type = serialize(answer, fmt)
    return body, media_type, answer.size
