"""What every scenario needs: a fresh database, processes, bulk loading and a little statistics."""

from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from conveyor.config import Settings
from conveyor.core.ids import new_id
from conveyor.core.model import Execution, ExecutionFilter, Status
from conveyor.server import Runtime, build
from conveyor.store import migrate, rows
from conveyor.store.sqlstore import INSERT_EXECUTION

ROOT = Path(__file__).resolve().parents[1]
CONVEYOR = str(Path(sys.executable).parent / "conveyor")
PG_URL = os.environ.get("CONVEYOR_BENCH_PG_URL", os.environ.get("CONVEYOR_TEST_PG_URL",
                        "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
APP = "bench.workflows"


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A migrated, empty Conveyor database of `kind`, dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp}/bench-{time.monotonic_ns()}.db"
        migrate.upgrade(url)
        yield url
        return
    with pg_schema() as url:
        migrate.upgrade(url)
        yield url


@contextmanager
def pg_schema() -> Iterator[str]:
    """An empty PostgreSQL schema of its own, and a URL whose connections use it."""
    schema = f"bench_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def runtime(url: str) -> Runtime:
    from bench.workflows import app

    return build(Settings(database_url=url), app=app)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen([CONVEYOR, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], what: str, timeout: float = 300.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not happen within {timeout:g} s")
        time.sleep(every)


def span(rt: Runtime, first: str, last: str, *, since: datetime | None = None) -> float:
    """Seconds between the earliest `first` and the latest `last` timestamp of succeeded executions
    (created after `since`, when given)."""
    lo, hi = None, None
    cursor = None
    flt = ExecutionFilter(statuses=(Status.SUCCEEDED,), created_after=since)
    while True:
        page = rt.service.list(flt, limit=1000, cursor=cursor)
        for e in page.items:
            a, b = getattr(e, first), getattr(e, last)
            lo = a if lo is None or a < lo else lo
            hi = b if hi is None or b > hi else hi
        cursor = page.next_cursor
        if cursor is None:
            break
    assert lo is not None and hi is not None
    return (hi - lo).total_seconds()


def fill(kind: str, url: str, total: int, pending: int) -> None:
    """`total` executions: `pending` claimable, the rest succeeded, written in bulk (created a day
    ago, so a drain measured afterwards can tell its own executions by their creation time)."""
    now = datetime.now(UTC) - timedelta(days=1)
    base = Execution(id="", workflow="bench.noop", status=Status.SUCCEEDED, created_at=now, ended_at=now,
                     retention=3600.0)  # fmt: skip

    def batch(k: int, status: Status) -> list[tuple[Any, ...]]:
        return [rows.execution_to_row(base.evolve(id=new_id(), status=status)) for _ in range(k)]

    chunk = 50_000
    if kind == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        for i in range(0, total, chunk):
            k = min(chunk, total - i)
            status = Status.PENDING if i + k > total - pending else Status.SUCCEEDED
            conn.execute("BEGIN")
            conn.executemany(INSERT_EXECUTION, batch(k, status))
            conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.close()
    else:
        columns = ", ".join(f'"{c}"' for c in rows.COLUMNS)
        with psycopg.connect(url, autocommit=True) as conn:
            for i in range(0, total, chunk):
                k = min(chunk, total - i)
                status = Status.PENDING if i + k > total - pending else Status.SUCCEEDED
                with conn.cursor() as cur, cur.copy(f"COPY executions ({columns}) FROM STDIN") as copy:
                    for row in batch(k, status):
                        copy.write_row(row)
            conn.execute("VACUUM ANALYZE executions")
    rt = runtime(url)
    rt.store.execution_counts_fold()  # as the background loop would
    rt.store.close()


def timed_ms(call: Callable[[], object], samples: int = 20) -> float:
    """Median milliseconds of `call`, after one warm-up call."""
    call()
    took = []
    for _ in range(samples):
        t0 = time.perf_counter()
        call()
        took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took)
