"""Async batches (`sync=false`): an execution of `conveyor.batch` held and run by this process.

Apart from the call dispatch (batch_calls) because this part is about the execution's life,
not the calls: it records the execution (created running and held by this process, see
`ExecutionService.begin_internal`), runs the calls in a task on this process's event loop,
renews the lease while it runs, reports progress and messages, and records the result (the
same `{"results", "stopped_at"}` a sync batch answers). The caller's Authorization header
lives only in that task's memory, never in the store. If this process dies, the lease runs
out and the execution fails with WorkerLost; a cancel stops it before its next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import traceback
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from conveyor.api.batch_calls import BatchCall, run_calls
from conveyor.api.batch_models import BATCH_WORKFLOW
from conveyor.api.serialize import execution_doc
from conveyor.core import states
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ErrorInfo

log = logging.getLogger("conveyor.api.batch")

#: How long the lease of an async batch lasts, and how often it is renewed (app.state can override both).
LEASE_SECONDS = 30.0
HEARTBEAT_INTERVAL = 5.0


def _holder(app: FastAPI) -> str:
    """This server process's holder id for the executions it runs itself (set once per app)."""
    holder: str | None = getattr(app.state, "batch_holder", None)
    if holder is None:
        holder = f"api:{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        app.state.batch_holder = holder
    return holder


def _tasks(app: FastAPI) -> set[asyncio.Task[None]]:
    """Running background batches, referenced so the loop does not drop them half-way."""
    tasks: set[asyncio.Task[None]] | None = getattr(app.state, "batch_tasks", None)
    if tasks is None:
        tasks = set()
        app.state.batch_tasks = tasks
    return tasks


@dataclass
class _Held:
    """One async batch's hold on its execution, renewed by a heartbeat task."""

    service: ExecutionService
    holder: str
    execution_id: str
    lease_seconds: float
    interval: float
    cancelled: bool = False  # a cancel was asked: stop before the next call
    lost: bool = False  # no longer ours (force-cancelled, deleted, reaped)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def _beat(self) -> None:
        seen = self.service.store.execution_heartbeat(
            self.holder, [self.execution_id], lease_until=self.service.lease_until(self.lease_seconds)
        )
        status = seen.get(self.execution_id)
        if status is None:
            self.lost = True
        elif status in states.CANCELLING_STATES:
            self.cancelled = True

    async def keep(self) -> None:
        while not self.done.is_set() and not self.lost:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.interval)
                return
            try:
                await run_in_threadpool(self._beat)
            except Exception:  # one failed renewal is survivable: the lease outlasts several intervals
                log.exception("could not renew the lease of batch execution %s", self.execution_id)

    @property
    def stopping(self) -> bool:
        return self.cancelled or self.lost


async def _run_in_background(
    app: FastAPI,
    held: _Held,
    calls: list[BatchCall],
    *,
    authorization: str | None,
    stop_on_error: bool,
    idempotency_key: str | None,
) -> None:
    service, ex_id, total = held.service, held.execution_id, len(calls)
    ran = 0
    stopped_by_cancel = False

    async def before_call(index: int) -> bool:
        nonlocal stopped_by_cancel
        stopped_by_cancel = held.stopping
        return not stopped_by_cancel

    async def after_call(index: int, result: dict[str, Any]) -> None:
        nonlocal ran
        ran = index + 1
        if held.lost:
            return
        status = result["status"]
        level = "warning" if status >= 400 else "info"
        text = f"call {index}: {result['method']} {result['path']} answered {status}"
        await run_in_threadpool(service.message, ex_id, text, level=level)
        await run_in_threadpool(service.store.execution_set_progress, held.holder, ex_id, ran, total, None)

    def confirm_cancelled() -> bool:
        now = service.clock.now()
        step = lambda e: states.transition(e, states.ConfirmCancelled(now))  # noqa: E731
        return service.store.execution_finish([(ex_id, held.holder, step)], now=now)[0] is not None

    def finish(outcome: dict[str, Any]) -> None:
        if held.lost:
            log.warning(
                "batch execution %s was taken from this server after %d of %d calls", ex_id, ran, total
            )
        elif stopped_by_cancel:
            service.message(ex_id, f"cancelled after {ran} of {total} calls", level="warning")
            confirm_cancelled()
        elif service.finish_internal(ex_id, held.holder, result=outcome) is None and not confirm_cancelled():
            # (a kill asked during the last call refuses the success, so the cancel is confirmed instead)
            log.warning("batch execution %s ended elsewhere before its result was recorded", ex_id)

    keeper = asyncio.create_task(held.keep())
    try:
        await run_in_threadpool(service.store.execution_set_progress, held.holder, ex_id, 0, total, None)
        outcome = await run_calls(
            app,
            calls,
            authorization=authorization,
            stop_on_error=stop_on_error,
            idempotency_key=idempotency_key,
            before_call=before_call,
            after_call=after_call,
        )
        held.done.set()
        await keeper
        await run_in_threadpool(finish, outcome)
    except asyncio.CancelledError:  # the server is stopping: say so now rather than when the lease runs out
        held.done.set()
        error = ErrorInfo(
            "Interrupted", f"the server stopped while running this batch, after {ran} of {total} calls"
        )
        with contextlib.suppress(Exception):
            service.finish_internal(ex_id, held.holder, error=error)
        raise
    except Exception as exc:
        held.done.set()
        log.exception("batch execution %s failed", ex_id)
        error = ErrorInfo(type(exc).__name__, f"{exc} (after {ran} of {total} calls)", traceback.format_exc())
        try:
            await run_in_threadpool(lambda: service.finish_internal(ex_id, held.holder, error=error))
        except Exception:
            log.exception("could not record the failure of batch execution %s", ex_id)
    finally:
        keeper.cancel()


async def start_in_background(
    app: FastAPI,
    service: ExecutionService,
    calls: list[BatchCall],
    *,
    created_by: str,
    authorization: str | None,
    stop_on_error: bool,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Record the batch's execution (running, held here), start its task; the 202 answer's document."""
    holder = _holder(app)
    lease_seconds = float(getattr(app.state, "batch_lease_seconds", LEASE_SECONDS))
    interval = float(getattr(app.state, "batch_heartbeat_interval", HEARTBEAT_INTERVAL))
    parameters = {"calls": [c.doc() for c in calls], "stop_on_error": stop_on_error}
    ex = await run_in_threadpool(
        lambda: service.begin_internal(
            BATCH_WORKFLOW, parameters, created_by=created_by, holder=holder, lease_seconds=lease_seconds
        )
    )
    held = _Held(service, holder, ex.id, lease_seconds, interval)
    task = asyncio.create_task(
        _run_in_background(
            app,
            held,
            calls,
            authorization=authorization,
            stop_on_error=stop_on_error,
            idempotency_key=idempotency_key,
        ),
        name=f"batch {ex.id}",
    )
    tasks = _tasks(app)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return {"execution_id": ex.id, "execution": execution_doc(ex)}
