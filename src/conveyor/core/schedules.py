"""Schedules: the model, the pure decision of what a due schedule does now, and the use cases.

The store calls `plan_fire` inside the transaction that holds the schedule's
row, so every server may run the background loop and a fire still happens
once: the row is claimed, the executions are started and the next fire time
is written in one go.

Policies, chosen per schedule:
- misfire (fires missed while no server ran, i.e. due longer ago than `grace`):
  `skip` them (default), `fire_once` (one execution for all of them), or
  `fire_all` (one per missed fire, at most `misfire_limit`);
- overlap (the schedule's previous execution is still active): `allow` (start
  anyway, the default), `skip` this fire, `queue` (keep one fire waiting and start
  it when the previous one ends), or `cancel_previous` (cancel it, then start).

Use cases: create, edit, enable, unschedule/reschedule all, and firing.
Firing is the background loop's duty: `fire_due` asks the store to claim due
schedules and, inside that same transaction, `_fire_step` decides the round
(`plan_fire` above) and prepares the executions through the ExecutionService,
so a fired execution is validated and admitted like any other start.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from conveyor.core import triggers
from conveyor.core.errors import ConveyorError, InvalidRequest, InvalidTrigger, NotFound, found
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.ids import new_id
from conveyor.core.model import JSON, Execution
from conveyor.core.triggers import Trigger, next_fire

MISFIRE_POLICIES = ("skip", "fire_once", "fire_all")
OVERLAP_POLICIES = ("allow", "skip", "queue", "cancel_previous")
DEFAULT_GRACE = 10.0
DEFAULT_MISFIRE_LIMIT = 10


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    """What a caller asks for: a trigger, the execution it starts, and the policies."""

    workflow: str
    trigger: Trigger
    parameters: JSON = field(default_factory=dict)
    target: str | None = None
    description: str = ""
    #: Extra trigger options as the caller gave them (Jelastic `params`); kept as they are.
    params: JSON = field(default_factory=dict)
    owner: str | None = None
    enabled: bool = True
    misfire: str = "skip"
    misfire_limit: int = DEFAULT_MISFIRE_LIMIT
    grace: float = DEFAULT_GRACE
    overlap: str = "allow"
    #: Start options of every execution it fires (fires that admission holds back wait in the queue).
    priority: int = 0
    dry_run: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule(ScheduleRequest):
    """A stored schedule: the request, plus its identity and what firing it has done so far."""

    id: str
    created_at: datetime
    #: Disabled by "unschedule all"; "reschedule all" enables exactly these again.
    suspended: bool = False
    next_fire_at: datetime | None = None
    last_fired_at: datetime | None = None
    last_execution_id: str | None = None
    fire_count: int = 0
    #: overlap=queue: a fire is held back until the previous execution ends.
    waiting: bool = False
    last_error: str | None = None
    updated_at: datetime | None = None

    def evolve(self, **changes: Any) -> Schedule:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Schedule(**values)


def check_policies(misfire: str, overlap: str, misfire_limit: int, grace: float) -> None:
    if misfire not in MISFIRE_POLICIES:
        raise InvalidRequest(
            f"misfire must be one of {', '.join(MISFIRE_POLICIES)}, not {misfire!r}", {"field": "misfire"}
        )
    if overlap not in OVERLAP_POLICIES:
        raise InvalidRequest(
            f"overlap must be one of {', '.join(OVERLAP_POLICIES)}, not {overlap!r}", {"field": "overlap"}
        )
    if not 1 <= misfire_limit <= 1000:
        raise InvalidRequest("misfire_limit must be between 1 and 1000", {"field": "misfire_limit"})
    if grace < 0:
        raise InvalidRequest("grace must be zero or more seconds", {"field": "grace"})


@dataclass(frozen=True, slots=True)
class FirePlan:
    """What a due schedule does now: start `fires` executions, maybe cancel the previous one."""

    fires: int
    cancel_previous: bool
    schedule: Schedule  # the schedule as it is after this round (next fire time, counters, ...)


def plan_fire(s: Schedule, now: datetime, *, previous_active: bool) -> FirePlan:
    """Decide a due schedule's round. Pure: `now` and the previous execution's state come in."""
    due = s.next_fire_at
    if not s.enabled or due is None or due > now:
        return FirePlan(0, False, s)
    if previous_active and s.overlap == "queue":
        return FirePlan(0, False, s.evolve(waiting=True))  # stays due; fires when the previous ends
    on_time, missed, after = _occurrences(s, due, now)
    # A held-back fire (overlap=queue) is one execution, whatever was missed meanwhile.
    count = 1 if s.waiting else on_time + _missed_fires(s, missed)
    cancel = False
    if count and previous_active:
        if s.overlap == "skip":
            count = 0
        elif s.overlap == "cancel_previous":
            cancel = True
    nxt = None if s.trigger.one_shot else after
    return FirePlan(
        count,
        cancel,
        s.evolve(
            next_fire_at=nxt,
            # oninit has no next time: it fires at each start-up, so it stays enabled
            enabled=s.enabled and (nxt is not None or s.trigger.kind == "oninit"),
            waiting=False,
            fire_count=s.fire_count + count,
            last_fired_at=now if count else s.last_fired_at,
        ),
    )


def _missed_fires(s: Schedule, missed: int) -> int:
    if not missed or s.misfire == "skip":
        return 0
    if s.misfire == "fire_once":
        return 1
    return min(missed, s.misfire_limit)


def _occurrences(s: Schedule, due: datetime, now: datetime) -> tuple[int, int, datetime | None]:
    """Fires due by `now`: (within grace, older than grace, the next one after now).

    Missed fires are counted only up to the misfire limit, then skipped by
    jumping to the grace window: a rate of one second missed for a week does
    not loop a million times.
    """
    cutoff = now - timedelta(seconds=s.grace)
    missed = 0
    at: datetime | None = due
    while at is not None and at < cutoff:
        missed += 1
        if missed >= s.misfire_limit:
            at = next_fire(s.trigger, cutoff - timedelta(microseconds=1), s.created_at)
            break
        at = next_fire(s.trigger, at, s.created_at)
    on_time = 0
    while at is not None and at <= now:
        on_time += 1
        at = next_fire(s.trigger, at, s.created_at)
    return on_time, missed, at


#: Fields `update` may change.
EDITABLE = frozenset({
    "workflow", "trigger", "parameters", "target", "description", "params", "misfire", "misfire_limit",
    "grace", "overlap", "priority", "dry_run", "enabled",
})  # fmt: skip


class ScheduleService:
    def __init__(self, executions: ExecutionService) -> None:
        self.executions = executions
        self.store = executions.store
        self.clock = executions.clock

    # --- reading -------------------------------------------------------------------

    def get(self, schedule_id: str) -> Schedule:
        return found(self.store.schedule_get(schedule_id), "schedule", schedule_id)

    def list(
        self,
        *,
        ids: Sequence[str] = (),
        owner: str | None = None,
        target: str | None = None,
        after: str | None = None,
        limit: int = 1000,
    ) -> builtins.list[Schedule]:
        return self.store.schedule_list(ids=ids, owner=owner, target=target, after=after, limit=limit)

    def upcoming(self, s: Schedule, count: int = 3) -> builtins.list[datetime]:
        """The next `count` fire times from now (empty for a disabled or oninit schedule)."""
        if not s.enabled or s.next_fire_at is None:
            return []
        first = s.next_fire_at
        rest = triggers.upcoming(s.trigger, first, s.created_at, count - 1) if count > 1 else []
        return [first, *rest][:count]

    # --- writing -------------------------------------------------------------------

    def _check(self, s: Schedule) -> None:
        """Everything a schedule must be before it is stored: nothing half-created."""
        self.executions.workflow(s.workflow)  # UnknownWorkflow
        self.executions.catalog.validate(s.workflow, dict(s.parameters), allow_custom=False)
        check_policies(s.misfire, s.overlap, s.misfire_limit, s.grace)
        if s.target is not None:
            if not s.target.strip():
                raise InvalidRequest("target must be a non-empty name when given", {"field": "target"})
            self.executions.require_targets({s.target})

    def _first(self, trigger: Trigger, anchor: datetime, now: datetime) -> datetime | None:
        at = triggers.first_fire(trigger, anchor)
        if trigger.one_shot and at is not None and at < now:
            raise InvalidTrigger(
                f"{trigger.describe()} is in the past; give a future instant",
                {"kind": trigger.kind, "value": trigger.value},
            )
        if at is None and trigger.kind == "cron":  # e.g. a Quartz year field that is over
            raise InvalidTrigger(
                f"{trigger.describe()} never fires again after {anchor.isoformat()}",
                {"kind": trigger.kind, "value": trigger.value},
            )
        return at

    def create(self, req: ScheduleRequest) -> Schedule:
        now = self.clock.now()
        asked = {f.name: getattr(req, f.name) for f in fields(ScheduleRequest)}
        s = Schedule(**asked, id=new_id(), created_at=now, updated_at=now)
        self._check(s)
        s = s.evolve(next_fire_at=self._first(s.trigger, now, now) if s.enabled else None)
        self.store.schedule_add(s)
        return s

    def update(self, schedule_id: str, changes: dict[str, Any]) -> Schedule:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidRequest(
                f"cannot change {', '.join(sorted(unknown))} of a schedule", {"fields": sorted(unknown)}
            )
        now = self.clock.now()

        def change(s: Schedule) -> Schedule:
            new = s.evolve(**changes)
            self._check(new)
            if "enabled" in changes:
                new = new.evolve(suspended=False)  # enabled or disabled by hand: no longer "unscheduled"
            if "trigger" in changes or ("enabled" in changes and new.enabled and not s.enabled):
                # A new trigger, or enabling again, counts from now: what was missed is not fired.
                return new.evolve(next_fire_at=self._resume_at(new, now), waiting=False)
            if "enabled" in changes and not new.enabled:
                return new.evolve(next_fire_at=None, waiting=False)
            return new

        return self.store.schedule_update(schedule_id, change, now=now)

    def _resume_at(self, s: Schedule, now: datetime) -> datetime | None:
        if not s.enabled:
            return None
        if s.trigger.one_shot:
            return self._first(s.trigger, s.created_at, now) if s.fire_count == 0 else None
        return triggers.next_fire(s.trigger, now, s.created_at)

    def set_enabled(self, schedule_id: str, enabled: bool) -> Schedule:
        return self.update(schedule_id, {"enabled": enabled})

    def delete(self, schedule_ids: Sequence[str]) -> int:
        """Delete several at once; an unknown id refuses the whole call."""
        ids = list(dict.fromkeys(schedule_ids))
        found = {s.id for s in self.store.schedule_list(ids=ids, limit=len(ids) or 1)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound("schedule", ", ".join(missing))
        return self.store.schedule_delete(ids)

    def unschedule_all(self, owner: str | None) -> int:
        """Stop every enabled schedule of `owner`; `reschedule_all` brings exactly these back."""
        now = self.clock.now()
        count = 0
        for s in self._all_of(owner):
            if s.enabled:
                self.store.schedule_update(
                    s.id,
                    lambda x: x.evolve(enabled=False, suspended=True, next_fire_at=None, waiting=False),
                    now=now,
                )
                count += 1
        return count

    def reschedule_all(self, owner: str | None) -> int:
        now = self.clock.now()
        count = 0
        for s in self._all_of(owner):
            if s.suspended:

                def back(x: Schedule) -> Schedule:
                    on = x.evolve(enabled=True, suspended=False)
                    return on.evolve(next_fire_at=self._resume_at(on, now))

                self.store.schedule_update(s.id, back, now=now)
                count += 1
        return count

    def _all_of(self, owner: str | None) -> builtins.list[Schedule]:
        out: builtins.list[Schedule] = []
        after = None
        while True:
            page = self.store.schedule_list(owner=owner, after=after, limit=500)
            out.extend(page)
            if len(page) < 500:
                return out
            after = page[-1].id

    # --- firing (the background loop) ------------------------------------------------

    def fire_due(self) -> int:
        now = self.clock.now()
        return self.store.schedule_fire(now=now, fire=lambda s, prev: self._fire_step(s, prev, now))

    def fire_oninit(self) -> int:
        """Fire every enabled oninit schedule once: called when a server starts."""
        now = self.clock.now()
        return self.store.schedule_fire(
            now=now, due=False, fire=lambda s, prev: self._fire_step(s.evolve(next_fire_at=now), prev, now)
        )

    def _fire_step(
        self, s: Schedule, previous: Execution | None, now: datetime
    ) -> tuple[builtins.list[Execution], bool, Schedule]:
        active = previous is not None and not previous.status.is_terminal
        plan = plan_fire(s, now, previous_active=active)
        req = StartRequest(
            s.workflow, dict(s.parameters), target=s.target, queue=True, dry_run=s.dry_run,
            priority=s.priority, created_by=s.owner,
        )  # fmt: skip
        try:
            fired = [self.executions.prepare(req, now) for _ in range(plan.fires)]
        except ConveyorError as exc:  # e.g. the workflow is no longer registered: say so, keep going
            return [], False, plan.schedule.evolve(last_error=exc.message)
        after = plan.schedule.evolve(last_error=None) if fired else plan.schedule
        return fired, plan.cancel_previous, after
