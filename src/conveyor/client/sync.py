"""The synchronous client: `Client(url, token).executions.start(...).wait()`.

Resources (`executions`, `workflows`, `tokens`, `schedules`, `targets`, `target_groups`,
`execution_groups`) are small objects over one
shared httpx.Client, so a program keeps one connection pool however it
reaches the API. The request shapes come from `calls`; this module only
sends them and wraps the answers.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from conveyor.client import calls
from conveyor.client.calls import BatchCallSpec
from conveyor.client.calls import batch as batch_call
from conveyor.client.errors import ConveyorConnectionError, WaitTimeout
from conveyor.client.groups import ExecutionGroups, TargetGroups, Targets
from conveyor.client.http import DEFAULT_TIMEOUT, SyncHTTP
from conveyor.client.models import JSON, ExecutionData, StartSpec
from conveyor.client.resources import Tokens, Workflows
from conveyor.client.schedules import Schedules
from conveyor.client.sse import END, SSEParser, event_of, seq_of
from conveyor.client.waiting import (
    MAX_RECONNECTS,
    Deadline,
    check_poll_interval,
    raise_outcome,
    reconnect_delay,
)

EVENTS_PAGE = 1000


class Execution(ExecutionData):
    """An execution document bound to the client that fetched it, so it can refresh and act on itself.

    Actions (`cancel`, `pause`, ...) update this object in place with the
    server's answer and return it, so `ex.cancel().status` is current.
    """

    def __init__(self, raw: JSON, executions: Executions) -> None:
        super().__init__(raw)
        self._executions = executions

    def refresh(self) -> Execution:
        self._set_raw(self._executions.get(self.id).raw)
        return self

    def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        raise_on_failure: bool = True,
        on_update: Callable[[Execution], None] | None = None,
    ) -> Execution:
        """Poll until the execution is succeeded, failed or cancelled, and return it.

        Polling (rather than the events stream) keeps this working through
        proxies that buffer streams, and the interval bounds the load a
        waiting script puts on the server. `on_update` sees each polled
        state, e.g. to draw progress. Raises ExecutionFailed or
        ExecutionCancelled when `raise_on_failure`, and WaitTimeout once
        `timeout` seconds pass; the execution itself is never touched.
        """
        check_poll_interval(poll_interval)
        deadline = Deadline(timeout)
        if not self.is_terminal:
            self.refresh()
            if on_update is not None:
                on_update(self)
        while not self.is_terminal:
            if deadline.expired:
                raise WaitTimeout(self, deadline.timeout or 0.0)
            time.sleep(deadline.pause(poll_interval))
            self.refresh()
            if on_update is not None:
                on_update(self)
        if raise_on_failure:
            raise_outcome(self)
        return self

    def _take(self, answer: Execution) -> Execution:
        self._set_raw(answer.raw)
        return self

    def cancel(self, force: bool = False, kill: bool = False) -> Execution:
        return self._take(self._executions.cancel(self.id, force=force, kill=kill))

    def pause(self) -> Execution:
        return self._take(self._executions.pause(self.id))

    def resume(self, force: bool = False) -> Execution:
        return self._take(self._executions.resume(self.id, force=force))

    def requeue(self) -> Execution:
        return self._take(self._executions.requeue(self.id))

    def events(self, after: int = 0) -> list[JSON]:
        return self._executions.events(self.id, after=after)

    def stream_events(self, after: int = 0) -> Iterator[JSON]:
        return self._executions.stream_events(self.id, after=after)


class ExecutionList(Iterable[Execution]):
    """A lazy query: nothing is requested until iteration, then one page at a time via `next_cursor`.

    Large histories can be walked without loading them, and a loop that
    `break`s early costs only the pages it saw. Each iteration starts a
    fresh walk from the first page.
    """

    def __init__(
        self,
        executions: Executions,
        filters: dict[str, calls.FilterValue],
        *,
        sort: str | Sequence[str] | None,
        include: str | Sequence[str] | None,
        page_size: int,
        limit: int | None,
    ) -> None:
        calls.page_limit(page_size, None, 0)  # refuse a bad page size now, not at the first iteration
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        calls.filter_params(filters)
        self._executions = executions
        self._filters = filters
        self._sort = sort
        self._include = include
        self.page_size = page_size
        self.limit = limit

    def pages(self) -> Iterator[list[Execution]]:
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
            data = self._executions._http.send(call)
            items = list(data.get("items") or [])
            if self.limit is not None:
                items = items[: self.limit - yielded]
            yielded += len(items)
            if items:
                yield [self._executions._wrap(item) for item in items]
            cursor = data.get("next_cursor")
            if not cursor or not data.get("items"):
                return

    def __iter__(self) -> Iterator[Execution]:
        for page in self.pages():
            yield from page

    def first(self) -> Execution | None:
        """The first match, fetching a single page of one item."""
        for ex in ExecutionList(
            self._executions,
            self._filters,
            sort=self._sort,
            include=self._include,
            page_size=1,
            limit=1,
        ):
            return ex
        return None


class Executions:
    """`client.executions`: start, read, act on and delete executions."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> Execution:
        return Execution(raw, self)

    def start(
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
    ) -> Execution:
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
        return self._wrap(self._http.send(calls.start(spec, idempotency_key)))

    def start_many(
        self,
        specs: Iterable[StartSpec | JSON],
        queue: bool = True,
        *,
        idempotency_key: str | None = None,
    ) -> list[Execution]:
        """Start several executions in one request: all of them or, on any error, none."""
        data = self._http.send(calls.start_many(specs, queue=queue, idempotency_key=idempotency_key))
        return [self._wrap(item) for item in data.get("items") or []]

    def get(self, execution_id: str, include: str | Sequence[str] | None = None) -> Execution:
        return self._wrap(self._http.send(calls.get(execution_id, include)))

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
    ) -> ExecutionList:
        """A lazy, paged iterable of executions; filters take one value or a list meaning "any of".

        Further filters (`group_id`, `is_system`, `dry_run`, `created_after`,
        `created_before`) go by keyword. `limit` caps how many are yielded.
        """
        named: dict[str, calls.FilterValue] = {
            "status": status,
            "workflow": workflow,
            "target": target,
            "queue": queue,
            "created_by": created_by,
        }
        return ExecutionList(
            self, {**named, **filters}, sort=sort, include=include, page_size=page_size, limit=limit
        )

    def count(self, **filters: calls.FilterValue) -> int:
        return int(self._http.send(calls.count(filters))["count"])

    def cancel(self, execution_id: str, force: bool = False, kill: bool = False) -> Execution:
        """Ask the execution to stop; `force` marks it cancelled now, `kill` also stops its process."""
        return self._wrap(self._http.send(calls.cancel(execution_id, force=force, kill=kill)))

    def pause(self, execution_id: str) -> Execution:
        return self._wrap(self._http.send(calls.action(execution_id, "pause")))

    def resume(self, execution_id: str, force: bool = False) -> Execution:
        """Resume a paused execution, or with `force` a failed/cancelled one (retrying its failed work)."""
        return self._wrap(self._http.send(calls.action(execution_id, "resume", {"force": force})))

    def requeue(self, execution_id: str) -> Execution:
        return self._wrap(self._http.send(calls.action(execution_id, "requeue")))

    def update_status(
        self, execution_id: str, status: str, error: JSON | str | None = None, result: Any = None
    ) -> Execution:
        """Report a status from an external worker; the server still checks it against the state machine."""
        return self._wrap(self._http.send(calls.update_status(execution_id, status, error, result)))

    def message(self, execution_id: str, text: str, level: str = "info") -> None:
        self._http.send(calls.message(execution_id, text, level))

    def delete(self, execution_id: str) -> None:
        self._http.send(calls.delete(execution_id))

    def delete_finished(
        self,
        to_datetime: datetime | str | None = None,
        keep_last: int | None = None,
        **filters: calls.FilterValue,
    ) -> int:
        """Delete terminal executions that ended before `to_datetime`, or all but the newest `keep_last`."""
        data = self._http.send(calls.delete_finished(to_datetime, keep_last, filters))
        return int(data["deleted"])

    def events(self, execution_id: str, after: int = 0) -> builtins.list[JSON]:
        """Every event after sequence number `after`, fetching as many pages as it takes."""
        out: builtins.list[JSON] = []
        while True:
            items = self._http.send(calls.events(execution_id, after, EVENTS_PAGE)).get("items") or []
            out.extend(items)
            if len(items) < EVENTS_PAGE:
                return out
            after = int(items[-1]["seq"])

    def stream_events(self, execution_id: str, after: int = 0) -> Iterator[JSON]:
        """Events as they happen, from the server-sent events stream, until the execution ends.

        A dropped connection is resumed after the last event seen (so none
        is repeated or lost); after MAX_RECONNECTS drops in a row without
        any new event, ConveyorConnectionError is raised.
        """
        last, failures = after, 0
        while True:
            try:
                with self._http.stream(calls.event_stream(execution_id, last)) as response:
                    parser = SSEParser()
                    for line in response.iter_lines():
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
            time.sleep(reconnect_delay(failures))


class Client:
    """A synchronous Conveyor API client.

    `url` and `token` default to CONVEYOR_URL and CONVEYOR_TOKEN, then to a
    local open server, so scripts run unchanged from a laptop to CI.
    `transport` replaces the network (e.g. httpx.WSGITransport or a
    MockTransport in tests).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = SyncHTTP(url, token, timeout, transport)
        self.executions = Executions(self._http)
        self.workflows = Workflows(self._http)
        self.tokens = Tokens(self._http)
        self.schedules = Schedules(self._http)
        self.targets = Targets(self._http)
        self.target_groups = TargetGroups(self._http)
        self.execution_groups = ExecutionGroups(self._http, self.executions)

    @property
    def url(self) -> str:
        return self._http.url

    def health(self) -> JSON:
        """`{"status", "version", "database"}`: a cheap check that the server is up and reachable."""
        data: JSON = self._http.send(calls.health())
        return data

    def batch(
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
        data: JSON = self._http.send(
            batch_call(calls, sync=sync, stop_on_error=stop_on_error, idempotency_key=idempotency_key)
        )
        return data

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"
