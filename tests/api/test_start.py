"""Starting executions: the answer, validation, admission, bulk starts and idempotency keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from conveyor.api.serialize import EXECUTION_FIELDS
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ExecutionFilter


def count_rows(service: ExecutionService) -> int:
    return service.count(ExecutionFilter())


def test_start_answers_201_with_the_execution_document(client: TestClient) -> None:
    r = client.post("/executions", json={"workflow": "demo.count", "parameters": {"n": 20}, "target": "db1"})

    assert r.status_code == 201
    doc = r.json()
    assert list(doc) == list(EXECUTION_FIELDS)
    assert doc["workflow"] == "demo.count"
    assert doc["parameters"] == {"n": 20}
    assert doc["target"] == "db1"
    assert doc["status"] == "pending"  # nothing else runs on db1, so admission lets it start
    assert doc["created_by"] == "anonymous"
    assert doc["max_attempts"] == 3 and doc["timeout"] == 600.0 and doc["attempt"] == 0
    assert doc["progress"] is None and doc["error"] is None and doc["result"] is None
    assert doc["created_at"].endswith("Z")
    assert datetime.fromisoformat(doc["created_at"]) <= datetime.now(UTC)
    assert client.get(f"/executions/{doc['id']}").json() == doc


def test_parameters_are_coerced_by_the_workflow_model(client: TestClient) -> None:
    r = client.post("/executions", json={"workflow": "backup", "parameters": {"db": "main"}})

    assert r.status_code == 201
    assert r.json()["parameters"] == {"db": "main", "compress": True}


def test_bad_parameters_are_400_with_field_errors_and_store_nothing(
    client: TestClient, service: ExecutionService
) -> None:
    before = count_rows(service)

    r = client.post("/executions", json={"workflow": "demo.count", "parameters": {"n": "many"}})
    missing = client.post("/executions", json={"workflow": "demo.count", "parameters": {}})

    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_parameters"
    assert [e["loc"] for e in err["details"]["errors"]] == [["n"]]
    assert "n:" in err["message"]
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["errors"][0]["type"] == "missing"
    assert count_rows(service) == before
    assert client.get("/executions/count").json() == {"count": before}


def test_custom_parameters_only_when_allowed(client: TestClient) -> None:
    body = {"workflow": "demo.count", "parameters": {"n": 1, "extra": "x"}}

    kept = client.post("/executions", json={**body, "allow_custom_parameters": True})

    assert kept.status_code == 201
    assert kept.json()["parameters"] == {"n": 1, "extra": "x"}


def test_unknown_workflow_is_404_unknown_workflow(client: TestClient, service: ExecutionService) -> None:
    r = client.post("/executions", json={"workflow": "nope"})

    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "unknown_workflow"
    assert err["details"] == {"workflow": "nope"}
    assert "demo.count" in err["message"]  # says what is registered
    assert count_rows(service) == 0


def test_unknown_body_field_is_invalid_request_naming_it(client: TestClient) -> None:
    r = client.post("/executions", json={"workflow": "demo.count", "params": {"n": 1}})

    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "invalid_request"
    assert err["details"]["field"] == "params"


def test_malformed_json_is_400_malformed_json(client: TestClient, service: ExecutionService) -> None:
    broken = client.post(
        "/executions", content=b'{"workflow": ', headers={"Content-Type": "application/json"}
    )
    not_json = client.post(
        "/executions", content=b"workflow=demo.count", headers={"Content-Type": "text/plain"}
    )

    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "malformed_json"
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "malformed_json"
    assert count_rows(service) == 0


def test_second_start_on_a_busy_target_is_refused_or_queued(
    client: TestClient, service: ExecutionService
) -> None:
    first = client.post(
        "/executions", json={"workflow": "backup", "parameters": {"db": "a"}, "target": "db1"}
    )
    refused = client.post(
        "/executions", json={"workflow": "backup", "parameters": {"db": "b"}, "target": "db1"}
    )
    queued = client.post(
        "/executions", json={"workflow": "backup", "parameters": {"db": "c"}, "target": "db1", "queue": True}
    )
    forced = client.post(
        "/executions", json={"workflow": "backup", "parameters": {"db": "d"}, "target": "db1", "force": True}
    )

    assert first.json()["status"] == "pending"
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "existing_running_execution"
    assert queued.status_code == 201 and queued.json()["status"] == "queued"
    assert (
        forced.status_code == 201 and forced.json()["status"] == "pending" and forced.json()["force"] is True
    )
    assert service.count(ExecutionFilter(targets=("db1",))) == 3  # the refused one left no row


def test_a_future_schedule_waits_as_scheduled(client: TestClient) -> None:
    at = datetime.now(UTC) + timedelta(hours=1)

    r = client.post(
        "/executions",
        json={
            "workflow": "demo.count",
            "parameters": {"n": 1},
            "schedule": at.isoformat().replace("+00:00", "Z"),
        },
    )

    assert r.status_code == 201
    assert r.json()["status"] == "scheduled"
    assert datetime.fromisoformat(r.json()["scheduled_for"]) == at


def test_bulk_start_answers_every_execution(client: TestClient) -> None:
    r = client.post(
        "/executions:bulk",
        json={
            "executions": [
                {"workflow": "backup", "parameters": {"db": "a"}, "target": "t1"},
                {"workflow": "backup", "parameters": {"db": "b"}, "target": "t1"},
                {"workflow": "demo.count", "parameters": {"n": 2}},
            ]
        },
    )

    assert r.status_code == 201
    items = r.json()["items"]
    assert [e["status"] for e in items] == ["pending", "queued", "pending"]  # queue defaults to true
    assert [e["parameters"] for e in items] == [
        {"db": "a", "compress": True},
        {"db": "b", "compress": True},
        {"n": 2},
    ]


def test_bulk_start_is_all_or_nothing(client: TestClient, service: ExecutionService) -> None:
    bad_item = client.post(
        "/executions:bulk",
        json={"executions": [{"workflow": "demo.count", "parameters": {"n": 1}}, {"workflow": "demo.count"}]},
    )
    client.post("/executions", json={"workflow": "backup", "parameters": {"db": "a"}, "target": "t1"})
    blocked = client.post(
        "/executions:bulk",
        json={
            "executions": [
                {"workflow": "demo.count", "parameters": {"n": 1}},
                {"workflow": "backup", "parameters": {"db": "b"}, "target": "t1"},
            ],
            "queue": False,
        },
    )

    assert bad_item.status_code == 400 and bad_item.json()["error"]["code"] == "invalid_parameters"
    assert blocked.status_code == 409 and blocked.json()["error"]["code"] == "existing_running_execution"
    assert count_rows(service) == 1  # only the single start in between


def test_idempotency_key_replays_the_first_answer(client: TestClient, service: ExecutionService) -> None:
    body = {"workflow": "demo.count", "parameters": {"n": 1}}
    headers = {"Idempotency-Key": "start-once"}

    first = client.post("/executions", json=body, headers=headers)
    again = client.post("/executions", json=body, headers=headers)
    other = client.post("/executions", json=body, headers={"Idempotency-Key": "another"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert other.json()["id"] != first.json()["id"]
    assert count_rows(service) == 2


def test_idempotency_key_replays_a_refusal_too(client: TestClient) -> None:
    busy = client.post("/executions", json={"workflow": "backup", "parameters": {"db": "a"}, "target": "db1"})
    body = {"workflow": "backup", "parameters": {"db": "b"}, "target": "db1"}
    headers = {"Idempotency-Key": "k1"}

    refused = client.post("/executions", json=body, headers=headers)
    client.post(f"/executions/{busy.json()['id']}/cancel")  # the target is free now
    replayed = client.post("/executions", json=body, headers=headers)

    assert refused.status_code == replayed.status_code == 409
    assert replayed.json() == refused.json()


def test_idempotent_bulk_start_and_delete(client: TestClient, service: ExecutionService) -> None:
    body = {"executions": [{"workflow": "demo.count", "parameters": {"n": i}} for i in range(3)]}
    first = client.post("/executions:bulk", json=body, headers={"Idempotency-Key": "bulk"})
    again = client.post("/executions:bulk", json=body, headers={"Idempotency-Key": "bulk"})
    victim = first.json()["items"][0]["id"]
    client.post(f"/executions/{victim}/cancel")

    deleted = client.delete(f"/executions/{victim}", headers={"Idempotency-Key": "del"})
    deleted_again = client.delete(f"/executions/{victim}", headers={"Idempotency-Key": "del"})

    assert [e["id"] for e in again.json()["items"]] == [e["id"] for e in first.json()["items"]]
    assert deleted.status_code == deleted_again.status_code == 204  # not 404 the second time
    assert count_rows(service) == 2


def test_a_key_reused_for_another_request_is_refused_and_does_nothing(
    client: TestClient, service: ExecutionService
) -> None:
    headers = {"Idempotency-Key": "k-shared"}
    started = client.post(
        "/executions", json={"workflow": "demo.count", "parameters": {"n": 1}}, headers=headers
    )
    victim = started.json()["id"]
    client.post(f"/executions/{victim}/cancel").raise_for_status()

    other_route = client.delete(f"/executions/{victim}", headers=headers)
    other_body = client.post(
        "/executions", json={"workflow": "demo.count", "parameters": {"n": 2}}, headers=headers
    )

    for answer in (other_route, other_body):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "idempotency_key_reused"
        assert "different request" in answer.json()["error"]["message"]
    assert client.get(f"/executions/{victim}").status_code == 200  # the DELETE deleted nothing
    assert count_rows(service) == 1
    same = client.post(
        "/executions", json={"workflow": "demo.count", "parameters": {"n": 1}}, headers=headers
    )
    assert same.status_code == 201 and same.json()["id"] == victim  # the first request still replays


def test_overlong_idempotency_key_is_refused(client: TestClient) -> None:
    r = client.post("/executions", json={"workflow": "demo.count", "parameters": {"n": 1}},
                    headers={"Idempotency-Key": "k" * 129})  # fmt: skip

    assert r.status_code == 400
    assert r.json()["error"]["details"]["field"] == "Idempotency-Key"
