"""`make bench`: throughput, latency and claim speed of Conveyor on SQLite and PostgreSQL.

Scenarios, each on every store asked for:
- throughput: bulk-start N no-op executions (start rate), then worker processes
  drain them; the drain rate is N over the span from the first claim to the
  last completion, read from the executions' own timestamps (worker start-up
  is not counted);
- latency: one `conveyor serve` with its in-process worker, idle; a client
  starts one execution at a time over HTTP and waits for it; start->done is
  ended_at - created_at as the server recorded them;
- claim: the table holds 1,000,000 executions (the rest finished); one
  process claims and completes pending ones B at a time, straight on the store.
Results print as a table and go to bench/results/<time>-<commit>.json with
the machine, versions and commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from conveyor.config import Settings
from conveyor.core import states
from conveyor.core.executions import StartRequest
from conveyor.core.model import Execution, ExecutionFilter, Status
from conveyor.server import Runtime, build
from conveyor.store import migrate, rows
from conveyor.store.sqlstore import INSERT_EXECUTION

ROOT = Path(__file__).resolve().parents[1]
CONVEYOR = str(Path(sys.executable).parent / "conveyor")
PG_URL = os.environ.get("CONVEYOR_BENCH_PG_URL", os.environ.get("CONVEYOR_TEST_PG_URL",
                        "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
APP = "bench.workflows"


# --- databases ------------------------------------------------------------------


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        url = f"sqlite:///{tmp}/bench-{time.monotonic_ns()}.db"
        migrate.upgrade(url)
        yield url
        return
    schema = f"bench_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def runtime(url: str) -> Runtime:
    from bench.workflows import app

    return build(Settings(database_url=url), app=app)


def span(rt: Runtime, first: str, last: str) -> float:
    """Seconds between the earliest `first` and the latest `last` timestamp of succeeded executions."""
    lo, hi = None, None
    cursor = None
    while True:
        page = rt.service.list(ExecutionFilter(statuses=(Status.SUCCEEDED,)), limit=1000, cursor=cursor)
        for e in page.items:
            a, b = getattr(e, first), getattr(e, last)
            lo = a if lo is None or a < lo else lo
            hi = b if hi is None or b > hi else hi
        cursor = page.next_cursor
        if cursor is None:
            break
    assert lo is not None and hi is not None
    return (hi - lo).total_seconds()


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


# --- scenarios ------------------------------------------------------------------


def throughput(kind: str, tmp: Path, n: int, workers: int, concurrency: int) -> dict[str, Any]:
    with database(kind, tmp) as url:
        rt = runtime(url)
        t0 = time.perf_counter()
        for i in range(0, n, 1000):
            rt.service.start_many([StartRequest("bench.noop") for _ in range(min(1000, n - i))])
        start_rate = n / (time.perf_counter() - t0)
        env = {**os.environ, "CONVEYOR_LEASE_SECONDS": "30"}
        procs = [
            spawn(["worker", "--database", url, "--app", APP, "--concurrency", str(concurrency)], env,
                  tmp / f"worker-{kind}.log")
            for _ in range(workers)
        ]  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            done = 0
            while done < n:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {done} of {n} executions finished within 300 s")
                time.sleep(0.2)
                done = rt.service.count(ExecutionFilter(statuses=(Status.SUCCEEDED,)))
        finally:
            stop(procs)
        drain = n / span(rt, "started_at", "ended_at")
        rt.store.close()
    return {"n": n, "workers": workers, "concurrency": concurrency, "start_per_s": start_rate,
            "drain_per_s": drain}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def latency(kind: str, tmp: Path, samples: int) -> dict[str, Any]:
    with database(kind, tmp) as url:
        port = free_port()
        env = {**os.environ}
        server = spawn(
            ["serve", "--port", str(port), "--database", url, "--app", APP], env, tmp / "serve.log"
        )
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            with httpx.Client(base_url=base, timeout=10) as http:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if http.get("/health").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not start")
                    time.sleep(0.05)
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
    q = statistics.quantiles(lat, n=100)
    return {"samples": samples, "p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "max_ms": max(lat)}


def fill(kind: str, url: str, total: int, pending: int) -> None:
    """`total` executions: `pending` claimable, the rest succeeded, written in bulk."""
    now = datetime.now(UTC)
    base = Execution(id="", workflow="bench.noop", status=Status.SUCCEEDED, created_at=now, ended_at=now,
                     retention=3600.0)  # fmt: skip
    from conveyor.core.ids import new_id

    def batch(k: int, status: Status) -> list[tuple[Any, ...]]:
        return [rows.execution_to_row(base.evolve(id=new_id(), status=status)) for _ in range(k)]

    chunk = 50_000
    if kind == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :], isolation_level=None)
        conn.execute("BEGIN")
        for i in range(0, total, chunk):
            k = min(chunk, total - i)
            status = Status.PENDING if i + k > total - pending else Status.SUCCEEDED
            conn.executemany(INSERT_EXECUTION, batch(k, status))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.close()
        return
    columns = ", ".join(f'"{c}"' for c in rows.COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(0, total, chunk):
            k = min(chunk, total - i)
            status = Status.PENDING if i + k > total - pending else Status.SUCCEEDED
            with conn.cursor() as cur, cur.copy(f"COPY executions ({columns}) FROM STDIN") as copy:
                for row in batch(k, status):
                    copy.write_row(row)
        conn.execute("VACUUM ANALYZE executions")


def _succeed_at(now: datetime) -> Any:
    return lambda ex: states.transition(ex, states.Succeed(now))


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
                store.execution_finish([(e.id, "bench", _succeed_at(now)) for e in got], now=now)
                done += len(got)
            out[f"claim_complete_b{b}_per_s"] = done / (time.perf_counter() - t0)
        rt.store.close()
    return out


# --- report ---------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "unknown"

    import conveyor

    pg = "unreachable"
    try:
        with psycopg.connect(PG_URL) as conn:
            pg = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        pass
    return {
        "host": socket.gethostname(), "cpus": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": pg,
        "conveyor": conveyor.__version__, "commit": version(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
        "dirty": bool(version(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])),
    }  # fmt: skip


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'store':<10} {'scenario':<11} figures", "-" * 100]
    for store, res in results.items():
        for scenario, figs in res.items():
            text = ", ".join(f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figs.items())
            lines.append(f"{store:<10} {scenario:<11} {text}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--scenarios", default="throughput,latency,claim")
    p.add_argument("-n", type=int, default=20_000, help="executions in the throughput scenario")
    p.add_argument("--workers", type=int, default=2, help="worker processes in the throughput scenario")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--samples", type=int, default=300, help="latency samples")
    p.add_argument("--rows", type=int, default=1_000_000, help="table size in the claim scenario")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = p.parse_args()
    if args.quick:
        args.n, args.samples, args.rows = 2000, 50, 50_000
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as d:
        tmp = Path(d)
        for kind in args.stores.split(","):
            res: dict[str, Any] = {}
            for scenario in args.scenarios.split(","):
                print(f"[{kind}] {scenario} ...", file=sys.stderr, flush=True)
                if scenario == "throughput":
                    res[scenario] = throughput(kind, tmp, args.n, args.workers, args.concurrency)
                elif scenario == "latency":
                    res[scenario] = latency(kind, tmp, args.samples)
                elif scenario == "claim":
                    res[scenario] = claim(kind, tmp, args.rows, [1, 10, 100])
                print(f"[{kind}] {scenario}: {res[scenario]}", file=sys.stderr, flush=True)
            results[kind] = res
    print(table(results))
    info = machine()
    out = (
        ROOT
        / "bench"
        / "results"
        / (f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{info['commit'][:8]}.json")
    )
    out.write_text(json.dumps({"machine": info, "args": vars(args), "results": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
