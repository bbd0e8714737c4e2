"""The worker's hot path: a claim is the core's Claim written in SQL, and a worker's final write
from its own copy is applied only while nobody else changed the row."""

from __future__ import annotations

from datetime import timedelta

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ErrorInfo, Execution, Status
from conveyor.core.ports import Step, Store

from .support import LEASE, claim, status_of

S = Status


def _succeed_unless_cancelling(now: object) -> Step:
    """The worker's success step: a handler that returns after a cancel request honoured it."""

    def step(ex: Execution) -> Execution:
        if ex.status is S.CANCELLING:
            return states.transition(ex, states.ConfirmCancelled(now))  # type: ignore[arg-type]
        return states.transition(ex, states.Succeed(now, {"ok": True}))  # type: ignore[arg-type]

    return step


def test_a_claim_is_exactly_the_cores_claim_transition(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    started = [service.start(StartRequest("job", parameters={"n": i}, priority=i % 3)) for i in range(5)]
    before = {e.id: store.execution_get(e.id) for e in started}
    clock.advance(7)
    now = clock.now()
    lease = now + timedelta(seconds=LEASE)
    claimed = store.execution_claim("w1", ["default"], 10, now=now, lease_until=lease)

    assert [(e.priority, e.id) for e in claimed] == sorted(((e.priority, e.id) for e in claimed),
                                                           key=lambda p: (-p[0], p[1]))  # fmt: skip
    for got in claimed:
        old = before[got.id]
        assert old is not None
        expected = states.transition(old, states.Claim("w1", now, lease)).evolve(updated_at=now)
        assert got == expected
        assert store.execution_get(got.id) == expected
        (event,) = [ev for ev in store.event_list(got.id, after=0, limit=100) if ev.data == {
            "from": "pending", "to": "running"}]  # fmt: skip
        assert (event.kind, event.message, event.ts) == ("status", "pending -> running", now)


def test_a_claim_takes_best_priority_first_and_only_its_queues(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    low = service.start(StartRequest("job", priority=0))
    high = service.start(StartRequest("job", priority=9))
    other_queue = service.start(StartRequest("io", priority=99))
    (got,) = claim(store, clock, limit=1)
    assert got.id == high.id
    assert [e.id for e in claim(store, clock)] == [low.id]
    assert status_of(store, other_queue.id) is S.PENDING


def test_a_final_write_from_the_workers_copy_lands_with_its_status_event(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    (held,) = claim(store, clock)
    now = clock.now()
    (done,) = store.execution_finish([(ex.id, "w1", _succeed_unless_cancelling(now))], now=now,
                                     held={ex.id: held})  # fmt: skip
    assert done is not None and done.status is S.SUCCEEDED and done.result == {"ok": True}
    assert store.execution_get(ex.id) == done
    changes = [ev.message for ev in store.event_list(ex.id, after=0, limit=100) if ev.kind == "status"]
    assert changes == ["created as pending", "pending -> running", "running -> succeeded"]


def test_a_row_changed_since_the_claim_gets_the_step_applied_to_it_as_it_is_now(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    (held,) = claim(store, clock)
    assert service.cancel(ex.id).status is S.CANCELLING  # the copy still says running
    now = clock.now()
    (done,) = store.execution_finish([(ex.id, "w1", _succeed_unless_cancelling(now))], now=now,
                                     held={ex.id: held})  # fmt: skip
    assert done is not None and done.status is S.CANCELLED
    assert status_of(store, ex.id) is S.CANCELLED


def test_an_attempt_reaped_and_claimed_again_by_the_same_worker_cannot_be_finished_by_its_old_copy(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("flaky"))
    (first,) = claim(store, clock)
    clock.advance(LEASE + 1)
    assert store.execution_reap_leases(now=clock.now()) == 1
    (second,) = claim(store, clock)
    assert (second.attempt, second.worker_id) == (2, "w1")
    now = clock.now()
    err = ErrorInfo("RuntimeError", "late")
    late: Step = lambda e: states.transition(e, states.Fail(now, err, retryable=False))  # noqa: E731
    # The old attempt's outcome is refused by the fast path (attempt differs); the locked path then
    # applies it to the row as it is now: this worker does hold the row, in its second attempt.
    store.execution_finish([(ex.id, "w1", late)], now=now, held={ex.id: first})
    current = store.execution_get(ex.id)
    assert current is not None and current.attempt == 2 and current.status is S.FAILED


def test_a_copy_of_a_lost_execution_writes_nothing(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    (held,) = claim(store, clock)
    assert service.cancel(ex.id, "force").status is S.CANCELLED
    now = clock.now()
    (done,) = store.execution_finish([(ex.id, "w1", _succeed_unless_cancelling(now))], now=now,
                                     held={ex.id: held})  # fmt: skip
    assert done is None
    assert status_of(store, ex.id) is S.CANCELLED


def test_a_final_write_from_the_copy_admits_the_next_queued_execution(
    service: ExecutionService, store: Store, clock: ManualClock, set_max_concurrent: object
) -> None:
    set_max_concurrent("t", 1)  # type: ignore[operator]
    first = service.start(StartRequest("job", target="t"))
    waiting = service.start(StartRequest("job", target="t", queue=True))
    assert waiting.status is S.QUEUED
    (held,) = claim(store, clock)
    now = clock.now()
    store.execution_finish([(first.id, "w1", _succeed_unless_cancelling(now))], now=now,
                           held={first.id: held})  # fmt: skip
    assert status_of(store, first.id) is S.SUCCEEDED
    assert status_of(store, waiting.id) is S.PENDING
