"""Where a worker gets its work and reports what became of it.

The worker (runner.py) is written once against `WorkSource`. `DatabaseSource`
(here) is the store itself, for workers that may open the database; an HTTP
worker uses the server instead (client/worker_source.py), for workers that
must not, or run elsewhere. Both see the same protocol: register, claim
(waiting a little when nothing is ready), watch and heartbeat what they hold,
report progress, messages and outcomes, deregister.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from conveyor.core.clock import Clock
from conveyor.core.model import HELD, Event, Execution, Status, WorkerInfo, WorkflowInfo
from conveyor.core.outcomes import Outcome
from conveyor.core.ports import Store


class WorkSource(Protocol):
    def register(self, me: WorkerInfo, workflows: Sequence[WorkflowInfo]) -> str:
        """Announce this worker (id, queues...) and the workflows it serves; answers the id to use."""
        ...

    def claim(self, limit: int, *, wait: float) -> list[Execution]:
        """Up to `limit` executions of this worker's queues, now held by it; when none is ready,
        waits up to `wait` seconds for some (and may answer none)."""
        ...

    def wake(self) -> None:
        """Stop any wait in `claim` now (shutting down)."""
        ...

    def watch(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        """A cheap look: the status of each execution still held by this worker (others are missing)."""
        ...

    def heartbeat(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        """Extend the leases of what this worker still holds; answered like `watch`."""
        ...

    def finish(self, outcomes: Sequence[tuple[Execution, Outcome]]) -> None:
        """Record how runs ended, given this worker's copy of each execution."""
        ...

    def progress(self, execution_id: str, finished: int | None, total: int | None, state: Any) -> bool:
        """Record progress and/or checkpoint state; False if the execution is no longer held."""
        ...

    def message(self, execution_id: str, text: str, level: str, kind: str) -> None: ...

    def deregister(self) -> None: ...


class DatabaseSource:
    """The store itself: claims, leases and outcomes are store calls in this process."""

    def __init__(self, store: Store, clock: Clock, *, queues: Sequence[str], lease_seconds: float) -> None:
        self.store = store
        self.clock = clock
        self.queues = list(queues)
        self.lease_seconds = lease_seconds
        self.worker_id = ""
        self._more_likely = False  # the last claim took all it asked for: skip the cheap look

    def register(self, me: WorkerInfo, workflows: Sequence[WorkflowInfo]) -> str:
        self.worker_id = me.id
        self.store.workflow_upsert(workflows)
        self.store.worker_register(me)
        return me.id

    def claim(self, limit: int, *, wait: float) -> list[Execution]:
        if self._more_likely or self.store.execution_has_pending(self.queues):
            now = self.clock.now()
            lease = now + timedelta(seconds=self.lease_seconds)
            got = self.store.execution_claim(self.worker_id, self.queues, limit, now=now, lease_until=lease)
            self._more_likely = len(got) == limit
            if got:
                return got
        # Signalled: new work was just written, so the next claim need not look first.
        self._more_likely = self.store.wait_for_work(wait)
        return []

    def wake(self) -> None:
        self.store.wake_workers()

    def watch(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        current = self.store.execution_holders(execution_ids)
        return {i: st for i, (st, holder) in current.items() if holder == self.worker_id and st in HELD}

    def heartbeat(self, execution_ids: Sequence[str]) -> dict[str, Status]:
        now = self.clock.now()
        self.store.worker_seen(self.worker_id, now=now)
        if not execution_ids:
            return {}
        lease = now + timedelta(seconds=self.lease_seconds)
        return self.store.execution_heartbeat(self.worker_id, execution_ids, lease_until=lease)

    def finish(self, outcomes: Sequence[tuple[Execution, Outcome]]) -> None:
        now = self.clock.now()
        self.store.execution_finish(
            [(ex.id, self.worker_id, outcome.step(now)) for ex, outcome in outcomes],
            now=now, held={ex.id: ex for ex, _ in outcomes},
        )  # fmt: skip

    def progress(self, execution_id: str, finished: int | None, total: int | None, state: Any) -> bool:
        return self.store.execution_set_progress(self.worker_id, execution_id, finished, total, state)

    def message(self, execution_id: str, text: str, level: str, kind: str) -> None:
        self.store.event_add([Event(execution_id, kind, self.clock.now(), text, level)])

    def deregister(self) -> None:
        self.store.worker_stopped(self.worker_id, now=self.clock.now())
