"""Cloudify's restore paths: `POST /executions` with `force_status`, `POST /execution-groups` with
`associated_executions`. Both store records that must not run.

**Executions.** A start followed by `report` calls cannot do this: the core's
graph reaches `succeeded`/`failed` only from `running`, `running` only from
`pending`, and a `pending` execution is claimed by any worker at once, so the
workflow could run between two reports. Instead the record is built in memory
along a legal path of the state machine (`core.states.transition`, the same
function every writer uses) from the `created` state, and inserted once, in the
state it reached, by `ExecutionService.restore`:

| force_status | stored as | path | runs? |
|---|---|---|---|
| `pending` | `created` (shown `pending`) | - | no: nothing starts a created execution; cancel works |
| `queued` | `queued` | Enqueue | yes, when admitted: the manager's dequeuer would run it too |
| `scheduled` | `scheduled`, no due time | Defer | no: never due |
| `started` | `running`, held by `cloudify:restore`, no lease | Admit, Claim | no: PATCH moves it on |
| `cancelling`, `force_cancelling`, `kill_cancelling` | the same | ... Claim, Report | no |
| `terminated` | `succeeded` | ... Claim, Succeed | no |
| `failed` | `failed` | ... Claim, Fail (not retried) | no |
| `cancelled` | `cancelled` | RequestCancel | no |

The workflow, parameters and deployment are validated as for a start
(`ExecutionService.prepare`); `id`, `created_at`, `started_at`, `ended_at`,
`created_by` and `error` are kept as given. Retention counts from the restore,
not from the restored `ended_at`, so old records are not deleted at once.

**Groups.** The core's groups own their members from the start (an execution's
group is fixed when it is inserted), so a group made of executions that already
exist is written by `ExecutionGroupService.restore`, which deletes those (ended
or waiting) executions and inserts them again, unchanged but for their group,
together with the group; if that fails they are put back as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor.core import states
from conveyor.core.errors import Conflict, NotFound
from conveyor.core.executions import StartRequest
from conveyor.core.groups import ExecutionGroup
from conveyor.core.ids import new_id
from conveyor.core.model import JSON, ErrorInfo, Execution, Status
from conveyor.dialects.cloudify import statuses
from conveyor.dialects.cloudify.deps import Services
from conveyor.dialects.cloudify.errors import bad_parameters

#: The holder of a restored `started` execution: no worker has this id, so none touches it.
HOLDER = "cloudify:restore"


@dataclass(frozen=True, slots=True)
class RestoreRequest:
    workflow: str
    force_status: str
    parameters: JSON
    target: str | None = None
    dry_run: bool = False
    allow_custom_parameters: bool = False
    execution_id: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    error: str | None = None


def _reach(origin: Execution, force_status: str, now: datetime, error: ErrorInfo | None) -> Execution:
    """Walk the state machine from `created` to the status `force_status` is stored as."""
    t = states.transition
    if force_status == statuses.PENDING:
        return origin
    if force_status == statuses.QUEUED:
        return t(origin, states.Enqueue())
    if force_status == statuses.SCHEDULED:
        return t(origin, states.Defer(now)).evolve(scheduled_for=None)
    if force_status == statuses.CANCELLED:
        return t(origin, states.RequestCancel(now, "force"))
    held = t(t(origin, states.Admit()), states.Claim(HOLDER, now, now)).evolve(lease_expires_at=None)
    if force_status == statuses.STARTED:
        return held
    if force_status == statuses.TERMINATED:
        return t(held, states.Succeed(now))
    if force_status == statuses.FAILED:
        return t(held, states.Fail(now, error or ErrorInfo("Error", "failed"), retryable=False))
    return t(held, states.Report(now, statuses.FROM_CLOUDIFY[force_status]))


def restore_execution(svc: Services, req: RestoreRequest) -> Execution:
    """Store an execution in `req.force_status` without running it (see the module docstring)."""
    if req.force_status not in statuses.CLOUDIFY_STATUSES:
        raise bad_parameters(
            f"force_status must be one of {', '.join(statuses.CLOUDIFY_STATUSES)}, not {req.force_status!r}"
        )
    service = svc.executions
    if req.execution_id is not None:
        if not req.execution_id.strip():
            raise bad_parameters("id must not be empty")
        try:
            service.get(req.execution_id)
        except NotFound:
            pass
        else:
            raise Conflict(f"an execution with id {req.execution_id} already exists")
    now = service.clock.now()
    prepared = service.prepare(
        StartRequest(
            req.workflow, dict(req.parameters), target=req.target, dry_run=req.dry_run,
            allow_custom_parameters=req.allow_custom_parameters, created_by=req.created_by,
        ),
        now,
    )  # fmt: skip
    origin = prepared.evolve(
        status=Status.CREATED,
        id=req.execution_id or prepared.id,
        created_at=req.created_at or now,
        scheduled_for=None,
    )
    error = ErrorInfo("Error", req.error) if req.error else None
    ex = _reach(origin, req.force_status, now, error)
    changes: dict[str, Any] = {}
    if req.started_at is not None:
        changes["started_at"] = req.started_at
    if req.ended_at is not None:
        changes["ended_at"] = req.ended_at
    if error is not None:
        changes["error"] = error
    if changes:
        ex = ex.evolve(**changes)
    return service.restore(ex)


@dataclass(frozen=True, slots=True)
class GroupRestoreRequest:
    target_group: str
    workflow: str
    execution_ids: tuple[str, ...]
    group_id: str | None = None
    concurrency: int = 5
    force: bool = False
    default_parameters: JSON | None = None
    parameters: dict[str, JSON] | None = None
    created_by: str | None = None
    created_at: datetime | None = None


def restore_group(svc: Services, req: GroupRestoreRequest) -> ExecutionGroup:
    """Make a group of existing executions, running nothing new (see the module docstring)."""
    if not req.execution_ids:
        raise bad_parameters("associated_executions must name at least one execution")
    group = ExecutionGroup(
        req.group_id or new_id(), req.workflow, req.target_group, req.created_at or svc.groups.clock.now(),
        req.concurrency, req.force, dict(req.default_parameters or {}), dict(req.parameters or {}),
        req.created_by,
    )  # fmt: skip
    return svc.groups.restore(group, req.execution_ids)
