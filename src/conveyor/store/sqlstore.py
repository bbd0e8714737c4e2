"""The store: one implementation of `core.ports.Store` on SQLite or PostgreSQL, given its `Dialect`.

Every operation runs inside one write transaction and goes through the core's
pure pieces (`states.transition`, `admission`). The statements are named, in
store/sql/*.sql; the dialect (sqlite.py, postgres.py) supplies connections,
row-lock clauses, index hints, admission locks, batched writes and the wake-up
signal for workers. The operations are split by subject, each a small class
over the same `Db` (db.py):
- executions.py: start, get, list, count, apply, delete, events;
- worker_side.py: claim, heartbeat, progress, finish;
- housekeeping.py: promote due, admit queued, reap leases, expire;
- schedules.py, targets.py (with target groups), groups.py (execution groups);
- tokens.py: tokens, idempotency keys, workflows;
- workers.py: the workers that registered.
"""

from __future__ import annotations

import functools
import sqlite3

from conveyor.core.errors import DatabaseUnavailable, SchemaOutOfDate
from conveyor.store import migrations, sql
from conveyor.store.db import Db
from conveyor.store.dialect import Dialect
from conveyor.store.executions import Executions
from conveyor.store.groups import ExecutionGroups
from conveyor.store.housekeeping import Housekeeping
from conveyor.store.schedules import Schedules
from conveyor.store.targets import Targets
from conveyor.store.tokens import Tokens
from conveyor.store.worker_side import WorkerSide
from conveyor.store.workers import Workers

#: The revision this code expects; read from the migration scripts' names once per process.
_head = functools.cache(migrations.head)

#: For loading rows in bulk outside the store (benchmarks, tests).
INSERT_EXECUTION = sql.plain("insert_execution")


class SQLStore(Executions, WorkerSide, Housekeeping, Schedules, Targets, ExecutionGroups, Tokens, Workers):
    """Executions, schedules, targets, groups, tokens and workers on one SQL database."""

    def __init__(self, dialect: Dialect) -> None:
        self.db = Db(dialect)

    def wait_for_work(self, timeout: float) -> bool:
        return self.db.dialect.wait_for_work(timeout)

    def wake_workers(self) -> None:
        self.db.dialect.wake_workers()

    def close(self) -> None:
        self.db.dialect.close()

    def database_check(self) -> str:
        try:
            found = self.db.read("schema_revision")
        except sqlite3.Error as exc:  # PostgreSQL's outages already arrive as DatabaseUnavailable
            raise DatabaseUnavailable(str(exc)) from exc
        revision = str(found[0][0]) if found else None
        expected = _head()
        if revision != expected:
            raise SchemaOutOfDate(
                f"the database schema is at {revision or 'no revision'}, this server needs {expected}: "
                "run `conveyor db upgrade`",
                {"revision": revision, "expected": expected},
            )
        return revision
