"""The relationship graph of the REAL bundled data: styles, the first view and its regions."""

from __future__ import annotations

from dataclasses import replace

from tipgraph.publish.graphexport import to_dot
from tipgraph.publish.graphviews import default_filter, full_graph, view


def test_every_relation_in_the_data_has_a_family(kg):
    full = full_graph(kg)
    unstyled = sorted({e.relation for e in full.edges if full.relations[e.relation].family
                       == "other"})
    assert unstyled == []


def test_first_view_leaves_out_what_has_no_link(kg):
    first = view(kg)
    with_unlinked = view(kg, replace(default_filter(), unlinked=True))
    shown = {n.id for n in first.nodes}
    linked = {e.source for e in first.edges} | {e.target for e in first.edges}
    left_out = {n.id for n in with_unlinked.nodes} - shown
    assert left_out and not left_out & linked
    # mechanisms stay, linked or not
    assert {"gcc", "mercosur", "cis"} <= shown
    assert all(n.id in linked or n.kind in {"mechanism", "process"} for n in first.nodes)


def test_first_view_is_grouped_by_region(kg):
    first = view(kg)
    assert set(first.clusters) == {n.id for n in first.nodes}
    # a mechanism is drawn in its own region, its bodies with it
    for node in first.nodes:
        if len(node.regions) == 1:
            assert first.clusters[node.id] == next(iter(node.regions))
    assert first.clusters["greta"] == first.clusters["coe-committee-of-the-parties"] \
        == "european-region"
    # RECs are members of African mechanisms, so drawn in Africa; IOM works across regions
    assert first.clusters["african-regional-economic-communities"] == "african-region"
    assert first.clusters["iom"] == "other-cross-regional"
    dot = to_dot(first)
    assert 'subgraph "cluster_region_african-region"' in dot
    assert 'label="African Region"' in dot


def test_bodies_take_the_region_of_their_organisation(kg):
    full = full_graph(kg)
    # an observer (the OSCE) does not make the CoE's committee cross-regional
    assert full.reach_regions["coe-committee-of-the-parties"] == {"european-region"}
    assert full.reach_regions["greta"] == {"european-region"}
