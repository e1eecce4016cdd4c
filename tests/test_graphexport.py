"""Exports of the relationship graph: GraphML, GEXF, DOT, SVG and PNG; the CLI commands."""

from __future__ import annotations

import io
import shutil
import subprocess
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from click.testing import CliRunner

from tests.graph_support import FIXTURE_PATHS, REPO, fixture_kg
from tipgraph.cli import main
from tipgraph.errors import ExportError
from tipgraph.publish.graphexport import export, render, to_dot
from tipgraph.publish.graphviews import GraphFilter, view

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def everything():
    return view(fixture_kg(), GraphFilter())


def test_graphml_parses_back_with_attributes(everything):
    graph = nx.read_graphml(io.BytesIO(export(everything, "graphml")))
    assert set(graph.nodes) == {n.id for n in everything.nodes}
    assert graph.number_of_edges() == len(everything.edges)
    greta = graph.nodes["greta"]
    assert greta["kind"] == "body" and greta["acronym"] == "GRETA"
    assert greta["label"].startswith("Group of Experts")
    assert greta["establishmentDate"] == "2008" and greta["startYear"] == 2008
    convention = graph.nodes["coe-convention"]
    assert convention["adoptionDate"] == "2005-05-16"
    assert convention["entryIntoForceDate"] == "2008"
    relations = {d["relation"] for _, _, d in graph.edges(data=True)}
    assert {"adopts", "monitors", "supersedes", "funds"} <= relations


def test_gexf_parses_back_with_attributes(everything):
    graph = nx.read_gexf(io.BytesIO(export(everything, "gexf")))
    assert set(graph.nodes) == {n.id for n in everything.nodes}
    greta = graph.nodes["greta"]
    assert greta["label"].startswith("Group of Experts") and greta["kind"] == "body"
    assert greta["regions"] == "european-region"
    assert graph.nodes["ecowas-plan-2008"]["periodEnd"] == "2011"
    assert graph.number_of_edges() == len(everything.edges)


def test_dot_parses_with_graphviz(everything):
    plain = subprocess.run(["dot", "-Tplain"], input=to_dot(everything).encode(),
                           capture_output=True, check=True).stdout.decode()
    nodes = [line.split()[1] for line in plain.splitlines() if line.startswith("node ")]
    assert sorted(n.strip('"') for n in nodes) == sorted(n.id for n in everything.nodes)
    assert sum(line.startswith("edge ") for line in plain.splitlines()) == len(
        [e for e in everything.edges if not everything.is_contained(e)])


def test_dot_carries_kinds_labels_dates_and_clusters(everything):
    dot = to_dot(everything)
    assert 'subgraph "cluster_council-of-europe"' in dot
    assert 'kind="legal-instrument"' in dot and 'adoptionDate="2005-05-16"' in dot
    assert 'label="GRETA"' in dot


def test_svg_is_xml_with_one_node_element_per_node(everything):
    root = ET.fromstring(render(everything, "svg"))
    assert root.tag == SVG_NS + "svg"
    groups = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "node"]
    assert len(groups) == len(everything.nodes)
    titles = {g.find(SVG_NS + "title").text for g in groups}
    assert titles == {n.id for n in everything.nodes}


def test_unknown_format_is_an_export_error(everything):
    with pytest.raises(ExportError, match="unknown graph format 'xlsx'"):
        export(everything, "xlsx")


@pytest.fixture
def runner_args(tmp_path):
    # the fixture data instead of the bundled data: a root with ontology/ and the fixture files
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    shutil.copytree(REPO / "ontology", root / "ontology")
    for path in FIXTURE_PATHS:
        if path.is_dir():
            shutil.copytree(path, root / "data" / path.name)
        else:
            shutil.copy(path, root / "data" / path.name)
    return ["--root", str(root), "--no-cache"]


def test_cli_export_graphml(runner_args, tmp_path):
    out = tmp_path / "graph.graphml"
    result = CliRunner().invoke(main, [*runner_args, "export", "--format", "graphml", "-o",
                                       str(out), "--region", "european-region"])
    assert result.exit_code == 0, result.output
    graph = nx.read_graphml(out)
    assert "greta" in graph.nodes and "ecowas" not in graph.nodes


def test_cli_export_bad_kind_exits_2(runner_args):
    result = CliRunner().invoke(main, [*runner_args, "export", "--format", "dot", "--kind", "x"])
    assert result.exit_code == 2
    assert "unknown kind 'x'" in result.output


def test_cli_viz_writes_an_svg_of_the_default_view(runner_args, tmp_path):
    out = tmp_path / "graph.svg"
    result = CliRunner().invoke(main, [*runner_args, "viz", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    groups = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "node"]
    assert len(groups) == len(view(fixture_kg()).nodes)


def test_cli_viz_refuses_an_unknown_picture_type(runner_args, tmp_path):
    result = CliRunner().invoke(main, [*runner_args, "viz", "-o", str(tmp_path / "g.bmp")])
    assert result.exit_code == 2 and "name it .svg or .png" in result.output
