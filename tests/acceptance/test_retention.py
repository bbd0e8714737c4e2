"""Retention deletes finished executions when their time is up, and nothing else."""

from __future__ import annotations

from conveyor.client import Client, NotFoundError
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def test_retention_deletes_what_is_due_and_nothing_else(served: tuple[System, Client]) -> None:
    _, client = served
    short = client.executions.start("acc.short_retention")  # retention 0.5 s
    kept = client.executions.start("acc.noop")  # default retention: 7 days
    holding = client.executions.start("acc.hold", parameters={"seconds": 3})
    assert short.wait(timeout=20).status == "succeeded"
    assert kept.wait(timeout=20).status == "succeeded"
    assert short.expires_at is not None

    def short_is_gone() -> bool:
        try:
            client.executions.get(short.id)
        except NotFoundError:
            return True
        return False

    wait_until(short_is_gone, timeout=20, what="the short-retention execution to be deleted")
    assert client.executions.get(kept.id).status == "succeeded"
    assert client.executions.get(holding.id).status in ("running", "succeeded")
