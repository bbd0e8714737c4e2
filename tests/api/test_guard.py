"""The door: oversized bodies, non-strict JSON, NUL and lone surrogates are refused; nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ExecutionFilter

from .conftest import TestClient
from .support import LiveServer


def refused(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()["error"]
    assert body["message"] and body["message"][0].isalpha()
    return answer.status_code, body["code"], body["message"]


def raw_post(client: TestClient, path: str, body: bytes) -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


START = b'{"workflow": "demo.count", "parameters": '


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (START + b'{"n": NaN}}', "malformed_json", "NaN"),
        (START + b'{"n": Infinity}}', "malformed_json", "Infinity"),
        (START + b'{"n": -Infinity}}', "malformed_json", "Infinity"),
        (
            START + b'{"n": 1, "x": "\\ud800"}}',
            "malformed_json",
            "surrogate",
        ),
        (START + b'{"\\udfff": 1}}', "malformed_json", "surrogate"),
        (START + b'{"n": 1, "x": "a\\u0000b"}}', "invalid_request", "NUL"),
        (
            b'{"workflow": "demo.count", "parameters": {"n": 1}, "target": "\\u0000"}',
            "invalid_request",
            "NUL",
        ),
    ],
)
def test_values_that_could_not_be_given_back_are_refused_and_nothing_is_started(
    client: TestClient, body: bytes, code: str, words: str
) -> None:
    status, got, message = refused(raw_post(client, "/executions", body))
    assert (status, got) == (400, code)
    assert words in message
    assert client.get("/executions/count").json()["count"] == 0


def test_deep_nesting_and_long_arrays_are_limits_not_crashes(client: TestClient) -> None:
    deep = (
        b'{"workflow": "demo.count", "parameters": {"n": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    )
    status, code, message = refused(raw_post(client, "/executions", deep))
    assert (status, code) == (422, "limit_exceeded") and "nested deeper" in message

    nested = {"x": 1}
    for _ in range(40):
        nested = {"x": nested}
    status, code, _ = refused(
        client.post("/executions", json={"workflow": "demo.count", "parameters": nested})
    )
    assert (status, code) == (422, "limit_exceeded")

    long = {"workflow": "demo.count", "parameters": {"n": 1, "xs": list(range(10_001))}}
    status, code, message = refused(client.post("/executions", json=long))
    assert (status, code) == (422, "limit_exceeded") and "10001 items" in message
    assert client.get("/executions/count").json()["count"] == 0


def test_nul_in_a_path_or_a_query_is_refused_everywhere(client: TestClient) -> None:
    status, code, message = refused(client.get("/executions/abc%00def"))
    assert (status, code) == (400, "invalid_request") and "path" in message
    status, code, message = refused(client.get("/executions", params={"workflow": "a\x00b"}))
    assert (status, code) == (400, "invalid_request") and "'workflow'" in message
    answer = client.get("/api/cluster/jobs", params={"description": "x\x00"}, follow_redirects=False)
    assert answer.status_code == 400


def test_strict_values_still_pass(client: TestClient) -> None:
    parameters = {"text": "ünïcødé ✓ \U0001f680", "big": 1e308, "small": -5e-324, "deep": [[[[1]]]]}
    answer = client.post("/executions", json={"workflow": "maintenance", "parameters": parameters})
    assert answer.status_code == 201, answer.text
    got = client.get(f"/executions/{answer.json()['id']}").json()
    assert got["parameters"] == parameters


def test_a_body_over_the_limit_answers_413_before_it_is_all_read(live: Callable[..., LiveServer]) -> None:
    server = live(max_body_bytes=64 * 1024)
    big: dict[str, Any] = {"workflow": "demo.count", "parameters": {"n": 1, "pad": "x" * 100_000}}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        status, code, message = refused(http.post("/executions", json=big))
        assert (status, code) == (413, "payload_too_large") and "65536 bytes" in message

        def chunks() -> Any:  # no Content-Length: the limit holds on what arrives, not what is declared
            yield b'{"workflow": "demo.count", "parameters": {"n": 1, "pad": "'
            for _ in range(100):
                yield b"x" * 1000
            yield b'"}}'

        answer = http.post("/executions", content=chunks(), headers={"Content-Type": "application/json"})
        assert answer.status_code == 413
        assert http.get("/executions/count").json()["count"] == 0
        assert (
            http.post("/executions", json={"workflow": "demo.count", "parameters": {"n": 1}}).status_code
            == 201
        )


def test_a_row_stored_before_the_door_existed_never_breaks_a_list(
    client: TestClient, service: ExecutionService
) -> None:
    bad = {"nan": float("nan"), "inf": float("-inf"), "text": "a\ud800b", "\udfff": 1}
    stored = service.start(StartRequest("maintenance", parameters=bad, force=True))
    client.post(
        "/executions", json={"workflow": "demo.count", "parameters": {"n": 1}, "force": True}
    ).raise_for_status()

    page = client.get("/executions")
    assert page.status_code == 200
    shown = {item["id"]: item for item in page.json()["items"]}
    assert shown[stored.id]["parameters"] == {"nan": None, "inf": None, "text": "a\ufffdb", "\ufffd": 1}
    assert len(shown) == 2
    assert client.get(f"/executions/{stored.id}").status_code == 200
    cloudify = client.get(
        "http://testserver/api/v3.1/executions", params={"_include_system_workflows": "true"}
    )
    assert cloudify.status_code == 200 and len(cloudify.json()["items"]) == 2
    ontap = client.get("http://testserver/api/cluster/jobs", params={"fields": "*"})
    assert ontap.status_code == 200 and ontap.json()["num_records"] == 2


def test_a_batch_call_path_with_a_control_character_is_a_coded_refusal(client: TestClient) -> None:
    for path in ("/exec\tutions", "/exec\x01utions", "/executions/\x7f"):
        answer = client.post("/batch", json={"calls": [{"method": "GET", "path": path}]})
        status, code, message = refused(answer)
        assert status == 400 and code == "invalid_request" and "path" in message, (path, answer.text)


def test_a_deeply_nested_cloudify_body_is_a_limit_not_a_crash(client: TestClient) -> None:
    body = b'{"workflow_id": "demo.count", "parameters": ' + b'{"x": ' * 5000 + b"1" + b"}" * 5001
    answer = client.post(
        "http://testserver/api/v3.1/executions", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "limit_exceeded"


def test_values_that_would_be_quietly_reread_are_refused(client: TestClient) -> None:
    """A bool is not a number, a blank zone is not UTC, and a cron whose year is over never fires."""
    status, code, message = refused(client.post("/targets", json={"name": "web01", "max_concurrent": True}))
    assert (status, code) == (400, "invalid_request") and "max_concurrent" in message
    assert client.get("/targets").json()["items"] == []

    blank_zone = {"kind": "cron", "value": "0 3 * * *", "timezone": "  "}
    status, code, message = refused(
        client.post(
            "/schedules", json={"workflow": "backup", "parameters": {"db": "x"}, "trigger": blank_zone}
        )
    )
    assert (status, code) == (400, "invalid_trigger") and "blank" in message

    past = {"kind": "cron", "value": "0 0 12 * * ? 2020"}
    status, code, message = refused(
        client.post("/schedules", json={"workflow": "backup", "parameters": {"db": "x"}, "trigger": past})
    )
    assert (status, code) == (400, "invalid_trigger") and "never fires" in message
    assert client.get("/schedules").json()["items"] == []

    fine = {"kind": "cron", "value": "0 3 * * *", "timezone": "Europe/Berlin"}
    made = client.post("/schedules", json={"workflow": "backup", "parameters": {"db": "x"}, "trigger": fine})
    assert made.status_code == 201, made.text


def test_a_percent_encoded_nul_in_a_form_post_is_refused_too(client: TestClient) -> None:
    """Jelastic posts forms: `%00` decodes to NUL in the dialect, so the door reads form fields as well."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    path = "http://testserver/1.0/utils/scheduler/rest/createaccounttask"
    answer = client.post(path, content=b"script=backup&description=a%00b", headers=form)
    assert answer.status_code == 400 and "'description'" in answer.json()["error"]["message"]
    plain = client.post(path, content=b"script=backup&description=50%25", headers=form)
    assert plain.status_code == 200  # an ordinary form post still reaches the dialect


def test_a_body_without_a_content_type_is_read_as_json_and_checked(client: TestClient) -> None:
    answer = client.post("/executions", content=START + b'{"n": NaN}}', headers={"Content-Type": ""})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "malformed_json"


async def test_a_client_that_hangs_up_mid_body_runs_nothing(service: ExecutionService) -> None:
    """A cut-off body must not reach a handler as a shorter, still valid request."""
    from conveyor.api import create_app

    app = create_app(service)
    body = b'{"workflow": "maintenance", "parameters": {}, "force": true}'
    messages = [
        {"type": "http.request", "body": body[:20], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/v1/executions", "raw_path": b"/api/v1/executions", "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent == []
    assert service.count(ExecutionFilter()) == 0
