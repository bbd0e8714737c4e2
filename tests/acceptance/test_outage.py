"""A PostgreSQL outage: calls answer 503 within 2 s instead of hanging, and nothing accepted is lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.acceptance.conftest import System, system_env
from tests.acceptance.tcp_proxy import TcpProxy
from tests.databases import pg_schema
from tests.helpers import wait_until


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"))


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[tuple[System, TcpProxy, str]]:
    """A server (with its worker) whose only way to PostgreSQL is a proxy the test can cut."""
    with pg_schema() as direct:
        parts = urlsplit(direct)
        proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
        # The default lease: an outage of a few seconds is well within it, as it is for users.
        env = system_env(tmp_path, lease_seconds=30)
        system = System(tmp_path, through(proxy, direct), env)
        try:
            _, url = system.server(worker=True)
            yield system, proxy, url
        finally:
            system.stop()
            proxy.close()


def timed(call: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    answer = call.request(method, path, **kwargs)  # type: ignore[arg-type]
    return answer, time.monotonic() - began


@pytest.mark.postgres
def test_calls_answer_503_during_an_outage_and_everything_accepted_finishes(
    outage: tuple[System, TcpProxy, str],
) -> None:
    _, proxy, url = outage
    with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
        before = [
            http.post("/executions", json={"workflow": "acc.hold", "parameters": {"seconds": 1}}).json()["id"]
            for _ in range(3)
        ]
        assert http.get("/ready").status_code == 200

        proxy.cut()
        answer, took = timed(http, "POST", "/executions", json={"workflow": "acc.noop"})
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert answer.headers["Retry-After"].isdigit()
        assert took < 2.0, f"the start took {took:.1f} s to say the database is unavailable"

        for path in ("/executions", "/ready", "/schedules"):
            answer, took = timed(http, "GET", path)
            assert (answer.status_code, answer.json()["error"]["code"]) == (503, "database_unavailable"), path
            assert took < 2.0, f"GET {path} took {took:.1f} s"
        assert http.get("/health").status_code == 200  # the process is alive: no restart needed

        proxy.restore()
        wait_until(lambda: http.get("/ready").status_code == 200, timeout=30, what="the server to be ready")
        after = [http.post("/executions", json={"workflow": "acc.noop"}).json()["id"] for _ in range(5)]

        def all_succeeded() -> bool:
            statuses = [http.get(f"/executions/{i}").json()["status"] for i in before + after]
            return all(s == "succeeded" for s in statuses)

        wait_until(all_succeeded, timeout=60, interval=0.2, what="every accepted execution to succeed")
        assert http.get("/executions/count").json()["count"] == len(before) + len(after)
