"""The sync client against the real API server over a real socket."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conveyor.client import (
    AuthError,
    Client,
    ConflictError,
    ConveyorConnectionError,
    ExecutionCancelled,
    ExecutionFailed,
    IllegalTransitionError,
    InvalidParametersError,
    InvalidRequestError,
    NotFoundError,
    StartSpec,
    Status,
    WaitTimeout,
)

from .live import Live, free_port, live_server


def test_health_and_workflows(client: Client) -> None:
    assert client.health()["status"] == "ok"
    names = [wf.name for wf in client.workflows.list()]
    assert names == ["demo.backup", "demo.count"]
    count = client.workflows.get("demo.count")
    assert count.description == "Count to n."
    assert count.parameters_schema["properties"]["n"]["default"] == 3
    assert client.workflows.get("demo.backup").max_attempts == 2


def test_start_validates_parameters_and_get_reads_back(client: Client) -> None:
    ex = client.executions.start("demo.count", parameters={"n": "7"}, target="db1", priority=5)
    assert ex.status == Status.PENDING
    assert ex.parameters == {"n": 7}  # the server's model coerced it
    assert (ex.target, ex.priority, ex.created_by) == ("db1", 5, "anonymous")
    assert isinstance(ex.created_at, datetime) and ex.created_at.tzinfo is not None

    again = client.executions.get(ex.id)
    assert again.raw == ex.raw
    partial = client.executions.get(ex.id, include=["status"])
    assert partial.raw == {"id": ex.id, "status": "pending"}


def test_scheduled_start_and_idempotency_key(client: Client) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    ex = client.executions.start("demo.count", schedule=later, idempotency_key="k1")
    assert ex.status == Status.SCHEDULED
    assert ex.scheduled_for is not None and abs((ex.scheduled_for - later).total_seconds()) < 0.001
    same = client.executions.start("demo.count", schedule=later, idempotency_key="k1")
    assert same.id == ex.id
    assert client.executions.count() == 1


def test_start_many_is_all_or_nothing(client: Client) -> None:
    started = client.executions.start_many(
        [StartSpec("demo.count", {"n": 1}), {"workflow": "demo.backup", "target": "db2"}]
    )
    assert [e.workflow for e in started] == ["demo.count", "demo.backup"]
    with pytest.raises(InvalidParametersError):
        client.executions.start_many(
            [{"workflow": "demo.count"}, {"workflow": "demo.count", "parameters": {"n": -1}}]
        )
    assert client.executions.count() == 2


def test_list_is_lazy_and_pages_through_next_cursor(client: Client, live: Live) -> None:
    ids = [client.executions.start("demo.count", parameters={"n": i}).id for i in range(7)]
    query = client.executions.list(workflow="demo.count", page_size=3)
    assert live.log.count("GET", "/api/v1/executions") == 0  # nothing until iterated

    seen = [ex.id for ex in query]
    assert seen == list(reversed(ids))  # default sort -id: newest first
    assert live.log.count("GET", "/api/v1/executions") == 3  # pages of 3, 3, 1

    before = live.log.count("GET", "/api/v1/executions")
    iterator = iter(client.executions.list(page_size=3))
    first_two = [next(iterator).id, next(iterator).id]
    assert first_two == seen[:2]
    assert live.log.count("GET", "/api/v1/executions") == before + 1  # one page so far


def test_list_limit_caps_what_is_fetched_and_yielded(client: Client, live: Live) -> None:
    for i in range(5):
        client.executions.start("demo.count", parameters={"n": i})
    got = list(client.executions.list(page_size=2, limit=3))
    assert len(got) == 3
    queries = live.log.queries("GET", "/api/v1/executions")
    assert len(queries) == 2 and "limit=2" in queries[0] and "limit=1" in queries[1]
    assert list(client.executions.list(limit=0)) == []
    assert client.executions.list(sort="created_at").first() is not None


def test_list_and_count_filter(client: Client, live: Live) -> None:
    a = client.executions.start("demo.count", target="db1")
    live.claim(a.id)
    client.executions.start("demo.backup", target="db2")
    assert [e.id for e in client.executions.list(status="running")] == [a.id]
    assert client.executions.count(status=["running", "pending"]) == 2
    assert client.executions.count(workflow="demo.backup", target=["db1", "db2"]) == 1
    assert client.executions.count(is_system=True) == 0
    with pytest.raises(InvalidRequestError, match="unknown status"):
        client.executions.count(status="runing")


def test_wait_returns_the_succeeded_execution(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count", parameters={"n": 4})
    live.when(lambda: True, lambda: live.run(ex.id, result={"counted": 4}))
    seen: list[str] = []
    done = ex.wait(timeout=10, poll_interval=0.02, on_update=lambda e: seen.append(str(e.status)))
    assert done is ex
    assert ex.status == Status.SUCCEEDED and ex.is_terminal
    assert ex.result == {"counted": 4}
    assert (ex.finished_operations, ex.total_operations, ex.progress) == (4, 4, 1.0)
    assert ex.ended_at is not None and ex.started_at is not None
    assert seen[-1] == "succeeded"


def test_wait_raises_execution_failed_with_the_error(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.when(lambda: True, lambda: live.run(ex.id, fail=True))
    with pytest.raises(ExecutionFailed) as info:
        ex.wait(timeout=10, poll_interval=0.02)
    assert info.value.error_type == "ValueError"
    assert info.value.error_message == "boom"
    assert info.value.execution.status == Status.FAILED
    assert (
        str(info.value)
        == f"Execution {ex.id} of workflow 'demo.count' failed after 1 attempt: ValueError: boom"
    )
    # Without raise_on_failure the failed execution is just returned.
    assert ex.wait(raise_on_failure=False).error == {
        "type": "ValueError",
        "message": "boom",
        "traceback": "Traceback (most recent call last):\n  ...\nValueError: boom",
    }


def test_wait_raises_execution_cancelled(client: Client) -> None:
    ex = client.executions.start("demo.count")
    client.executions.cancel(ex.id)
    with pytest.raises(ExecutionCancelled, match="was cancelled before it finished"):
        ex.wait(timeout=5, poll_interval=0.02)


def test_wait_times_out_without_touching_the_execution(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.claim(ex.id)
    began = time.monotonic()
    with pytest.raises(WaitTimeout) as info:
        ex.wait(timeout=0.3, poll_interval=0.05)
    assert 0.3 <= time.monotonic() - began < 3
    assert info.value.execution.status == Status.RUNNING
    assert "is still running after waiting 0.3 seconds" in str(info.value)
    assert client.executions.get(ex.id).status == Status.RUNNING


def test_actions_update_the_execution_in_place(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.claim(ex.id)
    assert ex.pause().status == Status.PAUSING
    assert ex.cancel(force=True).status == Status.CANCELLED
    with pytest.raises(IllegalTransitionError, match="cannot pause"):
        ex.pause()
    assert ex.requeue().status in (Status.QUEUED, Status.PENDING)


def test_resume_force_retries_a_failed_execution(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.run(ex.id, fail=True)
    resumed = client.executions.resume(ex.id, force=True)
    assert resumed.status in (Status.QUEUED, Status.PENDING)


def test_update_status_messages_and_events(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.claim(ex.id)
    client.executions.message(ex.id, "half way", level="warning")
    done = client.executions.update_status(ex.id, "succeeded", result=[1, 2])
    assert done.status == Status.SUCCEEDED and done.result == [1, 2]
    events = client.executions.events(ex.id)
    kinds = [(e["kind"], e["level"], e["message"]) for e in events]
    assert ("message", "warning", "half way") in kinds
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert client.executions.events(ex.id, after=events[-2]["seq"]) == events[-1:]


def test_stream_events_follows_until_the_end(client: Client, live: Live) -> None:
    ex = client.executions.start("demo.count")
    live.claim(ex.id)
    stream = client.executions.stream_events(ex.id)
    first = next(stream)  # connected and reading before the execution ends
    assert first["kind"] == "status"

    def finish() -> None:
        client.executions.message(ex.id, "working")
        live.succeed(ex.id, "ok")

    live.in_background(finish)
    rest = list(stream)  # ends by itself at `event: end`
    assert any(e.get("message") == "working" for e in rest)
    assert rest[-1]["data"]["to"] == "succeeded"
    seqs = [first["seq"], *(e["seq"] for e in rest)]
    assert seqs == sorted(set(seqs))
    # Resuming after a sequence number only brings what came later.
    assert [e["seq"] for e in client.executions.stream_events(ex.id, after=seqs[-2])] == seqs[-1:]


def test_delete_and_delete_finished(client: Client, live: Live) -> None:
    running = client.executions.start("demo.count")
    live.claim(running.id)
    with pytest.raises(ConflictError, match="cancel it before deleting"):
        client.executions.delete(running.id)
    finished = [client.executions.start("demo.backup") for _ in range(3)]
    for ex in finished:
        client.executions.cancel(ex.id)
    assert client.executions.delete_finished(keep_last=1, workflow="demo.backup") == 2
    client.executions.delete(running.cancel(force=True).id)
    with pytest.raises(NotFoundError, match="does not exist"):
        client.executions.get(running.id)
    assert client.executions.delete_finished(to_datetime=datetime.now(UTC) + timedelta(seconds=5)) == 1


def test_errors_map_to_exception_classes(client: Client) -> None:
    with pytest.raises(NotFoundError, match="workflow 'nope' is not registered") as nf:
        client.executions.start("nope")
    assert nf.value.code == "unknown_workflow" and nf.value.status_code == 404
    with pytest.raises(InvalidParametersError) as bad:
        client.executions.start("demo.count", parameters={"n": "x"})
    assert bad.value.errors[0]["loc"] == ["n"]
    with pytest.raises(NotFoundError):
        client.executions.cancel("no-such-id")


def test_admission_conflict_and_queue(client: Client, live: Live) -> None:
    first = client.executions.start("demo.count", target="db1")
    live.claim(first.id)
    with pytest.raises(ConflictError) as info:
        client.executions.start("demo.count", target="db1")
    assert info.value.code == "existing_running_execution"
    assert client.executions.start("demo.count", target="db1", queue=True).status == Status.QUEUED
    assert client.executions.start("demo.count", target="db1", force=True).status == Status.PENDING


def test_tokens_and_auth_errors(client: Client, live: Live) -> None:
    viewer = client.tokens.create("ci", "viewer")
    assert viewer.token and viewer.role == "viewer"
    assert [t.name for t in client.tokens.list()] == ["ci"]
    assert all(t.token is None for t in client.tokens.list())
    with Client(live.url, viewer.token) as as_viewer:
        assert as_viewer.executions.count() == 0
        with pytest.raises(AuthError) as forbidden:
            as_viewer.executions.start("demo.count")
        assert forbidden.value.status_code == 403
    with Client(live.url, "not-a-token") as stranger, pytest.raises(AuthError) as unauthorized:
        stranger.executions.count()
    assert unauthorized.value.code == "unauthorized"
    client.tokens.delete(viewer.id)
    assert client.tokens.list() == []


def test_token_from_the_environment(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVEYOR_URL", live.url)
    monkeypatch.setenv("CONVEYOR_TOKEN", "bogus")
    with Client() as c, pytest.raises(AuthError):
        c.executions.count()


def test_required_auth_server(tmp_path: Path) -> None:
    with (
        live_server(tmp_path, auth_mode="required") as server,
        Client(server.url) as c,
        pytest.raises(AuthError, match=r"(?i)token"),
    ):
        c.executions.count()


def test_connection_failure_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, timeout=2) as c, pytest.raises(ConveyorConnectionError) as info:
        c.health()
    assert str(info.value).startswith(f"Cannot connect to the Conveyor server at {url}")
    assert info.value.url == url
