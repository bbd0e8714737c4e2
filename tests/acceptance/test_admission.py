"""Admission through the API: one execution per target at a time, the rest refused or queued.

The server refuses executions on targets nobody created (implicit targets are off by default),
so each test creates its targets first.
"""

from __future__ import annotations

import pytest

from conveyor.client import Client, ConflictError
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def test_second_start_on_a_busy_target_is_refused_or_queued_and_then_runs(
    served: tuple[System, Client],
) -> None:
    system, client = served
    client.targets.create("db1")
    client.targets.create("db2")
    first = client.executions.start("acc.hold", target="db1", parameters={"seconds": 1.0})
    assert first.status in ("pending", "running")

    with pytest.raises(ConflictError) as refused:
        client.executions.start("acc.hold", target="db1", parameters={"seconds": 0.1})
    assert refused.value.code == "existing_running_execution"
    assert client.executions.count(target="db1") == 1  # the refused start stored nothing

    second = client.executions.start("acc.hold", target="db1", parameters={"seconds": 0.1}, queue=True)
    assert second.status == "queued"
    other_target = client.executions.start("acc.hold", target="db2", parameters={"seconds": 0.1})
    assert other_target.status in ("pending", "running")

    assert first.wait(timeout=20).status == "succeeded"
    assert second.wait(timeout=20).status == "succeeded"
    by_id = {e[0]: float(e[3]) for e in system.lines("started")}
    ended = {e[0]: float(e[3]) for e in system.lines("finished")}
    assert by_id[second.id] >= ended[first.id]  # the queued one started only after the first ended


def test_force_skips_admission(served: tuple[System, Client]) -> None:
    _, client = served
    client.targets.create("db1")
    client.executions.start("acc.hold", target="db1", parameters={"seconds": 1.0})
    forced = client.executions.start("acc.hold", target="db1", parameters={"seconds": 0.1}, force=True)
    assert forced.status in ("pending", "running")
    wait_until(
        lambda: client.executions.count(target="db1", status="running") == 2, what="both running at once"
    )
