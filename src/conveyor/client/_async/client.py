"""`AsyncClient(url, token)`: the resources over one shared connection pool, and the smallest two.

Resources (`executions`, `workflows`, `tokens`, `schedules`, `targets`,
`target_groups`, `execution_groups`, `workers`) are small objects over one transport, so
a program keeps one connection pool however it reaches the API. The request
shapes come from `calls` and its siblings; the resources only send them and
wrap the answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

import httpx

from conveyor.client import calls
from conveyor.client._async.executions import AsyncExecutions
from conveyor.client._async.groups import AsyncExecutionGroups
from conveyor.client._async.http import AsyncHTTP
from conveyor.client._async.schedules import AsyncSchedules
from conveyor.client._async.targets import AsyncTargetGroups, AsyncTargets
from conveyor.client._async.workers import AsyncWorkers
from conveyor.client.calls import BatchCallSpec
from conveyor.client.calls import batch as batch_call
from conveyor.client.http import DEFAULT_TIMEOUT
from conveyor.client.models import JSON, TokenInfo, Workflow


class AsyncWorkflows:
    """`client.workflows`: what the server can run, with each workflow's parameter schema."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def list(self) -> list[Workflow]:
        data = await self._http.send(calls.workflows())
        return [Workflow.from_json(w) for w in data.get("items") or []]

    async def get(self, name: str) -> Workflow:
        return Workflow.from_json(await self._http.send(calls.workflow(name)))

    async def declare(
        self,
        name: str,
        *,
        parameters_schema: JSON | None = None,
        queue: str = "default",
        description: str = "",
        **flags: Any,
    ) -> Workflow:
        """Make a workflow startable without its code (workers elsewhere serve it); needs an admin.

        `flags`: system, timeout, max_attempts, retry_backoff, retention, allow_custom_parameters.
        """
        body = {"parameters_schema": parameters_schema or {"type": "object"}, "queue": queue,
                "description": description, **flags}  # fmt: skip
        return Workflow.from_json(await self._http.send(calls.workflow_declare(name, body)))


class AsyncTokens:
    """`client.tokens`: API tokens; the server allows these calls to the admin role only."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    async def create(self, name: str, role: str) -> TokenInfo:
        """Create a token; the answer's `.token` is the secret, which the server never shows again."""
        return TokenInfo.from_json(await self._http.send(calls.token_create(name, role)))

    async def list(self) -> list[TokenInfo]:
        data = await self._http.send(calls.token_list())
        return [TokenInfo.from_json(t) for t in data.get("items") or []]

    async def delete(self, token_id: str) -> None:
        await self._http.send(calls.token_delete(token_id))


class AsyncClient:
    """A Conveyor API client; use `async with` or `await close()`.

    `url` and `token` default to CONVEYOR_URL and CONVEYOR_TOKEN, then to a
    local open server, so scripts run unchanged from a laptop to CI.
    `transport` replaces the network (e.g. httpx.MockTransport in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = AsyncHTTP(url, token, timeout, transport)
        self.executions = AsyncExecutions(self._http)
        self.workflows = AsyncWorkflows(self._http)
        self.tokens = AsyncTokens(self._http)
        self.schedules = AsyncSchedules(self._http)
        self.targets = AsyncTargets(self._http)
        self.target_groups = AsyncTargetGroups(self._http)
        self.execution_groups = AsyncExecutionGroups(self._http, self.executions)
        self.workers = AsyncWorkers(self._http)

    @property
    def url(self) -> str:
        return self._http.url

    async def health(self) -> JSON:
        """`{"status", "version", "database"}`: a cheap check that the server is up and reachable."""
        data: JSON = await self._http.send(calls.health())
        return data

    async def batch(
        self,
        calls: Iterable[BatchCallSpec],
        sync: bool = True,
        stop_on_error: bool = False,
        *,
        idempotency_key: str | None = None,
    ) -> JSON:
        """Run several API calls in one request, in order, each as if sent on its own by this client.

        Each call is `{"method", "path", "body"?, "query"?}` or `(method, path[, body])`, with paths
        under /api/v1 or relative to it. Sync: `{"results": [{"index", "method", "path", "status",
        "body", "skipped"}], "stopped_at"}`; a failing call answers in its slot and does not raise.
        `sync=False`: `{"execution_id", "execution"}`, an execution whose result will be that document
        (`client.executions.get(id).wait()`). `stop_on_error` skips the calls after the first failure.
        """
        data: JSON = await self._http.send(
            batch_call(calls, sync=sync, stop_on_error=stop_on_error, idempotency_key=idempotency_key)
        )
        return data

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"
