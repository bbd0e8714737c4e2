"""The pure request builders and helpers: what goes on the wire for each call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conveyor.client import StartSpec, calls
from conveyor.client.http import resolve_url
from conveyor.client.models import ExecutionData, format_datetime, parse_datetime


def test_filters_join_lists_and_spell_booleans_and_instants() -> None:
    params = calls.filter_params(
        {
            "status": ["running", "failed"],
            "workflow": "demo.count",
            "target": None,
            "is_system": False,
            "created_after": datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))),
        }
    )
    assert params == {
        "status": "running,failed",
        "workflow": "demo.count",
        "is_system": "false",
        "created_after": "2026-01-01T10:00:00Z",
    }


def test_unknown_filters_are_refused_before_any_request() -> None:
    with pytest.raises(TypeError, match="unknown filter"):
        calls.filter_params({"stauts": "running"})


def test_cancel_modes() -> None:
    assert calls.cancel("e1").json == {"mode": "cancel"}
    assert calls.cancel("e1", force=True).json == {"mode": "force"}
    assert calls.cancel("e1", kill=True).json == {"mode": "kill"}
    with pytest.raises(ValueError, match="either force or kill"):
        calls.cancel("e1", force=True, kill=True)


def test_ids_are_escaped_in_paths() -> None:
    assert calls.get("a/b c").path == "/executions/a%2Fb%20c"
    with pytest.raises(ValueError):
        calls.get("")


def test_start_specs_from_dicts_refuse_typos() -> None:
    spec = StartSpec.coerce({"workflow": "w", "parameters": {"n": 1}, "schedule": datetime(2026, 1, 1)})
    assert spec.to_body()["schedule"] == "2026-01-01T00:00:00Z"  # naive means UTC, as on the server
    with pytest.raises(TypeError, match="unknown start field"):
        StartSpec.coerce({"workflow": "w", "paramters": {}})


def test_start_carries_the_idempotency_key_header() -> None:
    call = calls.start(StartSpec("w"), "key-1")
    assert call.headers == {"Idempotency-Key": "key-1"}
    assert call.json["queue"] is False


def test_datetimes_round_trip() -> None:
    moment = datetime(2026, 11, 25, 1, 2, 3, 123456, tzinfo=UTC)
    assert format_datetime(moment) == "2026-11-25T01:02:03.123456Z"
    assert parse_datetime("2026-11-25T01:02:03.123456Z") == moment
    assert parse_datetime(None) is None


def test_urls_default_from_the_environment_and_accept_the_api_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_URL", "http://conveyor.example:9000/")
    assert resolve_url(None) == "http://conveyor.example:9000"
    assert resolve_url("http://h:1/api/v1/") == "http://h:1"
    assert resolve_url("h:1") == "http://h:1"
    monkeypatch.delenv("CONVEYOR_URL")
    assert resolve_url(None) == "http://127.0.0.1:8321"


def test_execution_data_types_its_attributes() -> None:
    ex = ExecutionData(
        {
            "id": "e1",
            "workflow": "w",
            "status": "running",
            "created_at": "2026-11-25T01:02:03Z",
            "ended_at": None,
            "total_operations": 20,
            "finished_operations": 7,
            "progress": 0.35,
        }
    )
    assert ex.status == "running" and not ex.is_terminal
    assert ex.created_at == datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC)
    assert ex.ended_at is None
    assert (ex.finished_operations, ex.total_operations, ex.progress) == (7, 20, 0.35)
    assert ExecutionData({"id": "e2", "status": "cancelled"}).is_terminal
