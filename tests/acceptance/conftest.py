"""Whole-system fixtures: real `conveyor serve` and `conveyor worker` processes on a temp database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from conveyor.client import Client
from tests.databases import STORES, database
from tests.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
CONVEYOR = str(Path(sys.executable).parent / "conveyor")
APP = "tests.acceptance.workflows"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class System:
    """A database shared by any number of server and worker processes started by one test."""

    tmp: Path
    database_url: str
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def spool(self) -> Path:
        return Path(self.env["CONVEYOR_TEST_SPOOL"])

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(
            [CONVEYOR, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs.append(proc)
        return proc

    def server(
        self, *extra: str, worker: bool = False, port: int | None = None
    ) -> tuple[subprocess.Popen[bytes], str]:
        port = port or free_port()
        args = [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database",
            self.database_url,
            "--app",
            APP,
        ]
        if not worker:
            args.append("--no-worker")
        proc = self._spawn([*args, *extra], "server")
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}: {self.logs()}")
            try:
                return httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=30, interval=0.05, what="the server to answer /health")
        return proc, url

    def worker(self, *extra: str) -> subprocess.Popen[bytes]:
        return self._spawn(["worker", "--database", self.database_url, "--app", APP, *extra], "worker")

    def http_worker(self, url: str, *extra: str) -> subprocess.Popen[bytes]:
        """A worker that reaches work only through the server at `url` (no database access)."""
        return self._spawn(["worker", "--url", url, "--app", APP, *extra], "http-worker")

    def lines(self, kind: str) -> list[list[str]]:
        path = self.spool / f"{kind}.log"
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp.glob("*.log")
        )

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def system_env(tmp_path: Path, *, lease_seconds: float = 2) -> dict[str, str]:
    """The environment of the processes one test starts: its own spool, short ticks, this checkout."""
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {
        **os.environ,
        "CONVEYOR_TEST_SPOOL": str(spool),
        "CONVEYOR_LEASE_SECONDS": str(lease_seconds),
        "CONVEYOR_TICK_INTERVAL": "0.1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("CONVEYOR_URL", None)
    env.pop("CONVEYOR_TOKEN", None)
    return env


@pytest.fixture(params=STORES)
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[System]:
    """Runs each acceptance test once on SQLite and once on PostgreSQL."""
    env = system_env(tmp_path)
    with database(request.param, tmp_path, migrated=False) as url:
        sys_ = System(tmp_path, url, env)
        try:
            yield sys_
        finally:
            sys_.stop()


@pytest.fixture
def served(system: System) -> Iterator[tuple[System, Client]]:
    """One server running the API, the background loop and a worker in one process."""
    _, url = system.server(worker=True)
    with Client(url) as client:
        yield system, client
