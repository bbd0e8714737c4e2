"""`client.executions`: start, read, act on and delete executions, and follow their events."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from httpx_sse import EventSource

from conveyor.client import calls
from conveyor.client._async.base import AsyncBound, AsyncListing, AsyncResource, poll
from conveyor.client.errors import ConveyorConnectionError, WaitTimeout
from conveyor.client.models import JSON, ExecutionData, StartSpec
from conveyor.client.paging import after_last_seq
from conveyor.client.sse import END, event_of, is_keepalive, seq_of
from conveyor.client.waiting import MAX_RECONNECTS, AsyncHook, raise_outcome, reconnect_delay

EVENTS_PAGE = 1000


class AsyncExecution(AsyncBound["AsyncExecutions"], ExecutionData):
    """An execution document bound to the client that fetched it, so it can refresh and act on itself.

    Actions (`cancel`, `pause`, ...) update this object in place with the
    server's answer and return it, so after `await ex.cancel()` its `status` is current.
    """

    async def refresh(self) -> AsyncExecution:
        return self._take(await self._owner.get(self.id))

    async def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        raise_on_failure: bool = True,
        on_update: AsyncHook[AsyncExecution] | None = None,
    ) -> AsyncExecution:
        """Poll until the execution is succeeded, failed or cancelled, and return it.

        Polling (rather than the events stream) keeps this working through
        proxies that buffer streams, and the interval bounds the load a
        waiting script puts on the server. `on_update` sees each polled
        state, e.g. to draw progress. Raises ExecutionFailed or
        ExecutionCancelled when `raise_on_failure`, and WaitTimeout once
        `timeout` seconds pass; the execution itself is never touched.
        """
        ended = attrgetter("is_terminal")
        await poll(self, ended, timeout, poll_interval, on_update, WaitTimeout, refresh_first=False)
        if raise_on_failure:
            raise_outcome(self)
        return self

    async def cancel(self, force: bool = False, kill: bool = False) -> AsyncExecution:
        return self._take(await self._owner.cancel(self.id, force=force, kill=kill))

    async def pause(self) -> AsyncExecution:
        return self._take(await self._owner.pause(self.id))

    async def resume(self, force: bool = False) -> AsyncExecution:
        return self._take(await self._owner.resume(self.id, force=force))

    async def requeue(self) -> AsyncExecution:
        return self._take(await self._owner.requeue(self.id))

    async def events(self, after: int = 0) -> list[JSON]:
        return await self._owner.events(self.id, after=after)

    def stream_events(self, after: int = 0) -> AsyncIterator[JSON]:
        return self._owner.stream_events(self.id, after=after)


class AsyncExecutionList(AsyncListing[AsyncExecution]):
    """The executions matching a query, newest first unless `sort` says otherwise."""


class AsyncExecutions(AsyncResource[AsyncExecution]):
    """`client.executions`: start, read, act on and delete executions."""

    document = AsyncExecution

    async def get(self, execution_id: str, include: str | Sequence[str] | None = None) -> AsyncExecution:
        return await self._one(calls.get(execution_id, include))

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
        """Start one execution. Without `queue` or `force`, a start admission refuses raises ConflictError.

        `idempotency_key` makes retries safe: the server answers a repeated
        key with the first answer instead of starting a second execution.
        """
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
        return await self._one(calls.start(spec, idempotency_key))

    async def start_many(
        self, specs: Iterable[StartSpec | JSON], queue: bool = True, *, idempotency_key: str | None = None
    ) -> list[AsyncExecution]:
        """Start several executions in one request: all of them or, on any error, none."""
        data = await self._http.send(calls.start_many(specs, queue=queue, idempotency_key=idempotency_key))
        return [self._wrap(item) for item in data.get("items") or []]

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
        """A lazy, paged list of executions (not a coroutine: it is walked with `async for`).

        Filters take one value or a list meaning "any of"; further ones
        (`group_id`, `is_system`, `dry_run`, `created_after`, `created_before`)
        go by keyword. `limit` caps how many are yielded.
        """
        wanted: dict[str, calls.FilterValue] = dict(
            status=status, workflow=workflow, target=target, queue=queue, created_by=created_by, **filters
        )
        calls.filter_params(wanted)  # refuse an unknown filter now, not at the first iteration
        return AsyncExecutionList(
            self._http,
            lambda n, cursor: calls.list_page(wanted, sort=sort, include=include, limit=n, cursor=cursor),
            self._wrap,
            page_size=page_size,
            limit=limit,
        )

    async def count(self, **filters: calls.FilterValue) -> int:
        return int((await self._http.send(calls.count(filters)))["count"])

    async def cancel(self, execution_id: str, force: bool = False, kill: bool = False) -> AsyncExecution:
        """Ask the execution to stop; `force` marks it cancelled now, `kill` also stops its process."""
        return await self._one(calls.cancel(execution_id, force=force, kill=kill))

    async def pause(self, execution_id: str) -> AsyncExecution:
        return await self._one(calls.action(execution_id, "pause"))

    async def resume(self, execution_id: str, force: bool = False) -> AsyncExecution:
        """Resume a paused execution, or with `force` a failed/cancelled one (retrying its failed work)."""
        return await self._one(calls.action(execution_id, "resume", {"force": force}))

    async def requeue(self, execution_id: str) -> AsyncExecution:
        return await self._one(calls.action(execution_id, "requeue"))

    async def update_status(
        self, execution_id: str, status: str, error: JSON | str | None = None, result: Any = None
    ) -> AsyncExecution:
        """Report a status from an external worker; the server still checks it against the state machine."""
        return await self._one(calls.update_status(execution_id, status, error, result))

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
        """Delete terminal executions that ended before `to_datetime`, or all but the newest `keep_last`."""
        data = await self._http.send(calls.delete_finished(to_datetime, keep_last, filters))
        return int(data["deleted"])

    async def events(self, execution_id: str, after: int = 0) -> builtins.list[JSON]:
        """Every event after sequence number `after`, fetching as many pages as it takes."""
        events = AsyncListing(
            self._http,
            lambda n, seq: calls.events(execution_id, int(seq or after), n),
            dict,
            page_size=EVENTS_PAGE,
            cursor_of=after_last_seq,
        )
        return await events.to_list()

    async def stream_events(self, execution_id: str, after: int = 0) -> AsyncIterator[JSON]:
        """Events as they happen, from the server-sent events stream, until the execution ends.

        A dropped connection is resumed after the last event seen (so none
        is repeated or lost); after MAX_RECONNECTS drops in a row without
        any new event, ConveyorConnectionError is raised.
        """
        last, failures = after, 0
        while True:
            try:
                async with self._http.stream(calls.event_stream(execution_id, last)) as response:
                    async for sse in EventSource(response).aiter_sse():
                        if sse.event == END:
                            return
                        if is_keepalive(sse):
                            continue
                        event = event_of(sse)
                        last, failures = seq_of(sse, event, last), 0
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
