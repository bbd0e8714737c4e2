"""`/schedules`: create, read, list, edit, enable/disable, delete, unschedule/reschedule all.

A real app over a real SQLiteStore, on a clock that stands still at START so
fire times can be written out. Firing itself (the background loop) is tested
with the scheduler, not here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conveyor.api import create_token
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App

from .conftest import MakeClient

START = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)  # a Friday; Berlin springs forward on Sunday the 29th
BACKUP = {"workflow": "backup", "parameters": {"db": "main"}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def service(store: SQLiteStore, catalog: App, clock: ManualClock) -> ExecutionService:
    return ExecutionService(store, catalog, clock=clock)


def create(client: TestClient, trigger: Any = "rate:1h", **body: Any) -> dict[str, Any]:
    r = client.post("/schedules", json={**BACKUP, "trigger": trigger, **body})
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def stored(store: SQLiteStore) -> int:
    return len(store.schedule_list())


def error(r: Any, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text
    message: str = r.json()["error"]["message"]
    return message


# --- create and read ----------------------------------------------------------------------


def test_create_answers_the_whole_document_and_get_reads_it_back(client: TestClient) -> None:
    r = client.post(
        "/schedules",
        json={
            **BACKUP,
            "trigger": "cron:*/5 * * * *",
            "timezone": "Europe/Berlin",
            "target": "db1",
            "description": "every five minutes",
            "params": {"source": "jelastic"},
            "misfire": "fire_all",
            "misfire_limit": 3,
            "grace": 30,
            "overlap": "queue",
            "priority": 5,
            "dry_run": True,
        },
    )
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["trigger"] == {
        "kind": "cron",
        "value": "*/5 * * * *",
        "timezone": "Europe/Berlin",
        "text": "cron:*/5 * * * *",
        "description": "cron '*/5 * * * *' (Europe/Berlin)",
    }
    expected = {
        "workflow": "backup", "parameters": {"db": "main"}, "target": "db1",
        "description": "every five minutes", "params": {"source": "jelastic"}, "owner": "anonymous",
        "enabled": True, "suspended": False, "misfire": "fire_all", "misfire_limit": 3, "grace": 30.0,
        "overlap": "queue", "priority": 5, "dry_run": True, "next_fire_at": "2026-03-27T12:05:00.000000Z",
        "next_fire_times": [
            "2026-03-27T12:05:00.000000Z", "2026-03-27T12:10:00.000000Z", "2026-03-27T12:15:00.000000Z",
        ],
        "last_fired_at": None, "last_execution_id": None, "fire_count": 0, "waiting": False,
        "last_error": None, "created_at": "2026-03-27T12:00:00.000000Z",
        "updated_at": "2026-03-27T12:00:00.000000Z",
    }  # fmt: skip
    assert {k: doc[k] for k in expected} == expected
    assert set(doc) == {"id", "trigger", *expected}
    assert client.get(f"/schedules/{doc['id']}").json() == doc


def test_defaults(client: TestClient) -> None:
    doc = create(client, "rate:30s")
    assert (doc["target"], doc["description"], doc["params"]) == (None, "", {})
    assert (doc["misfire"], doc["misfire_limit"], doc["grace"], doc["overlap"]) == ("skip", 10, 10.0, "allow")
    assert (doc["priority"], doc["dry_run"], doc["enabled"]) == (0, False, True)


def test_next_fire_times_of_a_cron_in_berlin_follow_its_wall_clock_across_dst(client: TestClient) -> None:
    # 02:30 does not exist on 2026-03-29 in Berlin: that day fires when the gap ends, 03:00 CEST.
    expected = ["2026-03-28T01:30:00.000000Z", "2026-03-29T01:00:00.000000Z", "2026-03-30T00:30:00.000000Z"]
    as_text = create(client, "cron:30 2 * * *", timezone="Europe/Berlin")
    as_object = create(
        client, {"kind": "cron", "value": "30 2 * * *", "timezone": "Europe/Berlin"}, timezone="Asia/Tokyo"
    )
    zone_outside = create(client, {"kind": "cron", "value": "30 2 * * *"}, timezone="Europe/Berlin")
    for doc in (as_text, as_object, zone_outside):
        assert doc["trigger"]["timezone"] == "Europe/Berlin"
        assert doc["next_fire_times"] == expected
        assert doc["next_fire_at"] == expected[0]
    assert create(client, "cron:30 2 * * *")["next_fire_times"][0] == "2026-03-28T02:30:00.000000Z"  # UTC


@pytest.mark.parametrize(
    ("trigger", "text", "description", "times"),
    [
        ("rate:30s", "rate:30", "every 30 s", ["12:00:30", "12:01:00", "12:01:30"]),
        ({"kind": "rate", "value": 7200}, "rate:7200", "every 2 h", ["14:00:00", "16:00:00", "18:00:00"]),
        ("once_delay:10s", "once_delay:10", "once, 10 s after creation", ["12:00:10"]),
        (
            "date:2026-03-27T15:00:00+01:00",
            "date:2026-03-27T14:00:00Z",
            "once at 2026-03-27T14:00:00Z",
            ["14:00:00"],
        ),
        (
            "cron:0 0/20 * * * ?",
            "cron:0 0/20 * * * ?",
            "cron '0 0/20 * * * ?' (UTC)",
            ["12:20:00", "12:40:00", "13:00:00"],
        ),
    ],
)
def test_every_kind_of_trigger(
    client: TestClient, trigger: Any, text: str, description: str, times: list[str]
) -> None:
    doc = create(client, trigger)
    assert (doc["trigger"]["text"], doc["trigger"]["description"]) == (text, description)
    assert doc["next_fire_times"] == [f"2026-03-27T{t}.000000Z" for t in times]


def test_an_oninit_schedule_has_no_fire_times(client: TestClient) -> None:
    doc = create(client, "oninit")
    assert doc["trigger"]["text"] == "oninit:" and doc["trigger"]["description"] == "at every service start"
    assert (doc["enabled"], doc["next_fire_at"], doc["next_fire_times"]) == (True, None, [])


# --- refusals: nothing half-created ---------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "timezone", "says"),
    [
        ("cron:61 * * * *", None, "invalid cron expression '61 * * * *'"),
        ("cron:* * *", None, "has 3 field(s)"),
        ("cron:*/5 * * * *", "Europe/Berln", "unknown time zone 'Europe/Berln'"),
        ({"kind": "cron", "value": "0 * * * *", "timezone": "Mars/Olympus"}, None, "unknown time zone"),
        ("date:2026-01-01T00:00:00Z", None, "is in the past; give a future instant"),
        ("date:tomorrow", None, "is not an ISO-8601 date-time"),
        ("rate:0", None, "rate '0' must be positive"),
        ({"kind": "rate", "value": 0}, None, "must be positive"),
        ("rate:5 parsecs", None, "unknown unit"),
        ("sometimes:1", None, "unknown trigger kind 'sometimes'"),
        ("*/5 * * * *", None, "has no kind"),
        ({"kind": "cron"}, None, "a cron trigger needs a value"),
        ("", None, "empty trigger"),
    ],
)
def test_a_bad_trigger_is_refused_with_what_is_wrong_and_nothing_is_stored(
    client: TestClient, store: SQLiteStore, trigger: Any, timezone: str | None, says: str
) -> None:
    create(client)
    r = client.post("/schedules", json={**BACKUP, "trigger": trigger, "timezone": timezone})
    assert says in error(r, 400, "invalid_trigger")
    assert stored(store) == 1


def test_unknown_workflow_and_bad_parameters_are_refused_and_nothing_is_stored(
    client: TestClient, store: SQLiteStore
) -> None:
    r = client.post("/schedules", json={"workflow": "nope", "trigger": "rate:1m"})
    assert "workflow 'nope' is not registered" in error(r, 404, "unknown_workflow")
    r = client.post("/schedules", json={"workflow": "backup", "trigger": "rate:1m", "parameters": {}})
    assert "parameters for 'backup' are invalid: db: Field required" in error(r, 400, "invalid_parameters")
    r = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m", "misfire": "sometimes"})
    error(r, 400, "invalid_request")
    r = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m", "grace": -1})
    error(r, 400, "invalid_request")
    r = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m", "trigers": {}})
    error(r, 400, "invalid_request")
    r = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m", "target": "  "})
    error(r, 400, "invalid_request")
    assert stored(store) == 0


def test_unknown_schedule_ids_are_404_not_found(client: TestClient) -> None:
    for r in (
        client.get("/schedules/nope"),
        client.patch("/schedules/nope", json={"description": "x"}),
        client.patch("/schedules/nope", json={"timezone": "UTC"}),
        client.post("/schedules/nope/enable"),
        client.post("/schedules/nope/disable"),
        client.delete("/schedules/nope"),
    ):
        assert "schedule 'nope' does not exist" in error(r, 404, "not_found")


# --- list ---------------------------------------------------------------------------------------


def test_list_pages_oldest_first_and_filters(
    make_client: MakeClient, service: ExecutionService, store: SQLiteStore
) -> None:
    alice = make_client("required", token=create_token(service, "alice", Role.OPERATOR)[1])
    bob = make_client("required", token=create_token(service, "bob", Role.OPERATOR)[1])
    ids = [create(alice, target="db1" if i % 2 else None)["id"] for i in range(5)]
    ids.append(create(bob)["id"])

    seen, cursor, pages = [], None, 0
    while True:
        page = alice.get("/schedules", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [s["id"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids and pages == 3  # no empty trailing page

    def listed(**params: Any) -> list[str]:
        return [s["id"] for s in alice.get("/schedules", params=params).json()["items"]]

    assert listed(owner="alice") == ids[:5]
    assert listed(owner="bob") == [ids[5]]
    assert listed(target="db1") == [ids[1], ids[3]]
    assert listed(ids=f"{ids[4]},{ids[0]},unknown") == [ids[0], ids[4]]
    assert listed(owner="alice", target="db1", limit=1) == [ids[1]]
    error(alice.get("/schedules", params={"limit": 0}), 400, "invalid_request")
    error(alice.get("/schedules", params={"limit": 1001}), 400, "invalid_request")


# --- edit, enable, disable ------------------------------------------------------------------------


def test_patch_changes_only_what_is_given(client: TestClient, clock: ManualClock) -> None:
    doc = create(client, "cron:0 * * * *", description="hourly", target="db1")
    clock.advance(600)
    r = client.patch(f"/schedules/{doc['id']}", json={"description": "still hourly", "priority": 3})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert (changed["description"], changed["priority"], changed["target"]) == ("still hourly", 3, "db1")
    assert changed["trigger"] == doc["trigger"] and changed["next_fire_times"] == doc["next_fire_times"]
    assert changed["updated_at"] == "2026-03-27T12:10:00.000000Z"
    assert changed["created_at"] == doc["created_at"]
    assert client.get(f"/schedules/{doc['id']}").json() == changed

    unbound = client.patch(f"/schedules/{doc['id']}", json={"target": None}).json()
    assert unbound["target"] is None

    new = client.patch(
        f"/schedules/{doc['id']}", json={"trigger": "cron:30 2 * * *", "timezone": "Europe/Berlin"}
    )
    assert new.json()["next_fire_times"][:2] == ["2026-03-28T01:30:00.000000Z", "2026-03-29T01:00:00.000000Z"]
    # the zone alone re-reads the current trigger in it
    tokyo = client.patch(f"/schedules/{doc['id']}", json={"timezone": "Asia/Tokyo"}).json()
    assert tokyo["trigger"]["description"] == "cron '30 2 * * *' (Asia/Tokyo)"
    assert tokyo["next_fire_at"] == "2026-03-27T17:30:00.000000Z"

    other = client.patch(
        f"/schedules/{doc['id']}", json={"workflow": "demo.count", "parameters": {"n": 3}}
    ).json()
    assert (other["workflow"], other["parameters"]) == ("demo.count", {"n": 3})


def test_a_refused_patch_changes_nothing(client: TestClient) -> None:
    doc = create(client, "rate:1h")
    url = f"/schedules/{doc['id']}"
    assert "unknown time zone" in error(
        client.patch(url, json={"trigger": "cron:0 * * * *", "timezone": "Nowhere/X"}), 400, "invalid_trigger"
    )
    error(client.patch(url, json={"trigger": "cron:0 0 31 2 *"}), 400, "invalid_trigger")
    error(client.patch(url, json={"workflow": "nope"}), 404, "unknown_workflow")
    error(client.patch(url, json={"parameters": {"db": 1, "extra": True}}), 400, "invalid_parameters")
    error(client.patch(url, json={"workflow": "demo.count"}), 400, "invalid_parameters")  # backup's params
    assert "description cannot be null" in error(
        client.patch(url, json={"description": None}), 400, "invalid_request"
    )
    error(client.patch(url, json={"trigger": None}), 400, "invalid_request")
    error(client.patch(url, json={"owner": "mallory"}), 400, "invalid_request")
    assert "nothing to change" in error(client.patch(url, json={}), 400, "invalid_request")
    assert client.get(url).json() == doc


def test_disable_then_enable_counts_the_next_fire_from_now(client: TestClient, clock: ManualClock) -> None:
    doc = create(client, "rate:1h")
    off = client.post(f"/schedules/{doc['id']}/disable")
    assert off.status_code == 200, off.text
    assert (off.json()["enabled"], off.json()["next_fire_at"], off.json()["next_fire_times"]) == (
        False,
        None,
        [],
    )
    clock.advance(3 * 3600 + 60)  # 15:01
    on = client.post(f"/schedules/{doc['id']}/enable").json()
    assert on["enabled"] is True
    assert on["next_fire_times"] == [
        "2026-03-27T16:00:00.000000Z", "2026-03-27T17:00:00.000000Z", "2026-03-27T18:00:00.000000Z"
    ]  # fmt: skip
    assert client.patch(f"/schedules/{doc['id']}", json={"enabled": False}).json()["enabled"] is False


# --- delete ---------------------------------------------------------------------------------------


def test_delete_one(client: TestClient, store: SQLiteStore) -> None:
    doc = create(client)
    r = client.delete(f"/schedules/{doc['id']}")
    assert r.status_code == 204 and r.content == b""
    error(client.get(f"/schedules/{doc['id']}"), 404, "not_found")
    assert stored(store) == 0


def test_delete_many_is_all_or_nothing(client: TestClient, store: SQLiteStore) -> None:
    a, b, c = (create(client)["id"] for _ in range(3))
    r = client.delete("/schedules", params={"ids": f"{a},nope"})
    assert "schedule 'nope' does not exist" in error(r, 404, "not_found")
    assert stored(store) == 3
    r = client.delete("/schedules", params={"ids": f"{a},{b},{a}"})
    assert r.status_code == 200 and r.json() == {"deleted": 2}
    assert [s.id for s in store.schedule_list()] == [c]
    error(client.delete("/schedules"), 400, "invalid_request")
    error(client.delete("/schedules", params={"ids": " , "}), 400, "invalid_request")


# --- unschedule all / reschedule all ------------------------------------------------------------


def test_unschedule_all_then_reschedule_all_restores_exactly_the_enabled_ones_of_the_caller(
    make_client: MakeClient, service: ExecutionService, clock: ManualClock
) -> None:
    alice = make_client("required", token=create_token(service, "alice", Role.OPERATOR)[1])
    bob = make_client("required", token=create_token(service, "bob", Role.OPERATOR)[1])
    on1, on2 = create(alice, "rate:1h")["id"], create(alice, "cron:0 * * * *")["id"]
    off = create(alice, "rate:1h", enabled=False)["id"]
    theirs = create(bob, "rate:1h")["id"]

    r = alice.post("/schedules:unschedule-all")
    assert r.status_code == 200 and r.json() == {"count": 2}

    def state(sid: str) -> tuple[bool, bool, int]:
        doc = alice.get(f"/schedules/{sid}").json()
        return doc["enabled"], doc["suspended"], len(doc["next_fire_times"])

    assert [state(s) for s in (on1, on2, off, theirs)] == [
        (False, True, 0), (False, True, 0), (False, False, 0), (True, False, 3)
    ]  # fmt: skip
    assert alice.post("/schedules:unschedule-all").json() == {"count": 0}

    clock.advance(1800)
    r = alice.post("/schedules:reschedule-all")
    assert r.status_code == 200 and r.json() == {"count": 2}
    assert [state(s) for s in (on1, on2, off, theirs)] == [
        (True, False, 3), (True, False, 3), (False, False, 0), (True, False, 3)
    ]  # fmt: skip
    assert alice.get(f"/schedules/{on2}").json()["next_fire_at"] == "2026-03-27T13:00:00.000000Z"
    assert alice.post("/schedules:reschedule-all").json() == {"count": 0}


def test_all_routes_are_not_read_as_ids(client: TestClient) -> None:
    create(client)
    r = client.get("/schedules:unschedule-all")
    assert error(r, 405, "method_not_allowed") and r.headers["Allow"] == "POST"


# --- roles and idempotency ------------------------------------------------------------------------


def test_viewers_read_and_operators_write(
    make_client: MakeClient, service: ExecutionService, store: SQLiteStore
) -> None:
    viewer = make_client("required", token=create_token(service, "vera", Role.VIEWER)[1])
    operator = make_client("required", token=create_token(service, "otto", Role.OPERATOR)[1])
    doc = create(operator)
    assert doc["owner"] == "otto"
    sid = doc["id"]
    assert viewer.get("/schedules").json()["items"][0]["id"] == sid
    assert viewer.get(f"/schedules/{sid}").status_code == 200
    for r in (
        viewer.post("/schedules", json={**BACKUP, "trigger": "rate:1m"}),
        viewer.patch(f"/schedules/{sid}", json={"description": "x"}),
        viewer.post(f"/schedules/{sid}/disable"),
        viewer.post(f"/schedules/{sid}/enable"),
        viewer.delete(f"/schedules/{sid}"),
        viewer.delete("/schedules", params={"ids": sid}),
        viewer.post("/schedules:unschedule-all"),
        viewer.post("/schedules:reschedule-all"),
    ):
        error(r, 403, "forbidden")
    assert operator.get(f"/schedules/{sid}").json() == doc
    assert stored(store) == 1
    error(make_client("required").get("/schedules"), 401, "unauthorized")


def test_idempotency_key_creates_once(client: TestClient, store: SQLiteStore) -> None:
    headers = {"Idempotency-Key": "k1"}
    first = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m"}, headers=headers)
    again = client.post("/schedules", json={**BACKUP, "trigger": "rate:1m"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert stored(store) == 1


def test_openapi_documents_the_schedule_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get", "delete"} <= set(paths["/api/v1/schedules"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/schedules/{schedule_id}"])
    for path in ("/schedules:unschedule-all", "/schedules:reschedule-all", "/schedules/{schedule_id}/enable"):
        assert "post" in paths[f"/api/v1{path}"]
