"""The databases tests get from tests/databases.py (copies of a session template) are the same as
databases Alembic migrates: the same tables, columns, indexes, constraints, triggers and revision."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from conveyor.store import migrate, schema
from tests.databases import STORES, database, pg_schema


def sqlite_catalog(url: str) -> dict[str, Any]:
    path = url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as conn:
        master = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        tables = [name for kind, name, _, _ in master if kind == "table"]
        return {
            "sqlite_master": master,
            "columns": {t: conn.execute(f"PRAGMA table_xinfo({t})").fetchall() for t in tables},
            "indexes": {t: conn.execute(f"PRAGMA index_list({t})").fetchall() for t in tables},
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            "user_version": conn.execute("PRAGMA user_version").fetchall(),
        }


PG_QUERIES = {
    "tables": "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %(s)s",
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
               numeric_precision, is_nullable, column_default, is_identity, is_generated
        FROM information_schema.columns WHERE table_schema = %(s)s""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
    "constraints": """
        SELECT c.conname, c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %(s)s""",
    "sequences": """
        SELECT sequence_name, data_type, start_value, minimum_value, maximum_value, increment
        FROM information_schema.sequences WHERE sequence_schema = %(s)s""",
    "owned_sequences": """
        SELECT s.relname, t.relname, a.attname
        FROM pg_depend d
        JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        JOIN pg_namespace n ON n.oid = s.relnamespace
        WHERE n.nspname = %(s)s AND d.deptype = 'a'""",
    "triggers": """
        SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %(s)s AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %(s)s""",
    "version": "SELECT version_num FROM alembic_version",
}


def pg_catalog(url: str) -> dict[str, Any]:
    schema_name = url.rsplit("%3D", 1)[1]
    out: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        for key, sql in PG_QUERIES.items():
            rows = conn.execute(sql, {"s": schema_name}).fetchall()
            # Names are the same but for the schema's own (random) name, wherever it shows.
            out[key] = sorted(tuple(str(v).replace(schema_name, "<schema>") for v in row) for row in rows)
    return out


@contextmanager
def alembic_migrated(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database migrated by Alembic itself, as tests had before the templates."""
    (tmp_path / "alembic").mkdir()
    with database(kind, tmp_path / "alembic", migrated=False) as url:
        migrate.upgrade(url)
        yield url


@pytest.mark.parametrize("kind", STORES)
def test_a_test_database_is_the_schema_alembic_builds(kind: str, tmp_path: Path) -> None:
    catalog = sqlite_catalog if kind == "sqlite" else pg_catalog
    with database(kind, tmp_path) as copied, alembic_migrated(kind, tmp_path) as migrated:
        assert copied != migrated
        got, want = catalog(copied), catalog(migrated)
        tables = {row[0] for row in got["tables"]} if kind == "postgres" else set(got["columns"])
        assert {"executions", "events", "alembic_version"} <= tables
        assert got["indexes"], "no indexes were compared"
        assert got == want
        assert got["version"] == [(migrate.head(),)]
        assert migrate.current(copied) == migrate.head()
        migrate.ensure_current(copied, create_if_empty=False)  # a store opens it as it is
        engine = create_engine(migrate.sqlalchemy_url(copied))
        try:
            with engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        finally:
            engine.dispose()


def test_each_postgres_schema_is_its_own() -> None:
    with pg_schema() as one, pg_schema() as two:
        with psycopg.connect(one) as conn:
            conn.execute("INSERT INTO targets (name, created_at) VALUES ('only-in-one', 0)")
        with psycopg.connect(two) as conn:
            assert conn.execute("SELECT COUNT(*) FROM targets").fetchone() == (0,)
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (migrate.head(),)
