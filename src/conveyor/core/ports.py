"""The Store protocol: everything the service, worker and background loop need from storage.

Each method is one atomic operation. Implementations (store/sqlite.py,
store/postgres.py) must make them safe against concurrent callers in other
threads and other processes sharing the database.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from conveyor.core.model import (
    Event,
    Execution,
    ExecutionFilter,
    Page,
    Status,
    Token,
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

    # --- workflows known to workers ----------------------------------------------
    def upsert_workflows(self, infos: Sequence[WorkflowInfo]) -> None: ...
    def list_workflows(self) -> list[WorkflowInfo]: ...

    # --- executions ----------------------------------------------------------------
    def start(
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

    def get(self, execution_id: str) -> Execution | None: ...
    def list_executions(
        self, flt: ExecutionFilter, *, sort: Sequence[str], limit: int, cursor: str | None
    ) -> Page: ...
    def count(self, flt: ExecutionFilter) -> int: ...

    def apply(
        self, execution_id: str, step: Step, *, now: datetime, events: Sequence[Event] = ()
    ) -> Execution:
        """Read the row, compute `step(row)`, write it with a compare-and-set on the status.

        Retries when another writer won the race; raises NotFound for an
        unknown id and whatever `step` raises (IllegalTransition). When the
        write frees an active slot or queues the execution, admission runs in
        the same transaction. Returns the written execution.
        """
        ...

    def delete(self, execution_ids: Sequence[str]) -> int: ...
    def delete_finished(self, flt: ExecutionFilter, *, keep_last: int | None) -> int:
        """Delete terminal executions matching `flt`, keeping the newest `keep_last`."""
        ...

    # --- worker side -----------------------------------------------------------
    def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, *, now: datetime, lease_until: datetime
    ) -> builtins.list[Execution]:
        """Move up to `limit` pending executions of `queues` to running, held by `worker_id`."""
        ...

    def has_pending(self, queues: Sequence[str]) -> bool:
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

    def holders(self, execution_ids: Sequence[str]) -> dict[str, tuple[Status, str | None]]:
        """A cheap read of (status, worker_id) for these ids; missing ids no longer exist."""
        ...

    def heartbeat(
        self, worker_id: str, execution_ids: Sequence[str], *, lease_until: datetime
    ) -> dict[str, Status]:
        """Extend the leases of what `worker_id` still holds; answer each id's current status.

        An id missing from the answer is no longer this worker's (deleted,
        force-cancelled, or its lease was reaped).
        """
        ...

    def finish(
        self, results: Sequence[tuple[str, str, Step]], *, now: datetime
    ) -> builtins.list[Execution | None]:
        """Apply final steps for several executions at once: (id, worker_id, step).

        A step only applies while the row is still held by that worker; the
        answer holds None for the ones that were not (force-cancelled, reaped).
        """
        ...

    def set_progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool: ...

    # --- background duties -------------------------------------------------------
    def promote_due(self, *, now: datetime, limit: int = 1000) -> int:
        """Scheduled executions whose time has come go to the queue (and through admission)."""
        ...

    def admit_queued(self, *, now: datetime) -> int: ...
    def reap_expired_leases(self, *, now: datetime, limit: int = 1000) -> int: ...
    def delete_expired(self, *, now: datetime, limit: int = 10000) -> int: ...
    def next_due_at(self) -> datetime | None:
        """The earliest `scheduled_for` of a scheduled execution, so the loop can sleep until then."""
        ...

    # --- events --------------------------------------------------------------------
    def add_events(self, events: Sequence[Event]) -> None: ...
    def list_events(
        self, execution_id: str, *, after: int = 0, limit: int = 1000
    ) -> builtins.list[Event]: ...

    # --- schedules ----------------------------------------------------------------
    def add_schedule(self, schedule: Schedule) -> None: ...
    def get_schedule(self, schedule_id: str) -> Schedule | None: ...
    def list_schedules(
        self,
        *,
        ids: Sequence[str] = (),
        owner: str | None = None,
        target: str | None = None,
        after: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[Schedule]: ...
    def update_schedule(
        self, schedule_id: str, change: Callable[[Schedule], Schedule], *, now: datetime
    ) -> Schedule: ...
    def delete_schedules(self, schedule_ids: Sequence[str]) -> int: ...
    def delete_schedules_of_target(self, target: str) -> int: ...
    def fire_schedules(self, *, now: datetime, fire: FireStep, due: bool = True, limit: int = 100) -> int:
        """Fire due schedules (due=False: every enabled oninit one), each in one transaction."""
        ...

    def next_schedule_due_at(self) -> datetime | None: ...

    # --- targets, target groups, execution groups ------------------------------------
    def add_target(self, target: Target) -> None: ...
    def get_target(self, name: str) -> Target | None: ...
    def list_targets(self) -> builtins.list[Target]: ...
    def known_targets(self, names: Sequence[str]) -> set[str]: ...
    def ensure_targets(self, names: Sequence[str], *, now: datetime) -> None: ...
    def update_target(
        self, name: str, *, max_concurrent: int | None, labels: dict[str, str] | None, now: datetime
    ) -> Target: ...
    def delete_target(self, name: str, *, force: bool) -> None:
        """Refuse (Conflict) while executions on it are active, unless forced; its schedules go too."""
        ...

    def add_target_group(self, group: TargetGroup) -> None: ...
    def get_target_group(self, name: str) -> TargetGroup | None: ...
    def list_target_groups(self) -> builtins.list[TargetGroup]: ...
    def delete_target_group(self, name: str) -> None: ...
    def add_group_members(self, group: str, targets: Sequence[str]) -> None: ...
    def remove_group_members(self, group: str, targets: Sequence[str]) -> None: ...
    def start_group(self, group: ExecutionGroup, members: Sequence[Execution], *, now: datetime) -> None: ...
    def get_execution_group(self, group_id: str) -> ExecutionGroup | None: ...
    def list_execution_groups(self) -> builtins.list[ExecutionGroup]: ...
    def update_execution_group(
        self, group_id: str, changes: dict[str, Any], *, now: datetime
    ) -> ExecutionGroup: ...

    # --- auth and idempotency ---------------------------------------------------
    def add_token(self, token: Token) -> None: ...
    def find_token(self, token_hash: str) -> Token | None: ...
    def list_tokens(self) -> builtins.list[Token]: ...
    def delete_token(self, token_id: str) -> bool: ...
    def count_tokens(self) -> int: ...
    def get_idempotent(self, key: str) -> tuple[int, str] | None: ...
    def put_idempotent(self, key: str, status_code: int, body: str, *, now: datetime) -> tuple[int, str]:
        """Store the first answer for `key`; if one is already stored, return that one instead."""
        ...
