"""Bearer tokens, roles, the open mode, and token management."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from conveyor.api import create_app, create_token, resolve_auth_mode
from conveyor.config import Settings
from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Role
from conveyor.store.sqlite import SQLiteStore

from .conftest import MakeClient

START = {"workflow": "demo.count", "parameters": {"n": 1}}


@pytest.fixture
def secrets_by_role(service: ExecutionService) -> dict[str, str]:
    return {role.value: create_token(service, f"{role.value}-bot", role)[1] for role in Role}


def test_required_mode_refuses_missing_and_bad_tokens(make_client: MakeClient) -> None:
    anonymous = make_client("required")
    bad = make_client("required", token="not-a-token")

    missing = anonymous.get("/executions")
    wrong = bad.get("/executions")
    wrong_scheme = anonymous.get("/executions", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    for r in (missing, wrong, wrong_scheme):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert anonymous.get("/health").status_code == 200  # probes need no token


def test_roles(make_client: MakeClient, secrets_by_role: dict[str, str], service: ExecutionService) -> None:
    viewer = make_client("required", token=secrets_by_role["viewer"])
    operator = make_client("required", token=secrets_by_role["operator"])

    assert viewer.get("/executions").status_code == 200
    assert viewer.get("/workflows").status_code == 200
    refused = viewer.post("/executions", json=START)
    started = operator.post("/executions", json=START)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert refused.json()["error"]["details"] == {"role": "viewer", "required": "operator"}
    assert started.status_code == 201
    assert started.json()["created_by"] == "operator-bot"
    ex = started.json()["id"]
    assert viewer.post(f"/executions/{ex}/cancel").status_code == 403
    assert viewer.delete(f"/executions/{ex}").status_code == 403
    assert operator.post(f"/executions/{ex}/cancel").status_code == 200
    assert operator.get("/tokens").status_code == 403
    assert viewer.get("/executions", params={"created_by": "operator-bot"}).json()["items"][0]["id"] == ex


def test_admin_manages_tokens(
    make_client: MakeClient, secrets_by_role: dict[str, str], store: SQLiteStore
) -> None:
    admin = make_client("required", token=secrets_by_role["admin"])

    created = admin.post("/tokens", json={"name": "ci", "role": "operator"})
    listed = admin.get("/tokens").json()["items"]
    as_ci = {"Authorization": f"Bearer {created.json()['token']}"}  # same app, so the same lookup cache
    works = admin.post("/executions", json=START, headers=as_ci)
    deleted = admin.delete(f"/tokens/{created.json()['id']}")
    after_delete = admin.get("/executions", headers=as_ci)  # the app forgets cached lookups on delete
    missing = admin.delete(f"/tokens/{created.json()['id']}")

    assert created.status_code == 201
    assert set(created.json()) == {"id", "name", "role", "created_at", "token"}
    assert created.json()["role"] == "operator"
    assert {t["name"] for t in listed} == {"admin-bot", "operator-bot", "viewer-bot", "worker-bot", "ci"}
    assert all(set(t) == {"id", "name", "role", "created_at"} for t in listed)
    assert works.status_code == 201 and works.json()["created_by"] == "ci"
    assert deleted.status_code == 204
    assert after_delete.status_code == 401
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad_role = admin.post("/tokens", json={"name": "x", "role": "root"})
    assert bad_role.status_code == 400 and bad_role.json()["error"]["details"]["field"] == "role"


def test_tokens_are_stored_hashed(service: ExecutionService, store: SQLiteStore) -> None:
    token, secret = create_token(service, " alice ", "viewer")

    (stored,) = store.token_list()
    assert stored.id == token.id and stored.name == "alice" and stored.role is Role.VIEWER
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.token_hash and len(secret) >= 40
    with pytest.raises(InvalidRequest):
        create_token(service, "bob", "root")
    with pytest.raises(InvalidRequest):
        create_token(service, "   ", "viewer")


def test_open_mode_lets_anonymous_act_as_admin_but_checks_sent_tokens(
    make_client: MakeClient, secrets_by_role: dict[str, str]
) -> None:
    anonymous = make_client("open")
    bad = make_client("open", token="forged")
    viewer = make_client("open", token=secrets_by_role["viewer"])

    assert anonymous.get("/tokens").status_code == 200
    assert anonymous.post("/executions", json=START).json()["created_by"] == "anonymous"
    assert bad.get("/executions").status_code == 401
    assert viewer.post("/executions", json=START).status_code == 403


def test_token_lookups_are_cached(
    make_client: MakeClient,
    secrets_by_role: dict[str, str],
    store: SQLiteStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lookups: list[str] = []
    real = store.token_find

    def counting(token_hash: str) -> object:
        lookups.append(token_hash)
        return real(token_hash)

    monkeypatch.setattr(store, "token_find", counting)
    viewer = make_client("required", token=secrets_by_role["viewer"])

    for _ in range(5):
        assert viewer.get("/executions").status_code == 200

    assert len(lookups) == 1


def test_idempotency_keys_are_scoped_per_caller(
    make_client: MakeClient, secrets_by_role: dict[str, str]
) -> None:
    operator = make_client("open", token=secrets_by_role["operator"])
    admin = make_client("open", token=secrets_by_role["admin"])
    headers = {"Idempotency-Key": "same-key"}

    mine = operator.post("/executions", json=START, headers=headers).json()
    theirs = admin.post("/executions", json=START, headers=headers).json()

    assert mine["id"] != theirs["id"]
    assert (mine["created_by"], theirs["created_by"]) == ("operator-bot", "admin-bot")


@pytest.mark.parametrize(
    ("auth", "host", "expected"),
    [
        ("auto", "127.0.0.1", "open"),
        ("auto", "localhost", "open"),
        ("auto", "::1", "open"),
        ("auto", "0.0.0.0", "required"),
        ("auto", "10.1.2.3", "required"),
        ("required", "127.0.0.1", "required"),
        ("open", "127.0.0.1", "open"),
    ],
)
def test_resolve_auth_mode(auth: str, host: str, expected: str) -> None:
    assert resolve_auth_mode(Settings(auth=auth, host=host)) == expected


@pytest.mark.parametrize(
    ("auth", "host"), [("open", "0.0.0.0"), ("open", "192.168.1.5"), ("sometimes", "::1")]
)
def test_resolve_auth_mode_refuses(auth: str, host: str) -> None:
    with pytest.raises(ValueError, match="auth"):
        resolve_auth_mode(Settings(auth=auth, host=host))


def test_create_app_refuses_unknown_auth_mode(service: ExecutionService) -> None:
    with pytest.raises(ValueError, match="auth_mode"):
        create_app(service, auth_mode="auto")


def test_client_fixture_is_open(client: TestClient) -> None:
    assert client.get("/tokens").json() == {"items": []}
