"""Real databases for tests: a temp SQLite file, or a PostgreSQL schema of its own per test.

Migrating with Alembic for every test was most of the suite's set-up time, so each test gets a
copy of a schema Alembic built once per session instead (tests/test_databases.py checks the
copies are the same as a migrated database):

- SQLite: one template file migrated to head, copied byte for byte into each test's directory;
- PostgreSQL: the DDL Alembic's offline mode (`alembic upgrade head --sql`) writes, captured
  once and replayed into each test's fresh schema in one round trip, `alembic_version` included.

`migrated=False` gives an empty database, for tests of migrating itself (these run real Alembic).

PostgreSQL comes from CONVEYOR_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Where it cannot be reached, PostgreSQL tests skip, except under CI=true, where they fail:
CI must exercise both stores.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from conveyor.store import migrate

PG_URL = os.environ.get("CONVEYOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("sqlite", "postgres")

_template_dir: Path | None = None


def use_template_dir(path: Path) -> None:
    """Where the session's SQLite template goes (tests/conftest.py passes a session temp dir)."""
    global _template_dir
    _template_dir = path


@functools.cache
def sqlite_template() -> Path:
    """A SQLite database Alembic migrated to head, made once per session; tests get copies of it."""
    directory = _template_dir or Path(tempfile.mkdtemp(prefix="conveyor-db-template-"))
    path = directory / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    # A copy of the main file must be the whole database: nothing may wait in a WAL or a journal
    # (closing the last connection checkpoints and removes a WAL; this makes sure of it).
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for leftover in ("-wal", "-shm", "-journal"):
        assert not Path(f"{path}{leftover}").exists(), f"the SQLite template left {path}{leftover} behind"
    path.chmod(0o444)  # a test that opened the template itself instead of its copy fails loudly
    return path


def sqlite_copy(path: os.PathLike[str] | str) -> str:
    """Copy the migrated template to `path` (the main file only); answers the copy's URL."""
    shutil.copyfile(sqlite_template(), path)
    return f"sqlite:///{os.fspath(path)}"


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


@functools.cache
def pg_migration_sql() -> str:
    """What `alembic upgrade head --sql` writes for PostgreSQL: every migration's DDL, unqualified,
    and the alembic_version table and row, in one transaction (BEGIN; ... COMMIT;)."""
    out = io.StringIO()
    cfg = Config(output_buffer=out)
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    engine = create_engine(migrate.sqlalchemy_url(PG_URL))  # offline mode still wants the dialect
    try:
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn  # migrations/env.py runs on the connection given
            command.upgrade(cfg, "head", sql=True)
    finally:
        engine.dispose()
    sql = out.getvalue()
    assert f"'{migrate.head()}'" in sql, "the offline migration does not end at head"
    return sql


@contextmanager
def pg_schema(*, migrated: bool = True) -> Iterator[str]:
    """A fresh schema, dropped afterwards; yields a URL whose connections use it."""
    require_pg()
    name = f"t_{uuid.uuid4().hex[:12]}"
    ddl = pg_migration_sql() if migrated else None
    try:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
            if ddl is not None:
                conn.execute(f"SET search_path TO {name}")
                conn.execute(ddl)  # no parameters: one simple query, however many statements
        yield schema_url(name)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@contextmanager
def database(kind: str, tmp_path: os.PathLike[str], *, migrated: bool = True) -> Iterator[str]:
    """A URL of an empty (migrated) database of `kind`, private to the caller."""
    if kind == "sqlite":
        path = Path(tmp_path) / "conveyor-test.db"
        yield sqlite_copy(path) if migrated else f"sqlite:///{path}"
    elif kind == "postgres":
        with pg_schema(migrated=migrated) as url:
            yield url
    else:  # pragma: no cover
        raise ValueError(kind)
