"""The shared store for many machines: PostgreSQL through psycopg 3 and a connection pool.

Any number of servers, workers and background loops use one database:
- rows a transaction will write are locked first (`FOR UPDATE`), and
  claims and sweeps skip rows another process holds (`SKIP LOCKED`), so no
  execution is claimed or promoted twice and the compare-and-set never loses;
- admission decisions are serialized by transaction-scoped advisory locks:
  shared for ordinary starts, one per target for targeted starts, exclusive
  for system starts and for admitting queued work;
- many rows are written by one statement over column arrays (`unnest`);
- a transaction that makes work pending sends `NOTIFY conveyor_work`, which a
  listening connection turns into a wake-up for idle workers; polling stays
  as the fallback.
psycopg prepares statements a connection runs repeatedly (prepare_threshold),
so the hot statements are planned once per connection.

Every call has a deadline: waiting for a pooled connection, connecting, and each
statement (`statement_timeout` on the server) are bounded by `timeout` seconds.
A database that is down, unreachable or too slow surfaces as the core's
`DatabaseUnavailable` (the API answers 503 with Retry-After), never as a hang;
the pool reconnects by itself when the database is back.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from conveyor.core.errors import DatabaseUnavailable
from conveyor.store import migrations
from conveyor.store.dialect import Conn, Cursor, WorkSignal
from conveyor.store.sql import QUERIES
from conveyor.store.sqlbuild import placeholders, to_format_style
from conveyor.store.sqlstore import SQLStore

log = logging.getLogger("conveyor.store.postgres")

#: Seconds a call may wait for the database (a connection, a statement) before it is unavailable.
DEFAULT_TIMEOUT = 15.0
#: Seconds to wait for a new connection (libpq's smallest useful connect_timeout)...
CONNECT_TIMEOUT = 2
#: ...and for a pooled one: while the database is down the pool has none, so this is how long
#: a call takes to answer 503. A pool that stays exhausted this long (an overloaded server) answers
#: 503 too, which clients retry after Retry-After: shedding load rather than queueing without end.
POOL_WAIT = 1.5
#: What psycopg raises when the database is down, unreachable, or cancelled a statement at its deadline.
OUTAGE = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)

ADMISSION_LOCK = 0x436F6E76  # one key for the whole admission decision ("Conv")
TARGET_LOCKS = 0x54677473  # namespace of the per-target keys ("Tgts")

_pg = functools.lru_cache(maxsize=2048)(to_format_style)


@functools.cache
def _pg_binary(sql: str) -> str:
    """For the statements that pass rows as column arrays: parameters in binary format, which
    psycopg dumps without escaping each element as text (a third of a batch's cost otherwise)."""
    return _pg(sql).replace("%s", "%b")


def connection_url(url: str) -> str:
    """libpq accepts postgresql:// and postgres://; SQLAlchemy-style driver suffixes are dropped."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Tx:
    """A connection inside one transaction, speaking the store's `?` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self.notified = False

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> Cursor:
        return self._conn.execute(_pg(sql), params)

    def execute_binary(self, sql: str, params: Sequence[Any]) -> Cursor:
        return self._conn.execute(_pg_binary(sql), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any:
        with self._conn.cursor() as cur:
            cur.executemany(_pg(sql), params)


def _columns(values: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(col) for col in zip(*values, strict=True)]


class PostgresDialect:
    lock = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    offset = "OFFSET ?"

    def __init__(
        self, url: str, *, migrate_empty: bool = True, pool_size: int = 16, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = connection_url(url)
        if not self._schema_is_current():
            from conveyor.store import migrate  # Alembic, only when there is a schema to make or refuse

            migrate.ensure_current(url, create_if_empty=migrate_empty)
        self._statement_timeout_ms = int(timeout * 1000)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            configure=self._configure,
            timeout=POOL_WAIT,
            open=True,
            name="conveyor",
        )
        self._work = WorkSignal()
        self._listener: threading.Thread | None = None
        self._listener_lock = threading.Lock()
        self._closed = threading.Event()

    def _schema_is_current(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT) as conn:
                found = conn.execute(QUERIES["schema_revision"]).fetchall()
        except psycopg.errors.UndefinedTable:  # empty, or not ours
            return False
        except OUTAGE as exc:
            raise DatabaseUnavailable(_reason(exc)) from exc
        return bool(found) and found[0][0] == migrations.head()

    def table(self, name: str, index: str) -> str:
        return name  # the planner picks the index from statistics

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Each new pooled connection: no statement of ours runs past the deadline."""
        conn.execute(f"SET statement_timeout = {self._statement_timeout_ms}")

    # --- connections ------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                tx = Tx(conn)
                yield tx
        except OUTAGE as exc:
            raise DatabaseUnavailable(_reason(exc)) from exc
        if tx.notified:
            self._work.set()  # this process's own workers need not wait for the NOTIFY

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.one_statement(sql, params)

    def one_statement(self, sql: str, params: Sequence[Any], *, binary: bool = False) -> list[Any]:
        """One statement on a pooled connection: a transaction of its own (the pool's are autocommit)."""
        try:
            with self._pool.connection() as conn:
                return conn.execute(_pg_binary(sql) if binary else _pg(sql), params).fetchall()
        except OUTAGE as exc:
            raise DatabaseUnavailable(_reason(exc)) from exc

    def update_executions(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        assert isinstance(conn, Tx)
        conn.execute_binary(QUERIES["pg_update_executions"], _columns(values))

    def insert_events(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        assert isinstance(conn, Tx)
        conn.execute_binary(QUERIES["pg_insert_events"], _columns(values))

    def claim(
        self,
        sql: Mapping[str, str],
        queues: Sequence[str],
        limit: int,
        holder: tuple[Any, ...],
        event: tuple[Any, ...],
    ) -> list[Any]:
        text = sql["pg_claim"].format(queues=placeholders(len(queues)))
        return self.fetchall(text, (*queues, limit, *holder, *event))

    def finish_held(
        self, sql: Mapping[str, str], values: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
    ) -> tuple[set[str], bool]:
        params = [*_columns(values), *_columns(events)]
        ((written, queued),) = self.one_statement(sql["pg_finish_held"], params, binary=True)
        return set(written), bool(queued)

    def lock_admission(self, conn: Conn, *, targets: set[str] | tuple[()], exclusive: bool) -> None:
        if exclusive:
            conn.execute(QUERIES["pg_lock_admission"], (ADMISSION_LOCK,))
            return
        conn.execute(QUERIES["pg_lock_admission_shared"], (ADMISSION_LOCK,))
        for target in sorted(targets):  # one order everywhere: no deadlocks between targeted starts
            conn.execute(QUERIES["pg_lock_target"], (TARGET_LOCKS, target))

    # --- waking workers ---------------------------------------------------------------

    def work_appeared(self, conn: Conn) -> None:
        if isinstance(conn, Tx) and not conn.notified:
            conn.execute(QUERIES["pg_notify_work"])  # delivered when the transaction commits
            conn.notified = True

    def wait_for_work(self, timeout: float) -> bool:
        self._ensure_listener()
        return self._work.wait(timeout)

    def wake_workers(self) -> None:
        self._work.set()

    def _ensure_listener(self) -> None:
        with self._listener_lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, name="conveyor-listen", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        """Relay NOTIFYs from every process to `wait_for_work`; reconnect when the connection drops."""
        while not self._closed.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(QUERIES["pg_listen_work"])
                    self._work.set()  # anything that arrived while we were not listening
                    while not self._closed.is_set():
                        for _ in conn.notifies(timeout=0.25, stop_after=1):
                            self._work.set()
            except psycopg.Error:
                log.warning("lost the LISTEN connection; polling until it is back", exc_info=True)
                self._closed.wait(1.0)

    def close(self) -> None:
        self._closed.set()
        self._pool.close()
        if self._listener is not None:
            self._listener.join(timeout=3)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PoolTimeout):
        return f"no connection within {POOL_WAIT} s"
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return "a statement ran past its deadline"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class PostgresStore(SQLStore):
    """The store on a PostgreSQL database: `SQLStore(PostgresDialect(url))`."""

    def __init__(
        self, url: str, *, migrate_empty: bool = True, pool_size: int = 16, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.dialect = PostgresDialect(url, migrate_empty=migrate_empty, pool_size=pool_size, timeout=timeout)
        super().__init__(self.dialect)
