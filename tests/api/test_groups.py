"""`/execution-groups`: start, read, list, concurrency, cancel, success/failure target groups and dump.

The tests play the worker through the store (`claim`, `succeed`, `fail_running`) so they decide
exactly when members run and end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.api import create_token
from conveyor.core import states
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ErrorInfo, Role

from .conftest import MakeClient
from .support import WORKER, claim, succeed

PARAMS = {"db": "main"}


def fail_running(service: ExecutionService, execution_id: str) -> None:
    now = service.clock.now()
    step = lambda e: states.transition(e, states.Fail(now, ErrorInfo("E", "boom"), retryable=False))  # noqa: E731
    (done,) = service.store.execution_finish([(execution_id, WORKER, step)], now=now)
    assert done is not None


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    envelope: dict[str, Any] = r.json()["error"]
    return envelope


@pytest.fixture
def web(client: TestClient) -> list[str]:
    names = [f"web{i:02d}" for i in range(6)]
    for name in names:
        assert client.post("/targets", json={"name": name, "labels": {"role": "web"}}).status_code == 201
    assert client.post("/target-groups", json={"name": "web", "labels": {"role": "web"}}).status_code == 201
    return names


def start(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post(
        "/execution-groups",
        json={"target_group": "web", "workflow": "backup", "default_parameters": PARAMS, **body},
    )
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def members(client: TestClient, group_id: str) -> list[dict[str, Any]]:
    r = client.get("/executions", params={"group_id": group_id, "sort": "id"})
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_start_answers_the_group_document(client: TestClient, web: list[str]) -> None:
    doc = start(client, concurrency=2, parameters={"web03": {"db": "other"}})
    assert set(doc) == {
        "id", "workflow", "target_group", "concurrency", "force", "default_parameters", "parameters",
        "created_by", "created_at", "success_group", "failed_group", "status", "execution_ids", "total",
        "ended", "counts",
    }  # fmt: skip
    assert (doc["workflow"], doc["target_group"], doc["concurrency"], doc["force"]) == (
        "backup",
        "web",
        2,
        False,
    )
    assert (doc["status"], doc["total"], doc["ended"]) == ("pending", 6, 0)
    assert doc["counts"] == {"pending": 2, "queued": 4}
    assert doc["created_by"] == "anonymous" and doc["created_at"].endswith("Z")
    assert (doc["success_group"], doc["failed_group"]) == (None, None)
    assert client.get(f"/execution-groups/{doc['id']}").json() == doc

    listed = members(client, doc["id"])
    assert [m["id"] for m in listed] == doc["execution_ids"]
    assert [m["target"] for m in listed] == web  # one per target, in target-name order
    assert [m["status"] for m in listed] == ["pending"] * 2 + ["queued"] * 4  # the first two are admitted
    assert {m["target"]: m["parameters"]["db"] for m in listed}["web03"] == "other"  # merged over defaults
    assert all(m["group_id"] == doc["id"] and m["workflow"] == "backup" for m in listed)


def test_start_refusals_store_nothing(client: TestClient, web: list[str]) -> None:
    error(start_raw(client, target_group="nope"), 404, "not_found")
    error(start_raw(client, workflow="nope"), 404, "unknown_workflow")
    error(start_raw(client, concurrency=0), 400, "invalid_request")
    error(start_raw(client, default_parameters={}), 400, "invalid_parameters")  # backup needs db
    strangers = error(start_raw(client, parameters={"db9": {"db": "x"}}), 400, "invalid_request")
    assert strangers["details"]["targets"] == ["db9"]
    error(start_raw(client, colour="red"), 400, "invalid_request")
    assert client.get("/execution-groups").json()["items"] == []
    assert client.get("/executions/count").json() == {"count": 0}


def start_raw(client: TestClient, **body: Any) -> Any:
    return client.post(
        "/execution-groups",
        json={"target_group": "web", "workflow": "backup", "default_parameters": PARAMS, **body},
    )


def test_status_follows_the_members(client: TestClient, service: ExecutionService, web: list[str]) -> None:
    doc = start(client, concurrency=3)
    gid, ids = doc["id"], doc["execution_ids"]
    claim(service, *ids[:3])
    assert client.get(f"/execution-groups/{gid}").json()["status"] == "started"
    for eid in ids[:3]:
        succeed(service, eid)
    after = client.get(f"/execution-groups/{gid}").json()
    assert (after["status"], after["ended"], after["counts"]) == (
        "started",
        3,
        {"pending": 3, "succeeded": 3},
    )
    claim(service, *ids[3:])
    fail_running(service, ids[3])
    for eid in ids[4:]:
        succeed(service, eid)
    done = client.get(f"/execution-groups/{gid}").json()
    assert (done["status"], done["ended"], done["counts"]) == ("failed", 6, {"failed": 1, "succeeded": 5})


def test_an_empty_target_group_makes_a_succeeded_group(client: TestClient) -> None:
    client.post("/target-groups", json={"name": "empty"})
    r = client.post("/execution-groups", json={"target_group": "empty", "workflow": "backup"})
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["total"], r.json()["counts"]) == ("succeeded", 0, {})


def test_concurrency_by_post_and_by_patch(client: TestClient, web: list[str]) -> None:
    gid = start(client, concurrency=1)["id"]
    raised = client.post(f"/execution-groups/{gid}/concurrency", json={"concurrency": 3})
    assert raised.status_code == 200
    assert (raised.json()["concurrency"], raised.json()["counts"]) == (3, {"pending": 3, "queued": 3})
    patched = client.patch(f"/execution-groups/{gid}", json={"concurrency": 5})
    assert (patched.json()["concurrency"], patched.json()["counts"]) == (5, {"pending": 5, "queued": 1})
    lowered = client.patch(f"/execution-groups/{gid}", json={"concurrency": 1})
    assert lowered.json()["counts"] == {"pending": 5, "queued": 1}  # running members are not stopped
    error(
        client.post(f"/execution-groups/{gid}/concurrency", json={"concurrency": 0}), 400, "invalid_request"
    )
    error(client.post(f"/execution-groups/{gid}/concurrency", json={}), 400, "invalid_request")
    error(client.post("/execution-groups/nope/concurrency", json={"concurrency": 2}), 404, "not_found")


def test_cancel_waiting_members_at_once_running_ones_as_asked(
    client: TestClient, service: ExecutionService, web: list[str]
) -> None:
    doc = start(client, concurrency=2)
    claim(service, *doc["execution_ids"][:2])
    succeed(service, doc["execution_ids"][0])
    claim(service, doc["execution_ids"][2])

    r = client.post(f"/execution-groups/{doc['id']}/cancel", json={})
    assert r.status_code == 200
    assert r.json()["counts"] == {"cancelled": 3, "cancelling": 2, "succeeded": 1}
    assert r.json()["status"] == "started"
    forced = client.post(f"/execution-groups/{doc['id']}/cancel", json={"force": True}).json()
    assert (forced["status"], forced["counts"]) == ("cancelled", {"cancelled": 5, "succeeded": 1})
    again = client.post(f"/execution-groups/{doc['id']}/cancel")  # nothing left to cancel: same answer
    assert again.status_code == 200 and again.json()["counts"] == forced["counts"]
    error(
        client.post(f"/execution-groups/{doc['id']}/cancel", json={"force": True, "kill": True}),
        400,
        "invalid_request",
    )
    error(client.post("/execution-groups/nope/cancel"), 404, "not_found")


def test_success_and_failure_target_groups(
    client: TestClient, service: ExecutionService, web: list[str]
) -> None:
    client.post("/target-groups", json={"name": "ok"})
    client.post("/target-groups", json={"name": "bad"})
    doc = start(client, concurrency=6)
    ids = doc["execution_ids"]
    claim(service, *ids)
    succeed(service, ids[0])
    fail_running(service, ids[1])

    r = client.post(
        f"/execution-groups/{doc['id']}/target-groups", json={"success_group": "ok", "failed_group": "bad"}
    )
    assert r.status_code == 200 and (r.json()["success_group"], r.json()["failed_group"]) == ("ok", "bad")
    assert client.get("/target-groups/ok").json()["members"] == ["web00"]  # ended before: counted too
    for eid in ids[2:4]:
        succeed(service, eid)
    fail_running(service, ids[4])
    client.post(f"/execution-groups/{doc['id']}/cancel", json={"force": True})  # cancelled: joins neither

    assert client.get("/target-groups/ok").json()["members"] == ["web00", "web02", "web03"]
    assert client.get("/target-groups/bad").json()["members"] == ["web01", "web04"]
    only_one = client.post(f"/execution-groups/{doc['id']}/target-groups", json={"failed_group": "ok"}).json()
    assert (only_one["success_group"], only_one["failed_group"]) == ("ok", "ok")
    error(
        client.post(f"/execution-groups/{doc['id']}/target-groups", json={"success_group": "nope"}),
        404,
        "not_found",
    )
    error(client.post(f"/execution-groups/{doc['id']}/target-groups", json={}), 400, "invalid_request")


def test_list_filters_and_pages(client: TestClient, web: list[str]) -> None:
    client.post("/target-groups", json={"name": "few", "members": web[:2]})
    a = start(client)
    b = start(client, workflow="demo.count", default_parameters={"n": 1})
    c = start(client, target_group="few")
    every = client.get("/execution-groups").json()
    assert [g["id"] for g in every["items"]] == [a["id"], b["id"], c["id"]] and every["next_cursor"] is None
    assert every["items"][2]["counts"] == c["counts"]
    by_workflow = client.get("/execution-groups", params={"workflow": "backup"}).json()["items"]
    assert [g["id"] for g in by_workflow] == [a["id"], c["id"]]
    by_source = client.get("/execution-groups", params={"target_group": "few"}).json()["items"]
    assert [g["id"] for g in by_source] == [c["id"]]
    page = client.get("/execution-groups", params={"limit": 2}).json()
    assert [g["id"] for g in page["items"]] == [a["id"], b["id"]] and page["next_cursor"] == b["id"]
    rest = client.get("/execution-groups", params={"cursor": page["next_cursor"]}).json()
    assert [g["id"] for g in rest["items"]] == [c["id"]]
    error(client.get("/execution-groups/nope"), 404, "not_found")


def test_dump(client: TestClient, web: list[str]) -> None:
    a = start(client, concurrency=2)
    b = start(client, workflow="demo.count", default_parameters={"n": 1})
    items = client.get("/execution-groups:dump").json()["items"]
    assert [d["id"] for d in items] == [a["id"], b["id"]]
    first = items[0]
    assert first["workflow_id"] == "backup" and first["deployment_group_id"] == first["target_group"] == "web"
    assert first["execution_ids"] == a["execution_ids"] and first["status"] == "pending"
    assert first["concurrency"] == 2 and first["default_parameters"] == PARAMS
    assert first["created_at"] == a["created_at"]
    assert datetime.fromisoformat(first["created_at"].replace("Z", "+00:00")).tzinfo == UTC
    chosen = client.get("/execution-groups:dump", params={"ids": f"{b['id']},unknown"}).json()["items"]
    assert [d["id"] for d in chosen] == [b["id"]]


def test_per_target_limits_hold_inside_a_group_unless_forced(client: TestClient, web: list[str]) -> None:
    busy = client.post("/executions", json={"workflow": "backup", "parameters": PARAMS, "target": "web00"})
    assert busy.json()["status"] == "pending"
    held = start(client, concurrency=6)
    assert held["counts"] == {"pending": 5, "queued": 1}  # web00 waits for its running execution
    forced = start(client, concurrency=2, force=True)
    assert forced["counts"] == {"pending": 2, "queued": 4}  # force skips the target rule, not the group's


def test_roles(make_client: MakeClient, service: ExecutionService) -> None:
    operator = make_client("required", token=create_token(service, "deployer", Role.OPERATOR)[1])
    viewer = make_client("required", token=create_token(service, "watcher", Role.VIEWER)[1])
    operator.post("/targets", json={"name": "t1"})
    operator.post("/target-groups", json={"name": "g", "members": ["t1"]})
    body = {"target_group": "g", "workflow": "backup", "default_parameters": PARAMS}
    error(viewer.post("/execution-groups", json=body), 403, "forbidden")
    started = operator.post("/execution-groups", json=body)
    assert started.status_code == 201 and started.json()["created_by"] == "deployer"
    gid = started.json()["id"]
    for r in (
        viewer.post(f"/execution-groups/{gid}/cancel"),
        viewer.post(f"/execution-groups/{gid}/concurrency", json={"concurrency": 2}),
        viewer.patch(f"/execution-groups/{gid}", json={"concurrency": 2}),
        viewer.post(f"/execution-groups/{gid}/target-groups", json={"success_group": "g"}),
    ):
        error(r, 403, "forbidden")
    for path in ("/execution-groups", f"/execution-groups/{gid}", "/execution-groups:dump"):
        assert viewer.get(path).status_code == 200


def test_an_idempotency_key_starts_one_group(client: TestClient, web: list[str]) -> None:
    body = {"target_group": "web", "workflow": "backup", "default_parameters": PARAMS}
    first = client.post("/execution-groups", json=body, headers={"Idempotency-Key": "deploy-1"})
    again = client.post("/execution-groups", json=body, headers={"Idempotency-Key": "deploy-1"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert len(client.get("/execution-groups").json()["items"]) == 1
    assert client.get("/executions/count").json() == {"count": 6}


def test_the_openapi_document_describes_the_new_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/targets", "/api/v1/targets/{name}", "/api/v1/target-groups", "/api/v1/target-groups/{name}",
        "/api/v1/target-groups/{name}/members", "/api/v1/execution-groups", "/api/v1/execution-groups:dump",
        "/api/v1/execution-groups/{group_id}", "/api/v1/execution-groups/{group_id}/cancel",
        "/api/v1/execution-groups/{group_id}/concurrency",
        "/api/v1/execution-groups/{group_id}/target-groups",
    ):  # fmt: skip
        assert path in paths, sorted(paths)
