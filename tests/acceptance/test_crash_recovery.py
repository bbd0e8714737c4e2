"""A worker killed with SIGKILL mid-execution loses nothing: another worker retries it after lease expiry."""

from __future__ import annotations

import signal

from conveyor.client import Client
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def test_kill_9_of_a_worker_mid_execution_is_retried_by_another_worker(system: System) -> None:
    _, url = system.server()
    first = system.worker("--concurrency", "1")
    with Client(url) as client:
        ex = client.executions.start("acc.steps", parameters={"steps": 60, "delay": 0.05})
        wait_until(
            lambda: (ex.refresh().finished_operations or 0) >= 5,
            timeout=30,
            what="the first attempt to progress",
        )
        assert ex.status == "running" and ex.attempt == 1
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        second = system.worker("--concurrency", "1")
        done = ex.wait(timeout=60, poll_interval=0.1)

        assert done.status == "succeeded"
        assert done.attempt == 2
        started = system.lines("started")
        finished = system.lines("finished")
        assert [int(pid) for _, _, pid, _ in started] == [first.pid, second.pid]
        assert len(finished) == 1 and int(finished[0][2]) == second.pid  # ran to the end exactly once
        statuses = [e["data"]["to"] for e in client.executions.events(ex.id) if e["kind"] == "status"]
        assert statuses == ["pending", "running", "queued", "pending", "running", "succeeded"]
        # The retry resumed from the last checkpoint the dead worker saved, not from step 0.
        assert done.result is not None and done.result["steps"] == 60
