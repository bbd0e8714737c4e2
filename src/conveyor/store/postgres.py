"""The shared store for many machines: PostgreSQL through psycopg 3 and a connection pool.

Any number of servers, workers and background loops use one database:
- rows a transaction will write are locked first (`FOR UPDATE`), and
  claims and sweeps skip rows another process holds (`SKIP LOCKED`), so no
  execution is claimed or promoted twice and the compare-and-set never loses;
- admission decisions are serialized by transaction-scoped advisory locks:
  shared for ordinary starts, one per target for targeted starts, exclusive
  for system starts and for admitting queued work;
- a transaction that makes work pending sends `NOTIFY conveyor_work`, which a
  listening connection turns into a wake-up for idle workers; polling stays
  as the fallback.
psycopg prepares statements a connection runs repeatedly (prepare_threshold),
so the hot statements are planned once per connection.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from conveyor.store import migrate
from conveyor.store.rows import MUTABLE
from conveyor.store.sqlbuild import to_format_style
from conveyor.store.sqlstore import Conn, Cursor, SQLStore

log = logging.getLogger("conveyor.store.postgres")

CHANNEL = "conveyor_work"
ADMISSION_LOCK = 0x436F6E76  # one key for the whole admission decision ("Conv")
TARGET_LOCKS = 0x54677473  # namespace of the per-target keys ("Tgts")

_pg = functools.lru_cache(maxsize=2048)(to_format_style)


def connection_url(url: str) -> str:
    """libpq accepts postgresql:// and postgres://; SQLAlchemy-style driver suffixes are dropped."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class _Tx:
    """A connection inside one transaction, speaking the shared SQL's `?` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self.notified = False

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any:
        with self._conn.cursor() as cur:
            cur.executemany(_pg(sql), params)


def _recordset(alias: str, columns: Sequence[tuple[str, str]]) -> str:
    """`unnest(?::t1[], ...) AS alias(c1, ...)`: many rows as one statement's parameters, a column each."""
    arrays = ", ".join(f"?::{t}[]" for _, t in columns)
    return f"unnest({arrays}) AS {alias}({', '.join(c for c, _ in columns)})"


def _columns(values: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(col) for col in zip(*values, strict=True)]


_MUTABLE_TYPES = (
    ("status", "text"), ("updated_at", "float8"), ("scheduled_for", "float8"), ("started_at", "float8"),
    ("ended_at", "float8"), ("attempt", "int4"), ("max_attempts", "int4"), ("expires_at", "float8"),
    ("worker_id", "text"), ("lease_expires_at", "float8"), ("total_operations", "int4"),
    ("finished_operations", "int4"), ("result", "text"), ("error", "text"), ("state", "text"),
)  # fmt: skip
assert tuple(c for c, _ in _MUTABLE_TYPES) == MUTABLE, "keep in step with store.rows.MUTABLE"
# Many rows travel as column arrays: one statement whatever the batch size, where executemany
# sends and runs one statement per row. (One JSON document instead was measured slower.)
_UPDATE_TYPES = (*_MUTABLE_TYPES, ("id", "text"), ("old_status", "text"))
UPDATE_MANY = (
    f"UPDATE executions AS e SET {', '.join(f'{c} = v.{c}' for c in MUTABLE)} "
    f"FROM {_recordset('v', _UPDATE_TYPES)} WHERE e.id = v.id AND e.status = v.old_status"
)
_EVENT_TYPES = (
    ("execution_id", "text"), ("ts", "float8"), ("kind", "text"), ("level", "text"), ("message", "text"),
    ("data", "text"),
)  # fmt: skip
INSERT_EVENTS_MANY = (
    "INSERT INTO events (execution_id, ts, kind, level, message, data) "
    f"SELECT * FROM {_recordset('v', _EVENT_TYPES)}"
)


class PostgresStore(SQLStore):
    FOR_UPDATE = " FOR UPDATE"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    OFFSET_ONLY = "OFFSET ?"

    def __init__(self, url: str, *, migrate_empty: bool = True, pool_size: int = 16) -> None:
        self.url = connection_url(url)
        migrate.ensure_current(url, create_if_empty=migrate_empty)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True, name="conveyor"
        )
        self._work_signal = threading.Event()
        self._listener: threading.Thread | None = None
        self._listener_lock = threading.Lock()
        self._closed = threading.Event()

    # --- connections ------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Conn]:
        with self._pool.connection() as conn, conn.transaction():
            tx = _Tx(conn)
            yield tx
        if tx.notified:
            self._work_signal.set()  # this process's own workers need not wait for the NOTIFY

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._pool.connection() as conn:
            return conn.execute(_pg(sql), params).fetchall()

    def _update_rows(self, conn: Conn, values: list[tuple[Any, ...]]) -> None:
        conn.execute(UPDATE_MANY, _columns(values))

    def _insert_event_rows(self, conn: Conn, values: list[tuple[Any, ...]]) -> None:
        conn.execute(INSERT_EVENTS_MANY, _columns(values))

    def _lock_admission(self, conn: Conn, *, targets: set[str] | tuple[()], exclusive: bool) -> None:
        if exclusive:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (ADMISSION_LOCK,))
            return
        conn.execute("SELECT pg_advisory_xact_lock_shared(?)", (ADMISSION_LOCK,))
        for target in sorted(targets):  # one order everywhere: no deadlocks between targeted starts
            conn.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", (TARGET_LOCKS, target))

    # --- waking workers ---------------------------------------------------------------

    def _work_appeared(self, conn: Conn) -> None:
        if isinstance(conn, _Tx) and not conn.notified:
            conn.execute(f"NOTIFY {CHANNEL}")  # delivered when the transaction commits
            conn.notified = True

    def wait_for_work(self, timeout: float) -> bool:
        self._ensure_listener()
        signalled = self._work_signal.wait(timeout)
        self._work_signal.clear()
        return signalled

    def wake_workers(self) -> None:
        self._work_signal.set()

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, name="conveyor-listen", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        """Relay NOTIFYs from every process to `wait_for_work`; reconnect when the connection drops."""
        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._work_signal.set()  # anything that arrived while we were not listening
                    while not self._closed.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._work_signal.set()
            except psycopg.Error:
                log.warning("lost the LISTEN connection; polling until it is back", exc_info=True)
                self._closed.wait(1.0)

    def close(self) -> None:
        self._closed.set()
        self._pool.close()
        if self._listener is not None:
            self._listener.join(timeout=3)
