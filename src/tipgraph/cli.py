"""The `tipgraph` command: thin wrappers that parse arguments, call the library and print.

Exit codes: 0 ok, 1 validation violations, 2 bad input (unreadable file, bad query, bad option).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tipgraph import __version__
from tipgraph.config import load_config, settings_doc
from tipgraph.errors import EXIT_BAD_INPUT, EXIT_VIOLATIONS, TipgraphError


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a TipgraphError into its message on stderr and its exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TipgraphError as error:
            click.echo(f"tipgraph: error: {error}", err=True)
            sys.exit(error.exit_code)

    return wrapper


def _config(ctx: click.Context, **overrides: Any) -> dict[str, Any]:
    base = dict(ctx.obj or {})
    base.update({k: v for k, v in overrides.items() if v is not None})
    config_file = base.pop("config_file", None)
    return load_config(base, config_file=config_file)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tipgraph")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder with ontology/, data/, shapes/, queries/ (default: bundled data).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML config file (see `tipgraph settings`).")
@click.option("--no-cache", is_flag=True, help="Recompute inferences instead of using the cache.")
@click.pass_context
def main(ctx: click.Context, root: Path | None, config_file: Path | None, no_cache: bool) -> None:
    """tipgraph: the knowledge graph of regional mechanisms against trafficking in persons."""
    ctx.obj = {"root": root, "config_file": config_file}
    if no_cache:
        ctx.obj["use_cache"] = False


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
@click.pass_context
@handle_errors
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str) -> None:
    """Check the data (or PATHS) against the shapes and the ontology's own rules.

    Exit 0 when it conforms, 1 with violations, 2 when input cannot be read.
    """
    from tipgraph.model.validate import validate as run_validation

    for path in paths:
        if not path.exists():
            raise TipgraphError(f"{path}: no such file or folder")
    report = run_validation(config=_config(ctx), data_paths=list(paths) or None)
    output = {"text": report.to_text, "json": report.to_json, "turtle": report.to_turtle}[fmt]()
    click.echo(output)
    if not report.conforms:
        sys.exit(EXIT_VIOLATIONS)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_context
@handle_errors
def stats(ctx: click.Context, fmt: str) -> None:
    """Counts of triples, entities per class and uses of each property."""
    from tipgraph.model.build import build
    from tipgraph.model.stats import compute_stats, format_stats

    counts = compute_stats(build(_config(ctx)))
    click.echo(format_stats(counts, fmt))


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv", "turtle"]),
              default="table", show_default=True)
@click.pass_context
@handle_errors
def query(ctx: click.Context, sparql: str, fmt: str) -> None:
    """Answer a SPARQL query offline over the bundled (or --root) graph.

    SPARQL may be the query text, @FILE, or - for standard input.
    """
    from tipgraph.model.build import build
    from tipgraph.query.offline import format_result, run_query

    if sparql == "-":
        sparql = sys.stdin.read()
    elif sparql.startswith("@"):
        try:
            sparql = Path(sparql[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise TipgraphError(f"cannot read query file {sparql[1:]}: {error.strerror}") from None
    result = run_query(build(_config(ctx)), sparql)
    click.echo(format_result(result, fmt), nl=False)


@main.command()
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 5000; 0 picks a free one).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the SPARQL endpoint, linked-data pages and graph explorer."""
    from tipgraph.web.serve import run_server

    run_server(_config(ctx, host=host, port=port))


@main.command()
def settings() -> None:
    """List every setting with its environment variable and default."""
    click.echo(settings_doc())


# The graph commands (`viz`, and `export --format graphml|gexf|dot`) live in graphcli.py.
from tipgraph import graphcli  # noqa: E402

graphcli.register(main, handle_errors, _config)


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["EXIT_BAD_INPUT", "main"]
