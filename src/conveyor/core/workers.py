"""The worker protocol on the server's side: what a worker that does not open the database asks for.

An HTTP worker registers (its queues and the workflows it serves, with their
parameter schemas), claims executions of its queues, renews the leases of what
it holds in one heartbeat, and reports progress, messages and outcomes. It acts
only as the holder of its executions: the store applies a report only while the
execution is still held by that worker, so a late or repeated report (a retry
after a timeout) changes nothing. Leases run out for a worker that vanished,
exactly as for a database worker.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conveyor.core.clock import Clock, SystemClock
from conveyor.core.errors import Conflict, Forbidden, NotFound
from conveyor.core.ids import new_id
from conveyor.core.model import Event, Execution, ExecutionCounts, Status, WorkerInfo, WorkflowInfo
from conveyor.core.outcomes import Outcome
from conveyor.core.ports import Store


@dataclass(frozen=True, slots=True)
class WorkerView:
    """A worker as operators see it: its record, what it holds now, and whether it is alive."""

    worker: WorkerInfo
    holding: int
    alive: bool


@dataclass(frozen=True, slots=True)
class QueueView:
    """A queue as operators see it: its executions by status, how long the oldest has waited for a
    worker, and the live workers that serve it."""

    name: str
    by_status: dict[Status, int]
    oldest_waiting_at: datetime | None
    workers: builtins.list[str]


#: Waiting for a worker (pending) or for a free slot (queued).
WAITING_FOR_WORK = (Status.PENDING, Status.QUEUED)


class WorkerService:
    def __init__(self, store: Store, clock: Clock | None = None, *, lease_seconds: float = 30.0) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.lease_seconds = lease_seconds

    def register(
        self,
        name: str,
        host: str,
        queues: Sequence[str],
        workflows: Sequence[WorkflowInfo],
        *,
        concurrency: int,
        version: str = "",
        labels: dict[str, str] | None = None,
        transport: str = "http",
        token_id: str | None = None,
    ) -> WorkerInfo:
        """`token_id`: the worker token registering (None: an admin). A worker token declares only
        workflows the server does not know yet: it cannot redefine another's queue or schema."""
        now = self.clock.now()
        me = WorkerInfo(
            id=f"{name}-{new_id()}", name=name, host=host, queues=tuple(queues),
            workflows=tuple(sorted(w.name for w in workflows)), concurrency=concurrency, transport=transport,
            started_at=now, last_seen_at=now, version=version, labels=dict(labels or {}), token_id=token_id,
        )  # fmt: skip
        if token_id is not None and workflows:
            known = {w.name for w in self.store.workflow_list()}
            workflows = [w for w in workflows if w.name not in known]
        if workflows:
            self.store.workflow_upsert(workflows)
        self.store.worker_register(me)
        return me

    def running(self, worker_id: str, token_id: str | None) -> WorkerInfo:
        """The worker, if it is registered, has not left, and `token_id` may act for it."""
        me = self._mine(worker_id, token_id)
        if me.stopped_at is not None:
            raise Conflict(f"worker {worker_id} has deregistered; register again", {"worker_id": worker_id})
        return me

    def claim(self, worker_id: str, limit: int, token_id: str | None) -> builtins.list[Execution]:
        me = self.running(worker_id, token_id)
        if not self.store.execution_has_pending(me.queues):
            return []
        now = self.clock.now()
        lease = now + timedelta(seconds=self.lease_seconds)
        return self.store.execution_claim(worker_id, me.queues, limit, now=now, lease_until=lease)

    def wait_for_work(self, timeout: float) -> bool:
        """Block until work may have appeared (see Store.wait_for_work) or `timeout` passes."""
        return self.store.wait_for_work(timeout)

    def heartbeat(
        self, worker_id: str, execution_ids: Sequence[str], token_id: str | None
    ) -> dict[str, Status]:
        """Renew the leases of what the worker still holds; what is missing is no longer its own."""
        self.running(worker_id, token_id)
        now = self.clock.now()
        self.store.worker_seen(worker_id, now=now)
        if not execution_ids:
            return {}
        lease = now + timedelta(seconds=self.lease_seconds)
        return self.store.execution_heartbeat(worker_id, execution_ids, lease_until=lease)

    def finish(
        self, worker_id: str, outcomes: Sequence[tuple[str, Outcome]]
    ) -> builtins.list[Execution | None]:
        """Record outcomes; None for an execution the worker no longer holds (nothing is written)."""
        now = self.clock.now()
        return self.store.execution_finish([(i, worker_id, o.step(now)) for i, o in outcomes], now=now)

    def progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool:
        return self.store.execution_set_progress(worker_id, execution_id, finished, total, state)

    def message(self, worker_id: str, execution_id: str, text: str, level: str, kind: str) -> bool:
        """A message from the execution's holder; False (and nothing recorded) from anyone else."""
        held = self.store.execution_holders([execution_id]).get(execution_id)
        if held is None or held[1] != worker_id:
            return False
        self.store.event_add([Event(execution_id, kind, self.clock.now(), text, level)])
        return True

    def deregister(self, worker_id: str, token_id: str | None) -> None:
        self._mine(worker_id, token_id)
        self.store.worker_stopped(worker_id, now=self.clock.now())

    def _mine(self, worker_id: str, token_id: str | None) -> WorkerInfo:
        me = self.store.worker_get(worker_id)
        if me is None:
            raise NotFound("worker", worker_id)
        if token_id is not None and me.token_id != token_id:
            raise Forbidden(f"worker {worker_id} registered with another token", {"worker_id": worker_id})
        return me

    def serving(self) -> dict[str, builtins.list[str]]:
        """The live workers that serve each workflow, by workflow name."""
        out: dict[str, builtins.list[str]] = {}
        for view in self.list():
            if view.alive:
                for name in view.worker.workflows:
                    out.setdefault(name, []).append(view.worker.id)
        return out

    def queues(self) -> builtins.list[QueueView]:
        """Every queue that has executions or a live worker, by name."""
        counts = ExecutionCounts.of(self.store.execution_counts()).by_queue
        serving: dict[str, builtins.list[str]] = {}
        for view in self.list():
            if view.alive:
                for q in view.worker.queues:
                    serving.setdefault(q, []).append(view.worker.id)
        out = []
        for name in sorted(set(counts) | set(serving)):
            by_status = counts.get(name, {})
            oldest = self.store.worker_oldest_waiting(name, WAITING_FOR_WORK) if _waiting(by_status) else None
            out.append(QueueView(name, by_status, oldest, serving.get(name, [])))
        return out

    def list(self) -> builtins.list[WorkerView]:
        """Every worker that has not been forgotten, newest first; alive = heard from within a lease."""
        now = self.clock.now()
        holdings = self.store.worker_holdings()
        return [
            WorkerView(w, holdings.get(w.id, 0), w.alive(now, within=self.lease_seconds))
            for w in self.store.worker_list()
        ]


def _waiting(by_status: dict[Status, int]) -> bool:
    return any(by_status.get(s, 0) for s in WAITING_FOR_WORK)
