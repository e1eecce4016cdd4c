"""Settings: one registry that feeds the CLI, the environment, the config file and the docs.

Precedence, lowest first: the defaults below, a TOML config file (``--config`` or
``TIPGRAPH_CONFIG``), environment variables ``TIPGRAPH_<NAME>``, then explicit overrides
(CLI options or a test's mapping).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tipgraph.errors import ConfigError
from tipgraph.model.namespaces import CANONICAL_TIP, TIP, is_namespace
from tipgraph.paths import bundle_root


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _namespace(text: str) -> str:
    if not is_namespace(text):
        raise ValueError(f"{text!r} is not a namespace: an http(s) IRI ending in '#' or '/'")
    return text


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


SETTINGS: tuple[Setting, ...] = (
    Setting("root", None, "Folder holding ontology/, data/, shapes/ and queries/ "
            "(default: the bundled knowledge graph).", _optional_path),
    Setting("base_iri", "https://w3id.org/tipgraph/id/",
            "Base IRI of the data; IRIs in the files are rewritten to it when it differs."),
    Setting("ontology_iri", CANONICAL_TIP, "Namespace of tipgraph's own terms (`tip:`); the "
            "ontology, shapes, data and example queries are rewritten to it when it differs. "
            "Environment only: it is read when tipgraph starts.", _namespace),
    Setting("cache_dir", None, "Where inferences and the on-disk stores of the data are "
            "cached (default: ~/.cache/tipgraph; empty to disable).", _optional_path),
    Setting("use_cache", True, "Reuse cached inferences and stores keyed by the inputs' "
            "content.", _bool),
    Setting("store", "oxigraph", "Query engine: oxigraph (default), memory (rdflib) or sparql "
            "(a remote SPARQL 1.1 store)."),
    Setting("fast_build", True, "Build with pyoxigraph bulk loads and engine-run rules (seconds "
            "at a million triples); off: parse and reason with rdflib only (slower, same "
            "graph).", _bool),
    Setting("endpoint", "", "URL of the remote SPARQL endpoint when store = sparql."),
    Setting("remote_graph_store", "", "Graph Store HTTP Protocol URL of the remote store (the "
            "data is pushed there first; empty: SPARQL Update only)."),
    Setting("remote_update", "", "SPARQL Update URL of the remote store (default: endpoint)."),
    Setting("remote_user", "", "User name for pushing to the remote store (none: anonymous)."),
    Setting("remote_password", "", "Password for pushing to the remote store (use the "
            "environment variable, not a file)."),
    Setting("remote_auth", "digest", "HTTP authentication of the push: digest or basic."),
    Setting("remote_push", True, "Push the data when the remote store does not hold this data "
            "version (off: refuse to start instead).", _bool),
    Setting("host", "127.0.0.1", "Address `tipgraph serve` binds to."),
    Setting("port", 5000, "Port `tipgraph serve` listens on (0 picks a free one).", int),
    Setting("server_processes", 1, "Server processes answering HTTP on the one port, each a "
            "whole server with its own graph in memory, query workers, caches and rate-limit "
            "counts: set it to the number of cores for a busy endpoint (one process answers "
            "HTTP on one core at a time).", int),
    Setting("threads", 16, "Request-handling threads of the WSGI server: requests handled at "
            "once (more wait in the connection queue). A query holds its thread while it runs "
            "or waits for a worker: keep it above query_workers_max.", int),
    Setting("query_workers", 2, "Worker processes kept running for SPARQL queries (0: answer "
            "in the server process, without time limit enforcement).", int),
    Setting("query_workers_max", 12, "Most worker processes at once: while queries keep the "
            "workers busy the pool forks more, keeping one spare so a cheap query never waits "
            "behind long ones; extras stop after a minute idle. Past it, queries wait for a "
            "free worker (503 if none frees up within query_timeout).", int),
    Setting("memory_store_max_triples", 50_000, "Largest dataset (distinct triples) whose "
            "query workers answer from an in-memory copy of the store, about half the CPU per "
            "query of the on-disk store. The workers are forked from one process holding the "
            "copy and share its pages until their queries touch them (pyoxigraph writes to its "
            "in-memory store as it reads), so budget up to about 600 bytes per triple for each "
            "worker (query_workers_max). 0: workers always read the on-disk store.", int),
    Setting("query_timeout", 30.0, "Seconds a query may run before its worker is killed (504).",
            float),
    Setting("result_cache_bytes", 64_000_000, "Memory for cached query answers, keyed on the "
            "data version, the query, its dataset, the format; the same again for whole "
            "responses to repeated requests, sharing their bodies (0: no caches).", int),
    Setting("max_result_rows", 100_000, "Most rows (or triples) a query may return (400 past "
            "it: add a LIMIT).", int),
    Setting("max_request_bytes", 1_000_000, "Largest request body, query string or header "
            "accepted (413 past it).", int),
    Setting("warm_dumps_max_triples", 100_000, "Largest graph whose dumps and dataset "
            "description `tipgraph serve` computes at start; past it, on the first request for "
            "them, and the description gives no size or checksum for the JSON-LD and RDF/XML "
            "dumps (written through rdflib: hours at a million triples; the other formats are "
            "written from the engine, docs/operations.md \"Large graphs\").", int),
    Setting("rate_limit", 0, "Requests per minute per client address, answered 429 with "
            "Retry-After past it (0: no limit; /health is never limited).", int),
    Setting("watch", False, "`tipgraph serve` polls data/, ontology/ and shapes/ and reloads "
            "when a file changes (SIGHUP reloads in any case).", _bool),
    Setting("watch_interval", 2.0, "Seconds between two polls of the files when watching.",
            float),
    Setting("log_level", "INFO", "Logging level of the server."),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def settings_doc() -> str:
    """A Markdown table of the settings, for the README and `tipgraph settings`."""
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "(none)" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{s.name}` | `TIPGRAPH_{s.name.upper()}` | {default} | {s.help} |")
    return "\n".join(rows)


README_BEGIN = "<!-- settings:begin -->"
README_END = "<!-- settings:end -->"


def readme_with_settings(readme: str) -> str:
    """The README's text with the settings table (settings_doc) between its two markers."""
    head, found, rest = readme.partition(README_BEGIN)
    _, found_end, tail = rest.partition(README_END)
    if not found or not found_end:
        raise ConfigError(f"the README lacks the {README_BEGIN} ... {README_END} markers")
    return f"{head}{README_BEGIN}\n{settings_doc()}\n{README_END}{tail}"


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return setting.parse(value)
    except ValueError as error:
        raise ConfigError(f"{origin}: setting {setting.name!r}: {error}") from None


def load_config(
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve every setting from defaults, file, environment and overrides."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    config_file = config_file or environ.get("TIPGRAPH_CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {path}: {error}") from None
        data = data.get("tipgraph", data)
        for name, value in data.items():
            if name not in _BY_NAME:
                raise ConfigError(f"config file {path}: unknown setting {name!r}; "
                                  f"known: {', '.join(sorted(_BY_NAME))}")
            values[name] = _coerce(_BY_NAME[name], value, str(path))
    for setting in SETTINGS:
        key = f"TIPGRAPH_{setting.name.upper()}"
        if key in environ:
            values[setting.name] = _coerce(setting, environ[key], key)
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(_BY_NAME))}")
        if value is not None:
            values[name] = _coerce(_BY_NAME[name], value, "override")
    if values["ontology_iri"] != str(TIP):  # every module bound TIP when it was imported
        raise ConfigError(f"ontology_iri {values['ontology_iri']!r} can only be set in the "
                          f"environment, before tipgraph starts: TIPGRAPH_ONTOLOGY_IRI="
                          f"{values['ontology_iri']} tipgraph ...")
    if values["root"] is None:
        values["root"] = bundle_root()
    values["root"] = Path(values["root"])
    if values["cache_dir"] is None and values["use_cache"]:
        cache_home = Path(environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        values["cache_dir"] = cache_home / "tipgraph"
    return values
