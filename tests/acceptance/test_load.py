"""500 concurrent starts through the API over a real socket: none is lost, each runs once."""

from __future__ import annotations

import asyncio

import httpx

from conveyor.client import Client
from tests.acceptance.conftest import System
from tests.helpers import wait_until


async def _start_all(url: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        return await asyncio.gather(
            *(http.post("/api/v1/executions", json={"workflow": "acc.noop"}) for _ in range(n))
        )


def test_500_concurrent_starts_lose_none(served: tuple[System, Client]) -> None:
    _, client = served
    answers = asyncio.run(_start_all(client.url, 500))
    assert [a.status_code for a in answers] == [201] * 500
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 500
    assert client.executions.count(workflow="acc.noop") == 500
    wait_until(
        lambda: client.executions.count(workflow="acc.noop", status="succeeded") == 500,
        timeout=60,
        interval=0.2,
        what="all 500 to succeed",
    )
    assert {e.id for e in client.executions.list(workflow="acc.noop", page_size=200)} == ids
    assert all(e.attempt == 1 for e in client.executions.list(workflow="acc.noop", page_size=500))
