"""A worker announces itself, says it is alive on every heartbeat, and says goodbye when it stops."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from conveyor.core.catalog import ChainedCatalog
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import Status
from conveyor.core.ports import Store
from conveyor.worker.runner import Worker, WorkerSettings
from tests.worker.workflows import app


def _wait_for(probe: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_database_worker_registers_beats_and_deregisters(store: Store) -> None:
    w = Worker.on_store(store, app, WorkerSettings(concurrency=3, queues=("default", "io"), lease_seconds=3))
    w.start()
    try:
        (me,) = store.worker_list()
        assert (me.id, me.transport, me.concurrency, me.queues) == (
            w.worker_id,
            "database",
            3,
            ("default", "io"),
        )
        assert set(me.workflows) == set(app.workflows) and me.stopped_at is None
        first_seen = me.last_seen_at
        _wait_for(lambda: store.worker_get(w.worker_id).last_seen_at > first_seen)  # type: ignore[union-attr]
        assert store.worker_get(w.worker_id).alive(datetime.now(UTC), within=3)  # type: ignore[union-attr]
    finally:
        w.stop(grace=1)
    gone = store.worker_get(w.worker_id)
    assert gone is not None and gone.stopped_at is not None
    assert not gone.alive(datetime.now(UTC), within=3)
    assert store.worker_forget_stopped(before=datetime.now(UTC)) == 1
    assert store.worker_list() == []


def test_a_stopping_worker_hands_back_what_it_claimed_ahead_and_never_started(store: Store) -> None:
    service = ExecutionService(store, ChainedCatalog(app))
    # One slot, and a horizon long enough that a few quick runs make it claim the rest ahead.
    w = Worker.on_store(store, app, WorkerSettings(concurrency=1, lease_seconds=30, prefetch=10,
                                                   prefetch_horizon=100))  # fmt: skip
    w.start()
    try:
        quick = [service.start(StartRequest("count", parameters={"n": 1})) for _ in range(3)]
        _wait_for(lambda: all(service.get(e.id).status is Status.SUCCEEDED for e in quick))
        slow = [service.start(StartRequest("count", parameters={"n": 20, "delay": 0.05})) for _ in range(4)]
        _wait_for(lambda: all(service.get(e.id).status is Status.RUNNING for e in slow))  # all held at once
    finally:
        w.stop(grace=5)
    ended = [service.get(e.id) for e in slow]
    assert sum(e.status is Status.SUCCEEDED for e in ended) == 1  # the one that had started ran to its end
    handed_back = [e for e in ended if e.status is not Status.SUCCEEDED]
    assert {e.status for e in handed_back} <= {Status.QUEUED, Status.PENDING}
    assert all((e.attempt, e.worker_id, e.started_at) == (0, None, None) for e in handed_back)
