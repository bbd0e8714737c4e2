"""What differs between the databases, as one object the store is given.

The store (sqlstore.SQLStore) is written once against `Dialect`: SQLiteDialect
(sqlite.py) and PostgresDialect (postgres.py) supply connections and
transactions, the pieces put into the named statements (row locks, index hints,
"skip N rows"), the admission lock, batched row writes, and the wake-up signal
for idle workers. Statements use `?` placeholders; a dialect whose driver wants
another style converts them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class Conn(Protocol):
    """The part of a DB-API connection the store uses, with `?` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any: ...


class Dialect(Protocol):
    #: Row-lock clause appended to SELECTs whose rows the transaction will write ("" for none).
    lock: str
    #: The same, passing over rows another transaction holds (claims, sweeps).
    skip_locked: str
    #: "Skip the first ? rows, return the rest."
    offset: str

    def table(self, name: str, index: str) -> str:
        """The table, with a hint to use `index` where the dialect's planner needs one."""
        ...

    def transaction(self) -> AbstractContextManager[Conn]:
        """A write transaction."""
        ...

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read outside any write transaction."""
        ...

    def lock_admission(self, conn: Conn, *, targets: set[str] | tuple[()], exclusive: bool) -> None:
        """Serialize admission decisions with other processes (held until the transaction ends)."""
        ...

    def update_executions(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        """`sql` (update_execution) for each row of values: the mutable columns, then id and old status."""
        ...

    def insert_events(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        """`sql` (insert_event) for each row of values."""
        ...

    def claim(
        self,
        sql: Mapping[str, str],
        queues: Sequence[str],
        limit: int,
        holder: tuple[Any, ...],
        event: tuple[Any, ...],
    ) -> list[Any]:
        """Run the `claim` statement on its own: up to `limit` pending rows of `queues` taken by
        `holder` (worker, lease, now, now), and their status events (ts, level, message, data).
        Answers the rows claimed, best priority first."""
        ...

    def finish_held(
        self, sql: Mapping[str, str], values: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
    ) -> tuple[set[str], bool]:
        """Run `update_held` for each row of values on its own, and insert the events of the rows it
        wrote. Answers the ids written, and whether any execution is queued (admission may be due)."""
        ...

    def work_appeared(self, conn: Conn) -> None:
        """Pending work was written in this transaction: wake workers once it commits."""
        ...

    def wait_for_work(self, timeout: float) -> bool: ...
    def wake_workers(self) -> None: ...
    def close(self) -> None: ...


class WorkSignal:
    """Wakes this process's idle workers; what sets it (commits, NOTIFYs) is the dialect's business.

    Every waiter sees every signal: the in-process worker and the server's waiting HTTP claims
    wait on the same one. Each thread remembers the last signal it saw, so one given while it was
    busy is not missed by its next wait.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()

    def set(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def wait(self, timeout: float) -> bool:
        """True if signalled since this thread's last wait, or within `timeout`."""
        with self._changed:
            seen = getattr(self._seen, "count", self._count)
            signalled = self._changed.wait_for(lambda: self._count != seen, timeout)
            self._seen.count = self._count
            return signalled
