"""Materialise what the ontology's axioms entail about the data, with rules run by the engine.

The rule set equals owlrl's OWL-RL closure on the axioms tipgraph's ontology uses (the tests
compare them): sub-class and sub-property hierarchies, inverse, symmetric and transitive
properties, and domain/range where declared. It never writes owlrl's noise (owl:sameAs x x,
owl:Thing types). One tipgraph rule is added on top: tip:adoptionYear from tip:adoptionDate, so
that "adopted in 2005" is one triple pattern whatever the precision.

How: the schema is compiled first, in Python, into a few tables. For each property, every
(property, direction) its triples imply through sub-property, inverse and symmetric axioms
(chains included); for each, the classes a subject or object gets by domain and range; for each
class, its super-classes. Each table becomes one SPARQL INSERT with the table in a VALUES block,
run by pyoxigraph over its own indexes.
The tables are closed under the one-triple rules, so
these run once over the data; transitive properties are closed with a property path; what the
closures add goes through the one-triple rules again, until nothing is added. A million triples
take seconds, not the minutes of owlrl.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox
from oxrdflib import OxigraphStore
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from tipgraph.model.namespaces import OWL, RDF, RDFS, TIP, XSD

RULESET_VERSION = "2"

_WORK = "urn:tipgraph:reasoner:"
YEAR_TYPES = (XSD.date, XSD.gYearMonth, XSD.gYear, XSD.dateTime)


def _closure(pairs: Iterable[tuple[Node, Node]]) -> dict[Node, set[Node]]:
    """Reflexive-transitive closure of a hierarchy (child -> every ancestor, itself included)."""
    parents: dict[Node, set[Node]] = defaultdict(set)
    for child, parent in pairs:
        parents[child].add(parent)
    ancestors: dict[Node, set[Node]] = {}

    def walk(node: Node, seen: frozenset) -> set[Node]:
        if node in ancestors:
            return ancestors[node]
        result = {node}
        for parent in parents.get(node, ()):
            if parent not in seen:
                result |= walk(parent, seen | {node})
        if not seen:
            ancestors[node] = result
        return result

    for node in list(parents):
        ancestors[node] = walk(node, frozenset())
    return ancestors


class Rules:
    """The ontology's axioms compiled into the tables the SPARQL rules take as VALUES."""

    def __init__(self, ontology: Graph) -> None:
        superclasses = _closure(
            (s, o) for s, o in ontology.subject_objects(RDFS.subClassOf)
            if isinstance(s, URIRef) and isinstance(o, URIRef))
        superproperties = _closure(
            (s, o) for s, o in ontology.subject_objects(RDFS.subPropertyOf)
            if isinstance(s, URIRef) and isinstance(o, URIRef))
        inverses: dict[Node, set[Node]] = defaultdict(set)
        for p, q in ontology.subject_objects(OWL.inverseOf):
            if isinstance(p, URIRef) and isinstance(q, URIRef):
                inverses[p].add(q)
                inverses[q].add(p)
        symmetric = {p for p in ontology.subjects(RDF.type, OWL.SymmetricProperty)
                     if isinstance(p, URIRef)}
        self.transitive = sorted(p for p in ontology.subjects(RDF.type, OWL.TransitiveProperty)
                                 if isinstance(p, URIRef))
        domains: dict[Node, set[Node]] = defaultdict(set)
        for p, c in ontology.subject_objects(RDFS.domain):
            if isinstance(c, URIRef):
                domains[p].add(c)
        ranges: dict[Node, set[Node]] = defaultdict(set)
        for p, c in ontology.subject_objects(RDFS.range):
            if isinstance(c, URIRef):
                ranges[p].add(c)

        def up(classes: set[Node]) -> set[Node]:
            return set().union(*(superclasses.get(c, {c}) for c in classes)) if classes else set()

        # (p, q, flipped): a triple (s p o) implies (s q o), or (o q s) when flipped.
        properties = set(superproperties) | set(inverses) | symmetric | set(domains) | set(ranges)
        self.same: list[tuple[Node, Node]] = []
        self.flipped: list[tuple[Node, Node]] = []
        subject_types: dict[Node, set[Node]] = defaultdict(set)
        object_types: dict[Node, set[Node]] = defaultdict(set)
        for p in sorted(properties):
            reached = {(p, False)}
            todo = [(p, False)]
            while todo:
                q, flip = todo.pop()
                steps = [(sup, flip) for sup in superproperties.get(q, ())]
                steps += [(inv, not flip) for inv in inverses.get(q, ())]
                if q in symmetric:
                    steps.append((q, not flip))
                for step in steps:
                    if step not in reached:
                        reached.add(step)
                        todo.append(step)
            for q, flip in reached:
                if (q, flip) != (p, False):
                    (self.flipped if flip else self.same).append((p, q))
                on_subject, on_object = up(domains.get(q, set())), up(ranges.get(q, set()))
                if flip:
                    on_subject, on_object = on_object, on_subject
                subject_types[p] |= on_subject
                object_types[p] |= on_object
        self.subject_types = sorted((p, c) for p, cs in subject_types.items() for c in cs)
        self.object_types = sorted((p, c) for p, cs in object_types.items() for c in cs)
        self.superclasses = sorted((c, sup) for c, sups in superclasses.items() for sup in sups
                                   if sup != c)

    def local_updates(self, asserted: str, source: str, target: str) -> list[str]:
        """The one-triple rules (everything but transitivity), reading graph ``source`` and
        writing into ``target`` what ``asserted`` does not hold. The tables are closed (a rule's
        output never calls for another one-triple rule), so one pass is enough.
        """
        rdf_type = f"<{RDF.type}>"
        new = f"FILTER NOT EXISTS {{ GRAPH <{asserted}> {{ ?x ?r ?y }} }}"

        def rule(table: list[tuple[Node, Node]], body: str, head: str) -> str | None:
            if not table:
                return None
            rows = " ".join(f"(<{a}> <{b}>)" for a, b in table)
            return (f"INSERT {{ GRAPH <{target}> {{ ?x ?r ?y }} }} WHERE {{ "  # noqa: S608
                    f"VALUES (?a ?b) {{ {rows} }} GRAPH <{source}> {{ {body} }} {head} {new} }}")

        as_is = "BIND (?s AS ?x) BIND (?b AS ?r) BIND (?o AS ?y)"
        turned = "FILTER (!isLiteral(?o)) BIND (?o AS ?x) BIND (?b AS ?r) BIND (?s AS ?y)"
        typed_subject = f"BIND (?s AS ?x) BIND ({rdf_type} AS ?r) BIND (?b AS ?y)"
        typed_object = (f"FILTER (!isLiteral(?o)) BIND (?o AS ?x) BIND ({rdf_type} AS ?r) "
                        f"BIND (?b AS ?y)")
        found = [
            rule(self.same, "?s ?a ?o", as_is),
            rule(self.flipped, "?s ?a ?o", turned),
            rule(self.subject_types, "?s ?a ?o", typed_subject),
            rule(self.object_types, "?s ?a ?o", typed_object),
            rule(self.superclasses, f"?s {rdf_type} ?a", typed_subject),
        ]
        year_types = ", ".join(f"<{t}>" for t in YEAR_TYPES)
        found.append(
            f"INSERT {{ GRAPH <{target}> {{ ?x ?r ?y }} }} WHERE {{ GRAPH <{source}> {{ "
            f"?x <{TIP.adoptionDate}> ?date }} FILTER (isLiteral(?date) && "
            f"DATATYPE(?date) IN ({year_types}) && REGEX(STR(?date), '^[0-9]{{4}}')) "
            f"BIND (<{TIP.adoptionYear}> AS ?r) "
            f"BIND (STRDT(SUBSTR(STR(?date), 1, 4), <{XSD.gYear}>) AS ?y) {new} }}")
        return [u for u in found if u]

    def transitive_updates(self, asserted: str, inferred: str, links: str,
                           target: str) -> list[str]:
        """For each transitive property: gather its links (asserted and inferred) in graph
        ``links``, and write into ``target`` what their closure adds."""
        new = " ".join(f"FILTER NOT EXISTS {{ GRAPH <{g}> {{ ?x <{{t}}> ?y }} }}"
                       for g in (asserted, inferred))
        found = []
        for t in self.transitive:
            found += [
                f"DROP SILENT GRAPH <{links}>",
                f"INSERT {{ GRAPH <{links}> {{ ?x <{t}> ?y }} }} WHERE {{ "
                f"{{ GRAPH <{asserted}> {{ ?x <{t}> ?y }} }} UNION "
                f"{{ GRAPH <{inferred}> {{ ?x <{t}> ?y }} }} }}",
                f"INSERT {{ GRAPH <{target}> {{ ?x <{t}> ?y }} }} WHERE {{ "
                f"GRAPH <{links}> {{ ?x <{t}>/<{t}>+ ?y }} {new.replace('{t}', str(t))} }}",
            ]
        return found + [f"DROP SILENT GRAPH <{links}>"] if found else []


def _count(store: ox.Store, graph: str) -> int:
    result = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(next(iter(result))[0].value)


def run_rules(store: ox.Store, rules: Rules, asserted: str, inferred: str) -> int:
    """Add to graph ``inferred`` of ``store`` the closure of graph ``asserted``; return how many
    triples were added. The one-triple rules run once over the asserted data, then the
    transitive closures; what those add goes through the one-triple rules, and so on until
    nothing is added (usually after the first closure)."""
    delta, links = _WORK + "delta", _WORK + "links"
    for name in (delta, links):
        store.update(f"DROP SILENT GRAPH <{name}>")
    before = _count(store, inferred)
    source = asserted
    while True:
        for update in rules.local_updates(asserted, source, inferred):
            store.update(update)
        store.update(f"DROP SILENT GRAPH <{delta}>")
        for update in rules.transitive_updates(asserted, inferred, links, delta):
            store.update(update)
        if _count(store, delta) == 0:
            break
        store.update(f"ADD <{delta}> TO <{inferred}>")
        source = delta
    store.update(f"DROP SILENT GRAPH <{delta}>")
    return _count(store, inferred) - before


def _backing(graph: Graph) -> tuple[ox.Store, str] | None:
    """The pyoxigraph store and graph name behind an oxrdflib-backed graph, if it is one."""
    if isinstance(graph.store, OxigraphStore) and isinstance(graph.identifier, URIRef):
        return graph.store._inner, str(graph.identifier)
    return None


def to_ox(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or XSD.string)))
    return ox.BlankNode(str(node))


def from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Node:
    """An rdflib term for a pyoxigraph one (the inverse of ``to_ox``)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value, datatype=None if datatype == str(XSD.string) else datatype)


def infer(data: Graph, ontology: Graph) -> Graph:
    """Return the triples entailed by ``data`` under ``ontology`` that ``data`` does not hold.

    When ``data`` is an oxrdflib graph the rules run in its own pyoxigraph store (no copy) and
    the result is a graph of the same store (named ``urn:tipgraph:reasoner:inferred``); any
    other rdflib graph is copied into a fresh store first.
    """
    rules = Rules(ontology)
    backing = _backing(data)
    if backing is None:
        store, asserted = ox.Store(), _WORK + "asserted"
        target = ox.NamedNode(asserted)
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), target) for s, p, o in data
                     if not isinstance(s, Literal))
    else:
        store, asserted = backing
    inferred = _WORK + "inferred"
    store.update(f"DROP SILENT GRAPH <{inferred}>")
    run_rules(store, rules, asserted, inferred)
    if backing is None:
        store.update(f"DROP GRAPH <{asserted}>")
    return Graph(store=OxigraphStore(store=store), identifier=URIRef(inferred))
