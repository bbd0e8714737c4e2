"""Several servers and workers as separate processes on one database.

Two API servers (each with its background loop) and three workers share the
database: every execution started through either server runs, exactly once
when nothing crashes; kill -9 of a worker and of a server in the middle loses
nothing, and only work the dead worker held runs again, after its lease.
"""

from __future__ import annotations

import signal
from collections import Counter, defaultdict

from conveyor.client import Client
from tests.acceptance.conftest import System
from tests.helpers import wait_until


def start_through(clients: list[Client], workflow: str, total: int, chunk: int = 500) -> list[str]:
    ids: list[str] = []
    for i in range(0, total, chunk):
        client = clients[(i // chunk) % len(clients)]
        batch = client.executions.start_many([{"workflow": workflow} for _ in range(min(chunk, total - i))])
        ids.extend(e.id for e in batch)
    return ids


def succeeded(client: Client, workflow: str) -> int:
    return client.executions.count(workflow=workflow, status="succeeded")


def test_5000_executions_through_two_servers_run_exactly_once(system: System) -> None:
    _, url_a = system.server()
    _, url_b = system.server()
    for _ in range(3):
        system.worker("--concurrency", "16")
    with Client(url_a) as a, Client(url_b) as b:
        ids = start_through([a, b], "acc.effect", 5000)
        assert len(set(ids)) == 5000
        wait_until(
            lambda: succeeded(a, "acc.effect") == 5000, timeout=180, interval=0.5, what="all 5000 done"
        )
        assert b.executions.count(workflow="acc.effect") == 5000
    effects = Counter(line[0] for line in system.lines("effect"))
    assert set(effects) == set(ids)
    assert set(effects.values()) == {1}  # each handler ran once: no execution was claimed twice
    assert len({line[2] for line in system.lines("effect")}) == 3  # all three workers took part


def test_kill_9_of_a_worker_and_a_server_mid_way_loses_nothing(system: System) -> None:
    server_a, url_a = system.server()
    _, url_b = system.server()
    victim = system.worker("--concurrency", "8")
    for _ in range(2):
        system.worker("--concurrency", "8")
    with Client(url_a) as a, Client(url_b) as b:
        ids = start_through([a, b], "acc.work", 1500, chunk=250)
        wait_until(lambda: succeeded(b, "acc.work") >= 300, timeout=60, what="a fifth done")
        victim.send_signal(signal.SIGKILL)
        server_a.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        server_a.wait(timeout=10)
        ids += start_through([b], "acc.work", 500, chunk=250)  # the surviving server still takes work
        wait_until(lambda: succeeded(b, "acc.work") == 2000, timeout=180, interval=0.5, what="all 2000 done")

        started: dict[str, list[int]] = defaultdict(list)
        for ex_id, _, pid, _ in system.lines("started"):
            started[ex_id].append(int(pid))
        finished = Counter(line[0] for line in system.lines("finished"))
        assert set(finished) == set(ids)  # nothing lost
        again = {ex_id for ex_id, pids in started.items() if len(pids) > 1}
        # Only what the killed worker held ran again, and only after its lease ran out.
        assert all(pids[0] == victim.pid for ex_id, pids in started.items() if ex_id in again)
        for ex_id in again:
            statuses = [e["data"]["to"] for e in b.executions.events(ex_id) if e["kind"] == "status"]
            assert statuses.count("running") == len(started[ex_id])
            assert "queued" in statuses[statuses.index("running") :]  # requeued by lease expiry between runs
