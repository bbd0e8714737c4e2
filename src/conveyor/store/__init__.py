"""Store implementations of `conveyor.core.ports.Store`."""

from __future__ import annotations

from conveyor.core.ports import Store


def open_store(url: str, *, migrate_empty: bool = True, timeout: float | None = None) -> Store:
    """The store for a database URL: sqlite:///path or postgresql://...

    timeout: seconds one PostgreSQL statement may run (and a call may wait for a connection), or a
    SQLite write may wait for another process's lock, before the call fails with
    DatabaseUnavailable; None keeps the store's default.
    """
    if url.startswith("sqlite:///"):
        from conveyor.store.sqlite import SQLiteStore

        if timeout is None:
            return SQLiteStore(url, migrate_empty=migrate_empty)
        return SQLiteStore(url, migrate_empty=migrate_empty, timeout=timeout)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from conveyor.store.postgres import PostgresStore

        if timeout is None:
            return PostgresStore(url, migrate_empty=migrate_empty)
        return PostgresStore(url, migrate_empty=migrate_empty, timeout=timeout)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")
