"""API fixtures: a real SQLite store on a temporary file, a small workflow catalog, and clients."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from conveyor.api import create_app
from conveyor.core.executions import ExecutionService
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import sqlite_copy

from .support import LiveServer, serve

with warnings.catch_warnings():
    # Starlette asks for `httpx2`; the project pins httpx, which the test client still supports.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


class CountParams(BaseModel):
    n: int


class BackupParams(BaseModel):
    db: str
    compress: bool = True


def make_catalog() -> App:
    app = App("api-tests")

    @app.workflow("demo.count", params=CountParams, max_attempts=3, timeout=600)
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
def catalog() -> App:
    return make_catalog()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sqlite_copy(tmp_path / "t.db"))
    yield s
    s.close()


@pytest.fixture
def service(store: SQLiteStore, catalog: App) -> ExecutionService:
    return ExecutionService(store, catalog)


MakeApp = Callable[..., FastAPI]
MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_app(service: ExecutionService) -> MakeApp:
    def make(auth_mode: str = "open", **options: Any) -> FastAPI:
        return create_app(service, auth_mode=auth_mode, version="9.9.9", **options)

    return make


@pytest.fixture
def make_client(make_app: MakeApp) -> Iterator[MakeClient]:
    with ExitStack() as stack:

        def make(auth_mode: str = "open", *, token: str | None = None, **options: Any) -> TestClient:
            client = TestClient(make_app(auth_mode, **options), base_url="http://testserver/api/v1")
            if token is not None:
                client.headers["Authorization"] = f"Bearer {token}"
            return stack.enter_context(client)

        yield make


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def live(make_app: MakeApp) -> Iterator[Callable[..., LiveServer]]:
    """Start the app under uvicorn on a real socket; every server started is stopped after the test."""
    with ExitStack() as stack:

        def start(auth_mode: str = "open", **options: Any) -> LiveServer:
            return stack.enter_context(serve(make_app(auth_mode, **options)))

        yield start
