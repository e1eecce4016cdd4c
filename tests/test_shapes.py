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
from tipgraph.model.namespaces import OWL, RDF, RDFS, SH, TIP
from tipgraph.model.validate import TIPSH, ValidationReport, validate

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
