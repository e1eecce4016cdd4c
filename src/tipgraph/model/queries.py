"""The example queries in queries/: each a .rq file with a header of `# key: value` lines.

Header keys: title, description (may repeat), category, pages, and expect (one line per
expected value of the first result column; `true`/`false` for ASK). The test suite runs every
query and compares; the query editor offers them as examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tipgraph.model.namespaces import rebase_vocabulary


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    sparql: str
    description: str = ""
    category: str = ""
    pages: str = ""
    expect: tuple[str, ...] = field(default=())


def parse_query_file(path: Path) -> ExampleQuery:
    header: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        key, sep, value = stripped.lstrip("#").strip().partition(":")
        if sep and key.strip().isidentifier():
            header.setdefault(key.strip().lower(), []).append(value.strip())
    first = lambda key: (header.get(key) or [""])[0]  # noqa: E731
    return ExampleQuery(
        name=path.stem,
        title=first("title") or path.stem,
        sparql=rebase_vocabulary(path.read_text(encoding="utf-8")),
        description=" ".join(header.get("description", [])),
        category=first("category"),
        pages=first("pages"),
        expect=tuple(header.get("expect", [])),
    )


def example_queries(root: Path) -> list[ExampleQuery]:
    folder = Path(root) / "queries"
    return [parse_query_file(p) for p in sorted(folder.glob("*.rq"))]
