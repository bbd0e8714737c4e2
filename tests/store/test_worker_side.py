"""The worker's side of the store: claim, heartbeat, progress and finish."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ErrorInfo, Execution, ExecutionFilter, Status
from conveyor.core.ports import Store

from .support import LEASE, claim, claim_one, fail, status_of, succeed

S = Status


# --- claim ---------------------------------------------------------------------------


def test_claim_takes_pending_work_only(service: ExecutionService, store: Store, clock: ManualClock) -> None:
    pending = service.start(StartRequest("job", target="t"))
    queued = service.start(StartRequest("job", target="t", queue=True))
    scheduled = service.start(StartRequest("job", schedule=clock.now() + timedelta(hours=1)))
    paused = service.start(StartRequest("job"))
    service.pause(paused.id)
    got = claim(store, clock)
    assert [e.id for e in got] == [pending.id]
    assert [status_of(store, e.id) for e in (queued, scheduled, paused)] == [S.QUEUED, S.SCHEDULED, S.PAUSED]
    assert claim(store, clock) == []


def test_claim_marks_the_execution_running_under_the_workers_lease(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    (got,) = claim(store, clock, "w7")
    assert got.status is S.RUNNING
    assert (got.worker_id, got.attempt, got.started_at) == ("w7", 1, clock.now())
    assert got.lease_expires_at == clock.now() + timedelta(seconds=LEASE)
    assert store.execution_get(ex.id) == got
    assert [e.message for e in store.event_list(ex.id)] == ["created as pending", "pending -> running"]


def test_claim_takes_only_the_given_queues(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    default = service.start(StartRequest("job"))
    io = service.start(StartRequest("io"))
    assert [e.id for e in claim(store, clock, queues=["io"])] == [io.id]
    assert [e.id for e in claim(store, clock, queues=["other"])] == []
    assert [e.id for e in claim(store, clock, queues=["default", "io"])] == [default.id]


def test_claim_takes_best_priority_first_then_oldest_up_to_the_limit(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    started = [service.start(StartRequest("job", priority=p)) for p in (0, 5, 0, 5, 1, -2)]
    expected = [e.id for e in sorted(started, key=lambda e: (-e.priority, e.id))]
    assert [e.id for e in claim(store, clock, limit=2)] == expected[:2]
    assert [e.id for e in claim(store, clock, limit=3)] == expected[2:5]
    assert [e.id for e in claim(store, clock, limit=3)] == expected[5:]


def _claim_concurrently(stores: list[Store], clock: ManualClock, total: int, threads: int) -> list[list[str]]:
    """Several workers claim at once until nothing is left; returns what each got."""
    got: list[list[str]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(i: int) -> None:
        try:
            store = stores[i % len(stores)]
            start.wait()
            while True:
                batch = claim(store, clock, f"w{i}", limit=3)
                if not batch:
                    return
                got[i].extend(e.id for e in batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert not errors, errors
    return got


def _assert_each_claimed_once(store: Store, created: list[Execution], got: list[list[str]]) -> None:
    flat = [i for g in got for i in g]
    assert len(flat) == len(set(flat)), "an execution was claimed twice"
    assert set(flat) == {e.id for e in created}
    for worker, ids in enumerate(got):
        for i in ids:
            ex = store.execution_get(i)
            assert ex is not None
            assert (ex.status, ex.worker_id, ex.attempt) == (S.RUNNING, f"w{worker}", 1)


def test_concurrent_claims_from_many_threads_never_share_an_execution(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    created = service.start_many([StartRequest("job") for _ in range(300)])
    got = _claim_concurrently([store], clock, len(created), threads=8)
    _assert_each_claimed_once(store, created, got)
    assert sum(1 for g in got if g) > 1  # the work really was spread over workers


def test_concurrent_claims_from_two_stores_on_one_database_never_share_an_execution(
    service: ExecutionService,
    store: Store,
    store_url: str,
    open_store: Callable[[str], Store],
    clock: ManualClock,
) -> None:
    other = open_store(store_url)
    created = service.start_many([StartRequest("job") for _ in range(300)])
    got = _claim_concurrently([store, other], clock, len(created), threads=6)
    _assert_each_claimed_once(store, created, got)
    assert other.execution_count(ExecutionFilter(statuses=(S.RUNNING,))) == 300


# --- heartbeat -------------------------------------------------------------------------


def test_heartbeat_extends_the_lease_and_answers_the_current_status(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    a, b = service.start(StartRequest("job")), service.start(StartRequest("job"))
    claim(store, clock)
    later = clock.now() + timedelta(minutes=5)
    assert store.execution_heartbeat("w1", [a.id, b.id], lease_until=later) == {
        a.id: S.RUNNING,
        b.id: S.RUNNING,
    }
    assert [store.execution_get(i).lease_expires_at for i in (a.id, b.id)] == [later, later]  # type: ignore[union-attr]
    service.cancel(a.id)
    service.pause(b.id)
    assert store.execution_heartbeat("w1", [a.id, b.id], lease_until=later) == {
        a.id: S.CANCELLING,
        b.id: S.PAUSING,
    }
    assert store.execution_heartbeat("w1", [], lease_until=later) == {}


def test_heartbeat_omits_what_the_worker_no_longer_holds(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    mine = [service.start(StartRequest("job")) for _ in range(4)]
    claim(store, clock, "w1")
    theirs = service.start(StartRequest("job"))
    claim(store, clock, "w2")
    forced, deleted, ended, kept = mine
    service.cancel(forced.id, "force")
    succeed(store, clock, ended)
    store.execution_delete([deleted.id])
    later = clock.now() + timedelta(minutes=5)
    answer = store.execution_heartbeat("w1", [e.id for e in (*mine, theirs)] + ["unknown"], lease_until=later)
    assert answer == {kept.id: S.RUNNING}
    # someone else's lease is left alone
    assert store.execution_get(theirs.id).lease_expires_at == clock.now() + timedelta(seconds=LEASE)  # type: ignore[union-attr]


def test_heartbeat_after_the_lease_was_reaped_is_refused(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("flaky"))
    claim(store, clock, "w1")
    clock.advance(LEASE + 1)
    store.execution_reap_leases(now=clock.now())
    assert store.execution_heartbeat("w1", [ex.id], lease_until=clock.now() + timedelta(seconds=LEASE)) == {}
    assert claim_one(store, clock, ex.id, "w2").attempt == 2
    assert store.execution_heartbeat("w1", [ex.id], lease_until=clock.now() + timedelta(seconds=LEASE)) == {}


# --- progress --------------------------------------------------------------------------


def test_progress_is_recorded_only_for_the_holder(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    assert store.execution_set_progress("w1", ex.id, 1, 10, None) is False  # not claimed yet
    claim(store, clock, "w1")
    assert store.execution_set_progress("w2", ex.id, 1, 10, None) is False
    assert store.execution_set_progress("w1", ex.id, 3, 10, {"cursor": "x"}) is True
    assert store.execution_set_progress("w1", ex.id, 4, None, None) is True  # None keeps what was there
    got = store.execution_get(ex.id)
    assert got is not None
    assert (got.finished_operations, got.total_operations, got.state) == (4, 10, {"cursor": "x"})


# --- finish ------------------------------------------------------------------------------


def test_finish_applies_the_final_step_for_the_holder(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    held = claim_one(store, clock, ex.id)
    clock.advance(5)
    done = succeed(store, clock, held, result={"rows": 3})
    assert done is not None
    assert (done.status, done.result, done.ended_at, done.worker_id) == (
        S.SUCCEEDED,
        {"rows": 3},
        clock.now(),
        None,
    )
    assert store.execution_get(ex.id) == done
    assert [e.message for e in store.event_list(ex.id)][-1] == "running -> succeeded"


def test_finish_by_another_worker_changes_nothing(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    held = claim_one(store, clock, ex.id, "w1")
    assert succeed(store, clock, held, worker="w2") is None
    assert store.execution_get(ex.id) == held


def test_finish_after_a_force_cancel_is_discarded(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    held = claim_one(store, clock, ex.id)
    cancelled = service.cancel(ex.id, "force")
    assert cancelled.status is S.CANCELLED
    assert succeed(store, clock, held, result="late") is None
    after = store.execution_get(ex.id)
    assert after is not None
    assert (after.status, after.result) == (S.CANCELLED, None)


def test_finish_after_a_plain_cancel_may_still_succeed_or_confirm(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    a, b = service.start(StartRequest("job")), service.start(StartRequest("job"))
    claim(store, clock)
    service.cancel(a.id)
    service.cancel(b.id, "kill")
    now = clock.now()
    out = store.execution_finish(
        [
            (a.id, "w1", lambda e: states.transition(e, states.Succeed(now, 1))),
            (b.id, "w1", lambda e: states.transition(e, states.ConfirmCancelled(now))),
        ],
        now=now,
    )
    assert [e.status if e else None for e in out] == [S.SUCCEEDED, S.CANCELLED]
    assert [status_of(store, i) for i in (a.id, b.id)] == [S.SUCCEEDED, S.CANCELLED]


def test_finish_answers_none_for_a_step_the_graph_refuses(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    claim(store, clock)
    now = clock.now()
    (out,) = store.execution_finish(
        [(ex.id, "w1", lambda e: states.transition(e, states.ConfirmPaused(now)))], now=now
    )
    assert out is None
    assert status_of(store, ex.id) is S.RUNNING
    assert store.execution_finish([], now=now) == []
    assert store.execution_finish([("missing", "w1", lambda e: e)], now=now) == [None]


def test_finish_with_a_failure_retries_after_the_backoff_while_attempts_are_left(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("flaky"))
    for attempt, backoff in ((1, 10.0), (2, 20.0)):
        held = claim_one(store, clock, ex.id)
        assert held.attempt == attempt
        retry = fail(store, clock, held)
        assert retry is not None
        assert retry.status is S.SCHEDULED
        assert retry.scheduled_for == clock.now() + timedelta(seconds=backoff)
        assert retry.error == ErrorInfo("RuntimeError", "boom")
        clock.advance(backoff - 1)
        store.execution_promote_due(now=clock.now())
        assert status_of(store, ex.id) is S.SCHEDULED
        clock.advance(1)
        store.execution_promote_due(now=clock.now())
        assert status_of(store, ex.id) is S.PENDING
    last = fail(store, clock, claim_one(store, clock, ex.id))
    assert last is not None
    assert (last.status, last.attempt, last.ended_at) == (S.FAILED, 3, clock.now())
    events = [e for e in store.event_list(ex.id) if e.kind == "status"]
    assert events[-1].level == "error"
    assert events[-1].data == {
        "from": "running",
        "to": "failed",
        "error": {"type": "RuntimeError", "message": "boom"},
    }


def test_a_pause_confirmed_at_a_checkpoint_keeps_the_state_and_resumes(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    claim(store, clock)
    assert service.pause(ex.id).status is S.PAUSING
    now = clock.now()
    (paused,) = store.execution_finish(
        [(ex.id, "w1", lambda e: states.transition(e, states.ConfirmPaused(now, {"step": 3})))], now=now
    )
    assert paused is not None
    assert (paused.status, paused.state, paused.worker_id) == (S.PAUSED, {"step": 3}, None)
    resumed = service.resume(ex.id)
    assert resumed.status is S.PENDING  # back through the queue, admitted at once
    again = claim_one(store, clock, ex.id, "w2")
    assert (again.attempt, again.state, again.max_attempts) == (2, {"step": 3}, 2)


def test_an_external_worker_reports_statuses_through_the_graph(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("flaky"))
    assert service.report(ex.id, S.RUNNING).attempt == 1
    retry = service.report(ex.id, S.SCHEDULED, error=ErrorInfo("E", "x"))
    assert retry.status is S.SCHEDULED
    assert retry.scheduled_for is not None
    # a reported retry comes due like any other
    clock.advance(3600)
    store.execution_promote_due(now=clock.now())
    assert status_of(store, ex.id) is S.PENDING
    assert service.report(ex.id, S.RUNNING).attempt == 2
    done = service.report(ex.id, S.SUCCEEDED, result={"ok": 1})
    assert (done.status, done.result, done.expires_at) == (
        S.SUCCEEDED,
        {"ok": 1},
        clock.now() + timedelta(hours=1),
    )
    with pytest.raises(Exception) as info:
        service.report(ex.id, S.RUNNING)
    assert getattr(info.value, "code", None) == "illegal_transition"
