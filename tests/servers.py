"""Real SPARQL servers for tests: Oxigraph server and Virtuoso, each on free ports in a temp dir.

Reusable outside pytest (a remote-store backend's tests, benchmarks)::

    with OxigraphServer(tmp_dir) as server:
        server.query_url, server.update_url, server.graph_store_url

    with VirtuosoServer(tmp_dir) as server:
        server.query_url             # /sparql (anonymous, read)
        server.auth_query_url        # /sparql-auth (Digest, user dba: updates)
        server.graph_store_url       # /sparql-graph-crud-auth (Digest, user dba)
        server.user, server.password

Each server binds 127.0.0.1 only, waits on a readiness check (an HTTP request that succeeds,
polled until a deadline; never a fixed sleep), and is stopped (terminate, then kill) on exit.
The pytest fixtures ``oxigraph_server`` and ``virtuoso_server`` in tests/conftest.py wrap them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import requests

READY_TIMEOUT = 120.0  # seconds: Virtuoso creates its database on first start


def free_port() -> int:
    """A port nothing listens on now (the OS picks it: bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerError(RuntimeError):
    """The server could not be started; carries the tail of its log."""


class _Server:
    name = "server"

    def __init__(self, workdir: Path | str) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = None
        self.log_path = self.workdir / f"{self.name}.log"

    # -- to override ---------------------------------------------------------------------
    def command(self) -> list[str]:
        raise NotImplementedError

    def ready_url(self) -> str:
        raise NotImplementedError

    def is_ready(self) -> bool:
        try:
            response = requests.get(self.ready_url(), timeout=2)
        except requests.RequestException:
            return False
        return response.status_code < 500

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        log = self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument list)
            self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.is_ready():
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.process.returncode}:\n"
                                  f"{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"{self.name} not ready after {READY_TIMEOUT}s:\n"
                                  f"{self.log_tail()}")
            time.sleep(0.1)  # polling interval of the readiness check

    def stop(self) -> None:
        try:
            self._terminate()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def _terminate(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def oxigraph_binary() -> str | None:
    """The `oxigraph` server CLI: next to this Python (a venv) or on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


class OxigraphServer(_Server):
    """`oxigraph serve` (pip package `oxigraph`): /query, /update, /store (Graph Store)."""

    name = "oxigraph"

    def __init__(self, workdir: Path | str) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.query_url = self.base_url + "/query"
        self.update_url = self.base_url + "/update"
        self.graph_store_url = self.base_url + "/store"

    def command(self) -> list[str]:
        binary = oxigraph_binary()
        if binary is None:
            raise ServerError("the `oxigraph` command is missing: pip install oxigraph")
        return [binary, "serve", "--location", str(self.workdir / "db"),
                "--bind", f"127.0.0.1:{self.port}"]

    def ready_url(self) -> str:
        return self.query_url + "?query=ASK%7B%7D"


VIRTUOSO_INI = """\
[Database]
DatabaseFile    = {dir}/virtuoso.db
ErrorLogFile    = {dir}/virtuoso.log
LockFile        = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel   = 7
FileExtend      = 200
MaxCheckpointRemap = 2000
Striping        = 0
TempStorage     = TempDatabase

[TempDatabase]
DatabaseFile    = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping        = 0

[Parameters]
ServerPort           = 127.0.0.1:{sql_port}
LiteMode             = 0
DisableUnixSocket    = 1
DisableTcpSocket     = 0
MaxClientConnections = 10
CheckpointInterval   = 60
CaseMode             = 2
MaxStaticCursorRows  = 5000
AllowOSCalls         = 0
DirsAllowed          = ., {dir}
NumberOfBuffers      = 10000
MaxDirtyBuffers      = 6000
ThreadsPerQuery      = 2
AsyncQueueMaxThreads = 4
MaxQueryMem          = 256M

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {dir}/vsp
MaxClientConnections = 10
ServerThreads        = 10
EnabledDavVSP        = 0
HTTPProxyEnabled     = 0
Charset              = UTF-8
MaintenancePage      = atomic.html
EnabledGzipContent   = 0

[SPARQL]
ResultSetMaxRows           = {max_rows}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 60
DefaultGraph               = http://localhost:{http_port}/dataspace

[Plugins]
"""


def virtuoso_binary() -> str | None:
    return shutil.which("virtuoso-t")


class VirtuosoServer(_Server):
    """Debian's virtuoso-opensource-7 with a throwaway ini and database in ``workdir``.

    The Graph Store is /sparql-graph-crud-auth and updates go to /sparql-auth, both with
    HTTP Digest authentication as ``dba`` (the fresh database's default password ``dba``).
    ``max_rows`` is Virtuoso's ResultSetMaxRows: results beyond it are truncated silently.
    """

    name = "virtuoso"
    user = "dba"
    password = "dba"  # noqa: S105 (a throwaway test database bound to 127.0.0.1)

    def __init__(self, workdir: Path | str, max_rows: int = 10_000) -> None:
        super().__init__(workdir)
        self.sql_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.sql_port:
            self.http_port = free_port()
        self.max_rows = max_rows
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.query_url = self.base_url + "/sparql"
        self.auth_query_url = self.base_url + "/sparql-auth"
        self.update_url = self.auth_query_url
        self.graph_store_url = self.base_url + "/sparql-graph-crud-auth"

    def command(self) -> list[str]:
        binary = virtuoso_binary()
        if binary is None:
            raise ServerError("virtuoso-t is missing: apt-get install virtuoso-opensource-7")
        (self.workdir / "vsp").mkdir(exist_ok=True)
        ini = self.workdir / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=self.workdir, sql_port=self.sql_port,
                                           http_port=self.http_port, max_rows=self.max_rows))
        return [binary, "+foreground", "+configfile", str(ini)]

    def ready_url(self) -> str:
        return self.query_url + "?query=ASK%7B%7D"

    def is_ready(self) -> bool:
        try:
            response = requests.get(self.ready_url(), timeout=2,
                                    headers={"Accept": "application/sparql-results+json"})
        except requests.RequestException:
            return False
        return response.status_code == 200

    def log_tail(self, lines: int = 30) -> str:
        own = super().log_tail(lines)
        try:
            db_log = (self.workdir / "virtuoso.log").read_text(errors="replace").splitlines()
        except OSError:
            db_log = []
        return own + "\n" + "\n".join(db_log[-lines:])
