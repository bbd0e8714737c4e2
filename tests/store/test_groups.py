"""Targets, target groups and execution groups through the services, on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conveyor.core import states
from conveyor.core.clock import ManualClock
from conveyor.core.errors import Conflict, InvalidRequest, NotFound
from conveyor.core.executions import ExecutionService, ServiceSettings, StartRequest
from conveyor.core.groups import ExecutionGroupService, group_status
from conveyor.core.model import ErrorInfo, ExecutionFilter, Status
from conveyor.core.ports import Store
from conveyor.core.targets import TargetService


@pytest.fixture
def targets(store: Store, clock: ManualClock) -> TargetService:
    return TargetService(store, clock)


@pytest.fixture
def groups(service: ExecutionService, targets: TargetService) -> ExecutionGroupService:
    return ExecutionGroupService(service, targets)


def web(targets: TargetService, n: int, limit: int = 1) -> list[str]:
    names = [f"web{i:02d}" for i in range(n)]
    for name in names:
        targets.create(
            name, max_concurrent=limit, labels={"role": "web", "zone": "a" if int(name[3:]) % 2 else "b"}
        )
    targets.create_group("web", members=names)
    return names


def active(store: Store, group_id: str) -> list[str]:
    return [
        e.target or ""
        for e in store.execution_list(
            ExecutionFilter(group_id=group_id), sort=["id"], limit=1000, cursor=None
        ).items
        if e.status.is_active
    ]  # fmt: skip


def finish_running(store: Store, clock: ManualClock, status: Status = Status.SUCCEEDED) -> int:
    now = clock.now()
    got = store.execution_claim("w", ["default"], 100, now=now, lease_until=now + timedelta(minutes=5))
    if status is Status.SUCCEEDED:
        event: states.Event = states.Succeed(now)
    else:
        event = states.Fail(now, ErrorInfo("E", "x"), retryable=False)
    store.execution_finish([(e.id, "w", lambda x, ev=event: states.transition(x, ev)) for e in got], now=now)  # type: ignore[misc]
    return len(got)


def test_targets_crud_and_label_filters(targets: TargetService) -> None:
    web(targets, 4)
    assert [t.name for t in targets.list(labels={"zone": "a"})] == ["web01", "web03"]
    assert targets.update("web01", max_concurrent=3).max_concurrent == 3
    with pytest.raises(Conflict):
        targets.create("web01")
    with pytest.raises(InvalidRequest):
        targets.create("bad name!")
    with pytest.raises(NotFound):
        targets.get("nope")


def test_group_runs_at_most_its_concurrency(
    store: Store, groups: ExecutionGroupService, targets: TargetService, clock: ManualClock
) -> None:
    web(targets, 10)
    g = groups.start("web", "job", concurrency=3)
    assert len(active(store, g.id)) == 3 and groups.status(g.id) == "pending"
    done = 0
    while done < 10:
        n = finish_running(store, clock)
        assert n <= 3
        done += n
        assert len(active(store, g.id)) <= 3
    assert groups.status(g.id) == "succeeded"


def test_set_concurrency_admits_more_at_once(
    store: Store, groups: ExecutionGroupService, targets: TargetService
) -> None:
    web(targets, 10)
    g = groups.start("web", "job", concurrency=2)
    assert len(active(store, g.id)) == 2
    groups.set_concurrency(g.id, 6)
    assert len(active(store, g.id)) == 6


def test_cancel_leaves_nothing_running_or_queued(
    store: Store, groups: ExecutionGroupService, targets: TargetService, clock: ManualClock
) -> None:
    web(targets, 8)
    g = groups.start("web", "job", concurrency=3)
    finish_running(store, clock)
    groups.cancel(g.id, force=True)
    statuses = {e.status for e in groups.members(g.id)}
    assert statuses <= {Status.SUCCEEDED, Status.CANCELLED}
    assert groups.status(g.id) == "cancelled"


def test_success_and_failure_target_groups(
    store: Store, groups: ExecutionGroupService, targets: TargetService, clock: ManualClock
) -> None:
    names = web(targets, 4)
    targets.create_group("ok")
    targets.create_group("bad")
    g = groups.start("web", "job", concurrency=2)
    finish_running(store, clock, Status.SUCCEEDED)  # web00, web01
    groups.set_target_group(g.id, success_group="ok", failed_group="bad")  # backfills the two
    finish_running(store, clock, Status.FAILED)  # web02, web03
    assert targets.get_group("ok").members == tuple(names[:2])
    assert targets.get_group("bad").members == tuple(names[2:])
    assert groups.status(g.id) == "failed"


def test_two_groups_sharing_targets_respect_max_concurrent(
    store: Store, groups: ExecutionGroupService, targets: TargetService
) -> None:
    web(targets, 4)
    a = groups.start("web", "job", concurrency=4)
    b = groups.start("web", "job", concurrency=4)
    assert len(active(store, a.id)) == 4 and active(store, b.id) == []  # each target runs one at a time


def test_unknown_target_is_refused_unless_implicit(
    store: Store, service: ExecutionService, targets: TargetService
) -> None:
    strict = ExecutionService(
        store, service.catalog, clock=service.clock, settings=ServiceSettings(implicit_targets=False)
    )  # fmt: skip
    with pytest.raises(NotFound) as refused:
        strict.start(StartRequest("job", target="ghost"))
    assert "ghost" in refused.value.message
    service.start(StartRequest("job", target="ghost"))  # implicit: created on first use
    assert targets.get("ghost").max_concurrent == 1


def test_deleting_a_busy_target_is_refused_unless_forced(
    service: ExecutionService, targets: TargetService
) -> None:
    targets.create("db1")
    service.start(StartRequest("job", target="db1"))
    with pytest.raises(Conflict):
        targets.delete("db1")
    targets.delete("db1", force=True)
    with pytest.raises(NotFound):
        targets.get("db1")


def test_group_status_rules() -> None:
    S = Status
    assert group_status([S.QUEUED, S.PENDING]) == "pending"
    assert group_status([S.RUNNING, S.QUEUED]) == "started"
    assert group_status([S.SUCCEEDED, S.QUEUED]) == "started"
    assert group_status([S.SUCCEEDED, S.FAILED, S.CANCELLED]) == "failed"
    assert group_status([S.SUCCEEDED, S.CANCELLED]) == "cancelled"
    assert group_status([S.SUCCEEDED]) == "succeeded"
    assert group_status([]) == "succeeded"
