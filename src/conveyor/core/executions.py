"""Use cases: what a caller may do with executions, whatever interface it comes through.

The API, the dialects, the worker and the background loop all go through
here, so validation, admission and the state machine apply the same way
everywhere.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conveyor.core import states
from conveyor.core.catalog import WorkflowCatalog
from conveyor.core.clock import Clock, SystemClock
from conveyor.core.errors import Conflict, InvalidRequest, NotFound, UnknownWorkflow, found
from conveyor.core.ids import new_id
from conveyor.core.model import (
    JSON,
    ErrorInfo,
    Event,
    Execution,
    ExecutionCounts,
    ExecutionFilter,
    Page,
    Status,
    WorkflowInfo,
)
from conveyor.core.ports import Store

DEFAULT_RETENTION = 7 * 24 * 3600.0
#: Days a worker that stopped stays in the list of workers.
WORKER_MEMORY_DAYS = 1
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class StartRequest:
    workflow: str
    parameters: JSON = field(default_factory=dict)
    target: str | None = None
    queue: bool = False
    force: bool = False
    dry_run: bool = False
    schedule: datetime | None = None
    priority: int = 0
    idempotency_key: str | None = None
    allow_custom_parameters: bool = False
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    retention: float = DEFAULT_RETENTION
    #: Create a target on first use instead of refusing an unknown one. The server turns this
    #: off unless configured (CONVEYOR_IMPLICIT_TARGETS); embedded use keeps it on.
    implicit_targets: bool = True


class ExecutionService:
    def __init__(
        self,
        store: Store,
        catalog: WorkflowCatalog,
        *,
        clock: Clock | None = None,
        settings: ServiceSettings | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock or SystemClock()
        self.settings = settings or ServiceSettings()

    # --- starting ------------------------------------------------------------

    def start(self, req: StartRequest) -> Execution:
        return self.start_many([req], refuse_blocked=not req.queue)[0]

    def start_many(self, reqs: Sequence[StartRequest], *, refuse_blocked: bool = False) -> list[Execution]:
        """Validate every request first, then write them all in one store call: all or nothing."""
        now = self.clock.now()
        built = [self.prepare(req, now) for req in reqs]
        self.require_targets({e.target for e in built if e.target is not None})
        return self.store.execution_start(built, refuse_blocked=refuse_blocked, now=now)

    def require_targets(self, names: set[str]) -> None:
        """Unknown targets are refused with not_found, or created when targets are implicit."""
        if not names:
            return
        missing = names - self.store.target_known(sorted(names))
        if not missing:
            return
        if not self.settings.implicit_targets:
            raise NotFound("target", ", ".join(sorted(missing)))
        self.store.target_ensure(sorted(missing), now=self.clock.now())

    def prepare(self, req: StartRequest, now: datetime) -> Execution:
        """The execution a start request makes, validated, before admission (schedules fire these)."""
        info = self.workflow(req.workflow)
        params = self.catalog.validate(
            req.workflow, dict(req.parameters), allow_custom=req.allow_custom_parameters
        )
        if req.target is not None and not req.target.strip():
            raise InvalidRequest("target must be a non-empty name when given", {"field": "target"})
        due_later = req.schedule is not None and req.schedule > now
        retention = info.retention if info.retention is not None else self.settings.retention
        return Execution(
            id=new_id(),
            workflow=req.workflow,
            status=Status.SCHEDULED if due_later else Status.QUEUED,
            created_at=now,
            updated_at=now,
            parameters=params,
            target=req.target,
            queue=info.queue,
            priority=req.priority,
            is_system=info.system,
            dry_run=req.dry_run,
            force=req.force,
            created_by=req.created_by,
            scheduled_for=req.schedule if due_later else None,
            max_attempts=info.max_attempts,
            retry_backoff=info.retry_backoff,
            timeout=info.timeout,
            retention=retention,
            idempotency_key=req.idempotency_key,
        )

    # --- restoring ---------------------------------------------------------------

    def restore(self, ex: Execution) -> Execution:
        """Store a record made elsewhere (a dialect's restore, an import) in the state it is in.

        The caller builds it along a legal path of the state machine (`states.transition`) and
        validates it as for a start (`prepare`); it is inserted once, as it is, so nothing runs it
        unless its state is one a worker takes (queued, once admitted). Its id must be free; its
        target is checked as for a start.
        """
        if self.store.execution_get(ex.id) is not None:
            raise Conflict(f"an execution with id {ex.id} already exists")
        if ex.target is not None:
            self.require_targets({ex.target})
        return self.store.execution_start([ex], refuse_blocked=False, now=self.clock.now())[0]

    # --- reading -----------------------------------------------------------------

    def ready(self) -> str:
        """The schema revision once the database answered; else DatabaseUnavailable or SchemaOutOfDate."""
        return self.store.database_check()

    def get(self, execution_id: str) -> Execution:
        return found(self.store.execution_get(execution_id), "execution", execution_id)

    def list(
        self,
        flt: ExecutionFilter,
        *,
        sort: Sequence[str] = ("-id",),
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}", {"field": "limit"})
        return self.store.execution_list(flt, sort=sort, limit=limit, cursor=cursor)

    def count(self, flt: ExecutionFilter) -> int:
        return self.store.execution_count(flt)

    def counts(self, *, workflows: Sequence[str] = (), targets: Sequence[str] = ()) -> ExecutionCounts:
        """Every count a dashboard shows, in one small read (see Store.execution_counts)."""
        found = self.store.execution_counts(targets=targets)
        return ExecutionCounts.of(r for r in found if not workflows or r[2] in workflows)

    def events(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> builtins.list[Event]:
        self.get(execution_id)
        return self.store.event_list(execution_id, after=after, limit=limit)

    def workflows(self) -> builtins.list[WorkflowInfo]:
        return self.catalog.all()

    def declare_workflow(self, info: WorkflowInfo) -> WorkflowInfo:
        """Make a workflow known without its code (its workers run elsewhere, or in another language).
        A workflow imported by this process keeps its own definition: the code is the truth."""
        self.store.workflow_upsert([info])
        return self.workflow(info.name)

    def workflow(self, name: str) -> WorkflowInfo:
        info = self.catalog.get(name)
        if info is None:
            raise UnknownWorkflow(name, [w.name for w in self.catalog.all()])
        return info

    # --- actions -----------------------------------------------------------------

    def _apply(self, execution_id: str, event: states.Event) -> Execution:
        return self.store.execution_apply(
            execution_id, lambda ex: states.transition(ex, event), now=self.clock.now()
        )

    def cancel(self, execution_id: str, mode: str = "cancel") -> Execution:
        if mode not in ("cancel", "force", "kill"):
            raise InvalidRequest(
                f"unknown cancel mode {mode!r}; use cancel, force or kill", {"field": "mode"}
            )
        return self._apply(execution_id, states.RequestCancel(self.clock.now(), mode))

    def pause(self, execution_id: str) -> Execution:
        return self._apply(execution_id, states.RequestPause(self.clock.now()))

    def resume(self, execution_id: str, *, force: bool = False) -> Execution:
        return self._apply(execution_id, states.Resume(self.clock.now(), force))

    def requeue(self, execution_id: str) -> Execution:
        return self._apply(execution_id, states.Requeue(self.clock.now()))

    def report(
        self,
        execution_id: str,
        status: Status,
        *,
        error: ErrorInfo | None = None,
        result: Any = None,
    ) -> Execution:
        """A status change reported by an external (non-Python) worker, through the same graph."""
        return self._apply(execution_id, states.Report(self.clock.now(), status, error, result))

    def message(self, execution_id: str, text: str, *, level: str = "info", kind: str = "message") -> None:
        self.get(execution_id)
        self.store.event_add([Event(execution_id, kind, self.clock.now(), text, level)])

    # --- deleting ----------------------------------------------------------------

    def delete(self, execution_id: str) -> None:
        ex = self.get(execution_id)
        if ex.status.is_active:
            raise Conflict(
                f"execution {execution_id} is {ex.status}; cancel it before deleting it",
                {"status": str(ex.status)},
            )
        self.store.execution_delete([execution_id])

    def delete_finished(
        self,
        flt: ExecutionFilter,
        *,
        to_datetime: datetime | None = None,
        keep_last: int | None = None,
    ) -> int:
        if to_datetime is not None and keep_last is not None:
            raise InvalidRequest("to_datetime and keep_last cannot be used together", {"field": "keep_last"})
        if keep_last is not None and keep_last < 0:
            raise InvalidRequest("keep_last must be zero or more", {"field": "keep_last"})
        if to_datetime is not None:
            flt = ExecutionFilter(**{**_filter_dict(flt), "ended_before": to_datetime})
        return self.store.execution_delete_finished(flt, keep_last=keep_last)

    # --- background duties (called by the scheduler loop) ------------------------

    def tick(self) -> dict[str, int]:
        """One round of housekeeping; returns how much each duty did."""
        now = self.clock.now()
        return {
            "promoted": self.store.execution_promote_due(now=now),
            "reaped": self.store.execution_reap_leases(now=now),
            "admitted": self.store.execution_admit_queued(now=now),
            "deleted": self.store.execution_delete_expired(now=now),
            "folded": self.store.execution_counts_fold(),
            "forgotten": self.store.worker_forget_stopped(before=now - timedelta(days=WORKER_MEMORY_DAYS)),
        }

    def lease_until(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    # --- work a server process runs itself (an async batch, ...) -------------------

    def begin_internal(
        self, workflow: str, parameters: JSON, *, created_by: str | None, holder: str, lease_seconds: float
    ) -> Execution:
        """Record an execution this process runs itself, created already running and held by `holder`.

        It is visible and cancellable like any other; `holder` renews its lease with
        `store.execution_heartbeat` and ends it with `finish_internal`. If the process dies, the
        lease runs out and the execution fails with WorkerLost (one attempt only).
        """
        now = self.clock.now()
        ex = Execution(
            id=new_id(), workflow=workflow, status=Status.PENDING, created_at=now, updated_at=now,
            parameters=dict(parameters), queue="conveyor.internal", created_by=created_by,
            max_attempts=1, retention=self.settings.retention,
        )  # fmt: skip
        held = states.transition(ex, states.Claim(holder, now, now + timedelta(seconds=lease_seconds)))
        return self.store.execution_start([held], refuse_blocked=False, now=now)[0]

    def finish_internal(
        self, execution_id: str, holder: str, *, result: Any = None, error: ErrorInfo | None = None
    ) -> Execution | None:
        """End an execution begun with `begin_internal`; None if it was no longer held (cancelled)."""
        now = self.clock.now()
        event: states.Event = (
            states.Fail(now, error, retryable=False) if error is not None else states.Succeed(now, result)
        )
        return self.store.execution_finish(
            [(execution_id, holder, lambda ex: states.transition(ex, event))], now=now
        )[0]


def _filter_dict(flt: ExecutionFilter) -> dict[str, Any]:
    return {name: getattr(flt, name) for name in flt.__slots__}
