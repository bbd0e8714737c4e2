"""Helpers for the API tests: a live uvicorn server, moving executions along, reading SSE."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from conveyor.core import states
from conveyor.core.executions import ExecutionService
from conveyor.core.model import Execution, Status
from tests.helpers import wait_until

WORKER = "test-worker:1"


@dataclass
class LiveServer:
    url: str  # base URL of the native API, ending in /api/v1
    server: uvicorn.Server
    thread: threading.Thread


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    """Run `app` under uvicorn in a thread on a free loopback port, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Keep-alive past a loaded CI run's pauses: an idle connection the server closes just as the
    # client reuses it is a ReadError that says nothing about Conveyor.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_keep_alive=60))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=10, what="uvicorn to start")
        assert server.started, "uvicorn stopped before it started serving"
        yield LiveServer(f"http://127.0.0.1:{port}/api/v1", server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def claim(service: ExecutionService, *execution_ids: str) -> None:
    """Play a worker: take every pending execution; each of `execution_ids` must end up running."""
    now = service.clock.now()
    service.store.execution_claim(WORKER, ["default"], 1000, now=now, lease_until=now + timedelta(minutes=5))
    for execution_id in execution_ids:
        ex = service.get(execution_id)
        assert ex.status is Status.RUNNING and ex.worker_id == WORKER, f"{execution_id} is {ex.status}"


def succeed(service: ExecutionService, execution_id: str, result: Any = None) -> Execution:
    """Play a worker finishing a running execution."""
    now = service.clock.now()
    (done,) = service.store.execution_finish(
        [(execution_id, WORKER, lambda ex: states.transition(ex, states.Succeed(now, result)))], now=now
    )
    assert done is not None
    return done


@dataclass
class Frame:
    """One Server-Sent Events frame (or a comment line on its own)."""

    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.data)


@asynccontextmanager
async def event_stream(
    url: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.Response]:
    """GET an event stream, all of it bounded by a deadline so a stuck stream fails the test."""
    async with (
        asyncio.timeout(15),
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url, params=params, headers=headers) as response,
    ):
        yield response


async def frames(response: httpx.Response) -> AsyncGenerator[Frame, None]:
    """Parse an event stream into frames, as a browser's EventSource would."""
    current = Frame()
    async for line in response.aiter_lines():
        if line == "":
            if current.event or current.id or current.data or current.comments:
                yield current
            current = Frame()
        elif line.startswith(":"):
            current.comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                current.data.append(value)
            elif name == "event":
                current.event = value
            elif name == "id":
                current.id = value
