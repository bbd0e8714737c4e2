"""A real Conveyor API on a real socket, for the client and CLI tests.

The app is the real `create_app` over a real SQLite store; only the worker is
left out. Tests play the worker's part through the store (claim, progress,
finish) so they decide exactly when an execution runs and ends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import BaseModel, Field

from conveyor.api.app import create_app
from conveyor.core import states
from conveyor.core.catalog import ChainedCatalog, StoredCatalog
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ErrorInfo, Execution, ExecutionFilter, Status
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import sqlite_copy

WORKER = "test-worker"
START_DEADLINE = 10.0


class CountParams(BaseModel):
    n: int = Field(3, ge=0)


class BackupParams(BaseModel):
    full: bool = False
    label: str = "nightly"


def make_app() -> App:
    app = App("tests")

    @app.workflow("demo.count", params=CountParams, description="Count to n.")
    def count(ctx: Any, params: CountParams) -> int:  # never runs: no worker in these tests
        return params.n

    @app.workflow("demo.backup", params=BackupParams, max_attempts=2)
    def backup(ctx: Any, params: BackupParams) -> None:
        """Back a target up."""

    return app


class RequestLog:
    """An ASGI wrapper recording (method, path, query) of each request, to prove what the client sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.requests.append((scope["method"], scope["path"], scope["query_string"].decode()))
        await self.app(scope, receive, send)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return Counter((m, p) for m, p, _ in self.requests)[(method, path)]

    def queries(self, method: str, path: str) -> list[str]:
        with self._lock:
            return [q for m, p, q in self.requests if (m, p) == (method, path)]


@dataclass
class Live:
    url: str
    store: SQLiteStore
    service: ExecutionService
    log: RequestLog
    _threads: list[threading.Thread] = field(default_factory=list)
    _errors: list[BaseException] = field(default_factory=list)

    # --- the worker's part, through the store -------------------------------------
    def claim(self, execution_id: str) -> Execution:
        """Claim every pending execution (as a worker would) and return the one asked for."""
        now = datetime.now(UTC)
        claimed = self.store.execution_claim(
            WORKER, ["default"], 100, now=now, lease_until=now + timedelta(seconds=60)
        )
        got = {e.id: e for e in claimed}
        assert execution_id in got, f"{execution_id} was not claimable; claimed {sorted(got)}"
        return got[execution_id]

    def pending_ids(self) -> list[str]:
        """Executions waiting for a worker, oldest first: how a test finds one the CLI started."""
        page = self.service.list(ExecutionFilter(statuses=(Status.PENDING,)), sort=("id",), limit=100)
        return [e.id for e in page.items]

    def run_next(self, **kwargs: Any) -> None:
        """In the background: as soon as something is pending, run it (see `run`)."""
        self.when(lambda: bool(self.pending_ids()), lambda: self.run(self.pending_ids()[0], **kwargs))

    def progress(self, execution_id: str, finished: int, total: int) -> None:
        assert self.store.execution_set_progress(WORKER, execution_id, finished, total, None)

    def succeed(self, execution_id: str, result: Any = None) -> None:
        now = datetime.now(UTC)
        step = lambda e: states.transition(e, states.Succeed(now, result))  # noqa: E731
        assert self.store.execution_finish([(execution_id, WORKER, step)], now=now)[0] is not None

    def fail(self, execution_id: str, type_: str = "ValueError", message: str = "boom") -> None:
        now = datetime.now(UTC)
        error = ErrorInfo(type_, message, "Traceback (most recent call last):\n  ...\nValueError: boom")
        step = lambda e: states.transition(e, states.Fail(now, error, retryable=False))  # noqa: E731
        assert self.store.execution_finish([(execution_id, WORKER, step)], now=now)[0] is not None

    def run(self, execution_id: str, *, result: Any = None, fail: bool = False, total: int = 4) -> None:
        """Claim, report progress step by step, then succeed or fail: a whole run, as a worker does it."""
        current = self.store.execution_get(execution_id)
        if current is None or current.worker_id != WORKER:  # an earlier claim() may have taken it already
            self.claim(execution_id)
        for done in range(total + 1):
            self.progress(execution_id, done, total)
        if fail:
            self.fail(execution_id)
        else:
            self.succeed(execution_id, result)

    def in_background(self, func: Callable[[], None]) -> threading.Thread:
        """Run `func` in a thread the fixture joins; the test waits on conditions, not on time."""

        def guarded() -> None:
            try:
                func()
            except BaseException as exc:  # surfaced by join(), so a failing helper fails the test
                self._errors.append(exc)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def when(self, condition: Callable[[], bool], then: Callable[[], None], deadline: float = 10.0) -> None:
        """In the background: as soon as `condition()` holds, run `then()` (within `deadline` seconds)."""

        def watch() -> None:
            end = time.monotonic() + deadline
            while not condition():
                if time.monotonic() > end:
                    raise AssertionError("condition never held")
                time.sleep(0.01)
            then()

        self.in_background(watch)

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=15)
            assert not thread.is_alive(), "a background helper is still running"
        if self._errors:
            raise self._errors[0]


def wait_until(condition: Callable[[], bool], deadline: float = 10.0, what: str = "condition") -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what} did not happen within {deadline} s")
        time.sleep(0.01)


@contextmanager
def live_server(tmp_path: Path, *, auth_mode: str = "open") -> Iterator[Live]:
    store = SQLiteStore(sqlite_copy(tmp_path / "t.db"))
    # As `conveyor serve` builds it: imported workflows first, then those workers declared.
    service = ExecutionService(store, ChainedCatalog(make_app(), StoredCatalog(store.workflow_list)))
    log = RequestLog(create_app(service, auth_mode=auth_mode, stream_poll_interval=0.05))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(log, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), START_DEADLINE, "server start")
        assert server.started, "the test server did not start"
        live = Live(f"http://127.0.0.1:{port}", store, service, log)
        yield live
        live.join()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()


def free_port() -> int:
    """A port nothing listens on (bound then released), for connection-failure tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
