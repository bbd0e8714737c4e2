"""Schedules: the model and the pure decision of what a due schedule does now.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from conveyor.core.errors import InvalidRequest
from conveyor.core.model import JSON
from conveyor.core.triggers import Trigger, next_fire

MISFIRE_POLICIES = ("skip", "fire_once", "fire_all")
OVERLAP_POLICIES = ("allow", "skip", "queue", "cancel_previous")
DEFAULT_GRACE = 10.0
DEFAULT_MISFIRE_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Schedule:
    id: str
    workflow: str
    trigger: Trigger
    created_at: datetime
    parameters: JSON = field(default_factory=dict)
    target: str | None = None
    description: str = ""
    #: Extra trigger options as the caller gave them (Jelastic `params`); kept as they are.
    params: JSON = field(default_factory=dict)
    owner: str | None = None
    enabled: bool = True
    #: Disabled by "unschedule all"; "reschedule all" enables exactly these again.
    suspended: bool = False
    misfire: str = "skip"
    misfire_limit: int = DEFAULT_MISFIRE_LIMIT
    grace: float = DEFAULT_GRACE
    overlap: str = "allow"
    #: Start options of every execution it fires (fires that admission holds back wait in the queue).
    priority: int = 0
    dry_run: bool = False
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
