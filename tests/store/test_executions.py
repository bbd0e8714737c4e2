"""Starting executions through the service: validation, admission at start, batches, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from conveyor.core.catalog import StoredCatalog
from conveyor.core.clock import ManualClock
from conveyor.core.errors import ExistingRunningExecution, InvalidParameters, InvalidRequest, UnknownWorkflow
from conveyor.core.executions import ExecutionService, StartRequest
from conveyor.core.model import ExecutionFilter, Status
from conveyor.core.ports import Store
from conveyor.worker.registry import App

from .conftest import RETENTION
from .support import T0, claim_one, succeed

S = Status


def test_a_start_on_a_free_target_is_pending_at_once(service: ExecutionService, store: Store) -> None:
    ex = service.start(StartRequest("job", {"n": "3"}, target="db1", priority=2, created_by="alice"))
    assert ex.status is S.PENDING
    stored = store.execution_get(ex.id)
    assert stored == ex
    assert stored is not None
    assert (stored.parameters, stored.target, stored.priority, stored.created_by) == (
        {"n": 3},
        "db1",
        2,
        "alice",
    )
    assert (stored.created_at, stored.retention, stored.queue, stored.attempt) == (
        T0,
        RETENTION,
        "default",
        0,
    )
    assert [e.message for e in store.event_list(ex.id)] == ["created as pending"]


def test_the_workflow_settings_travel_with_the_execution(service: ExecutionService) -> None:
    flaky = service.start(StartRequest("flaky"))
    assert (flaky.max_attempts, flaky.retry_backoff) == (3, 10.0)
    assert service.start(StartRequest("brief")).retention == 60.0
    assert service.start(StartRequest("io")).queue == "io"
    assert service.start(StartRequest("sys", queue=True)).is_system is True


def test_a_busy_target_refuses_a_start_and_writes_nothing(service: ExecutionService, store: Store) -> None:
    first = service.start(StartRequest("job", target="db1"))
    with pytest.raises(ExistingRunningExecution) as info:
        service.start(StartRequest("job", target="db1"))
    assert info.value.code == "existing_running_execution"
    assert "db1" in info.value.message
    assert "queue=true" in info.value.message
    assert info.value.details == {"target": "db1"}
    assert [e.id for e in service.list(ExecutionFilter()).items] == [first.id]


def test_a_busy_target_queues_a_start_that_may_wait(service: ExecutionService) -> None:
    service.start(StartRequest("job", target="db1"))
    queued = service.start(StartRequest("job", target="db1", queue=True))
    assert queued.status is S.QUEUED
    other = service.start(StartRequest("job", target="db2"))
    assert other.status is S.PENDING


def test_a_forced_start_skips_a_busy_target(service: ExecutionService) -> None:
    service.start(StartRequest("job", target="db1"))
    assert service.start(StartRequest("job", target="db1", force=True)).status is S.PENDING


def test_targetless_starts_are_never_limited(service: ExecutionService) -> None:
    assert {service.start(StartRequest("job")).status for _ in range(5)} == {S.PENDING}


def test_a_newcomer_waits_behind_executions_already_queued_on_its_target(
    service: ExecutionService, clock: ManualClock
) -> None:
    running = service.start(StartRequest("job", target="db1"))
    waiting = service.start(StartRequest("job", target="db1", queue=True))
    ex = claim_one(service.store, clock, running.id)
    # the slot frees and the queued one takes it: a newcomer cannot jump ahead
    succeed(service.store, clock, ex)
    assert service.get(waiting.id).status is S.PENDING
    assert service.start(StartRequest("job", target="db1", queue=True)).status is S.QUEUED


def test_a_higher_target_limit_lets_more_start(
    service: ExecutionService, set_max_concurrent: Callable[[str, int], None]
) -> None:
    set_max_concurrent("db1", 2)
    assert service.start(StartRequest("job", target="db1")).status is S.PENDING
    assert service.start(StartRequest("job", target="db1")).status is S.PENDING
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("job", target="db1"))
    assert service.start(StartRequest("job", target="db1", queue=True)).status is S.QUEUED


def test_a_batch_that_cannot_all_start_writes_nothing(service: ExecutionService, store: Store) -> None:
    busy = service.start(StartRequest("job", target="busy"))
    reqs = [StartRequest("job", target="free"), StartRequest("job"), StartRequest("job", target="busy")]
    with pytest.raises(ExistingRunningExecution):
        service.start_many(reqs, refuse_blocked=True)
    assert store.execution_count(ExecutionFilter()) == 1
    assert store.execution_get(busy.id) is not None
    # two on the same free target in one refusing batch: the second would have to wait
    with pytest.raises(ExistingRunningExecution):
        service.start_many(
            [StartRequest("job", target="t"), StartRequest("job", target="t")], refuse_blocked=True
        )
    assert store.execution_count(ExecutionFilter()) == 1


def test_a_batch_that_may_wait_admits_what_fits_and_queues_the_rest(service: ExecutionService) -> None:
    reqs = [StartRequest("job", target="t"), StartRequest("job", target="t"), StartRequest("job", target="u")]
    out = service.start_many(reqs)
    assert [e.status for e in out] == [S.PENDING, S.QUEUED, S.PENDING]
    assert len({e.id for e in out}) == 3


def test_invalid_starts_write_nothing(service: ExecutionService, store: Store) -> None:
    with pytest.raises(InvalidParameters) as info:
        service.start(StartRequest("job", {"n": "many"}))
    assert info.value.details["errors"][0]["loc"] == ["n"]
    with pytest.raises(UnknownWorkflow):
        service.start(StartRequest("nope"))
    with pytest.raises(InvalidRequest):
        service.start(StartRequest("job", target="  "))
    # one bad request spoils its batch
    with pytest.raises(InvalidParameters):
        service.start_many([StartRequest("job"), StartRequest("job", {"n": []})])
    assert store.execution_count(ExecutionFilter()) == 0


def test_the_same_idempotency_key_returns_the_first_execution(
    service: ExecutionService, store: Store
) -> None:
    first = service.start(StartRequest("job", target="db1", idempotency_key="k1"))
    # even a request that would be refused now answers with the first execution
    again = service.start(StartRequest("job", target="db1", idempotency_key="k1"))
    assert again.id == first.id
    assert store.execution_count(ExecutionFilter()) == 1
    batch = service.start_many(
        [StartRequest("job", idempotency_key="k2"), StartRequest("job", target="db1", idempotency_key="k1")]
    )
    assert batch[1].id == first.id
    assert batch[0].id != first.id
    assert store.execution_count(ExecutionFilter()) == 2
    assert service.start(StartRequest("job", idempotency_key="k2")).id == batch[0].id


def test_a_start_due_later_is_scheduled(service: ExecutionService, store: Store, clock: ManualClock) -> None:
    at = clock.now() + timedelta(minutes=5)
    ex = service.start(StartRequest("job", target="db1", schedule=at))
    assert ex.status is S.SCHEDULED
    assert ex.scheduled_for == at
    assert store.execution_next_due_at() == at
    # scheduled work does not hold the target
    assert service.start(StartRequest("job", target="db1")).status is S.PENDING


def test_a_start_due_in_the_past_starts_now(service: ExecutionService, clock: ManualClock) -> None:
    ex = service.start(StartRequest("job", schedule=clock.now() - timedelta(seconds=1)))
    assert ex.status is S.PENDING
    assert ex.scheduled_for is None


def test_a_running_system_execution_refuses_or_queues_every_other_start(service: ExecutionService) -> None:
    sys_ex = service.start(StartRequest("sys"))
    assert sys_ex.status is S.PENDING
    with pytest.raises(ExistingRunningExecution) as info:
        service.start(StartRequest("job", target="db1"))
    assert "system" in info.value.message
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("job"))
    assert service.start(StartRequest("job", queue=True)).status is S.QUEUED
    assert service.start(StartRequest("job", target="db9", force=True)).status is S.PENDING


def test_a_system_start_waits_for_running_executions(service: ExecutionService) -> None:
    service.start(StartRequest("job"))
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("sys"))
    assert service.start(StartRequest("sys", queue=True)).status is S.QUEUED
    # and a queued system execution holds back every newcomer, even on a free target
    with pytest.raises(ExistingRunningExecution):
        service.start(StartRequest("job", target="free"))
    assert service.start(StartRequest("job", target="free", queue=True)).status is S.QUEUED


def test_workflows_registered_by_a_worker_can_be_started_by_name_alone(
    store: Store, app: App, clock: ManualClock
) -> None:
    store.workflow_upsert(app.all())
    assert store.workflow_list() == app.all()
    remote = ExecutionService(store, StoredCatalog(store.workflow_list), clock=clock)
    ex = remote.start(StartRequest("flaky", target="t"))
    assert (ex.status, ex.max_attempts) == (S.PENDING, 3)
    with pytest.raises(InvalidParameters):
        remote.start(StartRequest("job", {"n": "x"}))
