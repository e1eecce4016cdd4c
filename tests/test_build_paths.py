"""The oxigraph build path (bulk loads, engine-run rules, a bulk-loaded cache) gives the same
knowledge graph as the rdflib path, through the same KnowledgeGraph API."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal
from rdflib.namespace import XSD

from tipgraph.config import load_config
from tipgraph.errors import DataLoadError
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.namespaces import GRAPH_CURATED, GRAPH_INFERRED, ID, TIP

DERIVED_INTEGERS = {XSD.nonNegativeInteger, XSD.positiveInteger, XSD.long, XSD.int}


def normal(term: object) -> object:
    """pyoxigraph's store keeps derived integer types as xsd:integer (the documented caveat)."""
    if isinstance(term, Literal) and term.datatype in DERIVED_INTEGERS:
        return Literal(str(term), datatype=XSD.integer)
    return term


def quads(kg: KnowledgeGraph) -> set[tuple]:
    found = set()
    for s, p, o, g in kg.dataset.quads((None, None, None, None)):
        if not isinstance(s, BNode) and not isinstance(o, BNode):
            found.add((s, p, normal(o), getattr(g, "identifier", g)))
    return found


@pytest.fixture(scope="module")
def both(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    built = {}
    for store in ("memory", "oxigraph"):
        cache = tmp_path_factory.mktemp(f"cache-{store}")
        config = load_config({"root": repo_root, "cache_dir": cache,
                              "fast_build": store == "oxigraph"}, environ={})
        built[store] = (build(config), config)
    return built


def test_same_dataset_on_both_paths(both: dict) -> None:
    memory, oxigraph = both["memory"][0], both["oxigraph"][0]
    assert oxigraph.oxigraph is not None and memory.oxigraph is None
    assert quads(memory) == quads(oxigraph)
    assert memory.version == oxigraph.version
    assert set(memory.inferred) == set(oxigraph.inferred)
    assert memory.data_graph_names() == oxigraph.data_graph_names()
    assert {(s, p, normal(o)) for s, p, o in memory.asserted()} == set(oxigraph.asserted())
    assert len(oxigraph.ontology) == len(memory.ontology)
    assert dict(memory.sources.subject_files) == dict(oxigraph.sources.subject_files)
    assert dict(memory.sources.curated_files) == dict(oxigraph.sources.curated_files)


def test_warm_start_bulk_loads_the_cache(both: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    first, config = both["oxigraph"]
    cached = list(Path(config["cache_dir"]).glob("inferred-*.nt"))
    assert len(cached) == 1

    def refuse(*_args: object) -> Graph:
        raise AssertionError("the cache must be used")

    monkeypatch.setattr("tipgraph.model.reason.infer", refuse)
    again = build(config)
    assert set(again.inferred) == set(first.inferred) and len(again.inferred) > 0


def test_write_nquads_round_trips(both: dict, tmp_path: Path) -> None:
    kg = both["oxigraph"][0]
    path = kg.write_nquads(tmp_path / "all.nq")
    from rdflib import Dataset
    back = Dataset()
    back.parse(path, format="nquads")
    assert len(back) == len(kg.dataset)


def test_provenance_and_inverse_land_in_the_inferred_graph(repo_root: Path,
                                                           tmp_path: Path) -> None:
    data = tmp_path / "x.trig"
    data.write_text("""
@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
page:4 { :nigeria a tip:Country ; tip:memberOf :ecowas . }
:ecowas tip:sourceNote "curated"@en .
""", encoding="utf-8")
    config = load_config({"root": repo_root, "use_cache": False, "fast_build": True}, environ={})
    kg = build(config, [data])
    inferred = kg.graph(GRAPH_INFERRED)
    assert (ID.ecowas, TIP.hasMember, ID.nigeria) in inferred
    assert (ID.nigeria, TIP.describedOn, ID["source/summary-2010/page/4"]) in inferred
    assert (ID.ecowas, TIP.sourceNote, None) in kg.graph(GRAPH_CURATED)
    assert (ID.ecowas, TIP.describedOn, None) not in inferred  # curated is not a page


def test_malformed_file_names_file_and_line(repo_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix : <https://w3id.org/tipgraph/id/> .\n:a :b :c ;\n :d .\n",
                   encoding="utf-8")
    config = load_config({"root": repo_root, "use_cache": False, "fast_build": True}, environ={})
    with pytest.raises(DataLoadError) as caught:
        build(config, [bad])
    assert caught.value.path.endswith("bad.ttl") and caught.value.line == 3
