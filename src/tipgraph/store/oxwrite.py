"""Answers written by pyoxigraph itself: no rdflib terms, no Python serialiser.

The query worker's fast path on the oxigraph store (``OxigraphStore.serialized``). SELECT results
go straight from ``QuerySolutions.serialize`` into a ``Sink`` that keeps the bytes and counts the
rows as the writer streams them (8 KB at a time), so the max_result_rows limit still stops a
large result early. The counters read pyoxigraph's own output and are exact:

- TSV: one line per row (the writer escapes newlines in literals); the first line is the header.
- CSV: rows end with a line break outside quotes; a quoted field holds its quotes doubled, so
  the parity of the quotes seen so far says whether a line break is inside a field.
- XML: one ``<result>`` element per row (the writer escapes ``<`` in text).
- JSON: a row with a binding starts with ``[{"`` or ``,{"`` (see JsonSink for the exceptions,
  which are counted again on the whole body at the end, with the strings removed).

CONSTRUCT and DESCRIBE triples are taken up to the limit, then written by ``pyoxigraph.serialize``
with the prefixes a reader of tipgraph's data expects (unused ones dropped from Turtle).
Booleans, JSON-LD and anything else stay with tipgraph.query.results (rdflib).
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from tipgraph.model.namespaces import PREFIXES
from tipgraph.publish.formats import RDF_FORMATS, RESULT_FORMATS, rdf_format, result_format
from tipgraph.store.base import take, too_many

RESULT_WRITERS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
# N-Triples lines are N-Quads lines in the default graph, and a Turtle document is a TriG
# document whose triples are in the default graph: what the rdflib path writes for them too.
GRAPH_WRITERS = {"ntriples": ox.RdfFormat.N_TRIPLES, "nquads": ox.RdfFormat.N_TRIPLES,
                 "turtle": ox.RdfFormat.TURTLE, "trig": ox.RdfFormat.TURTLE,
                 "rdfxml": ox.RdfFormat.RDF_XML}
_PREFIX_LINE = re.compile(rb"@prefix ([^:\s]*): <[^>]*> \.\n")


class TooManyRows(Exception):
    """Raised by a Sink inside pyoxigraph's writer to stop it."""


class Sink:
    """A binary file for pyoxigraph's writers: keeps what is written, counts rows as they come,
    and stops the writer (TooManyRows) once there are more than ``max_rows``."""

    header = 0  # counted units that are not rows

    def __init__(self, max_rows: int | None) -> None:
        self.max_rows = max_rows
        self.chunks: list[bytes] = []
        self.units = 0

    @property
    def rows(self) -> int:
        return max(0, self.units - self.header)

    def count(self, data: bytes) -> int:
        raise NotImplementedError

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.chunks.append(data)
        self.units += self.count(data)
        if self.max_rows is not None and self.rows > self.max_rows:
            raise TooManyRows
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)

    def exact_rows(self) -> int:
        """The rows, once everything is written (the count while writing is exact, or, for
        JSON, a lower bound: see JsonSink)."""
        return self.rows


class TsvSink(Sink):
    header = 1

    def count(self, data: bytes) -> int:
        return data.count(b"\n")


class CsvSink(Sink):
    header = 1

    def __init__(self, max_rows: int | None) -> None:
        super().__init__(max_rows)
        self.quoted = False  # inside a quoted field at the end of what was written so far

    def count(self, data: bytes) -> int:
        if b'"' not in data:
            return 0 if self.quoted else data.count(b"\n")
        parts = data.split(b'"')
        outside = parts[1::2] if self.quoted else parts[0::2]
        self.quoted ^= (len(parts) - 1) % 2 == 1
        return sum(part.count(b"\n") for part in outside)


class XmlSink(Sink):
    TAG = b"<result>"  # (the tail kept is one byte shorter: a tag is never counted twice)

    def __init__(self, max_rows: int | None) -> None:
        super().__init__(max_rows)
        self.tail = b""

    def count(self, data: bytes) -> int:
        data = self.tail + data  # a tag cut between two writes
        self.tail = data[-(len(self.TAG) - 1):]
        return data.count(self.TAG)


class JsonSink(Sink):
    """Counts ``[{"`` and ``,{"``: where a row with a binding starts. Inside a string every quote
    is escaped (``\\"``); the one other way to write them is a string ending in ``[{`` or
    ``,{`` (its closing quote is then followed by ``:``, ``,`` or ``}``), so each ``{"`` followed
    by one of those is taken off: a lower bound, exact unless such a string or a row with no
    binding (``{}``) was seen; then ``exact_rows`` counts again on the whole body, its strings
    removed. (Byte counts: a regular expression over the stream costs 3 times as much.)"""

    ODD = re.compile(rb'\{"[:,}]')
    STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')

    def __init__(self, max_rows: int | None) -> None:
        super().__init__(max_rows)
        self.tail = b""
        self.suspect = False  # a string ending in "{", or "{}", was written

    @property
    def rows(self) -> int:
        # one row start may be counted before the byte that would take it off has come
        return max(0, self.units - 1)

    def count(self, data: bytes) -> int:
        data = self.tail + data  # a pattern cut between two writes (patterns are 3 bytes)
        self.tail = data[-2:]
        odd = len(self.ODD.findall(data))
        if odd or b"{}" in data:
            self.suspect = True
        return data.count(b',{"') + data.count(b'[{"') - odd

    def exact_rows(self) -> int:
        if not self.suspect:
            return self.units
        outside = self.STRING.sub(b'""', self.getvalue())
        return outside.count(b"[{") + outside.count(b",{")


SINKS = {"json": JsonSink, "xml": XmlSink, "csv": CsvSink, "tsv": TsvSink}


def write_solutions(result: ox.QuerySolutions, fmt: str,
                    max_rows: int | None) -> tuple[bytes, str, int] | None:
    """(body, media type, rows) of SELECT results; None for a format left to rdflib."""
    chosen = result_format(fmt) or RESULT_FORMATS[0]
    sink = SINKS[chosen.name](max_rows)
    try:
        result.serialize(sink, RESULT_WRITERS[chosen.name])
    except TooManyRows:
        raise too_many(max_rows or 0) from None
    rows = sink.exact_rows()
    if max_rows is not None and rows > max_rows:
        raise too_many(max_rows)
    return sink.getvalue(), chosen.media_type, rows


def graph_writer(fmt: str) -> ox.RdfFormat | None:
    return GRAPH_WRITERS.get((rdf_format(fmt) or RDF_FORMATS[0]).name)


def write_triples(result: ox.QueryTriples, fmt: str,
                  max_rows: int | None) -> tuple[bytes, str, int]:
    """(body, media type, triples) of CONSTRUCT or DESCRIBE results (see ``graph_writer``)."""
    chosen = rdf_format(fmt) or RDF_FORMATS[0]
    writer = GRAPH_WRITERS[chosen.name]
    triples = take(result, max_rows)
    body = ox.serialize(triples, format=writer, prefixes=PREFIXES)
    if writer == ox.RdfFormat.TURTLE:
        body = drop_unused_prefixes(body)
    return body, chosen.media_type, len(triples)


def drop_unused_prefixes(turtle: bytes) -> bytes:
    """Remove the ``@prefix`` lines whose name the document never uses (a name that appears
    anywhere else, even in a literal, is kept: harmless)."""
    lines, end = [], 0
    while (found := _PREFIX_LINE.match(turtle, end)) is not None:
        lines.append(found)
        end = found.end()
    body = turtle[end:]
    return b"".join(m.group() for m in lines if m.group(1) + b":" in body) + body
