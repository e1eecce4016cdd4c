"""Dumps of the whole knowledge graph: deterministic, atomic, in every format of the media table.

What a dump holds:
- the asserted data, one named graph per source page plus the curated graph;
- with ``inferred=True``, also the inferred graph (the reasoner's closure and the derived
  ``tip:describedOn`` page links);
- the dataset description (VoID + DCAT, ``tipgraph.publish.void``) in its own graph, without
  the byte sizes and checksums of the dumps (a file cannot contain its own checksum; those are at
  ``/.well-known/void``).

Quad formats (TriG, N-Quads, JSON-LD) keep the graph names, so each fact keeps the page it comes
from; triple formats (Turtle, N-Triples, RDF/XML) merge the graphs.

The same input gives byte-identical output: blank nodes get labels from their structure, quads
are sorted, N-Triples / N-Quads lines are sorted, JSON-LD keys and value arrays are sorted.
Files are written to a temporary file in the target folder, then renamed over the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph

from tipgraph.errors import ExportError
from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import (
    DCTERMS,
    GRAPH_INFERRED,
    OWL,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    TIP,
)
from tipgraph.publish.canonical import Quad, canonical_quads, quads_of, to_dataset, to_graph
from tipgraph.publish.enginedump import can_write, engine_dump, write_engine_dump
from tipgraph.publish.formats import RDF_FORMATS, RdfFormat, rdf_format


def resolve_format(name: str) -> RdfFormat:
    fmt = rdf_format(name)
    if fmt is None:
        names = ", ".join(f.name for f in RDF_FORMATS)
        raise ExportError(f"unknown format {name!r}: use one of {names}")
    return fmt


def namespaces(kg: KnowledgeGraph) -> dict[str, str]:
    """The prefixes used in serialisations, with ``id:`` following the configured base IRI."""
    result = dict(PREFIXES)
    result["id"] = kg.config["base_iri"]
    base = kg.config["base_iri"]
    result["page"] = PREFIXES["page"].replace(PREFIXES["id"], base, 1)
    for prefix, path in _SCHEME_PREFIXES.items():
        result[prefix] = base + path
    return result


# The concept-scheme prefixes of docs/curation.md, so dumps read like the data files.
_SCHEME_PREFIXES = {
    "itype": "instrument-type/", "btype": "body-type/", "inittype": "initiative-type/",
    "etype": "event-type/", "theme": "thematic-area/", "binding": "binding-status/",
    "lifecycle": "lifecycle-status/", "ctype": "count-type/", "scheme": "scheme/",
}


def dump_quads(kg: KnowledgeGraph, inferred: bool = False, description: bool = True) -> list[Quad]:
    """The quads a dump holds, canonical and sorted."""
    quads: list[Quad] = []
    names = list(kg.data_graph_names()) + ([GRAPH_INFERRED] if inferred else [])
    for name in names:
        quads += [(s, p, o, name) for s, p, o in kg.graph(name)]
    if description:
        quads += description_quads(kg)
    return canonical_quads(quads)


def description_quads(kg: KnowledgeGraph) -> list[Quad]:
    """The dataset description as a dump holds it: its own graph, no checksums."""
    from tipgraph.publish.void import GRAPH_VOID, describe_dataset

    return [(s, p, o, GRAPH_VOID) for s, p, o in describe_dataset(kg)]


# --- JSON-LD context ------------------------------------------------------------------------

# Terms of W3C vocabularies that the data uses often enough to deserve a readable key.
_COMMON_TERMS = {
    "prefLabel": (SKOS.prefLabel, False), "altLabel": (SKOS.altLabel, False),
    "definition": (SKOS.definition, False), "inScheme": (SKOS.inScheme, True),
    "topConceptOf": (SKOS.topConceptOf, True), "exactMatch": (SKOS.exactMatch, True),
    "label": (RDFS.label, False), "comment": (RDFS.comment, False),
    "title": (DCTERMS.title, False), "description": (DCTERMS.description, False),
    "issued": (DCTERMS.issued, False), "contributor": (DCTERMS.contributor, True),
    "extent": (DCTERMS.extent, False), "license": (DCTERMS.license, True),
    "source": (DCTERMS.source, True),
}


def jsonld_context(kg: KnowledgeGraph) -> dict[str, Any]:
    """The published JSON-LD context (``/context.jsonld``): prefixes, and a readable key for each
    tipgraph property (generated from the ontology) and common W3C terms."""
    context: dict[str, Any] = dict(sorted(namespaces(kg).items()))
    ontology = kg.ontology
    object_props = set(ontology.subjects(RDF.type, OWL.ObjectProperty))
    own = sorted({p for t in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
                  for p in ontology.subjects(RDF.type, t) if str(p).startswith(str(TIP))})
    for prop in own:
        name = str(prop)[len(str(TIP)):]
        if name and name not in context:
            context[name] = {"@id": f"tip:{name}", **({"@type": "@id"}
                                                      if prop in object_props else {})}
    for name, (iri, is_object) in sorted(_COMMON_TERMS.items()):
        if name not in context:
            compact = next(f"{p}:{str(iri)[len(ns):]}" for p, ns in PREFIXES.items()
                           if str(iri).startswith(ns) and p != "id")
            context[name] = {"@id": compact, **({"@type": "@id"} if is_object else {})}
    return context


def _sort_json(value: Any, key: str | None = None) -> Any:
    """Sort value arrays (JSON-LD sets are unordered; @list arrays keep their order)."""
    if isinstance(value, dict):
        return {k: _sort_json(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sort_json(v) for v in value]
        if key == "@list":
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def _jsonld(data: Graph, context: dict[str, Any]) -> bytes:
    text = data.serialize(format="json-ld", context=context, auto_compact=True)
    document = _sort_json(json.loads(text))
    if isinstance(document, dict) and "@context" in document:
        document["@context"] = context  # keep the context's own key order (prefixes first)
    return (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()


# --- serialisation --------------------------------------------------------------------------


def serialize_quads(quads: list[Quad], fmt: RdfFormat, prefixes: dict[str, str],
                    context: dict[str, Any] | None = None) -> bytes:
    """Serialise canonical quads; byte-identical for the same quads."""
    if fmt.name in {"ntriples", "nquads"}:
        data = to_dataset(quads) if fmt.quads else to_graph(quads)
        text = data.serialize(format=fmt.rdflib, encoding="utf-8").decode("utf-8")
        lines = sorted(set(line for line in text.splitlines() if line.strip()))
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    data = to_dataset(quads, prefixes) if fmt.quads else to_graph(quads, prefixes)
    if fmt.name == "jsonld":
        return _jsonld(data, context or dict(sorted(prefixes.items())))
    return data.serialize(format=fmt.rdflib, encoding="utf-8")


def export(kg: KnowledgeGraph, fmt: str | RdfFormat, inferred: bool = False) -> bytes:
    """The whole graph in one format, as bytes. On a graph held by pyoxigraph, N-Triples,
    N-Quads, Turtle and TriG are written from the engine (tipgraph.publish.enginedump: the line
    formats the same bytes as rdflib's, a million triples in about a minute); JSON-LD, RDF/XML
    and any graph held by rdflib go through rdflib."""
    fmt = resolve_format(fmt) if isinstance(fmt, str) else fmt
    if can_write(kg, fmt):
        return engine_dump(kg, fmt, inferred, description_quads(kg), namespaces(kg))
    return serialize_quads(dump_quads(kg, inferred), fmt, namespaces(kg), jsonld_context(kg))


def parse_dump(data: bytes, fmt: str | RdfFormat) -> list[Quad]:
    """Read a dump back (for round-trip checks and tools): its quads, canonical and sorted."""
    from rdflib import Dataset

    fmt = resolve_format(fmt) if isinstance(fmt, str) else fmt
    if fmt.quads:
        dataset = Dataset()
        dataset.parse(data=data, format=fmt.rdflib)
        return canonical_quads(quads_of(dataset))
    graph = Graph().parse(data=data, format=fmt.rdflib)
    return canonical_quads(quads_of(graph))


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    inferred: bool
    size: int
    sha256: str


def write_atomically(path: Path, data: bytes | Callable[[Callable[[bytes], object]], object],
                     ) -> tuple[int, str]:
    """Write to a temporary file beside ``path``, then rename it over ``path``; its byte size
    and sha256. ``data`` is the bytes, or a function that writes them in pieces to the
    ``write`` it is given (a large dump need not be in memory whole)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            write = _Measured(out.write)
            if isinstance(data, bytes | bytearray):
                write(data)
            else:
                data(write)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {error.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return write.size, write.digest.hexdigest()


class _Measured:
    """A ``write`` that counts and hashes (sha256) the bytes on their way to ``out``."""

    def __init__(self, out: Callable[[bytes], object] = lambda piece: None) -> None:
        self.out, self.digest, self.size = out, hashlib.sha256(), 0

    def __call__(self, piece: bytes) -> None:
        self.out(piece)
        self.digest.update(piece)
        self.size += len(piece)


def write_export(kg: KnowledgeGraph, fmt: str, path: Path | str,
                 inferred: bool = False) -> ExportResult:
    """Export to a file atomically (a reader never sees a half-written dump). Formats written
    from the engine go to the file in pieces, never whole in memory."""
    resolved = resolve_format(fmt)
    if can_write(kg, resolved):
        description, prefixes = description_quads(kg), namespaces(kg)
        size, digest = write_atomically(Path(path), lambda write: write_engine_dump(
            kg, resolved, inferred, write, description, prefixes))
    else:
        size, digest = write_atomically(Path(path), export(kg, resolved, inferred))
    return ExportResult(Path(path), resolved.name, inferred, size, digest)


# Bumped whenever a writer changes the bytes of a dump: checksums saved in the cache folder
# under an older revision are not reused (a development tree keeps tipgraph's version number).
DUMP_BYTES_REVISION = 2  # 2: Turtle and TriG written by pyoxigraph


def dump_checksum(kg: KnowledgeGraph, fmt: RdfFormat, inferred: bool = False,
                  ) -> tuple[int, str]:
    """The byte size and sha256 of a dump, without keeping it (engine formats are hashed as
    they are written, never whole in memory)."""
    if not can_write(kg, fmt):
        data = export(kg, fmt, inferred)
        return len(data), hashlib.sha256(data).hexdigest()
    measured = _Measured()
    write_engine_dump(kg, fmt, inferred, measured, description_quads(kg), namespaces(kg))
    return measured.size, measured.digest.hexdigest()


def dump_filename(fmt: RdfFormat, inferred: bool = False) -> str:
    """The file name of a dump, as served under /dumps/ and listed in the VoID."""
    return f"tipgraph{'-inferred' if inferred else ''}.{fmt.suffix}"


__all__ = ["ExportResult", "description_quads", "dump_checksum", "dump_filename", "dump_quads",
           "export", "jsonld_context", "namespaces", "parse_dump", "resolve_format",
           "serialize_quads", "write_atomically", "write_export"]
