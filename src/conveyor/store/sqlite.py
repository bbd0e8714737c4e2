"""The embedded store: SQLite in WAL mode through the standard `sqlite3` module.

One writer connection per process, guarded by a lock, takes every write
inside `BEGIN IMMEDIATE`; other processes on the same file wait on
`busy_timeout` (`timeout`: 30 s by default, CONVEYOR_STATEMENT_TIMEOUT under
a server; past it the call fails with DatabaseUnavailable, a 503).
Holding the database's write lock makes each
read-compute-write atomic, so the compare-and-set on the status never loses
a race and admission needs no lock of its own (and rows need no row locks).
Readers use one connection per thread and never block the writer (WAL).
Commits never copy the WAL back into the database (which syncs the disk and
made one commit in fifty take milliseconds longer): a checkpointer thread does
it in the background a few times a second, without blocking the writer.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conveyor.core.errors import DatabaseUnavailable
from conveyor.store import migrations
from conveyor.store.dialect import Conn, WorkSignal
from conveyor.store.sql import plain
from conveyor.store.sqlbuild import placeholders
from conveyor.store.sqlstore import SQLStore

log = logging.getLogger("conveyor.store.sqlite")

#: Seconds a write waits for another process's write lock before the call is unavailable.
DEFAULT_TIMEOUT = 30.0
#: Seconds between background checkpoints (copies of the WAL into the database file).
CHECKPOINT_SECONDS = 0.25


def path_of(url: str) -> str:
    """'sqlite:///conveyor.db' -> 'conveyor.db'; 'sqlite:////abs/x.db' -> '/abs/x.db'."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a SQLite URL: {url}")
    return url[len("sqlite:///") :]


class SQLiteDialect:
    lock = ""
    skip_locked = ""
    offset = "LIMIT -1 OFFSET ?"

    def __init__(self, url: str, *, migrate_empty: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.path = path_of(url)
        self.timeout = timeout
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if not self._schema_is_current():
            from conveyor.store import migrate  # Alembic, only when there is a schema to make or refuse

            migrate.ensure_current(url, create_if_empty=migrate_empty)
        self._write_lock = threading.Lock()
        self.writer = self._connect()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._work = WorkSignal()
        self._signal_on_commit = False  # only touched while holding the write lock
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if self.path != ":memory:":
            self._checkpointer = threading.Thread(
                target=self._checkpoint, name="conveyor-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _schema_is_current(self) -> bool:
        try:
            with contextlib.closing(sqlite3.connect(self.path, timeout=self.timeout)) as conn:
                found = conn.execute(plain("schema_revision")).fetchall()
        except sqlite3.Error:  # no such table: empty, or not ours
            return False
        return bool(found) and found[0][0] == migrations.head()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.timeout)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        conn.execute("PRAGMA cache_size=-32000")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job, off the commit path
        return conn

    def _checkpoint(self) -> None:
        """Copy the WAL into the database file now and then (PASSIVE: never waits for, nor blocks,
        readers or writers), so the WAL stays short and reads stay fast."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=0)
        try:
            while not self._closed.wait(CHECKPOINT_SECONDS):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.OperationalError:  # busy: another process's turn
                    continue
                except Exception:  # never let the WAL grow without end because this thread died
                    log.exception("WAL checkpoint failed; trying again")
        finally:
            conn.close()

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self.reader().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise _unavailable(exc) from exc

    def table(self, name: str, index: str) -> str:
        # Without ANALYZE statistics the planner prefers ix_executions_status and sorts every row of
        # that status; `index` names the partial index built for the query (see store.schema).
        return f"{name} INDEXED BY {index}"

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One write transaction holding the database's write lock for its whole length."""
        with self._write_lock:
            conn = self.writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # another process held the lock past busy_timeout
                raise _unavailable(exc) from exc
            try:
                yield conn
            except BaseException:
                self._signal_on_commit = False
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            if self._signal_on_commit:
                self._signal_on_commit = False
                self._work.set()

    def lock_admission(self, conn: Conn, *, targets: set[str] | tuple[()], exclusive: bool) -> None:
        """Nothing to do: the write transaction already holds the only write lock."""

    def update_executions(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        conn.executemany(sql, values)

    def insert_events(self, conn: Conn, sql: str, values: list[tuple[Any, ...]]) -> None:
        conn.executemany(sql, values)

    def claim(
        self,
        sql: Mapping[str, str],
        queues: Sequence[str],
        limit: int,
        holder: tuple[Any, ...],
        event: tuple[Any, ...],
    ) -> list[Any]:
        with self.transaction() as conn:
            claimed = conn.execute(
                sql["claim"].format(queues=placeholders(len(queues))), (*holder, *queues, limit)
            ).fetchall()
            conn.executemany(sql["insert_event"], [(r[0], event[0], "status", *event[1:]) for r in claimed])
        claimed.sort(key=lambda r: (-r[5], r[0]))  # RETURNING follows no order: best priority first
        return claimed

    def finish_held(
        self, sql: Mapping[str, str], values: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
    ) -> tuple[set[str], bool]:
        with self.transaction() as conn:
            written = {v[15] for v in values if conn.execute(sql["update_held"], v).rowcount == 1}
            conn.executemany(sql["insert_event"], [e for e in events if e[0] in written])
            queued = bool(conn.execute(sql["any_queued"]).fetchall())
        return written, queued

    def work_appeared(self, conn: Conn) -> None:
        self._signal_on_commit = True  # workers must not look before the rows are visible

    def wait_for_work(self, timeout: float) -> bool:
        return self._work.wait(timeout)

    def wake_workers(self) -> None:
        self._work.set()

    def close(self) -> None:
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        with self._write_lock:
            self.writer.close()
        with self._readers_lock:
            for c in self._readers:
                with contextlib.suppress(sqlite3.ProgrammingError):  # best effort: its thread may be gone
                    c.close()
            self._readers.clear()


#: sqlite3 messages that mean the file cannot be used now, as opposed to a bug in a statement.
_OUTAGES = ("database is locked", "unable to open database", "disk i/o error", "database or disk is full")


def _unavailable(exc: sqlite3.OperationalError) -> Exception:
    """DatabaseUnavailable for an outage of the file (503, retry later); the error itself otherwise."""
    message = str(exc)
    if message.lower().startswith(_OUTAGES):
        return DatabaseUnavailable(message)
    return exc


class SQLiteStore(SQLStore):
    """The store on a SQLite file: `SQLStore(SQLiteDialect(url))`."""

    def __init__(self, url: str, *, migrate_empty: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.dialect = SQLiteDialect(url, migrate_empty=migrate_empty, timeout=timeout)
        super().__init__(self.dialect)
