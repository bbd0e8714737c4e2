"""Admission end to end: when a slot frees, the next queued execution starts, in the right order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.errors import ExistingRunningExecution
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ErrorInfo, Execution, Status
from conveyor.core.ports import Store

from .support import claim_one, status_of, statuses, succeed

S = Status


def _queue_behind(service: ExecutionService, target: str, priorities: list[int]) -> list[Execution]:
    out = [service.start(StartRequest("job", target=target, queue=True, priority=p)) for p in priorities]
    assert {e.status for e in out} == {S.QUEUED}
    return out


def test_a_finish_admits_the_next_queued_by_priority_then_creation(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    first = service.start(StartRequest("job", target="t"))
    b, c, d, e = _queue_behind(service, "t", [0, 5, 5, 0])
    other = service.start(StartRequest("job", target="u", queue=True))
    assert other.status is S.PENDING  # another target is not held up
    running = claim_one(store, clock, first.id)
    for expected in (c, d, b, e):
        succeed(store, clock, running)
        pending = [x for x in (b, c, d, e) if status_of(store, x.id) is S.PENDING]
        assert pending == [expected]
        running = claim_one(store, clock, expected.id)
    succeed(store, clock, running)
    assert statuses(store, [first, b, c, d, e]) == [S.SUCCEEDED] * 5


@pytest.mark.parametrize("mode", ["cancel-pending", "force", "kill-confirmed", "fail"])
def test_any_end_of_the_running_one_admits_the_next(
    service: ExecutionService, store: Store, clock: ManualClock, mode: str
) -> None:
    first = service.start(StartRequest("job", target="t"))
    (nxt,) = _queue_behind(service, "t", [0])
    if mode == "cancel-pending":  # never claimed: cancelled at once
        assert service.cancel(first.id).status is S.CANCELLED
    else:
        claim_one(store, clock, first.id)
        if mode == "force":
            service.cancel(first.id, "force")
        elif mode == "kill-confirmed":
            assert service.cancel(first.id, "kill").status is S.KILL_CANCELLING
            assert status_of(store, nxt.id) is S.QUEUED  # still running until the kill is confirmed
            now = clock.now()
            store.execution_finish(
                [(first.id, "w1", lambda e: states.transition(e, states.ConfirmCancelled(now)))], now=now
            )
        else:
            now = clock.now()
            err = ErrorInfo("E", "x")
            store.execution_finish(
                [(first.id, "w1", lambda e: states.transition(e, states.Fail(now, err)))], now=now
            )
            assert status_of(store, first.id) is S.FAILED
    assert status_of(store, nxt.id) is S.PENDING


def test_cancelling_a_queued_one_does_not_let_another_past_a_busy_target(
    service: ExecutionService, store: Store
) -> None:
    first = service.start(StartRequest("job", target="t"))
    a, b = _queue_behind(service, "t", [0, 0])
    assert service.cancel(a.id).status is S.CANCELLED
    assert statuses(store, [first, a, b]) == [S.PENDING, S.CANCELLED, S.QUEUED]


def test_a_paused_execution_frees_its_slot_and_waits_its_turn_when_resumed(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    first = service.start(StartRequest("job", target="t"))
    (nxt,) = _queue_behind(service, "t", [0])
    claim_one(store, clock, first.id)
    service.pause(first.id)
    assert status_of(store, nxt.id) is S.QUEUED  # pausing still runs until the checkpoint
    now = clock.now()
    store.execution_finish(
        [(first.id, "w1", lambda e: states.transition(e, states.ConfirmPaused(now)))], now=now
    )
    assert statuses(store, [first, nxt]) == [S.PAUSED, S.PENDING]
    assert service.resume(first.id).status is S.QUEUED
    succeed(store, clock, claim_one(store, clock, nxt.id))
    assert status_of(store, first.id) is S.PENDING


def test_a_higher_target_limit_admits_that_many_from_the_queue(
    service: ExecutionService,
    store: Store,
    clock: ManualClock,
    set_max_concurrent: Callable[[str, int], None],
) -> None:
    set_max_concurrent("t", 2)
    running = [service.start(StartRequest("job", target="t")) for _ in range(2)]
    queued = _queue_behind(service, "t", [0, 0, 0])
    held = [claim_one(store, clock, e.id) for e in running]
    succeed(store, clock, held[0])
    assert statuses(store, queued) == [S.PENDING, S.QUEUED, S.QUEUED]
    succeed(store, clock, held[1])
    assert statuses(store, queued) == [S.PENDING, S.PENDING, S.QUEUED]


def test_a_system_execution_runs_alone_from_start_to_end(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    on_target = service.start(StartRequest("job", target="t1"))
    targetless = service.start(StartRequest("job"))
    sys_ex = service.start(StartRequest("sys", queue=True))
    assert sys_ex.status is S.QUEUED
    # newcomers queue behind the waiting system execution, even on free targets
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("job", target="t2"))
    late = service.start(StartRequest("job", target="t2", queue=True))
    assert late.status is S.QUEUED

    succeed(store, clock, claim_one(store, clock, on_target.id))
    assert statuses(store, [sys_ex, late]) == [S.QUEUED, S.QUEUED]  # one still runs
    succeed(store, clock, claim_one(store, clock, targetless.id))
    assert statuses(store, [sys_ex, late]) == [S.PENDING, S.QUEUED]

    held = claim_one(store, clock, sys_ex.id)
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("job"))
    forced = service.start(StartRequest("job", force=True))
    assert forced.status is S.PENDING  # force skips the rule

    succeed(store, clock, held)
    assert status_of(store, late.id) is S.PENDING


def test_a_queued_system_execution_goes_before_equal_priority_work_queued_after_it(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    running = service.start(StartRequest("job"))
    sys_ex = service.start(StartRequest("sys", queue=True))
    stream = [service.start(StartRequest("job", queue=True)) for _ in range(3)]
    assert statuses(store, stream) == [S.QUEUED] * 3
    succeed(store, clock, claim_one(store, clock, running.id))
    assert statuses(store, [sys_ex, *stream]) == [S.PENDING, S.QUEUED, S.QUEUED, S.QUEUED]
    succeed(store, clock, claim_one(store, clock, sys_ex.id))
    assert statuses(store, stream) == [S.PENDING] * 3


def test_higher_priority_work_queued_after_a_system_execution_is_admitted_first(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    running = service.start(StartRequest("job"))
    sys_ex = service.start(StartRequest("sys", queue=True))
    urgent = service.start(StartRequest("job", queue=True, priority=9))
    succeed(store, clock, claim_one(store, clock, running.id))
    # priority orders the queue; the system execution then waits for the urgent one to end
    assert statuses(store, [urgent, sys_ex]) == [S.PENDING, S.QUEUED]
    succeed(store, clock, claim_one(store, clock, urgent.id))
    assert status_of(store, sys_ex.id) is S.PENDING
