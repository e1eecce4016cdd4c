"""Scoped validation: which focus nodes a change can affect, and the record that tells.

A validation (full or scoped) records in the cache folder, per root: a digest of each data file,
three digests per node of the data the shapes see (its rdf:type triples, its other triples, the
triples that point to it; over both data views), the findings, and a digest of the shapes and
ontology files. The next ``validate(kg, changed=True)`` compares the node digests with the new
build's: the nodes whose digests differ are *touched* (whatever the cause: an edited file, a
renamed one, an inference that a change elsewhere altered).

Which nodes to re-check follows from the shapes (``plan``): each targeted shape reads, from its
focus node, the triples of nodes a fixed number of steps away (a relation's value shape reads the
value's types one step forward; tipsh:CountObservationShape reads the triples pointing to its
focus). A focus node is re-checked when it is touched, or when a node its shapes read is touched
in what they read (walked back from the touched nodes, step by step, over the new data). Shapes
whose reach is not bounded by a fixed number of steps (SPARQL constraints and targets, paths
with ``*`` or ``+``, recursive shapes, sh:targetObjectsOf) are *global*: they run in full every
time (they are the cheap ones here: a few queries run by Oxigraph). Findings of the other
(*local*) shapes on nodes that are not re-checked are taken from the record.

A scoped run falls back to a full one (and says why) when there is no usable record, when the
shapes, ontology, tipgraph or pyshacl changed, or when the data holds blank nodes (their labels
change from one parse to the next, so their digests cannot be compared).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from tipgraph import __version__
from tipgraph.model.namespaces import RDF, RDFS, SH

RECORD_FORMAT = 2
MAX_STEPS = 3  # a shape reading further than this from its focus is treated as global

# What a shape reads at a node: its rdf:type triples, all its own triples, the triples to it.
TYPE, OUT, IN = "type", "out", "in"
# Triggers: the node digests (type, other, in) whose change matters for each kind of read.
_TRIGGERS = {TYPE: (0,), OUT: (0, 1), IN: (2,)}

Read = tuple[tuple[str, ...], str]  # (steps from the focus: "f" forward, "i" inverse; what)

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
_SHAPE_LISTS = (SH["or"], SH["and"], SH.xone)
_SHAPE_VALUED = (SH.node, SH["not"], SH.qualifiedValueShape)
_GLOBAL_MARKS = (SH.sparql, SH.target, SH.rule, SH.targetObjectsOf, SH.js, SH.closed)


class _Unbounded(Exception):
    """The shape's reach has no fixed bound: it is global."""


@dataclass(frozen=True)
class ShapePlan:
    """Targeted shapes split into global and local, and what the local ones read."""

    global_shapes: frozenset[Node]
    local_shapes: frozenset[Node]
    reads: frozenset[Read]
    # each constraint-holding shape (a node or property shape a result names as its source)
    # -> whether it belongs to a global targeted shape
    part_is_global: Mapping[Node, bool] = field(default_factory=dict)


def plan(shapes: Graph) -> ShapePlan:
    targeted = {s for p in TARGETS for s in shapes.subjects(p, None)}
    reads: dict[Node, set[Read]] = {}
    global_shapes: set[Node] = set()
    if any(shapes.subjects(RDF.type, SH.ConstraintComponent)):
        # custom constraint components read what their SPARQL says: no bound can be told
        return ShapePlan(frozenset(targeted), frozenset(), frozenset(),
                         {part: True for shape in targeted for part in _parts(shapes, shape)})
    for shape in targeted:
        if (any(shapes.value(shape, mark) is not None for mark in _GLOBAL_MARKS)
                or (shape, RDF.type, RDFS.Class) in shapes):
            global_shapes.add(shape)
            continue
        try:
            found = _shape_reads(shapes, shape, (), ())
        except _Unbounded:
            global_shapes.add(shape)
            continue
        if any(len(steps) > MAX_STEPS for steps, _ in found):
            global_shapes.add(shape)
        else:
            reads[shape] = found
    # a part shared with a global shape makes the shape global (results are told apart by part)
    parts = {shape: _parts(shapes, shape) for shape in targeted}
    changed = True
    while changed:
        changed = False
        global_parts = set().union(*(parts[s] for s in global_shapes)) if global_shapes else set()
        for shape in targeted - global_shapes:
            if parts[shape] & global_parts:
                global_shapes.add(shape)
                changed = True
    local = frozenset(targeted - global_shapes)
    part_is_global = {part: shape in global_shapes for shape in targeted for part in parts[shape]}
    return ShapePlan(frozenset(global_shapes), local,
                     frozenset(r for s in local for r in reads[s]), part_is_global)


def _parts(shapes: Graph, shape: Node) -> set[Node]:
    found, todo = {shape}, [shape]
    while todo:
        for part in shapes.objects(todo.pop(), SH.property):
            if part not in found:
                found.add(part)
                todo.append(part)
    for part in list(found):
        found.update(shapes.objects(part, SH.sparql))
    return found


def _members(shapes: Graph, shape: Node) -> Iterable[Node]:
    for predicate in _SHAPE_LISTS:
        for head in shapes.objects(shape, predicate):
            yield from Collection(shapes, head)
    for predicate in _SHAPE_VALUED:
        yield from shapes.objects(shape, predicate)


def _shape_reads(shapes: Graph, shape: Node, at: tuple[str, ...], stack: tuple[Node, ...]
                 ) -> set[Read]:
    """What validating ``shape`` on the node ``at`` steps from the focus reads."""
    if shape in stack or len(at) > MAX_STEPS:
        raise _Unbounded
    if any(shapes.value(shape, mark) is not None for mark in (SH.sparql, SH.rule, SH.js,
                                                              SH.closed)):
        raise _Unbounded
    stack = (*stack, shape)
    reads: set[Read] = set()
    path = shapes.value(shape, SH.path)
    if path is None:  # a node shape: its constraints apply to the node itself
        values = [at]
    else:
        path_reads, values = _path_reads(shapes, path, at)
        reads |= path_reads
        for predicate in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            if shapes.value(shape, predicate) is not None:
                reads.add((at, OUT))
    for value_at in values:
        if shapes.value(shape, SH["class"]) is not None:
            reads.add((value_at, TYPE))
        for member in _members(shapes, shape):
            reads |= _shape_reads(shapes, member, value_at, stack)
        for part in shapes.objects(shape, SH.property):
            reads |= _shape_reads(shapes, part, value_at, stack)
    return reads


def _path_reads(shapes: Graph, path: Node, at: tuple[str, ...]
                ) -> tuple[set[Read], list[tuple[str, ...]]]:
    """The reads of following a SHACL path from ``at``, and where its values are."""
    if isinstance(path, URIRef):
        return {(at, TYPE if path == RDF.type else OUT)}, [(*at, "f")]
    if not isinstance(path, BNode):
        raise _Unbounded
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        if not isinstance(inverse, URIRef):
            raise _Unbounded
        return {(at, IN)}, [(*at, "i")]
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        reads: set[Read] = set()
        ends: list[tuple[str, ...]] = []
        for member in Collection(shapes, alternatives):
            more, more_ends = _path_reads(shapes, member, at)
            reads |= more
            ends += [e for e in more_ends if e not in ends]
        return reads, ends
    if shapes.value(path, RDF.first) is not None:
        reads, ends = set(), [at]
        for member in Collection(shapes, path):
            next_ends: list[tuple[str, ...]] = []
            for end in ends:
                more, more_ends = _path_reads(shapes, member, end)
                reads |= more
                next_ends += [e for e in more_ends if e not in next_ends]
            ends = next_ends
        return reads, ends
    raise _Unbounded  # sh:zeroOrMorePath, sh:oneOrMorePath, sh:zeroOrOnePath


# --- Node digests ------------------------------------------------------------------------------

NodeDigests = dict[str, list[int]]  # node (N-Triples) -> [types, other own triples, triples to it]


def node_digests(views: Iterable[tuple[str, ox.Store]]) -> NodeDigests:
    """Order-free digests (XOR of a 64-bit hash per triple) of each named node's data in each
    view. Blank nodes are not keys, and count as one same value (callers make sure the data has
    none; the ontology's are the same when its files are)."""
    digests: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    rdf_type = ox.NamedNode(str(RDF.type))
    default = ox.DefaultGraph()
    blake = hashlib.blake2b
    for tag, store in views:
        for quad in store.quads_for_pattern(None, None, None, default):
            subject, obj = quad.subject, quad.object
            s = str(subject) if isinstance(subject, ox.NamedNode) else None
            o = str(obj) if isinstance(obj, ox.NamedNode) else (
                "_:" if isinstance(obj, ox.BlankNode) else None)
            line = f"{tag} {s or '_:'} {quad.predicate} {o or obj}"
            h = int.from_bytes(blake(line.encode(), digest_size=8).digest(), "little")
            if s is not None:
                digests[s][0 if quad.predicate == rdf_type else 1] ^= h
            if o is not None and o != "_:":
                digests[o][2] ^= h
    return dict(digests)


def touched_nodes(before: Mapping[str, list[int]], after: Mapping[str, list[int]]
                  ) -> dict[str, set[int]]:
    """node -> which of its digests (0 types, 1 other, 2 in) differ between two builds."""
    empty = [0, 0, 0]
    touched: dict[str, set[int]] = {}
    for node in before.keys() | after.keys():
        old, new = before.get(node, empty), after.get(node, empty)
        kinds = {k for k in range(3) if old[k] != new[k]}
        if kinds:
            touched[node] = kinds
    return touched


def focus_nodes(touched: Mapping[str, set[int]], shape_plan: ShapePlan, data: ox.Store
                ) -> set[str]:
    """The touched nodes, and every node whose local shapes read a touched node's changed
    data: walked back from it, step by step, over ``data`` (the full view)."""
    focus = set(touched)
    default = ox.DefaultGraph()
    for steps, what in shape_plan.reads:
        if not steps:
            continue
        starts = {node for node, kinds in touched.items()
                  if kinds.intersection(_TRIGGERS[what])}
        current = {ox.NamedNode(node[1:-1]) for node in starts}
        for step in reversed(steps):
            following: set[Any] = set()
            for node in current:
                if step == "f":  # a node X with X -p-> node
                    following.update(q.subject for q in data.quads_for_pattern(
                        None, None, node, default))
                else:  # a node X with node -p-> X
                    following.update(q.object for q in data.quads_for_pattern(
                        node, None, None, default) if not isinstance(q.object, ox.Literal))
            current = following
        focus.update(str(node) for node in current if isinstance(node, ox.NamedNode))
    return focus


def targets_among(shapes: Graph, shape_nodes: Iterable[Node], focus: Iterable[str],
                  data: ox.Store) -> dict[Node, list[URIRef]]:
    """For each local shape, its target nodes (in ``data``) that are in ``focus``."""
    default = ox.DefaultGraph()
    rdf_type, sub_class = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(RDFS.subClassOf))
    supers: dict[str, set[str]] = defaultdict(set)
    for quad in data.quads_for_pattern(None, sub_class, None, default):
        supers[str(quad.subject)].add(str(quad.object))

    def closure(classes: set[str]) -> set[str]:
        todo, seen = list(classes), set(classes)
        while todo:
            for parent in supers.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    facts: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for node in focus:
        term = ox.NamedNode(node[1:-1])
        own = list(data.quads_for_pattern(term, None, None, default))
        types = closure({str(q.object) for q in own if q.predicate == rdf_type})
        facts[node] = (types, {str(q.predicate) for q in own},
                       {str(q.predicate) for q in data.quads_for_pattern(None, None, term,
                                                                           default)})
    chosen: dict[Node, list[URIRef]] = {}
    for shape in shape_nodes:
        classes = {f"<{c}>" for c in shapes.objects(shape, SH.targetClass)}
        subjects_of = {f"<{p}>" for p in shapes.objects(shape, SH.targetSubjectsOf)}
        nodes = {f"<{n}>" for n in shapes.objects(shape, SH.targetNode)}
        chosen[shape] = sorted(
            URIRef(node[1:-1]) for node, (types, outs, _) in facts.items()
            if types & classes or outs & subjects_of or node in nodes)
    return chosen


# --- The record --------------------------------------------------------------------------------


def record_path(config: Mapping[str, Any]) -> Path | None:
    if not config.get("use_cache") or not config.get("cache_dir"):
        return None
    root = str(Path(config["root"]).resolve())
    key = hashlib.sha256(f"{root}|{config.get('base_iri')}|{config.get('ontology_iri')}"
                         .encode()).hexdigest()[:24]
    return Path(config["cache_dir"]) / f"validated-{key}.json"


def inputs_digest(files: Iterable[Path], root: Path) -> str:
    """The shapes and ontology files, tipgraph's and pyshacl's versions: when any changes,
    every finding may change."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{RECORD_FORMAT}|{__version__}|{version('pyshacl')}".encode())
    for path in sorted(files):
        if _under(path, root / "ontology") or _under(path, root / "shapes"):
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def data_file_digests(files: Iterable[Path], root: Path, display: Any) -> dict[str, str]:
    return {display(path, root): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in files
            if not (_under(path, root / "ontology") or _under(path, root / "shapes"))}


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def read_record(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a damaged record costs a full validation, nothing more
        return None
    return record if isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None


def write_record(path: Path | None, record: Mapping[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".validated-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"format": RECORD_FORMAT, **record}, out)
        os.replace(tmp, path)
    except OSError:  # a read-only cache folder only costs the next scoped run its scope
        pass
