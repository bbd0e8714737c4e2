from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conveyor.core.catalog import ChainedCatalog
from conveyor.core.service import ExecutionService
from conveyor.scheduler.loop import BackgroundLoop
from conveyor.store.sqlite import SQLiteStore
from conveyor.worker.runner import Worker, WorkerSettings
from tests.worker.workflows import app


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(f"sqlite:///{tmp_path}/worker.db")
    yield s
    s.close()


@pytest.fixture
def service(store: SQLiteStore) -> ExecutionService:
    return ExecutionService(store, ChainedCatalog(app))


@pytest.fixture
def loop(service: ExecutionService) -> Iterator[BackgroundLoop]:
    bg = BackgroundLoop(service, interval=0.02)
    bg.start()
    yield bg
    bg.stop()


@pytest.fixture
def worker(store: SQLiteStore) -> Iterator[Worker]:
    w = Worker(store, app, WorkerSettings(concurrency=4, lease_seconds=3))
    w.start()
    yield w
    w.stop(grace=1)
