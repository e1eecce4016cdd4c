"""Dumps: every format round-trips, same input gives the same bytes, writes are atomic."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from rdflib import BNode, Graph, Literal, URIRef

from tests.conftest import REPO
from tipgraph.cli import main
from tipgraph.errors import ExportError
from tipgraph.model.namespaces import GRAPH_INFERRED, is_page_graph
from tipgraph.publish.canonical import canonical_quads
from tipgraph.publish.export import (
    dump_quads,
    export,
    jsonld_context,
    parse_dump,
    serialize_quads,
    write_export,
)
from tipgraph.publish.formats import RDF_FORMATS
from tipgraph.publish.void import GRAPH_VOID

FORMATS = [f.name for f in RDF_FORMATS]


@pytest.mark.parametrize("inferred", [False, True], ids=["asserted", "inferred"])
@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=FORMATS)
def test_every_format_round_trips(kg, fmt, inferred):
    expected = dump_quads(kg, inferred)
    if not fmt.quads:
        expected = canonical_quads((s, p, o, None) for s, p, o, _ in expected)
    assert parse_dump(export(kg, fmt, inferred), fmt) == expected


def test_quad_dumps_keep_page_graphs_and_the_description(kg):
    quads = parse_dump(export(kg, "nquads"), "nquads")
    names = {g for *_, g in quads}
    assert any(is_page_graph(g) for g in names)
    assert GRAPH_VOID in names and GRAPH_INFERRED not in names
    assert GRAPH_INFERRED in {g for *_, g in parse_dump(export(kg, "nquads", True), "nquads")}


def test_same_input_gives_byte_identical_output(kg):
    for fmt in RDF_FORMATS:
        assert export(kg, fmt) == export(kg, fmt), fmt.name


def test_output_does_not_depend_on_hash_seed(kg, config):
    """A fresh process with another PYTHONHASHSEED writes the same bytes for every format."""
    script = (
        "import hashlib, json, sys\n"
        "from tipgraph.config import load_config\n"
        "from tipgraph.model.build import build\n"
        "from tipgraph.publish.export import export\n"
        "from tipgraph.publish.formats import RDF_FORMATS\n"
        f"kg = build(load_config({{'root': {str(REPO)!r}, 'cache_dir': {str(config['cache_dir'])!r}"
        "}, environ={}))\n"
        "print(json.dumps({f.name: hashlib.sha256(export(kg, f, True)).hexdigest() "
        "for f in RDF_FORMATS}))\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True, timeout=300).stdout
    theirs = json.loads(out)
    ours = {f.name: hashlib.sha256(export(kg, f, True)).hexdigest() for f in RDF_FORMATS}
    assert theirs == ours


def _with_blank_nodes(order: list[int]) -> list:
    ex = "http://example.org/"
    a, b = BNode(), BNode()
    triples = [
        (URIRef(ex + "s"), URIRef(ex + "p"), a),
        (a, URIRef(ex + "name"), Literal("first")),
        (a, URIRef(ex + "next"), b),
        (b, URIRef(ex + "name"), Literal("second")),
    ]
    return [(*triples[i], URIRef(ex + "g")) for i in order]


@pytest.mark.parametrize("fmt", RDF_FORMATS, ids=FORMATS)
def test_blank_node_labels_are_stable(fmt):
    one = serialize_quads(canonical_quads(_with_blank_nodes([0, 1, 2, 3])), fmt, {})
    two = serialize_quads(canonical_quads(_with_blank_nodes([3, 2, 1, 0])), fmt, {})
    assert one == two
    assert len(parse_dump(one, fmt)) == 4


def test_jsonld_uses_readable_keys_from_the_context(kg):
    document = json.loads(export(kg, "jsonld"))
    assert document["@context"] == json.loads(json.dumps(jsonld_context(kg)))
    text = json.dumps(document)
    assert '"prefLabel"' in text and "http://www.w3.org/2004/02/skos/core#prefLabel" not in text


def test_write_export_is_atomic_and_replaces(kg, tmp_path):
    target = tmp_path / "out" / "tipgraph.ttl"
    target.parent.mkdir()
    target.write_text("old content")
    result = write_export(kg, "turtle", target)
    data = target.read_bytes()
    assert data == export(kg, "turtle")
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.size == len(data)
    assert sorted(p.name for p in target.parent.iterdir()) == ["tipgraph.ttl"]


def test_write_export_failure_keeps_the_old_file(kg, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "tipgraph.ttl"
    target.write_text("old content")
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # running as root: permissions do not apply
            target = folder / "missing-dir-is-a-file" / "x.ttl"
            (folder / "missing-dir-is-a-file").write_text("a file, not a folder")
        with pytest.raises(ExportError, match="cannot write"):
            write_export(kg, "turtle", target)
    finally:
        folder.chmod(0o700)
    assert (folder / "tipgraph.ttl").read_text() == "old content"


def test_unknown_format_is_a_clear_error(kg):
    with pytest.raises(ExportError, match="unknown format 'yaml'.*turtle"):
        export(kg, "yaml")


def test_cli_export_writes_the_same_bytes(kg, config, tmp_path):
    target = tmp_path / "dump.nq"
    result = CliRunner().invoke(main, ["--root", str(REPO), "export", "--format", "nquads",
                                       "--inferred", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == export(kg, "nquads", inferred=True)
    assert "sha256" in result.output


def test_cli_export_to_stdout_parses(kg):
    result = CliRunner().invoke(main, ["--root", str(REPO), "export", "--format", "ntriples"])
    assert result.exit_code == 0
    assert len(Graph().parse(data=result.stdout_bytes, format="nt")) == len(
        {(s, p, o) for s, p, o, _ in dump_quads(kg)})
