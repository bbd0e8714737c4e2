"""`make bench`: how fast Conveyor is on SQLite and PostgreSQL, beside the raw limit of each.

Scenarios are described in bench/scenarios.py, the raw limit in bench/raw.py. Results print as a
table, each figure also as a fraction of the limit it is bounded by, and go to
bench/results/<time>-<commit>.json with the machine, versions and commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import scenarios
from bench.raw import raw
from bench.support import PG_URL, ROOT

#: (scenario, figure) -> (raw figure it is bounded by, what the fraction means)
LIMITS = {
    ("throughput", "drain_per_s"): "batched_100_per_s",
    ("http", "drain_per_s"): "batched_100_per_s",
    ("claim", "claim_complete_b1_per_s"): "one_at_a_time_per_s",
    ("claim", "claim_complete_b100_per_s"): "batched_100_per_s",
}


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


def _figure(value: Any) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'store':<10} {'scenario':<11} figures (x% = share of the raw limit)", "-" * 100]
    for store, res in results.items():
        limit = res.get("raw", {})
        for scenario, figs in res.items():
            parts = []
            for key, value in figs.items():
                text = f"{key}={_figure(value)}"
                bound = LIMITS.get((scenario, key))
                if bound and limit.get(bound):
                    text += f" ({value / limit[bound]:.0%})"
                parts.append(text)
            lines.append(f"{store:<10} {scenario:<11} {', '.join(parts)}")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stores", default="sqlite,postgres")
    p.add_argument("--scenarios", default="raw,throughput,http,latency,claim,startup,scale")
    p.add_argument("-n", type=int, default=20_000, help="executions in the throughput and scale scenarios")
    p.add_argument("--workers", type=int, default=2, help="worker processes in the throughput scenario")
    p.add_argument("--concurrency", type=int, default=None, help="per worker (default: the worker's default)")
    p.add_argument("--samples", type=int, default=500, help="latency samples")
    p.add_argument("--rows", type=int, default=1_000_000, help="table size in the claim scenario")
    p.add_argument("--full", action="store_true", help="the scale scenario up to 10 M rows (much longer)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = p.parse_args()
    sizes = [10_000, 1_000_000, 10_000_000] if args.full else [10_000, 1_000_000]
    raw_jobs = 5_000
    if args.quick:
        args.n, args.samples, args.rows, sizes, raw_jobs = 2000, 50, 50_000, [1_000, 20_000], 500
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="conveyor-bench-") as d:
        tmp = Path(d)
        for kind in args.stores.split(","):
            res: dict[str, Any] = {}
            for scenario in args.scenarios.split(","):
                print(f"[{kind}] {scenario} ...", file=sys.stderr, flush=True)
                if scenario == "raw":
                    res[scenario] = raw(kind, tmp, raw_jobs)
                elif scenario == "throughput":
                    res[scenario] = scenarios.throughput(kind, tmp, args.n, args.workers, args.concurrency)
                elif scenario == "http":
                    res[scenario] = scenarios.http_throughput(kind, tmp, args.n, args.workers)
                elif scenario == "latency":
                    res[scenario] = scenarios.latency(kind, tmp, args.samples)
                elif scenario == "claim":
                    res[scenario] = scenarios.claim(kind, tmp, args.rows, [1, 10, 100])
                elif scenario == "startup":
                    res[scenario] = scenarios.startup(kind, tmp)
                elif scenario == "scale":
                    res[scenario] = scenarios.scale(kind, tmp, sizes, min(args.n, 10_000), args.workers)
                else:
                    p.error(f"unknown scenario {scenario!r}")
                print(f"[{kind}] {scenario}: {res[scenario]}", file=sys.stderr, flush=True)
            results[kind] = res
    print(table(results))
    info = machine()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / f"{stamp}-{info['commit'][:8]}.json"
    out.write_text(json.dumps({"machine": info, "args": vars(args), "results": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
