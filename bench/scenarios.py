"""The scenarios of `make bench`, each run on a fresh database of the store asked for.

- throughput: bulk-start N no-op executions, then worker processes at their defaults drain them;
  the drain rate is N over first claim -> last completion, from the executions' own timestamps;
- latency: `conveyor serve` (with its in-process worker), idle; a client starts one execution at a
  time over HTTP and waits for it; start->done is ended_at - created_at as the server recorded them;
- claim: the table holds 1,000,000 executions; one process claims and completes B at a time straight
  on the store, as a worker does; then the kept counts are read, and one count by status is made;
- http: the throughput scenario with workers that reach work over HTTP (`conveyor worker --url`)
  through one `conveyor serve --no-worker`, instead of opening the database;
- startup: seconds from starting `conveyor worker` to its first claim of a waiting execution;
- scale: the drain and the first page of a list, on tables of 10 k and 1 M finished executions
  (10 M with --full); each figure also as a ratio to the smallest table.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.support import APP, database, fill, free_port, runtime, span, spawn, stop, timed_ms, wait_until
from conveyor.core import states
from conveyor.core.executions import StartRequest
from conveyor.core.model import ExecutionFilter, Status


def _workers(url: str, n: int, concurrency: int | None, log: Path) -> list[Any]:
    extra = ["--concurrency", str(concurrency)] if concurrency else []  # None: the default users get
    return [
        spawn(["worker", "--database", url, "--app", APP, *extra], dict(os.environ), log) for _ in range(n)
    ]


def _drain(url: str, n: int, workers: int, concurrency: int | None, log: Path) -> tuple[float, float]:
    """Start n executions in bulk, let worker processes run them: (started, drained) per second."""
    rt = runtime(url)
    since = datetime.now(UTC) - timedelta(seconds=1)
    t0 = time.perf_counter()
    for i in range(0, n, 1000):
        rt.service.start_many([StartRequest("bench.noop") for _ in range(min(1000, n - i))])
    start_rate = n / (time.perf_counter() - t0)
    procs = _workers(url, workers, concurrency, log)
    try:
        flt = ExecutionFilter(statuses=(Status.SUCCEEDED,), created_after=since)
        wait_until(lambda: rt.service.count(flt) >= n, f"{n} executions finishing")
    finally:
        stop(procs)
    rate = n / span(rt, "started_at", "ended_at", since=since)
    rt.store.close()
    return start_rate, rate


def throughput(kind: str, tmp: Path, n: int, workers: int, concurrency: int | None) -> dict[str, Any]:
    with database(kind, tmp) as url:
        start_rate, drain = _drain(url, n, workers, concurrency, tmp / f"worker-{kind}.log")
    return {"n": n, "workers": workers, "concurrency": concurrency or "default", "start_per_s": start_rate,
            "drain_per_s": drain}  # fmt: skip


def http_throughput(kind: str, tmp: Path, n: int, workers: int) -> dict[str, Any]:
    with database(kind, tmp) as url:
        port = free_port()
        server = spawn(["serve", "--port", str(port), "--database", url, "--app", APP, "--no-worker"],
                       dict(os.environ), tmp / "serve-http.log")  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for_server(base)
            rt = runtime(url)
            since = datetime.now(UTC) - timedelta(seconds=1)
            for i in range(0, n, 1000):
                rt.service.start_many([StartRequest("bench.noop") for _ in range(min(1000, n - i))])
            procs = [spawn(["worker", "--url", base, "--app", APP], dict(os.environ), tmp / "http-worker.log")
                     for _ in range(workers)]  # fmt: skip
            try:
                flt = ExecutionFilter(statuses=(Status.SUCCEEDED,), created_after=since)
                wait_until(lambda: rt.service.count(flt) >= n, f"{n} executions finishing over HTTP")
            finally:
                stop(procs)
            drain = n / span(rt, "started_at", "ended_at", since=since)
            rt.store.close()
        finally:
            stop([server])
    return {"n": n, "workers": workers, "drain_per_s": drain}


def _wait_for_server(base: str) -> None:
    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, "the server answering", timeout=60, every=0.05)


def latency(kind: str, tmp: Path, samples: int) -> dict[str, Any]:
    with database(kind, tmp) as url:
        port = free_port()
        server = spawn(["serve", "--port", str(port), "--database", url, "--app", APP], dict(os.environ),
                       tmp / "serve.log")  # fmt: skip
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10) as http:

                def up() -> bool:
                    try:
                        return http.get("/health").status_code == 200
                    except httpx.HTTPError:
                        return False

                wait_until(up, "the server answering", timeout=60, every=0.05)
                lat: list[float] = []
                for i in range(samples + 20):
                    ex = http.post("/executions", json={"workflow": "bench.noop"}).json()
                    while ex["status"] != "succeeded":
                        ex = http.get(f"/executions/{ex['id']}").json()
                    if i >= 20:  # the first ones warm caches and prepared statements
                        created = datetime.fromisoformat(ex["created_at"])
                        ended = datetime.fromisoformat(ex["ended_at"])
                        lat.append((ended - created).total_seconds() * 1000)
        finally:
            stop([server])
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return {"samples": samples, "p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "max_ms": max(lat)}


def claim(kind: str, tmp: Path, total: int, batch_sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": total}
    per_batch = 20_000
    with database(kind, tmp) as url:
        t0 = time.perf_counter()
        fill(kind, url, total, per_batch * len(batch_sizes))
        out["fill_s"] = time.perf_counter() - t0
        rt = runtime(url)
        store, clock = rt.store, rt.service.clock
        for b in batch_sizes:
            done = 0
            t0 = time.perf_counter()
            while done < per_batch:
                now = clock.now()
                got = store.execution_claim(
                    "bench", ["default"], b, now=now, lease_until=now + timedelta(seconds=30)
                )
                if not got:
                    break
                step = _succeed_at(now)
                store.execution_finish(
                    [(e.id, "bench", step) for e in got], now=now, held={e.id: e for e in got}
                )
                done += len(got)
            out[f"claim_complete_b{b}_per_s"] = done / (time.perf_counter() - t0)
        store.execution_counts_fold()
        out["counts_ms"] = timed_ms(rt.service.counts)
        out["count_by_status_ms"] = timed_ms(
            lambda: rt.service.count(ExecutionFilter(statuses=(Status.FAILED,)))
        )
        rt.store.close()
    return out


def _succeed_at(now: datetime) -> Any:
    return lambda ex: states.transition(ex, states.Succeed(now))


def startup(kind: str, tmp: Path, tries: int = 3) -> dict[str, Any]:
    took = []
    with database(kind, tmp) as url:
        rt = runtime(url)
        for _ in range(tries):
            ex = rt.service.start(StartRequest("bench.noop"))
            t0 = datetime.now(UTC)
            (proc,) = _workers(url, 1, None, tmp / "startup.log")
            try:
                wait_until(
                    lambda i=ex.id: rt.service.get(i).started_at is not None, "a first claim", 30, 0.002
                )  # type: ignore[misc]
            finally:
                stop([proc])
            started = rt.service.get(ex.id).started_at
            assert started is not None
            took.append((started - t0).total_seconds())
        rt.store.close()
    return {"tries": tries, "first_claim_s": statistics.median(took), "worst_s": max(took)}


def scale(kind: str, tmp: Path, sizes: list[int], n: int, workers: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for size in sizes:
        with database(kind, tmp) as url:
            fill(kind, url, size, 0)
            rt = runtime(url)
            out[f"list_ms_{size}"] = timed_ms(lambda rt=rt: rt.service.list(ExecutionFilter(), limit=50))  # type: ignore[misc]
            rt.store.close()
            out[f"drain_per_s_{size}"] = _drain(url, n, workers, None, tmp / f"scale-{kind}.log")[1]
    small, big = min(sizes), max(sizes)
    out["drain_ratio"] = out[f"drain_per_s_{big}"] / out[f"drain_per_s_{small}"]
    out["list_ratio"] = out[f"list_ms_{big}"] / out[f"list_ms_{small}"]
    return out
