"""The real `netapp_ontap` library against a live Conveyor, unchanged, over a real socket.

The server is `create_app` with the ONTAP router mounted, over a real SQLite store;
a real in-process Worker runs the workflows and the background loop admits work.
Time is a ManualClock shared by all of them, so "300 s after it ended" is a
clock.advance(), not a wait.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from netapp_ontap.error import NetAppRestError
from netapp_ontap.host_connection import HostConnection
from netapp_ontap.resources.job import Job
from pydantic import BaseModel

from conveyor.api.app import create_app
from conveyor.api.auth import create_token
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import Role, Status
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.context import Context
from conveyor.worker.registry import App
from conveyor.worker.runner import Worker, WorkerSettings
from tests.databases import sqlite_copy
from tests.helpers import wait_until

#: Gates the "demo.gate" workflow waits on, by name: a test opens one to let its jobs finish.
GATES: dict[str, threading.Event] = {}


class GateParams(BaseModel):
    gate: str


class FailParams(BaseModel):
    reason: str = "disk full"


def make_workflows() -> App:
    app = App("ontap-tests")

    @app.workflow("demo.quick")
    def quick(ctx: Context, params: dict[str, Any]) -> str:
        return "done"

    @app.workflow("demo.fail", params=FailParams)
    def fail(ctx: Context, params: FailParams) -> None:
        raise ValueError(params.reason)

    @app.workflow("demo.gate", params=GateParams)
    def gate(ctx: Context, params: GateParams) -> int:
        """Runs, checkpointing, until its gate opens; counts its rounds across pause/resume."""
        rounds = int(ctx.state.get("rounds", 0))
        while not GATES[params.gate].is_set():
            rounds += 1
            ctx.checkpoint({"rounds": rounds})
            time.sleep(0.01)
        return rounds

    return app


class RequestLog:
    """An ASGI wrapper recording each request's method, path and raw query."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.requests.append((scope["method"], scope["path"], scope["query_string"].decode()))
        await self.app(scope, receive, send)

    def queries(self, method: str, path: str) -> list[str]:
        with self._lock:
            return [q for m, p, q in self.requests if (m, p) == (method, path)]


@dataclass
class Server:
    port: int
    service: ExecutionService
    clock: ManualClock
    log: RequestLog
    gates: list[str] = field(default_factory=list)

    def connection(self, password: str = "netapp1!", username: str = "admin") -> HostConnection:
        return HostConnection(
            "127.0.0.1",
            username=username,
            password=password,
            verify=False,
            port=self.port,
            scheme="http",
            poll_timeout=10,
            poll_interval=1,
        )

    def start(self, workflow: str, target: str | None = None, **parameters: Any) -> str:
        req = StartRequest(workflow, parameters=parameters, target=target, queue=True)
        return self.service.start(req).id

    def gated(self, name: str, target: str | None = None) -> str:
        GATES.setdefault(name, threading.Event())
        self.gates.append(name)
        return self.start("demo.gate", target, gate=name)

    def status(self, uuid: str) -> Status:
        return self.service.get(uuid).status

    def wait_status(self, uuid: str, *statuses: Status) -> None:
        wait_until(lambda: self.status(uuid) in statuses, timeout=20, what=f"{uuid} to be {statuses}")

    def wait_state(self, uuid: str, state: str) -> Job:
        """Wait through the library itself until the job shows `state`."""

        def shows() -> Job | None:
            job = Job(uuid=uuid)
            job.get(fields="state,message")
            return job if job.state == state else None

        found = wait_until(shows, timeout=20, interval=0.05, what=f"job {uuid} to be {state}")
        assert found is not None
        return found


@contextmanager
def running(tmp_path: Path, *, auth_mode: str = "open") -> Iterator[Server]:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    store = SQLiteStore(sqlite_copy(tmp_path / "ontap.db"))
    workflows = make_workflows()
    service = ExecutionService(store, workflows, clock=clock)
    app = create_app(service, auth_mode=auth_mode)
    log = RequestLog(app)
    worker = Worker.on_store(
        store,
        workflows,
        # Leases far longer than any clock.advance() here, so moving time never reaps a running job.
        WorkerSettings(concurrency=8, lease_seconds=3600, poll_interval=0.02, watch_interval=0.02),
        clock=clock,
    )
    loop = BackgroundLoop(service, interval=0.05)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(log, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    worker.start()
    loop.start()
    live = Server(port, service, clock, log)
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=10, what="uvicorn to start")
        assert server.started, "uvicorn stopped before it started serving"
        yield live
    finally:
        for name in live.gates:
            GATES[name].set()
        loop.stop()
        worker.stop(grace=5)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    """An open server (no token needed) and the library connected to it, as ONTAP users write it."""
    with running(tmp_path) as server, server.connection():
        yield server


def finish_all(srv: Server, *uuids: str) -> None:
    for uuid in uuids:
        srv.wait_status(uuid, Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)


# --- reading ---------------------------------------------------------------------------------


def test_get_collection_pages_through_every_job_with_the_params_on_each_next_link(srv: Server) -> None:
    ids = [srv.start("demo.quick", target=f"svm{i}") for i in range(5)]
    finish_all(srv, *ids)

    jobs = list(Job.get_collection(max_records=2, fields="state,description,svm", description="demo.quick"))

    assert [j.uuid for j in jobs] == ids  # creation order, nothing lost or repeated across pages
    assert {j.state for j in jobs} == {"success"}
    assert [j.svm.name for j in jobs] == [f"svm{i}" for i in range(5)]
    queries = srv.log.queries("GET", "/api/cluster/jobs")
    assert len(queries) == 3  # 2 + 2 + 1
    for query in queries[1:]:  # the library sends the next link as given: it must carry everything
        assert "max_records=2" in query and "description=demo.quick" in query
        assert "fields=state%2Cdescription%2Csvm" in query and "start.cursor=" in query


def test_collection_without_fields_has_only_keys_and_links(srv: Server) -> None:
    uuid = srv.start("demo.quick")
    finish_all(srv, uuid)
    (job,) = list(Job.get_collection())
    assert job.to_dict() == {"uuid": uuid, "_links": {"self": {"href": f"/api/cluster/jobs/{uuid}"}}}


def test_a_job_reads_back_with_every_field(srv: Server) -> None:
    uuid = srv.start("demo.quick", target="vs1")
    finish_all(srv, uuid)
    job = Job(uuid=uuid)
    job.get()
    assert job.state == "success" and job.code == 0 and job.message == "Complete: Successful"
    assert job.description == "demo.quick" and job.svm.name == "vs1"
    assert isinstance(job.start_time, datetime) and isinstance(job.end_time, datetime)
    assert job.start_time <= job.end_time
    assert not hasattr(job, "error")


def test_a_failed_job_has_a_non_zero_code_and_the_error_message(srv: Server) -> None:
    uuid = srv.start("demo.fail", reason="volume offline")
    finish_all(srv, uuid)
    job = Job.find(uuid=uuid)
    assert job is not None
    assert job.state == "failure" and job.code == 1
    assert job.message == "ValueError: volume offline"
    assert job.error.code == "1" and job.error.message == "ValueError: volume offline"


def test_count_and_find(srv: Server) -> None:
    ok = [srv.start("demo.quick", target=f"a{i}") for i in range(3)]
    bad = srv.start("demo.fail", target="b0")
    finish_all(srv, *ok, bad)

    assert Job.count_collection() == 4
    assert Job.count_collection(state="success") == 3
    assert Job.count_collection(state="success|failure") == 4
    assert Job.count_collection(description="demo.fail") == 1
    assert Job.count_collection(message="Complete*") == 3  # evaluated by the dialect, not the store
    assert srv.log.queries("GET", "/api/cluster/jobs")[0].endswith("return_records=false")

    found = Job.find(svm={"name": "b0"})  # the library flattens it to svm.name=b0
    assert found is not None and found.uuid == bad and found.state == "failure"
    assert Job.find(uuid="0000-no-such-job") is None
    with pytest.raises(NetAppRestError, match="Only 1 resource was expected"):
        Job.find(state="success")


def test_query_syntax(srv: Server) -> None:
    quick = [srv.start("demo.quick", target=name) for name in ("db1", "db2", "web1")]
    failed = srv.start("demo.fail", target="db3")
    finish_all(srv, *quick, failed)
    waiting = srv.gated("query", target="db4")
    srv.wait_status(waiting, Status.RUNNING)

    def uuids(**query: Any) -> set[str]:
        return {j.uuid for j in Job.get_collection(**query)}

    assert uuids(**{"svm.name": "db*"}) == {quick[0], quick[1], failed, waiting}
    assert uuids(**{"svm.name": "!db*"}) == {quick[2]}
    assert uuids(state="!success") == {failed, waiting}
    assert uuids(code=">0") == {failed}
    assert uuids(code="<=0", state="running") == {waiting}
    assert uuids(end_time="null") == {waiting}
    assert uuids(end_time="!null") == {*quick, failed}
    assert uuids(description="demo.quick|demo.fail") == {*quick, failed}
    assert uuids(description="*gate") == {waiting}
    assert uuids(message="Running*") == {waiting}
    first = Job(uuid=quick[0])
    first.get()
    assert uuids(start_time=f">={first.start_time.isoformat()}", state="success") >= {quick[0]}
    assert uuids(start_time=f"<{first.start_time.isoformat()}") == set()
    future = (srv.clock.now() + timedelta(days=1)).isoformat()
    assert uuids(start_time=f">{future}") == set()

    by_svm = [j.svm.name for j in Job.get_collection(fields="svm", order_by="svm.name desc")]
    assert by_svm == ["web1", "db4", "db3", "db2", "db1"]


# --- actions ---------------------------------------------------------------------------------


def test_pause_then_resume_then_finish(srv: Server) -> None:
    uuid = srv.gated("pause")
    srv.wait_state(uuid, "running")

    Job(uuid=uuid).patch(action="pause")
    paused = srv.wait_state(uuid, "paused")
    assert paused.message == "Paused"
    rounds = srv.service.get(uuid).state or {}
    assert rounds.get("rounds", 0) >= 1

    Job(uuid=uuid).patch(action="resume")
    srv.wait_state(uuid, "running")
    GATES["pause"].set()
    done = srv.wait_state(uuid, "success")
    assert done.message == "Complete: Successful"
    assert srv.service.get(uuid).result >= rounds["rounds"]  # it went on from its saved state


def test_cancel_ends_in_failure_with_its_own_code(srv: Server) -> None:
    uuid = srv.gated("cancel", target="vs9")
    srv.wait_state(uuid, "running")
    Job(uuid=uuid).patch(action="cancel")
    srv.wait_state(uuid, "failure")
    job = Job(uuid=uuid)
    job.get()
    assert job.code == 2 and job.message == "Cancelled" and job.error.code == "2"
    assert srv.status(uuid) is Status.CANCELLED


def test_cancel_a_queued_job_at_once(srv: Server) -> None:
    blocker = srv.gated("blocker", target="one-at-a-time")
    srv.wait_status(blocker, Status.RUNNING)
    queued = srv.gated("queued", target="one-at-a-time")  # the target runs one job at a time
    assert Job.find(uuid=queued).state == "queued"
    Job(uuid=queued).patch(action="cancel")
    assert srv.status(queued) is Status.CANCELLED


def test_bulk_patch_by_query(srv: Server) -> None:
    ids = [srv.gated(f"bulk{i}") for i in range(3)]
    other = srv.gated("bystander")
    for uuid in [*ids, other]:
        srv.wait_status(uuid, Status.RUNNING)

    Job.patch_collection({}, action="pause", uuid="|".join(ids))
    for uuid in ids:
        srv.wait_state(uuid, "paused")
    assert srv.status(other) is Status.RUNNING
    assert srv.log.queries("PATCH", "/api/cluster/jobs")[-1].startswith("action=pause&uuid=")

    Job.patch_collection({}, action="cancel", state="paused")
    for uuid in ids:
        srv.wait_state(uuid, "failure")
    assert srv.status(other) is Status.RUNNING
    assert Job.count_collection(state="failure", code=2) == 3


# --- retention ---------------------------------------------------------------------------------


def test_a_job_is_gone_300_seconds_after_it_ended(srv: Server) -> None:
    uuid = srv.start("demo.quick")
    finish_all(srv, uuid)
    ended = srv.service.get(uuid).ended_at
    assert ended is not None
    long = srv.gated("long")
    srv.wait_state(long, "running")

    srv.clock.advance(299)
    Job(uuid=uuid).get()
    assert Job.count_collection() == 2

    srv.clock.advance(300 - (srv.clock.now() - ended).total_seconds())  # exactly 300 s after it ended
    with pytest.raises(NetAppRestError) as gone:
        Job(uuid=uuid).get()
    assert gone.value.status_code == 404
    assert body_of(gone.value)["error"]["code"] == "4"
    assert "entry doesn't exist" in str(gone.value)
    with pytest.raises(NetAppRestError) as patch_gone:
        Job(uuid=uuid).patch(action="cancel")
    assert patch_gone.value.status_code == 404
    assert Job.find(uuid=uuid) is None
    assert [j.uuid for j in Job.get_collection()] == [long]  # running: shown however long ago it began
    assert Job.count_collection() == 1 and Job.count_collection(state="success") == 0
    assert srv.service.get(uuid).status is Status.SUCCEEDED  # Conveyor itself still keeps it

    GATES["long"].set()
    srv.wait_state(long, "success")
    srv.clock.advance(299.5)
    assert Job.count_collection(state="success") == 1
    srv.clock.advance(0.5)
    assert Job.count_collection(state="success") == 0
    assert list(Job.get_collection(state="success")) == []


# --- errors --------------------------------------------------------------------------------------


def body_of(err: NetAppRestError) -> dict[str, Any]:
    body = err.response_body
    assert isinstance(body, dict), str(err)
    return body


def error_of(call: Any) -> NetAppRestError:
    with pytest.raises(NetAppRestError) as caught:
        call()
    err = caught.value
    assert err.status_code is not None and 400 <= err.status_code < 500, str(err)
    body = body_of(err)
    assert isinstance(body["error"]["code"], str)
    assert body["error"]["message"] in str(err)  # the library shows the server's message
    return err


def test_client_errors_come_back_as_netapp_rest_errors(srv: Server) -> None:
    uuid = srv.start("demo.quick")
    finish_all(srv, uuid)

    err = error_of(lambda: Job(uuid=uuid).patch(action="pause"))
    assert body_of(err)["error"]["code"] == "458762" and "terminal state" in str(err)
    err = error_of(lambda: Job(uuid=uuid).patch(action="explode"))
    assert "not a job action" in str(err)
    err = error_of(lambda: Job(uuid="no-such-job").get())
    assert err.status_code == 404
    err = error_of(lambda: Job.count_collection(colour="blue"))
    assert body_of(err)["error"] == {
        "message": 'Unexpected argument "colour".',
        "code": "262179",
        "target": "colour",
    }
    err = error_of(lambda: Job.count_collection(state="cancelled"))
    assert "not a job state" in str(err)
    err = error_of(lambda: list(Job.get_collection(fields="colour")))
    assert body_of(err)["error"]["target"] == "fields"
    err = error_of(lambda: list(Job.get_collection(order_by="state")))
    assert "cannot be ordered by" in str(err)
    not_a_number: Any = "lots"
    err = error_of(lambda: list(Job.get_collection(max_records=not_a_number)))
    assert "not an integer" in str(err)
    err = error_of(lambda: list(Job.get_collection(start_time=">yesterday")))
    assert "ISO 8601" in str(err)


def test_resume_of_a_running_job_is_refused(srv: Server) -> None:
    uuid = srv.gated("refuse")
    srv.wait_state(uuid, "running")
    err = error_of(lambda: Job(uuid=uuid).patch(action="resume"))
    assert body_of(err)["error"]["code"] == "458771"
    err = error_of(lambda: Job.patch_collection({}, action="resume", uuid=uuid))
    assert "only a paused job can be resumed" in str(err)


# --- auth ------------------------------------------------------------------------------------------


def test_basic_auth_takes_the_token_as_password(tmp_path: Path) -> None:
    with running(tmp_path, auth_mode="required") as srv:
        _, operator = create_token(srv.service, "ops", Role.OPERATOR)
        _, viewer = create_token(srv.service, "watcher", Role.VIEWER)
        uuid = srv.gated("auth")

        with srv.connection(password=operator, username="whoever"):
            assert Job.find(uuid=uuid) is not None
            Job(uuid=uuid).patch(action="cancel")

        with srv.connection(password=viewer):
            assert Job.count_collection() == 1
            err = error_of(lambda: Job(uuid=uuid).patch(action="pause"))
            assert err.status_code == 403 and "operator" in str(err)

        with srv.connection(password="not-a-token"):
            err = error_of(lambda: Job(uuid=uuid).get())
            assert err.status_code == 401 and body_of(err)["error"]["code"] == "6"


# --- the wire, below the library ------------------------------------------------------------------


def test_edges_of_the_wire_answer_in_ontaps_envelope_never_500(srv: Server) -> None:
    uuid = srv.start("demo.quick")
    finish_all(srv, uuid)
    base = f"http://127.0.0.1:{srv.port}/api/cluster/jobs"
    with httpx.Client(timeout=10) as http:
        ok = http.get(base, params={"fields": "**"})  # an open server needs no credentials
        assert ok.status_code == 200 and ok.text.startswith("{")
        assert ok.headers["content-type"].startswith("application/hal+json")
        assert ok.json()["records"][0]["state"] == "success"
        assert http.get(f"{base}/{uuid}", params={"fields": "*"}).json()["message"] == "Complete: Successful"

        cases: list[tuple[httpx.Response, int, str]] = [
            (http.post(base, json={}), 405, "3"),
            (http.delete(f"{base}/{uuid}"), 405, "3"),
            (http.patch(f"{base}/{uuid}", content=b"{not json"), 400, "2"),
            (http.patch(f"{base}/{uuid}", json={"state": "running"}), 400, "3"),
            (http.patch(f"{base}/{uuid}", json={}), 400, "2"),
            (http.get(base, params={"start.cursor": "garbage"}), 400, "2"),
            (http.get(base, params={"max_records": "0"}), 400, "2"),
            (http.get(base, params={"return_timeout": "500"}), 400, "2"),
            (http.get(f"{base}/{uuid}", params={"state": "success"}), 400, "262179"),
            (http.get(base, headers={"Authorization": "Bearer not-a-token"}), 401, "6"),
        ]
        for response, status, code in cases:
            assert response.status_code == status, response.text
            assert response.json()["error"]["code"] == code, response.text
            assert response.text.startswith('{"error":{"message":')
        assert cases[0][0].headers["allow"] == "GET, PATCH"
        assert cases[-1][0].headers["www-authenticate"].startswith("Basic")

        one = http.get(base, params={"max_records": "1", "fields": "state"}).json()
        assert one["num_records"] == 1 and "next" not in one["_links"]  # only one job: no next page
        assert http.get(base, params={"return_records": "false"}).json()["num_records"] == 1


def test_bulk_patch_can_go_on_past_a_refusal(srv: Server) -> None:
    paused, busy = srv.gated("cof-paused"), srv.gated("cof-busy")
    srv.wait_status(paused, Status.RUNNING)
    srv.wait_status(busy, Status.RUNNING)
    Job(uuid=paused).patch(action="pause")
    srv.wait_state(paused, "paused")
    base = f"http://127.0.0.1:{srv.port}/api/cluster/jobs"
    with httpx.Client(timeout=10) as http:
        answer = http.patch(
            base,
            params={"action": "resume", "description": "demo.gate", "continue_on_failure": "true"},
            json={},
        )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "458771"
    assert "1 of 2 matching jobs refused to resume" in answer.json()["error"]["message"]
    srv.wait_state(paused, "running")  # the paused one was resumed all the same


def test_auth_required_refuses_what_is_not_basic_with_a_token(tmp_path: Path) -> None:
    with running(tmp_path, auth_mode="required") as srv, httpx.Client(timeout=10) as http:
        base = f"http://127.0.0.1:{srv.port}/api/cluster/jobs"
        for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Basic dXNlcg=="}):
            response = http.get(base, headers=headers)
            assert response.status_code == 401 and response.json()["error"]["code"] == "6"
        assert "password" in http.get(base).json()["error"]["message"]
        _, secret = create_token(srv.service, "reader", Role.VIEWER)
        assert http.get(base, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
