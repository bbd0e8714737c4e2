"""`/ready` answers only when the database does, at the schema this code expects; `/health` always;
a database that cannot be used now is a 503 that says so."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from conveyor.api import create_app
from conveyor.core.executions import ExecutionService
from conveyor.store import migrate
from conveyor.store.sqlite import SQLiteStore

from .conftest import TestClient, make_catalog


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


def test_a_sqlite_file_locked_by_another_process_answers_503_not_500(tmp_path: Path) -> None:
    store = SQLiteStore(f"sqlite:///{tmp_path}/locked.db", timeout=0.2)
    service = ExecutionService(store, make_catalog())
    holder = sqlite3.connect(store.dialect.path, isolation_level=None)
    try:
        with TestClient(create_app(service), base_url="http://testserver/api/v1") as client:
            holder.execute("BEGIN IMMEDIATE")  # another process writing, and not letting go
            began = time.monotonic()
            answer = client.post("/executions", json={"workflow": "demo.count", "parameters": {"n": 1}})
            assert time.monotonic() - began < 2
            assert answer.status_code == 503 and answer.json()["error"]["code"] == "database_unavailable"
            assert answer.headers["Retry-After"].isdigit()
            holder.execute("ROLLBACK")
            assert (
                client.post(
                    "/executions", json={"workflow": "demo.count", "parameters": {"n": 1}}
                ).status_code
                == 201
            )
    finally:
        holder.close()
        store.close()
