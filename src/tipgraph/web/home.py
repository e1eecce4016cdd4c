"""The landing page: what the graph holds, the mechanisms by region, and where to go next."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, jsonify, render_template

from tipgraph.model.build import KnowledgeGraph
from tipgraph.model.namespaces import rebase_vocabulary
from tipgraph.publish.describe import href_for
from tipgraph.web.app import state, wants_html

blueprint = Blueprint("home", __name__)

MECHANISMS = rebase_vocabulary("""
PREFIX tip: <https://w3id.org/tipgraph/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?region ?regionLabel ?mechanism ?label (SAMPLE(?acr) AS ?acronym) ?scope WHERE {
    ?mechanism a tip:Mechanism ; tip:inRegion ?region ; skos:prefLabel ?label .
    ?region skos:prefLabel ?regionLabel .
    OPTIONAL { ?mechanism tip:acronym ?acr }
    OPTIONAL { ?mechanism a ?scope .
               VALUES ?scope { tip:RegionalMechanism tip:SubRegionalMechanism
                               tip:CrossRegionalMechanism } }
}
GROUP BY ?region ?regionLabel ?mechanism ?label ?scope
""")

COUNTS = rebase_vocabulary("""
PREFIX tip: <https://w3id.org/tipgraph/ontology#>
SELECT ?class (COUNT(DISTINCT ?x) AS ?n) WHERE {
    VALUES ?class { tip:Mechanism tip:Instrument tip:Body tip:Post tip:Initiative tip:Event
                    tip:Country tip:IntergovernmentalOrganisation
                    tip:NonGovernmentalOrganisation tip:Judgment }
    ?x a ?class .
} GROUP BY ?class
""")

# The order the source document presents its regions in (its table of contents).
REGION_ORDER = ["african-region", "americas-region", "asian-region", "european-region",
                "middle-east-north-africa-region", "other-cross-regional"]


@dataclass(frozen=True)
class Overview:
    counts: dict[str, int]
    regions: list[tuple[str, list[dict[str, str]]]]


_overviews: dict[str, Overview] = {}


def overview(kg: KnowledgeGraph) -> Overview:
    """Computed once per data version (the graph does not change under a running app)."""
    if kg.version not in _overviews:
        base = kg.config["base_iri"]
        counts = {str(row[0]).rsplit("#", 1)[-1]: int(row[1])
                  for row in kg.dataset.query(COUNTS)}
        regions: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in kg.dataset.query(MECHANISMS):
            scope = str(row.scope).rsplit("#", 1)[-1] if row.scope else ""
            regions.setdefault((str(row.region), str(row.regionLabel)), []).append({
                "label": str(row.label), "acronym": str(row.acronym or ""),
                "href": href_for(row.mechanism, base) or str(row.mechanism),
                "scope": {"RegionalMechanism": "regional", "SubRegionalMechanism": "sub-regional",
                          "CrossRegionalMechanism": "cross-regional"}.get(scope, ""),
            })

        def order(key: tuple[str, str]) -> tuple[int, str]:
            slug = key[0].rsplit("/", 1)[-1]
            return (REGION_ORDER.index(slug) if slug in REGION_ORDER else 99, key[1])

        _overviews[kg.version] = Overview(counts, [
            (label, sorted(items, key=lambda m: m["label"]))
            for (iri, label), items in sorted(regions.items(), key=lambda kv: order(kv[0]))])
    return _overviews[kg.version]


@blueprint.get("/")
def home():
    view = overview(state().kg)
    if not wants_html():
        return jsonify({"counts": view.counts,
                        "regions": [{"region": r, "mechanisms": m} for r, m in view.regions],
                        "links": {"sparql": "/sparql", "graph": "/graph", "browse": "/id/",
                                  "ontology": "/ontology", "void": "/.well-known/void",
                                  "dumps": "/dumps/"}})
    return render_template("home.html", view=view)
