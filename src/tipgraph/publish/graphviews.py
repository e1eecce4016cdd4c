"""The organisation relationship graph: who works with whom, as nodes and edges for drawing.

``full_graph(kg)`` extracts the graph by SPARQL over the knowledge graph (its default graph is the
union of the page graphs, the curated, ontology and inferred graphs), so a node or relation a
curator adds shows up without code changes:

- nodes are the entities of the classes in ``KINDS`` (mechanisms, bodies, posts, partners,
  states, instruments, initiatives, events), each given the first kind whose class it has;
- edges are tip: object properties between two nodes. Every owl:inverseOf pair is read in one
  direction (``ECOWAS adopts the plan``, never also ``the plan adoptedBy ECOWAS``), an edge implied
  by a more specific one is dropped (``funds`` hides the inferred ``supports``), symmetric
  relations are drawn once and transitive ones reduced to their direct links.

``view(kg, GraphFilter(...))`` applies the filters (region, kind, relation, thematic area, year,
instruments, focus) and returns a ``GraphView``; ``GraphView.to_cytoscape()`` is the JSON the
``/graph`` page draws. The extraction is cached per knowledge-graph version; filtering is cheap.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from tipgraph.errors import TipgraphError
from tipgraph.model.build import KnowledgeGraph, not_in
from tipgraph.model.namespaces import PAGE, TIP, rebase_vocabulary
from tipgraph.store.oxigraph import to_rdflib


class GraphFilterError(TipgraphError):
    """A graph filter names an unknown region, kind, relation or thematic area, or a bad year."""


# --------------------------------------------------------------------------------------------
# Kinds of node and styles: one table, used by the JSON (legend), the page and the DOT export.
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    name: str        # the value of ?kind=
    label: str       # legend text
    cls: URIRef      # the class that makes a node this kind (first match in KINDS wins)
    group: str       # mechanisms | bodies | partners | states | instruments | activities
    color: str
    shape: str       # Cytoscape node shape
    dot_shape: str   # Graphviz node shape
    short: str = ""  # legend text where space is short (defaults to label)

    @property
    def legend(self) -> str:
        return self.short or self.label


KINDS: tuple[Kind, ...] = (
    Kind("mechanism", "mechanism", TIP.Mechanism, "mechanisms", "#1f4e9c", "round-rectangle",
         "box"),
    Kind("process", "intergovernmental process", TIP.IntergovernmentalProcess, "mechanisms",
         "#2a7f9e", "round-rectangle", "box", "process"),
    Kind("body", "body of a mechanism", TIP.Body, "bodies", "#5b9bd5", "ellipse", "ellipse",
         "body"),
    Kind("post", "post", TIP.Post, "bodies", "#8e6bbf", "diamond", "box"),
    Kind("igo", "intergovernmental organisation", TIP.IntergovernmentalOrganisation, "partners",
         "#e07b24", "ellipse", "ellipse", "IGO"),
    Kind("ngo", "non-governmental organisation", TIP.NonGovernmentalOrganisation, "partners",
         "#2e9d5b", "ellipse", "ellipse", "NGO"),
    Kind("research", "research or training institution", TIP.ResearchInstitution, "partners",
         "#a0832c", "ellipse", "ellipse", "research, training"),
    Kind("government", "government body", TIP.GovernmentBody, "partners", "#b24a3b", "ellipse",
         "ellipse"),
    Kind("private", "private sector", TIP.PrivateSectorActor, "partners", "#7a7f8c", "ellipse",
         "ellipse"),
    Kind("organisation", "other organisation", TIP.Organisation, "partners", "#9aa3b5", "ellipse",
         "ellipse"),
    Kind("state", "state", TIP.Country, "states", "#6c757d", "round-triangle", "hexagon"),
    Kind("legal-instrument", "legal instrument", TIP.LegalInstrument, "instruments", "#c0392b",
         "rectangle", "note"),
    Kind("policy-instrument", "policy instrument", TIP.PolicyInstrument, "instruments", "#d9679a",
         "rectangle", "note"),
    Kind("knowledge-product", "knowledge product", TIP.KnowledgeProduct, "instruments", "#c39bd3",
         "rectangle", "note"),
    Kind("instrument", "other instrument", TIP.Instrument, "instruments", "#d98880", "rectangle",
         "note"),
    Kind("initiative", "initiative", TIP.Initiative, "activities", "#f0b429", "star", "octagon"),
    Kind("event", "event", TIP.Event, "activities", "#e3c565", "round-pentagon", "egg"),
    Kind("judgment", "judgment", TIP.Judgment, "activities", "#8d6e63", "vee", "invtriangle"),
)
KIND_BY_NAME = {kind.name: kind for kind in KINDS}
GROUPS = ("mechanisms", "bodies", "partners", "states", "instruments", "activities")
INSTRUMENT_KINDS = frozenset(k.name for k in KINDS if k.group == "instruments")

# The view a visitor sees first: the organisations and how they work together, no instruments,
# no member states (which would hang dozens of leaves on every mechanism), no events; and no
# partner or body that has no link in that view (it would float alone, far from its mechanism).
DEFAULT_KINDS = frozenset({"mechanisms", "bodies", "partners"})  # kind groups

# The region a node is drawn in when it has none of its own or works in several: the source's
# "other (cross-regional)" group, where the OSCE and the Bali Process are.
CROSS_REGIONAL = "other-cross-regional"

# Relation families, for colour and line style. A relation not listed here is drawn as "other".
RELATION_FAMILIES: dict[str, tuple[str, ...]] = {
    "structure": ("unitOf", "memberOf", "postIn", "partOf", "secretariatOf", "composedOf",
                  "reportsTo", "electedBy", "heldBy"),
    "support": ("supports", "funds", "facilitatedBy"),
    "partnership": ("partnerOf", "observerOf", "participatesIn", "chairedBy", "coChairedBy",
                    "ledBy", "coordinates", "organisedBy", "launches", "inFrameworkOf"),
    "oversight": ("monitors", "mandates", "guidedBy"),
    "scope": ("appliesTo", "openToRatificationBy", "notBindingOn", "optOutUnder"),
    "making": ("adopts", "establishes", "develops", "publishedBy", "proposedBy", "endorsedBy",
               "implements", "partyTo", "signatoryTo", "ratifiedBy", "adoptedAt", "presentedBy",
               "decidedBy", "respondent", "presentedAt", "launchedAt"),
    "lineage": ("supersedes", "follows", "basedOn", "adoptedThrough", "grewFrom", "supplements",
                "amends", "refersTo"),
}
# "short" is the legend's text, "label" its tooltip and the panel's.
FAMILY_STYLE: dict[str, dict[str, str]] = {
    "structure": {"short": "structure", "label": "structure (unit of, member of…)",
                  "color": "#8593a8", "line": "solid"},
    "support": {"short": "support", "label": "support and funding",
                "color": "#2e9d5b", "line": "solid"},
    "partnership": {"short": "partnership", "label": "partnership, chairing",
                    "color": "#e07b24", "line": "dashed"},
    "oversight": {"short": "oversight", "label": "monitoring, mandate, guidance",
                  "color": "#7d3c98", "line": "dotted"},
    "scope": {"short": "applies to", "label": "whom it applies to, is open to or does not bind",
              "color": "#138d90", "line": "dotted"},
    "making": {"short": "adopts, establishes", "label": "adopts, establishes, develops",
               "color": "#1f4e9c", "line": "solid"},
    "lineage": {"short": "lineage", "label": "supersedes, based on, grew from",
                "color": "#c0392b", "line": "dashed"},
    "other": {"short": "other", "label": "other relation", "color": "#9aa3b5", "line": "solid"},
}
FAMILY_OF = {name: family for family, names in RELATION_FAMILIES.items() for name in names}

# Inverse pairs read from the side that puts the agent first, where the ontology declares the
# inverse on the other side.
PREFERRED_DIRECTION = frozenset({"develops", "participatesIn", "partyTo", "signatoryTo"})
# Place relations: where a thing is, not who works with whom.
EXCLUDED_RELATIONS = frozenset({"locatedIn", "basedIn", "heldIn", "describedOn", "wikidata"})
# Relations that make a body or post part of an organisation: the page can draw it inside.
OWNER_RELATIONS = ("unitOf", "postIn")

DATE_PROPERTIES = ("establishmentDate", "adoptionDate", "signatureDate", "entryIntoForceDate",
                   "launchDate", "publicationDate", "proposalDate", "plannedDate",
                   "appointmentDate", "eventDate", "startDate", "endDate", "periodStart",
                   "periodEnd")
# What makes a thing exist in a year: the earliest of these. (Entry into force only counts when
# nothing earlier is known; planned and proposed dates only for what has no other date.)
START_PROPERTIES = ("establishmentDate", "adoptionDate", "signatureDate", "launchDate",
                    "publicationDate", "appointmentDate", "eventDate", "startDate", "periodStart",
                    "entryIntoForceDate")
FALLBACK_START = ("proposalDate", "plannedDate")
END_PROPERTIES = ("periodEnd", "endDate")


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------

@dataclass
class Node:
    id: str
    iri: str
    label: str
    kind: str
    acronym: str = ""
    alt_labels: list[str] = field(default_factory=list)
    subtype: str = ""            # body type, instrument type, initiative or event type
    status: str = ""
    binding: str = ""
    regions: set[str] = field(default_factory=set)        # own tip:inRegion
    themes: set[str] = field(default_factory=set)         # own tip:thematicArea
    dates: dict[str, str] = field(default_factory=dict)   # local property name -> lexical form
    start: int | None = None
    end: int | None = None
    pages: list[int] = field(default_factory=list)
    owner: str = ""              # the organisation a body or post is a unit of
    url: str = ""                # its entity page, when under the data's base IRI

    @property
    def short_label(self) -> str:
        # A short name that begins the label ("Bali Process") beats an acronym that does not
        # come from the label ("RCP", a term the source says it is sometimes referred to by).
        if self.acronym and self.acronym[0].lower() != self.label[:1].lower():
            for alt in sorted(self.alt_labels, key=len):
                if self.label.startswith(alt + " ") and len(alt) < len(self.label):
                    return alt
        if self.acronym and len(self.acronym) < len(self.label):
            return self.acronym
        return self.label

    @property
    def is_instrument(self) -> bool:
        return self.kind in INSTRUMENT_KINDS


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    relation: str   # local name of the tip: property

    @property
    def id(self) -> str:
        return f"{self.source}|{self.relation}|{self.target}"


@dataclass(frozen=True)
class Relation:
    name: str
    iri: str
    label: str
    symmetric: bool = False
    transitive: bool = False

    @property
    def family(self) -> str:
        return FAMILY_OF.get(self.name, "other")


@dataclass
class FullGraph:
    """Every node and edge of the knowledge graph, with derived regions and themes."""

    nodes: dict[str, Node]
    edges: list[Edge]
    relations: dict[str, Relation]
    labels: dict[str, str]               # labels of regions, themes and other concepts (by id)
    reach_regions: dict[str, set[str]]   # own or derived regions of each node
    reach_themes: dict[str, set[str]]    # own or derived thematic areas of each node
    superseded_by: dict[str, set[str]]
    aliases: dict[str, str]              # relation name as stored (adoptedBy) -> as drawn (adopts)
    base: str

    def year_range(self) -> tuple[int, int] | None:
        years = [y for n in self.nodes.values() for y in (n.start, n.end) if y is not None]
        return (min(years), max(years)) if years else None


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _year(value: str) -> int | None:
    head = value.lstrip("-")[:4]
    return int(head) if len(head) == 4 and head.isdigit() else None


_KIND_QUERY = rebase_vocabulary("""
PREFIX tip: <https://w3id.org/tipgraph/ontology#>
SELECT DISTINCT ?s ?type WHERE { VALUES ?type { %s } ?s a ?type . FILTER(isIRI(?s)) }
""")

_ATTRIBUTE_QUERY = """
SELECT ?s ?p ?o WHERE { VALUES ?p { %s } ?s ?p ?o . FILTER(isIRI(?s)) }
"""

_LABEL_QUERY = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?x ?p ?label WHERE { VALUES ?p { skos:prefLabel rdfs:label } ?x ?p ?label .
                            FILTER(isIRI(?x)) }
"""

_RELATION_QUERY = rebase_vocabulary("""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?p ?label ?inverse ?symmetric ?transitive WHERE {
    ?p a owl:ObjectProperty .
    FILTER(STRSTARTS(STR(?p), "https://w3id.org/tipgraph/ontology#"))
    OPTIONAL { ?p rdfs:label ?label FILTER(langMatches(lang(?label), "en")) }
    OPTIONAL { ?p owl:inverseOf ?inverse }
    BIND(EXISTS { ?p a owl:SymmetricProperty } AS ?symmetric)
    BIND(EXISTS { ?p a owl:TransitiveProperty } AS ?transitive)
}
""")

_SUBPROPERTY_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?sub ?super WHERE { ?sub rdfs:subPropertyOf+ ?super . FILTER(?sub != ?super) }
"""

_EDGE_QUERY = """
SELECT ?s ?p ?o WHERE { VALUES ?p { %s } ?s ?p ?o . FILTER(isIRI(?o)) }
"""

_ATTRIBUTES = (
    [SKOS.prefLabel, RDFS.label, SKOS.altLabel, TIP.acronym, TIP.inRegion, TIP.thematicArea,
     TIP.instrumentType, TIP.bodyType, TIP.initiativeType, TIP.eventType, TIP.status,
     TIP.bindingStatus, TIP.describedOn]
    + [TIP[name] for name in DATE_PROPERTIES]
)


class _Sparql:
    """The knowledge graph in an Oxigraph store, for fast SPARQL; answers with rdflib terms."""

    def __init__(self, graph: Graph) -> None:
        self.store = ox.Store()
        self.store.load(graph.serialize(format="nt", encoding="utf-8"),
                        format=ox.RdfFormat.N_TRIPLES)

    @classmethod
    def of(cls, kg: KnowledgeGraph) -> _Sparql:
        """The union of the knowledge graph (asserted, inferred, ontology) in a store of its
        own. Copied engine to engine when the graph is in pyoxigraph: through rdflib
        (``kg.union()``) it took minutes and gigabytes at a million triples."""
        source = kg.oxigraph
        if source is None:
            return cls(kg.union())
        union = source.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } "
                             f"{not_in(kg.graphs_outside())} }}")
        found = cls(Graph())
        found.store.load(union.serialize(format=ox.RdfFormat.N_TRIPLES),
                         format=ox.RdfFormat.N_TRIPLES)
        return found

    def query(self, sparql: str) -> list[SimpleNamespace]:
        result = self.store.query(sparql)
        names = [variable.value for variable in result.variables]
        return [SimpleNamespace(**{name: to_rdflib(row[name]) for name in names})
                for row in result]


def _values(iris: Iterable[URIRef]) -> str:
    return " ".join(f"<{iri}>" for iri in iris)


class _Relations:
    """The ontology's relations, each inverse pair resolved to one direction to draw."""

    def __init__(self, ontology: _Sparql) -> None:
        self.relations: dict[URIRef, Relation] = {}
        inverse_of: dict[URIRef, URIRef] = {}
        declared: dict[URIRef, URIRef] = {}
        for row in ontology.query(_RELATION_QUERY):
            p = row.p
            if _local(str(p)) in EXCLUDED_RELATIONS:
                continue
            label = str(row.label) if row.label is not None else _local(str(p))
            self.relations[p] = Relation(_local(str(p)), str(p), label,
                                         bool(row.symmetric), bool(row.transitive))
            if row.inverse is not None:
                declared[p] = row.inverse
        for p, q in declared.items():
            inverse_of[p], inverse_of[q] = q, p
        # (property as stored) -> (property drawn, flipped?)
        self.read_as: dict[URIRef, tuple[URIRef, bool]] = {}
        for p in self.relations:
            q = inverse_of.get(p)
            if q is None or q not in self.relations:
                self.read_as[p] = (p, False)
                continue
            keep = p if p in declared else q
            if _local(str(q if keep == p else p)) in PREFERRED_DIRECTION:
                keep = q if keep == p else p
            self.read_as[p] = (keep, keep != p)
        self.drawn = {drawn for drawn, _ in self.read_as.values()}
        self.sub: dict[URIRef, set[URIRef]] = defaultdict(set)  # super -> strict subproperties
        for row in ontology.query(_SUBPROPERTY_QUERY):
            if row.sub in self.drawn and row.super in self.drawn:
                self.sub[row.super].add(row.sub)


def _node_id(iri: str, base: str) -> str:
    return iri[len(base):] if iri.startswith(base) and len(iri) > len(base) else iri


def _english(values: list[Literal]) -> str:
    for want in ("en", None):
        for value in values:
            if (value.language or None) == want or (want is None):
                return str(value)
    return ""


def extract(kg: KnowledgeGraph, source: Any = None) -> FullGraph:
    """Read the whole relationship graph out of the knowledge graph by SPARQL (or out of
    ``source``, anything whose ``query(sparql)`` gives rows: a remote store)."""
    dataset = source if source is not None else _Sparql.of(kg)
    base = str(kg.config.get("base_iri") or "")
    page_base = str(PAGE) if base == "" else str(PAGE).replace(
        "https://w3id.org/tipgraph/id/", base, 1)

    kind_of_class = {kind.cls: kind for kind in KINDS}
    found: dict[URIRef, set[URIRef]] = defaultdict(set)
    for row in dataset.query(_KIND_QUERY % _values(kind_of_class)):
        found[row.s].add(row.type)
    nodes: dict[str, Node] = {}
    by_iri: dict[URIRef, Node] = {}
    for iri, classes in found.items():
        kind = next(k for k in KINDS if k.cls in classes)
        node_id = _node_id(str(iri), base)
        node = Node(node_id, str(iri), node_id, kind.name)
        if str(iri).startswith(base) and base:
            node.url = "/id/" + node_id
        nodes[node_id], by_iri[iri] = node, node

    labels: dict[URIRef, dict[URIRef, list[Literal]]] = defaultdict(lambda: defaultdict(list))
    for row in dataset.query(_LABEL_QUERY):
        if isinstance(row.label, Literal):
            labels[row.x][row.p].append(row.label)

    def label_of(iri: URIRef) -> str:
        by_property = labels.get(iri, {})
        return (_english(by_property.get(SKOS.prefLabel, []))
                or _english(by_property.get(RDFS.label, [])) or _local(str(iri)))

    concept_labels: dict[str, str] = {}
    facts: dict[URIRef, dict[URIRef, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in dataset.query(_ATTRIBUTE_QUERY % _values(_ATTRIBUTES)):
        if row.s in by_iri:
            facts[row.s][row.p].append(row.o)
    for iri, node in by_iri.items():
        props = facts.get(iri, {})
        node.label = label_of(iri)
        acronyms = sorted(str(a) for a in props.get(TIP.acronym, []))
        node.acronym = acronyms[0] if acronyms else ""
        node.alt_labels = sorted({str(a) for a in props.get(SKOS.altLabel, [])} - {node.acronym}
                                 | set(acronyms[1:]))
        for prop in (TIP.instrumentType, TIP.bodyType, TIP.initiativeType, TIP.eventType):
            if props.get(prop):
                node.subtype = label_of(sorted(props[prop])[0])
        if props.get(TIP.status):
            node.status = label_of(sorted(props[TIP.status])[0])
        if props.get(TIP.bindingStatus):
            node.binding = label_of(sorted(props[TIP.bindingStatus])[0])
        for prop, target in ((TIP.inRegion, node.regions), (TIP.thematicArea, node.themes)):
            for value in props.get(prop, []):
                if isinstance(value, URIRef):
                    key = _local(str(value))
                    target.add(key)
                    concept_labels[key] = label_of(value)
        for name in DATE_PROPERTIES:
            values = sorted(str(v) for v in props.get(TIP[name], []) if isinstance(v, Literal))
            if values:
                node.dates[name] = values[0]
        starts = [_year(node.dates[p]) for p in START_PROPERTIES if p in node.dates]
        starts = [y for y in starts if y is not None] or [
            y for y in (_year(node.dates[p]) for p in FALLBACK_START if p in node.dates)
            if y is not None]
        node.start = min(starts) if starts else None
        ends = [y for y in (_year(node.dates[p]) for p in END_PROPERTIES if p in node.dates)
                if y is not None]
        node.end = max(ends) if ends else None
        node.pages = sorted({int(str(p)[len(page_base):]) for p in props.get(TIP.describedOn, [])
                             if str(p).startswith(page_base) and str(p)[len(page_base):].isdigit()})

    rels = _Relations(dataset)
    raw: set[tuple[str, URIRef, str]] = set()
    for row in dataset.query(_EDGE_QUERY % _values(rels.read_as)):
        s, o = by_iri.get(row.s), by_iri.get(row.o)
        if s is None or o is None or s is o:
            continue
        drawn, flipped = rels.read_as[row.p]
        source, target = (o, s) if flipped else (s, o)
        if rels.relations[drawn].symmetric and source.id > target.id:
            source, target = target, source
        raw.add((source.id, drawn, target.id))
    # An edge implied by a more specific one between the same nodes is not drawn twice.
    pairs: dict[tuple[str, str], set[URIRef]] = defaultdict(set)
    for s, p, o in raw:
        pairs[(s, o)].add(p)
    kept = {(s, p, o) for s, p, o in raw if not (rels.sub.get(p, set()) & pairs[(s, o)])}
    # Transitive relations: keep the direct links only.
    for p in {p for _, p, _ in kept if rels.relations[p].transitive}:
        successors: dict[str, set[str]] = defaultdict(set)
        for s, q, o in kept:
            if q == p:
                successors[s].add(o)
        kept = {(s, q, o) for s, q, o in kept
                if q != p or not any(o in successors[m] for m in successors[s] if m != o)}
    edges = sorted((Edge(s, o, _local(str(p))) for s, p, o in kept), key=lambda e: e.id)
    relations = {_local(str(p)): rels.relations[p] for p in rels.drawn}

    for edge in edges:
        if edge.relation in OWNER_RELATIONS:
            node = nodes[edge.source]
            owner = nodes[edge.target]
            # prefer a mechanism as the owner, then any organisation, in a stable order
            rank = (KIND_BY_NAME[owner.kind].group != "mechanisms", owner.id)
            if not node.owner or rank < (KIND_BY_NAME[nodes[node.owner].kind].group
                                         != "mechanisms", node.owner):
                node.owner = owner.id
    superseded_by: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        if edge.relation == "supersedes":
            superseded_by[edge.target].add(edge.source)
    return FullGraph(nodes, edges, relations, concept_labels,
                     _propagate(nodes, edges, "regions"), _one_hop(nodes, edges, "themes"),
                     dict(superseded_by),
                     {_local(str(p)): _local(str(d)) for p, (d, _) in rels.read_as.items()}, base)


def _propagate(nodes: Mapping[str, Node], edges: Iterable[Edge], attribute: str
               ) -> dict[str, set[str]]:
    """Own values, else those reached through the structure that a node belongs to.

    A body or post takes the values of the organisation it is a unit of (GRETA is where the
    Council of Europe is). Other mechanisms, bodies, posts, instruments and activities take the
    values of their nearest neighbours that have some, breadth first: all of those at the same
    distance, so the result does not depend on the order of the data; first through structure
    and making (unit of, establishes, adopts...), then, for what is still without, through any
    relation (an observer does not make a committee cross-regional). Partners and states work
    with many mechanisms: they take the union of their neighbours' values but pass nothing on,
    so that IOM does not carry every region to every instrument it helped with.
    """
    neighbours: dict[str, set[str]] = defaultdict(set)
    strong: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
        if FAMILY_OF.get(edge.relation) in {"structure", "making"}:
            strong[edge.source].add(edge.target)
            strong[edge.target].add(edge.source)
    reach = {node_id: set(getattr(node, attribute)) for node_id, node in nodes.items()}
    hub_groups = {"partners", "states"}
    is_hub = {node_id: KIND_BY_NAME[node.kind].group in hub_groups
              for node_id, node in nodes.items()}

    def root(node_id: str) -> str:
        seen = {node_id}
        while nodes[node_id].owner and nodes[node_id].owner not in seen:
            node_id = nodes[node_id].owner
            seen.add(node_id)
        return node_id

    roots = {node_id: root(node_id) for node_id in nodes}
    for node_id, top in roots.items():
        if not reach[node_id] and getattr(nodes[top], attribute):
            reach[node_id] = set(getattr(nodes[top], attribute))
    for links in (strong, neighbours):
        frontier = {node_id for node_id, values in reach.items()
                    if values and not is_hub[node_id]}
        while frontier:
            reached: dict[str, set[str]] = defaultdict(set)
            for current in frontier:
                for other in links[current]:
                    if not reach[other] and not is_hub[other]:
                        reached[other] |= reach[current]
            for other, values in reached.items():
                reach[other] = values
            frontier = set(reached)
    for node_id, top in roots.items():
        if top != node_id and not getattr(nodes[node_id], attribute) and reach[top]:
            reach[node_id] = set(reach[top])
    settled = {node_id: set(values) for node_id, values in reach.items()}
    for node_id in nodes:
        if is_hub[node_id] and not getattr(nodes[node_id], attribute):
            for other in neighbours[node_id]:
                if not is_hub[other]:
                    reach[node_id] |= settled[other]
    return reach


def _one_hop(nodes: Mapping[str, Node], edges: Iterable[Edge], attribute: str
             ) -> dict[str, set[str]]:
    """Own values, else the union of the direct neighbours' own values.

    A mechanism is "about" prevention when it adopted or launched something about prevention;
    going further would make every connected thing about everything.
    """
    reach = {node_id: set(getattr(node, attribute)) for node_id, node in nodes.items()}
    for edge in edges:
        for here, there in ((edge.source, edge.target), (edge.target, edge.source)):
            if not getattr(nodes[here], attribute):
                reach[here] |= getattr(nodes[there], attribute)
    return reach


_CACHE: dict[tuple[str, str, str], FullGraph] = {}
_CACHE_LOCK = threading.Lock()


def full_graph(kg: KnowledgeGraph, source: Any = None) -> FullGraph:
    """The extracted graph of ``kg``, computed once per data version (and source)."""
    key = (kg.version, str(kg.config.get("base_iri")), type(source).__name__)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = extract(kg, source)
            if len(_CACHE) >= 4:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = cached
        return cached


# --------------------------------------------------------------------------------------------
# Filters and views
# --------------------------------------------------------------------------------------------

def _split(values: Iterable[str]) -> frozenset[str]:
    return frozenset(part.strip() for value in values for part in str(value).split(",")
                     if part.strip())


@dataclass(frozen=True)
class GraphFilter:
    """What to show. Empty sets mean "no restriction"; ``kinds`` empty means every kind."""

    regions: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    relations: frozenset[str] = frozenset()
    themes: frozenset[str] = frozenset()
    year: int | None = None
    instruments: bool | None = None   # True adds the instrument kinds, False removes them
    focus: str | None = None          # only this node and its neighbourhood
    depth: int = 1
    group: bool = True                # draw bodies inside the organisation they are a unit of
    unlinked: bool = True             # False: leave out what has no link in the view (mechanisms
                                      # and the focus stay)

    PARAMS = ("region", "kind", "relation", "theme", "year", "instruments", "focus", "depth",
              "group", "unlinked")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GraphFilter:
        """From query parameters (a MultiDict, or a mapping of lists or strings).

        Each of region, kind, relation, theme may repeat or hold a comma-separated list.
        """
        def many(name: str) -> list[str]:
            if hasattr(params, "getlist"):
                return list(params.getlist(name))
            value = params.get(name)
            if value is None:
                return []
            return [value] if isinstance(value, str) else list(value)

        def one(name: str) -> str | None:
            values = many(name)
            return values[-1].strip() if values and values[-1].strip() else None

        unknown = sorted(set(params) - set(cls.PARAMS) - {"index", "format"})
        if unknown:
            raise GraphFilterError(f"unknown graph filter {unknown[0]!r}; use "
                                   f"{', '.join(cls.PARAMS)}")
        year = one("year")
        depth = one("depth")
        try:
            year_value = int(year) if year is not None else None
            depth_value = int(depth) if depth is not None else 1
        except ValueError:
            raise GraphFilterError("year and depth must be whole numbers, for example year=2005"
                                   ) from None
        if not 1 <= depth_value <= 5:
            raise GraphFilterError("depth must be between 1 and 5")
        return cls(
            regions=_split(many("region")), kinds=_split(many("kind")),
            relations=_split(many("relation")), themes=_split(many("theme")),
            year=year_value, instruments=_flag(one("instruments"), "instruments"),
            focus=one("focus"), depth=depth_value,
            group=_flag(one("group"), "group") is not False,
            unlinked=_flag(one("unlinked"), "unlinked") is not False,
        )

    def to_params(self) -> dict[str, str]:
        """The query string that means this filter (defaults left out)."""
        params: dict[str, str] = {}
        for name, values in (("region", self.regions), ("kind", self.kinds),
                             ("relation", self.relations), ("theme", self.themes)):
            if values:
                params[name] = ",".join(sorted(values))
        if self.year is not None:
            params["year"] = str(self.year)
        if self.instruments is not None:
            params["instruments"] = "1" if self.instruments else "0"
        if self.focus:
            params["focus"] = self.focus
            params["depth"] = str(self.depth)
        if not self.group:
            params["group"] = "0"
        if not self.unlinked:
            params["unlinked"] = "0"
        return params


def default_filter() -> GraphFilter:
    """The first view of the page and of `tipgraph viz`: linked organisations, no instruments."""
    return GraphFilter(kinds=DEFAULT_KINDS, unlinked=False)


def _flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on", "show", "include"}:
        return True
    if lowered in {"0", "false", "no", "off", "hide", "exclude"}:
        return False
    raise GraphFilterError(f"{name} must be 1 or 0 (true or false), not {value!r}")


def _resolve(values: frozenset[str], known: Iterable[str], what: str,
             aliases: Mapping[str, Iterable[str]] | None = None) -> frozenset[str]:
    known = set(known)
    resolved: set[str] = set()
    for value in values:
        if value in known:
            resolved.add(value)
        elif aliases and value in aliases:
            resolved.update(aliases[value])
        else:
            choices = sorted(known | set(aliases or ()))
            raise GraphFilterError(f"unknown {what} {value!r}; known: {', '.join(choices)}")
    return frozenset(resolved)


@dataclass
class GraphView:
    """A filtered view: what the page draws and the exports write."""

    full: FullGraph
    filter: GraphFilter
    nodes: list[Node]
    edges: list[Edge]
    parents: dict[str, str]   # child id -> compound parent id (when grouping)
    past: set[str]            # ended or replaced as of the filter's year
    clusters: dict[str, str] = field(default_factory=dict)  # node id -> region it is drawn in

    def degree(self) -> dict[str, int]:
        degree = dict.fromkeys((n.id for n in self.nodes), 0)
        for edge in self.edges:
            if not self.is_contained(edge):
                degree[edge.source] += 1
                degree[edge.target] += 1
        return degree

    def is_contained(self, edge: Edge) -> bool:
        """True for the unit-of link a compound node already shows by nesting."""
        return (edge.relation in OWNER_RELATIONS
                and self.parents.get(edge.source) == edge.target)

    def node_data(self, node: Node, degree: int) -> dict[str, Any]:
        kind = KIND_BY_NAME[node.kind]
        data: dict[str, Any] = {
            "id": node.id, "iri": node.iri, "label": node.label, "short": node.short_label,
            "kind": node.kind, "kindLabel": kind.label, "group": kind.group,
            "degree": degree,
            "regions": sorted(self.full.reach_regions.get(node.id, ())),
            "themes": sorted(self.full.reach_themes.get(node.id, ())),
            "dates": dict(node.dates), "pages": node.pages,
        }
        optional = {"acronym": node.acronym, "altLabels": node.alt_labels,
                    "subtype": node.subtype, "status": node.status, "binding": node.binding,
                    "start": node.start, "end": node.end, "url": node.url,
                    "owner": node.owner, "parent": self.parents.get(node.id),
                    "cluster": self.clusters.get(node.id)}
        data.update({k: v for k, v in optional.items() if v not in (None, "", [])})
        if node.id in self.past:
            data["past"] = True
        return data

    def to_cytoscape(self, index: bool = False) -> dict[str, Any]:
        """Cytoscape.js elements ({"nodes": [{"data": ...}], "edges": [...]}) and the facets."""
        degree = self.degree()
        nodes = [{"data": self.node_data(n, degree[n.id])} for n in self.nodes]
        edges = []
        for edge in self.edges:
            relation = self.full.relations[edge.relation]
            data = {"id": edge.id, "source": edge.source, "target": edge.target,
                    "relation": edge.relation, "label": relation.label,
                    "family": relation.family}
            if relation.symmetric:
                data["symmetric"] = True
            if self.is_contained(edge):
                data["contained"] = True
            edges.append({"data": data})
        return {"nodes": nodes, "edges": edges, "meta": self.meta(index)}

    def meta(self, index: bool = False) -> dict[str, Any]:
        full = self.full
        kind_counts: dict[str, int] = defaultdict(int)
        for node in full.nodes.values():
            kind_counts[node.kind] += 1
        relation_counts: dict[str, int] = defaultdict(int)
        for edge in full.edges:
            relation_counts[edge.relation] += 1
        region_counts: dict[str, int] = defaultdict(int)
        theme_counts: dict[str, int] = defaultdict(int)
        for node_id in full.nodes:
            for region in full.reach_regions.get(node_id, ()):
                region_counts[region] += 1
            for theme in full.reach_themes.get(node_id, ()):
                theme_counts[theme] += 1
        years = full.year_range()
        meta: dict[str, Any] = {
            "counts": {"nodes": len(self.nodes), "edges": len(self.edges),
                       "allNodes": len(full.nodes), "allEdges": len(full.edges)},
            "filters": self.filter.to_params(),
            "defaults": default_filter().to_params(),
            "kinds": [{"name": k.name, "label": k.label, "short": k.legend, "group": k.group,
                       "color": k.color, "shape": k.shape, "count": kind_counts[k.name]}
                      for k in KINDS],
            "relations": sorted(
                ({"name": name, "label": full.relations[name].label,
                  "family": full.relations[name].family, "count": count}
                 for name, count in relation_counts.items()), key=lambda r: r["label"]),
            "families": FAMILY_STYLE,
            "regions": sorted(({"id": r, "label": full.labels.get(r, r), "count": c}
                               for r, c in region_counts.items()), key=lambda r: r["label"]),
            "themes": sorted(({"id": t, "label": full.labels.get(t, t), "count": c}
                              for t, c in theme_counts.items()), key=lambda t: t["label"]),
            "years": list(years) if years else None,
        }
        if index:
            meta["index"] = [
                {"id": n.id, "label": n.label, "acronym": n.acronym, "alt": n.alt_labels,
                 "kind": n.kind}
                for n in sorted(full.nodes.values(), key=lambda n: n.label.lower())]
        return meta


def _is_past(full: FullGraph, node: Node, year: int | None) -> bool:
    """Ended (period over) or replaced by something in force, as of ``year`` (or now)."""
    if year is not None and node.end is not None and node.end < year:
        return True
    for newer_id in full.superseded_by.get(node.id, ()):
        newer = full.nodes[newer_id]
        planned = any(word in newer.status.lower() for word in ("planned", "draft", "prepar"))
        if not planned and (year is None or newer.start is None or newer.start <= year):
            return True
    return False


def build_view(full: FullGraph, flt: GraphFilter) -> GraphView:
    """Apply a filter to the full graph."""
    group_names = {group: {k.name for k in KINDS if k.group == group} for group in GROUPS}
    kinds = _resolve(flt.kinds, KIND_BY_NAME, "kind", group_names) or frozenset(KIND_BY_NAME)
    if flt.instruments is True:
        kinds |= INSTRUMENT_KINDS
    elif flt.instruments is False:
        kinds -= INSTRUMENT_KINDS
    inverse_aliases = {stored: {drawn} for stored, drawn in full.aliases.items()}
    relations = _resolve(flt.relations, full.relations, "relation", inverse_aliases)
    regions = _resolve(flt.regions, set(full.labels) | {r for rs in full.reach_regions.values()
                                                        for r in rs}, "region")
    themes = _resolve(flt.themes, set(full.labels) | {t for ts in full.reach_themes.values()
                                                      for t in ts}, "thematic area")
    if flt.focus is not None and flt.focus not in full.nodes:
        raise GraphFilterError(f"no node {flt.focus!r} in the graph; use a node id such as "
                               f"{next(iter(sorted(full.nodes)), 'ecowas')!r}")

    def keep(node: Node) -> bool:
        if node.id == flt.focus:
            return True
        if flt.year is not None and node.start is not None and node.start > flt.year:
            return False
        if node.kind not in kinds:
            return False
        if regions and not regions & full.reach_regions.get(node.id, set()):
            return False
        return not (themes and not themes & full.reach_themes.get(node.id, set()))

    kept = {node_id for node_id, node in full.nodes.items() if keep(node)}
    edges = [e for e in full.edges if e.source in kept and e.target in kept
             and (not relations or e.relation in relations)]
    if relations:
        linked = {e.source for e in edges} | {e.target for e in edges}
        kept = {n for n in kept if n in linked or n == flt.focus}
    if flt.focus is not None:
        kept = _neighbourhood(flt.focus, edges, flt.depth) & kept | {flt.focus}
        edges = [e for e in edges if e.source in kept and e.target in kept]
    if not flt.unlinked:
        linked = {e.source for e in edges} | {e.target for e in edges}
        kept = {n for n in kept if n in linked or n == flt.focus
                or KIND_BY_NAME[full.nodes[n].kind].group == "mechanisms"}
    nodes = sorted((full.nodes[n] for n in kept), key=lambda n: n.id)
    parents: dict[str, str] = {}
    if flt.group:
        for node in nodes:
            if node.owner in kept and not _makes_cycle(node.id, node.owner, parents):
                parents[node.id] = node.owner
    past = {n.id for n in nodes if _is_past(full, n, flt.year)}
    return GraphView(full, flt, nodes, edges, parents, past,
                     _clusters(full, nodes, edges, parents))


def _clusters(full: FullGraph, nodes: list[Node], edges: list[Edge],
              parents: Mapping[str, str]) -> dict[str, str]:
    """The region each node is drawn in, so that a picture can group the view by region.

    A node is drawn with the outermost organisation it is inside (its root). A root with one
    region of its own is drawn there. Roots tied by structure or making in the view (RECs member
    of ECOWAS, the EU establishes Europol) are drawn together, in the region most of them have.
    Then a mechanism, body or instrument goes where its one reached region is, and a partner
    or state where most of what it links to is; failing all that, with the cross-regional ones.
    """
    def root(node_id: str) -> str:
        while node_id in parents:
            node_id = parents[node_id]
        return node_id

    def single(values: set[str]) -> str | None:
        return next(iter(values)) if len(values) == 1 else None

    def plurality(values: list[str]) -> str | None:
        ranked = Counter(values).most_common(2)
        if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    roots = sorted({root(n.id) for n in nodes})
    family = {r: r for r in roots}

    def find(r: str) -> str:
        while family[r] != r:
            family[r] = family[family[r]]
            r = family[r]
        return r

    linked: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        source, target = root(edge.source), root(edge.target)
        if source == target:
            continue
        linked[source].append(target)
        linked[target].append(source)
        if FAMILY_OF.get(edge.relation) in {"structure", "making"}:
            family[find(source)] = find(target)

    of_root: dict[str, str] = {}
    for r in roots:
        region = single(full.nodes[r].regions)
        if region:
            of_root[r] = region
    members: dict[str, list[str]] = defaultdict(list)
    for r in roots:
        members[find(r)].append(r)
    for group in members.values():
        region = plurality([of_root[r] for r in group if r in of_root])
        for r in group:
            if region and r not in of_root:
                of_root[r] = region
    hubs = {"partners", "states"}
    for r in roots:
        if r not in of_root and KIND_BY_NAME[full.nodes[r].kind].group not in hubs:
            region = single(full.reach_regions.get(r, set()))
            if region:
                of_root[r] = region
    for r in roots:
        if r not in of_root:
            of_root[r] = (plurality([of_root[o] for o in linked[r] if o in of_root])
                          or single(full.reach_regions.get(r, set())) or CROSS_REGIONAL)
    return {n.id: of_root[root(n.id)] for n in nodes}


def _neighbourhood(start: str, edges: Iterable[Edge], depth: int) -> set[str]:
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    seen, frontier = {start}, {start}
    for _ in range(depth):
        frontier = {m for n in frontier for m in neighbours[n]} - seen
        seen |= frontier
    return seen


def _makes_cycle(child: str, parent: str, parents: Mapping[str, str]) -> bool:
    current: str | None = parent
    while current is not None:
        if current == child:
            return True
        current = parents.get(current)
    return False


def view(kg: KnowledgeGraph, flt: GraphFilter | None = None, source: Any = None) -> GraphView:
    """The filtered relationship graph of ``kg`` (the default view when no filter is given)."""
    return build_view(full_graph(kg, source), flt if flt is not None else default_filter())


def with_focus(flt: GraphFilter, focus: str, depth: int = 1) -> GraphFilter:
    return replace(flt, focus=focus, depth=depth)


__all__ = [
    "DEFAULT_KINDS", "FAMILY_STYLE", "KINDS", "Edge", "FullGraph", "GraphFilter",
    "GraphFilterError", "GraphView", "Kind", "Node", "build_view", "default_filter", "extract",
    "full_graph", "view", "with_focus",
]
