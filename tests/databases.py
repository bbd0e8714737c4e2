"""Real databases for tests: a temp SQLite file, or a PostgreSQL schema of its own per test.

PostgreSQL comes from CONVEYOR_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Where it cannot be reached, PostgreSQL tests skip, except under CI=true, where they fail:
CI must exercise both stores.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from conveyor.store import migrate

PG_URL = os.environ.get("CONVEYOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("sqlite", "postgres")


@functools.cache
def _pg_problem() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} is not reachable: {exc}".strip()
    return None


def require_pg() -> None:
    problem = _pg_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (under CI=true the PostgreSQL tests must run)")
    pytest.skip(problem)


def schema_url(schema: str) -> str:
    joiner = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{joiner}options=-csearch_path%3D{schema}"


@contextmanager
def pg_schema(*, migrated: bool = True) -> Iterator[str]:
    """A fresh schema, dropped afterwards; yields a URL whose connections use it."""
    require_pg()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    url = schema_url(name)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@contextmanager
def database(kind: str, tmp_path: os.PathLike[str], *, migrated: bool = True) -> Iterator[str]:
    """A URL of an empty (migrated) database of `kind`, private to the caller."""
    if kind == "sqlite":
        url = f"sqlite:///{os.fspath(tmp_path)}/conveyor-test.db"
        if migrated:
            migrate.upgrade(url)
        yield url
    elif kind == "postgres":
        with pg_schema(migrated=migrated) as url:
            yield url
    else:  # pragma: no cover
        raise ValueError(kind)
