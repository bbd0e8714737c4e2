"""Bad input gets a 4xx with a stable code and a readable message, and changes nothing stored."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.acceptance.conftest import CONVEYOR, ROOT, System


@pytest.fixture
def secured(system: System) -> Iterator[tuple[httpx.Client, str]]:
    """A server that requires tokens, and an admin token made with `conveyor token create`."""
    args = ["token", "create", "--role", "admin", "--name", "ci", "--database", system.database_url, "--json"]
    made = subprocess.run(
        [CONVEYOR, *args], cwd=ROOT, env=system.env, capture_output=True, text=True, check=True, timeout=60
    )
    token = json.loads(made.stdout)["token"]
    _, url = system.server("--auth", "required", worker=True)
    with httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}) as http:
        yield http, token


def error_of(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()["error"]
    assert body["message"] and body["message"][0].isalpha()
    return answer.status_code, body["code"], body["message"]


def test_each_bad_input_has_a_code_and_changes_nothing(secured: tuple[httpx.Client, str]) -> None:
    http, _ = secured
    ok = http.post("/executions", json={"workflow": "acc.hold", "parameters": {"seconds": 5}})
    assert ok.status_code == 201
    ex_id = ok.json()["id"]
    before = http.get("/executions/count").json()["count"]

    status, code, message = error_of(http.post("/executions", json={"workflow": "nope"}))
    assert (status, code) == (404, "unknown_workflow") and "nope" in message

    status, code, message = error_of(
        http.post("/executions", json={"workflow": "acc.steps", "parameters": {"steps": "many"}})
    )
    assert (status, code) == (400, "invalid_parameters") and "steps" in message

    status, code, _ = error_of(
        http.post("/executions", content=b'{"workflow": ', headers={"Content-Type": "application/json"})
    )
    assert (status, code) == (400, "malformed_json")

    status, code, message = error_of(
        http.post("/executions", json={"workflow": "acc.noop", "target": "ghost"})
    )
    assert (status, code) == (404, "not_found") and "ghost" in message  # targets are not implicit by default

    status, code, _ = error_of(http.get("/executions/00000000-0000-0000-0000-000000000000"))
    assert (status, code) == (404, "not_found")

    assert http.post(f"/executions/{ex_id}/cancel", json={"mode": "force"}).json()["status"] == "cancelled"
    status, code, message = error_of(http.post(f"/executions/{ex_id}/pause"))
    assert (status, code) == (409, "illegal_transition") and "cancelled" in message
    assert http.get(f"/executions/{ex_id}").json()["status"] == "cancelled"

    assert http.get("/executions/count").json()["count"] == before


def test_missing_or_bad_token_is_refused(secured: tuple[httpx.Client, str]) -> None:
    http, _ = secured
    base = str(http.base_url).rstrip("/")
    status, code, _ = error_of(httpx.get(f"{base}/executions"))
    assert (status, code) == (401, "unauthorized")
    status, code, _ = error_of(httpx.get(f"{base}/executions", headers={"Authorization": "Bearer wrong"}))
    assert (status, code) == (401, "unauthorized")
    refused = httpx.post(
        f"{base}/executions", json={"workflow": "acc.noop"}, headers={"Authorization": "Bearer x"}
    )
    assert refused.status_code == 401
    assert http.get("/executions/count").json()["count"] == 0
