"""The named statements (store/sql/*.sql): they load, they are all used, and they match the rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conveyor.store import rows, sql
from conveyor.store.postgres import PostgresDialect
from conveyor.store.sqlite import SQLiteDialect

STORE = Path(sql.__file__).parent.parent
CODE = "\n".join(p.read_text() for p in STORE.glob("*.py"))
#: Calls that name a statement: db.run(conn, "x"), db.read("x"), db.executions(conn, "x"), sql["x"].
CALLS = re.compile(r'\.(?:run|read|executions)\((?:conn, )?"(\w+)"|(?:sql|QUERIES)\["(\w+)"\]')


def _assigned(statement: str) -> tuple[str, ...]:
    """The columns of `SET a = ?, b = v.b, ...` in the order written."""
    body = statement.split(" SET", 1)[1].split("WHERE", 1)[0].split("FROM", 1)[0]
    return tuple(part.split("=")[0].strip() for part in body.split(","))


def test_every_statement_a_call_names_exists() -> None:
    named = {a or b for a, b in CALLS.findall(CODE)}
    assert named, "the pattern finds no call"
    assert named <= set(sql.QUERIES), sorted(named - set(sql.QUERIES))


def test_every_statement_is_used() -> None:
    unused = [name for name in sql.QUERIES if f'"{name}"' not in CODE]
    assert not unused


def test_the_writes_name_the_columns_of_the_rows() -> None:
    assert _assigned(sql.QUERIES["update_execution"]) == rows.MUTABLE
    assert _assigned(sql.QUERIES["pg_update_executions"]) == rows.MUTABLE
    assert _assigned(sql.QUERIES["update_schedule"]) == rows.SCHEDULE_COLUMNS[1:]


@pytest.mark.parametrize("dialect", [SQLiteDialect, PostgresDialect])
def test_rendering_leaves_only_the_per_call_slots(dialect: type[SQLiteDialect | PostgresDialect]) -> None:
    rendered = sql.render(dialect.__new__(dialect))
    assert rendered.keys() == sql.QUERIES.keys()
    left = {slot for text in rendered.values() for slot in re.findall(r"\{(\w+)\}", text)}
    assert left <= sql.PER_CALL


def test_a_file_names_each_statement_once() -> None:
    text = "-- about the file\n-- name: a\nSELECT 1\n-- a comment\nFROM t\n\n-- name: b\nSELECT 2\n"
    assert sql.parse(text) == {"a": "SELECT 1\nFROM t", "b": "SELECT 2"}
    with pytest.raises(ValueError, match="named twice"):
        sql.parse("-- name: a\nSELECT 1\n-- name: a\nSELECT 2")
