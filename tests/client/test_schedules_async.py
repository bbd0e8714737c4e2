"""`async_client.schedules`: the async twin of `client.schedules`, against the real API server."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from conveyor.client import AsyncClient, AsyncSchedule, InvalidTriggerError, NotFoundError

from .live import Live


async def test_create_get_update_and_switch(aclient: AsyncClient) -> None:
    s = await aclient.schedules.create(
        "demo.count", cron="0 9 * * 1-5", timezone="Europe/Berlin", parameters={"n": 1}
    )
    assert isinstance(s, AsyncSchedule)
    assert s.trigger_description == "cron '0 9 * * 1-5' (Europe/Berlin)"
    times = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in s.next_fire_times]
    assert len(times) == 3 and all((t.hour, t.minute) == (9, 0) and t.weekday() < 5 for t in times)
    assert await aclient.schedules.get(s.id) == s

    changed = await aclient.schedules.update(s.id, rate=timedelta(hours=2), description="x")
    assert (changed.trigger_text, changed.description) == ("rate:7200", "x")
    assert await s.disable() is s and s.enabled is False
    assert (await s.enable()).enabled is True
    assert (await s.update(priority=3)).priority == 3
    assert (await s.refresh()).trigger_text == "rate:7200"
    assert (await aclient.schedules.disable(s.id)).enabled is False
    assert (await aclient.schedules.enable(s.id)).enabled is True


async def test_refusals(aclient: AsyncClient) -> None:
    with pytest.raises(ValueError, match="exactly one trigger"):
        await aclient.schedules.create("demo.count")
    with pytest.raises(InvalidTriggerError, match="invalid cron expression"):
        await aclient.schedules.create("demo.count", cron="61 * * * *")
    with pytest.raises(NotFoundError) as unknown:
        await aclient.schedules.create("nope", oninit=True)
    assert unknown.value.code == "unknown_workflow"
    with pytest.raises(NotFoundError):
        await aclient.schedules.get("nope")
    assert await aclient.schedules.list().to_list() == []


async def test_list_delete_and_unschedule_all(aclient: AsyncClient, live: Live) -> None:
    made = [await aclient.schedules.create("demo.backup", rate="1h") for _ in range(5)]
    ids = [s.id for s in made]
    assert [s.id async for s in aclient.schedules.list(page_size=2)] == ids
    assert live.log.count("GET", "/api/v1/schedules") == 3
    assert [s.id for s in await aclient.schedules.list(limit=2).to_list()] == ids[:2]
    first = await aclient.schedules.list().first()
    assert first is not None and first.id == ids[0]

    assert await aclient.schedules.unschedule_all() == 5
    assert await aclient.schedules.reschedule_all() == 5

    with pytest.raises(NotFoundError):
        await aclient.schedules.delete(ids[0], "nope")
    assert await aclient.schedules.delete(*ids[:4]) == 4
    await made[4].delete()
    assert await aclient.schedules.list().to_list() == []
