"""`client.workers`: the worker protocol (docs/workers.md), for workers that do not open the database.

Plain documents in and out: `conveyor.worker.remote` drives these calls for Python workflows, and
any other program can make the same calls. Listing workers needs a viewer token; the rest, a
worker token.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from conveyor.client import calls
from conveyor.client._async.http import AsyncHTTP
from conveyor.client.models import JSON


class AsyncWorkers:
    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def list(self) -> list[JSON]:
        """Every registered worker: queues, workflows, what it holds, and alive, lost or stopped."""
        data = await self._http.send(calls.worker_list())
        return list(data.get("items") or [])

    async def queues(self) -> builtins.list[JSON]:
        """Every queue: executions by status, how many wait and since when, and the live workers on it."""
        data = await self._http.send(calls.queue_list())
        return list(data.get("items") or [])

    async def register(
        self,
        name: str,
        *,
        host: str = "",
        queues: Sequence[str] = ("default",),
        workflows: Sequence[JSON] = (),
        concurrency: int = 8,
        version: str = "",
    ) -> JSON:
        """`{"id", "lease_seconds", "heartbeat_seconds"}`; `workflows` are declared to the server."""
        data: JSON = await self._http.send(
            calls.worker_register(name, host, queues, workflows, concurrency, version)
        )
        return data

    async def claim(self, worker_id: str, limit: int = 1, wait: float = 0.0) -> builtins.list[JSON]:
        """Up to `limit` executions, now held by this worker; waits up to `wait` s when none is ready."""
        data = await self._http.send(calls.worker_claim(worker_id, limit, wait))
        return list(data.get("items") or [])

    async def heartbeat(self, worker_id: str, execution_ids: Sequence[str]) -> dict[str, str]:
        """Renew leases; answers the status of each execution still held (missing: no longer ours)."""
        data = await self._http.send(calls.worker_heartbeat(worker_id, execution_ids))
        return dict(data.get("executions") or {})

    async def report(
        self, worker_id: str, reports: Sequence[JSON], *, idempotency_key: str | None = None
    ) -> builtins.list[JSON]:
        """Progress, messages and outcomes; one answer per report (`accepted`, `status`)."""
        data = await self._http.send(calls.worker_reports(worker_id, reports, idempotency_key))
        return list(data.get("items") or [])

    async def deregister(self, worker_id: str) -> None:
        await self._http.send(calls.worker_deregister(worker_id))
