"""Validate the knowledge graph: SHACL shapes over the data, and the ontology's own checks.

``validate()`` returns a ValidationReport (data); the CLI only prints it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from tipgraph.errors import ShapesError
from tipgraph.model.build import KnowledgeGraph, build
from tipgraph.model.namespaces import OWL, PREFIXES, RDF, RDFS, SH, TIP

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem: where (focus node, path, files), what (message), how bad (severity)."""

    severity: str
    focus: str
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    files: tuple[str, ...] = ()


@dataclass
class ValidationReport:
    findings: list[Finding] = field(default_factory=list)
    report_graph: Graph = field(default_factory=Graph)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return not self.violations

    def to_json(self) -> str:
        return json.dumps({
            "conforms": self.conforms,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [asdict(f) for f in self.findings],
        }, indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return self.report_graph.serialize(format="turtle")

    def to_text(self) -> str:
        """Grouped by file, then by entity, with each shape's message."""
        if not self.findings:
            return "The data conforms: no violations, no warnings."
        groups: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
        for finding in self.findings:
            where = ", ".join(finding.files) or "(no data file)"
            groups[where][finding.focus].append(finding)
        lines: list[str] = []
        for where in sorted(groups):
            lines.append(where)
            for focus in sorted(groups[where]):
                lines.append(f"  {focus}")
                for f in sorted(groups[where][focus], key=lambda f: SEVERITY_ORDER[f.severity]):
                    path = f" [{f.path}]" if f.path else ""
                    value = f" (value: {f.value})" if f.value else ""
                    lines.append(f"    {f.severity}{path}: {f.message}{value}")
        lines.append("")
        lines.append(f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s).")
        return "\n".join(lines)


def short(node: Node | None) -> str | None:
    """A compact prefixed name for reports."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        text = str(node)
        for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            if text.startswith(namespace) and len(text) > len(namespace):
                return f"{prefix}:{text[len(namespace):]}"
        return f"<{text}>"
    if isinstance(node, Literal):
        return repr(str(node)) if node.datatype is None else f'"{node}"^^{short(node.datatype)}'
    return str(node)


def _shacl_findings(report: Graph, subject_files: Mapping[URIRef, set[str]]) -> list[Finding]:
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        messages = [str(m) for m in report.objects(result, SH.resultMessage)]
        findings.append(Finding(
            severity=severity,
            focus=short(focus) or "",
            message="; ".join(sorted(messages)) or "(shape without sh:message)",
            path=short(report.value(result, SH.resultPath)),
            value=short(report.value(result, SH.value)),
            shape=short(report.value(result, SH.sourceShape)),
            files=tuple(sorted(subject_files.get(focus, ()))),
        ))
    return findings


OWN_TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def ontology_findings(ontology: Graph, used: Iterable[Node] = ()) -> list[Finding]:
    """The ontology checks itself: every own term documented, every used own term declared."""
    findings = []
    declared = {s for t in OWN_TERM_TYPES for s in ontology.subjects(RDF.type, t)}
    for term in sorted(t for t in declared if str(t).startswith(str(TIP))):
        for prop, what in ((RDFS.label, "label"), (RDFS.comment, "comment")):
            if ontology.value(term, prop) is None:
                findings.append(Finding("Violation", short(term) or "", f"The ontology term has "
                                        f"no rdfs:{what}: add one so users know what it means.",
                                        path=short(prop), shape="tipgraph:ontology-quality"))
    for term in sorted(set(used)):
        if str(term).startswith(str(TIP)) and term not in declared:
            findings.append(Finding("Violation", short(term) or "", "This tip: term is used but "
                                    "not declared in the ontology: fix the typo, or declare it "
                                    "in ontology/tipgraph.ttl.", shape="tipgraph:ontology-quality"))
    return findings


def used_terms(graph: Graph) -> set[Node]:
    terms: set[Node] = set()
    for _, p, o in graph:
        terms.add(p)
        if p == RDF.type:
            terms.add(o)
    return terms


def validate(
    kg: KnowledgeGraph | None = None,
    config: Mapping[str, Any] | None = None,
    data_paths: Iterable[Path | str] | None = None,
    shapes: Graph | None = None,
) -> ValidationReport:
    """Run the shapes over the data (asserted + inferred + ontology) and the ontology checks."""
    kg = kg or build(config, data_paths)
    shapes_graph = shapes if shapes is not None else kg.shapes
    if len(shapes_graph) == 0:
        raise ShapesError("no SHACL shapes were loaded: shapes/ is empty or missing")
    data = kg.union(inferred=True, ontology=True)
    try:
        _, report_graph, _ = shacl_validate(
            data, shacl_graph=shapes_graph, inference="none", advanced=True,
            allow_warnings=True, allow_infos=True,
        )
    except Exception as error:  # pyshacl reports broken shapes with assorted exception types
        raise ShapesError(f"the shapes could not be applied: {error}") from None
    findings = _shacl_findings(report_graph, kg.sources.subject_files)
    findings += ontology_findings(kg.ontology, used_terms(kg.asserted()) | used_terms(shapes_graph))
    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.files, f.focus, f.message))
    return ValidationReport(findings, report_graph)
