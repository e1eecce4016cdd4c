"""Validate the knowledge graph: SHACL shapes over the data, and the ontology's own checks.

``validate()`` returns a ValidationReport (data); the CLI only prints it.

pyshacl runs over two pyoxigraph stores built for it (the data views below), not over rdflib
graphs: its SPARQL-based targets and constraints are then evaluated by Oxigraph instead of being
parsed by rdflib's pyparsing grammar once per focus node, and no rdflib merge of the whole data is
made (at 10k synthetic triples: 87 s CPU before, see benchmarks/README.md "Validation").
``validate(kg, changed=True)`` re-checks only the focus nodes a change can affect (see
tipgraph.model.scope).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from tipgraph.errors import ShapesError
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.namespaces import (
    CANONICAL_BASE,
    GRAPH_CURATED,
    GRAPH_INFERRED,
    GRAPH_ONTOLOGY,
    OWL,
    PREFIXES,
    RDF,
    RDFS,
    SH,
    SKOS,
    TIP,
)
from tipgraph.model.oxstore import plain
from tipgraph.model.reason import to_ox

TIPSH = Namespace("https://w3id.org/tipgraph/shapes#")

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem: where (focus node, path, files), what (message), how bad (severity)."""

    severity: str
    focus: str
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidationScope:
    """What a validation checked: everything, or (``changed``) the focus nodes a change can
    affect, with the findings of the others taken from the last validated build."""

    mode: str                   # "full" or "changed"
    reason: str                 # why full, or what changed
    changed_files: tuple[str, ...] = ()
    touched_nodes: int = 0      # nodes whose data differs from the last validated build
    rechecked_nodes: int = 0    # focus nodes the local shapes ran on
    global_shapes: int = 0      # shapes run in full every time
    local_shapes: int = 0


@dataclass
class ValidationReport:
    findings: list[Finding] = field(default_factory=list)
    # the pyshacl results of this run; a scoped run holds only those of the nodes it re-checked
    report_graph: Graph = field(default_factory=Graph)
    scope: ValidationScope | None = None

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def to_json(self) -> str:
        return json.dumps({
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [asdict(f) for f in self.findings],
            **({"scope": asdict(self.scope)} if self.scope and self.scope.mode == "changed"
               else {}),
        }, indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return self.report_graph.serialize(format="turtle")

    def to_text(self) -> str:
        """Grouped by file, then by entity, with each shape's message."""
        if not self.findings:
            return "The data conforms: no violations, no warnings."
        groups: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
        for finding in self.findings:
            where = ", ".join(finding.files) or "(no data file)"
            groups[where][finding.focus].append(finding)
        lines: list[str] = []
        for where in sorted(groups):
            lines.append(where)
            for focus in sorted(groups[where]):
                lines.append(f"  {focus}")
                for f in sorted(groups[where][focus], key=lambda f: SEVERITY_ORDER[f.severity]):
                    path = f" [{f.path}]" if f.path else ""
                    value = f" (value: {f.value})" if f.value else ""
                    lines.append(f"    {f.severity}{path}: {f.message}{value}")
        lines.append("")
        lines.append(f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s).")
        return "\n".join(lines)


# The prefixes of docs/curation.md's concept schemes, so reports name concepts as curators write
# them (itype:action-plan, not id:instrument-type/action-plan), plus the shapes' own.
REPORT_PREFIXES: dict[str, str] = {
    **PREFIXES,
    **{prefix: f"{CANONICAL_BASE}{path}/" for prefix, path in (
        ("itype", "instrument-type"), ("btype", "body-type"), ("inittype", "initiative-type"),
        ("etype", "event-type"), ("theme", "thematic-area"), ("binding", "binding-status"),
        ("lifecycle", "lifecycle-status"), ("ctype", "count-type"), ("scheme", "scheme"))},
    "tipsh": str(TIPSH),
}
_BY_LENGTH = sorted(REPORT_PREFIXES.items(), key=lambda kv: -len(kv[1]))


def short(node: Node | None) -> str | None:
    """A compact prefixed name for reports."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        text = str(node)
        for prefix, namespace in _BY_LENGTH:
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace):]}"
        return f"<{text}>"
    if isinstance(node, Literal):
        return repr(str(node)) if node.datatype is None else f'"{node}"^^{short(node.datatype)}'
    return str(node)


_IRI_IN_TEXT = re.compile(r"https?://[^\s<>\"{}|\\^`),]+[^\s<>\"{}|\\^`),.:;]")


def _shorten_iris(text: str) -> str:
    """Messages from SPARQL constraints carry full IRIs: show them as prefixed names."""
    return _IRI_IN_TEXT.sub(lambda m: short(URIRef(m.group(0))) or m.group(0), text)


def _files_of(focus: Node | None, views: DataViews, subject_files: Mapping[URIRef, set[str]]
              ) -> tuple[str, ...]:
    """The files that write about the focus node; for a node that is only ever a value (an
    undescribed entity), the files of the entities that point to it."""
    files = set(subject_files.get(focus, ()))  # type: ignore[arg-type]
    if not files and focus is not None:
        for quad in views.full.quads_for_pattern(None, None, to_ox(focus), ox.DefaultGraph()):
            if isinstance(quad.subject, ox.NamedNode):
                files |= subject_files.get(URIRef(quad.subject.value), set())
    return tuple(sorted(files))


def _path_text(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path as SPARQL property-path text: tip:count, ^tip:count, tip:a/tip:b."""
    if path is None or not isinstance(path, BNode):
        return short(path)
    if (inverse := graph.value(path, SH.inversePath)) is not None:
        return f"^{_path_text(graph, inverse)}"
    for operator, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                             (SH.zeroOrOnePath, "?")):
        if (inner := graph.value(path, operator)) is not None:
            return f"({_path_text(graph, inner)}){suffix}"
    if (alternatives := graph.value(path, SH.alternativePath)) is not None:
        return "|".join(_path_text(graph, p) or "" for p in Collection(graph, alternatives))
    if graph.value(path, RDF.first) is not None:
        return "/".join(_path_text(graph, p) or "" for p in Collection(graph, path))
    return short(path)


def _named_shapes(shapes: Graph) -> dict[Node, Node]:
    """Anonymous property shapes and SPARQL constraints -> the named shape that holds them, so
    that every finding names a shape a curator can look up in shapes/."""
    parent: dict[Node, Node] = {}
    for holder, part in shapes.subject_objects(SH.property):
        parent[part] = holder
    for holder, part in shapes.subject_objects(SH.sparql):
        parent[part] = holder
    named: dict[Node, Node] = {}
    for node in parent:
        top, seen = node, set()
        while isinstance(top, BNode) and top in parent and top not in seen:
            seen.add(top)
            top = parent[top]
        named[node] = top
    return named


def _shacl_findings(report: Graph, views: DataViews, subject_files: Mapping[URIRef, set[str]],
                    named: Mapping[Node, Node]) -> list[tuple[Node | None, Node | None, Finding]]:
    """Each result of a pyshacl report as a Finding, with its focus node and source shape."""
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        source = report.value(result, SH.sourceShape)
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        messages = {_shorten_iris(str(m)) for m in report.objects(result, SH.resultMessage)}
        findings.append((focus, source, Finding(
            severity=severity,
            focus=short(focus) or "",
            message="; ".join(sorted(messages)) or "(shape without sh:message)",
            path=_path_text(report, report.value(result, SH.resultPath)),
            value=None if (value := report.value(result, SH.value)) == focus else short(value),
            shape=short(named.get(source, source)) if source is not None else None,
            files=_files_of(focus, views, subject_files),
        )))
    return findings


# Predicates a curator may write outside a page graph about an entity: tipgraph's own notes.
NOTE_PREDICATES = frozenset({TIP.sourceNote, RDFS.comment, RDFS.seeAlso, SKOS.note,
                             SKOS.editorialNote, SKOS.scopeNote, SKOS.changeNote})
# The classes of entities whose facts come from the source (and so belong in page graphs).
FACT_CLASSES = (TIP.Organisation, TIP.Post, TIP.Person, TIP.Place, TIP.Instrument,
                TIP.Initiative, TIP.Event, TIP.Judgment, TIP.CountObservation)


def curated_fact_findings(kg: KnowledgeGraph, views: DataViews | None = None) -> list[Finding]:
    """Facts about source entities written outside any page graph (so in the curated graph).

    The curated graph is for tipgraph's own vocabulary and notes (tip:sourceNote); a relation,
    type, label or date of a mechanism, instrument... there has no page to cite.
    """
    views = views or data_views(kg)
    curated = kg.graph(GRAPH_CURATED)
    findings = []
    for subject in sorted(set(curated.subjects()), key=str):
        if not isinstance(subject, URIRef):
            continue
        if not views.has_fact_class(subject):
            continue
        predicates = sorted({p for p in curated.predicates(subject) if p not in NOTE_PREDICATES},
                            key=str)
        for predicate in predicates:
            findings.append(Finding(
                "Warning", short(subject) or "",
                "This fact is written outside any page graph, so no page cites it: move it "
                "into the graph of the page that states it (page:N { ... }). Only tipgraph's own "
                "notes (tip:sourceNote) belong outside page graphs; facts from elsewhere go in a "
                "graph named by their own source (:source/...).",
                path=short(predicate),
                value=short(curated.value(subject, predicate)),
                shape="tipgraph:facts-in-page-graphs",
                files=tuple(sorted(kg.sources.curated_files.get(subject, ()))),
            ))
    return findings


OWN_TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def ontology_findings(ontology: Graph, used: Iterable[Node] = ()) -> list[Finding]:
    """The ontology checks itself: every own term documented, every used own term declared."""
    findings = []
    declared = {s for t in OWN_TERM_TYPES for s in ontology.subjects(RDF.type, t)}
    for term in sorted(t for t in declared if str(t).startswith(str(TIP))):
        for prop, what in ((RDFS.label, "label"), (RDFS.comment, "comment")):
            if ontology.value(term, prop) is None:
                findings.append(Finding("Violation", short(term) or "", f"The ontology term has "
                                        f"no rdfs:{what}: add one so users know what it means.",
                                        path=short(prop), shape="tipgraph:ontology-quality"))
    for term in sorted(set(used)):
        if str(term).startswith(str(TIP)) and term not in declared:
            findings.append(Finding("Violation", short(term) or "", "This tip: term is used but "
                                    "not declared in the ontology: fix the typo, or declare it "
                                    "in ontology/tipgraph.ttl.", shape="tipgraph:ontology-quality"))
    return findings


def used_terms(graph: Graph) -> set[Node]:
    terms: set[Node] = set()
    for _, p, o in graph:
        terms.add(p)
        if p == RDF.type:
            terms.add(o)
    return terms


# --- The data the shapes are checked on ------------------------------------------------------


@dataclass
class DataViews:
    """The two data graphs the shapes run on, each a pyoxigraph store (default graph only), and
    the knowledge graph's own store (named graphs) they were copied from."""

    full: ox.Store      # asserted data + inferences + ontology
    asserted: ox.Store  # asserted data + ontology + the derived rdf:type triples
    source: ox.Store
    data_graphs: list[ox.NamedNode]

    def has_fact_class(self, subject: URIRef) -> bool:
        """Typed (asserted or inferred, not by the ontology) as a source entity's class."""
        graphs = " ".join(str(g) for g in [*self.data_graphs, ox.NamedNode(str(GRAPH_INFERRED))])
        classes = " ".join(f"<{c}>" for c in FACT_CLASSES)
        return bool(self.source.query(
            f"ASK {{ VALUES ?g {{ {graphs} }} VALUES ?c {{ {classes} }} "
            f"GRAPH ?g {{ <{subject}> a ?c }} }}"))

    def has_blank_nodes(self) -> bool:
        graphs = " ".join(str(g) for g in [*self.data_graphs, ox.NamedNode(str(GRAPH_INFERRED))])
        return bool(self.source.query(f"ASK {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} "
                                      f"FILTER (isBlank(?s) || isBlank(?o)) }}"))

    def used_terms(self) -> set[Node]:
        """used_terms() of the asserted data (page graphs + curated graph)."""
        graphs = " ".join(str(g) for g in self.data_graphs)
        terms: set[Node] = set()
        for row in self.source.query(f"SELECT DISTINCT ?t {{ VALUES ?g {{ {graphs} }} "
                                     f"{{ GRAPH ?g {{ ?s ?t ?o }} }} UNION "
                                     f"{{ GRAPH ?g {{ ?s a ?t }} }} }}"):
            term = row[0]
            terms.add(URIRef(term.value) if isinstance(term, ox.NamedNode) else Literal(
                term.value) if isinstance(term, ox.Literal) else BNode(term.value))
        return terms


def data_views(kg: KnowledgeGraph) -> DataViews:
    """Copy the asserted graphs, the inferences and the ontology into the two views (in the
    engine: a second or two at 100k triples). A knowledge graph built on the rdflib path is
    first copied into a pyoxigraph store."""
    source = kg.oxigraph
    if source is None:
        source = ox.Store()
        source.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(
            g.identifier if isinstance(g, Graph) else g)))
            for s, p, o, g in kg.dataset.quads((None, None, None, None)) if g is not None)
    data_graphs = [ox.NamedNode(str(name)) for name in kg.data_graph_names()]
    ontology, inferred = ox.NamedNode(str(GRAPH_ONTOLOGY)), ox.NamedNode(str(GRAPH_INFERRED))
    full, asserted = ox.Store(), ox.Store()

    def moved(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
        default = ox.DefaultGraph()
        return [ox.Quad(q.subject, q.predicate, q.object, default) for q in quads]

    for name in [*data_graphs, ontology]:
        quads = moved(source.quads_for_pattern(None, None, None, name))
        full.extend(quads)
        asserted.extend(quads)
    full.extend(moved(source.quads_for_pattern(None, None, None, inferred)))
    asserted.extend(moved(source.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), None,
                                                   inferred)))
    return DataViews(full, asserted, source, data_graphs)


def _split_shapes(shapes: Graph, base_iri: str,
                  targets: Mapping[Node, list[URIRef]] | None = None) -> tuple[Graph, Graph]:
    """Two copies of the shapes: one with only the targets of the shapes checked on the full
    data (asserted + inferred + ontology), one with only those of the tipsh:AssertedData shapes.
    Both keep every shape, so that shapes referring to others (sh:node, sh:or) still resolve.
    ``targets`` replaces the targets of some shapes by these nodes (sh:targetNode)."""
    targets = targets or {}
    full, asserted = Graph(), Graph()
    for prefix, namespace in shapes.namespaces():
        full.bind(prefix, namespace)
        asserted.bind(prefix, namespace)
    scoped = set(shapes.subjects(TIPSH.scope, TIPSH.AssertedData))
    for s, p, o in shapes:
        if p == SH.pattern and base_iri != CANONICAL_BASE:
            o = Literal(str(o).replace(re.escape(CANONICAL_BASE), re.escape(base_iri)))
        if p in TARGET_PREDICATES:
            if s not in targets:
                (asserted if s in scoped else full).add((s, p, o))
        else:
            full.add((s, p, o))
            asserted.add((s, p, o))
    for shape, nodes in targets.items():
        for node in nodes:
            (asserted if shape in scoped else full).add((shape, SH.targetNode, node))
    return full, asserted


TARGET_PREDICATES = frozenset({SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                               SH.targetObjectsOf, SH.target})


@functools.cache
def _frozen_data_graph() -> type:
    """pyshacl's view of a pyoxigraph store, for a store that does not change during a run.

    pyshacl (0.40) evaluates ``datagraph or shapes_graph`` for every validation result it makes
    (including the discarded ones of each sh:or branch), and on a pyoxigraph store that truth
    test is a SPARQL COUNT over the whole store: quadratic. It is asked once here. And it asks
    for the objects of a literal (a literal value checked against a shape with a property, as
    tipsh:Untyped), which pyoxigraph refuses: a literal has none, as rdflib answers."""
    from pyshacl.graph_abstraction import OxigraphDataGraph

    class FrozenOxigraphDataGraph(OxigraphDataGraph):  # type: ignore[misc, valid-type]
        def __bool__(self) -> bool:
            if not hasattr(self, "_non_empty"):
                self._non_empty = bool(self.impl.query("ASK { ?s ?p ?o }"))
            return self._non_empty

        def objects(self, subject: Any = None, predicate: Any = None, unique: bool = False
                    ) -> Any:
            if isinstance(subject, Literal):
                return iter(())
            return super().objects(subject, predicate, unique)

        def predicate_objects(self, subject: Any = None, unique: bool = False) -> Any:
            if isinstance(subject, Literal):
                return iter(())
            return super().predicate_objects(subject, unique)

    return FrozenOxigraphDataGraph


def _run_shacl(data: ox.Store, shapes: Graph) -> Graph:
    if not any(shapes.triples((None, p, None)) for p in TARGET_PREDICATES):
        return Graph()
    try:
        from pyshacl import validate as shacl_validate  # slow to import: on use

        # inplace: the store is this run's own copy (pyshacl would otherwise copy it again)
        _, report_graph, _ = shacl_validate(
            _frozen_data_graph()(data), shacl_graph=shapes, inference="none", advanced=True,
            allow_warnings=True, allow_infos=True, inplace=True,
        )
    except Exception as error:  # pyshacl reports broken shapes with assorted exception types
        raise ShapesError(f"the shapes could not be applied: {error}") from None
    # pyoxigraph gives plain literals as xsd:string: show them as the curator wrote them
    for s, p, o in list(report_graph):
        if plain(o) is not o:
            report_graph.remove((s, p, o))
            report_graph.add((s, p, plain(o)))
    return report_graph


def validate(
    kg: KnowledgeGraph | None = None,
    config: Mapping[str, Any] | None = None,
    data_paths: Iterable[Path | str] | None = None,
    shapes: Graph | None = None,
    changed: bool = False,
) -> ValidationReport:
    """Run the shapes over the data and the ontology checks; return every finding.

    Shapes run on the asserted data + the inferences + the ontology, except those marked
    ``tipsh:scope tipsh:AssertedData``, which run on the asserted data + the ontology + the
    derived rdf:type triples (not derived relations), so that one wrong triple is one finding.

    With the cache on, every run records what it validated (tipgraph.model.scope); with
    ``changed``, the shapes are checked only on the focus nodes a change since the last
    recorded run can affect, and the report is the same as a full run's (the findings of the
    other nodes come from the record). Without a usable record it is a full run.
    """
    kg = kg or build(config, data_paths)
    with _ONE_AT_A_TIME:  # rdflib's SPARQL parser (used by pyshacl) is not thread-safe
        return _validate(kg, shapes, changed)


# Two validations at once in one process (the entity pages' report and a reload's) broke
# pyshacl's SPARQL constraints ("Param.postParse2() missing 1 required positional argument").
_ONE_AT_A_TIME = threading.Lock()


def _validate(kg: KnowledgeGraph, shapes: Graph | None, changed: bool) -> ValidationReport:
    from tipgraph.model import scope as scoping

    shapes_graph = _in_memory(shapes if shapes is not None else kg.shapes)
    if len(shapes_graph) == 0:
        raise ShapesError("no SHACL shapes were loaded: shapes/ is empty or missing")
    base_iri = str(kg.config.get("base_iri", CANONICAL_BASE))
    views = data_views(kg)
    named = _named_shapes(shapes_graph)
    shape_plan = scoping.plan(shapes_graph)
    root = Path(kg.config["root"])
    record_at = scoping.record_path(kg.config) if shapes is None else None
    state: dict[str, Any] | None = None
    if record_at is not None:
        state = {"inputs": scoping.inputs_digest(kg.sources.files, root),
                 "files": scoping.data_file_digests(kg.sources.files, root, _display_path),
                 "blank_nodes": views.has_blank_nodes(),
                 "nodes": scoping.node_digests((("f", views.full), ("a", views.asserted)))}
    previous, why_full = _usable_record(changed, shapes, record_at, state)

    targets: dict[Node, list[URIRef]] = {}
    focus: set[str] = set()
    scope = ValidationScope("full", why_full)
    if previous is not None and state is not None:
        touched = scoping.touched_nodes(previous["nodes"], state["nodes"])
        focus = scoping.focus_nodes(touched, shape_plan, views.full)
        scoped_shapes = set(shapes_graph.subjects(TIPSH.scope, TIPSH.AssertedData))
        for store, chosen in ((views.full, shape_plan.local_shapes - scoped_shapes),
                              (views.asserted, shape_plan.local_shapes & scoped_shapes)):
            targets.update(scoping.targets_among(shapes_graph, chosen, focus, store))
        changed_files = sorted(
            name for name in previous["files"].keys() | state["files"].keys()
            if previous["files"].get(name) != state["files"].get(name))
        scope = ValidationScope(
            "changed", f"{len(changed_files)} data file(s) changed since the last validated "
            f"build", tuple(changed_files), len(touched), len(focus),
            len(shape_plan.global_shapes), len(shape_plan.local_shapes))

    full_shapes, asserted_shapes = _split_shapes(shapes_graph, base_iri, targets)
    report_graph = Graph()
    results: list[tuple[Node | None, Node | None, Finding]] = []
    for data, shapes_part in ((views.full, full_shapes), (views.asserted, asserted_shapes)):
        part = _run_shacl(data, shapes_part)
        report_graph += part
        results += _shacl_findings(part, views, kg.sources.subject_files, named)
    findings = [f for _, _, f in results]
    if previous is not None:  # the local shapes' findings on the nodes not re-checked
        findings += [_kept(item, views, kg.sources.subject_files) for item in previous["findings"]
                     if not item["global"] and item["node"] not in focus]
    record_findings = _recorded(results, previous, focus, shape_plan)
    findings += curated_fact_findings(kg, views)
    findings += ontology_findings(kg.ontology, views.used_terms() | used_terms(shapes_graph))
    findings = sorted(set(findings), key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.files,
                                                    f.focus, f.path or "", f.message))
    if state is not None:
        scoping.write_record(record_at, {**state, "findings": record_findings})
    return ValidationReport(findings, report_graph, scope)


def _in_memory(graph: Graph) -> Graph:
    """The shapes are read triple by triple many times (plan, split, names): from rdflib's
    memory store, not through oxrdflib (seconds)."""
    copy = Graph()
    for prefix, namespace in graph.namespaces():
        copy.bind(prefix, namespace)
    for triple in graph:
        copy.add(triple)
    return copy


def _usable_record(changed: bool, shapes: Graph | None, record_at: Path | None,
                   state: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """The previous record if a scoped run can use it, else None and why not."""
    from tipgraph.model import scope as scoping

    if not changed:
        return None, "full validation asked for"
    if shapes is not None:
        return None, "shapes given by the caller"
    if record_at is None or state is None:
        return None, "no cache folder (the cache is off), so no record of a validated build"
    previous = scoping.read_record(record_at)
    if previous is None:
        return None, "no record of a validated build yet"
    if previous.get("inputs") != state["inputs"]:
        return None, "the shapes, the ontology or the software changed"
    if state["blank_nodes"] or previous.get("blank_nodes"):
        return None, "the data has blank nodes, which cannot be matched between builds"
    if previous.get("findings") is None:
        return None, "the last record cannot tell which findings came from which shapes"
    return previous, ""


def _recorded(results: list[tuple[Node | None, Node | None, Finding]],
              previous: Mapping[str, Any] | None, focus: set[str], shape_plan: Any
              ) -> list[dict[str, Any]] | None:
    """The findings to record: each with its focus node and whether a global shape gave it
    (None when one cannot be told: the next scoped run is then a full one)."""
    recorded: list[dict[str, Any]] = []
    for focus_node, source, finding in results:
        is_global = shape_plan.part_is_global.get(source)
        if is_global is None or (not is_global and not isinstance(focus_node, URIRef)):
            return None
        # "node" as the focus set writes it (pyoxigraph's N-Triples form), "iri" to rebuild it
        iri = focus_node if isinstance(focus_node, URIRef) else None
        recorded.append({"node": str(to_ox(iri)) if iri is not None else None,
                         "iri": str(iri) if iri is not None else None,
                         "global": is_global, **asdict(finding)})
    if previous is not None:
        recorded += [item for item in previous["findings"]
                     if not item["global"] and item["node"] not in focus]
    return recorded


def _kept(item: Mapping[str, Any], views: DataViews, subject_files: Mapping[URIRef, set[str]]
          ) -> Finding:
    """A recorded finding, with the files that now write about its focus node."""
    fields = {k: v for k, v in item.items() if k not in ("node", "iri", "global")}
    node = URIRef(item["iri"])
    return Finding(**{**fields, "files": _files_of(node, views, subject_files)})


def _display_path(path: Path, root: Path) -> str:
    from tipgraph.model.load import _display

    return _display(path, root)
