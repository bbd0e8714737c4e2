"""Cancel, force-cancel, kill, pause and resume, each observed end to end through the API."""

from __future__ import annotations

import os

from conveyor.client import Client
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def running(client: Client, workflow: str, **params: object) -> str:
    ex = client.executions.start(workflow, parameters=params)
    wait_until(lambda: ex.refresh().status == "running", timeout=20, what=f"{workflow} to run")
    return ex.id


def test_cancel_stops_at_a_checkpoint(served: tuple[System, Client]) -> None:
    system, client = served
    ex_id = running(client, "acc.hold", seconds=60)
    assert client.executions.cancel(ex_id).status == "cancelling"
    done = client.executions.get(ex_id).wait(timeout=20, raise_on_failure=False)
    assert done.status == "cancelled"
    assert system.lines("finished") == []


def test_force_cancel_marks_cancelled_at_once(served: tuple[System, Client]) -> None:
    _, client = served
    ex_id = running(client, "acc.hold", seconds=60)
    answer = client.executions.cancel(ex_id, force=True)
    assert answer.status == "cancelled" and answer.ended_at is not None


def test_kill_stops_a_handler_stuck_in_an_endless_loop(served: tuple[System, Client]) -> None:
    system, client = served
    ex_id = running(client, "acc.endless")
    pid = int(wait_until(lambda: system.lines("started"), what="the handler to start")[0][2])
    assert client.executions.cancel(ex_id, kill=True).status == "kill_cancelling"
    done = client.executions.get(ex_id).wait(timeout=20, raise_on_failure=False)
    assert done.status == "cancelled"

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, what=f"the handler's process {pid} to be gone")


def test_pause_then_resume_continues_from_saved_state(served: tuple[System, Client]) -> None:
    system, client = served
    ex = client.executions.start("acc.steps", parameters={"steps": 80, "delay": 0.05})
    wait_until(lambda: (ex.refresh().finished_operations or 0) >= 3, timeout=20, what="progress")
    assert client.executions.pause(ex.id).status == "pausing"
    wait_until(lambda: ex.refresh().status == "paused", timeout=20, what="paused")
    paused_at = ex.finished_operations or 0
    assert 3 <= paused_at < 80
    assert client.executions.resume(ex.id).status in ("queued", "pending", "running")
    done = ex.wait(timeout=30, poll_interval=0.1)
    assert done.status == "succeeded" and done.finished_operations == 80
    assert len(system.lines("started")) == 2 and len(system.lines("finished")) == 1
    statuses = [e["data"]["to"] for e in client.executions.events(ex.id) if e["kind"] == "status"]
    assert "pausing" in statuses and "paused" in statuses
