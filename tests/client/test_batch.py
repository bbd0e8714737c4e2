"""`client.batch(...)`, sync and async, against the real API server; and the request it builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conveyor.api import create_token
from conveyor.client import AsyncClient, AuthError, Client, InvalidRequestError, Status, calls
from conveyor.core.model import Role

from .live import Live, live_server

START = {"workflow": "demo.count", "parameters": {"n": 2}}


def statuses(answer: dict[str, Any]) -> list[int | None]:
    return [r["status"] for r in answer["results"]]


def test_the_request_it_builds() -> None:
    call = calls.batch(
        [
            {"method": "post", "path": "/executions", "body": START},
            ("GET", "/executions/count"),
            ("DELETE", "/executions/x", None),
            {"method": "GET", "path": "/executions", "query": {"limit": 5}},
        ],
        sync=False,
        stop_on_error=True,
        idempotency_key="k",
    )
    assert (call.method, call.path, call.headers) == ("POST", "/batch", {"Idempotency-Key": "k"})
    assert call.json == {
        "calls": [
            {"method": "post", "path": "/executions", "body": START},
            {"method": "GET", "path": "/executions/count", "body": None},
            {"method": "DELETE", "path": "/executions/x", "body": None},
            {"method": "GET", "path": "/executions", "body": None, "query": {"limit": 5}},
        ],
        "sync": False,
        "stop_on_error": True,
    }
    with pytest.raises(TypeError, match="unknown batch call field"):
        calls.batch([{"method": "GET", "path": "/health", "headers": {}}])
    with pytest.raises(TypeError, match="needs a method and a path"):
        calls.batch([{"path": "/health"}])
    with pytest.raises(TypeError, match="mapping or a"):
        calls.batch(["GET /health"])


def test_sync_batch(client: Client, live: Live) -> None:
    answer = client.batch(
        [
            {"method": "POST", "path": "/executions", "body": START},
            ("POST", "/executions", {"workflow": "nope"}),  # fails in its slot; does not raise
            ("GET", "/api/v1/executions/count"),
        ]
    )
    assert answer["stopped_at"] is None
    assert statuses(answer) == [201, 404, 200]
    started = answer["results"][0]["body"]
    assert client.executions.get(started["id"]).raw == started
    assert answer["results"][1]["body"]["error"]["code"] == "unknown_workflow"
    assert answer["results"][2]["body"] == {"count": 1}


def test_stop_on_error(client: Client) -> None:
    answer = client.batch(
        [("GET", "/executions/missing"), ("POST", "/executions", START)], stop_on_error=True
    )
    assert answer["stopped_at"] == 0
    assert statuses(answer) == [404, None]
    assert answer["results"][1]["skipped"] is True
    assert client.executions.count() == 0


def test_a_bad_batch_raises(client: Client) -> None:
    with pytest.raises(InvalidRequestError, match=r"call 1: a batch cannot contain another batch") as info:
        client.batch([("GET", "/health"), ("POST", "/batch", {"calls": []})])
    assert info.value.details == {"field": "calls.1.path", "index": 1}
    with pytest.raises(InvalidRequestError, match="1 to 100 calls"):
        client.batch([])


def test_async_batch_then_wait(client: Client) -> None:
    accepted = client.batch([("POST", "/executions", START), ("GET", "/executions/count")], sync=False)
    ex = client.executions.get(accepted["execution_id"])
    assert ex.workflow == "conveyor.batch"
    done = ex.wait(timeout=15, poll_interval=0.05)
    assert done.status == Status.SUCCEEDED
    assert statuses(done.result) == [201, 200]
    assert done.result["stopped_at"] is None


def test_idempotency_key(client: Client) -> None:
    first = client.batch([("POST", "/executions", START)], idempotency_key="b1")
    again = client.batch([("POST", "/executions", START)], idempotency_key="b1")
    assert again == first
    assert client.executions.count() == 1


def test_each_call_uses_the_clients_token(tmp_path: Path) -> None:
    with live_server(tmp_path, auth_mode="required") as server:
        viewer = create_token(server.service, "viewer-bot", Role.VIEWER)[1]
        with Client(server.url, viewer) as as_viewer, Client(server.url) as anonymous:
            answer = as_viewer.batch([("GET", "/executions/count"), ("POST", "/executions", START)])
            assert statuses(answer) == [200, 403]
            with pytest.raises(AuthError):
                anonymous.batch([("GET", "/health")])


async def test_async_client_batch(aclient: AsyncClient) -> None:
    answer = await aclient.batch([("POST", "/executions", START), ("GET", "/executions/nope")])
    assert statuses(answer) == [201, 404]
    accepted = await aclient.batch([("GET", "/executions/count")], sync=False, stop_on_error=True)
    done = await (await aclient.executions.get(accepted["execution_id"])).wait(timeout=15, poll_interval=0.05)
    assert done.status == Status.SUCCEEDED
    assert done.result["results"][0]["body"] == {"count": 2}
    with pytest.raises(InvalidRequestError, match="method 'FETCH'"):
        await aclient.batch([("FETCH", "/health")])
