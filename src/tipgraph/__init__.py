"""tipgraph: a knowledge graph of regional mechanisms that counter trafficking in persons.

Library first: ``load``, ``build``, ``validate``, ``query`` return data; the CLI and the web
app are thin wrappers around them.
"""

__version__ = "0.1.0"

from tipgraph.errors import (  # noqa: E402
    ConfigError,
    DataLoadError,
    QueryError,
    ShapesError,
    TipgraphError,
)
from tipgraph.model.build import KnowledgeGraph, build  # noqa: E402
from tipgraph.model.load import load  # noqa: E402


def __getattr__(name: str):
    """``validate`` is imported on first use: pyshacl takes most of a second to import, which
    `tipgraph serve` and the query workers do not need."""
    if name == "validate":
        from tipgraph.model.validate import validate

        return validate
    raise AttributeError(f"module 'tipgraph' has no attribute {name!r}")

__all__ = [
    "ConfigError",
    "DataLoadError",
    "KnowledgeGraph",
    "QueryError",
    "ShapesError",
    "TipgraphError",
    "__version__",
    "build",
    "load",
    "validate",
]
