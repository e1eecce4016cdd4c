"""Synthetic data in tipgraph's ontology and modelling, for benchmarks at any size.

    python benchmarks/generate.py --triples 100000 [--seed 1] [-o synthetic-100k.trig]

The output is one TriG file written the way docs/curation.md asks: every fact in the graph of a
(synthetic) source page, counts as count observations, dates as xsd:date, xsd:gYearMonth or
xsd:gYear. Load it with the bundled concept schemes (data/concept-schemes.ttl), which it refers
to. The structure is what the real graph has, repeated: mechanisms in regions with member states
and a member count; bodies under them (monitoring some instruments, reporting to each other,
based in cities); chains of action plans where each supersedes the one before; conventions with
entry into force after adoption, parties and a ratification count; knowledge products; projects
in chains of phases (tip:partOf, transitive); events in cities. A few UN-like agencies are hubs
that partner, fund and attend most of it (chosen with Zipf-like weights), as in the source.

Same seed and size, same bytes. Pages are numbered from 1001 so they never collide with the
real document's 24 pages; slugs start with "syn-" for the same reason.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import TextIO

PREFIXES = """\
@prefix tip:      <https://w3id.org/tipgraph/ontology#> .
@prefix :         <https://w3id.org/tipgraph/id/> .
@prefix page:     <https://w3id.org/tipgraph/id/source/summary-2010/page/> .
@prefix itype:    <https://w3id.org/tipgraph/id/instrument-type/> .
@prefix btype:    <https://w3id.org/tipgraph/id/body-type/> .
@prefix inittype: <https://w3id.org/tipgraph/id/initiative-type/> .
@prefix etype:    <https://w3id.org/tipgraph/id/event-type/> .
@prefix theme:    <https://w3id.org/tipgraph/id/thematic-area/> .
@prefix binding:  <https://w3id.org/tipgraph/id/binding-status/> .
@prefix lifecycle: <https://w3id.org/tipgraph/id/lifecycle-status/> .
@prefix ctype:    <https://w3id.org/tipgraph/id/count-type/> .
@prefix skos:     <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:      <http://www.w3.org/2001/XMLSchema#> .
"""

FIRST_PAGE = 1001
DOCUMENT = "<https://w3id.org/tipgraph/id/source/summary-2010>"
TITLE = ("Summary of Regional and Sub-Regional Structures and Initiatives to Counter Trafficking "
         "in Persons")
REGIONS = ["african-region", "americas-region", "asian-region", "european-region",
           "middle-east-north-africa-region", "other-cross-regional"]
REGION_LABELS = ["African Region", "Americas Region", "Asian Region", "European Region",
                 "Middle East and North Africa Region", "Other (cross-regional)"]
MECHANISM_CLASSES = ["tip:RegionalMechanism", "tip:SubRegionalMechanism",
                     "tip:SubRegionalMechanism", "tip:CrossRegionalMechanism"]
BODY_TYPES = ["unit", "committee", "working-group", "task-force", "group-of-experts",
              "secretariat", "monitoring-body", "council", "focal-point", "network"]
PLAN_TYPES = ["action-plan", "work-plan", "programme", "strategy"]
LEGAL_TYPES = ["convention", "protocol", "agreement", "memorandum-of-understanding", "charter"]
KNOWLEDGE_TYPES = ["handbook", "manual", "guidelines", "toolkit", "study", "report"]
INITIATIVE_TYPES = ["project", "campaign", "programme", "partnership", "capacity-building"]
EVENT_TYPES = ["meeting", "conference", "workshop", "seminar", "training", "forum"]
THEMES = ["prevention", "protection", "prosecution", "cooperation", "capacity-building",
          "legal-framework", "monitoring-evaluation", "child-protection", "migration"]
HUB_KINDS = [("tip:IntergovernmentalOrganisation", "United Nations agency"),
             ("tip:IntergovernmentalOrganisation", "regional agency"),
             ("tip:NonGovernmentalOrganisation", "international NGO"),
             ("tip:ResearchInstitution", "research institute")]
WORDS = ["Regional", "Joint", "Strategic", "Integrated", "Coordinated", "Northern", "Southern",
         "Eastern", "Western", "Central", "Coastal", "Continental", "Pan", "Inter-State"]


class Writer:
    """Writes entities into page graphs and counts the triples it writes."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.triples = 0

    def page(self, number: int, entities: list[tuple[str, list[tuple[str, list[str]]]]]) -> None:
        self.out.write(f"page:{number} {{\n")
        for subject, facts in entities:
            self._entity(subject, facts, indent="    ")
        self.out.write("}\n\n")

    def curated(self, subject: str, facts: list[tuple[str, list[str]]]) -> None:
        self._entity(subject, facts, indent="")
        self.out.write("\n")

    def _entity(self, subject: str, facts: list[tuple[str, list[str]]], indent: str) -> None:
        parts = []
        for predicate, objects in facts:
            if objects:
                parts.append(f"{predicate} {', '.join(objects)}")
                self.triples += len(objects)
        self.out.write(f"{indent}{subject} " + f" ;\n{indent}    ".join(parts) + " .\n")


def text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"@en'


def count(value: int) -> str:
    return f'"{value}"^^xsd:nonNegativeInteger'


def year(value: int) -> str:
    return f'"{value}"^^xsd:gYear'


class Generator:
    def __init__(self, seed: int, writer: Writer) -> None:
        self.rng = random.Random(seed)
        self.w = writer
        self.next_page = FIRST_PAGE
        self.pages: list[int] = []
        self.countries: list[str] = []
        self.cities: list[str] = []
        self.hubs: list[str] = []
        self.hub_weights: list[float] = []
        self.mechanisms: list[str] = []

    def new_page(self) -> int:
        number = self.next_page
        self.next_page += 1
        self.pages.append(number)
        return number

    def date(self, y: int) -> str:
        """A date as precise as a text might give it: a day, a month or only the year."""
        r = self.rng.random()
        if r < 0.4:
            return f'"{y}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"^^xsd:date'
        if r < 0.7:
            return f'"{y}-{self.rng.randint(1, 12):02d}"^^xsd:gYearMonth'
        return year(y)

    def some(self, items: list[str], low: int, high: int) -> list[str]:
        return self.rng.sample(items, min(len(items), self.rng.randint(low, high)))

    def hub(self) -> str:
        return self.rng.choices(self.hubs, self.hub_weights)[0]

    def hubs_for(self, low: int, high: int) -> list[str]:
        return sorted({self.hub() for _ in range(self.rng.randint(low, high))})

    def themes(self) -> list[str]:
        return [f"theme:{t}" for t in self.rng.sample(THEMES, self.rng.randint(1, 3))]

    # --- shared things, described once --------------------------------------------------------

    def world(self, scale: int) -> None:
        page = self.new_page()
        regions = [(f":{slug}", [("a", ["tip:Region"]), ("skos:prefLabel", [text(label)])])
                   for slug, label in zip(REGIONS, REGION_LABELS, strict=True)]
        document = (DOCUMENT, [("a", ["tip:SourceDocument"]), ("skos:prefLabel", [text(TITLE)])])
        self.w.page(page, [document, *regions])
        n_countries = min(200, 30 + scale // 4)
        page = self.new_page()
        entities = []
        for i in range(n_countries):
            slug = f":syn-country-{i + 1}"
            self.countries.append(slug)
            entities.append((slug, [("a", ["tip:Country"]),
                                    ("skos:prefLabel", [text(f"Country {i + 1}")]),
                                    ("tip:locatedIn", [f":{REGIONS[i % 5]}"])]))
        self.w.page(page, entities)
        page = self.new_page()
        entities = []
        for i in range(n_countries * 2):
            slug = f":syn-city-{i + 1}"
            self.cities.append(slug)
            entities.append((slug, [("a", ["tip:City"]),
                                    ("skos:prefLabel", [text(f"City {i + 1}")]),
                                    ("tip:locatedIn", [self.countries[i % n_countries]])]))
        self.w.page(page, entities)
        page = self.new_page()
        entities = []
        for i in range(min(300, 12 + scale // 20)):
            cls, kind = HUB_KINDS[0 if i < 8 else self.rng.randrange(len(HUB_KINDS))]
            slug = f":syn-agency-{i + 1}"
            self.hubs.append(slug)
            self.hub_weights.append(1.0 / (i + 1) ** 1.1)  # a few agencies are everywhere
            label = text(f"{kind.capitalize()} {i + 1}")
            entities.append((slug, [("a", [cls]), ("skos:prefLabel", [label]),
                                    ("tip:acronym", [text(f"AG{i + 1}")]),
                                    ("tip:basedIn", [self.rng.choice(self.cities)])]))
        self.w.page(page, entities)

    # --- one mechanism and everything around it -----------------------------------------------

    def mechanism(self, n: int) -> None:
        rng = self.rng
        m = f":syn-mech-{n}"
        self.mechanisms.append(m)
        name = f"{rng.choice(WORDS)} Community {n}"
        founded = rng.randint(1950, 2004)
        region = rng.randrange(len(REGIONS))
        members = self.some(self.countries, 4, 15)
        first, second = self.new_page(), self.new_page()

        members_obs = f"{m}-member-states"
        mech = [("a", [rng.choice(MECHANISM_CLASSES)]), ("skos:prefLabel", [text(name)]),
                ("tip:acronym", [text(f"SC{n}")]), ("tip:inRegion", [f":{REGIONS[region]}"]),
                ("tip:establishmentDate", [self.date(founded)]), ("tip:hasMember", members),
                ("tip:count", [members_obs]),
                ("tip:purpose", [text(f"to counter trafficking among the members of {name}")]),
                ("tip:partnerOf", self.hubs_for(1, 4))]
        if len(self.mechanisms) > 1 and rng.random() < 0.3:
            mech.append(("tip:partnerOf", [rng.choice(self.mechanisms[:-1])]))
        if rng.random() < 0.4:
            mech.append(("tip:hasSecretariat", [self.hub()]))
        entities = [(m, mech),
                    (members_obs, [("a", ["tip:CountObservation"]),
                                   ("skos:prefLabel", [text(f"{name} member states")]),
                                   ("tip:countType", ["ctype:member-states"]),
                                   ("tip:countValue", [count(len(members))]),
                                   ("tip:asOf", ['"2010-12"^^xsd:gYearMonth'])])]

        # Instruments: a chain of plans, each superseding the one before.
        plans = []
        start = rng.randint(max(founded, 1995), 2005)
        for k in range(rng.randint(2, 5)):
            plan = f"{m}-plan-{k + 1}"
            end = start + rng.randint(1, 3)
            facts = [("a", ["tip:PolicyInstrument"]),
                     ("skos:prefLabel", [text(f"{name} Plan of Action {start}-{end}")]),
                     ("tip:instrumentType", [f"itype:{rng.choice(PLAN_TYPES)}"]),
                     ("tip:adoptedBy", [m]), ("tip:adoptionDate", [self.date(start)]),
                     ("tip:periodStart", [year(start)]), ("tip:periodEnd", [year(end)]),
                     ("tip:thematicArea", self.themes()), ("tip:supportedBy", self.hubs_for(0, 2))]
            if plans:
                facts.append(("tip:supersedes", [plans[-1]]))
            plans.append(plan)
            entities.append((plan, facts))
            start = end + 1
        convention = f"{m}-convention"
        adopted = rng.randint(max(founded, 1990), 2008)
        parties = self.some(members, 2, len(members))
        ratifications = f"{convention}-ratifications"
        entities += [
            (convention, [("a", ["tip:LegalInstrument"]),
                          ("skos:prefLabel", [text(f"{name} Convention against Trafficking")]),
                          ("tip:instrumentType", [f"itype:{rng.choice(LEGAL_TYPES)}"]),
                          ("tip:adoptedBy", [m]), ("tip:adoptionDate", [year(adopted)]),
                          ("tip:entryIntoForceDate", [self.date(adopted + rng.randint(1, 3))]),
                          ("tip:bindingStatus", ["binding:legally-binding"]),
                          ("tip:party", parties), ("tip:count", [ratifications]),
                          ("tip:thematicArea", self.themes())]),
            (ratifications, [("a", ["tip:CountObservation"]),
                             ("skos:prefLabel", [text(f"Ratifications of the {name} Convention")]),
                             ("tip:countType", ["ctype:ratifications"]),
                             ("tip:countValue", [count(len(parties))]),
                             ("tip:countTotal", [count(len(members))]),
                             ("tip:asOf", ['"2010-12"^^xsd:gYearMonth'])])]
        for k in range(rng.randint(1, 3)):
            entities.append((f"{m}-publication-{k + 1}", [
                ("a", ["tip:KnowledgeProduct"]),
                ("skos:prefLabel", [text(f"{name} publication {k + 1}")]),
                ("tip:instrumentType", [f"itype:{rng.choice(KNOWLEDGE_TYPES)}"]),
                ("tip:developedBy", [m, *self.hubs_for(0, 2)]),
                ("tip:publicationDate", [self.date(rng.randint(2000, 2010))]),
                ("tip:refersTo", [rng.choice(plans)])]))
        self.w.page(first, entities)

        # Bodies, initiatives and events, on the second page.
        entities = []
        bodies = []
        for k in range(rng.randint(2, 6)):
            body = f"{m}-body-{k + 1}"
            kind = rng.choice(BODY_TYPES)
            facts = [("a", ["tip:Body"]),
                     ("skos:prefLabel", [text(f"{name} {kind.replace('-', ' ')} {k + 1}")]),
                     ("tip:bodyType", [f"btype:{kind}"]), ("tip:unitOf", [m]),
                     ("tip:establishmentDate", [self.date(rng.randint(founded, 2010))]),
                     ("tip:basedIn", [rng.choice(self.cities)])]
            if rng.random() < 0.5:
                facts.append(("tip:monitors", [rng.choice([convention, *plans])]))
            if bodies:
                facts.append(("tip:reportsTo", [rng.choice(bodies)]))
            bodies.append(body)
            entities.append((body, facts))
        initiatives = []
        for k in range(rng.randint(1, 4)):
            initiative = f"{m}-project-{k + 1}"
            launched = rng.randint(2000, 2010)
            facts = [("a", ["tip:Initiative"]),
                     ("skos:prefLabel", [text(f"{name} project {k + 1}")]),
                     ("tip:initiativeType", [f"inittype:{rng.choice(INITIATIVE_TYPES)}"]),
                     ("tip:launchedBy", [m]), ("tip:launchDate", [self.date(launched)]),
                     ("tip:fundedBy", [self.hub() if rng.random() < 0.6 else rng.choice(members)]),
                     ("tip:implementedBy", self.hubs_for(1, 2)),
                     ("tip:implements", [rng.choice(plans)]),
                     ("tip:periodStart", [year(launched)]),
                     ("tip:periodEnd", [year(launched + rng.randint(0, 4))]),
                     ("tip:thematicArea", self.themes())]
            if initiatives:  # phases of a larger project: a tip:partOf chain
                facts.append(("tip:partOf", [initiatives[-1]]))
            initiatives.append(initiative)
            entities.append((initiative, facts))
        for k in range(rng.randint(2, 8)):
            kind = rng.choice(EVENT_TYPES)
            entities.append((f"{m}-event-{k + 1}", [
                ("a", ["tip:Event"]),
                ("skos:prefLabel", [text(f"{name} {kind} {k + 1}")]),
                ("tip:eventType", [f"etype:{kind}"]),
                ("tip:organisedBy", [m] if rng.random() < 0.7 else [m, self.hub()]),
                ("tip:participant", sorted({*self.hubs_for(0, 3), *self.some(members, 0, 3)})),
                ("tip:heldIn", [rng.choice(self.cities)]),
                ("tip:eventDate", [self.date(rng.randint(2000, 2010))]),
                ("tip:inFrameworkOf", [rng.choice([m, *initiatives])]),
                ("tip:thematicArea", self.themes())]))
        self.w.page(second, entities)

    def pages_described(self) -> None:
        """The synthetic pages, described in the curated graph as data/source.trig does."""
        for number in self.pages:
            self.w.curated(f"page:{number}", [
                ("a", ["tip:SourcePage"]),
                ("skos:prefLabel", [text(f"Summary 2010, page {number}")]),
                ("tip:pageNumber", [str(number)]),
                ("tip:sourceDocument", [DOCUMENT])])


def generate(triples: int, out: TextIO, seed: int = 1) -> int:
    """Write about ``triples`` triples (a little more: whole mechanisms) to ``out``; return the
    number written."""
    writer = Writer(out)
    out.write(f"# Synthetic tipgraph data: benchmarks/generate.py --triples {triples} "
              f"--seed {seed}\n{PREFIXES}\n")
    generator = Generator(seed, writer)
    generator.world(max(1, triples // 200))
    n = 0
    while writer.triples + 4 * (len(generator.pages) + 2) < triples:
        n += 1
        generator.mechanism(n)
    generator.pages_described()
    return writer.triples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, required=True, help="about how many triples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, help="TriG file (default: standard output)")
    args = parser.parse_args(argv)
    if args.output:
        with args.output.open("w", encoding="utf-8") as out:
            written = generate(args.triples, out, args.seed)
    else:
        written = generate(args.triples, sys.stdout, args.seed)
    print(f"{written} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
