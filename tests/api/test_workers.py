"""The worker protocol over HTTP: register, claim, heartbeat, report, deregister, and the worker role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.api import create_token
from conveyor.core.catalog import ChainedCatalog, StoredCatalog
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App

from .conftest import MakeClient

COUNT = {"workflow": "demo.count", "parameters": {"n": 1}}


@pytest.fixture
def service(store: SQLiteStore, catalog: App) -> ExecutionService:
    """As a server builds it: workflows imported here, then those workers declared."""
    return ExecutionService(store, ChainedCatalog(catalog, StoredCatalog(store.workflow_list)))


@pytest.fixture
def tokens(service: ExecutionService) -> dict[str, str]:
    return {role.value: create_token(service, f"{role.value}-bot", role)[1] for role in Role}


@pytest.fixture
def operator(make_client: MakeClient, tokens: dict[str, str]) -> TestClient:
    return make_client("required", token=tokens["operator"])


@pytest.fixture
def worker(make_client: MakeClient, tokens: dict[str, str]) -> TestClient:
    return make_client("required", token=tokens["worker"])


def _register(worker: TestClient, **fields: Any) -> str:
    body = {"name": "w1", "host": "box", "queues": ["default"], "concurrency": 4, **fields}
    r = worker.post("/workers", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["lease_seconds"] > r.json()["heartbeat_seconds"] > 0
    return str(r.json()["id"])


def _report(worker: TestClient, worker_id: str, *reports: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    r = worker.post(f"/workers/{worker_id}/reports", json={"reports": list(reports)}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_worker_claims_runs_and_reports_and_is_listed(worker: TestClient, operator: TestClient) -> None:
    started = [operator.post("/executions", json=COUNT).json()["id"] for _ in range(3)]
    me = _register(worker)
    claimed = worker.post(f"/workers/{me}/claim", json={"limit": 10}).json()["items"]
    assert sorted(e["id"] for e in claimed) == sorted(started)
    assert {(e["status"], e["worker_id"], e["parameters"]["n"]) for e in claimed} == {("running", me, 1)}

    beat = worker.post(f"/workers/{me}/heartbeat", json={"executions": started}).json()
    assert beat["executions"] == dict.fromkeys(started, "running")

    first, second, third = started
    answers = _report(
        worker, me,
        {"execution_id": first, "kind": "progress", "finished_operations": 1, "total_operations": 2},
        {"execution_id": first, "kind": "message", "text": "half way"},
        {"execution_id": first, "kind": "succeeded", "result": {"rows": 7}},
        {"execution_id": second, "kind": "failed", "error": {"type": "Boom"}, "retryable": False},
        {"execution_id": third, "kind": "cancelled"},
    )  # fmt: skip
    assert [(a["accepted"], a["status"]) for a in answers] == [
        (True, None), (True, None), (True, "succeeded"), (True, "failed"), (True, "cancelled")
    ]  # fmt: skip
    done = operator.get(f"/executions/{first}").json()
    assert (done["result"], done["finished_operations"], done["total_operations"]) == ({"rows": 7}, 1, 2)
    messages = [e["message"] for e in operator.get(f"/executions/{first}/events").json()["items"]]
    assert "half way" in messages
    assert operator.get(f"/executions/{second}").json()["error"]["type"] == "Boom"

    (listed,) = operator.get("/workers").json()["items"]
    assert (listed["id"], listed["state"], listed["transport"], listed["holding"]) == (me, "alive", "http", 0)
    assert worker.delete(f"/workers/{me}").status_code == 204
    assert operator.get("/workers").json()["items"][0]["state"] == "stopped"
    assert worker.post(f"/workers/{me}/claim", json={}).json()["error"]["code"] == "conflict"


def test_a_report_on_what_the_worker_no_longer_holds_changes_nothing(
    worker: TestClient, operator: TestClient
) -> None:
    ex = operator.post("/executions", json=COUNT).json()["id"]
    me = _register(worker)
    worker.post(f"/workers/{me}/claim", json={"limit": 1})
    assert operator.post(f"/executions/{ex}/force-cancel").json()["status"] == "cancelled"
    assert worker.post(f"/workers/{me}/heartbeat", json={"executions": [ex]}).json()["executions"] == {}
    (answer,) = _report(worker, me, {"execution_id": ex, "kind": "succeeded", "result": 1})
    assert (answer["accepted"], answer["status"]) == (False, None)
    assert operator.get(f"/executions/{ex}").json()["status"] == "cancelled"
    other = _register(worker, name="w2")
    (stolen,) = _report(worker, other, {"execution_id": ex, "kind": "message", "text": "not mine"})
    assert stolen["accepted"] is False


def test_a_retried_report_batch_is_recorded_once(worker: TestClient, operator: TestClient) -> None:
    ex = operator.post("/executions", json=COUNT).json()["id"]
    me = _register(worker)
    worker.post(f"/workers/{me}/claim", json={"limit": 1})
    batch = (
        {"execution_id": ex, "kind": "message", "text": "once"},
        {"execution_id": ex, "kind": "succeeded"},
    )
    first = _report(worker, me, *batch, key="batch-1")
    again = _report(worker, me, *batch, key="batch-1")
    assert first == again and first[1]["accepted"] is True
    messages = [e["message"] for e in operator.get(f"/executions/{ex}/events").json()["items"]]
    assert messages.count("once") == 1


def test_a_claim_waits_for_work_that_arrives(worker: TestClient, operator: TestClient) -> None:
    me = _register(worker)
    assert worker.post(f"/workers/{me}/claim", json={"limit": 5, "wait": 0}).json()["items"] == []
    operator.post("/executions", json=COUNT)
    got = worker.post(f"/workers/{me}/claim", json={"limit": 5, "wait": 2}).json()["items"]
    assert len(got) == 1


def test_workflows_a_worker_declares_can_be_started_and_are_checked(
    worker: TestClient, operator: TestClient
) -> None:
    schema = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
    _register(worker, workflows=[{"name": "remote.copy", "parameters_schema": schema, "queue": "files"}],
              queues=["files"])  # fmt: skip
    ok = operator.post("/executions", json={"workflow": "remote.copy", "parameters": {"path": "/x"}})
    assert ok.status_code == 201 and ok.json()["queue"] == "files"
    bad = operator.post("/executions", json={"workflow": "remote.copy", "parameters": {}})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_parameters")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/executions", None),
        ("POST", "/executions", COUNT),
        ("GET", "/executions/counts", None),
        ("POST", "/executions/x/cancel", None),
        ("GET", "/tokens", None),
        ("POST", "/tokens", {"name": "n", "role": "admin"}),
        ("GET", "/workers", None),
        ("GET", "/workflows", None),
        ("GET", "/schedules", None),
        ("GET", "/targets", None),
    ],
)
def test_a_worker_token_can_do_nothing_but_the_worker_protocol(
    worker: TestClient, method: str, path: str, body: Any
) -> None:
    r = worker.request(method, path, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_other_tokens_cannot_speak_for_a_worker(
    make_client: MakeClient, tokens: dict[str, str], role: str
) -> None:
    caller = make_client("required", token=tokens[role])
    assert caller.post("/workers", json={"name": "sneaky"}).status_code == 403


def test_a_resumed_execution_comes_back_with_the_state_it_paused_with(
    worker: TestClient, operator: TestClient
) -> None:
    ex = operator.post("/executions", json=COUNT).json()["id"]
    me = _register(worker)
    worker.post(f"/workers/{me}/claim", json={"limit": 1})
    assert operator.post(f"/executions/{ex}/pause").json()["status"] == "pausing"
    assert worker.post(f"/workers/{me}/heartbeat", json={"executions": [ex]}).json()["executions"] == {
        ex: "pausing"
    }
    (answer,) = _report(worker, me, {"execution_id": ex, "kind": "paused", "state": {"next": 3}})
    assert answer["status"] == "paused"
    operator.post(f"/executions/{ex}/resume")
    (again,) = worker.post(f"/workers/{me}/claim", json={"limit": 1}).json()["items"]
    assert (again["id"], again["state"]) == (ex, {"next": 3})


def test_a_worker_token_acts_only_for_the_workers_it_registered(
    make_client: MakeClient, service: ExecutionService, worker: TestClient, operator: TestClient
) -> None:
    ex = operator.post("/executions", json=COUNT).json()["id"]
    mine = _register(worker)
    other_token = create_token(service, "other-box", Role.WORKER)[1]
    other = make_client("required", token=other_token)
    for method, path, body in [
        ("POST", f"/workers/{mine}/claim", {"limit": 1}),
        ("POST", f"/workers/{mine}/heartbeat", {"executions": [ex]}),
        ("POST", f"/workers/{mine}/reports", {"reports": [{"execution_id": ex, "kind": "cancelled"}]}),
        ("DELETE", f"/workers/{mine}", None),
    ]:
        r = other.request(method, path, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden"), path
    assert operator.get(f"/executions/{ex}").json()["status"] == "pending"  # nothing was claimed for it
    assert len(worker.post(f"/workers/{mine}/claim", json={"limit": 1}).json()["items"]) == 1


def test_a_worker_token_cannot_redefine_a_workflow_the_server_knows(
    worker: TestClient, operator: TestClient, store: SQLiteStore
) -> None:
    _register(worker, name="first", workflows=[{"name": "remote.copy", "queue": "files"}])
    _register(worker, name="second", workflows=[{"name": "remote.copy", "queue": "elsewhere"},
                                                  {"name": "remote.new"}])  # fmt: skip
    known = {w.name: w.queue for w in store.workflow_list()}
    assert (known["remote.copy"], known["remote.new"]) == ("files", "default")


def test_a_workflow_declared_by_hand_is_startable_checked_and_shows_who_serves_it(
    make_client: MakeClient, tokens: dict[str, str], worker: TestClient, operator: TestClient
) -> None:
    admin = make_client("required", token=tokens["admin"])
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = {"parameters_schema": schema, "queue": "gpu", "description": "elsewhere"}
    assert operator.put("/workflows/far.away", json=body).status_code == 403  # admins declare
    declared = admin.put("/workflows/far.away", json=body)
    assert declared.status_code == 200, declared.text
    assert (declared.json()["queue"], declared.json()["served"], declared.json()["workers"]) == (
        "gpu",
        False,
        [],
    )
    assert (
        operator.post("/executions", json={"workflow": "far.away", "parameters": {"n": 1}}).status_code == 201
    )
    refused = operator.post("/executions", json={"workflow": "far.away", "parameters": {}})
    assert refused.json()["error"]["code"] == "invalid_parameters"

    me = _register(worker, queues=["gpu"], workflows=[{"name": "far.away"}])
    listed = {w["name"]: w for w in operator.get("/workflows").json()["items"]}
    assert (listed["far.away"]["served"], listed["far.away"]["workers"]) == (True, [me])
    assert listed["far.away"]["parameters_schema"] == schema  # the worker token did not redefine it
    assert listed["demo.count"]["served"] is False
