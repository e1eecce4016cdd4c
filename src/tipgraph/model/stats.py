"""Counts of what the graph holds, for `tipgraph stats` and the dataset description."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import RDF, SKOS, TIP
from tipgraph.model.validate import short


@dataclass
class Stats:
    asserted_triples: int
    inferred_triples: int
    ontology_triples: int
    pages_cited: int
    entities: int
    named_things: int
    relations: int
    classes: dict[str, int]
    properties: dict[str, int]


# What an entity count should not call a named thing of the source: its pages, the observation
# nodes of counts, and tipgraph's own concept schemes.
_BOOKKEEPING = (TIP.SourceDocument, TIP.SourcePage, TIP.CountObservation, SKOS.Concept,
                SKOS.ConceptScheme)


def compute_stats(kg: KnowledgeGraph) -> Stats:
    asserted = kg.asserted()
    union = kg.union(inferred=True, ontology=False)
    classes = Counter(short(o) for s, o in asserted.subject_objects(RDF.type))
    # tip: classes with inferred members too, so that tip:Mechanism counts every mechanism.
    for o in set(union.objects(None, RDF.type)):
        if str(o).startswith(str(TIP)):
            classes[short(o)] = 0
    for cls in list(classes):
        if cls and cls.startswith("tip:"):
            classes[cls] = len(set(union.subjects(RDF.type, TIP[cls[4:]])))
    properties = Counter(short(p) for p in asserted.predicates())
    entities = {s for s in asserted.subjects(RDF.type) if str(s).startswith(kg.config["base_iri"])}
    bookkeeping = {s for c in _BOOKKEEPING for s in union.subjects(RDF.type, c)}
    named = entities - bookkeeping
    relations = {(s, p, o) for s, p, o in asserted if s in named and o in named and p != RDF.type}
    return Stats(
        asserted_triples=len(asserted),
        inferred_triples=len(kg.inferred),
        ontology_triples=len(kg.ontology),
        pages_cited=len([g for g in kg.data_graph_names() if "/page/" in str(g)]),
        entities=len(entities),
        named_things=len(named),
        relations=len(relations),
        classes=dict(sorted(classes.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
        properties=dict(sorted(properties.items(), key=lambda kv: (-kv[1], kv[0] or ""))),
    )


def format_stats(stats: Stats, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(asdict(stats), indent=2)
    lines = [
        f"asserted triples   {stats.asserted_triples}",
        f"inferred triples   {stats.inferred_triples}",
        f"ontology triples   {stats.ontology_triples}",
        f"entities           {stats.entities}",
        f"named things       {stats.named_things}   (entities less pages, counts, concepts)",
        f"relations          {stats.relations}   (between named things, asserted)",
        f"source pages cited {stats.pages_cited}",
        "",
        "instances per class (tip: classes include inferred members)",
    ]
    lines += [f"  {count:6d}  {name}" for name, count in stats.classes.items()]
    lines += ["", "uses of each property (asserted)"]
    lines += [f"  {count:6d}  {name}" for name, count in stats.properties.items()]
    return "\n".join(lines)
