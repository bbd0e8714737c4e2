"""Helpers shared by the store tests: a worker's side of the protocol, in a few words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.model import ErrorInfo, Execution, Status
from conveyor.core.ports import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = 30.0


def claim(
    store: Store,
    clock: ManualClock,
    worker: str = "w1",
    *,
    queues: Sequence[str] = ("default",),
    limit: int = 100,
) -> list[Execution]:
    now = clock.now()
    return store.execution_claim(
        worker, list(queues), limit, now=now, lease_until=now + timedelta(seconds=LEASE)
    )


def claim_one(store: Store, clock: ManualClock, execution_id: str, worker: str = "w1") -> Execution:
    """Claim what is pending for `worker`; `execution_id` must then be running, held by it."""
    claim(store, clock, worker)
    ex = store.execution_get(execution_id)
    assert ex is not None
    assert (ex.status, ex.worker_id) == (Status.RUNNING, worker), f"{execution_id} is not held by {worker}"
    return ex


def succeed(
    store: Store, clock: ManualClock, ex: Execution, worker: str = "w1", result: Any = None
) -> Execution | None:
    now = clock.now()
    return store.execution_finish(
        [(ex.id, worker, lambda e: states.transition(e, states.Succeed(now, result)))], now=now
    )[0]


def fail(
    store: Store, clock: ManualClock, ex: Execution, worker: str = "w1", message: str = "boom"
) -> Execution | None:
    now = clock.now()
    err = ErrorInfo("RuntimeError", message)
    return store.execution_finish(
        [(ex.id, worker, lambda e: states.transition(e, states.Fail(now, err)))], now=now
    )[0]


def status_of(store: Store, execution_id: str) -> Status | None:
    ex = store.execution_get(execution_id)
    return ex.status if ex is not None else None


def statuses(store: Store, executions: Sequence[Execution]) -> list[Status | None]:
    return [status_of(store, e.id) for e in executions]
