"""The exceptions tipgraph raises. The CLI maps each to a documented exit code."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2


class TipgraphError(Exception):
    """Base of every error tipgraph raises on purpose; never shown to a user as a traceback."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(TipgraphError):
    """A setting is missing, unknown or has a value of the wrong kind."""


class DataLoadError(TipgraphError):
    """An RDF file cannot be read or parsed. Carries the file, the line and what is wrong."""

    def __init__(self, path: Path | str, line: int | None, detail: str, hint: str = "") -> None:
        self.path = str(path)
        self.line = line
        self.detail = detail
        self.hint = hint
        where = f"{self.path} line {line}" if line else self.path
        message = f"{where}: {detail}"
        if hint:
            message += f". {hint}"
        super().__init__(message)


class ShapesError(TipgraphError):
    """The SHACL shapes themselves are unusable (not a data violation)."""


class QueryError(TipgraphError):
    """A SPARQL query is malformed or refused by the query policy."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


class ExportError(TipgraphError):
    """An export cannot be written (unknown format, unwritable target)."""


class LimitExceeded(TipgraphError):
    """A request would need more than a limit allows: 503 (busy, try again) or 504 (too long)."""

    def __init__(self, message: str, status: int = 504, retry_after: int | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)
