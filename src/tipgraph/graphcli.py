"""`tipgraph viz` and the graph formats of `tipgraph export` (graphml, gexf, dot).

Kept apart from cli.py so that the RDF `export` command can dispatch here: it calls
``export_graph(config, fmt, output, filters)`` for any name in ``GRAPH_EXPORT_FORMATS``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from tipgraph.errors import ExportError
from tipgraph.publish.formats import graph_format

GRAPH_EXPORT_FORMATS = ("graphml", "gexf", "dot")
PICTURE_FORMATS = ("svg", "png")
TITLE = "tipgraph: organisation relationship graph"


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The graph filters as options (the same as /graph.json's query parameters)."""
    options = [
        click.option("--region", multiple=True, help="Only this region (repeatable), e.g. "
                     "european-region."),
        click.option("--kind", multiple=True, help="Only this kind or kind group (repeatable): "
                     "mechanisms, bodies, partners, states, instruments, activities, or a kind "
                     "such as igo."),
        click.option("--relation", multiple=True, help="Only links of this relation "
                     "(repeatable), e.g. supports."),
        click.option("--theme", multiple=True, help="Only this thematic area (repeatable), "
                     "e.g. prevention."),
        click.option("--year", type=int, help="The graph as of this year."),
        click.option("--instruments/--no-instruments", default=None,
                     help="Add or remove the instruments."),
        click.option("--default-view", is_flag=True, help="Start from the page's first view "
                     "(organisations with a link, no instruments) instead of everything."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filter(filters: Mapping[str, Any]):
    from tipgraph.publish.graphviews import GraphFilter, default_filter

    params: dict[str, Any] = {name: list(filters.get(name) or ())
                              for name in ("region", "kind", "relation", "theme")}
    if filters.get("year") is not None:
        params["year"] = str(filters["year"])
    if filters.get("instruments") is not None:
        params["instruments"] = "1" if filters["instruments"] else "0"
    flt = GraphFilter.from_params(params)
    if filters.get("default_view") and not flt.kinds:
        from dataclasses import replace
        default = default_filter()
        flt = replace(flt, kinds=default.kinds, unlinked=default.unlinked)
    return flt


def _write(data: bytes, output: Path | None, binary: bool) -> None:
    if output is None:
        if binary and sys.stdout.isatty():
            raise ExportError("refusing to write a picture to the terminal: use -o FILE")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as error:
        raise ExportError(f"cannot write {output}: {error.strerror}") from None


def export_graph(config: Mapping[str, Any], fmt: str, output: Path | None,
                 filters: Mapping[str, Any]) -> None:
    """Write the relationship graph as GraphML, GEXF or DOT (to ``output`` or stdout)."""
    from tipgraph.model.build import build
    from tipgraph.publish.graphexport import export
    from tipgraph.publish.graphviews import view

    found = graph_format(fmt)
    if found is None or found.name not in GRAPH_EXPORT_FORMATS:
        raise ExportError(f"unknown graph format {fmt!r}; use one of "
                          f"{', '.join(GRAPH_EXPORT_FORMATS)}")
    graph_view = view(build(config), _filter(filters))
    _write(export(graph_view, found, title=TITLE), output, found.binary)


def draw_graph(config: Mapping[str, Any], output: Path, fmt: str | None, engine: str,
               filters: Mapping[str, Any]) -> None:
    from tipgraph.model.build import build
    from tipgraph.publish.graphexport import render
    from tipgraph.publish.graphviews import view

    fmt = fmt or output.suffix.lstrip(".").lower()
    if fmt not in PICTURE_FORMATS:
        raise ExportError(f"cannot tell the picture format of {output}: name it .svg or .png, "
                          "or pass --format")
    graph_view = view(build(config), _filter(filters))
    _write(render(graph_view, fmt, engine=engine, title=TITLE), output, fmt == "png")
    click.echo(f"wrote {output}: {len(graph_view.nodes)} nodes, {len(graph_view.edges)} links",
               err=True)


def register(main: click.Group, handle_errors: Callable, config_of: Callable) -> None:
    """Add `viz`, and `export` unless cli.py already has one (which then dispatches here)."""

    @click.command()
    @click.option("--format", "fmt", required=True, type=click.Choice(GRAPH_EXPORT_FORMATS),
                  help="graphml (Gephi, Cytoscape, yEd), gexf (Gephi) or dot (Graphviz).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="File to write (default: standard output).")
    @filter_options
    @click.pass_context
    @handle_errors
    def export(ctx: click.Context, fmt: str, output: Path | None, **filters: Any) -> None:
        """Export the organisation relationship graph for desktop graph tools."""
        export_graph(config_of(ctx), fmt, output, filters)

    @click.command()
    @click.option("-o", "--output", required=True,
                  type=click.Path(dir_okay=False, path_type=Path),
                  help="The picture to write: graph.svg or graph.png.")
    @click.option("--format", "fmt", type=click.Choice(PICTURE_FORMATS),
                  help="svg or png (default: from the file name).")
    @click.option("--engine", type=click.Choice(["fdp", "sfdp", "neato", "dot"]), default="fdp",
                  show_default=True, help="Graphviz layout engine.")
    @filter_options
    @click.pass_context
    @handle_errors
    def viz(ctx: click.Context, output: Path, fmt: str | None, engine: str,
            **filters: Any) -> None:
        """Draw the organisation relationship graph as a picture (laid out by Graphviz).

        Without filters it draws the page's first view: organisations, no instruments.
        """
        if not any(filters.get(n) for n in ("kind", "instruments")):
            filters["default_view"] = True
        draw_graph(config_of(ctx), output, fmt, engine, filters)

    if "export" not in main.commands:
        main.add_command(export)
    main.add_command(viz)
