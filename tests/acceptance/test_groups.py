"""Targets and execution groups over real `conveyor serve` and `conveyor worker` processes, on both stores.

Concurrency is measured from the handlers' own timestamps: `acc.span` writes a
`span_start` and a `span_end` line (time.time()) to the spool around its work, so
"at most N at once" is what really ran at once, not what the server says.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import pytest

from conveyor.client import Client, ConflictError, ExecutionGroup, NotFoundError
from tests.acceptance.conftest import System
from tests.helpers import wait_until

Span = tuple[float, float]


@pytest.fixture
def grid(system: System) -> Iterator[tuple[System, Client]]:
    """An API server (with the background loop) and one worker process running 12 executions at once."""
    _, url = system.server()
    system.worker("--concurrency", "12")
    with Client(url) as client:
        yield system, client


def make_targets(client: Client, n: int, group: str = "fleet", **options: int) -> list[str]:
    names = [f"t{i:02d}" for i in range(n)]
    for name in names:
        client.targets.create(name, labels={"fleet": group}, **options)
    client.target_groups.create(group, labels={"fleet": group})
    return names


def spans(system: System) -> dict[str, Span]:
    """execution id -> (handler start, handler end) for every handler that ended."""
    starts = {line[0]: float(line[3]) for line in system.lines("span_start")}
    ends = {line[0]: float(line[3]) for line in system.lines("span_end")}
    return {eid: (start, ends[eid]) for eid, start in starts.items() if eid in ends}


def overlap_at(moment: float, intervals: Iterable[Span]) -> int:
    """How many handlers were running at `moment` (one that ended exactly then no longer counts)."""
    return sum(1 for start, end in intervals if start <= moment < end)


def max_overlap(intervals: Iterable[Span]) -> int:
    """The most handlers running at once: the overlap peaks at some interval's start."""
    every = list(intervals)
    return max((overlap_at(start, every) for start, _ in every), default=0)


def targets_of(*groups: ExecutionGroup) -> dict[str, str]:
    return {m.id: m.target or "" for g in groups for m in g.members(include="target")}


def ended(system: System, n: int) -> bool:
    return len(system.lines("span_end")) >= n


def test_a_group_of_20_runs_at_most_3_at_once_in_target_order(grid: tuple[System, Client]) -> None:
    system, client = grid
    names = make_targets(client, 20)
    group = client.execution_groups.start(
        "fleet", "acc.span", default_parameters={"seconds": 0.3}, concurrency=3
    )
    assert (group.total, group.status, group.counts) == (20, "pending", {"pending": 3, "queued": 17})

    group.wait(timeout=60, poll_interval=0.2)
    assert (group.status, group.counts, group.ended) == ("succeeded", {"succeeded": 20}, 20)
    ran = spans(system)
    assert len(ran) == 20
    assert max_overlap(ran.values()) == 3  # never more than the concurrency, and it was used

    by_target = targets_of(group)
    first_three = sorted(ran, key=lambda eid: ran[eid][0])[:3]
    assert sorted(by_target[eid] for eid in first_three) == names[:3]  # admitted in target-name order
    assert [by_target[eid] for eid in group.execution_ids] == names


def test_raising_the_concurrency_mid_way_runs_more_at_once(grid: tuple[System, Client]) -> None:
    system, client = grid
    make_targets(client, 20)
    group = client.execution_groups.start(
        "fleet", "acc.span", default_parameters={"seconds": 0.6}, concurrency=3
    )
    wait_until(lambda: ended(system, 4), timeout=30, interval=0.02, what="four members to end")
    changed_at = time.time()
    assert group.set_concurrency(6).concurrency == 6

    group.wait(timeout=60, poll_interval=0.2)
    assert group.counts == {"succeeded": 20}
    ran = list(spans(system).values())
    before = [overlap_at(start, ran) for start, _ in ran if start < changed_at]
    after = [overlap_at(start, ran) for start, _ in ran if start >= changed_at]
    assert max(before) <= 3
    assert 3 < max(after) <= 6


def test_cancel_mid_way_leaves_nothing_running_or_queued(grid: tuple[System, Client]) -> None:
    system, client = grid
    make_targets(client, 20)
    group = client.execution_groups.start(
        "fleet", "acc.span", default_parameters={"seconds": 0.8}, concurrency=3
    )
    wait_until(lambda: ended(system, 3) and len(system.lines("span_start")) >= 6, timeout=30, what="mid-way")

    group.cancel()
    assert not any(s in group.counts for s in ("queued", "pending")), group.counts  # waiting ones at once
    group.wait(timeout=20, poll_interval=0.1)
    assert group.status == "cancelled"
    assert set(group.counts) <= {"succeeded", "cancelled"}, group.counts
    succeeded = group.counts.get("succeeded", 0)
    assert group.counts["cancelled"] >= 20 - succeeded - 3 and succeeded + group.counts["cancelled"] == 20

    time.sleep(1.0)  # nothing starts afterwards, and every handler that started has ended
    starts, ends = system.lines("span_start"), system.lines("span_end")
    assert len(starts) == len(ends) <= succeeded + 3
    assert client.executions.count(group_id=group.id, status=["queued", "pending", "running"]) == 0


def test_success_and_failure_target_groups_collect_the_right_targets(grid: tuple[System, Client]) -> None:
    _, client = grid
    names = make_targets(client, 8)
    failing = {"t01", "t04", "t06"}
    client.target_groups.create("ok")
    client.target_groups.create("bad")
    group = client.execution_groups.start(
        "fleet",
        "acc.span",
        default_parameters={"seconds": 0.1},
        parameters={t: {"fail": True} for t in failing},
        concurrency=4,
    )
    group.set_target_group(success_group="ok", failed_group="bad")

    group.wait(timeout=60, poll_interval=0.2)
    assert (group.status, group.counts) == ("failed", {"failed": 3, "succeeded": 5})
    assert client.target_groups.get("ok").members == sorted(set(names) - failing)
    assert client.target_groups.get("bad").members == sorted(failing)
    failed = {m.target for m in group.members() if m.status == "failed"}
    assert failed == failing


def test_two_groups_sharing_targets_respect_each_targets_limit(grid: tuple[System, Client]) -> None:
    system, client = grid
    names = make_targets(client, 6)
    client.targets.update("t00", max_concurrent=2)
    client.target_groups.create("half", members=names[:4])
    params = {"seconds": 0.3}
    a = client.execution_groups.start("fleet", "acc.span", default_parameters=params, concurrency=6)
    b = client.execution_groups.start("half", "acc.span", default_parameters=params, concurrency=6)

    assert a.wait(timeout=60, poll_interval=0.2).counts == {"succeeded": 6}
    assert b.wait(timeout=60, poll_interval=0.2).counts == {"succeeded": 4}
    ran = spans(system)
    assert len(ran) == 10
    by_target = targets_of(a, b)
    limits = {t.name: t.max_concurrent for t in client.targets.list()}
    for name in names:
        on_it = [ran[eid] for eid, target in by_target.items() if target == name]
        assert max_overlap(on_it) <= limits[name], (name, on_it)
    assert max_overlap(ran.values()) > 1  # the groups did run side by side where targets allowed


def test_targets_through_the_api(grid: tuple[System, Client]) -> None:
    system, client = grid
    with pytest.raises(NotFoundError, match="ghost"):
        client.executions.start("acc.noop", target="ghost")  # unknown targets are refused by default

    client.targets.create("db1", labels={"role": "db"})
    client.targets.create("web1", labels={"role": "web"})
    assert [t.name for t in client.targets.list(labels={"role": "db"})] == ["db1"]
    client.schedules.create("acc.noop", rate="1h", target="db1")
    busy = client.executions.start("acc.span", target="db1", parameters={"seconds": 5})
    wait_until(lambda: system.lines("span_start"), timeout=15, what="the execution to run")
    with pytest.raises(ConflictError):
        client.targets.delete("db1")
    client.targets.delete("db1", force=True)
    assert list(client.schedules.list(target="db1")) == []  # its schedules went with it
    with pytest.raises(NotFoundError):
        client.targets.get("db1")
    busy.cancel(force=True)


def test_implicit_targets_when_the_server_is_told_so(system: System) -> None:
    system.env["CONVEYOR_IMPLICIT_TARGETS"] = "true"
    _, url = system.server(worker=True)
    with Client(url) as client:
        ex = client.executions.start("acc.noop", target="fresh")
        assert ex.wait(timeout=20).status == "succeeded"
        assert client.targets.get("fresh").max_concurrent == 1
