"""The asynchronous client: the same surface as `Client`, with `await` (and `async for` for lists).

It mirrors sync.py method for method so code moves between the two by
adding or removing `await`; both build their requests with `calls`.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from conveyor.client import calls
from conveyor.client.calls import BatchCallSpec
from conveyor.client.calls import batch as batch_call
from conveyor.client.errors import ConveyorConnectionError, WaitTimeout
from conveyor.client.groups import AsyncExecutionGroups, AsyncTargetGroups, AsyncTargets
from conveyor.client.http import DEFAULT_TIMEOUT, AsyncHTTP
from conveyor.client.models import JSON, ExecutionData, StartSpec
from conveyor.client.resources import AsyncTokens, AsyncWorkflows
from conveyor.client.schedules import AsyncSchedules
from conveyor.client.sse import END, SSEParser, event_of, seq_of
from conveyor.client.waiting import (
    MAX_RECONNECTS,
    Deadline,
    check_poll_interval,
    raise_outcome,
    reconnect_delay,
)

EVENTS_PAGE = 1000
UpdateHook = Callable[["AsyncExecution"], Awaitable[None] | None]


class AsyncExecution(ExecutionData):
    """An execution bound to an AsyncClient; its actions are coroutines that update it in place."""

    def __init__(self, raw: JSON, executions: AsyncExecutions) -> None:
        super().__init__(raw)
        self._executions = executions

    async def refresh(self) -> AsyncExecution:
        self._set_raw((await self._executions.get(self.id)).raw)
        return self

    async def _notify(self, on_update: UpdateHook | None) -> None:
        if on_update is not None:
            maybe = on_update(self)
            if maybe is not None:
                await maybe

    async def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        raise_on_failure: bool = True,
        on_update: UpdateHook | None = None,
    ) -> AsyncExecution:
        """Poll until succeeded, failed or cancelled; see `Execution.wait` for the rules.

        Sleeping with asyncio.sleep leaves the event loop free, so many
        executions can be awaited at once with asyncio.gather.
        """
        check_poll_interval(poll_interval)
        deadline = Deadline(timeout)
        if not self.is_terminal:
            await self.refresh()
            await self._notify(on_update)
        while not self.is_terminal:
            if deadline.expired:
                raise WaitTimeout(self, deadline.timeout or 0.0)
            await asyncio.sleep(deadline.pause(poll_interval))
            await self.refresh()
            await self._notify(on_update)
        if raise_on_failure:
            raise_outcome(self)
        return self

    def _take(self, answer: AsyncExecution) -> AsyncExecution:
        self._set_raw(answer.raw)
        return self

    async def cancel(self, force: bool = False, kill: bool = False) -> AsyncExecution:
        return self._take(await self._executions.cancel(self.id, force=force, kill=kill))

    async def pause(self) -> AsyncExecution:
        return self._take(await self._executions.pause(self.id))

    async def resume(self, force: bool = False) -> AsyncExecution:
        return self._take(await self._executions.resume(self.id, force=force))

    async def requeue(self) -> AsyncExecution:
        return self._take(await self._executions.requeue(self.id))

    async def events(self, after: int = 0) -> list[JSON]:
        return await self._executions.events(self.id, after=after)

    def stream_events(self, after: int = 0) -> AsyncIterator[JSON]:
        return self._executions.stream_events(self.id, after=after)


class AsyncExecutionList:
    """A lazy query for `async for`: one page per request, nothing fetched before iteration starts."""

    def __init__(
        self,
        executions: AsyncExecutions,
        filters: dict[str, calls.FilterValue],
        *,
        sort: str | Sequence[str] | None,
        include: str | Sequence[str] | None,
        page_size: int,
        limit: int | None,
    ) -> None:
        calls.page_limit(page_size, None, 0)
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        calls.filter_params(filters)
        self._executions = executions
        self._filters = filters
        self._sort = sort
        self._include = include
        self.page_size = page_size
        self.limit = limit

    async def pages(self) -> AsyncIterator[list[AsyncExecution]]:
        yielded = 0
        cursor: str | None = None
        while self.limit is None or yielded < self.limit:
            call = calls.list_page(
                self._filters,
                sort=self._sort,
                include=self._include,
                limit=calls.page_limit(self.page_size, self.limit, yielded),
                cursor=cursor,
            )
            data = await self._executions._http.send(call)
            items = list(data.get("items") or [])
            if self.limit is not None:
                items = items[: self.limit - yielded]
            yielded += len(items)
            if items:
                yield [self._executions._wrap(item) for item in items]
            cursor = data.get("next_cursor")
            if not cursor or not data.get("items"):
                return

    async def __aiter__(self) -> AsyncIterator[AsyncExecution]:
        async for page in self.pages():
            for ex in page:
                yield ex

    async def to_list(self) -> list[AsyncExecution]:
        """Collect everything the query yields (mind `limit` on large histories)."""
        return [ex async for ex in self]

    async def first(self) -> AsyncExecution | None:
        one = AsyncExecutionList(
            self._executions, self._filters, sort=self._sort, include=self._include, page_size=1, limit=1
        )
        async for ex in one:
            return ex
        return None


class AsyncExecutions:
    """`async_client.executions`: the async twin of `Executions`; see there for each method's rules."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> AsyncExecution:
        return AsyncExecution(raw, self)

    async def start(
        self,
        workflow: str,
        *,
        parameters: JSON | None = None,
        target: str | None = None,
        queue: bool = False,
        force: bool = False,
        dry_run: bool = False,
        schedule: datetime | str | None = None,
        priority: int = 0,
        allow_custom_parameters: bool = False,
        idempotency_key: str | None = None,
    ) -> AsyncExecution:
        spec = StartSpec(
            workflow,
            dict(parameters or {}),
            target,
            queue,
            force,
            dry_run,
            schedule,
            priority,
            allow_custom_parameters,
        )
        return self._wrap(await self._http.send(calls.start(spec, idempotency_key)))

    async def start_many(
        self,
        specs: Iterable[StartSpec | JSON],
        queue: bool = True,
        *,
        idempotency_key: str | None = None,
    ) -> list[AsyncExecution]:
        data = await self._http.send(calls.start_many(specs, queue=queue, idempotency_key=idempotency_key))
        return [self._wrap(item) for item in data.get("items") or []]

    async def get(self, execution_id: str, include: str | Sequence[str] | None = None) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.get(execution_id, include)))

    def list(
        self,
        status: str | Sequence[str] | None = None,
        workflow: str | Sequence[str] | None = None,
        target: str | Sequence[str] | None = None,
        queue: str | Sequence[str] | None = None,
        created_by: str | Sequence[str] | None = None,
        *,
        sort: str | Sequence[str] | None = "-id",
        include: str | Sequence[str] | None = None,
        page_size: int = 100,
        limit: int | None = None,
        **filters: calls.FilterValue,
    ) -> AsyncExecutionList:
        """Not a coroutine: returns the lazy list at once, to be walked with `async for`."""
        named: dict[str, calls.FilterValue] = {
            "status": status,
            "workflow": workflow,
            "target": target,
            "queue": queue,
            "created_by": created_by,
        }
        return AsyncExecutionList(
            self, {**named, **filters}, sort=sort, include=include, page_size=page_size, limit=limit
        )

    async def count(self, **filters: calls.FilterValue) -> int:
        return int((await self._http.send(calls.count(filters)))["count"])

    async def cancel(self, execution_id: str, force: bool = False, kill: bool = False) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.cancel(execution_id, force=force, kill=kill)))

    async def pause(self, execution_id: str) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.action(execution_id, "pause")))

    async def resume(self, execution_id: str, force: bool = False) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.action(execution_id, "resume", {"force": force})))

    async def requeue(self, execution_id: str) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.action(execution_id, "requeue")))

    async def update_status(
        self, execution_id: str, status: str, error: JSON | str | None = None, result: Any = None
    ) -> AsyncExecution:
        return self._wrap(await self._http.send(calls.update_status(execution_id, status, error, result)))

    async def message(self, execution_id: str, text: str, level: str = "info") -> None:
        await self._http.send(calls.message(execution_id, text, level))

    async def delete(self, execution_id: str) -> None:
        await self._http.send(calls.delete(execution_id))

    async def delete_finished(
        self,
        to_datetime: datetime | str | None = None,
        keep_last: int | None = None,
        **filters: calls.FilterValue,
    ) -> int:
        data = await self._http.send(calls.delete_finished(to_datetime, keep_last, filters))
        return int(data["deleted"])

    async def events(self, execution_id: str, after: int = 0) -> builtins.list[JSON]:
        out: builtins.list[JSON] = []
        while True:
            data = await self._http.send(calls.events(execution_id, after, EVENTS_PAGE))
            items = data.get("items") or []
            out.extend(items)
            if len(items) < EVENTS_PAGE:
                return out
            after = int(items[-1]["seq"])

    async def stream_events(self, execution_id: str, after: int = 0) -> AsyncIterator[JSON]:
        """Events as they happen until the execution ends, resuming after drops like the sync version."""
        last, failures = after, 0
        while True:
            try:
                async with self._http.stream(calls.event_stream(execution_id, last)) as response:
                    parser = SSEParser()
                    async for line in response.aiter_lines():
                        frame = parser.feed(line)
                        if frame is None:
                            continue
                        if frame.event == END:
                            return
                        event = event_of(frame)
                        last, failures = seq_of(frame, event, last), 0
                        yield event
            except ConveyorConnectionError:
                if failures >= MAX_RECONNECTS:
                    raise
            failures += 1
            if failures > MAX_RECONNECTS:
                raise ConveyorConnectionError(
                    f"The events stream of execution {execution_id} closed {MAX_RECONNECTS} times "
                    "before the execution ended; giving up.",
                    self._http.url,
                )
            await asyncio.sleep(reconnect_delay(failures))


class AsyncClient:
    """An asyncio Conveyor API client over httpx.AsyncClient; use `async with` or `await close()`."""

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

    @property
    def url(self) -> str:
        return self._http.url

    async def health(self) -> JSON:
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
        """Run several API calls in one request; see `Client.batch`."""
        data: JSON = await self._http.send(
            batch_call(calls, sync=sync, stop_on_error=stop_on_error, idempotency_key=idempotency_key)
        )
        return data

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"
