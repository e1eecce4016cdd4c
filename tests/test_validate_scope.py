"""Scoped validation (validate(kg, changed=True)): it re-checks what a change can affect, takes
the other findings from the record of the last validated build, and gives the report a full
validation gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tipgraph.config import load_config
from tipgraph.model.build import build
from tipgraph.model.validate import ValidationReport, validate

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "shapes"
PASS = sorted(FIXTURES.glob("*__pass.trig"))
FAIL = sorted(FIXTURES.glob("*__fail.trig"))
PREFIXES = (FIXTURES / "body__pass.trig").read_text(encoding="utf-8").split("\npage:")[0]

# Two files: the members in one, the mechanism they are members of in the other.
MEMBERS = PREFIXES + """
page:14 {
    :xf-state-a a tip:Country ; skos:prefLabel "XF State A"@en ; tip:memberOf :xf-mechanism .
    :xf-state-b a tip:Country ; skos:prefLabel "XF State B"@en ; tip:memberOf :xf-mechanism .
}
"""
MECHANISM = PREFIXES + """
page:14 {
    :xf-mechanism a tip:RegionalMechanism ; skos:prefLabel "XF Mechanism"@en ;
        tip:inRegion :xf-europe .
    :xf-europe a tip:Region ; skos:prefLabel "XF Region"@en .
}
"""


def make_root(tmp_path: Path, repo_root: Path, files: dict[str, str | Path]) -> dict:
    root = tmp_path / "root"
    (root / "data").mkdir(parents=True)
    (root / "ontology").symlink_to(repo_root / "ontology")
    shutil.copytree(repo_root / "shapes", root / "shapes")
    for name in ("concept-schemes.ttl", "source.trig"):
        shutil.copy(repo_root / "data" / name, root / "data" / name)
    for name, content in files.items():
        write(root / "data" / name, content)
    return load_config({"root": root, "cache_dir": tmp_path / "cache", "use_cache": True},
                       environ={})


def write(path: Path, content: str | Path) -> None:
    path.write_text(content.read_text(encoding="utf-8") if isinstance(content, Path)
                    else content, encoding="utf-8")


def key(report: ValidationReport) -> list[tuple]:
    return sorted((f.severity, f.focus, f.path or "", f.value or "", f.shape or "", f.message,
                   f.files) for f in report.findings)


def scoped_and_full(config: dict) -> tuple[ValidationReport, ValidationReport]:
    """validate(changed=True), then a full validation of the same build."""
    kg = build(config)
    scoped = validate(kg, changed=True)
    return scoped, validate(kg)


def test_without_a_record_it_is_a_full_validation(tmp_path: Path, repo_root: Path) -> None:
    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM})
    report = validate(build(config), changed=True)
    assert report.scope is not None and report.scope.mode == "full"
    assert "no record" in report.scope.reason
    assert report.conforms and report.findings == []


def test_a_violation_in_the_changed_file_is_found(tmp_path: Path, repo_root: Path) -> None:
    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM})
    assert validate(build(config)).conforms  # and recorded
    write(Path(config["root"]) / "data" / "members.trig",
          MEMBERS.replace('"XF State A"@en ;', '"XF State A"@en ; tip:memberOf "a string" ;'))
    scoped, full = scoped_and_full(config)
    assert scoped.scope is not None and scoped.scope.mode == "changed"
    assert scoped.scope.changed_files == ("data/members.trig",)
    assert [(f.focus, f.path, f.shape) for f in scoped.violations] == [
        ("id:xf-state-a", "tip:memberOf", "tipsh:memberOf-value")]
    assert key(scoped) == key(full)


def test_a_change_in_another_file_rechecks_the_nodes_that_depend_on_it(
    tmp_path: Path, repo_root: Path,
) -> None:
    """The members' shapes read the mechanism's type: when only the mechanism's file changes
    (it becomes an event), the members (in the unchanged file) are re-checked and now fail."""
    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM})
    assert validate(build(config)).conforms
    write(Path(config["root"]) / "data" / "mechanism.trig", MECHANISM.replace(
        ":xf-mechanism a tip:RegionalMechanism", ":xf-mechanism a tip:Event ; "
        "tip:eventType etype:meeting"))
    scoped, full = scoped_and_full(config)
    assert scoped.scope is not None and scoped.scope.changed_files == ("data/mechanism.trig",)
    failing = {(f.focus, f.shape) for f in scoped.violations}
    assert {("id:xf-state-a", "tipsh:memberOf-value"),
            ("id:xf-state-b", "tipsh:memberOf-value")} <= failing
    assert key(scoped) == key(full)


def test_unchanged_files_are_not_rechecked(tmp_path: Path, repo_root: Path) -> None:
    """The findings of nodes no change reaches come from the record: drop one from the record
    and the scoped run does not find it again (it did not look); a full run does."""
    labels = FIXTURES / "labels__fail.trig"
    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM, "labels.trig": labels})
    first = validate(build(config))
    from_labels = [f for f in first.findings if "data/labels.trig" in f.files]
    assert from_labels
    record_file = next((tmp_path / "cache").glob("validated-*.json"))
    record = json.loads(record_file.read_text(encoding="utf-8"))
    dropped = next(item for item in record["findings"] if not item["global"]
                   and "data/labels.trig" in item["files"])
    record["findings"].remove(dropped)
    record_file.write_text(json.dumps(record), encoding="utf-8")

    write(Path(config["root"]) / "data" / "members.trig", MEMBERS.replace("State B", "State Bee"))
    scoped, full = scoped_and_full(config)
    assert scoped.scope is not None and scoped.scope.mode == "changed"
    assert 0 < scoped.scope.rechecked_nodes < 10
    lost = (dropped["severity"], dropped["focus"], dropped["shape"], dropped["message"])
    assert lost not in {(f.severity, f.focus, f.shape, f.message) for f in scoped.findings}
    assert lost in {(f.severity, f.focus, f.shape, f.message) for f in full.findings}
    # everything else the record held is reported as before
    assert len(scoped.findings) == len(first.findings) - 1


@pytest.mark.parametrize("step", ["add", "remove", "rewrite"])
def test_scoped_equals_full_on_the_shape_fixtures(tmp_path: Path, repo_root: Path,
                                                  step: str) -> None:
    """Every __pass fixture and half the __fail ones validated and recorded; then the other
    __fail fixtures added, or the first half removed, or each of them rewritten with its
    entities' types swapped round: the scoped report equals the full one each time."""
    first_half, second_half = FAIL[::2], FAIL[1::2]
    files: dict[str, str | Path] = {p.name: p for p in PASS + first_half}
    config = make_root(tmp_path, repo_root, files)
    first = validate(build(config))
    data = Path(config["root"]) / "data"
    if step == "add":
        for path in second_half:
            write(data / path.name, path)
    elif step == "remove":
        for path in first_half:
            (data / path.name).unlink()
    else:
        for path in PASS[::2]:
            text = path.read_text(encoding="utf-8")
            write(data / path.name, text.replace("a tip:Country", "a tip:Event").replace(
                "a tip:RegionalMechanism", "a tip:Country"))
    scoped, full = scoped_and_full(config)
    assert scoped.scope is not None and scoped.scope.mode == "changed"
    assert scoped.scope.changed_files
    assert key(first) != key(full)  # the change changed the findings
    assert key(scoped) == key(full)


def test_changed_shapes_make_it_a_full_validation(tmp_path: Path, repo_root: Path) -> None:
    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM})
    validate(build(config))
    shapes_file = Path(config["root"]) / "shapes" / "rules.ttl"
    shapes_file.write_text(shapes_file.read_text(encoding="utf-8") + "\n# edited\n",
                           encoding="utf-8")
    report = validate(build(config), changed=True)
    assert report.scope is not None and report.scope.mode == "full"
    assert "shapes" in report.scope.reason


def test_reload_validates_only_what_changed(tmp_path: Path, repo_root: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    """A reload checks the new build with the scoped validation when the served build's record
    is there, and still refuses a build whose violation comes from a change in another file."""
    import logging

    from tests.conftest import app_settings
    from tipgraph.web.app import EXTENSION, create_app
    from tipgraph.web.reload import Reloader

    config = make_root(tmp_path, repo_root, {"members.trig": MEMBERS,
                                             "mechanism.trig": MECHANISM})
    kg = build(config)
    assert validate(kg).conforms  # the served build, validated and recorded
    app = create_app(app_settings(config, query_workers=0), kg=kg)
    reloader = Reloader(app.extensions[EXTENSION], app.extensions[EXTENSION].settings)
    data = Path(config["root"]) / "data"
    write(data / "members.trig", MEMBERS.replace("State B", "State Bee"))
    with caplog.at_level(logging.INFO, logger="tipgraph.web.reload"):
        assert reloader.reload_now("test") is True
    assert "changed validation (1 data file(s) changed" in caplog.text

    write(data / "mechanism.trig", MECHANISM.replace(
        ":xf-mechanism a tip:RegionalMechanism", ":xf-mechanism a tip:Event ; "
        "tip:eventType etype:meeting"))
    assert reloader.reload_now("test") is False
    assert reloader.status.last_error is not None
    assert "id:xf-state-a" in reloader.status.last_error


def test_the_plan_tells_global_shapes_from_local_ones(repo_root: Path) -> None:
    from rdflib import Graph, Namespace

    from tipgraph.model.scope import plan

    tipsh = Namespace("https://w3id.org/tipgraph/shapes#")
    shapes = Graph()
    for path in sorted((repo_root / "shapes").glob("*.ttl")):
        shapes.parse(path)
    shapes.parse(format="turtle", data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix tip: <https://w3id.org/tipgraph/ontology#> .
        <https://w3id.org/tipgraph/shapes#TestChainShape> sh:targetClass tip:Instrument ;
            sh:property [ sh:path [ sh:zeroOrMorePath tip:supersedes ] ; sh:minCount 1 ] .
    """)
    found = plan(shapes)
    assert tipsh.SupersedesAcyclicShape in found.global_shapes  # SPARQL constraint
    assert tipsh.TypedEntityShape in found.global_shapes        # SPARQL target
    assert tipsh.TestChainShape in found.global_shapes          # unbounded path
    assert {tipsh["memberOf-value"], tipsh.CountObservationShape,
            tipsh.LabelledEntityShape} <= found.local_shapes
    # a relation's value shape reads the value's types, one step forward
    assert (("f",), "type") in found.reads
    assert all(len(steps) <= 1 for steps, _ in found.reads)
