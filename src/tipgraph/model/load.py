"""Read the ontology, data and shapes files into one rdflib Dataset with named graphs.

Graph layout:
- the ontology files go to GRAPH_ONTOLOGY, the shapes files to GRAPH_SHAPES;
- in the data, a TriG graph named by a source page (``page:14 { ... }``) keeps that name: the
  graph name *is* the citation of every fact in it;
- data outside any page graph (a .ttl file, or the default graph of a .trig file) goes to
  GRAPH_CURATED: tipgraph's own vocabulary and curators' notes, not facts from the source.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from tipgraph.errors import DataLoadError
from tipgraph.model.namespaces import (
    GRAPH_CURATED,
    GRAPH_ONTOLOGY,
    GRAPH_SHAPES,
    VOCABULARY_MOVED,
    rebase_vocabulary,
)
from tipgraph.model.oxstore import TipgraphOxigraphStore

RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads"}
OX_FORMATS = {".ttl": ox.RdfFormat.TURTLE, ".trig": ox.RdfFormat.TRIG,
              ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS}


@dataclass
class LoadedSources:
    """What the files gave: the dataset, and where each subject was written (for reports)."""

    dataset: Dataset
    files: list[Path]
    digest: str
    subject_files: Mapping[URIRef, set[str]] = field(default_factory=dict)
    # subjects written outside any named graph (so into the curated graph), and by which files
    curated_files: Mapping[URIRef, set[str]] = field(default_factory=dict)


def rdf_files(folder: Path) -> list[Path]:
    """The RDF files under a folder, in a stable order."""
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in RDF_SUFFIXES and p.is_file())


def _hint(detail: str) -> str:
    prefix = re.search(r'Prefix "([^"]*)" not bound', detail)
    if prefix:
        name = prefix.group(1)
        return (f"Add `@prefix {name} <...> .` at the top of the file, or fix the typo in "
                f"`{name}`")
    if "newline found in string literal" in detail:
        return "Close the string with a quote on the same line, or use triple quotes"
    if "expected '.'" in detail.lower() or "EOF found" in detail:
        return "A statement is not ended: check for a missing ' .', ' ;' or a closing bracket"
    return ""


def _syntax_error(path: Path, error: Exception) -> DataLoadError:
    if isinstance(error, BadSyntax):
        why = getattr(error, "_why", str(error))
        return DataLoadError(path, _bad_syntax_line(error), f"bad syntax ({why})", _hint(why))
    text = str(error)
    match = re.search(r"line (\d+)", text)
    return DataLoadError(path, int(match.group(1)) if match else None, text.splitlines()[0]
                         if text else type(error).__name__, _hint(text))


def _bad_syntax_line(error: BadSyntax) -> int | None:
    """The line of the error's position in the document. (rdflib's own ``lines`` counter
    counts a newline again each time its parser backtracks over it: at the end of a file it
    can name a line past the last.)"""
    document, offset = getattr(error, "_str", None), getattr(error, "_i", None)
    if isinstance(document, bytes) and isinstance(offset, int):
        return document[:offset].count(b"\n") + 1
    lines = getattr(error, "lines", None)
    return None if lines is None else lines + 1


def parse_file(path: Path) -> Dataset:
    """Parse one RDF file into a Dataset of its own, turning any failure into a DataLoadError."""
    fmt = RDF_SUFFIXES.get(path.suffix)
    if fmt is None:
        raise DataLoadError(path, None, f"unsupported file type {path.suffix!r}",
                            f"Use one of {', '.join(sorted(RDF_SUFFIXES))}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise DataLoadError(path, line, "the file is not valid UTF-8",
                            "Save it as UTF-8") from None
    except OSError as error:
        raise DataLoadError(path, None, f"cannot read the file ({error.strerror})") from None
    text = rebase_vocabulary(text)  # same lines: error positions hold
    parsed = Dataset()
    try:
        if fmt in {"trig", "nquads"}:
            parsed.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
        else:
            parsed.default_graph.parse(data=text, format=fmt, publicID=path.resolve().as_uri())
    except Exception as error:  # rdflib raises many unrelated types for bad syntax
        raise _syntax_error(path, error) from None
    return parsed


def _copy_into(
    target: Dataset, parsed: Dataset, default_graph: URIRef,
) -> Iterable[tuple[URIRef, URIRef]]:
    """Copy the quads of a parsed file; yield the subjects it wrote, with their graph."""
    for s, p, o, g in parsed.quads((None, None, None, None)):
        name = g if isinstance(g, URIRef) and str(g) != "urn:x-rdflib:default" else default_graph
        if isinstance(g, Graph):
            name = g.identifier if str(g.identifier) != "urn:x-rdflib:default" else default_graph
        target.add((s, p, o, target.graph(name)))
        if not isinstance(s, BNode):
            yield s, name


def _plan(root: Path, data_paths: Iterable[Path | str] | None) -> list[tuple[Path, URIRef]]:
    """Every file to load, with the graph its default-graph triples go to."""
    data_files = ([f for p in data_paths for f in rdf_files(Path(p))] if data_paths is not None
                  else rdf_files(root / "data"))
    if not data_files:
        where = ", ".join(str(p) for p in data_paths) if data_paths is not None else root / "data"
        raise DataLoadError(str(where), None, "no RDF files found",
                            "Give a folder or files ending in .ttl, .trig, .nt or .nq")
    plan = [(f, GRAPH_ONTOLOGY) for f in rdf_files(root / "ontology")]
    plan += [(f, GRAPH_SHAPES) for f in rdf_files(root / "shapes")]
    return plan + [(f, GRAPH_CURATED) for f in data_files]


def _digest_file(digest: hashlib._Hash, path: Path, root: Path) -> None:
    digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
    digest.update(path.read_bytes())


class _SubjectFiles(Mapping):
    """subject -> files that state facts about it, computed on first use (by validation
    reports) by reading the data files again with pyoxigraph's parser."""

    def __init__(self, plan: list[tuple[Path, URIRef]], root: Path, curated_only: bool) -> None:
        self._plan, self._root, self._curated_only = plan, root, curated_only
        self._map: dict[URIRef, set[str]] | None = None

    def _get(self) -> dict[URIRef, set[str]]:
        if self._map is None:
            found: dict[URIRef, set[str]] = defaultdict(set)
            for path, default_graph in self._plan:
                if default_graph != GRAPH_CURATED:
                    continue
                shown = _display(path, self._root)
                for quad in ox.parse(path=path, format=OX_FORMATS[path.suffix],
                                     base_iri=path.resolve().as_uri()):
                    if isinstance(quad.subject, ox.NamedNode) and (
                            not self._curated_only or isinstance(quad.graph_name, ox.DefaultGraph)):
                        found[URIRef(quad.subject.value)].add(shown)
            self._map = dict(found)
        return self._map

    def __getitem__(self, key: URIRef) -> set[str]:
        return self._get()[key]

    def __iter__(self) -> Iterator[URIRef]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def load_oxigraph(root: Path | str, data_paths: Iterable[Path | str] | None = None,
                  store: ox.Store | None = None) -> LoadedSources:
    """Like ``load``, but the files are bulk-loaded by pyoxigraph's parser into a pyoxigraph
    store, seen through rdflib as an oxrdflib Dataset: no rdflib parsing, and a tenth of the
    memory. Malformed files are re-read with rdflib for its line-precise message."""
    root = Path(root)
    store = ox.Store() if store is None else store
    digest = hashlib.sha256()
    plan = _plan(root, data_paths)
    for path, default_graph in plan:
        fmt = OX_FORMATS.get(path.suffix)
        if fmt is None:
            parse_file(path)  # raises the DataLoadError for an unsupported file
        quads = fmt in {ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS}
        where = {"input": rebase_vocabulary(path.read_text(encoding="utf-8")).encode("utf-8")
                 } if VOCABULARY_MOVED else {"path": path}
        try:
            store.bulk_load(**where, format=fmt, base_iri=path.resolve().as_uri(),
                            to_graph=None if quads else ox.NamedNode(str(default_graph)))
        except (SyntaxError, ValueError, OSError, UnicodeDecodeError) as error:
            parse_file(path)  # rdflib's friendlier message (line, hint), if it fails too
            raise DataLoadError(path, getattr(error, "lineno", None),
                                str(error).splitlines()[0] if str(error) else "unreadable",
                                "") from None
        if quads:
            # a file's default graph is the curated graph (or ontology/shapes)
            store.update(f"ADD SILENT DEFAULT TO <{default_graph}>; CLEAR SILENT DEFAULT")
        _digest_file(digest, path, root)
    dataset = Dataset(store=TipgraphOxigraphStore(store=store), default_union=True)
    return LoadedSources(dataset, [p for p, _ in plan], digest.hexdigest(),
                         _SubjectFiles(plan, root, False), _SubjectFiles(plan, root, True))


def hashed(root: Path | str, data_paths: Iterable[Path | str] | None = None) -> LoadedSources:
    """The sources with their digest, the files hashed but not parsed (``dataset`` is empty: set
    it to the one built from them; where each subject was written is read if a report asks)."""
    root = Path(root)
    digest = hashlib.sha256()
    plan = _plan(root, data_paths)
    for path, _ in plan:
        try:
            _digest_file(digest, path, root)
        except OSError as error:
            raise DataLoadError(path, None, f"cannot read the file ({error.strerror})") from None
    return LoadedSources(Dataset(), [p for p, _ in plan], digest.hexdigest(),
                         _SubjectFiles(plan, root, False), _SubjectFiles(plan, root, True))


def load(root: Path | str, data_paths: Iterable[Path | str] | None = None) -> LoadedSources:
    """Load ``root``'s ontology/, shapes/ and data/ (or the given data paths) into one Dataset."""
    root = Path(root)
    dataset = Dataset(default_union=True)
    digest = hashlib.sha256()
    subject_files: dict[URIRef, set[str]] = defaultdict(set)
    curated_files: dict[URIRef, set[str]] = defaultdict(set)
    plan = _plan(root, data_paths)
    for path, default_graph in plan:
        parsed = parse_file(path)
        _digest_file(digest, path, root)
        for subject, graph_name in _copy_into(dataset, parsed, default_graph):
            if default_graph == GRAPH_CURATED:
                subject_files[subject].add(_display(path, root))
                if graph_name == GRAPH_CURATED:
                    curated_files[subject].add(_display(path, root))
    return LoadedSources(dataset, [p for p, _ in plan], digest.hexdigest(), dict(subject_files),
                         dict(curated_files))


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
