"""Loading: named graphs as documented, and errors that name the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipgraph.errors import DataLoadError
from tipgraph.model.load import load, parse_file
from tipgraph.model.namespaces import GRAPH_CURATED, GRAPH_ONTOLOGY, GRAPH_SHAPES, ID, PAGE, TIP

PREFIXES = """@prefix tip: <https://w3id.org/tipgraph/ontology#> .
@prefix : <https://w3id.org/tipgraph/id/> .
@prefix page: <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_graph_layout(repo_root: Path, tmp_path: Path) -> None:
    data = write(tmp_path, "x.trig", PREFIXES + """
page:5 { :x a tip:Body ; skos:prefLabel "X"@en . }
:x tip:sourceNote "note"@en .
""")
    sources = load(repo_root, [data])
    dataset = sources.dataset
    assert (ID.x, TIP.sourceNote, None) in dataset.graph(GRAPH_CURATED)
    assert (ID.x, None, None) in dataset.graph(PAGE["5"])
    assert (ID.x, TIP.sourceNote, None) not in dataset.graph(PAGE["5"])
    assert len(dataset.graph(GRAPH_ONTOLOGY)) > 100 and len(dataset.graph(GRAPH_SHAPES)) > 100
    assert sources.subject_files[ID.x] == {str(data)}
    assert sources.curated_files[ID.x] == {str(data)}


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    ("missing-dot.ttl", PREFIXES + ':a a tip:Body\n:b a tip:Body .\n', 6, "bad syntax"),
    ("open-string.trig", PREFIXES + 'page:5 {\n  :a skos:prefLabel "unclosed ;\n}\n', 6,
     "string"),
    ("open-graph.trig", PREFIXES + 'page:5 {\n  :a a tip:Body .\n', None, ""),
    # an error at the end of the file: the line of the unfinished statement, not past the end
    # (rdflib's own line counter said 9 here, and 18 with four more blank lines)
    ("unfinished.ttl", PREFIXES + ':a a tip:Body .\n:b skos:prefLabel \n', 6, "bad syntax"),
    ("unfinished-then-blank.ttl", PREFIXES + ':a a tip:Body .\n:b skos:prefLabel \n\n\n\n\n',
     6, "bad syntax"),
])
def test_syntax_error_names_file_and_line(
    repo_root: Path, tmp_path: Path, name: str, text: str, line: int | None, words: str,
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(DataLoadError) as caught:
        load(repo_root, [path])
    error = caught.value
    assert error.path == str(path)
    assert str(error).startswith(f"{path}")
    if line is not None:
        assert error.line == line
        assert f"{path} line {line}: " in str(error)
    assert words in str(error)


def test_unbound_prefix_gives_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.ttl", PREFIXES + ":a a tipp:Body .\n")
    with pytest.raises(DataLoadError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert caught.value.line == 5
    assert "tipp" in message and "@prefix tipp" in message


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.ttl",
                 (PREFIXES + ':a skos:prefLabel "C\xf4te"@en .\n').encode("latin-1"))
    with pytest.raises(DataLoadError) as caught:
        parse_file(path)
    assert caught.value.line == 5
    assert "UTF-8" in str(caught.value)


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.rdfxml", "<rdf/>")
    with pytest.raises(DataLoadError, match="unsupported file type"):
        parse_file(path)


def test_no_data_files(repo_root: Path, tmp_path: Path) -> None:
    with pytest.raises(DataLoadError, match="no RDF files found"):
        load(repo_root, [tmp_path])
