"""Three servers' background loops on one database fire a 1-second rate exactly once per tick."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

from conveyor.core.catalog import StoredCatalog
from conveyor.core.executions import ExecutionService
from conveyor.core.model import ExecutionFilter
from conveyor.core.schedules import ScheduleRequest, ScheduleService
from conveyor.core.triggers import parse_trigger
from conveyor.store import open_store
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def test_three_background_loops_fire_a_rate_schedule_once_per_occurrence(system: System) -> None:
    for _ in range(3):
        system.server()  # each runs the background loop; no worker anywhere: executions stay pending
    store = open_store(system.database_url)
    try:
        service = ExecutionService(store, StoredCatalog(store.workflow_list))
        schedules = ScheduleService(service)
        wait_until(lambda: service.catalog.get("acc.noop"), what="the servers to register workflows")
        s = schedules.create(ScheduleRequest("acc.noop", parse_trigger("rate", "1")))
        wait_until(lambda: schedules.get(s.id).fire_count >= 10, timeout=30, interval=0.05, what="ten fires")
        schedules.set_enabled(s.id, False)
        stopped = schedules.get(s.id)
        fires = service.list(ExecutionFilter(workflows=("acc.noop",)), sort=["created_at"], limit=100).items
        # Every fire made one execution, and no occurrence was fired twice.
        assert len(fires) == stopped.fire_count
        created = [e.created_at for e in fires]
        gaps = [(b - a).total_seconds() for a, b in pairwise(created)]
        assert all(g > 0.5 for g in gaps), f"two fires of one occurrence: {gaps}"
        # All occurrences up to the disable were fired (the last may be in flight at the moment of disabling).
        elapsed = (stopped.updated_at - s.created_at) if stopped.updated_at else timedelta(0)
        expected = int(elapsed.total_seconds())
        assert expected - 1 <= len(fires) <= expected
    finally:
        store.close()
