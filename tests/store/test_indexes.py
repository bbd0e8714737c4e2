"""Every query the SQLite store issues on a large table is served by an index.

100,000 executions in mixed statuses are inserted in one transaction; then
each store operation runs with SQLite's trace hook on, so the statements
checked are exactly the ones sqlite.py sends (with their values bound), and
`EXPLAIN QUERY PLAN` must show no full scan of `executions` or `events`.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conveyor.core import states
from conveyor.core.ids import new_id
from conveyor.core.model import ErrorInfo, Event, Execution, ExecutionFilter, Status
from conveyor.store import rows
from conveyor.store.sqlite import SQLiteStore
from conveyor.store.sqlstore import INSERT_EXECUTION

S = Status
N = 100_000
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TABLES = ("executions", "events")

#: Share of each status in the population (the rest of the fields follow from the status).
MIX = [
    (S.SUCCEEDED, 50), (S.FAILED, 8), (S.CANCELLED, 5), (S.QUEUED, 10), (S.PENDING, 5), (S.RUNNING, 5),
    (S.SCHEDULED, 10), (S.PAUSED, 3), (S.CANCELLING, 2), (S.PAUSING, 2),
]  # fmt: skip


def _population(rng: random.Random) -> Iterator[Execution]:
    statuses = [s for s, share in MIX for _ in range(share)]
    base = NOW - timedelta(days=30)
    for i in range(N):
        status = rng.choice(statuses)
        created = base + timedelta(seconds=i * 20)
        f: dict[str, Any] = {}
        if status in (S.SUCCEEDED, S.FAILED, S.CANCELLED):
            ended = created + timedelta(seconds=rng.randint(1, 600))
            f.update(started_at=created, ended_at=ended, attempt=1, expires_at=ended + timedelta(days=7))
            if status is S.FAILED:
                f["error"] = ErrorInfo("E", "x")
        elif status in (S.RUNNING, S.CANCELLING, S.PAUSING):
            f.update(
                started_at=created, attempt=1, worker_id=f"w{i % 7}",
                lease_expires_at=NOW + timedelta(seconds=rng.choice([-60, 30, 60])),
            )  # fmt: skip
        elif status is S.SCHEDULED:
            f["scheduled_for"] = NOW + timedelta(minutes=rng.randint(-10, 600))
        yield Execution(
            id=new_id(), workflow=f"wf{i % 20}", status=status, created_at=created, updated_at=created,
            target=None if i % 5 == 0 else f"t{i % 500}", queue=("default", "io", "gpu")[i % 3],
            priority=rng.choice([0, 0, 0, 1, 5]), created_by=("alice", "bob", None)[i % 3],
            is_system=(i % 997 == 0), retention=7 * 86400.0, group_id=None if i % 50 else "g1",
            max_attempts=2, **f,
        )  # fmt: skip


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.db"
    SQLiteStore(f"sqlite:///{path}").close()  # migrated to head
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.executemany(INSERT_EXECUTION, (rows.execution_to_row(e) for e in _population(random.Random(1))))
        ids = [r[0] for r in conn.execute("SELECT id FROM executions WHERE rowid % 2 = 0")]
        conn.executemany(
            "INSERT INTO events (execution_id, ts, kind, level, message) VALUES (?, ?, 'status', 'info', '')",
            ((i, NOW.timestamp()) for i in ids),
        )
        conn.execute("INSERT INTO targets (name, max_concurrent, created_at) VALUES ('t1', 3, 0)")
        conn.execute("COMMIT")
        assert conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0] == N
    finally:
        conn.close()
    return path


@dataclass
class Traced:
    store: SQLiteStore
    statements: list[str]

    def run(self, action: Callable[[SQLiteStore], object]) -> list[str]:
        self.statements.clear()
        action(self.store)
        return [s for s in self.statements if _touches_tables(s)]


def _touches_tables(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in ("SELECT", "UPDATE", "DELETE") and any(re.search(rf"\b{t}\b", sql) for t in TABLES)


@pytest.fixture(scope="module")
def traced(big_db: Path) -> Iterator[Traced]:
    store = SQLiteStore(f"sqlite:///{big_db}")
    out = Traced(store, [])
    store.dialect.writer.set_trace_callback(out.statements.append)
    store.dialect.reader().set_trace_callback(out.statements.append)
    yield out
    store.close()


def _plan(conn: sqlite3.Connection, sql: str) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()]


FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(TABLES)})(?!.*USING (COVERING )?INDEX)")


def _first(store: SQLiteStore, flt: ExecutionFilter, sort: list[str]) -> str | None:
    return store.execution_list(flt, sort=sort, limit=50, cursor=None).next_cursor


def _page_two(flt: ExecutionFilter, sort: list[str]) -> Callable[[SQLiteStore], object]:
    def run(s: SQLiteStore) -> object:
        return s.execution_list(flt, sort=sort, limit=50, cursor=_first(s, flt, sort))

    return run


def _held(s: SQLiteStore) -> Execution:
    page = s.execution_list(ExecutionFilter(statuses=(S.RUNNING,)), sort=["id"], limit=1, cursor=None)
    return page.items[0]


def _finish(s: SQLiteStore) -> object:
    ex = _held(s)
    step = lambda e: states.transition(e, states.Succeed(NOW))  # noqa: E731
    return s.execution_finish([(ex.id, str(ex.worker_id), step)], now=NOW)


def _finish_held(s: SQLiteStore) -> object:
    """A worker's final write from its own copy (no read of the row first)."""
    ex = _held(s)
    step = lambda e: states.transition(e, states.Succeed(NOW))  # noqa: E731
    return s.execution_finish([(ex.id, str(ex.worker_id), step)], now=NOW, held={ex.id: ex})


def _start_on_target(s: SQLiteStore) -> object:
    ex = Execution(new_id(), "wf1", S.QUEUED, NOW, target="t1", idempotency_key=new_id())
    return s.execution_start([ex], refuse_blocked=False, now=NOW)


LATER = NOW + timedelta(seconds=30)

#: Every store operation that reads or writes executions, named for the report.
OPERATIONS: dict[str, Callable[[SQLiteStore], object]] = {
    "claim": lambda s: s.execution_claim("wx", ["default"], 10, now=NOW, lease_until=LATER),
    "claim several queues": lambda s: s.execution_claim("wx", ["io", "gpu"], 10, now=NOW, lease_until=LATER),
    "finish from the worker's copy": _finish_held,
    "admission (queued)": lambda s: s.execution_admit_queued(now=NOW),
    "start (admission at start)": _start_on_target,
    "list by status sorted by id": lambda s: s.execution_list(
        ExecutionFilter(statuses=(S.QUEUED,)), sort=["-id"], limit=50, cursor=None
    ),
    "list by status, page two": _page_two(ExecutionFilter(statuses=(S.FAILED,)), ["-id"]),
    "list by workflow": lambda s: s.execution_list(
        ExecutionFilter(workflows=("wf3",)), sort=["-id"], limit=50, cursor=None
    ),
    "list by workflow, page two": _page_two(ExecutionFilter(workflows=("wf3",)), ["-id"]),
    "list by target": lambda s: s.execution_list(
        ExecutionFilter(targets=("t7",)), sort=["-id"], limit=50, cursor=None
    ),
    "list by creator": lambda s: s.execution_list(
        ExecutionFilter(created_by=("bob",)), sort=["-id"], limit=50, cursor=None
    ),
    "list by group": lambda s: s.execution_list(
        ExecutionFilter(group_id="g1"), sort=["-id"], limit=50, cursor=None
    ),
    "list everything newest first, page two": _page_two(ExecutionFilter(), ["-id"]),
    "list by created_at": _page_two(ExecutionFilter(), ["-created_at"]),
    # (by status alone, the kept counts answer: see test_counts.py)
    "count by status and target": lambda s: s.execution_count(
        ExecutionFilter(statuses=(S.RUNNING,), targets=("t7",))
    ),
    "get": lambda s: s.execution_get(_held(s).id),
    "promote due": lambda s: s.execution_promote_due(now=NOW),
    "next due": lambda s: s.execution_next_due_at(),
    "lease reaping": lambda s: s.execution_reap_leases(now=NOW),
    "retention": lambda s: s.execution_delete_expired(now=NOW - timedelta(days=20)),
    "delete finished up to a time": lambda s: s.execution_delete_finished(
        ExecutionFilter(ended_before=NOW - timedelta(days=29)), keep_last=None
    ),
    "heartbeat": lambda s: s.execution_heartbeat(str(_held(s).worker_id), [_held(s).id], lease_until=LATER),
    "progress": lambda s: s.execution_set_progress(str(_held(s).worker_id), _held(s).id, 1, 2, None),
    "finish": _finish,
    "apply (cancel)": lambda s: s.execution_apply(
        _held(s).id, lambda e: states.transition(e, states.RequestCancel(NOW, "force")), now=NOW
    ),
    "events": lambda s: s.event_list(_held(s).id, after=0),
    "add events": lambda s: s.event_add([Event(_held(s).id, "log", NOW, "x")]),
    "delete": lambda s: s.execution_delete([_held(s).id]),
}

#: Operations that must also read rows in index order (no sort of the matching rows).
IN_INDEX_ORDER = {
    "claim", "admission (queued)", "list by status sorted by id", "list by status, page two",
    "list by workflow", "list by workflow, page two", "list by target", "list by creator",
    "list by group", "list everything newest first, page two", "promote due",
}  # fmt: skip


#: The index each named query was built for (see store.schema); the plan must use it.
MEANT_INDEX = {
    "claim": "ix_executions_pending",
    "claim several queues": "ix_executions_pending",
    "admission (queued)": "ix_executions_queued",
    "promote due": "ix_executions_scheduled",
    "next due": "ix_executions_scheduled",
    "lease reaping": "ix_executions_lease",
    "retention": "ix_executions_expires",
    "list by status sorted by id": "ix_executions_status",
    "list by workflow": "ix_executions_workflow",
    "list by target": "ix_executions_target",
    "list by creator": "ix_executions_created_by",
    "list by group": "ix_executions_group",
    "events": "ix_events_execution",
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_store_queries_use_indexes_on_a_large_table(traced: Traced, big_db: Path, name: str) -> None:
    statements = traced.run(OPERATIONS[name])
    assert statements, f"{name} issued no statement on {TABLES}"
    conn = sqlite3.connect(big_db)
    try:
        plans = {sql: _plan(conn, sql) for sql in dict.fromkeys(statements)}
        if name in MEANT_INDEX:
            used = " ".join(line for plan in plans.values() for line in plan)
            assert f"INDEX {MEANT_INDEX[name]} " in f"{used} ", (
                f"{name} does not use {MEANT_INDEX[name]}: {plans}"
            )
        for sql, plan in plans.items():
            scans = [line for line in plan if FULL_SCAN.search(line)]
            assert not scans, f"{name}: full scan in\n  {sql}\nplan: {plan}"
            if name in IN_INDEX_ORDER and sql.startswith("SELECT") and "ORDER BY" in sql:
                assert not any("TEMP B-TREE FOR ORDER BY" in line for line in plan), (
                    f"{name}: sorts every matching row\n  {sql}\nplan: {plan}"
                )
    finally:
        conn.close()
