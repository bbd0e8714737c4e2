from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor.core.catalog import ChainedCatalog
from conveyor.core.executions import ExecutionService
from conveyor.core.ports import Store
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store import open_store
from conveyor.worker.runner import Worker, WorkerSettings
from tests.databases import STORES, database
from tests.worker.workflows import app


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with database(request.param, tmp_path) as url:
        s = open_store(url)
        yield s
        s.close()


@pytest.fixture
def service(store: Store) -> ExecutionService:
    return ExecutionService(store, ChainedCatalog(app))


@pytest.fixture
def loop(service: ExecutionService) -> Iterator[BackgroundLoop]:
    bg = BackgroundLoop(service, interval=0.02)
    bg.start()
    yield bg
    bg.stop()


@pytest.fixture
def worker(store: Store) -> Iterator[Worker]:
    w = Worker.on_store(store, app, WorkerSettings(concurrency=4, lease_seconds=3))
    w.start()
    yield w
    w.stop(grace=1)
