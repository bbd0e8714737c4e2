"""Store fixtures: every test that takes `store` runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import create_engine, insert

from conveyor.core.catalog import ChainedCatalog, StoredCatalog
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, ServiceSettings
from conveyor.core.ports import Store
from conveyor.store import migrate, schema
from conveyor.store.postgres import PostgresStore
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.registry import App
from tests.databases import STORES, pg_schema, sqlite_copy

from .support import T0

RETENTION = 3600.0


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    if store_kind == "sqlite":
        yield sqlite_copy(tmp_path / "t.db")
        return
    with pg_schema() as url:
        yield url


@pytest.fixture
def open_store(store_kind: str) -> Iterator[Callable[[str], Store]]:
    """Open (another) store on a database; every store opened is closed after the test."""
    opened: list[Any] = []

    def open_(url: str) -> Store:
        s: Any = SQLiteStore(url) if store_kind == "sqlite" else PostgresStore(url)
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store: Callable[[str], Store], store_url: str) -> Store:
    return open_store(store_url)


@pytest.fixture
def set_max_concurrent(store: Store, store_url: str) -> Callable[[str, int], None]:
    """Give a target a concurrency limit (no Store method writes targets yet)."""

    def set_(name: str, limit: int) -> None:
        engine = create_engine(migrate.sqlalchemy_url(store_url))
        try:
            with engine.begin() as conn:
                conn.execute(insert(schema.targets).values(name=name, max_concurrent=limit, created_at=0.0))
        finally:
            engine.dispose()

    return set_


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


class JobParams(BaseModel):
    n: int = 1


@pytest.fixture
def app() -> App:
    app = App("store-tests")

    @app.workflow("job", params=JobParams)
    def job(ctx: Any, params: JobParams) -> None: ...

    @app.workflow("sys", system=True)
    def sys_(ctx: Any, params: dict[str, Any]) -> None: ...

    @app.workflow("flaky", max_attempts=3, retry_backoff=10.0)
    def flaky(ctx: Any, params: dict[str, Any]) -> None: ...

    @app.workflow("brief", retention=60.0)
    def brief(ctx: Any, params: dict[str, Any]) -> None: ...

    @app.workflow("io", queue="io")
    def io(ctx: Any, params: dict[str, Any]) -> None: ...

    return app


@pytest.fixture
def service(store: Store, app: App, clock: ManualClock) -> ExecutionService:
    store.workflow_upsert(app.all())
    catalog = ChainedCatalog(app, StoredCatalog(store.workflow_list))
    return ExecutionService(store, catalog, clock=clock, settings=ServiceSettings(retention=RETENTION))
