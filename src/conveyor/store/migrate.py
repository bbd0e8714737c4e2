"""Schema migrations through Alembic, and the start-up check that refuses an out-of-date database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from conveyor.core.errors import SchemaOutOfDate

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlalchemy_url(url: str) -> str:
    """Our URLs name the database; SQLAlchemy also wants the driver (psycopg 3)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _engine(url: str) -> Engine:
    return create_engine(sqlalchemy_url(url))


def head() -> str:
    heads = ScriptDirectory.from_config(_config()).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"
    return heads[0]


def current(url: str) -> str | None:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


MIGRATION_LOCK = 0x4D696772  # "Migr": one migrating process at a time on PostgreSQL


def upgrade(url: str, revision: str = "head") -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Servers and workers starting together on an empty database: the first migrates,
                # the others wait here and then find nothing left to do.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def is_empty(url: str) -> bool:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def ensure_current(url: str, *, create_if_empty: bool = True) -> None:
    """Upgrade an empty database (zero set-up); refuse one that is behind or ahead of this code."""
    if create_if_empty and is_empty(url):
        upgrade(url)
        return
    have, want = current(url), head()
    if have != want:
        raise SchemaOutOfDate(
            f"the database schema is at revision {have or 'none'} but this Conveyor needs {want}; "
            "run 'conveyor db upgrade' (with the same --database) and start again",
            {"current": have, "head": want},
        )
