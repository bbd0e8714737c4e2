"""Background duties: promotion of due work, lease reaping, retention and bulk deletion."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.errors import Conflict, InvalidRequest
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import Event, ExecutionFilter, Status
from conveyor.core.ports import Store

from .conftest import RETENTION
from .support import LEASE, claim, claim_one, fail, status_of, statuses, succeed

S = Status


# --- promotion of scheduled executions ------------------------------------------------------


def test_scheduled_executions_start_when_due_and_not_before(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    t = clock.now()
    soon = service.start(StartRequest("job", schedule=t + timedelta(seconds=60)))
    later = service.start(StartRequest("job", schedule=t + timedelta(seconds=120)))
    assert store.execution_next_due_at() == soon.scheduled_for
    store.execution_promote_due(now=t + timedelta(seconds=59))
    assert statuses(store, [soon, later]) == [S.SCHEDULED, S.SCHEDULED]
    clock.advance(60)
    store.execution_promote_due(now=clock.now())
    assert statuses(store, [soon, later]) == [S.PENDING, S.SCHEDULED]
    assert store.execution_next_due_at() == later.scheduled_for
    clock.advance(60)
    service.tick()
    assert statuses(store, [soon, later]) == [S.PENDING, S.PENDING]
    assert store.execution_next_due_at() is None
    messages = [e.message for e in store.event_list(soon.id)]
    assert messages == ["created as scheduled", "scheduled -> queued", "queued -> pending"]


def test_due_executions_on_a_busy_target_wait_in_the_queue(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    busy = service.start(StartRequest("job", target="t"))
    due = service.start(StartRequest("job", target="t", schedule=clock.now() + timedelta(seconds=10)))
    clock.advance(10)
    store.execution_promote_due(now=clock.now())
    assert status_of(store, due.id) is S.QUEUED
    succeed(store, clock, claim_one(store, clock, busy.id))
    assert status_of(store, due.id) is S.PENDING


def test_promotion_honours_its_limit_earliest_first(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    t = clock.now()
    exs = [service.start(StartRequest("job", schedule=t + timedelta(seconds=s))) for s in (30, 10, 20)]
    store.execution_promote_due(now=t + timedelta(seconds=60), limit=2)
    assert statuses(store, exs) == [S.SCHEDULED, S.PENDING, S.PENDING]


# --- lease reaping -------------------------------------------------------------------------------


def test_an_expired_lease_requeues_while_attempts_are_left(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("flaky", target="t"))
    claim(store, clock)
    clock.advance(LEASE)
    store.execution_reap_leases(now=clock.now())
    assert status_of(store, ex.id) is S.RUNNING  # not expired yet at the very instant
    clock.advance(1)
    store.execution_reap_leases(now=clock.now())
    reaped = store.execution_get(ex.id)
    assert reaped is not None
    # back to the queue and, the target being free, admitted again
    assert (reaped.status, reaped.worker_id, reaped.lease_expires_at, reaped.attempt) == (
        S.PENDING,
        None,
        None,
        1,
    )
    assert "running -> queued" in [e.message for e in store.event_list(ex.id)]
    assert claim_one(store, clock, ex.id, "w2").attempt == 2


def test_an_expired_lease_on_the_last_attempt_fails_with_worker_lost(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job", target="t"))
    nxt = service.start(StartRequest("job", target="t", queue=True))
    claim(store, clock)
    clock.advance(LEASE + 1)
    service.tick()
    lost = store.execution_get(ex.id)
    assert lost is not None
    assert lost.status is S.FAILED
    assert lost.error is not None
    assert lost.error.type == "WorkerLost"
    assert lost.ended_at == clock.now()
    assert lost.expires_at == clock.now() + timedelta(seconds=RETENTION)
    assert status_of(store, nxt.id) is S.PENDING  # its slot went to the next one


def test_an_expired_lease_ends_a_cancel_and_pauses_a_pause(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    cancelling, killing, pausing = (service.start(StartRequest("flaky")) for _ in range(3))
    claim(store, clock)
    service.cancel(cancelling.id)
    service.cancel(killing.id, "kill")
    service.pause(pausing.id)
    clock.advance(LEASE + 1)
    store.execution_reap_leases(now=clock.now())
    assert statuses(store, [cancelling, killing, pausing]) == [S.CANCELLED, S.CANCELLED, S.PAUSED]


def test_heartbeats_keep_a_lease_from_being_reaped(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    claim(store, clock)
    for _ in range(3):
        clock.advance(LEASE - 1)
        store.execution_heartbeat("w1", [ex.id], lease_until=clock.now() + timedelta(seconds=LEASE))
        store.execution_reap_leases(now=clock.now())
    assert status_of(store, ex.id) is S.RUNNING


def test_reaping_leaves_what_has_no_lease_alone(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    pending = service.start(StartRequest("io", target="a"))  # nobody claims the io queue here
    queued = service.start(StartRequest("job", target="a", queue=True))
    done = service.start(StartRequest("job", target="b"))
    succeed(store, clock, claim_one(store, clock, done.id))
    clock.advance(10 * LEASE)
    assert store.execution_reap_leases(now=clock.now()) == 0
    assert statuses(store, [pending, queued, done]) == [S.PENDING, S.QUEUED, S.SUCCEEDED]


# --- retention ------------------------------------------------------------------------------------


def test_expired_terminal_executions_are_deleted_with_their_events(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    short = service.start(StartRequest("brief"))  # retention 60 s
    normal = service.start(StartRequest("job"))  # the service default
    running = service.start(StartRequest("flaky"))
    claim(store, clock)
    succeed(store, clock, store.execution_get(short.id))  # type: ignore[arg-type]
    succeed(store, clock, store.execution_get(normal.id))  # type: ignore[arg-type]
    service.message(normal.id, "kept until it expires")
    ended = clock.now()
    assert store.execution_get(short.id).expires_at == ended + timedelta(seconds=60)  # type: ignore[union-attr]

    store.execution_heartbeat("w1", [running.id], lease_until=ended + timedelta(days=1))
    assert store.execution_delete_expired(now=ended + timedelta(seconds=59)) == 0
    assert store.execution_delete_expired(now=ended + timedelta(seconds=60)) == 1
    assert store.execution_get(short.id) is None
    assert store.event_list(short.id) == []
    assert store.execution_get(normal.id) is not None
    assert len(store.event_list(normal.id)) == 4

    assert store.execution_delete_expired(now=ended + timedelta(seconds=RETENTION)) == 1
    assert store.execution_get(normal.id) is None
    assert store.event_list(normal.id) == []
    assert status_of(store, running.id) is S.RUNNING  # never expires while it runs
    assert len(store.event_list(running.id)) == 2


def test_resumed_or_requeued_executions_no_longer_expire(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    a, b = service.start(StartRequest("brief")), service.start(StartRequest("brief"))
    claim(store, clock)
    fail(store, clock, store.execution_get(a.id))  # type: ignore[arg-type]
    succeed(store, clock, store.execution_get(b.id))  # type: ignore[arg-type]
    assert service.resume(a.id).expires_at is None
    assert service.requeue(b.id).expires_at is None
    clock.advance(3600)
    service.tick()
    assert statuses(store, [a, b]) == [S.PENDING, S.PENDING]


def test_delete_expired_honours_its_limit(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    exs = [service.start(StartRequest("brief")) for _ in range(5)]
    for ex in claim(store, clock):
        succeed(store, clock, ex)
    assert store.execution_delete_expired(now=clock.now() + timedelta(seconds=60), limit=3) == 3
    assert sum(1 for e in exs if store.execution_get(e.id) is not None) == 2


# --- deleting finished executions ------------------------------------------------------------------


def _finish_in_order(
    service: ExecutionService, store: Store, clock: ManualClock, workflow: str, n: int
) -> list[str]:
    ids = []
    for _ in range(n):
        ex = service.start(StartRequest(workflow))
        clock.advance(10)
        succeed(store, clock, claim_one(store, clock, ex.id))
        ids.append(ex.id)
    return ids


def test_delete_finished_keeps_the_newest(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    done = _finish_in_order(service, store, clock, "job", 5)
    active = service.start(StartRequest("job"))
    queued_sys = service.start(StartRequest("sys", queue=True))
    assert service.delete_finished(ExecutionFilter(), keep_last=2) == 3
    left = {e.id for e in service.list(ExecutionFilter(), limit=100).items}
    assert left == {*done[3:], active.id, queued_sys.id}
    assert all(store.event_list(i) == [] for i in done[:3])
    assert service.delete_finished(ExecutionFilter(), keep_last=0) == 2
    assert {e.id for e in service.list(ExecutionFilter()).items} == {active.id, queued_sys.id}


def test_delete_finished_up_to_a_time_and_by_filter(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    jobs = _finish_in_order(service, store, clock, "job", 3)  # ended at +10, +20, +30
    briefs = _finish_in_order(service, store, clock, "brief", 2)  # ended at +40, +50
    t0 = clock.now() - timedelta(seconds=50)
    deleted = service.delete_finished(
        ExecutionFilter(workflows=("job",)), to_datetime=t0 + timedelta(seconds=20)
    )
    assert deleted == 2
    assert [store.execution_get(i) is not None for i in jobs + briefs] == [False, False, True, True, True]
    assert service.delete_finished(ExecutionFilter(), to_datetime=t0 + timedelta(seconds=40)) == 2
    assert [store.execution_get(i) is not None for i in briefs] == [False, True]


def test_delete_finished_refuses_contradictory_requests(
    service: ExecutionService, clock: ManualClock
) -> None:
    with pytest.raises(InvalidRequest):
        service.delete_finished(ExecutionFilter(), to_datetime=clock.now(), keep_last=1)
    with pytest.raises(InvalidRequest):
        service.delete_finished(ExecutionFilter(), keep_last=-1)


def test_deleting_one_execution_refuses_an_active_one(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    ex = service.start(StartRequest("job"))
    with pytest.raises(Conflict):
        service.delete(ex.id)
    service.cancel(ex.id)
    service.delete(ex.id)
    assert store.execution_get(ex.id) is None
    assert store.event_list(ex.id) == []
    assert store.execution_delete([]) == 0


def test_events_of_other_executions_survive_deletes(
    service: ExecutionService, store: Store, clock: ManualClock
) -> None:
    a, b = service.start(StartRequest("job")), service.start(StartRequest("job"))
    store.event_add([Event(b.id, "log", clock.now(), "hello")])
    service.cancel(a.id)
    store.execution_delete([a.id])
    assert [e.message for e in store.event_list(b.id)] == ["created as pending", "hello"]


def test_tick_runs_every_duty(service: ExecutionService, store: Store, clock: ManualClock) -> None:
    due = service.start(StartRequest("job", schedule=clock.now() + timedelta(seconds=5)))
    lost = service.start(StartRequest("flaky", target="x"))
    old = service.start(StartRequest("brief"))
    claim(store, clock)
    succeed(store, clock, store.execution_get(old.id))  # type: ignore[arg-type]
    now = clock.now()
    store.execution_finish(
        [(lost.id, "w9", lambda e: states.transition(e, states.Succeed(now)))], now=now
    )  # not its holder
    clock.advance(LEASE + 61)
    done = service.tick()
    assert set(done) == {"promoted", "reaped", "admitted", "deleted", "folded", "forgotten"}
    assert done["deleted"] == 1
    assert statuses(store, [due, lost, old]) == [S.PENDING, S.PENDING, None]
