"""Dumps written from the pyoxigraph store: N-Triples and N-Quads line by line, Turtle and
TriG by pyoxigraph's writers from those lines.

The rdflib path (``export.serialize_quads`` over ``dump_quads``) converts every quad to rdflib,
canonicalises blank nodes over the whole dataset and builds an rdflib Dataset only to print
lines: at a million triples it had not finished after 7 minutes of CPU and 3.6 GB. This path
gives the same bytes in 77 s of CPU and 0.73 GB (benchmarks/README.md, "Dumps at scale"):

- quads are read from the engine and each line is spelled the way rdflib's N-Triples / N-Quads
  serialisers spell it (``_quoteLiteral``: only backslash, newline, quote and carriage return
  escaped); a typed literal goes through rdflib's own ``Literal`` (once per distinct value), so
  its normalisation of lexical forms applies as before;
- only the quads that hold a blank node go through rdflib's canonicaliser: its colouring starts
  from the triples that touch a blank node and never reads a ground one
  (``rdflib.compare._TripleCanonicalizer._initial_color``), so the labels are the ones the whole
  dataset would give (tests/test_enginedump.py checks this against the rdflib path);
- lines are sorted (as UTF-8 bytes: the same order as code points) and deduplicated, as before.

One difference, on purpose: the rdflib path split its output with ``str.splitlines``, which
also breaks at U+2028, U+0085 and other separators rdflib leaves unescaped inside literals,
and so cut such a literal in two. Here a line is always one whole quad.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.plugins.serializers.nquads import _nq_row
from rdflib.plugins.serializers.nt import _nt_row, _quote_encode, _quoteLiteral

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import GRAPH_INFERRED
from tipgraph.model.reason import from_ox
from tipgraph.publish.canonical import Quad, canonical_quads
from tipgraph.publish.formats import RdfFormat

LINE_FORMATS = frozenset({"ntriples", "nquads"})
# Written by pyoxigraph from the sorted lines: deterministic, since its writers keep the input
# order and the labels of blank nodes they are given (different bytes from rdflib's writers).
# Not RDF/XML: pyoxigraph 0.5 writes a carriage return in a literal as is, and XML parsers
# read it back as a line feed (rdflib writes &#13;); it stays with rdflib.
_OX_WRITERS = {"turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TRIG}
ENGINE_FORMATS = LINE_FORMATS | frozenset(_OX_WRITERS)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def can_write(kg: KnowledgeGraph, fmt: RdfFormat) -> bool:
    """True when this module writes ``fmt`` for ``kg``: N-Triples, N-Quads, Turtle and TriG
    of a graph held by pyoxigraph."""
    return fmt.name in ENGINE_FORMATS and kg.oxigraph is not None


def engine_dump(kg: KnowledgeGraph, fmt: RdfFormat, inferred: bool,
                description: Iterable[Quad] = (), prefixes: dict[str, str] | None = None,
                ) -> bytes:
    """The dump of ``kg`` plus the ``description`` quads (rdflib terms). N-Triples and N-Quads
    are byte-identical to the rdflib path; Turtle and TriG are pyoxigraph's writing of those
    same sorted lines (grouped by graph for TriG), with ``prefixes``."""
    chunks: list[bytes] = []
    write_engine_dump(kg, fmt, inferred, chunks.append, description, prefixes)
    return b"".join(chunks)


def write_engine_dump(kg: KnowledgeGraph, fmt: RdfFormat, inferred: bool,
                      write: Callable[[bytes], object], description: Iterable[Quad] = (),
                      prefixes: dict[str, str] | None = None) -> None:
    """``engine_dump`` handed to ``write`` in pieces, so that the dump is not also joined in
    memory (N-Quads with inferences at a million triples: 0.48 GB of lines)."""
    if not can_write(kg, fmt):
        raise ValueError(f"{fmt.name} of this graph is written through rdflib, not the engine")
    lines = _sorted_lines(kg, fmt.quads, inferred, description)
    if fmt.name in LINE_FORMATS:
        for start in range(0, len(lines), _CHUNK):
            write(b"".join(lines[start:start + _CHUNK]))
        return
    if fmt.quads:  # TriG writes one block per run of a graph: all of a graph's lines together
        lines.sort(key=_graph_of)  # stable: each graph's lines stay sorted
    data = b"".join(lines)
    del lines
    quads = ox.parse(data, format=ox.RdfFormat.N_QUADS if fmt.quads else ox.RdfFormat.N_TRIPLES)
    write(ox.serialize(quads, format=_OX_WRITERS[fmt.name],
                       prefixes=dict(sorted((prefixes or {}).items()))))


_CHUNK = 65536  # lines per write


def _sorted_lines(kg: KnowledgeGraph, with_graph: bool, inferred: bool,
                  description: Iterable[Quad]) -> list[bytes]:
    """The N-Quads (``with_graph``) or N-Triples lines of the dump, sorted, each once."""
    lines: list[bytes] = []
    blank: list[Quad] = []
    names = list(kg.data_graph_names()) + ([GRAPH_INFERRED] if inferred else [])
    for name in names:
        lines.extend(_ground_lines(kg.oxigraph, name, with_graph, blank))
    for s, p, o, g in description:
        if _has_blank(s, o):
            blank.append((s, p, o, g))
        else:
            lines.append(_rdflib_line(s, p, o, g, with_graph))
    lines.extend(_rdflib_line(s, p, o, g, with_graph) for s, p, o, g in canonical_quads(blank))
    del blank
    lines.sort()
    return list(_unique(lines))


def _graph_of(line: bytes) -> bytes:
    return line.rsplit(b" ", 2)[1]  # `... <graph> .\n`: an IRI has no space


def _ground_lines(store: ox.Store, name: URIRef, with_graph: bool,
                  blank: list[Quad]) -> Iterator[bytes]:
    """The lines of one named graph's ground quads; its quads with a blank node go to ``blank``
    (as rdflib terms) for the canonicaliser."""
    tail = f" <{name}> .\n" if with_graph else " .\n"
    named, blank_node = ox.NamedNode, ox.BlankNode
    for quad in store.quads_for_pattern(None, None, None, named(str(name))):
        s, o = quad.subject, quad.object
        if type(s) is blank_node or type(o) is blank_node:
            blank.append((from_ox(s), from_ox(quad.predicate), from_ox(o), name))
            continue
        obj = f"<{o.value}>" if type(o) is named else _literal(o)
        yield f"<{s.value}> <{quad.predicate.value}> {obj}{tail}".encode()


def _literal(term: ox.Literal) -> str:
    language = term.language
    if language:
        return f"{_quote_encode(term.value)}@{_language(language)}"
    datatype = term.datatype.value
    if datatype == _XSD_STRING:  # rdflib's plain literal (tipgraph.model.oxstore.plain)
        return _quote_encode(term.value)
    return _typed(term.value, datatype)


@functools.lru_cache(maxsize=1024)
def _language(tag: str) -> str:
    return str(Literal("", lang=tag).language)


@functools.lru_cache(maxsize=65536)
def _typed(value: str, datatype: str) -> str:
    """rdflib's spelling of a typed literal (it may normalise the lexical form)."""
    return _quoteLiteral(Literal(value, datatype=URIRef(datatype)))


def _has_blank(*terms: object) -> bool:
    return any(isinstance(t, BNode) for t in terms)


def _rdflib_line(s, p, o, g, with_graph: bool) -> bytes:  # type: ignore[no-untyped-def]
    return (_nq_row((s, p, o), g) if with_graph else _nt_row((s, p, o))).encode()


def _unique(sorted_lines: list[bytes]) -> Iterator[bytes]:
    previous = None
    for line in sorted_lines:
        if line != previous:
            yield line
            previous = line
