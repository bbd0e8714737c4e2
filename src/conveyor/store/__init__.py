"""Store implementations of `conveyor.core.ports.Store`."""

from __future__ import annotations

from conveyor.core.ports import Store


def open_store(url: str, *, migrate_empty: bool = True) -> Store:
    """The store for a database URL: sqlite:///path or postgresql://..."""
    if url.startswith("sqlite:///"):
        from conveyor.store.sqlite import SQLiteStore

        return SQLiteStore(url, migrate_empty=migrate_empty)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from conveyor.store.postgres import PostgresStore

        return PostgresStore(url, migrate_empty=migrate_empty)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")
