"""Actions, external status reports, messages, events and deleting executions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.core.executions import ExecutionService

from .support import claim, succeed


def start(client: TestClient, **fields: Any) -> str:
    r = client.post("/executions", json={"workflow": "demo.count", "parameters": {"n": 5}, **fields})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def status_of(client: TestClient, execution_id: str) -> str:
    return str(client.get(f"/executions/{execution_id}").json()["status"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", "/cancel"),
        ("POST", "/pause"),
        ("POST", "/resume"),
        ("POST", "/requeue"),
        ("POST", "/kill"),
        ("GET", "/events"),
        ("GET", "/events/stream"),
        ("DELETE", ""),
    ],
)
def test_unknown_execution_is_404_not_found(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, f"/executions/0000-missing{path}")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert r.json()["error"]["details"] == {"kind": "execution", "id": "0000-missing"}


def test_illegal_transition_is_409_and_changes_nothing(client: TestClient) -> None:
    ex = start(client)
    assert client.post(f"/executions/{ex}/cancel").json()["status"] == "cancelled"

    r = client.post(f"/executions/{ex}/pause")

    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "illegal_transition"
    assert err["details"]["status"] == "cancelled"
    assert "pause" in err["message"]
    assert status_of(client, ex) == "cancelled"


def test_cancel_modes_on_running_executions(client: TestClient, service: ExecutionService) -> None:
    polite, forced, killed, by_route, killed_by_route = (start(client, target=f"t{i}") for i in range(5))
    claim(service, polite, forced, killed, by_route, killed_by_route)

    assert client.post(f"/executions/{polite}/cancel").json()["status"] == "cancelling"
    assert client.post(f"/executions/{forced}/cancel", json={"mode": "force"}).json()["status"] == "cancelled"
    assert (
        client.post(f"/executions/{killed}/cancel", json={"mode": "kill"}).json()["status"]
        == "kill_cancelling"
    )
    assert client.post(f"/executions/{by_route}/force-cancel", json={}).json()["status"] == "cancelled"
    assert client.post(f"/executions/{killed_by_route}/kill").json()["status"] == "kill_cancelling"
    bad = client.post(f"/executions/{polite}/cancel", json={"mode": "gently"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "mode"


def test_pause_resume_requeue(client: TestClient, service: ExecutionService) -> None:
    waiting = start(client, schedule=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    running = start(client, target="r")
    claim(service, running)

    assert client.post(f"/executions/{waiting}/pause").json()["status"] == "paused"
    assert client.post(f"/executions/{waiting}/resume").json()["status"] == "pending"  # queued, then admitted
    assert client.post(f"/executions/{running}/pause").json()["status"] == "pausing"
    succeed(service, running, result=5)
    assert client.get(f"/executions/{running}").json()["result"] == 5

    requeued = client.post(f"/executions/{running}/requeue").json()
    assert requeued["status"] == "pending" and requeued["result"] is None and requeued["attempt"] == 0

    client.post(f"/executions/{waiting}/cancel")
    resumed = client.post(f"/executions/{waiting}/resume", json={"force": True})
    assert resumed.status_code == 200 and resumed.json()["status"] == "pending"


def test_patch_reports_status_from_external_workers(client: TestClient) -> None:
    done, failed_text, failed_obj = (
        start(client, target="a"),
        start(client, target="b"),
        start(client, target="c"),
    )
    for ex in (done, failed_text, failed_obj):
        assert client.patch(f"/executions/{ex}", json={"status": "running"}).json()["status"] == "running"

    ok = client.patch(f"/executions/{done}", json={"status": "succeeded", "result": {"rows": 3}}).json()
    text = client.patch(f"/executions/{failed_text}", json={"status": "failed", "error": "disk full"}).json()
    obj = client.patch(
        f"/executions/{failed_obj}",
        json={"status": "failed", "error": {"type": "IOError", "message": "gone"}},
    ).json()

    assert ok["status"] == "succeeded" and ok["result"] == {"rows": 3} and ok["ended_at"].endswith("Z")
    assert text["error"] == {"type": "Error", "message": "disk full", "traceback": None}
    assert obj["error"] == {"type": "IOError", "message": "gone", "traceback": None}
    bad = client.patch(f"/executions/{done}", json={"status": "finished"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "status"
    illegal = client.patch(f"/executions/{done}", json={"status": "running"})
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"


def test_progress_is_computed(client: TestClient, service: ExecutionService) -> None:
    ex = start(client)
    claim(service, ex)
    service.store.execution_set_progress("test-worker:1", ex, 7, 20, None)

    doc = client.get(f"/executions/{ex}").json()

    assert (doc["finished_operations"], doc["total_operations"], doc["progress"]) == (7, 20, 0.35)


def test_messages_and_events(client: TestClient, service: ExecutionService) -> None:
    ex = start(client)
    claim(service, ex)

    r = client.post(f"/executions/{ex}/messages", json={"message": "halfway", "level": "warning"})
    bad_level = client.post(f"/executions/{ex}/messages", json={"message": "x", "level": "loud"})
    events = client.get(f"/executions/{ex}/events").json()["items"]
    later = client.get(f"/executions/{ex}/events", params={"after": events[0]["seq"], "limit": 1}).json()[
        "items"
    ]

    assert r.status_code == 201 and r.json() == {}
    assert bad_level.status_code == 400
    assert [(e["kind"], e["message"]) for e in events] == [
        ("status", "created as pending"),
        ("status", "pending -> running"),
        ("message", "halfway"),
    ]
    assert (
        events[2]["level"] == "warning" and events[2]["execution_id"] == ex and events[2]["ts"].endswith("Z")
    )
    assert events[1]["data"] == {"from": "pending", "to": "running"}
    assert [e["seq"] for e in later] == [events[1]["seq"]]


def test_delete_one_only_when_not_active(client: TestClient, service: ExecutionService) -> None:
    ex = start(client)

    active = client.delete(f"/executions/{ex}")
    client.post(f"/executions/{ex}/cancel")
    gone = client.delete(f"/executions/{ex}")

    assert active.status_code == 409 and active.json()["error"]["code"] == "conflict"
    assert gone.status_code == 204 and gone.content == b""
    assert client.get(f"/executions/{ex}").status_code == 404


def test_delete_many_deletes_finished_ones_only(client: TestClient) -> None:
    finished = [start(client, target=f"t{i}") for i in range(5)]
    for ex in finished:
        client.post(f"/executions/{ex}/cancel")
    other = client.post("/executions", json={"workflow": "backup", "parameters": {"db": "x"}}).json()["id"]
    client.post(f"/executions/{other}/cancel")
    running = start(client, target="busy")

    nothing_chosen = client.delete("/executions")
    keep_two = client.delete("/executions", params={"keep_last": 2, "workflow": "demo.count"})
    rest = client.delete("/executions", params={"to_datetime": datetime.now(UTC).isoformat()})

    assert nothing_chosen.status_code == 400
    assert keep_two.json() == {"deleted": 3}
    assert rest.json() == {"deleted": 3}  # the two kept plus the backup; never the pending one
    assert [e["id"] for e in client.get("/executions").json()["items"]] == [running]
