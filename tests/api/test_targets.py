"""`/targets` and `/target-groups`: create, read, filter, change and delete, over a real SQLite store."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.api import create_token
from conveyor.core.clock import SystemClock
from conveyor.core.errors import NotFound
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role
from conveyor.core.targets import TargetService

from .conftest import MakeClient
from .support import claim, succeed


def created(client: TestClient, name: str, **body: Any) -> dict[str, Any]:
    r = client.post("/targets", json={"name": name, **body})
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    envelope: dict[str, Any] = r.json()["error"]
    return envelope


def names(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [t["name"] for t in r.json()["items"]]


@pytest.fixture
def fleet(client: TestClient) -> list[str]:
    out = []
    for i in range(6):
        labels = {"role": "web" if i < 4 else "db", "zone": "a" if i % 2 else "b"}
        out.append(created(client, f"host{i}", labels=labels)["name"])
    return out


# --- targets ----------------------------------------------------------------------------------


def test_create_get_and_the_document(client: TestClient) -> None:
    doc = created(client, "web01", labels={"role": "web"}, max_concurrent=3)
    assert set(doc) == {"name", "max_concurrent", "labels", "created_at"}
    assert (doc["name"], doc["max_concurrent"], doc["labels"]) == ("web01", 3, {"role": "web"})
    assert doc["created_at"].endswith("Z")
    assert client.get("/targets/web01").json() == doc
    assert created(client, "plain")["max_concurrent"] == 1


def test_create_refusals(client: TestClient) -> None:
    created(client, "web01")
    assert (
        "already exists" in error(client.post("/targets", json={"name": "web01"}), 409, "conflict")["message"]
    )
    error(client.post("/targets", json={"name": "bad name!"}), 400, "invalid_request")
    error(client.post("/targets", json={"name": "x", "max_concurrent": 0}), 400, "invalid_request")
    error(client.post("/targets", json={"name": "x", "labels": {"a:b": "c"}}), 400, "invalid_request")
    error(client.post("/targets", json={"name": "x", "labels": {"a": "*"}}), 400, "invalid_request")
    error(client.post("/targets", json={"name": "x", "colour": "red"}), 400, "invalid_request")
    error(client.get("/targets/nope"), 404, "not_found")


def test_list_by_name_with_label_filters(client: TestClient, fleet: list[str]) -> None:
    assert names(client.get("/targets")) == fleet
    assert names(client.get("/targets", params={"label": "role:web"})) == fleet[:4]
    both = client.get("/targets", params=[("label", "role:web"), ("label", "zone:a")])
    assert names(both) == ["host1", "host3"]
    assert names(client.get("/targets", params={"label": "zone"})) == fleet  # a bare key: any value
    assert names(client.get("/targets", params={"label": "zone:*"})) == fleet
    assert names(client.get("/targets", params={"label": "rack:1"})) == []
    twice = error(
        client.get("/targets", params=[("label", "zone:a"), ("label", "zone:b")]), 400, "invalid_request"
    )
    assert "twice" in twice["message"]


def test_list_pages_by_name(client: TestClient, fleet: list[str]) -> None:
    first = client.get("/targets", params={"limit": 4}).json()
    assert [t["name"] for t in first["items"]] == fleet[:4] and first["next_cursor"] == "host3"
    rest = client.get("/targets", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [t["name"] for t in rest["items"]] == fleet[4:] and rest["next_cursor"] is None


def test_patch_changes_only_what_is_given(client: TestClient) -> None:
    created(client, "web01", labels={"role": "web"})
    r = client.patch("/targets/web01", json={"max_concurrent": 4})
    assert r.status_code == 200 and (r.json()["max_concurrent"], r.json()["labels"]) == (4, {"role": "web"})
    r = client.patch("/targets/web01", json={"labels": {"tier": "1"}})
    assert (r.json()["max_concurrent"], r.json()["labels"]) == (4, {"tier": "1"})  # labels are replaced
    error(client.patch("/targets/web01", json={}), 400, "invalid_request")
    error(client.patch("/targets/web01", json={"labels": None}), 400, "invalid_request")
    error(client.patch("/targets/web01", json={"max_concurrent": 0}), 400, "invalid_request")
    error(client.patch("/targets/nope", json={"max_concurrent": 2}), 404, "not_found")


def test_raising_max_concurrent_starts_queued_work(client: TestClient) -> None:
    created(client, "db1")
    body = {"workflow": "backup", "parameters": {"db": "x"}, "target": "db1", "queue": True}
    first, second = (client.post("/executions", json=body).json() for _ in range(2))
    assert (first["status"], second["status"]) == ("pending", "queued")
    client.patch("/targets/db1", json={"max_concurrent": 2})
    assert client.get(f"/executions/{second['id']}").json()["status"] == "pending"


def test_delete_refused_while_busy_unless_forced_and_its_schedules_go(
    client: TestClient, service: ExecutionService
) -> None:
    created(client, "db1")
    created(client, "db2")
    client.post("/target-groups", json={"name": "dbs", "members": ["db1", "db2"]})
    client.post(
        "/schedules",
        json={"workflow": "backup", "parameters": {"db": "x"}, "trigger": "rate:1h", "target": "db1"},
    )
    client.post(
        "/schedules",
        json={"workflow": "backup", "parameters": {"db": "x"}, "trigger": "rate:1h", "target": "db2"},
    )
    ex = client.post(
        "/executions", json={"workflow": "backup", "parameters": {"db": "x"}, "target": "db1"}
    ).json()
    claim(service, ex["id"])

    busy = error(client.delete("/targets/db1"), 409, "conflict")
    assert busy["details"] == {"name": "db1", "active": 1}
    assert client.delete("/targets/db1", params={"force": "true"}).status_code == 204
    error(client.get("/targets/db1"), 404, "not_found")
    assert [s["target"] for s in client.get("/schedules").json()["items"]] == ["db2"]
    assert client.get("/target-groups/dbs").json()["members"] == ["db2"]
    succeed(service, ex["id"])
    error(client.delete("/targets/db1"), 404, "not_found")


def test_names_with_slashes_work_on_every_route(client: TestClient) -> None:
    created(client, "eu/web@1")
    assert client.get("/targets/eu%2Fweb@1").json()["name"] == "eu/web@1"
    assert client.patch("/targets/eu/web@1", json={"max_concurrent": 2}).json()["max_concurrent"] == 2
    r = client.post("/target-groups", json={"name": "eu/web", "members": ["eu/web@1"]})
    assert r.status_code == 201, r.text
    assert client.get("/target-groups/eu%2Fweb").json()["members"] == ["eu/web@1"]
    removed = client.request("DELETE", "/target-groups/eu/web/members", json={"targets": ["eu/web@1"]})
    assert removed.json()["members"] == []
    assert (
        client.post("/target-groups/eu/web/members", json={"targets": ["eu/web@1"]}).json()["member_count"]
        == 1
    )
    assert client.delete("/target-groups/eu/web").status_code == 204
    assert client.delete("/targets/eu/web@1").status_code == 204


# --- target groups ----------------------------------------------------------------------------


def test_create_a_group_by_names_and_labels(client: TestClient, fleet: list[str]) -> None:
    r = client.post(
        "/target-groups",
        json={"name": "mixed", "description": "web in zone a, and host4", "members": ["host4"],
              "labels": {"role": "web", "zone": "a"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["members"] == ["host1", "host3", "host4"] and doc["member_count"] == 3
    assert doc["description"] == "web in zone a, and host4"
    assert client.get("/target-groups/mixed").json() == doc
    assert client.get("/target-groups/mixed/members").json() == doc
    error(client.post("/target-groups", json={"name": "mixed"}), 409, "conflict")


def test_a_group_with_an_unknown_member_is_refused_and_not_created(
    client: TestClient, fleet: list[str]
) -> None:
    refused = error(
        client.post("/target-groups", json={"name": "g", "members": ["host1", "ghost"]}), 404, "not_found"
    )
    assert "ghost" in refused["message"]
    error(client.get("/target-groups/g"), 404, "not_found")


def test_list_groups_without_member_names(client: TestClient, fleet: list[str]) -> None:
    for name in ("b", "a", "c"):
        client.post("/target-groups", json={"name": name, "labels": {"role": "db"}})
    page = client.get("/target-groups", params={"limit": 2}).json()
    assert page["items"][0] == {
        "name": "a", "description": "", "created_at": page["items"][0]["created_at"], "member_count": 2,
    }  # fmt: skip
    assert [g["name"] for g in page["items"]] == ["a", "b"] and page["next_cursor"] == "b"
    rest = client.get("/target-groups", params={"cursor": "b"}).json()
    assert [g["name"] for g in rest["items"]] == ["c"] and rest["next_cursor"] is None


def test_add_and_remove_members(client: TestClient, fleet: list[str]) -> None:
    client.post("/target-groups", json={"name": "g"})
    r = client.post("/target-groups/g/members", json={"targets": ["host5"], "labels": {"zone": "a"}})
    assert r.status_code == 200 and r.json()["members"] == ["host1", "host3", "host5"]
    again = client.post("/target-groups/g/members", json={"targets": ["host1"]})
    assert again.json()["member_count"] == 3  # a member is in a group once
    error(client.post("/target-groups/g/members", json={"targets": ["ghost"]}), 404, "not_found")
    error(client.post("/target-groups/g/members", json={}), 400, "invalid_request")
    error(client.post("/target-groups/nope/members", json={"targets": ["host1"]}), 404, "not_found")

    by_query = client.delete("/target-groups/g/members", params={"target": "host1,host0"})
    assert by_query.json()["members"] == ["host3", "host5"]  # a non-member is ignored
    by_label = client.delete("/target-groups/g/members", params={"label": "role:db"})
    assert by_label.json()["members"] == ["host3"]
    by_body = client.request("DELETE", "/target-groups/g/members", json={"labels": {"zone": "*"}})
    assert by_body.json()["members"] == []
    error(client.delete("/target-groups/g/members"), 400, "invalid_request")
    assert client.get("/targets").json()["items"][1]["name"] == "host1"  # the targets stay


def test_delete_a_group(client: TestClient, fleet: list[str]) -> None:
    client.post("/target-groups", json={"name": "g", "members": fleet})
    assert client.delete("/target-groups/g").status_code == 204
    error(client.get("/target-groups/g"), 404, "not_found")
    error(client.delete("/target-groups/g"), 404, "not_found")
    assert names(client.get("/targets")) == fleet


def test_roles_viewer_reads_operator_writes(make_client: MakeClient, service: ExecutionService) -> None:
    viewer = make_client("required", token=create_token(service, "v", Role.VIEWER)[1])
    operator = make_client("required", token=create_token(service, "o", Role.OPERATOR)[1])
    assert operator.post("/targets", json={"name": "t1"}).status_code == 201
    assert operator.post("/target-groups", json={"name": "g", "members": ["t1"]}).status_code == 201
    for r in (
        viewer.post("/targets", json={"name": "t2"}),
        viewer.patch("/targets/t1", json={"max_concurrent": 2}),
        viewer.delete("/targets/t1"),
        viewer.post("/target-groups", json={"name": "h"}),
        viewer.post("/target-groups/g/members", json={"targets": ["t1"]}),
        viewer.delete("/target-groups/g"),
    ):
        error(r, 403, "forbidden")
    assert viewer.get("/targets").status_code == viewer.get("/targets/t1").status_code == 200
    assert viewer.get("/target-groups").status_code == viewer.get("/target-groups/g").status_code == 200


def test_idempotent_create(client: TestClient) -> None:
    first = client.post("/targets", json={"name": "t1"}, headers={"Idempotency-Key": "k"})
    again = client.post("/targets", json={"name": "t1"}, headers={"Idempotency-Key": "k"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"


# --- core behaviour found while building the API --------------------------------------------------


def test_core_create_group_with_an_unknown_member_leaves_nothing(service: ExecutionService) -> None:
    targets = TargetService(service.store, SystemClock())
    targets.create("t1")
    with pytest.raises(NotFound):
        targets.create_group("g", members=["t1", "ghost"])
    assert service.store.target_group_get("g") is None  # no empty group "g" left behind


def test_core_a_deleted_sink_group_collects_no_members(client: TestClient, service: ExecutionService) -> None:
    created(client, "t1")
    client.post("/target-groups", json={"name": "src", "members": ["t1"]})
    client.post("/target-groups", json={"name": "ok"})
    group = client.post(
        "/execution-groups",
        json={"target_group": "src", "workflow": "backup", "default_parameters": {"db": "x"}},
    ).json()
    client.post(f"/execution-groups/{group['id']}/target-groups", json={"success_group": "ok"})
    client.delete("/target-groups/ok")
    claim(service, *group["execution_ids"])
    succeed(service, group["execution_ids"][0])  # the store adds ("ok", "t1") to target_group_members
    reborn = client.post("/target-groups", json={"name": "ok"}).json()
    assert reborn["members"] == []  # the deleted "ok" collected nothing for a namesake to inherit
