"""Schema migrations: a fresh database is created at head; one that is behind is refused with advice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect, text

from conveyor.core.errors import SchemaOutOfDate
from conveyor.core.ports import Store
from conveyor.store import migrate, migrations, schema
from tests.databases import database

TABLES = {
    "executions",
    "execution_counts",
    "workers",
    "events",
    "schedules",
    "workflows",
    "targets",
    "target_groups",
    "target_group_members",
    "execution_groups",
    "tokens",
    "idempotency_keys",
    "alembic_version",
}


@pytest.fixture
def empty_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    with database(store_kind, tmp_path, migrated=False) as url:
        yield url


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    engine = create_engine(migrate.sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def test_a_fresh_database_is_upgraded_to_head(empty_url: str, open_store: Callable[[str], Store]) -> None:
    assert migrate.is_empty(empty_url)
    open_store(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    with connect(empty_url) as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
    migrate.ensure_current(empty_url, create_if_empty=False)  # now accepted as it is


def test_the_migrations_build_exactly_the_schema_the_code_describes(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    with connect(empty_url) as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_migrations_have_one_head() -> None:
    assert migrate.head()


def test_each_script_is_named_after_its_revision_so_the_head_can_be_read_without_alembic() -> None:
    scripts = ScriptDirectory.from_config(migrate._config())
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path
    assert migrations.head() == migrate.head()


def _assert_refused(url: str, open_store: Callable[[str], Store], current: str) -> None:
    with pytest.raises(SchemaOutOfDate) as info:
        open_store(url)
    err = info.value
    assert err.code == "schema_out_of_date"
    assert "run 'conveyor db upgrade'" in err.message
    assert f"revision {current}" in err.message
    assert migrate.head() in err.message
    assert err.details["head"] == migrate.head()


def test_a_database_whose_revision_is_behind_is_refused(
    empty_url: str, open_store: Callable[[str], Store]
) -> None:
    migrate.upgrade(empty_url)
    with connect(empty_url) as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    _assert_refused(empty_url, open_store, "0000_older")
    assert migrate.current(empty_url) == "0000_older"  # refusing changes nothing


def test_tables_without_a_revision_are_refused(empty_url: str, open_store: Callable[[str], Store]) -> None:
    with connect(empty_url) as conn:
        schema.metadata.create_all(conn)
    assert migrate.current(empty_url) is None
    _assert_refused(empty_url, open_store, "none")


def test_a_revision_stamped_away_is_refused(empty_url: str, open_store: Callable[[str], Store]) -> None:
    migrate.upgrade(empty_url)
    with connect(empty_url) as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    _assert_refused(empty_url, open_store, "none")


def test_an_empty_database_is_refused_when_creating_is_not_allowed(empty_url: str) -> None:
    with pytest.raises(SchemaOutOfDate):
        migrate.ensure_current(empty_url, create_if_empty=False)


def test_upgrading_a_database_at_head_again_changes_nothing(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
