"""Many concurrent callers through a real socket: no start is lost, duplicates collapse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from conveyor.core.executions import ExecutionService
from conveyor.core.model import ExecutionFilter

from .support import LiveServer

Live = Callable[..., LiveServer]


async def test_500_concurrent_starts_lose_none(live: Live, service: ExecutionService) -> None:
    server = live()
    limits = httpx.Limits(max_connections=50)  # 100 only adds httpx pool overhead in this one process

    async with asyncio.timeout(90), httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def one(i: int) -> httpx.Response:
            return await http.post(
                f"{server.url}/executions", json={"workflow": "demo.count", "parameters": {"n": i}}
            )

        answers = await asyncio.gather(*(one(i) for i in range(500)))

    assert [r.status_code for r in answers] == [201] * 500
    ids = {r.json()["id"] for r in answers}
    assert len(ids) == 500
    assert sorted(r.json()["parameters"]["n"] for r in answers) == list(range(500))
    assert service.count(ExecutionFilter()) == 500


async def test_concurrent_duplicates_with_one_idempotency_key_start_once(
    live: Live, service: ExecutionService
) -> None:
    server = live()
    body = {"workflow": "demo.count", "parameters": {"n": 1}}

    async with asyncio.timeout(60), httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post(f"{server.url}/executions", json=body, headers={"Idempotency-Key": "once"})
              for _ in range(50))
        )  # fmt: skip

    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert service.count(ExecutionFilter()) == 1
