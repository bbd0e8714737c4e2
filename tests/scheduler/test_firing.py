"""Firing schedules through the store on both databases, with an injected clock (no real waiting)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.errors import InvalidParameters, InvalidTrigger, UnknownWorkflow
from conveyor.core.model import ExecutionFilter, Status
from conveyor.core.schedules import ScheduleRequest, ScheduleService
from conveyor.core.triggers import parse_trigger

from .conftest import T0


def every(seconds: int, **kw: Any) -> ScheduleRequest:
    return ScheduleRequest("backup", parse_trigger("rate", str(seconds)), owner="alice", **kw)


def fired(schedules: ScheduleService) -> list[Any]:
    page = schedules.executions.list(ExecutionFilter(workflows=("backup",)), sort=["id"], limit=1000)
    return page.items


def test_a_due_schedule_fires_once_and_advances(schedules: ScheduleService, clock: ManualClock) -> None:
    s = schedules.create(every(60, parameters={"db": "orders"}))
    assert s.next_fire_at == T0 + timedelta(minutes=1)
    assert schedules.fire_due() == 0
    clock.advance(60.2)
    assert schedules.fire_due() == 1
    assert schedules.fire_due() == 0  # nothing twice
    (ex,) = fired(schedules)
    assert (ex.status, ex.parameters, ex.created_by) == (Status.PENDING, {"db": "orders"}, "alice")
    after = schedules.get(s.id)
    assert after.fire_count == 1 and after.last_execution_id == ex.id
    assert after.next_fire_at == T0 + timedelta(minutes=2) and after.last_fired_at == clock.now()


def test_missed_fires_are_skipped_by_default(schedules: ScheduleService, clock: ManualClock) -> None:
    s = schedules.create(every(60))
    clock.advance(3600 + 30)  # down for an hour
    assert schedules.fire_due() == 0
    assert schedules.get(s.id).next_fire_at == T0 + timedelta(minutes=61)


def test_fire_once_coalesces_missed_fires(schedules: ScheduleService, clock: ManualClock) -> None:
    schedules.create(every(60, misfire="fire_once"))
    clock.advance(3600 + 30)
    assert schedules.fire_due() == 1


def test_overlap_queue_holds_one_fire_until_the_previous_ends(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    s = schedules.create(every(60, overlap="queue"))
    clock.advance(60)
    assert schedules.fire_due() == 1
    (first,) = fired(schedules)
    store = schedules.store
    store.execution_claim("w", ["default"], 1, now=clock.now(), lease_until=clock.now() + timedelta(hours=1))
    clock.advance(180)  # three more fires fall due while it runs
    assert schedules.fire_due() == 0
    assert schedules.get(s.id).waiting is True
    now = clock.advance(5)
    store.execution_finish([(first.id, "w", lambda e: states.transition(e, states.Succeed(now)))], now=now)
    assert schedules.fire_due() == 1  # one held-back fire, not three
    assert schedules.get(s.id).waiting is False and len(fired(schedules)) == 2


def test_overlap_cancel_previous(schedules: ScheduleService, clock: ManualClock) -> None:
    schedules.create(every(60, overlap="cancel_previous"))
    clock.advance(60)
    schedules.fire_due()
    (first,) = fired(schedules)
    schedules.store.execution_claim(
        "w", ["default"], 1, now=clock.now(), lease_until=clock.now() + timedelta(hours=1)
    )
    clock.advance(60)
    assert schedules.fire_due() == 1
    assert schedules.executions.get(first.id).status is Status.CANCELLING
    assert len(fired(schedules)) == 2


def test_overlap_skip(schedules: ScheduleService, clock: ManualClock) -> None:
    s = schedules.create(every(60, overlap="skip"))
    clock.advance(60)
    schedules.fire_due()
    schedules.store.execution_claim(
        "w", ["default"], 1, now=clock.now(), lease_until=clock.now() + timedelta(hours=1)
    )
    clock.advance(60)
    assert schedules.fire_due() == 0
    assert schedules.get(s.id).next_fire_at == T0 + timedelta(minutes=3)


def test_one_shot_fires_once_and_disables_itself(schedules: ScheduleService, clock: ManualClock) -> None:
    s = schedules.create(ScheduleRequest("backup", parse_trigger("once_delay", "30")))
    clock.advance(31)
    assert schedules.fire_due() == 1
    clock.advance(3600)
    assert schedules.fire_due() == 0
    after = schedules.get(s.id)
    assert after.enabled is False and after.next_fire_at is None and after.fire_count == 1


def test_oninit_fires_at_every_start(schedules: ScheduleService, clock: ManualClock) -> None:
    s = schedules.create(ScheduleRequest("backup", parse_trigger("oninit")))
    assert s.next_fire_at is None
    assert schedules.fire_due() == 0
    assert schedules.fire_oninit() == 1
    assert schedules.fire_oninit() == 1  # a second start-up fires again
    assert schedules.get(s.id).enabled is True and len(fired(schedules)) == 2


def test_several_servers_fire_each_due_schedule_once(make: Any, clock: ManualClock) -> None:
    servers: list[ScheduleService] = [make() for _ in range(3)]
    for _ in range(20):
        servers[0].create(every(60))
    clock.advance(60)
    barrier = threading.Barrier(len(servers))
    counts: list[int] = []

    def run(svc: ScheduleService) -> None:
        barrier.wait(timeout=10)
        counts.append(svc.fire_due())

    threads = [threading.Thread(target=run, args=(svc,)) for svc in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(counts) == 20 and len(fired(servers[0])) == 20


def test_a_workflow_that_disappeared_is_reported_not_fatal(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    s = schedules.create(every(60))
    schedules.store.schedule_update(s.id, lambda x: x.evolve(workflow="gone"), now=clock.now())
    clock.advance(60)
    assert schedules.fire_due() == 0
    after = schedules.get(s.id)
    assert after.last_error is not None and "gone" in after.last_error
    assert after.next_fire_at == T0 + timedelta(minutes=2)  # it keeps its cadence


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (ScheduleRequest("nope", parse_trigger("rate", "60")), UnknownWorkflow),
        (
            ScheduleRequest("backup", parse_trigger("rate", "60"), parameters={"db": 5, "x": 1}),
            InvalidParameters,
        ),
        (ScheduleRequest("backup", parse_trigger("date", "2020-01-01T00:00:00Z")), InvalidTrigger),
    ],
)
def test_bad_schedules_are_refused_and_nothing_is_stored(
    schedules: ScheduleService, request_: ScheduleRequest, error: type[Exception]
) -> None:
    with pytest.raises(error):
        schedules.create(request_)
    assert schedules.list() == []


def test_unschedule_all_then_reschedule_all_restores_exactly_those(
    schedules: ScheduleService, clock: ManualClock
) -> None:
    a = schedules.create(every(60))
    b = schedules.create(every(60))
    off = schedules.create(every(60, enabled=False))
    other = schedules.create(ScheduleRequest("backup", parse_trigger("rate", "60"), owner="bob"))
    assert schedules.unschedule_all("alice") == 2
    assert {s.id for s in schedules.list() if s.enabled} == {other.id}
    clock.advance(600)
    assert schedules.reschedule_all("alice") == 2
    assert {s.id for s in schedules.list() if s.enabled} == {a.id, b.id, other.id}
    assert schedules.get(off.id).enabled is False
    assert schedules.get(a.id).next_fire_at == T0 + timedelta(minutes=11)  # from now on, nothing missed fired


def test_schedules_bound_to_a_target_go_with_it(schedules: ScheduleService) -> None:
    schedules.create(every(60, target="db1"))
    kept = schedules.create(every(60, target="db2"))
    assert schedules.store.schedule_delete_of_target("db1") == 1
    assert [s.id for s in schedules.list()] == [kept.id]
