"""The Jelastic dialect against the real py-jelastic client, on a live server over a real socket.

The server is the real `create_app` with the dialect's router mounted, over a real SQLite store,
with the background loop firing schedules and a real in-process Worker running what they start.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx
import pytest
import uvicorn
from jelastic import Jelastic
from jelastic.api.exceptions import JelasticApiError, JelasticPermissionError, JelasticResourceNotFound
from pydantic import BaseModel

from conveyor.api.app import create_app
from conveyor.api.auth import create_token
from conveyor.core.executions import ExecutionService, ServiceSettings
from conveyor.core.model import Execution, ExecutionFilter, Role, Status
from conveyor.core.schedules import ScheduleService
from conveyor.core.targets import TargetService
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from conveyor.worker.runner import Worker, WorkerSettings
from tests.databases import sqlite_copy

T = TypeVar("T")


class ActionParams(BaseModel):
    action: str = "noop"
    envName: str | None = None


class StrictParams(BaseModel):
    size: int


def make_app() -> App:
    app = App("jelastic-tests")

    @app.workflow("jel.action", params=ActionParams)
    def action(ctx: Any, params: ActionParams) -> dict[str, Any]:
        return {"action": params.action, "target": ctx.target}

    @app.workflow("jel.strict", params=StrictParams)
    def strict(ctx: Any, params: StrictParams) -> int:
        return params.size

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


@dataclass
class Live:
    url: str
    store: SQLiteStore
    service: ExecutionService
    schedules: ScheduleService
    targets: TargetService

    def client(self, token: str = "") -> Jelastic:
        return Jelastic(self.url, token=token)

    def executions(self, workflow: str) -> list[Execution]:
        flt = ExecutionFilter(workflows=(workflow,))
        return list(self.service.list(flt, sort=("id",), limit=1000).items)

    def token(self, role: Role) -> str:
        return create_token(self.service, f"jelastic-{role}", role)[1]


@contextmanager
def live_server(tmp_path: Path, *, auth_mode: str = "open") -> Iterator[Live]:
    store = SQLiteStore(sqlite_copy(tmp_path / "jelastic.db"))
    registry = make_app()
    service = ExecutionService(store, registry, settings=ServiceSettings(implicit_targets=False))
    schedules = ScheduleService(service)
    api = create_app(service, auth_mode=auth_mode, schedule_service=schedules)
    loop = BackgroundLoop(service, schedules=schedules, interval=0.05)
    worker = Worker.on_store(
        store, registry, WorkerSettings(concurrency=4, lease_seconds=5, poll_interval=0.02)
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
        yield Live(f"http://127.0.0.1:{port}", store, service, schedules, TargetService(store, service.clock))
    finally:
        loop.stop()
        worker.stop(grace=2)
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path) as running:
        yield running


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path, auth_mode="required") as running:
        yield running


def _succeeded(live: Live, workflow: str, count: int = 1) -> list[Execution]:
    def done() -> list[Execution]:
        found = [e for e in live.executions(workflow) if e.status is Status.SUCCEEDED]
        return found if len(found) >= count else []

    return wait_for(done, what=f"{count} succeeded execution(s) of {workflow}")


# --- scheduler ---------------------------------------------------------------------------------


def test_account_task_fires_once_after_its_delay_in_milliseconds(live: Live) -> None:
    sched = live.client("any-placeholder").utils.Scheduler  # open server: the session is ignored
    answer = sched.CreateAccountTask(
        script="jel.action", trigger={"once_delay": 300}, description="soon", params={"action": "start"}
    )
    assert answer["result"] == 0 and answer["error"] == "" and answer["source"]
    task = answer["object"]
    assert isinstance(answer["id"], int) and task["id"] == answer["id"]
    assert uuid.UUID(int=task["id"]) == uuid.UUID(task["uuid"])
    assert task["script"] == "jel.action"
    assert task["trigger"] == "once_delay:300"
    assert task["description"] == "soon"
    assert task["params"] == {"action": "start"}
    assert task["envName"] is None and task["type"] == "account"
    stored = live.schedules.get(task["uuid"])
    assert stored.trigger.kind == "once_delay" and stored.trigger.value == "0.3"
    assert stored.parameters == {"action": "start"} and stored.owner == "anonymous"
    [ran] = _succeeded(live, "jel.action")
    assert ran.parameters["action"] == "start"
    assert ran.result == {"action": "start", "target": None}
    [after] = sched.GetTasks(ids=[str(task["id"])])["objects"]
    assert after["status"] == "done" and after["runCount"] == 1


def test_cron_task_with_seconds_unschedule_and_reschedule(live: Live) -> None:
    sched = live.client().utils.Scheduler
    created = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0/1 * * * * ?"}, params={})
    task_id = created["id"]
    assert created["object"]["trigger"] == "cron:0/1 * * * * ?"
    _succeeded(live, "jel.action", 2)  # fires every second

    assert sched.UnscheduleTasks()["count"] == 1
    [task] = sched.GetTasks(ids=[task_id])["objects"]
    assert task["status"] == "unscheduled" and task["nextRunDate"] is None
    fired = len(live.executions("jel.action"))
    time.sleep(1.5)
    assert len(live.executions("jel.action")) == fired  # unscheduled: nothing fires

    assert sched.RescheduleTasks()["count"] == 1
    [task] = sched.GetTasks()["objects"]  # no ids: every task of the caller
    assert task["status"] == "scheduled" and task["nextRunDate"] is not None
    wait_for(lambda: len(live.executions("jel.action")) > fired, what="a fire after RescheduleTasks")


def test_env_task_is_bound_to_the_target_and_removed_with_it(live: Live) -> None:
    live.targets.create("db1")
    sched = live.client().utils.Scheduler
    created = sched.CreateEnvTask(
        script="jel.action", trigger={"once_delay": 100}, env_name="db1", params={"action": "stop"}
    )
    task = created["object"]
    assert task["envName"] == "db1" and task["type"] == "env"
    [ran] = _succeeded(live, "jel.action")
    assert ran.target == "db1" and ran.result == {"action": "stop", "target": "db1"}

    live.targets.delete("db1", force=True)
    with pytest.raises(JelasticResourceNotFound, match=f"task {task['id']} does not exist"):
        sched.GetTasks(ids=[task["id"]])

    with pytest.raises(JelasticResourceNotFound, match="environment 'nowhere'"):
        sched.CreateEnvTask(script="jel.action", trigger={"cron": "0 0 * * * ?"}, env_name="nowhere")


def test_edit_task_by_the_id_create_returned(live: Live) -> None:
    sched = live.client().utils.Scheduler
    created = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 3 * * ?"}, description="a")
    edited = sched.EditTask(  # (a once_delay counts from the task's creation, as schedules do)
        script="jel.strict",
        trigger={"once_delay": 1500},
        id=created["id"],
        description="b",
        params={"size": 7},
    )
    assert edited["id"] == created["id"]
    task = edited["object"]
    assert (task["script"], task["trigger"], task["description"]) == ("jel.strict", "once_delay:1500", "b")
    assert task["params"] == {"size": 7}
    [ran] = _succeeded(live, "jel.strict")
    assert ran.result == 7

    # The uuid works as an id too, and an unchanged trigger keeps its next fire.
    again = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 4 * * ?"})
    before = again["object"]["nextRunDate"]
    same = sched.EditTask(
        script="jel.action", trigger={"cron": "0 0 4 * * ?"}, id=again["object"]["uuid"], description="x"
    )
    assert same["object"]["nextRunDate"] == before and same["object"]["description"] == "x"


def test_get_and_delete_tasks_with_ids_as_csv_and_as_a_list_of_ints(live: Live) -> None:
    sched = live.client().utils.Scheduler
    ids = [
        sched.CreateAccountTask(script="jel.action", trigger={"cron": f"0 0 {h} * * ?"})["id"]
        for h in range(4)
    ]
    got = sched.GetTasks(ids=[str(i) for i in reversed(ids)])["objects"]  # CSV, in the order asked
    assert [t["id"] for t in got] == list(reversed(ids))
    assert [t["id"] for t in sched.GetTasks(ids=ids[:2])["objects"]] == ids[:2]  # "[1, 2]"
    assert sched.DeleteTasks(ids=ids[:2])["count"] == 2  # sent as "[1, 2]"
    assert sched.DeleteTasks(ids=[str(ids[2])])["count"] == 1  # sent as CSV
    assert [t["id"] for t in sched.GetTasks()["objects"]] == [ids[3]]
    with pytest.raises(JelasticResourceNotFound, match="does not exist"):
        sched.DeleteTasks(ids=[str(ids[3]), str(ids[0])])  # one unknown id: nothing is deleted
    assert [t["id"] for t in sched.GetTasks()["objects"]] == [ids[3]]


def test_errors_are_readable_library_exceptions_never_a_500(live: Live) -> None:
    sched = live.client().utils.Scheduler
    with pytest.raises(JelasticApiError, match=r"day-of-month .* and day-of-week"):
        sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 12 1 * MON"})
    with pytest.raises(JelasticApiError, match="unknown trigger type 'hourly'"):
        sched.CreateAccountTask(script="jel.action", trigger={"hourly": "1"})
    with pytest.raises(JelasticApiError, match=r"rate:30 \(milliseconds\).*at least 1 s"):
        sched.CreateAccountTask(script="jel.action", trigger={"rate": 30})
    with pytest.raises(JelasticApiError, match=r"parameters for 'jel.strict' are invalid: size"):
        sched.CreateAccountTask(script="jel.strict", trigger={"once_delay": 1000}, params={"size": "big"})
    with pytest.raises(JelasticResourceNotFound, match="script: workflow 'nope' is not registered"):
        sched.CreateAccountTask(script="nope", trigger={"once_delay": 1000})
    with pytest.raises(JelasticResourceNotFound, match="task 12345 does not exist"):
        sched.EditTask(script="jel.action", trigger={"oninit": ""}, id=12345)
    with pytest.raises(JelasticApiError, match="id 'abc' is not a task id"):
        sched.EditTask(script="jel.action", trigger={"oninit": ""}, id="abc")
    with pytest.raises(JelasticApiError, match="ids"):
        sched.DeleteTasks(ids=[])
    with pytest.raises(JelasticResourceNotFound, match="API endpoint not found"):
        live.client().utils.Scheduler._get("NoSuchMethod", params={})
    assert live.schedules.list() == []  # nothing half-created


def test_required_auth_session_is_the_token_and_roles_apply(guarded: Live) -> None:
    viewer, operator = guarded.token(Role.VIEWER), guarded.token(Role.OPERATOR)
    with pytest.raises(JelasticApiError, match="session is not a valid Conveyor token") as bad:
        guarded.client("not-a-token").utils.Scheduler.GetTasks()
    assert not isinstance(bad.value, JelasticPermissionError)
    with pytest.raises(JelasticApiError, match="requires a token"):
        guarded.client("").utils.Scheduler.GetTasks()
    with pytest.raises(JelasticPermissionError, match=r"utils\.scheduler\.CreateAccountTask"):
        guarded.client(viewer).utils.Scheduler.CreateAccountTask(script="jel.action", trigger={"oninit": ""})
    created = guarded.client(operator).utils.Scheduler.CreateAccountTask(
        script="jel.action", trigger={"oninit": ""}
    )
    assert created["object"]["owner"] == f"jelastic-{Role.OPERATOR}"
    assert created["object"]["trigger"] == "oninit"
    assert (
        guarded.client(viewer).utils.Scheduler.GetTasks(ids=[created["id"]])["objects"][0]["id"]
        == (created["id"])
    )
    assert guarded.client(viewer).utils.Scheduler.GetTasks()["objects"] == []  # owns none
    with pytest.raises(JelasticPermissionError):
        guarded.client(viewer).utils.Scheduler.DeleteTasks(ids=[created["id"]])


def test_ruk_makes_a_create_idempotent(live: Live) -> None:
    sched = live.client().utils.Scheduler
    first = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 1 * * ?"}, ruk="r-1")
    again = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 1 * * ?"}, ruk="r-1")
    assert again == first
    assert len(live.schedules.list()) == 1
    other = sched.CreateAccountTask(script="jel.action", trigger={"cron": "0 0 1 * * ?"}, ruk="r-2")
    assert other["id"] != first["id"]


def test_post_form_like_jelastic_client_and_booleans_in_any_case(live: Live) -> None:
    base = f"{live.url}/1.0/utils/scheduler/rest"
    created = httpx.post(
        f"{base}/CreateAccountTask",
        data={
            "appid": "cluster",
            "session": "",
            "script": "jel.action",
            "trigger": "once_delay:1000",
            "params": '{"action": "form"}',
        },
        headers={"X-Base-Url": "ignored"},
    ).json()
    assert created["result"] == 0 and created["object"]["params"] == {"action": "form"}
    listed = httpx.post(f"{base}/gettasks?appid=cluster", data={"ids": str(created["id"])}).json()
    assert [t["id"] for t in listed["objects"]] == [created["id"]]
    bad = httpx.get(f"{base}/gettasks", params={"ids": "x y"}).json()
    assert bad["result"] == 2 and "is not a task id" in bad["error"]
    batch = httpx.get(
        f"{live.url}/1.0/utils/batch/rest/call",
        params={"sync": "TRUE", "request": '{"methods": [{"utils.scheduler.GetTasks": {}}]}'},
    ).json()
    assert batch["result"] == 0 and batch["responses"][0]["objects"][0]["id"] == created["id"]
    wrong = httpx.get(f"{live.url}/1.0/utils/batch/rest/call", params={"sync": "maybe", "request": "{}"})
    assert (
        wrong.status_code == 200 and wrong.json()["result"] == 2 and "true or false" in wrong.json()["error"]
    )


def test_what_jelastic_client_sends(live: Live) -> None:
    """jelastic-client POSTs form data (httpx `data=`) to urljoin(api_url, "group/class/rest/method")."""
    api_url = f"{live.url}/1.0/"
    with httpx.Client(timeout=None) as http:

        def execute(function: str, **kwargs: Any) -> dict[str, Any]:
            group, cls, fnc = function.split(".")
            response = http.post(
                urljoin(api_url, f"{group}/{cls}/REST/{fnc}".lower()), data={**kwargs, "session": ""}
            )
            assert response.status_code == 200
            answer: dict[str, Any] = response.json()
            return answer

        ids = [
            execute("Utils.Scheduler.CreateAccountTask", script="jel.action", trigger=f"cron:0 0 {h} * * ?")[
                "id"
            ]
            for h in (1, 2, 3)
        ]
        got = execute("Utils.Scheduler.GetTasks", ids=[str(i) for i in ids[:2]])  # ids=..&ids=..
        assert [t["id"] for t in got["objects"]] == ids[:2]
        batch = execute(
            "Utils.Batch.Call",
            sync=True,  # httpx sends "true"
            request=json.dumps({"methods": [{"utils.scheduler.DeleteTasks": {"params": {"ids": ids[:2]}}}]}),
        )
        assert batch["responses"][0] == {**batch["responses"][0], "result": 0, "count": 2}
        as_json = http.post(urljoin(api_url, "utils/scheduler/rest/gettasks"), json={"IDS": [ids[2]]}).json()
        assert [t["id"] for t in as_json["objects"]] == [ids[2]]
        multipart = http.post(urljoin(api_url, "utils/scheduler/rest/gettasks"), files={"ids": b"1"})
        assert multipart.status_code == 200 and multipart.json()["result"] == 2
        assert "form-encoded" in multipart.json()["error"]
        unknown = http.post(urljoin(api_url, "environment/control/rest/getenvs"), data={"session": ""})
        assert unknown.status_code == 404 and unknown.json()["result"] == 4


# --- batch -------------------------------------------------------------------------------------


def test_batch_call_sync_runs_each_method_with_alias_and_global(live: Live) -> None:
    utils = live.client().utils
    request = {
        "alias": {"c": "utils.scheduler.CreateAccountTask", "g": "utils.scheduler.GetTasks"},
        "global": {"appid": "cluster", "script": "jel.action"},
        "methods": [
            {"c": {"params": {"trigger": "cron:0 0 5 * * ?", "description": "one"}}},
            {"c": {"params": {"trigger": "cron:bad", "description": "two"}}},
            {"g": {"params": {}}},
            {"Dev.Scripting.EvalCode": {"params": {"code": "1"}}},
        ],
    }
    answer = utils.Batch.Call(request=request, sync=True)
    assert answer["result"] == 0
    made, bad, listed, unknown = answer["responses"]
    assert made["result"] == 0 and made["object"]["description"] == "one"
    assert bad["result"] == 2 and "cron" in bad["error"]
    assert [t["id"] for t in listed["objects"]] == [made["id"]]
    assert unknown["result"] == 4 and "Dev.Scripting.EvalCode" in unknown["error"]


def test_batch_call_async_runs_in_the_background(live: Live) -> None:
    utils = live.client().utils
    request = {
        "alias": {"c": "utils.scheduler.CreateEnvTask"},
        "global": {"script": "jel.action", "envName": "web"},
        "methods": [
            {"c": {"params": {"trigger": "once_delay:60000", "params": {"action": "a"}}}},
            {"c": {"params": {"trigger": "once_delay:60000", "params": {"action": "b"}}}},
        ],
    }
    live.targets.create("web")
    answer = utils.Batch.Call(request=request)  # py-jelastic's default: sync=False
    assert answer["result"] == 0 and answer["responses"] == []
    execution_id = answer["executionId"]

    def ended() -> Execution | None:
        ex = live.service.get(execution_id)
        return ex if ex.status.is_terminal else None

    ex = wait_for(ended, what="the async batch to end")
    assert ex.status is Status.SUCCEEDED, ex.error
    assert [r["status"] for r in ex.result["results"]] == [201, 201]
    tasks = utils.Scheduler.GetTasks()["objects"]
    assert sorted(t["params"]["action"] for t in tasks) == ["a", "b"]
    assert {(t["envName"], t["trigger"]) for t in tasks} == {("web", "once_delay:60000")}

    with pytest.raises(JelasticApiError, match="async batch"):
        utils.Batch.Call(request={"methods": [{"Dev.Scripting.EvalCode": {}}]}, sync=False)
    with pytest.raises(JelasticApiError, match="request"):
        utils.Batch.Call(request={}, sync=True)
