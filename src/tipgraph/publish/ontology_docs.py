"""Documentation of the ontology, generated from the ontology itself and the SHACL shapes.

Each class and property gets its label, comment, super- and sub-terms, inverse and
characteristics, how often the data uses it, and the expectations the shapes place on it
(for a class: the shapes that target it and their constraints; for a property: every
constraint whose ``sh:path`` is that property).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import ONTOLOGY_IRI, OWL, RDF, RDFS, SH, TIP
from tipgraph.model.validate import short

KINDS = (
    (OWL.Class, "class", "Classes"),
    (OWL.ObjectProperty, "object property", "Object properties"),
    (OWL.DatatypeProperty, "datatype property", "Datatype properties"),
    (OWL.AnnotationProperty, "annotation property", "Annotation properties"),
)
CHARACTERISTICS = (OWL.SymmetricProperty, OWL.TransitiveProperty, OWL.FunctionalProperty,
                   OWL.InverseFunctionalProperty, OWL.AsymmetricProperty,
                   OWL.IrreflexiveProperty)


@dataclass
class Constraint:
    shape: str            # the shape's label or name
    target: str           # what it applies to (classes, or the shape's targets)
    path: str | None      # the property path, for property shapes
    rules: list[str]      # "minCount 1", "datatype xsd:date", ...
    severity: str
    message: str


@dataclass
class Term:
    iri: URIRef
    anchor: str
    kind: str
    label: str
    comment: str
    supers: list[URIRef] = field(default_factory=list)
    subs: list[URIRef] = field(default_factory=list)
    inverses: list[URIRef] = field(default_factory=list)
    characteristics: list[str] = field(default_factory=list)
    domains: list[URIRef] = field(default_factory=list)
    ranges: list[URIRef] = field(default_factory=list)
    usage: int = 0
    expectations: list[Constraint] = field(default_factory=list)
    extra: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class OntologyDoc:
    iri: URIRef
    title: str
    description: str
    metadata: list[tuple[str, str]]
    sections: list[tuple[str, list[Term]]]


def _text(graph: Graph, node: Node, *props: URIRef) -> str:
    for prop in props:
        values = sorted(graph.objects(node, prop), key=lambda v: (
            getattr(v, "language", None) not in (None, "en"), str(v)))
        if values:
            return str(values[0])
    return ""


def format_path(shapes: Graph, path: Node) -> str:
    """A SHACL property path in SPARQL-like notation."""
    if isinstance(path, URIRef):
        return short(path) or str(path)
    if isinstance(path, BNode):
        if (path, RDF.first, None) in shapes:
            return " / ".join(format_path(shapes, p) for p in Collection(shapes, path))
        for prop, symbol in ((SH.inversePath, "^"), (SH.zeroOrMorePath, "*"),
                             (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
            inner = shapes.value(path, prop)
            if inner is not None:
                text = format_path(shapes, inner)
                return f"^{text}" if symbol == "^" else f"({text}){symbol}"
        alternatives = shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return " | ".join(format_path(shapes, p) for p in Collection(shapes, alternatives))
    return str(path)


_SKIP = {SH.path, SH.message, SH.severity, SH.name, SH.description, SH.property, SH.targetClass,
         SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.deactivated, SH.order,
         SH.group, RDF.type, RDFS.label, RDFS.comment, SH.declare, SH.prefixes}


def _rules(shapes: Graph, node: Node) -> list[str]:
    rules = []
    for prop, value in sorted(shapes.predicate_objects(node), key=lambda pv: str(pv)):
        if prop in _SKIP:
            continue
        name = short(prop) or str(prop)
        name = name[3:] if name.startswith("sh:") else name
        if prop == SH.sparql:
            select = _text(shapes, value, SH.message) or "a SPARQL-based constraint"
            rules.append(f"sparql: {select}")
        elif isinstance(value, BNode) and (value, RDF.first, None) in shapes:
            items = " ".join(short(v) or str(v) for v in Collection(shapes, value))
            rules.append(f"{name} ({items})")
        elif isinstance(value, BNode):
            rules.append(f"{name} [{', '.join(_rules(shapes, value)) or '…'}]")
        elif isinstance(value, Literal):
            rules.append(f"{name} {value}")
        else:
            rules.append(f"{name} {short(value) or value}")
    return rules


def _severity(shapes: Graph, *nodes: Node) -> str:
    for node in nodes:
        value = shapes.value(node, SH.severity)
        if value is not None:
            return str(value).rsplit("#", 1)[-1]
    return "Violation"


def _targets(shapes: Graph, shape: Node) -> list[Node]:
    targets = list(shapes.objects(shape, SH.targetClass))
    if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes:
        targets.append(shape)
    return sorted(set(targets), key=str)


def shape_constraints(shapes: Graph) -> list[tuple[list[Node], Node | None, Constraint]]:
    """Every node shape's own constraints and its property shapes', with their targets."""
    result = []
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(SH.property, None))
    for shape in sorted(node_shapes, key=str):
        targets = _targets(shapes, shape)
        target_text = ", ".join(short(t) or str(t) for t in targets) or ", ".join(
            f"{short(p)} {short(o)}" for p in (SH.targetSubjectsOf, SH.targetObjectsOf,
                                                SH.targetNode)
            for o in shapes.objects(shape, p)) or "(no target)"
        name = _text(shapes, shape, RDFS.label, SH.name) or (short(shape) or "shape")
        own = _rules(shapes, shape)
        if own:
            result.append((targets, None, Constraint(
                name, target_text, None, own, _severity(shapes, shape),
                _text(shapes, shape, SH.message))))
        for prop_shape in shapes.objects(shape, SH.property):
            path = shapes.value(prop_shape, SH.path)
            result.append((targets, path, Constraint(
                name, target_text, format_path(shapes, path) if path is not None else None,
                _rules(shapes, prop_shape), _severity(shapes, prop_shape, shape),
                _text(shapes, prop_shape, SH.message) or _text(shapes, shape, SH.message))))
    return result


def ontology_doc(kg: KnowledgeGraph) -> OntologyDoc:
    ontology, shapes = kg.ontology, kg.shapes
    instances = kg.class_sizes()
    usage = {p: int(n) for p, n in kg.select(  # distinct asserted triples of each property
        "SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { "
        f"GRAPH ?g {{ ?s ?p ?o }} {not_in(kg.graphs_outside(inferred=False, ontology=False))} "
        "} } GROUP BY ?p")}
    constraints = shape_constraints(shapes)
    sections = []
    for kind_iri, kind, title in KINDS:
        terms = []
        for term in sorted({t for t in ontology.subjects(RDF.type, kind_iri)
                            if isinstance(t, URIRef) and str(t).startswith(str(TIP))}, key=str):
            doc = Term(
                iri=term, anchor=str(term)[len(str(TIP)):], kind=kind,
                label=_text(ontology, term, RDFS.label, URIRef(str(RDFS.label))),
                comment=_text(ontology, term, RDFS.comment),
            )
            sup = RDFS.subClassOf if kind == "class" else RDFS.subPropertyOf
            doc.supers = sorted((o for o in ontology.objects(term, sup) if isinstance(o, URIRef)),
                                key=str)
            doc.subs = sorted((s for s in ontology.subjects(sup, term) if isinstance(s, URIRef)),
                              key=str)
            doc.inverses = sorted(set(ontology.objects(term, OWL.inverseOf)) |
                                  set(ontology.subjects(OWL.inverseOf, term)), key=str)
            doc.characteristics = [str(c).rsplit("#", 1)[-1] for c in CHARACTERISTICS
                                   if (term, RDF.type, c) in ontology]
            doc.domains = sorted(ontology.objects(term, RDFS.domain), key=str)
            doc.ranges = sorted(ontology.objects(term, RDFS.range), key=str)
            if kind == "class":
                doc.usage = instances.get(term, 0)
                doc.expectations = [c for targets, _, c in constraints if term in targets]
            else:
                doc.usage = usage.get(term, 0)
                doc.expectations = [c for _, path, c in constraints if path == term]
            for prop in (RDFS.seeAlso, OWL.equivalentClass, OWL.equivalentProperty):
                for value in sorted(ontology.objects(term, prop), key=str):
                    doc.extra.append((short(prop) or str(prop), short(value) or str(value)))
            terms.append(doc)
        sections.append((title, terms))
    metadata = []
    for prop, value in sorted(ontology.predicate_objects(ONTOLOGY_IRI), key=str):
        if prop not in (RDF.type, RDFS.comment):
            metadata.append((short(prop) or str(prop), str(value)))
    return OntologyDoc(
        iri=ONTOLOGY_IRI,
        title=_text(ontology, ONTOLOGY_IRI, URIRef("http://purl.org/dc/terms/title"),
                    RDFS.label) or "tipgraph ontology",
        description=_text(ontology, ONTOLOGY_IRI, URIRef("http://purl.org/dc/terms/description"),
                          RDFS.comment),
        metadata=metadata,
        sections=sections,
    )
