"""`GET /executions/<id>/should-start`: could this execution start now?

The manager at HEAD answers 500 here (a stale call signature); Conveyor answers
with its real admission decision: `core.admission.start_decision`, the rule the
store applies when it admits, over the occupancy read through the services.

- An execution that already holds a slot (pending, running, cancelling...) is
  admitted: true.
- One that has ended, or is paused (it waits for a resume, not for a slot): false.
- One that waits (created, scheduled, queued): the admission rules, with the
  executions queued ahead of it (a system one, or one on its target) counting
  as Cloudify's FIFO does.
"""

from __future__ import annotations

import contextlib

from conveyor.core import admission
from conveyor.core.errors import NotFound
from conveyor.core.model import ACTIVE, Execution, ExecutionFilter, Status
from conveyor.dialects.cloudify.deps import Services

_ACTIVE = tuple(sorted(ACTIVE))


def _occupancy(svc: Services, ex: Execution) -> admission.Occupancy:
    """What is active now, as admission sees it, leaving `ex` itself out."""
    service = svc.executions
    occ = admission.Occupancy()
    occ.active = service.count(ExecutionFilter(statuses=_ACTIVE))
    occ.system_active = service.count(ExecutionFilter(statuses=_ACTIVE, is_system=True))
    if ex.target is not None:
        running = service.count(ExecutionFilter(statuses=_ACTIVE, targets=(ex.target,), is_system=False))
        occ.by_target[ex.target] = running
        with contextlib.suppress(NotFound):  # an implicit target keeps the default limit
            occ.max_concurrent[ex.target] = svc.targets.get(ex.target).max_concurrent
    if ex.group_id is not None:
        occ.by_group[ex.group_id] = service.count(ExecutionFilter(statuses=_ACTIVE, group_id=ex.group_id))
        occ.group_concurrency[ex.group_id] = svc.groups.get(ex.group_id).concurrency
    return occ


def _queued_ahead(svc: Services, ex: Execution, flt: ExecutionFilter) -> bool:
    """Is anything matching `flt` queued ahead of `ex`? The head of the queue in admission order
    (priority, then creation) is ahead unless it is `ex`; a newcomer yields to anything queued."""
    head = svc.executions.list(flt, sort=("-priority", "id"), limit=1).items
    return bool(head) and head[0].id != ex.id


def should_start(svc: Services, execution_id: str) -> bool:
    ex = svc.executions.get(execution_id)
    if ex.status in ACTIVE:
        return True
    if ex.status.is_terminal or ex.status is Status.PAUSED:
        return False
    candidate = admission.Candidate(ex.id, ex.target, ex.is_system, ex.force, ex.group_id)
    queued = (Status.QUEUED,)
    system_queued = _queued_ahead(svc, ex, ExecutionFilter(statuses=queued, is_system=True))
    target_queued = ex.target is not None and _queued_ahead(
        svc, ex, ExecutionFilter(statuses=queued, targets=(ex.target,))
    )
    why = admission.start_decision(
        candidate, _occupancy(svc, ex), system_queued=system_queued, target_queued=target_queued
    )
    return why is None
