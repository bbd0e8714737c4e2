"""The SSE event stream, over a real socket: follow to the end, resume, keepalives, disconnects."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conveyor.core.executions import ExecutionService
from conveyor.core.model import Event
from conveyor.store.sqlite import SQLiteStore
from tests.helpers import wait_until

from .support import Frame, LiveServer, claim, event_stream, frames, succeed

Live = Callable[..., LiveServer]


def start(service_url: str, **fields: Any) -> str:
    r = httpx.post(
        f"{service_url}/executions", json={"workflow": "demo.count", "parameters": {"n": 3}, **fields}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_stream_follows_an_execution_to_its_end(live: Live, service: ExecutionService) -> None:
    server = live()
    ex = start(server.url)
    got: list[Frame] = []

    async with event_stream(f"{server.url}/executions/{ex}/events/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        async for frame in frames(r):
            got.append(frame)
            if len(got) == 1:  # the stream is live: now let a worker run the execution
                claim(service, ex)
                service.message(ex, "working")
                succeed(service, ex, result={"counted": 3})
        # the server closed the stream after `end`

    *events, end = got
    assert [f.event for f in events] == ["status", "status", "message", "status"]
    docs = [json.loads(f.text) for f in events]
    assert [d["message"] for d in docs] == [
        "created as pending",
        "pending -> running",
        "working",
        "running -> succeeded",
    ]
    assert [f.id for f in events] == [str(d["seq"]) for d in docs]
    assert [d["seq"] for d in docs] == sorted(d["seq"] for d in docs)
    assert end.event == "end" and end.id is None
    final = json.loads(end.text)
    assert final["id"] == ex and final["status"] == "succeeded" and final["result"] == {"counted": 3}


@pytest.mark.parametrize("how", ["after", "last-event-id"])
async def test_stream_resumes_after_a_seq(live: Live, service: ExecutionService, how: str) -> None:
    server = live()
    ex = start(server.url)
    claim(service, ex)
    succeed(service, ex)
    first_seq = service.events(ex)[0].seq
    params = {"after": str(first_seq)} if how == "after" else {}
    headers = {"Last-Event-ID": str(first_seq)} if how == "last-event-id" else {}

    async with event_stream(
        f"{server.url}/executions/{ex}/events/stream", params=params, headers=headers
    ) as r:
        got = [f async for f in frames(r)]

    assert [f.event for f in got] == ["status", "status", "end"]
    assert all(int(f.id) > (first_seq or 0) for f in got if f.id is not None)


async def test_stream_of_an_unknown_execution_is_a_404(live: Live) -> None:
    server = live()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(f"{server.url}/executions/nope/events/stream")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_idle_stream_sends_keepalives(live: Live) -> None:
    server = live(stream_keepalive=0.3)
    ex = start(server.url, schedule="2099-01-01T00:00:00Z")  # stays scheduled: nothing new will come

    kinds: list[str] = []
    async with event_stream(f"{server.url}/executions/{ex}/events/stream") as r:
        async for frame in frames(r):
            kinds.append(frame.event or ":" + ",".join(frame.comments))
            if len(kinds) == 3:
                break

    assert kinds == ["status", ":keepalive", ":keepalive"]


async def test_stream_stops_polling_when_the_client_goes_away(
    live: Live, store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls: list[float] = []
    lock = threading.Lock()
    real = store.event_list

    def counting(execution_id: str, *, after: int = 0, limit: int = 1000) -> list[Event]:
        with lock:
            polls.append(time.monotonic())
        return real(execution_id, after=after, limit=limit)

    monkeypatch.setattr(store, "event_list", counting)
    server = live(stream_poll_interval=0.02)
    ex = start(server.url, schedule="2099-01-01T00:00:00Z")

    async with event_stream(f"{server.url}/executions/{ex}/events/stream") as r:
        # Keep the iterator referenced: a finalized line iterator makes httpx hang up at once.
        stream = frames(r)
        await anext(stream)  # the first frame came: the stream is running
        await asyncio.to_thread(wait_until, lambda: len(polls) >= 3, what="the stream to keep polling")
        await stream.aclose()
    # leaving the block hung up

    def quiet_for(seconds: float) -> bool:
        with lock:
            last = polls[-1]
        return time.monotonic() - last > seconds

    # Polling every 0.02 s, a stream that still ran would never be quiet for 0.5 s.
    await asyncio.to_thread(wait_until, lambda: quiet_for(0.5), timeout=10, what="polling to stop")
    count = len(polls)
    await asyncio.to_thread(wait_until, lambda: quiet_for(1.0), timeout=10, what="polling to stay stopped")
    assert len(polls) == count
