"""The Cloudify dialect's authentication: token headers, basic auth, open and required modes."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor.api.app import create_app
from conveyor.api.auth import create_token
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import sqlite_copy

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's test client asks for httpx2; httpx still works
    from fastapi.testclient import TestClient

URL = "/api/v3.1/executions"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(params=["open", "required"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, TestClient, str]]:
    store = SQLiteStore(sqlite_copy(tmp_path / "auth.db"))
    service = ExecutionService(store, App("auth-tests"))
    api = create_app(service, auth_mode=request.param)
    secret = create_token(service, "viewer", Role.VIEWER)[1]
    with TestClient(api) as http:
        yield request.param, http, secret
    store.close()


def test_tokens_are_checked_in_every_mode(served: tuple[str, TestClient, str]) -> None:
    _, http, secret = served
    for headers in ({"Authentication-Token": secret}, basic("admin", secret), {"Execution-Token": secret}):
        assert http.get(URL, headers={**headers, "Tenant": "any"}).status_code == 200
    wrong = http.get(URL, headers={"Authentication-Token": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error_code"] == "unauthorized_error"
    garbled = http.get(URL, headers={"Authorization": "Basic !!!"})
    assert garbled.status_code == 401 and garbled.json()["message"]


def test_open_mode_is_open_and_required_mode_requires(served: tuple[str, TestClient, str]) -> None:
    mode, http, _ = served
    bare = http.get(URL)
    admin_password = http.get(URL, headers=basic("admin", "admin"))
    if mode == "open":
        assert bare.status_code == 200 and admin_password.status_code == 200
    else:
        assert bare.status_code == 401 and "Authentication-Token" in bare.json()["message"]
        assert admin_password.status_code == 401


def test_the_role_of_the_token_is_enforced(served: tuple[str, TestClient, str]) -> None:
    _, http, secret = served
    refused = http.post(URL, json={"workflow_id": "x"}, headers={"Authentication-Token": secret})
    assert refused.status_code == 403 and refused.json() == {
        "message": refused.json()["message"],
        "error_code": "forbidden_error",
        "server_traceback": None,
    }
