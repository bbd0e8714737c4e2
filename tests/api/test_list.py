"""Listing and counting executions: filters, sort, include, cursor paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient


def start(client: TestClient, workflow: str = "demo.count", **fields: Any) -> dict[str, Any]:
    params = fields.pop("parameters", {"n": 1} if workflow == "demo.count" else {"db": "x"})
    r = client.post("/executions", json={"workflow": workflow, "parameters": params, **fields})
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


@pytest.fixture
def mixed(client: TestClient) -> dict[str, list[str]]:
    """Four counts, three backups on three targets (one cancelled), one system execution."""
    counts = [start(client)["id"] for _ in range(4)]
    backups = [start(client, "backup", target=f"db{i}")["id"] for i in range(3)]
    client.post(f"/executions/{backups[0]}/cancel")
    system = [start(client, "maintenance", parameters={}, queue=True)["id"]]
    return {"counts": counts, "backups": backups, "system": system}


def ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [e["id"] for e in r.json()["items"]]


def test_list_is_newest_first_by_default(client: TestClient, mixed: dict[str, list[str]]) -> None:
    r = client.get("/executions")

    everything = mixed["counts"] + mixed["backups"] + mixed["system"]
    assert ids(r) == list(reversed(everything))
    assert r.json()["next_cursor"] is None
    assert "total" not in r.json()


def test_filters(client: TestClient, mixed: dict[str, list[str]]) -> None:
    assert sorted(ids(client.get("/executions", params={"workflow": "backup"}))) == sorted(mixed["backups"])
    assert ids(client.get("/executions", params={"status": "cancelled"})) == [mixed["backups"][0]]
    both = client.get("/executions", params={"target": "db1,db2"})
    assert sorted(ids(both)) == sorted(mixed["backups"][1:])
    repeated = client.get("/executions?target=db1&target=db2")
    assert sorted(ids(repeated)) == sorted(mixed["backups"][1:])
    assert ids(client.get("/executions", params={"is_system": "true"})) == mixed["system"]
    assert len(ids(client.get("/executions", params={"is_system": "false", "created_by": "anonymous"}))) == 7
    assert ids(client.get("/executions", params={"created_by": "someone-else"})) == []
    assert ids(client.get("/executions", params={"dry_run": "true"})) == []


def test_created_after_and_before(client: TestClient, mixed: dict[str, list[str]]) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: UTC

    assert ids(client.get("/executions", params={"created_after": future})) == []
    assert len(ids(client.get("/executions", params={"created_after": past, "created_before": future}))) == 8


def test_sort_and_include(client: TestClient, mixed: dict[str, list[str]]) -> None:
    r = client.get("/executions", params={"sort": "workflow,-created_at", "include": "workflow,status"})

    items = r.json()["items"]
    assert [e["workflow"] for e in items] == ["backup"] * 3 + ["demo.count"] * 4 + ["maintenance"]
    assert [e["id"] for e in items[:3]] == list(reversed(mixed["backups"]))
    assert all(set(e) == {"id", "workflow", "status"} for e in items)


def test_get_with_include(client: TestClient, mixed: dict[str, list[str]]) -> None:
    r = client.get(f"/executions/{mixed['counts'][0]}", params={"include": "status,progress"})

    assert r.json() == {"id": mixed["counts"][0], "status": "pending", "progress": None}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "runing"}, "status"),
        ({"sort": "color"}, "sort"),
        ({"include": "secret"}, "include"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"is_system": "maybe"}, "is_system"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_query_values_are_400_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    r = client.get("/executions", params=params)

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_request"
    assert r.json()["error"]["details"]["field"] == field


def test_cursor_pages_through_everything_exactly_once(client: TestClient) -> None:
    created = [start(client, "backup" if i % 3 else "demo.count", queue=True, target=f"t{i % 4}")["id"]
               for i in range(23)]  # fmt: skip
    expected = ids(client.get("/executions", params={"sort": "target,-created_at", "limit": 1000}))

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": "target,-created_at", "limit": 5, "with_total": "true"}
        if cursor:
            params["cursor"] = cursor
        r = client.get("/executions", params=params)
        assert r.json()["total"] == 23
        seen += ids(r)
        pages += 1
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break

    assert pages == 5
    assert seen == expected
    assert sorted(seen) == sorted(created)


def test_count_takes_the_same_filters(client: TestClient, mixed: dict[str, list[str]]) -> None:
    assert client.get("/executions/count").json() == {"count": 8}
    assert client.get("/executions/count", params={"workflow": "backup,maintenance"}).json() == {"count": 4}
    assert client.get("/executions/count", params={"status": "pending", "target": "db1"}).json() == {
        "count": 1
    }
    assert client.get("/executions/count", params={"status": "bogus"}).status_code == 400


def test_counts_answers_every_status_queue_and_workflow_in_one_call(
    client: TestClient, mixed: dict[str, list[str]]
) -> None:
    r = client.get("/executions/counts")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["total"] == 8
    assert doc["by_status"]["pending"] == 6 and doc["by_status"]["cancelled"] == 1
    assert doc["by_status"]["failed"] == 0  # every status is there, zeros included
    assert doc["by_workflow"]["backup"] == {"pending": 2, "cancelled": 1}
    assert sum(sum(by.values()) for by in doc["by_queue"].values()) == 8
    # The same numbers the one-at-a-time count gives.
    for status, n in doc["by_status"].items():
        assert client.get("/executions/count", params={"status": status}).json() == {"count": n}

    backups = client.get("/executions/counts", params={"workflow": "backup"}).json()
    assert (backups["total"], backups["by_status"]["pending"]) == (3, 2)
    on_db1 = client.get("/executions/counts", params={"target": "db1"}).json()
    assert (on_db1["total"], on_db1["by_status"]["pending"]) == (1, 1)
