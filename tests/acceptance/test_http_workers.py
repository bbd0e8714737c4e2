"""Workers over HTTP, as separate processes: they drain beside database workers, each execution
exactly once; one killed mid-way loses nothing; and they live through the server going away."""

from __future__ import annotations

import signal
import time
from collections import Counter

from conveyor.client import Client
from tests.acceptance.conftest import System, free_port
from tests.acceptance.test_many_processes import start_through, succeeded
from tests.helpers import wait_until


def test_two_http_workers_and_a_database_worker_run_5000_executions_exactly_once(system: System) -> None:
    _, url = system.server()
    http_workers = [system.http_worker(url, "--concurrency", "16") for _ in range(2)]
    system.worker("--concurrency", "16")
    with Client(url) as client:
        wait_until(lambda: len(client.workers.list()) == 3, timeout=30, what="three workers registered")
        ids = start_through([client], "acc.effect", 5000)
        wait_until(
            lambda: succeeded(client, "acc.effect") == 5000, timeout=180, interval=0.5, what="all done"
        )
        listed = {w["transport"]: w for w in client.workers.list()}
        assert set(listed) == {"http", "database"}
        assert all(w["state"] == "alive" for w in client.workers.list())
    effects = Counter(line[0] for line in system.lines("effect"))
    assert set(effects) == set(ids)
    assert set(effects.values()) == {1}
    pids = {line[2] for line in system.lines("effect")}
    assert {str(p.pid) for p in http_workers} <= pids  # both HTTP workers took part
    assert len(pids) == 3


def test_kill_9_of_an_http_worker_mid_way_loses_nothing(system: System) -> None:
    _, url = system.server()
    victim = system.http_worker(url, "--concurrency", "8")
    system.http_worker(url, "--concurrency", "8")
    with Client(url) as client:
        ids = start_through([client], "acc.work", 1000, chunk=250)
        wait_until(lambda: succeeded(client, "acc.work") >= 200, timeout=60, what="a fifth done")
        victim.send_signal(signal.SIGKILL)
        wait_until(lambda: succeeded(client, "acc.work") == 1000, timeout=120, interval=0.5, what="all done")
        assert client.executions.count(workflow="acc.work") == len(ids)
        wait_until(lambda: sorted(w["state"] for w in client.workers.list()) == ["alive", "lost"], timeout=30,
                   what="the killed worker shown lost, the other alive")  # fmt: skip


def test_http_workers_keep_their_finished_results_through_a_server_outage(system: System) -> None:
    system.env["CONVEYOR_LEASE_SECONDS"] = "60"  # leases outlast the outage, so nothing is reaped
    port = free_port()
    server, url = system.server(port=port)
    for _ in range(2):
        system.http_worker(url, "--concurrency", "8")
    with Client(url) as client:
        ids = start_through([client], "acc.effect", 600, chunk=300)
        wait_until(lambda: succeeded(client, "acc.effect") >= 50, timeout=60, what="some done")
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)
    time.sleep(10)  # the outage itself: nothing to wait for but time
    _, url = system.server(port=port)
    with Client(url) as client:
        wait_until(lambda: succeeded(client, "acc.effect") == 600, timeout=120, interval=0.5, what="all done")
    effects = Counter(line[0] for line in system.lines("effect"))
    assert set(effects) == set(ids)
    assert set(effects.values()) == {1}  # finished work was reported after the outage, not run again
