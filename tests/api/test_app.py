"""The app as a whole: health, workflows, the OpenAPI document, and the error envelope for the unexpected."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from conveyor.store.sqlite import SQLiteStore


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "version": "9.9.9", "database": "sqlite"}


def test_workflows(client: TestClient) -> None:
    items = client.get("/workflows").json()["items"]
    one = client.get("/workflows/demo.count")
    unknown = client.get("/workflows/nope")

    assert [w["name"] for w in items] == ["backup", "demo.count", "maintenance"]
    assert one.json() == items[1]
    assert set(one.json()) == {
        "name", "description", "parameters_schema", "system", "timeout", "max_attempts", "retry_backoff",
        "queue", "isolation", "retention", "workers", "served",
    }  # fmt: skip
    assert one.json()["parameters_schema"]["required"] == ["n"]
    assert one.json()["description"] == "Counts to n."
    assert items[2]["system"] is True
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_workflow"


def test_openapi_and_docs_live_under_the_prefix(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    docs = client.get("/docs")

    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {"/api/v1/executions", "/api/v1/executions:bulk", "/api/v1/executions/count",
            "/api/v1/executions/{execution_id}/events/stream", "/api/v1/tokens"} <= set(paths)  # fmt: skip
    start = paths["/api/v1/executions"]["post"]
    assert start["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/StartBody")
    assert "201" in start["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in start["parameters"])
    assert "HTTPBearer" in spec.json()["components"]["securitySchemes"]
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_route_and_wrong_method_use_the_envelope(client: TestClient) -> None:
    missing = client.get("/nothing-here")
    wrong = client.put("/executions")

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "/api/v1/nothing-here" in missing.json()["error"]["message"]
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    assert wrong.headers["Allow"] == "DELETE, GET, POST"


def test_unexpected_errors_are_500_internal_error_and_logged(
    client: TestClient, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(store, "execution_count", broken)

    with caplog.at_level(logging.ERROR, logger="conveyor.api"):
        r = client.get("/executions/count")

    assert r.status_code == 500
    err = r.json()["error"]
    assert err["code"] == "internal_error"
    assert "bug" in err["message"] and "database on fire" not in err["message"]
    (record,) = [rec for rec in caplog.records if rec.name == "conveyor.api"]
    assert err["details"]["reference"] in record.getMessage()
    assert record.exc_info is not None and "database on fire" in str(record.exc_info[1])
