"""The built dataset on disk: one RocksDB store per data version, in ``cache_dir/stores/``.

A store holds the named graphs as built and, in its default graph, their union (a set: what the
query workers' SPARQL sees by default). It is written in a ``.part-`` folder beside its final
place, marked complete (``tipgraph-size``: its number of quads) and renamed: a folder without the
mark is never opened. Whoever opens one (the server, each query worker) holds a shared lock on
its mark for as long as it is open; old versions are removed only when nobody holds that lock.
The writer of a ``.part-`` folder holds a lock beside it: a folder whose writer was killed is
removed by the next prune.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

log = logging.getLogger(__name__)

MARK = "tipgraph-size"
PREFIX = "oxigraph-"


def store_path(home: Path, version: str) -> Path:
    return Path(home) / f"{PREFIX}{version[:32]}"


def size_of(directory: Path) -> int | None:
    """The quads of a complete store; None when the folder is not one."""
    try:
        return int((Path(directory) / MARK).read_text())
    except (OSError, ValueError):
        return None


class Lock:
    """A shared lock on a store's mark, released when this object goes (or on ``release``)."""

    def __init__(self, directory: Path) -> None:
        fd = os.open(Path(directory) / MARK, os.O_RDONLY)
        self.release = weakref.finalize(self, os.close, fd)
        fcntl.flock(fd, fcntl.LOCK_SH)


def open_read_only(directory: Path) -> tuple[ox.Store, Lock] | None:
    """Open a complete store read-only, and a shared lock that keeps it from being pruned (keep
    the lock as long as the store); None when it is missing, incomplete or unreadable."""
    try:
        lock = Lock(directory)
    except OSError:
        return None
    try:
        if size_of(directory) is None:  # removed while we waited for the lock
            raise OSError("store removed")
        return ox.Store.read_only(str(directory)), lock
    except (OSError, RuntimeError) as error:  # RocksDB reports damage as RuntimeError
        log.warning("not opening the store %s: %s", directory, error)
        lock.release()
        return None


def write(directory: Path, dump: Callable[[Path], object]) -> None:
    """Write a store at ``directory``: ``dump(path)`` writes the named graphs as N-Quads, and
    their union in the default graph (``KnowledgeGraph.write_nquads(path, union=True)``), which
    the engine bulk-loads. If another process wrote the store meanwhile, theirs is kept."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=directory.name + ".part-", dir=directory.parent))
    data = work.with_name(work.name + ".nq")
    writing = _writer_lock(work)  # held until we are done: prune knows we are alive
    try:
        dump(data)
        gc.collect()  # what the dump was made from (a build in memory) goes before the load
        store = ox.Store(str(work))
        store.bulk_load(path=str(data), format=ox.RdfFormat.N_QUADS)
        store.flush()
        size = int(next(iter(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))[0].value)
        del store
        (work / MARK).write_text(str(size))
        try:
            work.rename(directory)
        except OSError:  # another process wrote it first: theirs is as good
            if size_of(directory) is None:
                raise
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        with contextlib.suppress(OSError):
            data.unlink()
        with contextlib.suppress(OSError):
            _lock_path(work).unlink()
        writing.close()


def _lock_path(work: Path) -> Path:
    return work.with_name(work.name + ".lock")


def _writer_lock(work: Path) -> object:
    """An exclusive lock beside a ``.part-`` folder, held by its writer (the OS releases it if
    the writer dies: a killed start-up leaves a folder that the next prune removes)."""
    handle = _lock_path(work).open("wb")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def remove_abandoned(home: Path, grace: float = 600.0) -> list[Path]:
    """Remove the ``.part-`` folders (and their N-Quads dump) whose writer is gone: its lock is
    free, or it never took one and the folder is older than ``grace`` seconds (a writer takes
    its lock right after creating the folder)."""
    removed = []
    for work in Path(home).glob(f"{PREFIX}*.part-*"):
        if not work.is_dir():
            continue
        try:
            handle = _lock_path(work).open("rb")
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - work.stat().st_mtime > grace:
                    shutil.rmtree(work, ignore_errors=True)
                    removed.append(work)
            continue
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being written right now
            shutil.rmtree(work, ignore_errors=True)
            for leftover in (work.with_name(work.name + ".nq"), _lock_path(work)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
        removed.append(work)
    if removed:
        log.info("removed %d store folder(s) left half-written: %s", len(removed),
                 ", ".join(p.name for p in removed))
    return removed


def remove(directory: Path) -> bool:
    """Delete a store unless someone has it open; True if it is gone."""
    try:
        mark = (Path(directory) / MARK).open("rb")
    except OSError:  # not complete: nobody can have opened it
        mark = None
    try:
        if mark is not None:
            try:
                fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False  # in use: a server or worker still reads it
        trash = directory.with_name(f".trash-{directory.name}")
        shutil.rmtree(trash, ignore_errors=True)
        directory.rename(trash)  # from here on, nobody opens it
    except OSError as error:
        log.warning("could not remove the store %s: %s", directory, error)
        return False
    finally:
        if mark is not None:
            mark.close()
    shutil.rmtree(trash, ignore_errors=True)
    return True


def prune(current: Path) -> list[Path]:
    """Remove the stores of other data versions beside ``current`` that are older than it and
    that nobody has open; return what was removed."""
    current = Path(current)
    with contextlib.suppress(OSError):
        newest = (current / MARK).stat().st_mtime
        removed = remove_abandoned(current.parent)
        for other in current.parent.glob(f"{PREFIX}*"):
            if other == current or ".part-" in other.name or not other.is_dir():
                continue
            try:
                older = (other / MARK).stat().st_mtime <= newest
            except OSError:
                continue  # incomplete: maybe being written (a .part- folder is renamed whole)
            if older and remove(other):
                log.info("removed the store of an older data version: %s", other)
                removed.append(other)
        return removed
    return []
