"""The shapes, case by case: tests/shapes/<name>__pass.trig must give no finding at all, and
<name>__fail.trig exactly the findings its `# expect:` lines list.

An expectation line reads `# expect: <Severity> <focus> <path or -> <shape>`, with names written
as the text report prints them (id:..., tip:..., tipsh:...). Every fixture is validated through
tipgraph's own validate() with the real ontology and shapes, in one run (each fixture uses its own
slugs), and findings are told apart by the file that writes about their focus node.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from tipgraph.config import load_config
from tipgraph.model.namespaces import OWL, RDF, RDFS, SH, SKOS, TIP
from tipgraph.model.validate import ValidationReport, validate

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "shapes"
PASS = sorted(FIXTURES.glob("*__pass.*"))
FAIL = sorted(FIXTURES.glob("*__fail.*"))
EXPECT = re.compile(r"^#\s*expect:\s*(Violation|Warning|Info)\s+(\S+)\s+(\S+)\s+(\S+)\s*$")
# Lean, stable context for the fixtures: the concept schemes and the source pages (owned by the
# lead, not the data files being written now).
CONTEXT = ("data/concept-schemes.ttl", "data/source.trig")

Expectation = tuple[str, str, str, str]


def expectations(path: Path) -> Counter[Expectation]:
    found: Counter[Expectation] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := EXPECT.match(line.strip()):
            found[match.groups()] += 1
        elif line.strip().startswith("# expect"):
            raise AssertionError(f"{path.name}: malformed expectation line {line!r}")
    return found


@pytest.fixture(scope="module")
def report(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> ValidationReport:
    config = load_config({"root": repo_root, "use_cache": False}, environ={})
    paths = [repo_root / p for p in CONTEXT] + PASS + FAIL
    return validate(config=config, data_paths=paths)


def findings_of(report: ValidationReport, fixture: Path) -> Counter[Expectation]:
    name = f"tests/shapes/{fixture.name}"
    return Counter((f.severity, f.focus, f.path or "-", f.shape or "-")
                   for f in report.findings if name in f.files)


def test_fixtures_exist_in_pairs() -> None:
    stems = {p.name.split("__")[0] for p in PASS} | {p.name.split("__")[0] for p in FAIL}
    assert stems
    for stem in stems:
        assert any(p.name.startswith(f"{stem}__") for p in PASS), f"{stem} has no __pass file"
        assert any(p.name.startswith(f"{stem}__") for p in FAIL), f"{stem} has no __fail file"


@pytest.mark.parametrize("fixture", PASS, ids=lambda p: p.stem)
def test_pass_case_has_no_finding(report: ValidationReport, fixture: Path) -> None:
    assert not expectations(fixture), "a __pass file expects nothing"
    assert findings_of(report, fixture) == Counter()


@pytest.mark.parametrize("fixture", FAIL, ids=lambda p: p.stem)
def test_fail_case_gives_exactly_the_expected_findings(
    report: ValidationReport, fixture: Path,
) -> None:
    expected = expectations(fixture)
    assert expected, "a __fail file lists the findings it expects"
    assert findings_of(report, fixture) == expected


# --- The shapes themselves -----------------------------------------------------------------------

TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


@pytest.fixture(scope="module")
def shapes(repo_root: Path) -> Graph:
    graph = Graph()
    for path in sorted((repo_root / "shapes").glob("*.ttl")):
        graph.parse(path)
    return graph


@pytest.fixture(scope="module")
def ontology(repo_root: Path) -> Graph:
    return Graph().parse(repo_root / "ontology" / "tipgraph.ttl")


def targeted_shapes(shapes: Graph) -> set[URIRef]:
    found = {s for p in TARGETS for s in shapes.subjects(p, None)}
    assert all(isinstance(s, URIRef) for s in found), "targeted shapes are named"
    return found  # type: ignore[return-value]


def test_every_shape_has_a_label_and_a_message(shapes: Graph) -> None:
    """Every targeted shape, property shape and SPARQL constraint: rdfs:label, and an sh:message
    on itself or (for a node shape whose constraints all sit in its parts) on each part."""
    problems = []
    parts = set(shapes.objects(None, SH.property)) | set(shapes.objects(None, SH.sparql))
    for shape in targeted_shapes(shapes) | parts:
        if shapes.value(shape, RDFS.label) is None:
            problems.append(f"{shape}: no rdfs:label")
        own = shapes.value(shape, SH.message) is not None
        children = list(shapes.objects(shape, SH.property)) + list(shapes.objects(shape, SH.sparql))
        node_level = any(shapes.value(shape, p) is not None for p in (
            SH["or"], SH["class"], SH.nodeKind, SH.pattern, SH.node))
        if not own and (node_level or not children):
            problems.append(f"{shape}: no sh:message")
    assert problems == []


def test_every_tip_property_is_checked_by_a_shape(shapes: Graph, ontology: Graph) -> None:
    checked = set(shapes.objects(None, SH.targetSubjectsOf))
    props = {p for t in (OWL.ObjectProperty, OWL.DatatypeProperty)
             for p in ontology.subjects(RDF.type, t) if str(p).startswith(str(TIP))}
    assert props and sorted(props - checked) == []


def test_fixtures_do_not_share_slugs() -> None:
    """The fixtures are validated in one run: each must use slugs of its own."""
    owners: dict[URIRef, str] = {}
    for fixture in PASS + FAIL:
        from rdflib import Dataset

        dataset = Dataset()
        dataset.parse(fixture, format="trig")
        for s, _, _, _ in dataset.quads((None, None, None, None)):
            if isinstance(s, URIRef) and "/source/" not in str(s):
                assert owners.setdefault(s, fixture.name) == fixture.name, (
                    f"{s} is written by {owners[s]} and {fixture.name}")


@pytest.fixture(scope="module")
def misuse_report(repo_root: Path, ontology: Graph, tmp_path_factory: pytest.TempPathFactory
                  ) -> ValidationReport:
    """Every tip: property misused once: said of a thematic-area concept (which no relation may
    have), with a plain string as its value (which no tip: property takes)."""
    subject = URIRef("https://w3id.org/tipgraph/id/thematic-area/prevention")
    lines = []
    for t in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in sorted(ontology.subjects(RDF.type, t)):
            if str(prop).startswith(str(TIP)):
                lines.append(f"<{subject}> <{prop}> \"not a proper value\" .")
    for prop in (SKOS.altLabel, SKOS.definition):  # the SKOS text properties shapes check
        lines.append(f"<{subject}> <{prop}> \"not a proper value\" .")
    path = tmp_path_factory.mktemp("misuse") / "misuse.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config({"root": repo_root, "use_cache": False}, environ={})
    return validate(config=config, data_paths=[repo_root / p for p in CONTEXT] + [path])


def test_every_property_shape_rejects_misuse(misuse_report: ValidationReport,
                                             shapes: Graph) -> None:
    reported = {f.shape for f in misuse_report.findings if f.focus == "theme:prevention"}
    per_property = {f"tipsh:{str(s).rsplit('#', 1)[1]}" for s in targeted_shapes(shapes)
                    if any(str(s).endswith(k) for k in ("-subject", "-value", "-datatype",
                                                         "-language"))}
    assert per_property and sorted(per_property - reported) == []


def test_every_shape_has_a_failing_case(shapes: Graph, misuse_report: ValidationReport) -> None:
    expected = {e[3] for fixture in FAIL for e in expectations(fixture)}
    expected |= {f.shape for f in misuse_report.findings}
    every = {f"tipsh:{str(s).rsplit('#', 1)[1]}" for s in targeted_shapes(shapes)}
    assert sorted(every - expected) == []
