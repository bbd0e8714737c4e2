"""The async client against the real API server: the same surface as the sync one, awaited."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conveyor.client import (
    AsyncClient,
    AsyncExecution,
    ConflictError,
    ConveyorConnectionError,
    ExecutionCancelled,
    ExecutionFailed,
    IllegalTransitionError,
    InvalidParametersError,
    NotFoundError,
    Status,
    WaitTimeout,
)

from .live import Live, free_port


async def test_health_workflows_and_start(aclient: AsyncClient) -> None:
    assert (await aclient.health())["status"] == "ok"
    assert [wf.name for wf in await aclient.workflows.list()] == ["demo.backup", "demo.count"]
    ex = await aclient.executions.start("demo.count", parameters={"n": 2}, target="db1")
    assert isinstance(ex, AsyncExecution)
    assert ex.status == Status.PENDING and ex.parameters == {"n": 2}
    assert (await aclient.executions.get(ex.id)).raw == ex.raw
    many = await aclient.executions.start_many([{"workflow": "demo.backup"}, {"workflow": "demo.backup"}])
    assert len(many) == 2
    assert await aclient.executions.count() == 3


async def test_list_is_lazy_and_pages(aclient: AsyncClient, live: Live) -> None:
    ids = [(await aclient.executions.start("demo.count", parameters={"n": i})).id for i in range(5)]
    query = aclient.executions.list(page_size=2)
    assert live.log.count("GET", "/api/v1/executions") == 0
    seen = [ex.id async for ex in query]
    assert seen == list(reversed(ids))
    assert live.log.count("GET", "/api/v1/executions") == 3
    limited = await aclient.executions.list(page_size=2, limit=3).to_list()
    assert [e.id for e in limited] == seen[:3]
    assert (await aclient.executions.list(sort="created_at").first()) is not None


async def test_wait_success_with_async_progress_hook(aclient: AsyncClient, live: Live) -> None:
    ex = await aclient.executions.start("demo.count", parameters={"n": 3})
    live.in_background(lambda: live.run(ex.id, result=3, total=3))
    progress: list[float | None] = []

    async def hook(e: AsyncExecution) -> None:
        progress.append(e.progress)

    done = await ex.wait(timeout=10, poll_interval=0.02, on_update=hook)
    assert done is ex and ex.status == Status.SUCCEEDED and ex.result == 3
    assert progress[-1] == 1.0


async def test_wait_failure_cancel_and_timeout(aclient: AsyncClient, live: Live) -> None:
    failing = await aclient.executions.start("demo.count")
    live.in_background(lambda: live.run(failing.id, fail=True))
    with pytest.raises(ExecutionFailed, match="failed after 1 attempt: ValueError: boom"):
        await failing.wait(timeout=10, poll_interval=0.02)

    cancelled = await aclient.executions.start("demo.count")
    await cancelled.cancel()
    assert cancelled.status == Status.CANCELLED
    with pytest.raises(ExecutionCancelled):
        await cancelled.wait(timeout=5)

    running = await aclient.executions.start("demo.count")
    live.claim(running.id)
    with pytest.raises(WaitTimeout, match=r"still running after waiting 0\.2 seconds"):
        await running.wait(timeout=0.2, poll_interval=0.05)


async def test_waiting_for_several_at_once(aclient: AsyncClient, live: Live) -> None:
    started = [
        await aclient.executions.start("demo.count", parameters={"n": i}, force=True) for i in range(3)
    ]

    def finish_all() -> None:
        for i, ex in enumerate(started):
            live.run(ex.id, result=i)

    live.in_background(finish_all)
    done = await asyncio.gather(*(ex.wait(timeout=10, poll_interval=0.02) for ex in started))
    assert [e.result for e in done] == [0, 1, 2]


async def test_actions_and_errors(aclient: AsyncClient, live: Live) -> None:
    ex = await aclient.executions.start("demo.count", target="db1")
    live.claim(ex.id)
    with pytest.raises(ConflictError):
        await aclient.executions.start("demo.count", target="db1")
    assert (await ex.pause()).status == Status.PAUSING
    await ex.cancel(kill=True)
    assert ex.status in (Status.KILL_CANCELLING, Status.CANCELLED)
    with pytest.raises(IllegalTransitionError):
        await aclient.executions.resume(ex.id)
    with pytest.raises(InvalidParametersError):
        await aclient.executions.start("demo.count", parameters={"n": -5})
    with pytest.raises(NotFoundError):
        await aclient.executions.get("missing")


async def test_events_and_stream(aclient: AsyncClient, live: Live) -> None:
    ex = await aclient.executions.start("demo.count")
    live.claim(ex.id)
    await aclient.executions.message(ex.id, "hello")
    events = await ex.events()
    assert events[-1]["message"] == "hello"
    live.in_background(lambda: live.succeed(ex.id))
    streamed = [e async for e in aclient.executions.stream_events(ex.id)]
    assert streamed[: len(events)] == events
    assert streamed[-1]["data"]["to"] == "succeeded"
    assert await aclient.executions.delete_finished(keep_last=0) == 1


async def test_tokens(aclient: AsyncClient) -> None:
    tok = await aclient.tokens.create("bot", "operator")
    assert tok.token and [t.id for t in await aclient.tokens.list()] == [tok.id]
    await aclient.tokens.delete(tok.id)
    assert await aclient.tokens.list() == []


async def test_connection_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncClient(url, timeout=2) as c:
        with pytest.raises(ConveyorConnectionError, match=f"Cannot connect to the Conveyor server at {url}"):
            await c.health()


async def test_an_in_process_asgi_transport(live: Live) -> None:
    """`transport=` lets a program (or a test) talk to an app without a socket."""
    from conveyor.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(live.service, auth_mode="open"))
    async with AsyncClient("http://in-process", transport=transport) as c:
        ex = await c.executions.start("demo.count")
        assert (await c.executions.get(ex.id)).status == Status.PENDING
    assert live.log.count("POST", "/api/v1/executions") == 0  # the socket server never saw it
