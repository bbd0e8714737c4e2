"""The Store protocol: everything the service, worker and background loop need from storage.

Each method is one atomic operation. The implementation (store/sqlstore.py, given
the SQLite or PostgreSQL Dialect) makes them safe against concurrent callers in
other threads and other processes sharing the database. Methods are named by
subject first (execution_, event_, schedule_, target_, target_group_,
execution_group_, token_, idempotency_, workflow_), as tests/store/test_surface.py checks.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from conveyor.core.model import (
    Event,
    Execution,
    ExecutionFilter,
    IdempotentAnswer,
    Page,
    Status,
    Token,
    WorkerInfo,
    WorkflowInfo,
)

if TYPE_CHECKING:  # these modules use Store themselves
    from conveyor.core.groups import ExecutionGroup
    from conveyor.core.schedules import Schedule
    from conveyor.core.targets import Target, TargetGroup

#: A pure step applied to the current row inside the store's transaction.
Step = Callable[[Execution], Execution]
#: A due schedule's round, decided inside the store's transaction: given the schedule and its
#: previous execution, the executions to start, whether to cancel the previous one, and the
#: schedule as it is afterwards.
FireStep: TypeAlias = "Callable[[Schedule, Execution | None], tuple[list[Execution], bool, Schedule]]"


class Store(Protocol):
    # --- lifecycle -------------------------------------------------------------
    def close(self) -> None: ...
    def database_check(self) -> str:
        """The schema revision, after a round trip to the database.

        Raises DatabaseUnavailable when the database does not answer and
        SchemaOutOfDate when its schema is not the one this code expects.
        """
        ...

    # --- workflows known to workers ----------------------------------------------
    # --- workers ------------------------------------------------------------------
    def worker_register(self, worker: WorkerInfo) -> None:
        """Record a worker that starts (or starts again under the same id)."""
        ...

    def worker_seen(self, worker_id: str, *, now: datetime) -> bool:
        """It is alive now; False if no such running worker is registered."""
        ...

    def worker_stopped(self, worker_id: str, *, now: datetime) -> None: ...
    def worker_get(self, worker_id: str) -> WorkerInfo | None: ...
    def worker_list(self) -> builtins.list[WorkerInfo]: ...
    def worker_holdings(self) -> dict[str, int]:
        """How many executions each worker holds now, by worker id."""
        ...

    def worker_oldest_waiting(self, queue: str, statuses: Sequence[Status]) -> datetime | None:
        """When the oldest execution of `queue` in one of `statuses` was created (None: there is none)."""
        ...

    def worker_forget_stopped(self, *, before: datetime) -> int:
        """Delete the records of workers that stopped before `before`; answers how many."""
        ...

    def workflow_upsert(self, infos: Sequence[WorkflowInfo]) -> None: ...
    def workflow_list(self) -> list[WorkflowInfo]: ...

    # --- executions ----------------------------------------------------------------
    def execution_start(
        self, executions: Sequence[Execution], *, refuse_blocked: bool, now: datetime
    ) -> list[Execution]:
        """Insert new executions and admit them in the same transaction.

        Each comes in `queued` (due now) or `scheduled`; a queued one leaves as
        `pending` when admission lets it start. With `refuse_blocked`, a queued
        one that cannot start raises ExistingRunningExecution and nothing of
        the call is written. An execution whose idempotency key is already
        stored is not inserted: the stored one is returned in its place.
        """
        ...

    def execution_get(self, execution_id: str) -> Execution | None: ...
    def execution_list(
        self, flt: ExecutionFilter, *, sort: Sequence[str], limit: int, cursor: str | None
    ) -> Page: ...
    def execution_count(self, flt: ExecutionFilter) -> int: ...
    def execution_counts(self, *, targets: Sequence[str] = ()) -> builtins.list[tuple[Status, str, str, int]]:
        """How many executions there are per (status, queue, workflow), keys with none left out.

        Kept up to date as executions change, so this is a small read at any table size; for some
        `targets`, counted from those targets' executions.
        """
        ...

    def execution_counts_fold(self) -> int:
        """Housekeeping of the kept counts (their changes summed per key); answers rows folded."""
        ...

    def execution_apply(
        self, execution_id: str, step: Step, *, now: datetime, events: Sequence[Event] = ()
    ) -> Execution:
        """Read the row, compute `step(row)`, write it with a compare-and-set on the status.

        The row is held for the transaction (SQLite's write lock, PostgreSQL's
        FOR UPDATE), so no other writer changes it in between; raises NotFound
        for an unknown id and whatever `step` raises (IllegalTransition). When the
        write frees an active slot or queues the execution, admission runs in
        the same transaction. Returns the written execution.
        """
        ...

    def execution_delete(self, execution_ids: Sequence[str]) -> int: ...
    def execution_delete_finished(self, flt: ExecutionFilter, *, keep_last: int | None) -> int:
        """Delete terminal executions matching `flt`, keeping the newest `keep_last`."""
        ...

    # --- worker side -----------------------------------------------------------
    def execution_claim(
        self, worker_id: str, queues: Sequence[str], limit: int, *, now: datetime, lease_until: datetime
    ) -> builtins.list[Execution]:
        """Move up to `limit` pending executions of `queues` to running, held by `worker_id`."""
        ...

    def execution_has_pending(self, queues: Sequence[str]) -> bool:
        """A cheap read: is anything waiting for a worker of these queues?"""
        ...

    def wait_for_work(self, timeout: float) -> bool:
        """Block until new pending work may exist (a signal) or `timeout` passes; True if signalled.

        SQLite signals writes made in this process; PostgreSQL relays NOTIFY from
        every process. Callers still poll with `timeout` as a fallback.
        """
        ...

    def wake_workers(self) -> None:
        """Wake whoever waits in `wait_for_work` (shutdown, tests)."""
        ...

    def execution_holders(self, execution_ids: Sequence[str]) -> dict[str, tuple[Status, str | None]]:
        """A cheap read of (status, worker_id) for these ids; missing ids no longer exist."""
        ...

    def execution_heartbeat(
        self, worker_id: str, execution_ids: Sequence[str], *, lease_until: datetime
    ) -> dict[str, Status]:
        """Extend the leases of what `worker_id` still holds; answer each id's current status.

        An id missing from the answer is no longer this worker's (deleted,
        force-cancelled, or its lease was reaped).
        """
        ...

    def execution_finish(
        self,
        results: Sequence[tuple[str, str, Step]],
        *,
        now: datetime,
        held: Mapping[str, Execution] | None = None,
    ) -> builtins.list[Execution | None]:
        """Apply final steps for several executions at once: (id, worker_id, step).

        A step only applies while the row is still held by that worker; the
        answer holds None for the ones that were not (force-cancelled, reaped).
        `held` is the worker's own copy of each execution (as claimed, plus the
        progress it wrote since): where the row still has that copy's status,
        holder and attempt, nobody else changed it, and the step is applied to
        the copy without reading the row again.
        """
        ...

    def execution_set_progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool: ...

    # --- background duties -------------------------------------------------------
    def execution_promote_due(self, *, now: datetime, limit: int = 1000) -> int:
        """Scheduled executions whose time has come go to the queue (and through admission)."""
        ...

    def execution_admit_queued(self, *, now: datetime) -> int: ...
    def execution_reap_leases(self, *, now: datetime, limit: int = 1000) -> int: ...
    def execution_delete_expired(self, *, now: datetime, limit: int = 10000) -> int: ...
    def execution_next_due_at(self) -> datetime | None:
        """The earliest `scheduled_for` of a scheduled execution, so the loop can sleep until then."""
        ...

    # --- events --------------------------------------------------------------------
    def event_add(self, events: Sequence[Event]) -> None: ...
    def event_list(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> builtins.list[Event]: ...

    # --- schedules ----------------------------------------------------------------
    def schedule_add(self, schedule: Schedule) -> None: ...
    def schedule_get(self, schedule_id: str) -> Schedule | None: ...
    def schedule_list(
        self, *, ids: Sequence[str] = (), owner: str | None = None, target: str | None = None,
        after: str | None = None, limit: int = 1000,
    ) -> builtins.list[Schedule]: ...  # fmt: skip
    def schedule_update(
        self, schedule_id: str, change: Callable[[Schedule], Schedule], *, now: datetime
    ) -> Schedule: ...
    def schedule_delete(self, schedule_ids: Sequence[str]) -> int: ...
    def schedule_delete_of_target(self, target: str) -> int: ...
    def schedule_fire(self, *, now: datetime, fire: FireStep, due: bool = True, limit: int = 100) -> int:
        """Fire due schedules (due=False: every enabled oninit one), each in one transaction."""
        ...

    def schedule_next_due_at(self) -> datetime | None: ...

    # --- targets, target groups, execution groups ------------------------------------
    def target_add(self, target: Target) -> None: ...
    def target_get(self, name: str) -> Target | None: ...
    def target_list(self) -> builtins.list[Target]: ...
    def target_known(self, names: Sequence[str]) -> set[str]: ...
    def target_ensure(self, names: Sequence[str], *, now: datetime) -> None: ...
    def target_update(
        self, name: str, *, max_concurrent: int | None, labels: dict[str, str] | None, now: datetime
    ) -> Target: ...
    def target_delete(self, name: str, *, force: bool) -> None:
        """Refuse (Conflict) while executions on it are active, unless forced; its schedules go too."""
        ...

    def target_group_add(self, group: TargetGroup) -> None: ...
    def target_group_get(self, name: str) -> TargetGroup | None: ...
    def target_group_list(self) -> builtins.list[TargetGroup]: ...
    def target_group_delete(self, name: str) -> None: ...
    def target_group_add_members(self, group: str, targets: Sequence[str]) -> None: ...
    def target_group_remove_members(self, group: str, targets: Sequence[str]) -> None: ...
    def execution_group_start(
        self, group: ExecutionGroup, members: Sequence[Execution], *, now: datetime
    ) -> None: ...
    def execution_group_get(self, group_id: str) -> ExecutionGroup | None: ...
    def execution_group_list(self) -> builtins.list[ExecutionGroup]: ...
    def execution_group_update(
        self, group_id: str, changes: dict[str, Any], *, now: datetime
    ) -> ExecutionGroup: ...

    # --- auth and idempotency ---------------------------------------------------
    def token_add(self, token: Token) -> None: ...
    def token_find(self, token_hash: str) -> Token | None: ...
    def token_list(self) -> builtins.list[Token]: ...
    def token_delete(self, token_id: str) -> bool: ...
    def token_count(self) -> int: ...
    def idempotency_get(self, key: str) -> IdempotentAnswer | None: ...
    def idempotency_put(
        self, key: str, status_code: int, body: str, *, request_hash: str | None = None, now: datetime
    ) -> IdempotentAnswer:
        """Store the first answer for `key`; if one is already stored, return that one instead."""
        ...
