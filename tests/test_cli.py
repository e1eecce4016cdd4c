"""The command line: exit codes, messages without tracebacks, and machine-readable formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tipgraph.cli import main

CONVENTION = "<https://w3id.org/tipgraph/id/instrument-type/convention>"
LABEL_QUERY = f"SELECT ?label WHERE {{ {CONVENTION} skos:prefLabel ?label }}"
BAD = """@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
page:4 {
    :cli-unit a tip:Body ; skos:prefLabel "A body without a body type"@en .
}
"""
BROKEN = BAD.replace('type"@en', 'type@en')  # the string is never closed


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TIPGRAPH_CACHE_DIR": str(tmp_path / "cache"), "TIPGRAPH_CONFIG": ""}


def run(repo_root: Path, env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, ["--root", str(repo_root), *args], env=env)


@pytest.fixture
def files(tmp_path: Path, repo_root: Path) -> dict[str, str]:
    (tmp_path / "bad.trig").write_text(BAD, encoding="utf-8")
    (tmp_path / "broken.trig").write_text(BROKEN, encoding="utf-8")
    return {"bad": str(tmp_path / "bad.trig"), "broken": str(tmp_path / "broken.trig"),
            "schemes": str(repo_root / "data" / "concept-schemes.ttl"),
            "pages": str(repo_root / "data" / "source.trig")}


def test_help_lists_the_commands(repo_root: Path, env: dict[str, str]) -> None:
    result = run(repo_root, env, "--help")
    assert result.exit_code == 0
    for command in ("validate", "stats", "query", "serve", "settings"):
        assert command in result.output


def test_validate_bundled_data_conforms(repo_root: Path, env: dict[str, str]) -> None:
    result = run(repo_root, env, "validate")
    assert result.exit_code == 0, result.output
    assert "0 violation" in result.output or "conforms" in result.output


def test_validate_violations_exit_1_grouped_by_file(
    repo_root: Path, env: dict[str, str], files: dict[str, str],
) -> None:
    result = run(repo_root, env, "validate", files["schemes"], files["pages"], files["bad"])
    assert result.exit_code == 1
    assert files["bad"] in result.output
    assert "id:cli-unit" in result.output and "tip:bodyType" in result.output


def test_validate_json(repo_root: Path, env: dict[str, str], files: dict[str, str]) -> None:
    result = run(repo_root, env, "validate", "--format", "json",
                 files["schemes"], files["pages"], files["bad"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["conforms"] is False and report["violations"] >= 1
    assert {"severity": "Violation", "focus": "id:cli-unit", "path": "tip:bodyType"}.items() <= \
        next(r for r in report["results"] if r["focus"] == "id:cli-unit").items()


def test_validate_turtle_is_a_shacl_report(
    repo_root: Path, env: dict[str, str], files: dict[str, str],
) -> None:
    from rdflib import Graph
    from rdflib.namespace import SH

    result = run(repo_root, env, "validate", "--format", "turtle",
                 files["schemes"], files["pages"], files["bad"])
    graph = Graph().parse(data=result.output, format="turtle")
    assert any(graph.subjects(SH.resultPath, None))


def test_validate_syntax_error_exits_2(
    repo_root: Path, env: dict[str, str], files: dict[str, str],
) -> None:
    result = run(repo_root, env, "validate", files["broken"])
    assert result.exit_code == 2
    assert f"{files['broken']} line 6: " in result.output
    assert "Traceback" not in result.output


def test_validate_missing_path_exits_2(repo_root: Path, env: dict[str, str]) -> None:
    result = run(repo_root, env, "validate", "no/such/file.trig")
    assert result.exit_code == 2 and "no such file" in result.output


def test_stats_prints_counts(repo_root: Path, env: dict[str, str]) -> None:
    result = run(repo_root, env, "stats")
    assert result.exit_code == 0
    assert "tip:InstrumentType" in result.output or "InstrumentType" in result.output
    as_json = run(repo_root, env, "stats", "--format", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.output)


def test_stats_named_things_leave_out_pages_counts_and_concepts(
        repo_root: Path, env: dict[str, str]) -> None:
    counts = json.loads(run(repo_root, env, "stats", "--format", "json").output)
    bookkeeping = sum(counts["classes"].get(c, 0) for c in (
        "tip:SourcePage", "tip:CountObservation", "tip:SourceDocument", "skos:ConceptScheme"))
    concepts = sum(n for c, n in counts["classes"].items() if c.endswith(("Type", "Status"))
                   or c == "tip:ThematicArea")
    assert counts["named_things"] == counts["entities"] - bookkeeping - concepts
    assert 0 < counts["relations"] < counts["asserted_triples"]


def test_query_table_shortens_iris_with_the_known_prefixes(
        repo_root: Path, env: dict[str, str]) -> None:
    query = "SELECT ?m ?type ?g WHERE { GRAPH ?g { ?m a ?type } FILTER(?m = id:ecowas) }"
    table = run(repo_root, env, "query", query)
    assert table.exit_code == 0, table.output
    assert "id:ecowas " in table.output and "tip:SubRegionalMechanism" in table.output
    assert "page:4" in table.output and "https://w3id.org/tipgraph/id/" not in table.output
    whole = run(repo_root, env, "query", "--format", "csv", query)
    assert "https://w3id.org/tipgraph/id/ecowas," in whole.output  # machines get full IRIs


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_query_formats(repo_root: Path, env: dict[str, str], fmt: str) -> None:
    result = run(repo_root, env, "query", "--format", fmt, LABEL_QUERY)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        bindings = json.loads(result.output)["results"]["bindings"]
        assert [b["label"]["value"] for b in bindings] == ["convention"]
    elif fmt == "csv":
        assert result.output.splitlines() == ["label", "convention"]
    else:
        assert "convention" in result.output and "(1 row)" in result.output


def test_malformed_query_exits_2_with_position(repo_root: Path, env: dict[str, str]) -> None:
    result = run(repo_root, env, "query", "SELECT ?x WHERE {\n  ?x ?y \n}")
    assert result.exit_code == 2
    assert "line" in result.output.lower() and "col" in result.output.lower()
    assert "Traceback" not in result.output


def test_real_subprocess(repo_root: Path, env: dict[str, str], files: dict[str, str]) -> None:
    """`python -m tipgraph`, as a user runs it: help, and a syntax error without a traceback."""
    environ = {**os.environ, **env, "PYTHONPATH": str(repo_root / "src")}
    helped = subprocess.run([sys.executable, "-m", "tipgraph", "--help"], env=environ,
                            capture_output=True, text=True, timeout=120, check=False)
    assert helped.returncode == 0 and "validate" in helped.stdout
    broken = subprocess.run(
        [sys.executable, "-m", "tipgraph", "--root", str(repo_root), "validate", files["broken"]],
        env=environ, capture_output=True, text=True, timeout=120, check=False)
    assert broken.returncode == 2
    assert broken.stderr.startswith(f"tipgraph: error: {files['broken']} line ")
    assert "Traceback" not in broken.stderr + broken.stdout


def test_validate_changed_reports_the_same_findings_and_its_scope(
    repo_root: Path, env: dict[str, str], files: dict[str, str],
) -> None:
    args = ("validate", "--changed", "--format", "json", files["schemes"], files["pages"],
            files["bad"])
    first = run(repo_root, env, *args)
    assert first.exit_code == 1
    assert "Full validation: no record of a validated build yet" in first.stderr
    again = run(repo_root, env, *args)
    assert again.exit_code == 1
    assert "Scoped validation: 0 data file(s) changed" in again.stderr
    report, before = json.loads(again.stdout), json.loads(first.stdout)
    assert report["scope"]["mode"] == "changed" and report["scope"]["rechecked_nodes"] == 0
    assert report["results"] == before["results"] and report["violations"] >= 1
