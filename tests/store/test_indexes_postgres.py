"""Every query the PostgreSQL store issues on a large table is served by an index.

The PostgreSQL twin of test_indexes.py: 100,000 executions in mixed statuses
(the same population) are copied into a fresh schema and analyzed; then each
store operation of the same list runs with `Tx.execute` and
`PostgresDialect.one_statement` wrapped, so the statements checked are exactly the
ones postgres.py sends, with their parameters. `EXPLAIN (FORMAT JSON)` of each,
with the same values, must show no sequential scan of `executions` or `events`
(a bitmap index scan is an index scan), and the named queries must use the
index built for them.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from conveyor.store import rows
from conveyor.store.postgres import PostgresDialect, PostgresStore, Tx, _pg, connection_url
from conveyor.store.rows import COLUMNS
from tests.databases import pg_schema, require_pg

from .test_indexes import MEANT_INDEX, NOW, OPERATIONS, TABLES, N, _population

pytestmark = pytest.mark.postgres

#: The index each query was built for; `get` reads by the primary key.
MEANT_INDEX_PG = {**MEANT_INDEX, "get": "executions_pkey"}
#: Lists of one common value, newest first, that PostgreSQL may serve from the primary key instead.
PAGE_BY_ID_WALK = {"list by status sorted by id", "list by workflow", "list by creator"}


@pytest.fixture(scope="module")
def big_pg() -> Iterator[str]:
    """A migrated schema holding the 100,000 executions of test_indexes.py, each with its creation event."""
    require_pg()
    with pg_schema() as url:
        columns = ", ".join(f'"{c}"' for c in COLUMNS)
        with psycopg.connect(connection_url(url)) as conn:
            ids: list[str] = []
            with conn.cursor() as cur:
                with cur.copy(f"COPY executions ({columns}) FROM STDIN") as copy:
                    for e in _population(random.Random(1)):
                        copy.write_row(rows.execution_to_row(e))
                        ids.append(e.id)
                ts = NOW.timestamp()
                with cur.copy("COPY events (execution_id, ts, kind, level, message) FROM STDIN") as copy:
                    for i in ids:  # the store writes one for every execution it creates
                        copy.write_row((i, ts, "status", "info", "created as queued"))
                cur.execute("INSERT INTO targets (name, max_concurrent, created_at) VALUES ('t1', 3, 0)")
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE executions")
            conn.execute("ANALYZE events")
            assert conn.execute("SELECT COUNT(*) FROM executions").fetchone() == (N,)
        yield url


@dataclass
class Traced:
    store: PostgresStore
    statements: list[tuple[str, Sequence[Any]]] = field(default_factory=list)

    def run(self, action: Callable[[Any], object]) -> dict[str, Sequence[Any]]:
        """The statements on executions/events `action` sends, `?`-style, each with its first parameters."""
        self.statements.clear()
        action(self.store)
        out: dict[str, Sequence[Any]] = {}
        for sql, params in self.statements:
            if _touches_tables(sql):
                out.setdefault(sql, params)
        return out


def _touches_tables(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].upper()
    return head in ("SELECT", "UPDATE", "DELETE", "WITH") and any(re.search(rf"\b{t}\b", sql) for t in TABLES)


@pytest.fixture(scope="module")
def traced(big_pg: str) -> Iterator[Traced]:
    store = PostgresStore(big_pg)
    out = Traced(store)
    execute, execute_binary, one = Tx.execute, Tx.execute_binary, PostgresDialect.one_statement

    def traced_execute(self: Tx, sql: str, params: Sequence[Any] = (), /) -> Any:
        out.statements.append((sql, params))
        return execute(self, sql, params)

    def traced_execute_binary(self: Tx, sql: str, params: Sequence[Any]) -> Any:
        out.statements.append((sql, params))
        return execute_binary(self, sql, params)

    def traced_one(
        self: PostgresDialect, sql: str, params: Sequence[Any], *, binary: bool = False
    ) -> list[Any]:
        out.statements.append((sql, params))
        return one(self, sql, params, binary=binary)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Tx, "execute", traced_execute)
        mp.setattr(Tx, "execute_binary", traced_execute_binary)
        mp.setattr(PostgresDialect, "one_statement", traced_one)
        yield out
    store.close()


@pytest.fixture(scope="module")
def explainer(big_pg: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(connection_url(big_pg), autocommit=True) as conn:
        yield conn


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _plan(conn: psycopg.Connection[Any], sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Every node of the plan PostgreSQL makes for `sql` with these parameter values."""
    ((doc,),) = conn.execute(f"EXPLAIN (FORMAT JSON) {_pg(sql)}", params).fetchall()
    doc = json.loads(doc) if isinstance(doc, str) else doc
    return list(_nodes(doc[0]["Plan"]))


def _show(nodes: list[dict[str, Any]]) -> str:
    keys = ("Node Type", "Relation Name", "Index Name", "Index Cond", "Filter", "Plan Rows")
    return "\n".join("    " + ", ".join(f"{k}={_short(n[k])}" for k in keys if k in n) for n in nodes)


def _short(value: object, width: int = 160) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 5] + " ...)"


def _meant_index_used(name: str, plans: dict[str, list[dict[str, Any]]]) -> bool:
    used = {n.get("Index Name") for nodes in plans.values() for n in nodes}
    if MEANT_INDEX_PG[name] in used:
        return True
    # A page sorted by id may instead walk the primary key backwards, filtering, and stop at the
    # page's end: PostgreSQL's choice when the value is common. Still an index scan, bounded by LIMIT.
    return name in PAGE_BY_ID_WALK and all(
        nodes[0]["Node Type"] == "Limit" and nodes[1].get("Index Name") == "executions_pkey"
        for nodes in plans.values()
    )


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_store_queries_use_indexes_on_a_large_table(
    traced: Traced, explainer: psycopg.Connection[Any], name: str
) -> None:
    statements = traced.run(OPERATIONS[name])
    assert statements, f"{name} issued no statement on {TABLES}"
    plans = {sql: _plan(explainer, sql, params) for sql, params in statements.items()}
    shown = "\n".join(f"  {_short(sql)}\n{_show(nodes)}" for sql, nodes in plans.items())
    if name in MEANT_INDEX_PG:
        assert _meant_index_used(name, plans), f"{name} does not use {MEANT_INDEX_PG[name]}:\n{shown}"
    for sql, nodes in plans.items():
        scans = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in TABLES]
        assert not scans, f"{name}: sequential scan in\n  {_short(sql)}\n{_show(nodes)}"
