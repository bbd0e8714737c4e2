"""The raw limit: a plain Python loop doing only what any job queue must (insert a job, claim it,
complete it) on a bare table, one at a time and 100 at a time, against the same database in the
same run. Conveyor's figures are printed beside it as a fraction of it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.support import pg_schema
from conveyor.store.sql import parse
from conveyor.store.sqlbuild import to_format_style

SQL = parse((Path(__file__).parent / "raw.sql").read_text(encoding="utf-8"))


def _sqlite_statements() -> dict[str, str]:
    return {k: v.format(id="INTEGER PRIMARY KEY", skip_locked="") for k, v in SQL.items()}


def _pg_statements() -> dict[str, str]:
    filled = {
        k: v.format(id="BIGSERIAL PRIMARY KEY", skip_locked=" FOR UPDATE SKIP LOCKED") for k, v in SQL.items()
    }
    return {k: to_format_style(v) for k, v in filled.items()}


def raw(kind: str, tmp: Path, jobs: int) -> dict[str, Any]:
    """Jobs per second through insert -> claim -> complete, one at a time and in batches of 100."""
    if kind == "sqlite":
        conn = sqlite3.connect(tmp / f"raw-{time.monotonic_ns()}.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            return _measure(_SQLiteLoop(conn, _sqlite_statements()), jobs)
        finally:
            conn.close()
    with pg_schema() as url, psycopg.connect(url, autocommit=True) as pg:
        return _measure(_PostgresLoop(pg, _pg_statements()), jobs)


def _measure(loop: _SQLiteLoop | _PostgresLoop, jobs: int) -> dict[str, Any]:
    loop.execute(loop.sql["create"])
    loop.execute(loop.sql["index"])
    t0 = time.perf_counter()
    for _ in range(jobs):
        loop.insert(1)
        (got,) = loop.claim(1)
        loop.complete([got])
    one = jobs / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(jobs // 100):
        loop.insert(100)
        loop.complete(loop.claim(100))
    batched = (jobs // 100) * 100 / (time.perf_counter() - t0)
    return {"jobs": jobs, "one_at_a_time_per_s": one, "batched_100_per_s": batched}


class _SQLiteLoop:
    def __init__(self, conn: sqlite3.Connection, sql: dict[str, str]) -> None:
        self.conn, self.sql = conn, sql

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def insert(self, n: int) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.sql["insert"], [("{}", time.time())] * n)
        self.conn.execute("COMMIT")

    def claim(self, n: int) -> list[int]:
        self.conn.execute("BEGIN IMMEDIATE")
        got = [r[0] for r in self.conn.execute(self.sql["claim"], ("raw", n)).fetchall()]
        self.conn.execute("COMMIT")
        return got

    def complete(self, ids: list[int]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(self.sql["complete"], [(i,) for i in ids])
        self.conn.execute("COMMIT")


class _PostgresLoop:
    def __init__(self, conn: psycopg.Connection[Any], sql: dict[str, str]) -> None:
        self.conn, self.sql = conn, sql

    def execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def insert(self, n: int) -> None:
        if n == 1:
            self.conn.execute(self.sql["insert"], ("{}", time.time()))
        else:
            self.conn.execute(self.sql["insert_many_pg"], (time.time(), ["{}"] * n))

    def claim(self, n: int) -> list[int]:
        return [r[0] for r in self.conn.execute(self.sql["claim"], ("raw", n)).fetchall()]

    def complete(self, ids: list[int]) -> None:
        if len(ids) == 1:
            self.conn.execute(self.sql["complete"], (ids[0],))
        else:
            self.conn.execute(self.sql["complete_many_pg"], (ids,))
