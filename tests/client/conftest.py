"""Fixtures for the client tests: a live server and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from conveyor.client import AsyncClient, Client

from .live import Live, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path) as server:
        yield server


@pytest.fixture
def client(live: Live) -> Iterator[Client]:
    with Client(live.url) as c:
        yield c


@pytest.fixture
async def aclient(live: Live) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(live.url) as c:
        yield c
