"""Execution groups: one workflow started on every target of a target group, `concurrency` at a time.

The gate is admission rule 3 (core.admission): a member starts only while
fewer than `concurrency` members are active, and the per-target rules still
hold inside a group. A group's status is derived from its members' statuses
by `group_status`, the one place that defines it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conveyor.core.errors import Conflict, IllegalTransition, InvalidRequest, found
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.ids import new_id
from conveyor.core.model import ACTIVE, JSON, Execution, ExecutionFilter, Status
from conveyor.core.targets import TargetService

MAX_CONCURRENCY = 10_000


@dataclass(frozen=True, slots=True)
class ExecutionGroup:
    id: str
    workflow: str
    target_group: str
    created_at: datetime
    concurrency: int = 5
    force: bool = False
    default_parameters: JSON = field(default_factory=dict)
    #: Per-target parameters, merged over the defaults: {target: {...}}.
    parameters: dict[str, JSON] = field(default_factory=dict)
    created_by: str | None = None
    #: Targets whose member succeeded / failed are added to these target groups as members end.
    success_group: str | None = None
    failed_group: str | None = None


def group_status(statuses: Iterable[Status]) -> str:
    """The status of a group from its members':

    - `pending`: no member has started yet (all are created, scheduled, queued or pending);
    - `started`: some member is running or has ended, and some are not done yet;
    - once every member has ended: `failed` if any failed, else `cancelled` if any was
      cancelled, else `succeeded` (also for a group with no members).
    """
    seen = list(statuses)
    if any(not s.is_terminal for s in seen):
        begun = any(s.is_terminal or (s in ACTIVE and s is not Status.PENDING) for s in seen)
        return "started" if begun else "pending"
    if Status.FAILED in seen:
        return "failed"
    if Status.CANCELLED in seen:
        return "cancelled"
    return "succeeded"


def _check_concurrency(concurrency: int) -> None:
    if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidRequest(
            f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}", {"field": "concurrency"}
        )


class ExecutionGroupService:
    def __init__(self, executions: ExecutionService, targets: TargetService) -> None:
        self.executions = executions
        self.targets = targets
        self.store = executions.store
        self.clock = executions.clock

    def start(
        self,
        target_group: str,
        workflow: str,
        *,
        default_parameters: JSON | None = None,
        parameters: dict[str, JSON] | None = None,
        concurrency: int = 5,
        force: bool = False,
        created_by: str | None = None,
    ) -> ExecutionGroup:
        """One execution per target, in target-name order; at most `concurrency` run at once."""
        _check_concurrency(concurrency)
        members = sorted(self.targets.get_group(target_group).members)
        per_target = dict(parameters or {})
        strangers = sorted(set(per_target) - set(members))
        if strangers:
            raise InvalidRequest(
                f"parameters name targets outside target group {target_group!r}: {', '.join(strangers)}",
                {"field": "parameters", "targets": strangers},
            )
        now = self.clock.now()
        group = ExecutionGroup(
            new_id(), workflow, target_group, now, concurrency, force, dict(default_parameters or {}),
            per_target, created_by,
        )  # fmt: skip
        self.executions.workflow(workflow)
        built = [
            self.executions.prepare(
                StartRequest(
                    workflow, {**group.default_parameters, **per_target.get(t, {})}, target=t, queue=True,
                    force=force, created_by=created_by,
                ),
                now,
            ).evolve(group_id=group.id)
            for t in members
        ]  # fmt: skip
        self.store.execution_group_start(group, built, now=now)
        return group

    def restore(self, group: ExecutionGroup, execution_ids: Sequence[str]) -> ExecutionGroup:
        """Make `group` of executions that already exist, running nothing new (a dialect's restore).

        An execution's group is fixed when it is inserted, so the members (waiting or ended, in no
        group) are deleted and inserted again with the group, unchanged but for their group; if that
        fails they are put back as they were.
        """
        _check_concurrency(group.concurrency)
        self.targets.get_group(group.target_group)
        if self.store.execution_group_get(group.id) is not None:
            raise Conflict(f"an execution group with id {group.id} already exists")
        members = [self.executions.get(i) for i in dict.fromkeys(execution_ids)]
        for m in members:
            if m.status.is_active:
                raise Conflict(
                    f"execution {m.id} is {m.status}; only waiting or ended executions can be grouped"
                )
            if m.group_id is not None:
                raise Conflict(f"execution {m.id} already belongs to execution group {m.group_id}")
        now = self.clock.now()
        self.store.execution_delete([m.id for m in members])
        try:
            self.store.execution_group_start(group, [m.evolve(group_id=group.id) for m in members], now=now)
        except Exception:
            self.store.execution_start(members, refuse_blocked=False, now=now)
            raise
        return group

    def get(self, group_id: str) -> ExecutionGroup:
        return found(self.store.execution_group_get(group_id), "execution group", group_id)

    def list(self) -> builtins.list[ExecutionGroup]:
        return self.store.execution_group_list()

    def members(self, group_id: str) -> builtins.list[Execution]:
        out: builtins.list[Execution] = []
        cursor = None
        while True:
            page = self.executions.list(
                ExecutionFilter(group_id=group_id), sort=["id"], limit=1000, cursor=cursor
            )
            out.extend(page.items)
            if page.next_cursor is None:
                return out
            cursor = page.next_cursor

    def status(self, group_id: str) -> str:
        return group_status(e.status for e in self.members(group_id))

    def set_concurrency(self, group_id: str, concurrency: int) -> ExecutionGroup:
        """Change the gate; queued members are admitted against the new value at once."""
        _check_concurrency(concurrency)
        self.get(group_id)
        return self.store.execution_group_update(group_id, {"concurrency": concurrency}, now=self.clock.now())

    def set_target_group(
        self, group_id: str, *, success_group: str | None = None, failed_group: str | None = None
    ) -> ExecutionGroup:
        """Members that end succeeded/failed add their target to these groups (ones already ended too)."""
        self.get(group_id)
        for name in (success_group, failed_group):
            if name is not None:
                self.targets.get_group(name)
        changes: dict[str, Any] = {}
        if success_group is not None:
            changes["success_group"] = success_group
        if failed_group is not None:
            changes["failed_group"] = failed_group
        return self.store.execution_group_update(group_id, changes, now=self.clock.now())

    def cancel(self, group_id: str, *, force: bool = False, kill: bool = False) -> builtins.list[Execution]:
        """Cancel every member that has not ended: waiting ones at once, running ones as asked."""
        self.get(group_id)
        mode = "kill" if kill else "force" if force else "cancel"
        out = []
        # Queued members first, so none of them is admitted into a slot a cancel frees.
        for ex in sorted(self.members(group_id), key=lambda e: e.status is not Status.QUEUED):
            if not ex.status.is_terminal:
                try:
                    out.append(self.executions.cancel(ex.id, mode))
                except IllegalTransition:  # it ended meanwhile: nothing to cancel
                    continue
        return out

    def dump(self, group_ids: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
        """Every group's attributes (or the given ones'), one dict at a time, for snapshots."""
        wanted = set(group_ids)
        for g in self.list():
            if wanted and g.id not in wanted:
                continue
            members = self.members(g.id)
            yield {
                "id": g.id, "workflow_id": g.workflow, "deployment_group_id": g.target_group,
                "target_group": g.target_group, "concurrency": g.concurrency, "force": g.force,
                "default_parameters": g.default_parameters, "parameters": g.parameters,
                "created_by": g.created_by, "created_at": g.created_at.isoformat(),
                "success_group": g.success_group, "failed_group": g.failed_group,
                "execution_ids": [e.id for e in members], "status": group_status(e.status for e in members),
            }  # fmt: skip
