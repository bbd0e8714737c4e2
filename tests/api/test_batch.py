"""`POST /api/v1/batch`: calls run in order through the same app, sync or as a background execution."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conveyor.api import create_token
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ExecutionFilter, Role, Status
from tests.helpers import wait_until

from .conftest import MakeApp, MakeClient
from .support import LiveServer, serve

START = {"workflow": "demo.count", "parameters": {"n": 1}}
DEADLINE = 15.0


def call(method: str, path: str, body: Any = None, **extra: Any) -> dict[str, Any]:
    return {"method": method, "path": path, "body": body, **extra}


def start_call(n: int = 1, workflow: str = "demo.count") -> dict[str, Any]:
    return call("POST", "/executions", {"workflow": workflow, "parameters": {"n": n}})


def statuses(answer: dict[str, Any]) -> list[int | None]:
    return [r["status"] for r in answer["results"]]


def count(service: ExecutionService, workflow: str = "demo.count") -> int:
    return service.count(ExecutionFilter(workflows=(workflow,)))


@pytest.fixture
def tokens(service: ExecutionService) -> dict[str, str]:
    return {role.value: create_token(service, f"{role.value}-bot", role)[1] for role in Role}


# --- sync batches ---------------------------------------------------------------------------


def test_calls_run_in_order(client: TestClient, service: ExecutionService) -> None:
    r = client.post(
        "/batch",
        json={
            "calls": [
                start_call(1),
                start_call(2),
                call("GET", "/api/v1/executions", query={"sort": "id", "include": ["parameters"]}),
                call("get", "executions/count"),
            ]
        },
    )

    assert r.status_code == 200
    answer = r.json()
    assert set(answer) == {"results", "stopped_at"} and answer["stopped_at"] is None
    assert statuses(answer) == [201, 201, 200, 200]
    first, second, listed, counted = answer["results"]
    assert [x["index"] for x in answer["results"]] == [0, 1, 2, 3]
    assert (first["method"], first["path"], first["skipped"]) == ("POST", "/api/v1/executions", False)
    assert (counted["method"], counted["path"]) == ("GET", "/api/v1/executions/count")
    # the list ran after both starts, so it sees both, in start order
    assert listed["body"]["items"] == [
        {"id": first["body"]["id"], "parameters": {"n": 1}},
        {"id": second["body"]["id"], "parameters": {"n": 2}},
    ]
    assert counted["body"] == {"count": 2}
    assert count(service) == 2


def test_each_result_is_what_the_direct_call_answers(client: TestClient, service: ExecutionService) -> None:
    ex_id = client.post("/executions", json=START).json()["id"]
    calls = [  # none of these changes anything, so each can be sent again directly and compared
        call("GET", f"/executions/{ex_id}"),
        call("GET", "/executions/no-such-id"),
        call("POST", "/executions", {"workflow": "demo.count", "parameters": {"n": "many"}}),
        call("POST", "/executions", {"workflow": "nope"}),
        call("POST", "/executions", {"workflow": "demo.count", "params": {}}),
        call("POST", "/executions", None),
        call("GET", "/workflows/backup"),
        call("GET", "/executions", query={"limit": 0}),
        call("PUT", "/executions"),
        call("GET", "/no/such/route"),
        call("POST", f"/executions/{ex_id}/resume"),
        call("GET", "/health"),
    ]

    answer = client.post("/batch", json={"calls": calls}).json()

    assert statuses(answer) == [200, 404, 400, 404, 400, 400, 200, 400, 405, 404, 409, 200]
    for result, c in zip(answer["results"], calls, strict=True):
        direct = client.request(c["method"], c["path"], params=c.get("query"), json=c["body"])
        assert (result["status"], result["body"]) == (direct.status_code, direct.json()), c
    codes = [(r["body"].get("error") or {}).get("code") for r in answer["results"]]
    assert codes == [None, "not_found", "invalid_parameters", "unknown_workflow", "invalid_request",
                     "invalid_request", None, "invalid_request", "method_not_allowed", "not_found",
                     "illegal_transition", None]  # fmt: skip
    assert count(service) == 1


def test_calls_that_change_things_answer_as_they_would_directly(client: TestClient) -> None:
    ex_id = client.post("/executions", json=START).json()["id"]
    done = client.post("/executions", json=START).json()["id"]
    client.post(f"/executions/{done}/cancel")  # waiting: cancelled at once, so it can be deleted

    answer = client.post(
        "/batch",
        json={
            "calls": [
                call("POST", f"/executions/{ex_id}/pause"),
                call("POST", f"/executions/{ex_id}/pause"),  # pausing a paused one changes nothing
                call("POST", f"/executions/{ex_id}/messages", {"message": "hello"}),
                call("DELETE", f"/executions/{done}"),
                call("DELETE", f"/executions/{done}"),
                call("PATCH", f"/executions/{ex_id}", {"status": "bogus"}),
            ]
        },
    ).json()

    assert statuses(answer) == [200, 200, 201, 204, 404, 400]
    paused = client.get(f"/executions/{ex_id}").json()
    assert answer["results"][1]["body"] == paused and paused["status"] == "paused"
    assert answer["results"][2]["body"] == {}
    assert answer["results"][3]["body"] is None  # 204: no body
    assert answer["results"][4]["body"] == client.delete(f"/executions/{done}").json()
    assert [e["message"] for e in client.get(f"/executions/{ex_id}/events").json()["items"]][-1] == "hello"


def test_a_non_json_answer_comes_back_as_text(client: TestClient) -> None:
    answer = client.post("/batch", json={"calls": [call("GET", "/docs")]}).json()
    (result,) = answer["results"]
    assert result["status"] == 200
    assert isinstance(result["body"], str) and "<html" in result["body"].lower()


def test_a_failing_call_does_not_stop_the_others(client: TestClient, service: ExecutionService) -> None:
    r = client.post("/batch", json={"calls": [start_call(1), start_call(workflow="nope"), start_call(3)]})

    assert r.status_code == 200
    assert statuses(r.json()) == [201, 404, 201]
    assert r.json()["stopped_at"] is None
    assert count(service) == 2


def test_stop_on_error_skips_the_rest(client: TestClient, service: ExecutionService) -> None:
    calls = [start_call(1), call("GET", "/executions/missing"), start_call(3), call("GET", "/health")]

    r = client.post("/batch", json={"calls": calls, "stop_on_error": True})

    assert r.status_code == 200
    answer = r.json()
    assert answer["stopped_at"] == 1
    assert statuses(answer) == [201, 404, None, None]
    assert answer["results"][2:] == [
        {"index": 2, "method": "POST", "path": "/api/v1/executions", "status": None, "body": None,
         "skipped": True},
        {"index": 3, "method": "GET", "path": "/api/v1/health", "status": None, "body": None,
         "skipped": True},
    ]  # fmt: skip
    assert count(service) == 1
    # the last call failing is also where it stopped, with nothing left to skip
    tail = client.post("/batch", json={"calls": calls[:2], "stop_on_error": True}).json()
    assert (tail["stopped_at"], statuses(tail)) == (1, [201, 404])


@pytest.mark.parametrize(
    ("calls", "field", "words"),
    [
        ([call("FETCH", "/health")], "calls.0.method", "method 'FETCH' is not one of GET, POST"),
        ([call("GET", "/health"), call("GET", "/api/v2/executions")], "calls.1.path", "outside /api/v1"),
        ([call("GET", "/health"), call("GET", "/ui/index.html")], None, None),  # relative: /api/v1/ui/...
        ([call("GET", "/executions/../../../ui")], "calls.0.path", "leads outside /api/v1"),
        ([call("GET", "http://example.com/api/v1/health")], "calls.0.path", "not a URL"),
        ([call("GET", "")], "calls.0.path", "the path is empty"),
        ([start_call(), call("POST", "/batch", {"calls": []})], "calls.1.path", "another batch"),
        ([call("POST", "/api/v1/batch/")], "calls.0.path", "another batch"),
        ([call("POST", "/executions/../batch")], "calls.0.path", "another batch"),
        ([call("POST", "/%62atch")], "calls.0.path", "another batch"),
        ([call("GET", "/executions/x/events/stream")], "calls.0.path", "events stream"),
        ([call("GET", "/health")] * 100, "calls", "1 to 100 calls, not 101"),
        ([], "calls", "1 to 100 calls, not 0"),
    ],
)
def test_bad_batches_are_refused_before_any_call_runs(
    client: TestClient,
    service: ExecutionService,
    calls: list[dict[str, Any]],
    field: str | None,
    words: str | None,
) -> None:
    r = client.post("/batch", json={"calls": [start_call(), *calls]} if calls else {"calls": []})

    if field is None:  # not a validation error: the call runs and answers 404 in its slot
        assert r.status_code == 200 and statuses(r.json())[-1] == 404
        return
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_request"
    assert words is not None and words in error["message"]
    if field.startswith("calls."):
        index = int(field.split(".")[1]) + 1  # a valid start was put in front
        assert error["details"] == {"field": f"calls.{index}.{field.split('.')[2]}", "index": index}
        assert error["message"].startswith(f"call {index}: ")
    else:
        assert error["details"]["field"] == "calls"
    assert count(service) == 0  # the valid start in front did not run either


def test_malformed_batch_bodies(client: TestClient) -> None:
    unknown_field = client.post("/batch", json={"calls": [call("GET", "/health")], "parallel": True})
    unknown_call_field = client.post(
        "/batch", json={"calls": [{"method": "GET", "path": "/health", "headers": {}}]}
    )
    not_json = client.post("/batch", content=b"{", headers={"Content-Type": "application/json"})

    assert (
        unknown_field.status_code == 400 and unknown_field.json()["error"]["details"]["field"] == "parallel"
    )
    assert unknown_call_field.status_code == 400
    assert unknown_call_field.json()["error"]["details"]["field"] == "calls.0.headers"
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "malformed_json"
    assert client.get("/batch").status_code == 405
    assert client.get("/batch").headers["Allow"] == "POST"


def test_query_values(client: TestClient) -> None:
    for n in (1, 2, 3):
        client.post("/executions", json={**START, "parameters": {"n": n}, "priority": n})
    answer = client.post(
        "/batch",
        json={
            "calls": [
                call("GET", "/executions", query={"sort": "-priority", "limit": 2, "with_total": True,
                                                  "include": ["priority", "status"], "cursor": None}),
                call("GET", "/executions?limit=1&include=priority", query={"sort": "priority"}),
            ]
        },
    ).json()  # fmt: skip

    listed, one = (r["body"] for r in answer["results"])
    assert [x["priority"] for x in listed["items"]] == [3, 2] and listed["total"] == 3
    assert set(listed["items"][0]) == {"id", "priority", "status"}
    assert [x["priority"] for x in one["items"]] == [1]
    assert answer["results"][1]["path"] == "/api/v1/executions?limit=1&include=priority"
    # `query` overrides a name the path's query also gives
    (over,) = client.post(
        "/batch", json={"calls": [call("GET", "/executions?limit=1", query={"limit": 2})]}
    ).json()["results"]
    assert len(over["body"]["items"]) == 2


# --- auth -----------------------------------------------------------------------------------


def test_auth_applies_to_each_call(
    make_client: MakeClient, tokens: dict[str, str], service: ExecutionService
) -> None:
    viewer = make_client("required", token=tokens["viewer"])
    operator = make_client("required", token=tokens["operator"])
    calls = [call("GET", "/executions"), start_call(), call("GET", "/workflows"), call("GET", "/tokens")]

    as_viewer = viewer.post("/batch", json={"calls": calls})
    as_operator = operator.post("/batch", json={"calls": calls})

    assert as_viewer.status_code == 200
    assert statuses(as_viewer.json()) == [200, 403, 200, 403]
    refused = as_viewer.json()["results"][1]["body"]["error"]
    assert refused == viewer.post("/executions", json=START).json()["error"]
    assert refused["details"] == {"role": "viewer", "required": "operator"}
    assert statuses(as_operator.json()) == [200, 201, 200, 403]
    assert as_operator.json()["results"][1]["body"]["created_by"] == "operator-bot"
    assert count(service) == 1


def test_a_batch_without_a_valid_token_is_refused(make_client: MakeClient, service: ExecutionService) -> None:
    anonymous = make_client("required")
    bad = make_client("required", token="not-a-token")
    body = {"calls": [start_call()]}

    for r in (anonymous.post("/batch", json=body), bad.post("/batch", json=body)):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
    assert count(service) == 0


def test_open_mode_calls_act_as_the_anonymous_admin(client: TestClient) -> None:
    answer = client.post("/batch", json={"calls": [start_call(), call("GET", "/tokens")]}).json()
    assert statuses(answer) == [201, 200]
    assert answer["results"][0]["body"]["created_by"] == "anonymous"


# --- idempotency ----------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(client: TestClient, service: ExecutionService) -> None:
    body = {"calls": [start_call(), call("GET", "/executions/count")]}
    key = {"Idempotency-Key": "batch-1"}

    first = client.post("/batch", json=body, headers=key)
    again = client.post("/batch", json=body, headers=key)
    other = client.post("/batch", json=body, headers={"Idempotency-Key": "batch-2"})

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert statuses(other.json()) == [201, 200]
    assert other.json()["results"][1]["body"] == {"count": 2}
    assert count(service) == 2


def test_a_keyed_batch_gives_its_mutating_calls_their_own_keys(
    client: TestClient, service: ExecutionService
) -> None:
    """Were a keyed batch cut off and retried, its calls that ran would replay rather than run twice:
    each mutating call carries a key derived from the batch's, stable across retries."""
    from conveyor.api.batch_calls import _derived_key

    key = "retry-me"
    scoped = f"anonymous:{key}"
    # The first attempt got as far as its first call before being cut off: play that call directly.
    direct = client.post("/executions", json=START, headers={"Idempotency-Key": _derived_key(scoped, 0)})
    retried = client.post(
        "/batch", json={"calls": [start_call(), start_call(2)]}, headers={"Idempotency-Key": key}
    )

    assert statuses(retried.json()) == [201, 201]
    assert retried.json()["results"][0]["body"] == direct.json()  # replayed, not started again
    assert count(service) == 2


# --- the OpenAPI document ---------------------------------------------------------------------


def test_openapi_describes_the_batch(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/api/v1/batch"]["post"]
    assert {"200", "202", "400", "401", "403"} <= set(op["responses"])
    schemas = doc["components"]["schemas"]
    body = schemas["BatchBody"]["properties"]
    assert body["calls"]["maxItems"] == 100 and body["calls"]["minItems"] == 1
    assert set(body) == {"calls", "sync", "stop_on_error"}
    assert schemas["BatchCallIn"]["properties"]["method"]["enum"] == ["GET", "POST", "PATCH", "PUT", "DELETE"]
    assert set(schemas["BatchResultOut"]["properties"]) == {"index", "method", "path", "status", "body",
                                                             "skipped"}  # fmt: skip
    assert "BatchAccepted" in schemas


# --- async batches, over a real socket ------------------------------------------------------------


class Gate:
    """A route the tests add under /api/v1 that blocks until released: a slow call in a batch."""

    def __init__(self, app: FastAPI) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

        def slow() -> dict[str, bool]:
            self.entered.set()
            assert self.release.wait(DEADLINE), "the test never released the gate"
            return {"released": True}

        app.add_api_route("/api/v1/test/slow", slow, methods=["GET"])


@contextmanager
def live_app(app: FastAPI) -> Iterator[tuple[LiveServer, httpx.Client]]:
    with serve(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        yield server, http


def wait_ended(http: httpx.Client, execution_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any]:
        doc: dict[str, Any] = http.get(f"/executions/{execution_id}").json()
        return doc if doc["status"] in ("succeeded", "failed", "cancelled") else {}

    found: dict[str, Any] = wait_until(ended, timeout=DEADLINE, interval=0.02, what="the batch to end")
    return found


def test_async_batch_runs_in_the_background(make_app: MakeApp, service: ExecutionService) -> None:
    with live_app(make_app()) as (_, http):
        calls = [start_call(1), start_call(workflow="nope"), call("GET", "/executions/count")]
        r = http.post("/batch", json={"calls": calls, "sync": False})

        assert r.status_code == 202
        accepted = r.json()
        assert set(accepted) == {"execution_id", "execution"}
        ex = accepted["execution"]
        assert ex["id"] == accepted["execution_id"]
        assert (ex["workflow"], ex["status"], ex["queue"]) == (
            "conveyor.batch",
            "running",
            "conveyor.internal",
        )
        assert ex["created_by"] == "anonymous" and ex["worker_id"].startswith("api:")
        assert ex["parameters"] == {
            "calls": [
                {"method": "POST", "path": "/api/v1/executions", "body": calls[0]["body"], "query": {}},
                {"method": "POST", "path": "/api/v1/executions", "body": calls[1]["body"], "query": {}},
                {"method": "GET", "path": "/api/v1/executions/count", "body": None, "query": {}},
            ],
            "stop_on_error": False,
        }

        done = wait_ended(http, ex["id"])

        assert done["status"] == "succeeded"
        assert (done["total_operations"], done["finished_operations"], done["progress"]) == (3, 3, 1.0)
        result = done["result"]
        assert result["stopped_at"] is None
        assert statuses(result) == [201, 404, 200]
        assert result["results"][0]["body"]["workflow"] == "demo.count"
        assert result["results"][2]["body"] == {"count": 2}  # the batch's own execution counts too
        messages = [e["message"] for e in http.get(f"/executions/{ex['id']}/events").json()["items"]
                    if e["kind"] == "message"]  # fmt: skip
        assert messages == [
            "call 0: POST /api/v1/executions answered 201",
            "call 1: POST /api/v1/executions answered 404",
            "call 2: GET /api/v1/executions/count answered 200",
        ]
    assert count(service) == 1


def test_async_batch_with_stop_on_error(make_app: MakeApp) -> None:
    with live_app(make_app()) as (_, http):
        calls = [call("GET", "/executions/missing"), start_call()]
        accepted = http.post("/batch", json={"calls": calls, "sync": False, "stop_on_error": True}).json()
        done = wait_ended(http, accepted["execution_id"])
    assert done["status"] == "succeeded"
    assert done["result"]["stopped_at"] == 0
    assert statuses(done["result"]) == [404, None]
    assert done["result"]["results"][1]["skipped"] is True


def test_async_batch_acts_as_its_caller_and_keeps_no_token(
    make_app: MakeApp, service: ExecutionService, tokens: dict[str, str]
) -> None:
    with live_app(make_app("required")) as (server, http):
        viewer = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tokens['viewer']}"})
        operator = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {tokens['operator']}"}
        )
        body = {"calls": [start_call(), call("GET", "/executions/count")], "sync": False}
        with viewer, operator:
            refused = http.post("/batch", json=body)
            by_viewer = viewer.post("/batch", json=body).json()
            by_operator = operator.post("/batch", json=body).json()
            viewer_done = wait_ended(viewer, by_viewer["execution_id"])
            operator_done = wait_ended(operator, by_operator["execution_id"])
            events = operator.get(f"/executions/{by_operator['execution_id']}/events").json()

    assert refused.status_code == 401
    assert by_viewer["execution"]["created_by"] == "viewer-bot"
    assert statuses(viewer_done["result"]) == [403, 200]
    assert operator_done["created_by"] == "operator-bot"
    assert statuses(operator_done["result"]) == [201, 200]
    assert operator_done["result"]["results"][0]["body"]["created_by"] == "operator-bot"
    # the secret is nowhere in what was stored: not in the parameters, the result or the events
    stored = json.dumps([operator_done, viewer_done, events])
    assert tokens["operator"] not in stored and tokens["viewer"] not in stored
    assert "Bearer" not in stored
    assert count(service) == 1


def test_async_batch_refuses_token_calls(client: TestClient, service: ExecutionService) -> None:
    new_token = call("POST", "/tokens", {"name": "x", "role": "admin"})
    r = client.post("/batch", json={"calls": [start_call(), new_token], "sync": False})
    assert r.status_code == 400
    assert r.json()["error"]["details"] == {"field": "calls.1.path", "index": 1}
    assert "readable by every viewer" in r.json()["error"]["message"]
    assert service.count(ExecutionFilter()) == 0
    # the same calls run in a sync batch, whose answer only the caller sees
    assert statuses(client.post("/batch", json={"calls": [call("GET", "/tokens")]}).json()) == [200]


def test_async_idempotency_replays_the_same_execution(make_app: MakeApp, service: ExecutionService) -> None:
    with live_app(make_app()) as (_, http):
        body = {"calls": [start_call()], "sync": False}
        key = {"Idempotency-Key": "async-1"}
        first = http.post("/batch", json=body, headers=key)
        again = http.post("/batch", json=body, headers=key)
        wait_ended(http, first.json()["execution_id"])

    assert first.status_code == again.status_code == 202
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(service, "conveyor.batch") == 1
    assert count(service) == 1


def test_the_lease_is_renewed_while_a_long_call_runs(make_app: MakeApp, service: ExecutionService) -> None:
    app = make_app()
    app.state.batch_lease_seconds = 0.5
    app.state.batch_heartbeat_interval = 0.05
    gate = Gate(app)
    with live_app(app) as (_, http):
        accepted = http.post(
            "/batch", json={"calls": [call("GET", "/test/slow"), start_call()], "sync": False}
        ).json()
        ex_id = accepted["execution_id"]
        assert gate.entered.wait(DEADLINE)
        time.sleep(1.0)  # twice the lease: without renewals the reaper would take it now
        assert service.tick()["reaped"] == 0
        assert service.get(ex_id).status is Status.RUNNING
        gate.release.set()
        done = wait_ended(http, ex_id)

    assert done["status"] == "succeeded"
    assert statuses(done["result"]) == [200, 201]
    assert done["result"]["results"][0]["body"] == {"released": True}


def test_cancelling_an_async_batch_stops_it_before_its_next_call(
    make_app: MakeApp, service: ExecutionService
) -> None:
    app = make_app()
    app.state.batch_heartbeat_interval = 0.05
    gate = Gate(app)
    with live_app(app) as (_, http):
        accepted = http.post(
            "/batch", json={"calls": [call("GET", "/test/slow"), start_call()], "sync": False}
        ).json()
        ex_id = accepted["execution_id"]
        assert gate.entered.wait(DEADLINE)
        cancelling = http.post(f"/executions/{ex_id}/cancel").json()
        assert cancelling["status"] == "cancelling"
        lease = service.get(ex_id).lease_expires_at
        assert lease is not None
        # a heartbeat after the cancel: the batch has seen it
        wait_until(lambda: (service.get(ex_id).lease_expires_at or lease) > lease, timeout=DEADLINE)
        gate.release.set()
        done = wait_ended(http, ex_id)
        events = http.get(f"/executions/{ex_id}/events").json()["items"]

    assert done["status"] == "cancelled"
    assert count(service) == 0  # the call after the cancel never ran
    assert "cancelled after 1 of 2 calls" in [e["message"] for e in events]


def test_force_cancelling_an_async_batch_stops_it(make_app: MakeApp, service: ExecutionService) -> None:
    app = make_app()
    app.state.batch_heartbeat_interval = 0.05
    gate = Gate(app)
    with live_app(app) as (_, http):
        ex_id = http.post(
            "/batch", json={"calls": [call("GET", "/test/slow"), start_call()], "sync": False}
        ).json()["execution_id"]
        assert gate.entered.wait(DEADLINE)
        assert http.post(f"/executions/{ex_id}/force-cancel").json()["status"] == "cancelled"
        time.sleep(0.3)  # several heartbeat intervals: the batch learns it no longer holds the execution
        gate.release.set()
        wait_until(lambda: not app.state.batch_tasks, timeout=DEADLINE, what="the batch task to end")

    assert service.get(ex_id).status is Status.CANCELLED
    assert count(service) == 0


@pytest.mark.parametrize(("mode", "ends"), [("cancel", "succeeded"), ("kill", "cancelled")])
def test_a_cancel_during_the_last_call(make_app: MakeApp, mode: str, ends: str) -> None:
    """Nothing is left to skip: a plain cancel lets the finished batch succeed; a kill refuses the
    success, so the batch confirms the cancel instead of waiting for its lease to run out."""
    app = make_app()
    gate = Gate(app)
    with live_app(app) as (_, http):
        ex_id = http.post(
            "/batch", json={"calls": [start_call(), call("GET", "/test/slow")], "sync": False}
        ).json()["execution_id"]
        assert gate.entered.wait(DEADLINE)
        asked = http.post(f"/executions/{ex_id}/cancel", json={"mode": mode}).json()
        assert asked["status"] == f"{'' if mode == 'cancel' else 'kill_'}cancelling"
        gate.release.set()
        done = wait_ended(http, ex_id)

    assert done["status"] == ends
    if ends == "succeeded":
        assert statuses(done["result"]) == [201, 200]
