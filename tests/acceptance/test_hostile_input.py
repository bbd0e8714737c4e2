"""Requests an attacker or an unlucky operator sends: none may stall the server or poison a list."""

from __future__ import annotations

import threading
import time

import httpx

from conveyor.client import Client
from tests.acceptance.conftest import System


def test_a_pathological_ontap_wildcard_never_holds_the_server(system: System) -> None:
    _, base = system.server(worker=True)
    with Client(base) as client:
        for _ in range(5):
            client.executions.start("acc.noop")
    # A regular expression built from this pattern backtracks exponentially on every uuid.
    stars = "*" * 30 + "z"
    answers: list[httpx.Response] = []

    def hostile() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            answers.append(http.get("/api/cluster/jobs", params={"uuid": stars, "fields": "uuid"}))

    with httpx.Client(base_url=base, timeout=5) as http:
        assert http.get("/api/v1/health").status_code == 200  # a warm connection: time the server only
        thread = threading.Thread(target=hostile)
        began = time.monotonic()
        thread.start()
        timings = []
        for _ in range(10):
            asked = time.monotonic()
            assert http.get("/api/v1/health").status_code == 200
            timings.append(time.monotonic() - asked)
    thread.join(timeout=30)
    slowest = sorted(timings)[-2]  # one stray scheduling hiccup on a shared machine is not the server
    assert answers, "the wildcard query never answered"
    assert answers[0].status_code == 200
    assert answers[0].json()["num_records"] == 0
    assert time.monotonic() - began < 5, "the wildcard query took seconds"
    assert slowest < 0.1, f"/health took {slowest * 1000:.0f} ms while the wildcard query ran"
