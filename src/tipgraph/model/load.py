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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from tipgraph.errors import DataLoadError
from tipgraph.model.namespaces import GRAPH_CURATED, GRAPH_ONTOLOGY, GRAPH_SHAPES

RDF_SUFFIXES = {".ttl": "turtle", ".trig": "trig", ".nt": "nt", ".nq": "nquads"}


@dataclass
class LoadedSources:
    """What the files gave: the dataset, and where each subject was written (for reports)."""

    dataset: Dataset
    files: list[Path]
    digest: str
    subject_files: dict[URIRef, set[str]] = field(default_factory=dict)
    # subjects written outside any named graph (so into the curated graph), and by which files
    curated_files: dict[URIRef, set[str]] = field(default_factory=dict)


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
        line = getattr(error, "lines", None)
        return DataLoadError(path, None if line is None else line + 1, f"bad syntax ({why})",
                             _hint(why))
    text = str(error)
    match = re.search(r"line (\d+)", text)
    return DataLoadError(path, int(match.group(1)) if match else None, text.splitlines()[0]
                         if text else type(error).__name__, _hint(text))


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
    graphs: dict[URIRef, Graph] = {}  # target.graph() is costly: look each name up once
    for s, p, o, g in parsed.quads((None, None, None, None)):
        name = g if isinstance(g, URIRef) and str(g) != "urn:x-rdflib:default" else default_graph
        if isinstance(g, Graph):
            name = g.identifier if str(g.identifier) != "urn:x-rdflib:default" else default_graph
        if name not in graphs:
            graphs[name] = target.graph(name)
        target.add((s, p, o, graphs[name]))
        if not isinstance(s, BNode):
            yield s, name


def load_plan(root: Path, data_paths: Iterable[Path | str] | None = None
              ) -> list[tuple[Path, URIRef]]:
    """The files to load, in order, each with the graph its triples go to by default."""
    data_files = ([f for p in data_paths for f in rdf_files(Path(p))] if data_paths is not None
                  else rdf_files(root / "data"))
    plan = [(f, GRAPH_ONTOLOGY) for f in rdf_files(root / "ontology")]
    plan += [(f, GRAPH_SHAPES) for f in rdf_files(root / "shapes")]
    plan += [(f, GRAPH_CURATED) for f in data_files]
    if not data_files:
        where = ", ".join(str(p) for p in data_paths) if data_paths is not None else root / "data"
        raise DataLoadError(str(where), None, "no RDF files found",
                            "Give a folder or files ending in .ttl, .trig, .nt or .nq")
    return plan


def _digest_file(digest: Any, path: Path, root: Path) -> None:
    digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
    digest.update(path.read_bytes())


def source_digest(root: Path | str, data_paths: Iterable[Path | str] | None = None) -> str:
    """The digest ``load`` would compute, without parsing anything (for caches)."""
    root = Path(root)
    digest = hashlib.sha256()
    for path, _ in load_plan(root, data_paths):
        _digest_file(digest, path, root)
    return digest.hexdigest()


def load(root: Path | str, data_paths: Iterable[Path | str] | None = None) -> LoadedSources:
    """Load ``root``'s ontology/, shapes/ and data/ (or the given data paths) into one Dataset."""
    root = Path(root)
    dataset = Dataset(default_union=True)
    digest = hashlib.sha256()
    subject_files: dict[URIRef, set[str]] = defaultdict(set)
    curated_files: dict[URIRef, set[str]] = defaultdict(set)
    plan = load_plan(root, data_paths)
    for path, default_graph in plan:
        parsed = parse_file(path)
        _digest_file(digest, path, root)
        shown = _display(path, root)
        for subject, graph_name in _copy_into(dataset, parsed, default_graph):
            if default_graph == GRAPH_CURATED:
                subject_files[subject].add(shown)
                if graph_name == GRAPH_CURATED:
                    curated_files[subject].add(shown)
    return LoadedSources(dataset, [p for p, _ in plan], digest.hexdigest(), dict(subject_files),
                         dict(curated_files))


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
