"""The plain job API (`conveyor.dialects.jobapi`) against a live server over a real socket.

`job.work` runs on a real in-process Worker; `job.external` sits in a queue no worker serves, so
the test plays the external worker through the job API itself (setJobRunning, updateJobResult).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn
from pydantic import BaseModel

from conveyor.api.app import create_app
from conveyor.client import Client, IllegalTransitionError, InvalidParametersError, NotFoundError
from conveyor.core.executions import ExecutionService
from conveyor.core.schedules import ScheduleService
from conveyor.dialects import jobapi
from conveyor.dialects.jobapi import JobAPI
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from conveyor.worker.runner import Worker, WorkerSettings
from tests.databases import sqlite_copy

T = TypeVar("T")


class WorkParams(BaseModel):
    size: int = 1


def make_app() -> App:
    app = App("jobapi-tests")

    @app.workflow("job.work", params=WorkParams)
    def work(ctx: Any, params: WorkParams) -> dict[str, int]:
        ctx.message(f"working on {params.size}")
        return {"double": params.size * 2}

    @app.workflow("job.external", queue="external")
    def external(ctx: Any, params: dict[str, Any]) -> None:  # never runs here: no worker serves its queue
        raise AssertionError("job.external is run by an external worker")

    return app


def wait_for(probe: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)


@contextmanager
def live_server(tmp_path: Path) -> Iterator[str]:
    store = SQLiteStore(sqlite_copy(tmp_path / "jobs.db"))
    registry = make_app()
    service = ExecutionService(store, registry)
    api = create_app(service, schedule_service=ScheduleService(service))
    loop = BackgroundLoop(service, interval=0.05)
    worker = Worker.on_store(
        store, registry, WorkerSettings(concurrency=2, lease_seconds=5, poll_interval=0.02)
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    worker.start()
    loop.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), what="server start")
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.stop()
        worker.stop(grace=2)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    with live_server(tmp_path) as running:
        yield running


@pytest.fixture
def api(url: str) -> Iterator[JobAPI]:
    with Client(url) as client:
        yield JobAPI(client)


def _ids(jobs: list[dict[str, Any]]) -> list[str]:
    return [j["id"] for j in jobs]


def test_module_functions_cover_an_external_workers_whole_job(url: str) -> None:
    """Every module function once, in the order an external worker uses them."""
    jobapi.configure(url)
    assert jobapi.getJobSchema() == {
        "id": {"type": "string", "required": True, "unique": True, "default": "", "options": []},
        "name": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
        "user": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
        "request": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
        "result": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
        "status": {
            "type": "string",
            "required": False,
            "unique": False,
            "default": "idle",
            "options": ["idle", "pending", "running", "finished", "error"],
        },
        "messages": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
    }
    job = jobapi.createJob("job.external", "anonymous", '{"path": "/data"}', "")
    assert set(job) == set(jobapi.getJobSchema())
    assert (job["name"], job["user"], job["status"], job["result"], job["messages"]) == (
        "job.external", "anonymous", "pending", "", ""
    )  # fmt: skip
    assert json.loads(job["request"]) == {"path": "/data"}
    job_id = job["id"]

    assert _ids(jobapi.getPendingJobs()) == [job_id]
    assert jobapi.getJob(job_id) == job  # state defaults to "pending"
    assert jobapi.getJob(job_id, "running") is None
    assert jobapi.findJob(job_id) == (job, "pending")

    job["messages"] = "picked up"
    running = jobapi.setJobRunning(job_id, job)
    assert running["status"] == "running" and running["messages"] == "picked up"
    assert _ids(jobapi.getRunningJobs()) == [job_id] and jobapi.getPendingJobs() == []

    assert jobapi.updateJobResult(job_id, {"files": 3}) is None
    finished, state = jobapi.findJob(job_id)
    assert state == "finished" and finished is not None
    assert json.loads(finished["result"]) == {"files": 3}
    assert jobapi.getJobResults(job_id) == finished
    assert _ids(jobapi.getFinishedJobs()) == [job_id]

    again = jobapi.setJobPending(job_id, {})  # finished -> requeued
    assert again["status"] == "pending"
    done = jobapi.setJobFinished(job_id, {"result": "ok", "messages": "picked up\nsecond pass"})
    assert (done["status"], done["result"], done["messages"]) == ("finished", "ok", "picked up\nsecond pass")

    other = jobapi.createJob("job.external", "", {}, None)
    idle = jobapi.setJob(other["id"], {}, "idle")
    assert idle["status"] == "idle" and jobapi.getJob(other["id"], "idle") == idle
    assert _ids(jobapi.getJobs()) == [job_id, other["id"]]

    jobapi.deleteJob(job_id)
    jobapi.deleteJob(other["id"])
    assert jobapi.findJob(job_id) == (None, None)
    assert jobapi.getJobs() == []
    jobapi.deleteJob(job_id)  # unknown: nothing happens


def test_a_job_run_by_a_real_worker(api: JobAPI) -> None:
    job = api.createJob("job.work", "alice", {"size": 21}, "")
    assert job["messages"] == "job user: alice" and job["user"] == "anonymous"
    done = wait_for(lambda: api.getJobResults(job["id"]), what="the job to finish")
    assert done["status"] == "finished" and json.loads(done["result"]) == {"double": 42}
    assert sorted(done["messages"].splitlines()) == ["job user: alice", "working on 21"]
    assert api.getJob(job["id"], "finished") == done
    assert api.getJob(job["id"]) is None  # no longer pending
    assert _ids(api.getFinishedJobs()) == [job["id"]]
    with pytest.raises(InvalidParametersError, match="size"):
        api.createJob("job.work", "", {"size": "big"}, "")


def test_errors_and_refused_changes(api: JobAPI) -> None:
    job = api.createJob("job.external", "", None, "")
    with pytest.raises(ValueError, match="invalid job state 'completed'"):
        api.getJob(job["id"], "completed")
    with pytest.raises(ValueError, match="invalid job state"):
        api.setJob(job["id"], {}, "completed")
    with pytest.raises(ValueError, match="workflow's parameters"):
        api.createJob("job.external", "", "not json", "")
    with pytest.raises(ValueError, match="no result yet"):
        api.createJob("job.external", "", {}, "done")
    with pytest.raises(ValueError, match="name cannot change"):
        api.setJobRunning(job["id"], {**job, "name": "job.work"})
    with pytest.raises(ValueError, match="recorded when it becomes finished"):
        api.setJobRunning(job["id"], {"result": "early"})
    with pytest.raises(NotFoundError):
        api.setJobRunning("0190a0a0-0000-7000-8000-000000000000", {})
    assert api.getJob("0190a0a0-0000-7000-8000-000000000000") is None

    idle = api.setJob(job["id"], job, "idle")
    with pytest.raises(IllegalTransitionError, match="paused"):
        api.setJobRunning(job["id"], idle)  # an idle job must be made pending first

    failed = api.setJob(api.setJobRunning(api.setJobPending(job["id"], {})["id"], {})["id"],
                        {"messages": "disk full"}, "error")  # fmt: skip
    assert failed["status"] == "error" and "disk full" in failed["messages"]
    assert "JobError: disk full" in failed["messages"]

    waiting = api.createJob("job.external", "", {}, "")
    stopped = api.setJob(waiting["id"], {"messages": "not needed"}, "error")  # never ran: cancelled
    assert stopped["status"] == "error" and stopped["messages"] == "not needed"

    third = api.createJob("job.external", "", {}, "")
    api.setJobRunning(third["id"], third)
    api.updateJobResult(third["id"], "x")
    with pytest.raises(ValueError, match="result is recorded"):
        api.setJobFinished(third["id"], {"result": "y"})  # a finished job's result is final
    assert api.setJobFinished(third["id"], {"result": "x"})["result"] == "x"  # the same: nothing changes
    with pytest.raises(IllegalTransitionError, match="succeeded"):
        api.setJob(third["id"], {}, "error")
