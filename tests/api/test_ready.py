"""`/ready` answers only when the database does, at the schema this code expects; `/health` always."""

from __future__ import annotations

import sqlite3

from conveyor.store import migrate
from conveyor.store.sqlite import SQLiteStore

from .conftest import TestClient


def test_ready_names_the_schema_revision(client: TestClient) -> None:
    answer = client.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer.json()["schema_revision"] == migrate.head()


def test_a_database_behind_the_code_is_not_ready(client: TestClient, store: SQLiteStore) -> None:
    with sqlite3.connect(store.dialect.path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'an_old_one'")
    answer = client.get("/ready")
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "schema_out_of_date" and "conveyor db upgrade" in error["message"]
    assert client.get("/health").status_code == 200
