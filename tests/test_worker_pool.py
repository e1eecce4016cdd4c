"""The query worker pool grows with demand, keeps a spare, caps at its maximum, retires extras.

Real worker processes on the bundled data; the pool is driven directly (no HTTP)."""

from __future__ import annotations

import pickle
import threading
import time

import pytest

from tipgraph.errors import QueryError
from tipgraph.query import workers
from tipgraph.query.policy import DatasetSpec
from tipgraph.query.workers import Job, Outcome, WorkerPool
from tipgraph.store import StoreSpec

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = Job("ASK { ?s a owl:Class }", "json")


@pytest.fixture(params=["on-disk", "shared-in-memory"])
def spec(kg, tmp_path, request) -> StoreSpec:
    """Workers that each read the on-disk store, or forked from one holding it in memory (the
    bundled data is small: copied before the first worker starts)."""
    most = 0 if request.param == "on-disk" else 10_000_000
    return StoreSpec.dump(kg, "oxigraph", tmp_path / "run", tmp_path / "cache", most)


def wait_for(condition, pool: WorkerPool, deadline: float = 60.0) -> None:
    give_up = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < give_up, f"the pool never got there: {pool.status()}"
        time.sleep(0.02)


def run_in_background(pool: WorkerPool, job: Job, outcomes: list) -> threading.Thread:
    def run() -> None:
        try:
            outcomes.append(pool.run(job))
        except QueryError as error:
            outcomes.append(error)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_pool_grows_past_its_size_so_an_ask_never_waits_behind_runaways(spec):
    pool = WorkerPool(spec, size=1, timeout=30.0, max_size=4).start()
    try:
        wait_for(lambda: pool.status()["idle"] == 1, pool)
        outcomes: list = []
        runaways = [run_in_background(pool, Job(RUNAWAY, "json"), outcomes) for _ in range(3)]
        wait_for(lambda: pool.status()["ready"] == 4 and pool.status()["idle"] == 1, pool)
        answer = pool.run(ASK)  # the spare takes it
        assert b"true" in answer.body
        assert all(thread.is_alive() for thread in runaways) and outcomes == []
        assert pool.status()["ready"] == 4  # the maximum: no fifth worker
    finally:
        pool.close()


def test_at_the_maximum_a_query_waits_and_gets_503_if_no_worker_frees_up(spec):
    pool = WorkerPool(spec, size=1, timeout=30.0, max_size=2).start()
    try:
        outcomes: list = []
        for _ in range(2):
            run_in_background(pool, Job(RUNAWAY, "json"), outcomes)
        wait_for(lambda: pool.status()["ready"] == 2 and pool.status()["idle"] == 0, pool)
        with pytest.raises(QueryError) as refused:
            pool.run(ASK, timeout=0.5)
        assert refused.value.status == 503 and "2 query workers stayed busy" in str(refused.value)
    finally:
        pool.close()


def test_extra_workers_retire_after_idling_and_the_pool_keeps_its_size(spec):
    pool = WorkerPool(spec, size=1, timeout=5.0, max_size=3, retire_after=0.3).start()
    try:
        outcomes: list = []
        threads = [run_in_background(pool, Job(RUNAWAY, "json"), outcomes) for _ in range(2)]
        # two workers busy, the spare forked for a third query idles: it is an extra, it retires
        wait_for(lambda: pool.status()["retired"] == 1, pool)
        assert all(thread.is_alive() for thread in threads)
        for thread in threads:
            thread.join(60)
        assert [error.status for error in outcomes] == [504, 504]  # killed at the time limit
        wait_for(lambda: pool.status()["ready"] == 1 and pool.status()["idle"] == 1, pool)
        assert b"true" in pool.run(ASK).body
        assert pool.status()["retired"] == 1  # the pool's own size is never retired
    finally:
        pool.close()


@pytest.mark.parametrize("job", [
    ASK, Job("SELECT * { ?s ?p ?o }", "csv", DatasetSpec(("urn:g:a",), ("urn:g:b", "urn:g:c")),
             "http://localhost/sparql", 10), Job("ASK {}", "xml", DatasetSpec(), None, None)])
def test_jobs_and_outcomes_cross_the_pipe_as_plain_tuples(job):
    """What a worker gets is the job sent; what the server gets is the outcome (not cached)."""
    message = pickle.loads(pickle.dumps(workers._job_message(job)))
    assert type(message) is tuple and workers._job_of(message) == job
    outcome = Outcome(b"{}", "application/sparql-results+json", 3, 1.25)
    sent = pickle.loads(pickle.dumps(("ok", workers._outcome_message(outcome))))
    assert Outcome(*sent[1]) == outcome and not Outcome(*sent[1]).cached
