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

from tipgraph import __version__, graphcli
from tipgraph.config import load_config, settings_doc
from tipgraph.errors import EXIT_BAD_INPUT, EXIT_VIOLATIONS, TipgraphError
from tipgraph.publish.formats import RDF_FORMATS


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
@click.option("--changed", is_flag=True,
              help="Re-check only what changed since the last validated build (recorded in the "
                   "cache folder); the report is still complete. Full when there is no record.")
@click.pass_context
@handle_errors
def validate(ctx: click.Context, paths: tuple[Path, ...], fmt: str, changed: bool) -> None:
    """Check the data (or PATHS) against the shapes and the ontology's own rules.

    Exit 0 when it conforms, 1 with violations, 2 when input cannot be read.
    """
    from tipgraph.model.validate import validate as run_validation

    for path in paths:
        if not path.exists():
            raise TipgraphError(f"{path}: no such file or folder")
    report = run_validation(config=_config(ctx), data_paths=list(paths) or None, changed=changed)
    output = {"text": report.to_text, "json": report.to_json, "turtle": report.to_turtle}[fmt]()
    click.echo(output)
    if changed and report.scope is not None:
        scope = report.scope
        click.echo(f"Scoped validation: {scope.reason}; re-checked {scope.rechecked_nodes} "
                   f"focus node(s) ({scope.touched_nodes} touched), {scope.global_shapes} "
                   f"global shape(s) in full." if scope.mode == "changed" else
                   f"Full validation: {scope.reason}.", err=True)
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
@click.option("--store", type=click.Choice(["oxigraph", "memory", "sparql"]),
              help="Query engine (default oxigraph; memory is rdflib's; sparql is a remote "
                   "SPARQL 1.1 store at --endpoint, which tipgraph pushes its data to).")
@click.option("--endpoint", help="The remote store's SPARQL query URL (with --store sparql).")
@click.option("--query-timeout", type=float, help="Seconds a query may run (default 30).")
@click.option("--query-workers", type=int, help="Worker processes answering queries (default 2).")
@click.option("--processes", "server_processes", type=click.IntRange(min=1),
              help="Server processes sharing the port (default 1; the number of cores for a "
                   "busy endpoint).")
@click.option("--fast-build/--no-fast-build", default=None,
              help="Build the graph on the pyoxigraph path (default: the fast_build setting).")
@click.option("--watch", is_flag=True, default=None,
              help="Reload the data when a file in data/, ontology/ or shapes/ changes.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None, store: str | None,
          endpoint: str | None, query_timeout: float | None, query_workers: int | None,
          server_processes: int | None, fast_build: bool | None, watch: bool | None) -> None:
    """Serve the SPARQL endpoint, linked-data pages and graph explorer.

    SIGHUP (or a file change with --watch) reloads the data: the new build is validated first
    and served only if it is good; otherwise the last good build stays and the log says why.
    SIGTERM stops it after the requests in flight are answered.

    Every setting (see `tipgraph settings`) can also come from TIPGRAPH_<NAME> or --config.
    """
    from tipgraph.web.serve import run_server

    run_server(_config(ctx, host=host, port=port, store=store, endpoint=endpoint,
                       query_timeout=query_timeout, query_workers=query_workers,
                       server_processes=server_processes, fast_build=fast_build, watch=watch))


@main.command()
@click.option("--format", "fmt", default="turtle", show_default=True,
              type=click.Choice([f.name for f in RDF_FORMATS]
                                + list(graphcli.GRAPH_EXPORT_FORMATS)),
              help="Serialisation; nquads, trig and jsonld keep each fact's page graph; graphml, "
                   "gexf and dot write the organisation relationship graph (filters below).")
@click.option("--inferred", is_flag=True, help="Include the inferred triples.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (atomically); standard output when absent.")
@graphcli.filter_options
@click.pass_context
@handle_errors
def export(ctx: click.Context, fmt: str, inferred: bool, output: Path | None,
           **graph_filters: Any) -> None:
    """Dump the whole graph: deterministic (same data, same bytes), with its VoID description."""
    if fmt in graphcli.GRAPH_EXPORT_FORMATS:
        graphcli.export_graph(_config(ctx), fmt, output, graph_filters)
        return
    from tipgraph.model.build import build
    from tipgraph.publish.export import export as export_bytes
    from tipgraph.publish.export import write_export

    kg = build(_config(ctx))
    if output is None:
        sys.stdout.buffer.write(export_bytes(kg, fmt, inferred))
        return
    result = write_export(kg, fmt, output, inferred)
    click.echo(f"wrote {result.path} ({result.format}, {result.size} bytes, "
               f"sha256 {result.sha256})", err=True)


@main.command()
@click.option("--endpoint", required=True, help="The store's SPARQL query endpoint (verifies).")
@click.option("--graph", "graph_iri", required=True, help="IRI of the named graph to replace.")
@click.option("--graph-store", help="Graph Store HTTP Protocol URL (tried first).")
@click.option("--update", "update_url", help="SPARQL Update URL (fallback; default --endpoint).")
@click.option("--user", help="User name for authentication.")
@click.option("--password", envvar="TIPGRAPH_PUSH_PASSWORD",
              help="Password (or set TIPGRAPH_PUSH_PASSWORD).")
@click.option("--auth", "auth_scheme", type=click.Choice(["digest", "basic"]), default="digest",
              show_default=True, help="HTTP authentication scheme.")
@click.option("--inferred", is_flag=True, help="Push the inferred triples too.")
@click.option("--timeout", type=float, default=30.0, show_default=True,
              help="Seconds to wait for each request.")
@click.pass_context
@handle_errors
def push(ctx: click.Context, endpoint: str, graph_iri: str, graph_store: str | None,
         update_url: str | None, user: str | None, password: str | None, auth_scheme: str,
         inferred: bool, timeout: float) -> None:
    """Replace a named graph in a SPARQL 1.1 store with the data, and verify it."""
    from tipgraph.model.build import build
    from tipgraph.publish.push import make_auth
    from tipgraph.publish.push import push as push_graph
    from tipgraph.publish.void import site_root

    config = _config(ctx)
    kg = build(config)
    graph = kg.union(inferred=inferred, ontology=False)
    report = push_graph(graph, endpoint, graph_iri, graph_store=graph_store,
                        update_endpoint=update_url, auth=make_auth(user, password, auth_scheme),
                        timeout=timeout, skolem_authority=site_root(config["base_iri"]),
                        progress=lambda message: click.echo(message, err=True))
    click.echo(report.to_text())


@main.command()
def settings() -> None:
    """List every setting with its environment variable and default."""
    click.echo(settings_doc())


# `viz` lives in graphcli.py, with the graph formats that `export` dispatches to.
graphcli.register(main, handle_errors, _config)


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["EXIT_BAD_INPUT", "main"]
