"""Query workers sharing one in-memory store, forked from the process that holds it
(tipgraph.query.holder): same answers as the on-disk store, and the pool keeps answering when
the holder is loading, dies, or cannot be started again.

Real processes on the bundled data; the pool is driven directly (no HTTP)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_worker_pool import ASK, RUNAWAY, wait_for
from tipgraph.errors import QueryError
from tipgraph.model.queries import example_queries
from tipgraph.query import holder
from tipgraph.query.workers import Job, WorkerPool
from tipgraph.store import StoreSpec

SHARED = 10_000_000  # memory_store_max_triples: the bundled data is far below it


def ppid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def rows(body: bytes, concat: bool = False) -> list:
    """A JSON results body as a sorted list of rows (the two stores may order them apart), with
    the words of each string sorted if ``concat`` (SPARQL leaves GROUP_CONCAT's order open)."""
    parsed = json.loads(body)
    if "boolean" in parsed:
        return [parsed["boolean"]]
    found = []
    for row in parsed["results"]["bindings"]:
        if concat:
            for cell in row.values():
                cell["value"] = sorted(cell["value"].replace(";", " ").split())
        found.append(json.dumps(row, sort_keys=True))
    return sorted(found)


@contextlib.contextmanager
def ready_pool(spec: StoreSpec, **options) -> Iterator[WorkerPool]:
    """A started pool whose workers are all ready; closed afterwards."""
    pool = WorkerPool(spec, **options).start()
    try:
        assert pool.wait_ready(60) is None
        yield pool
    finally:
        pool.close()


@pytest.fixture()
def shared_spec(kg, tmp_path) -> StoreSpec:
    return StoreSpec.dump(kg, "oxigraph", tmp_path / "run", tmp_path / "cache", SHARED)


def test_the_setting_decides_which_stores_are_shared(kg, tmp_path):
    cache = tmp_path / "cache"
    assert not StoreSpec.dump(kg, "oxigraph", tmp_path / "a", cache, 0).in_memory
    size = StoreSpec.dump(kg, "oxigraph", tmp_path / "b", cache, 0).size
    assert not StoreSpec.dump(kg, "oxigraph", tmp_path / "c", cache, size - 1).in_memory
    assert StoreSpec.dump(kg, "oxigraph", tmp_path / "d", cache, size).in_memory
    (tmp_path / "e").mkdir()
    assert not StoreSpec.dump(kg, "memory", tmp_path / "e", cache, SHARED).in_memory


def test_forked_workers_share_the_store_and_answer_as_the_on_disk_store(kg, tmp_path,
                                                                         repo_root):
    cache = tmp_path / "cache"
    on_disk_spec = StoreSpec.dump(kg, "oxigraph", tmp_path / "a", cache, 0)
    shared_spec = StoreSpec.dump(kg, "oxigraph", tmp_path / "b", cache, SHARED)
    with ready_pool(on_disk_spec, size=1, max_size=1) as on_disk, \
            ready_pool(shared_spec, size=2, max_size=2) as shared:
        status = shared.status()
        holder_pid = status["shared_store"]["pid"]
        assert status["shared_store"]["state"] == "ready" and status["sharing_store"] == 2
        assert all(ppid_of(pid) == holder_pid for pid in status["pids"])  # forked from it
        assert on_disk.status()["shared_store"] is None and on_disk.status()["sharing_store"] == 0
        queries = example_queries(repo_root)
        assert len(queries) > 100
        for query in queries:
            job, concat = Job(query.sparql, "json"), "GROUP_CONCAT" in query.sparql.upper()
            assert rows(shared.run(job).body, concat) == rows(on_disk.run(job).body, concat), (
                query.name)


def test_a_larger_store_loads_in_the_background_while_workers_read_it_on_disk(shared_spec):
    pool = WorkerPool(shared_spec, size=2, max_size=3, load_before_start=0).start()
    try:
        first = pool.run(ASK)  # answered at once, by whichever worker is ready
        assert b"true" in first.body
        wait_for(lambda: pool.status()["sharing_store"] == 2, pool)
        status = pool.status()
        assert status["ready"] == 2 and status["shared_store"]["state"] == "ready"
        assert status["failure"] is None and status["replaced"] == 0
        for _ in range(10):
            assert b"true" in pool.run(ASK).body
        assert pool.status()["sharing_store"] == pool.status()["ready"]
    finally:
        pool.close()


def test_a_worker_stopped_at_its_time_limit_is_reaped_and_replaced_by_a_forked_one(shared_spec):
    with ready_pool(shared_spec, size=1, max_size=1) as pool:
        (runaway,) = pool.status()["pids"]
        with pytest.raises(QueryError) as stopped:
            pool.run(Job(RUNAWAY, "json"), timeout=1.0)
        assert stopped.value.status == 504
        assert b"true" in pool.run(ASK).body
        status = pool.status()
        assert status["replaced"] == 1 and status["sharing_store"] == 1
        assert runaway not in status["pids"]
        assert not Path(f"/proc/{runaway}").exists()  # collected by the holder: no zombie


def test_when_the_holder_dies_its_workers_go_and_queries_go_on(shared_spec):
    with ready_pool(shared_spec, size=2, max_size=3) as pool:
        first = pool.status()
        os.kill(first["shared_store"]["pid"], signal.SIGKILL)
        for pid in first["pids"]:  # they die with it (PR_SET_PDEATHSIG)
            wait_for(lambda pid=pid: not running(pid), pool)
        for _ in range(5):
            assert b"true" in pool.run(ASK).body  # replaced by workers reading the disk
        wait_for(lambda: pool.status()["sharing_store"] == 2, pool)  # then loaded again
        again = pool.status()["shared_store"]
        assert again["starts"] == 2 and again["pid"] != first["shared_store"]["pid"]
        assert set(pool.status()["pids"]).isdisjoint(first["pids"])


def test_a_holder_that_keeps_dying_is_given_up_and_workers_read_the_disk(shared_spec):
    pool = WorkerPool(shared_spec, size=1, max_size=2).start()
    try:
        for start in range(1, holder.MAX_STARTS + 1):
            wait_for(lambda start=start: pool.status()["shared_store"]["starts"] == start
                     and pool.status()["sharing_store"] == 1, pool)
            status = pool.status()
            os.kill(status["shared_store"]["pid"], signal.SIGKILL)
            for pid in status["pids"]:
                wait_for(lambda pid=pid: not running(pid), pool)
            assert b"true" in pool.run(ASK).body  # the dead worker is found and replaced
        wait_for(lambda: pool.status()["shared_store"]["state"] == "failed", pool)
        for _ in range(5):
            assert b"true" in pool.run(ASK).body
        status = pool.status()
        assert status["sharing_store"] == 0 and status["ready"] >= 1
        assert status["shared_store"]["starts"] == holder.MAX_STARTS
        assert "stopped" in status["shared_store"]["failure"]
    finally:
        pool.close()


def test_closing_the_pool_stops_the_holder_and_its_workers(shared_spec):
    pool = WorkerPool(shared_spec, size=2, max_size=2).start()
    assert pool.wait_ready(60) is None
    status = pool.status()
    processes = [status["shared_store"]["pid"], *status["pids"]]
    pool.close()
    for pid in processes:
        wait_for(lambda pid=pid: not running(pid), pool, deadline=10)
