from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from conveyor.core.catalog import ChainedCatalog
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService
from conveyor.core.ports import Store
from conveyor.core.schedules import ScheduleService
from conveyor.store import open_store
from conveyor.worker.registry import App
from tests.databases import STORES, database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class BackupParams(BaseModel):
    db: str = "main"


app = App("scheduler-tests")


@app.workflow("backup", params=BackupParams)
def backup(ctx: Any, params: BackupParams) -> None: ...


@pytest.fixture(params=STORES)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as u:
        yield u


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def stores(url: str) -> Iterator[list[Store]]:
    opened: list[Store] = []
    yield opened
    for s in opened:
        s.close()


@pytest.fixture
def make(url: str, stores: list[Store], clock: ManualClock) -> Any:
    """A ScheduleService on its own store object (as another server would have)."""

    def make_() -> ScheduleService:
        store = open_store(url)
        stores.append(store)
        return ScheduleService(ExecutionService(store, ChainedCatalog(app), clock=clock))

    return make_


@pytest.fixture
def schedules(make: Any) -> ScheduleService:
    s: ScheduleService = make()
    return s
