"""A configured vocabulary namespace (ontology_iri): the whole product speaks it.

TIP is bound when tipgraph is imported, so each case runs in a fresh interpreter with
TIPGRAPH_ONTOLOGY_IRI set, as a user would start tipgraph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rdflib import OWL, RDF, Graph, URIRef

from tipgraph.model.namespaces import CANONICAL_ONTOLOGY_IRI

CHECKS = textwrap.dedent("""
    import json, sys
    from tipgraph.config import load_config
    from tipgraph.model.build import build
    from tipgraph.model.queries import example_queries
    from tipgraph.model.validate import validate
    from tipgraph.query.offline import run_query
    from tipgraph.store import open_store
    from tipgraph.web.app import create_app

    config = load_config({"root": sys.argv[1], "cache_dir": sys.argv[2],
                          "fast_build": sys.argv[3] == "fast", "query_workers": 0})
    kg = build(config)
    quads = list(kg.dataset.quads((None, None, None, None)))
    canonical = sum(1 for quad in quads if any("w3id.org/tipgraph/ontology" in str(t)
                                               for t in quad[:3]))
    store = open_store(kg)
    answers = {}
    for query in example_queries(config["root"]):
        answer = run_query(kg, query.sparql, store)
        answers[query.name] = sorted({str(answer.boolean).lower()} if answer.kind == "boolean"
                                     else {str(row[0]) for row in answer.rows
                                           if row[0] is not None})
    report = validate(kg)
    client = create_app({"root": sys.argv[1], "cache_dir": sys.argv[2], "query_workers": 0},
                        kg=kg).test_client()
    print(json.dumps({
        "canonical_left": canonical,
        "answers": answers,
        "conforms": report.conforms,
        "ontology_ttl": client.get("/ontology.ttl").get_data(as_text=True),
        "mechanisms_in_view": sum(1 for node in client.get("/graph.json").get_json()["nodes"]
                                  if node["data"].get("kind") == "mechanism"),
        "page": client.get("/id/ecowas.ttl").get_data(as_text=True),
    }))
""")


def run_with_namespace(namespace: str, root: Path, cache: Path, build_path: str) -> dict:
    env = {**os.environ, "TIPGRAPH_ONTOLOGY_IRI": namespace,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", CHECKS, str(root), str(cache), build_path],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize(("namespace", "build_path"), [
    ("http://127.0.0.1:5000/ontology#", "fast"),
    ("https://example.org/vocab/", "rdflib"),
])
def test_a_configured_namespace_replaces_the_canonical_one_everywhere(
        repo_root: Path, tmp_path: Path, namespace: str, build_path: str) -> None:
    seen = run_with_namespace(namespace, repo_root, tmp_path, build_path)
    assert seen["canonical_left"] == 0
    assert seen["conforms"] is True
    ontology_iri = namespace[:-1]
    ontology = Graph().parse(data=seen["ontology_ttl"], format="turtle")
    assert (URIRef(ontology_iri), RDF.type, OWL.Ontology) in ontology
    assert (URIRef(ontology_iri), OWL.versionIRI, URIRef(ontology_iri + "/0.1.0")) in ontology
    assert (URIRef(namespace + "Mechanism"), RDF.type, OWL.Class) in ontology
    assert f"@prefix tip: <{namespace}>" in seen["page"]
    assert seen["mechanisms_in_view"] > 10  # the graph view finds its kinds in the new terms
    # every example query (written with the canonical prefix) still gives the source's answer
    from tipgraph.model.queries import example_queries
    for query in example_queries(repo_root):
        expected = sorted(set(query.expect))
        assert seen["answers"][query.name] == expected, query.name


def test_a_configured_namespace_is_environment_only(tmp_path: Path) -> None:
    from tipgraph.config import load_config
    from tipgraph.errors import ConfigError

    config = tmp_path / "tipgraph.toml"
    config.write_text('ontology_iri = "https://example.org/vocab#"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="TIPGRAPH_ONTOLOGY_IRI=https://example.org/vocab#"):
        load_config(config_file=config, environ={})
    with pytest.raises(ConfigError, match="not a namespace"):
        load_config(environ={"TIPGRAPH_ONTOLOGY_IRI": "example.org/vocab"})
    assert load_config(environ={})["ontology_iri"] == CANONICAL_ONTOLOGY_IRI + "#"
