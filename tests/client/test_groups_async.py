"""The async twins of `targets`, `target_groups` and `execution_groups`, against the real API server."""

from __future__ import annotations

import asyncio

import pytest

from conveyor.client import (
    AsyncClient,
    AsyncExecutionGroup,
    AsyncTarget,
    AsyncTargetGroup,
    ConflictError,
    GroupWaitTimeout,
    NotFoundError,
)

from .live import Live


async def test_targets_and_target_groups(aclient: AsyncClient) -> None:
    t = await aclient.targets.create("web1", labels={"role": "web"}, max_concurrent=2)
    assert isinstance(t, AsyncTarget) and (t.name, t.max_concurrent) == ("web1", 2)
    await aclient.targets.create("db1", labels={"role": "db"})
    assert [x.name for x in await aclient.targets.list(labels=["role:web"])] == ["web1"]
    assert (await t.update(labels={"role": "web", "zone": "a"})).labels == {"role": "web", "zone": "a"}
    assert (await aclient.targets.update("web1", max_concurrent=1)).max_concurrent == 1
    assert (await t.refresh()).max_concurrent == 1
    with pytest.raises(ConflictError):
        await aclient.targets.create("db1")

    g = await aclient.target_groups.create("all", labels={"role": "*"})
    assert isinstance(g, AsyncTargetGroup) and g.members == ["db1", "web1"]
    assert (await g.remove("db1")).members == ["web1"]
    assert (await g.add(labels={"role": "db"})).members == ["db1", "web1"]
    assert (await aclient.target_groups.remove("all", labels="role:web")).members == ["db1"]
    assert [(x.name, x.member_count) for x in await aclient.target_groups.list()] == [("all", 1)]
    assert (await g.refresh()).members == ["db1"]
    await g.delete()
    with pytest.raises(NotFoundError):
        await aclient.target_groups.get("all")
    await t.delete()
    assert [x.name for x in await aclient.targets.list()] == ["db1"]


async def test_execution_groups(aclient: AsyncClient, live: Live) -> None:
    for i in range(3):
        await aclient.targets.create(f"web{i}")
    await aclient.target_groups.create("web", members=["web0", "web1", "web2"])
    await aclient.target_groups.create("ok")
    g = await aclient.execution_groups.start("web", "demo.count", default_parameters={"n": 2}, concurrency=1)
    assert isinstance(g, AsyncExecutionGroup)
    assert (g.status, g.counts) == ("pending", {"pending": 1, "queued": 2})
    assert [m.target for m in await g.members()] == ["web0", "web1", "web2"]
    assert (await g.set_concurrency(2)).counts == {"pending": 2, "queued": 1}
    assert (await g.set_target_group(success_group="ok")).success_group == "ok"
    assert await aclient.execution_groups.get(g.id) == g
    assert [x.id for x in await aclient.execution_groups.list(target_group="web")] == [g.id]
    assert [d["id"] async for d in aclient.execution_groups.dump()] == [g.id]

    with pytest.raises(GroupWaitTimeout):
        await g.wait(timeout=0.1, poll_interval=0.05)
    for eid in g.execution_ids[:2]:
        await asyncio.to_thread(live.run, eid)
    updates: list[int] = []

    async def on_update(group: AsyncExecutionGroup) -> None:
        updates.append(group.ended)

    waiting = asyncio.create_task(g.wait(timeout=10, poll_interval=0.05, on_update=on_update))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # web2 has not run yet
    await asyncio.to_thread(live.run, g.execution_ids[2])
    assert await waiting is g
    assert (g.status, g.counts, updates[-1]) == ("succeeded", {"succeeded": 3}, 3)
    assert (await aclient.target_groups.get("ok")).members == ["web0", "web1", "web2"]

    other = await aclient.execution_groups.start("web", "demo.count")
    assert (await other.cancel()).status == "cancelled"
    assert (await aclient.execution_groups.cancel(other.id, force=True)).counts == {"cancelled": 3}
