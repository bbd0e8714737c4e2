"""The worker end to end on a real SQLite store: outcomes, progress, requests, timeouts, leases."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import Execution, Status
from conveyor.core.ports import Store
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.worker.runner import Worker, WorkerSettings
from tests.helpers import wait_until
from tests.worker.workflows import app


def start(service: ExecutionService, workflow: str, **params: object) -> Execution:
    return service.start(StartRequest(workflow, dict(params)))


def status_of(service: ExecutionService, ex: Execution) -> Status:
    return service.get(ex.id).status


def reach(service: ExecutionService, ex: Execution, *statuses: Status, timeout: float = 10) -> Execution:
    return wait_until(
        lambda: (got := service.get(ex.id)).status in statuses and got,
        timeout=timeout,
        what=f"{ex.workflow} to reach {', '.join(statuses)}",
    )


def test_success_records_result_progress_and_messages(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "count", n=5)
    done = reach(service, ex, Status.SUCCEEDED)
    assert done.result == {"counted": 5, "dry_run": False}
    assert (done.finished_operations, done.total_operations) == (5, 5)
    assert done.attempt == 1 and done.ended_at is not None and done.worker_id is None
    kinds = [(e.kind, e.message) for e in service.events(ex.id)]
    assert ("message", "counted to 5") in kinds
    assert [m for k, m in kinds if k == "status"] == [
        "created as pending", "pending -> running", "running -> succeeded",
    ]  # fmt: skip


def test_dry_run_is_visible_to_the_handler(service: ExecutionService, worker: Worker) -> None:
    ex = service.start(StartRequest("count", {"n": 1}, dry_run=True))
    done = reach(service, ex, Status.SUCCEEDED)
    assert done.dry_run is True and done.result["dry_run"] is True


def test_async_handler(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "async_sleep", seconds=0.01)
    assert reach(service, ex, Status.SUCCEEDED).result == 0.01


def test_failure_records_the_error(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "boom")
    failed = reach(service, ex, Status.FAILED)
    assert failed.error is not None
    assert (failed.error.type, failed.error.message) == ("ValueError", "it went boom")
    assert "Traceback" in (failed.error.traceback or "")


def test_retries_with_backoff_until_success(
    service: ExecutionService, worker: Worker, loop: BackgroundLoop
) -> None:
    ex = start(service, "flaky", succeed_on=3)
    done = reach(service, ex, Status.SUCCEEDED)
    assert done.result == 3 and done.attempt == 3
    statuses = [e.data["to"] for e in service.events(ex.id) if e.kind == "status" and e.data]
    assert statuses.count("scheduled") == 2  # two failures went back to wait for their backoff


def test_retries_stop_when_attempts_are_used_up(
    service: ExecutionService, worker: Worker, loop: BackgroundLoop
) -> None:
    ex = start(service, "flaky", succeed_on=99)
    failed = reach(service, ex, Status.FAILED)
    assert failed.attempt == 3 and failed.error is not None and "attempt 3 fails" in failed.error.message


def test_cancel_stops_at_the_next_checkpoint(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "count", n=10_000, delay=0.01)
    wait_until(lambda: (service.get(ex.id).finished_operations or 0) > 0, what="progress")
    assert service.cancel(ex.id).status is Status.CANCELLING
    done = reach(service, ex, Status.CANCELLED)
    assert (done.finished_operations or 0) < 10_000


def test_force_cancel_marks_cancelled_at_once_and_discards_later_reports(
    service: ExecutionService, worker: Worker
) -> None:
    ex = start(service, "until_cancelled")
    reach(service, ex, Status.RUNNING)
    assert service.cancel(ex.id, "force").status is Status.CANCELLED
    wait_until(lambda: not worker.held(), what="the worker to let go of the execution")
    after = service.get(ex.id)
    assert after.status is Status.CANCELLED and after.result is None
    assert "late report after cancel" not in [e.message for e in service.events(ex.id)]


def test_kill_terminates_an_endless_process_handler(
    service: ExecutionService, worker: Worker, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    ex = start(service, "endless", pid_file=str(pid_file))
    pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), what="the child to start"))
    assert service.cancel(ex.id, "kill").status is Status.KILL_CANCELLING
    reach(service, ex, Status.CANCELLED)

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, what=f"process {pid} to be gone")


def test_process_isolation_relays_progress_messages_and_result(
    service: ExecutionService, worker: Worker
) -> None:
    ex = start(service, "process_count", n=4)
    done = reach(service, ex, Status.SUCCEEDED, timeout=20)
    assert done.result["pid"] != os.getpid()
    assert (done.finished_operations, done.total_operations) == (4, 4)
    assert "from the child" in [e.message for e in service.events(ex.id)]


def test_pause_saves_state_and_resume_continues(
    service: ExecutionService, worker: Worker, loop: BackgroundLoop
) -> None:
    ex = start(service, "steps", steps=100, delay=0.02)
    wait_until(lambda: (service.get(ex.id).finished_operations or 0) >= 3, what="a few steps")
    assert service.pause(ex.id).status is Status.PAUSING
    paused = reach(service, ex, Status.PAUSED)
    done_before = paused.state["done"]
    assert 3 <= len(done_before) < 100
    assert service.resume(ex.id).status in (Status.QUEUED, Status.PENDING, Status.RUNNING)
    done = reach(service, ex, Status.SUCCEEDED)
    assert done.result["done"] == list(range(100))  # every step exactly once, in order


def test_inline_timeout_fails_the_execution(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "slow_inline")
    failed = reach(service, ex, Status.FAILED)
    assert failed.error is not None and failed.error.type == "Timeout"


def test_process_timeout_kills_the_handler(service: ExecutionService, worker: Worker) -> None:
    ex = start(service, "slow_process")
    failed = reach(service, ex, Status.FAILED, timeout=20)
    assert failed.error is not None and failed.error.type == "Timeout"


def test_expired_lease_requeues_for_another_worker(
    service: ExecutionService, store: Store, loop: BackgroundLoop
) -> None:
    """A worker that claimed and then died (no heartbeats): the execution runs again elsewhere."""
    ex = service.start(StartRequest("steps", {"steps": 2}))  # max_attempts=2
    now = service.clock.now()
    (claimed,) = store.execution_claim(
        "dead-worker", ["default"], 1, now=now, lease_until=now + timedelta(seconds=0.2)
    )
    assert claimed.id == ex.id
    survivor = Worker.on_store(store, app, WorkerSettings(concurrency=2, lease_seconds=3))
    survivor.start()
    try:
        done = reach(service, ex, Status.SUCCEEDED)
        assert done.attempt == 2
    finally:
        survivor.stop(grace=1)


def test_expired_lease_without_attempts_left_fails_with_worker_lost(
    service: ExecutionService, store: Store, loop: BackgroundLoop
) -> None:
    ex = service.start(StartRequest("boom", {}))
    now = service.clock.now()
    store.execution_claim("dead-worker", ["default"], 1, now=now, lease_until=now + timedelta(seconds=0.1))
    failed = reach(service, ex, Status.FAILED)
    assert failed.error is not None and failed.error.type == "WorkerLost"


def test_worker_does_not_take_more_than_its_concurrency(service: ExecutionService, store: Store) -> None:
    w = Worker.on_store(store, app, WorkerSettings(concurrency=2, lease_seconds=3))
    w.start()
    try:
        exs = [start(service, "until_cancelled") for _ in range(4)]
        wait_until(lambda: len(w.held()) == 2, what="two running")
        running = [e for e in exs if status_of(service, e) is Status.RUNNING]
        assert len(running) == 2
        for e in exs:
            service.cancel(e.id)
        for e in exs:
            reach(service, e, Status.CANCELLED)
    finally:
        w.stop(grace=1)


@pytest.mark.parametrize("n", [200])
def test_many_executions_all_succeed_once(service: ExecutionService, worker: Worker, n: int) -> None:
    started = service.start_many([StartRequest("noop", {}) for _ in range(n)])
    for ex in started:
        done = reach(service, ex, Status.SUCCEEDED)
        assert done.attempt == 1
