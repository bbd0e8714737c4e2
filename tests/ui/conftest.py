"""Dashboard fixtures: the real API app over a real SQLite store, a live server, and a way to fill it."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from conveyor.api.app import create_app
from conveyor.core import states
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ErrorInfo, Execution, Status
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import sqlite_copy

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the project pins httpx, which the test client still supports.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

WORKER = "ui-test-worker:1"


class CountParams(BaseModel):
    n: int
    delay: float = 0.5


class BackupParams(BaseModel):
    database: str
    full: bool = False


def make_catalog() -> App:
    app = App("ui-tests")

    @app.workflow("demo.count", params=CountParams, max_attempts=3)
    def count(ctx: Any, params: CountParams) -> int:
        """Counts to n."""
        return params.n

    @app.workflow("backup", params=BackupParams)
    def backup(ctx: Any, params: BackupParams) -> None:
        """Backs up a database."""

    @app.workflow("maintenance", system=True)
    def maintenance(ctx: Any, params: dict[str, Any]) -> None:
        """Runs alone."""

    return app


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sqlite_copy(tmp_path / "t.db"))
    yield s
    s.close()


@pytest.fixture
def service(store: SQLiteStore) -> ExecutionService:
    return ExecutionService(store, make_catalog())


MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app(service: ExecutionService) -> MakeApp:
    def make(auth_mode: str = "open") -> FastAPI:
        return create_app(service, auth_mode=auth_mode, version="9.9.9")

    return make


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT/
    server: uvicorn.Server


@contextmanager
def serve(app: FastAPI) -> Iterator[LiveServer]:
    """Run `app` under uvicorn in a thread on a free loopback port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start serving within 10 s"
        yield LiveServer(f"http://127.0.0.1:{port}/", server)
    finally:
        server.should_exit = True
        server.force_exit = True  # the browser may leave an event stream open
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def live(make_app: MakeApp) -> Iterator[Callable[..., LiveServer]]:
    with ExitStack() as stack:

        def start(auth_mode: str = "open") -> LiveServer:
            return stack.enter_context(serve(make_app(auth_mode)))

        yield start


class Driver:
    """Plays the part of a worker on the store, so executions reach any status without real workers."""

    def __init__(self, service: ExecutionService) -> None:
        self.service = service
        self.store = service.store

    def start(self, workflow: str, parameters: dict[str, Any], **options: Any) -> Execution:
        return self.service.start(StartRequest(workflow=workflow, parameters=parameters, **options))

    def run(self, execution_id: str, *, done: int | None = None, total: int | None = None) -> Execution:
        """Claim every pending execution; `execution_id` must then be running."""
        now = self.service.clock.now()
        self.store.execution_claim(
            WORKER, ["default"], 1000, now=now, lease_until=now + timedelta(minutes=10)
        )
        if total is not None:
            assert self.store.execution_set_progress(WORKER, execution_id, done, total, None)
        ex = self.service.get(execution_id)
        assert ex.status is Status.RUNNING, f"{execution_id} is {ex.status}"
        return ex

    def succeed(self, execution_id: str, result: Any = None) -> Execution:
        now = self.service.clock.now()
        (done,) = self.store.execution_finish(
            [(execution_id, WORKER, lambda ex: states.transition(ex, states.Succeed(now, result)))], now=now
        )
        assert done is not None
        return done

    def fail(self, execution_id: str, error: ErrorInfo) -> Execution:
        now = self.service.clock.now()

        def step(ex: Execution) -> Execution:
            return states.transition(ex, states.Fail(now, error, retryable=False))

        (done,) = self.store.execution_finish([(execution_id, WORKER, step)], now=now)
        assert done is not None
        return done


@pytest.fixture
def driver(service: ExecutionService) -> Driver:
    return Driver(service)
