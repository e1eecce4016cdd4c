"""The relationship graph: extraction by SPARQL, direction of relations, filters."""

from __future__ import annotations

import pytest

from tests.graph_support import build_with, fixture_kg
from tipgraph.publish.graphviews import (
    GraphFilter,
    GraphFilterError,
    default_filter,
    extract,
    full_graph,
    view,
)


@pytest.fixture(scope="module")
def kg():
    return fixture_kg()


@pytest.fixture(scope="module")
def full(kg):
    return full_graph(kg)


def edges(graph_view_or_full):
    return {(e.source, e.relation, e.target) for e in graph_view_or_full.edges}


def ids(graph_view):
    return {n.id for n in graph_view.nodes}


def test_kinds_follow_the_most_specific_class(full):
    kinds = {node_id: node.kind for node_id, node in full.nodes.items()}
    assert kinds["greta"] == "body"
    assert kinds["coe-convention"] == "legal-instrument"
    assert kinds["ecowas-training-manual"] == "knowledge-product"
    assert kinds["bali-process"] == "mechanism"  # also an intergovernmental process
    assert kinds["iom"] == "igo" and kinds["la-strada-international"] == "ngo"
    assert kinds["nigeria"] == "state"
    assert "african-region" not in kinds  # regions are a filter, not nodes


def test_labels_acronyms_dates_and_pages(full):
    greta = full.nodes["greta"]
    assert greta.acronym == "GRETA" and greta.short_label == "GRETA"
    assert greta.label.startswith("Group of Experts")
    assert greta.subtype == "group of experts"
    assert greta.pages == [14]
    convention = full.nodes["coe-convention"]
    assert convention.dates["adoptionDate"] == "2005-05-16"
    assert convention.dates["entryIntoForceDate"] == "2008"
    assert (convention.start, convention.end) == (2005, None)
    plan = full.nodes["ecowas-initial-plan"]
    assert (plan.start, plan.end) == (2001, 2003)


def test_inverse_relations_are_drawn_once_in_one_direction(full):
    found = edges(full)
    # asserted as "plan adoptedBy ecowas" and as "ecowas adopts plan": one edge either way
    assert ("ecowas", "adopts", "ecowas-plan-2008") in found
    assert ("ecowas", "adopts", "ecowas-initial-plan") in found
    assert not any(relation == "adoptedBy" for _, relation, _ in found)
    # hasMember on the mechanism becomes memberOf from the state
    assert ("nigeria", "memberOf", "ecowas") in found
    assert ("ecowas", "develops", "ecowas-training-manual") in found


def test_a_specific_relation_hides_the_inferred_general_one(full):
    found = edges(full)
    assert ("unodc", "funds", "ecowas-training-manual") in found
    assert ("unodc", "supports", "ecowas-training-manual") not in found
    assert ("ecowas-plan-2008", "supersedes", "ecowas-initial-plan") in found
    assert ("ecowas-plan-2008", "follows", "ecowas-initial-plan") not in found


def test_symmetric_relations_are_drawn_once(full):
    partner_edges = [e for e in full.edges if e.relation == "partnerOf"]
    assert len(partner_edges) == 1


def test_regions_reach_bodies_and_partners(full):
    assert full.reach_regions["greta"] == {"european-region"}
    assert full.reach_regions["ecowas-anti-trafficking-unit"] == {"african-region"}
    assert full.reach_regions["iom"] == {"african-region", "other-cross-regional"}


def test_default_view_has_organisations_without_instruments_or_states(kg):
    shown = ids(view(kg))
    assert {"ecowas", "greta", "iom", "la-strada-international"} <= shown
    assert not shown & {"coe-convention", "ecowas-plan-2008", "nigeria", "australia",
                        "coe-not-for-sale-campaign"}


def test_no_filter_means_everything(kg, full):
    everything = view(kg, GraphFilter())
    assert ids(everything) == set(full.nodes)
    assert len(everything.edges) == len(full.edges)


def test_region_filter_reduces_the_graph(kg):
    europe = ids(view(kg, GraphFilter(regions=frozenset({"european-region"}))))
    assert {"council-of-europe", "greta", "coe-convention", "la-strada-international"} <= europe
    assert "ecowas" not in europe and "bali-process" not in europe


def test_kind_groups_and_instruments_toggle(kg):
    base = GraphFilter(kinds=frozenset({"mechanisms"}))
    assert ids(view(kg, base)) == {"ecowas", "council-of-europe", "bali-process"}
    with_instruments = ids(view(kg, GraphFilter(kinds=base.kinds, instruments=True)))
    assert {"coe-convention", "ecowas-training-manual"} <= with_instruments
    without = ids(view(kg, GraphFilter(instruments=False)))
    assert "coe-convention" not in without and "greta" in without


def test_relation_filter_keeps_only_linked_nodes_and_accepts_inverse_names(kg):
    adopted = view(kg, GraphFilter(relations=frozenset({"adoptedBy"})))
    assert {e.relation for e in adopted.edges} == {"adopts"}
    assert ids(adopted) == {"ecowas", "council-of-europe", "ecowas-plan-2008",
                            "ecowas-initial-plan", "coe-convention"}


def test_theme_filter(kg):
    shown = ids(view(kg, GraphFilter(themes=frozenset({"capacity-building"}))))
    assert "ecowas-training-manual" in shown and "unodc" in shown
    assert "coe-convention" not in shown


def test_year_filter_shows_the_graph_as_of_a_year(kg):
    in_2004 = view(kg, GraphFilter(year=2004))
    shown = ids(in_2004)
    assert {"ecowas", "council-of-europe", "ecowas-initial-plan", "bali-process"} <= shown
    assert not shown & {"greta", "coe-convention", "ecowas-plan-2008", "bali-process-ad-hoc-group"}
    assert "ecowas-initial-plan" in in_2004.past  # its period ended in 2003
    in_2002 = view(kg, GraphFilter(year=2002))
    assert "ecowas-initial-plan" not in in_2002.past
    in_2010 = view(kg, GraphFilter(year=2010))
    assert {"greta", "coe-convention", "ecowas-plan-2008"} <= ids(in_2010)


def test_superseded_instruments_are_marked_past(kg):
    assert "ecowas-initial-plan" in view(kg, GraphFilter()).past
    assert "ecowas-plan-2008" not in view(kg, GraphFilter()).past


def test_focus_gives_the_neighbourhood(kg):
    around = view(kg, GraphFilter(focus="greta", depth=1))
    assert ids(around) == {"greta", "council-of-europe", "coe-convention",
                           "coe-committee-of-the-parties"}


def test_bodies_are_grouped_in_their_mechanism(kg):
    grouped = view(kg)
    assert grouped.parents["greta"] == "council-of-europe"
    assert grouped.parents["ecowas-anti-trafficking-unit"] == "ecowas-commission"
    assert grouped.parents["ecowas-commission"] == "ecowas"
    flat = view(kg, GraphFilter(group=False, kinds=default_filter().kinds))
    assert flat.parents == {}


@pytest.mark.parametrize("params, message", [
    ({"region": "atlantis"}, "unknown region 'atlantis'"),
    ({"kind": "dragon"}, "unknown kind 'dragon'"),
    ({"relation": "loves"}, "unknown relation 'loves'"),
    ({"theme": "cooking"}, "unknown thematic area 'cooking'"),
    ({"year": "last"}, "whole numbers"),
    ({"instruments": "maybe"}, "instruments must be"),
    ({"focus": "nobody"}, "no node 'nobody'"),
    ({"colour": "red"}, "unknown graph filter 'colour'"),
])
def test_bad_filters_say_what_is_known(kg, params, message):
    with pytest.raises(GraphFilterError, match=message):
        view(kg, GraphFilter.from_params(params))


def test_filter_round_trips_through_query_parameters():
    flt = GraphFilter.from_params({"region": ["european-region,african-region"],
                                   "kind": "mechanisms", "year": "2005", "instruments": "1",
                                   "group": "0"})
    assert flt.regions == {"european-region", "african-region"}
    assert GraphFilter.from_params(flt.to_params()) == flt


def test_the_graph_reflects_what_a_curator_adds(tmp_path):
    addition = tmp_path / "addition.trig"
    addition.write_text("""
@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
page:15 {
    :europol a tip:IntergovernmentalOrganisation ; skos:prefLabel "Europol"@en .
    :greta tip:supportedBy :europol .
}
""", encoding="utf-8")
    full = extract(build_with(addition))
    assert full.nodes["europol"].kind == "igo"
    assert ("europol", "supports", "greta") in edges(full)


def test_cytoscape_json_shape(kg):
    elements = view(kg).to_cytoscape(index=True)
    assert set(elements) == {"nodes", "edges", "meta"}
    greta = next(n["data"] for n in elements["nodes"] if n["data"]["id"] == "greta")
    assert greta["iri"] == "https://w3id.org/tipgraph/id/greta"
    assert greta["kind"] == "body" and greta["label"].startswith("Group of Experts")
    assert greta["dates"] == {"establishmentDate": "2008"} and greta["url"] == "/id/greta"
    assert greta["parent"] == "council-of-europe"
    node_ids = {n["data"]["id"] for n in elements["nodes"]}
    for edge in elements["edges"]:
        assert edge["data"]["source"] in node_ids and edge["data"]["target"] in node_ids
    assert any(entry["acronym"] == "GRETA" for entry in elements["meta"]["index"])
    assert elements["meta"]["counts"]["nodes"] == len(elements["nodes"])


def test_the_union_copied_engine_to_engine_reads_as_the_rdflib_union(kg):
    """extract() copies the union from pyoxigraph to pyoxigraph (no rdflib merge: minutes and
    gigabytes at a million triples); it reads the same graph as the rdflib union did."""
    from tipgraph.publish.graphviews import _Sparql, extract

    assert kg.oxigraph is not None
    through_engine = extract(kg)
    assert len(through_engine.nodes) > 10 and len(through_engine.edges) > 10
    assert through_engine == extract(kg, _Sparql(kg.union()))
