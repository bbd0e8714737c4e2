"""The executions half of the SQL stores' shared logic (sqlstore.SQLStore is the whole).

It also declares what a dialect must provide (the first section of the class).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from conveyor.core import admission, states
from conveyor.core.errors import ExistingRunningExecution, IllegalTransition, NotFound
from conveyor.core.model import (
    ACTIVE,
    HELD,
    Event,
    Execution,
    ExecutionFilter,
    Page,
    Role,
    Status,
    Token,
    WorkflowInfo,
)
from conveyor.core.ports import Step
from conveyor.store import rows, sqlbuild
from conveyor.store.rows import SELECT_COLUMNS, ts
from conveyor.store.sqlbuild import (
    ACTIVE_IN,
    HELD_IN,
    IDEMPOTENCY_SECONDS,
    INSERT_EVENT,
    INSERT_EXECUTION,
    UPDATE_EXECUTION,
)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...


class Conn(Protocol):
    """The part of a DB-API connection the shared logic uses, with `?` placeholders."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any: ...


class ExecutionSQL:
    #: Row-lock clauses appended to SELECTs whose rows the transaction will write.
    FOR_UPDATE = ""
    SKIP_LOCKED = ""
    #: "Skip the first N rows, return the rest" in this dialect.
    OFFSET_ONLY = "OFFSET ?"

    # --- what a dialect provides ------------------------------------------------

    def _tx(self) -> AbstractContextManager[Conn]:
        """A write transaction."""
        raise NotImplementedError

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read outside any write transaction."""
        raise NotImplementedError

    def _table(self, index: str | None) -> str:
        """The executions table, with an index hint where the dialect's planner needs one."""
        return "executions"

    def _lock_admission(self, conn: Conn, *, targets: set[str] | tuple[()], exclusive: bool) -> None:
        """Serialize admission decisions with other processes (held until the transaction ends)."""

    def _update_rows(self, conn: Conn, values: list[tuple[Any, ...]]) -> None:
        """UPDATE_EXECUTION for each row of values (the MUTABLE columns, then id and old status)."""
        conn.executemany(UPDATE_EXECUTION, values)

    def _insert_event_rows(self, conn: Conn, values: list[tuple[Any, ...]]) -> None:
        conn.executemany(INSERT_EVENT, values)

    def _work_appeared(self, conn: Conn) -> None:
        """Pending work was written in this transaction: wake workers once it commits."""

    def wait_for_work(self, timeout: float) -> bool:
        raise NotImplementedError

    def wake_workers(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- helpers inside a transaction -------------------------------------------

    def _select(
        self, conn: Conn, where: str, params: Sequence[Any], *, index: str | None = None, lock: str = ""
    ) -> list[Execution]:
        """Executions matching `where`; `lock` is the dialect's row-lock clause when rows will be written."""
        cur = conn.execute(f"SELECT {SELECT_COLUMNS} FROM {self._table(index)} WHERE {where}{lock}", params)
        return [rows.execution_from_row(r) for r in cur.fetchall()]

    def _write(
        self, conn: Conn, changes: Sequence[tuple[Execution, Execution]], now: datetime
    ) -> list[Execution]:
        """Write transitions (old, new) with compare-and-set on the old status, and their events.

        Returns the new versions as written (an unchanged one comes back as it was).
        """
        changed = [(o, n.evolve(updated_at=now)) for o, n in changes if n is not o]
        if not changed:
            return [n for _, n in changes]
        self._update_rows(conn, [(*rows.mutable_values(n), n.id, str(o.status)) for o, n in changed])
        events = [rows.status_event_row(o, n, now) for o, n in changed if o.status is not n.status]
        if events:
            self._insert_event_rows(conn, events)
        self._after_write(conn, [n for o, n in changed if o.status is not n.status])
        written = {n.id: n for _, n in changed}
        return [written.get(n.id, n) if n is not o else n for o, n in changes]

    def _after_write(self, conn: Conn, written: Sequence[Execution]) -> None:
        """Executions whose status just changed, for follow-up writes in the same transaction."""

    def _insert_events(self, conn: Conn, events: Sequence[Event]) -> None:
        if events:
            self._insert_event_rows(conn, [rows.event_to_row(e) for e in events])

    def _occupancy(self, conn: Conn) -> admission.Occupancy:
        occ = admission.Occupancy()
        cur = conn.execute(
            f"SELECT target, is_system, group_id, COUNT(*) FROM executions WHERE status IN {ACTIVE_IN} "
            "GROUP BY target, is_system, group_id"
        )
        for target, is_system, group, n in cur.fetchall():
            occ.active += n
            if group is not None:
                occ.by_group[group] += n
            if is_system:
                occ.system_active += n
            elif target is not None:
                occ.by_target[target] += n
        self._limits(conn, occ, set(occ.by_target))
        self._group_limits(conn, occ, set(occ.by_group))
        return occ

    def _lookup(self, conn: Conn, sql: str, into: dict[str, int], keys: set[str]) -> None:
        """Fill `into` with (key, limit) rows of `sql` ('... WHERE key IN ({})') for keys not there yet."""
        missing = sorted(k for k in keys if k not in into)
        if missing:
            into.update(dict(conn.execute(sql.format(", ".join("?" * len(missing))), missing).fetchall()))

    def _limits(self, conn: Conn, occ: admission.Occupancy, names: set[str]) -> None:
        self._lookup(
            conn, "SELECT name, max_concurrent FROM targets WHERE name IN ({})", occ.max_concurrent, names
        )

    def _group_limits(self, conn: Conn, occ: admission.Occupancy, groups: set[str]) -> None:
        sql = "SELECT id, concurrency FROM execution_groups WHERE id IN ({})"
        self._lookup(conn, sql, occ.group_concurrency, groups)

    def _queued_probe(self, condition: str) -> str:
        """Is anything queued (and `condition`)? Served by the partial index of queued executions."""
        return f"SELECT 1 FROM {self._table('ix_executions_queued')} WHERE status = 'queued'{condition}"

    def _admit(self, conn: Conn, now: datetime) -> int:
        """Admission of queued executions, inside the caller's transaction."""
        # In ix_executions_queued's order: a bare LIMIT 1 lets PostgreSQL scan the table for the row.
        if not conn.execute(f"{self._queued_probe('')} ORDER BY priority DESC, id LIMIT 1").fetchall():
            return 0
        self._lock_admission(conn, targets=(), exclusive=True)
        queued = self._select(
            conn, "status = 'queued' ORDER BY priority DESC, id LIMIT 1000", (), index="ix_executions_queued"
        )
        occ = self._occupancy(conn)
        self._limits(conn, occ, {e.target for e in queued if e.target is not None})
        self._group_limits(conn, occ, {e.group_id for e in queued if e.group_id is not None})
        by_id = {e.id: e for e in queued}
        picked = admission.admit_in_order(
            (admission.Candidate(e.id, e.target, e.is_system, e.force, e.group_id) for e in queued), occ
        )
        if picked and self.FOR_UPDATE:
            # The queued rows were read without row locks: a writer holding one (a cancel) may have
            # changed it since. Lock the picks and keep those still queued, or the compare-and-set
            # below would skip the row yet its "queued -> pending" event would still be written.
            ids = [c.id for c in picked]
            fresh = self._select(
                conn, f"id IN ({', '.join('?' * len(ids))}) AND status = 'queued'", ids, lock=self.FOR_UPDATE
            )
            by_id.update({e.id: e for e in fresh})
            picked = [c for c in picked if c.id in {e.id for e in fresh}]
        self._write(
            conn, [(by_id[c.id], states.transition(by_id[c.id], states.Admit())) for c in picked], now
        )
        if picked:
            self._work_appeared(conn)
        return len(picked)

    # --- workflows ---------------------------------------------------------------

    def upsert_workflows(self, infos: Sequence[WorkflowInfo]) -> None:
        now = time.time()
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO workflows (name, info, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at",
                [(i.name, rows.dumps(i.to_dict()), now) for i in infos],
            )

    def list_workflows(self) -> list[WorkflowInfo]:
        out = []
        for (info,) in self._fetchall("SELECT info FROM workflows ORDER BY name"):
            out.append(WorkflowInfo(**rows.loads(info)))
        return out

    # --- executions ------------------------------------------------------------------

    def start(
        self, executions: Sequence[Execution], *, refuse_blocked: bool, now: datetime
    ) -> list[Execution]:
        with self._tx() as conn:
            existing = self._existing_by_key(conn, executions)
            fresh = [e for e in executions if e.idempotency_key not in existing]
            decided = self._decide_starts(conn, fresh, refuse_blocked=refuse_blocked)
            if decided:
                conn.executemany(INSERT_EXECUTION, [rows.execution_to_row(e) for e in decided])
                self._insert_event_rows(conn, [rows.status_event_row(None, e, now) for e in decided])
            if any(e.status is Status.PENDING for e in decided):
                self._work_appeared(conn)
        by_id = {e.id: e for e in decided}
        return [
            existing[e.idempotency_key] if e.idempotency_key in existing else by_id[e.id] for e in executions
        ]

    def _existing_by_key(self, conn: Conn, executions: Sequence[Execution]) -> dict[Any, Execution]:
        keys = [e.idempotency_key for e in executions if e.idempotency_key]
        if not keys:
            return {}
        found = self._select(conn, f"idempotency_key IN ({', '.join('?' * len(keys))})", keys)
        return {e.idempotency_key: e for e in found}

    def _decide_starts(
        self, conn: Conn, executions: Sequence[Execution], *, refuse_blocked: bool
    ) -> list[Execution]:
        queued_now = [e for e in executions if e.status is Status.QUEUED]
        if not queued_now:
            return list(executions)
        targets = {e.target for e in queued_now if e.target is not None}
        self._lock_admission(conn, targets=targets, exclusive=any(e.is_system for e in queued_now))
        occ = self._occupancy(conn)
        self._limits(conn, occ, targets)
        self._group_limits(conn, occ, {e.group_id for e in queued_now if e.group_id is not None})
        system_queued = (
            conn.execute(
                f"{self._queued_probe(' AND is_system')} ORDER BY priority DESC, id LIMIT 1"
            ).fetchone()
            is not None
        )
        waiting_targets: set[str] = set()
        if targets:
            names = list(targets)
            waiting_targets = {
                t for (t,) in conn.execute(
                    f"SELECT DISTINCT target FROM executions WHERE status = 'queued' "
                    f"AND target IN ({', '.join('?' * len(names))})", names,
                ).fetchall()
            }  # fmt: skip
        out: list[Execution] = []
        for e in executions:
            if e.status is not Status.QUEUED:
                out.append(e)
                continue
            c = admission.Candidate(e.id, e.target, e.is_system, e.force, e.group_id)
            why = admission.start_decision(
                c, occ, system_queued=system_queued, target_queued=e.target in waiting_targets
            )
            if why is None:
                occ.take(c)
                out.append(states.transition(e, states.Admit()))
            elif refuse_blocked:
                raise ExistingRunningExecution(e.target, why)
            else:
                out.append(e)
                system_queued = system_queued or e.is_system
                if e.target is not None:
                    waiting_targets.add(e.target)
        return out

    def get(self, execution_id: str) -> Execution | None:
        found = [rows.execution_from_row(r) for r in self._fetchall(
            f"SELECT {SELECT_COLUMNS} FROM executions WHERE id = ?", (execution_id,))]  # fmt: skip
        return found[0] if found else None

    def list_executions(
        self, flt: ExecutionFilter, *, sort: Sequence[str], limit: int, cursor: str | None
    ) -> Page:
        keys = sqlbuild.parse_sort(sort)
        cond, params = sqlbuild.where(flt)
        after, after_params = sqlbuild.after_cursor(keys, cursor)
        raw = self._fetchall(
            f"SELECT {SELECT_COLUMNS} FROM executions WHERE {cond} AND {after} "
            f"ORDER BY {sqlbuild.order_by(keys)} LIMIT ?",
            [*params, *after_params, limit + 1],
        )
        more = len(raw) > limit
        raw = raw[:limit]
        return Page(
            [rows.execution_from_row(r) for r in raw],
            sqlbuild.cursor_for(keys, raw[-1]) if more and raw else None,
        )

    def count(self, flt: ExecutionFilter) -> int:
        cond, params = sqlbuild.where(flt)
        return int(self._fetchall(f"SELECT COUNT(*) FROM executions WHERE {cond}", params)[0][0])

    def apply(
        self, execution_id: str, step: Step, *, now: datetime, events: Sequence[Event] = ()
    ) -> Execution:
        with self._tx() as conn:
            found = self._select(conn, "id = ?", (execution_id,), lock=self.FOR_UPDATE)
            if not found:
                raise NotFound("execution", execution_id)
            old = found[0]
            new = step(old)
            (written,) = self._write(conn, [(old, new)], now)
            self._insert_events(conn, events)
            if _needs_admission(old, new) and self._admit(conn, now):
                written = self._select(conn, "id = ?", (execution_id,))[0]
            return written

    def delete(self, execution_ids: Sequence[str]) -> int:
        if not execution_ids:
            return 0
        with self._tx() as conn:
            return self._delete_ids(conn, list(execution_ids))

    def _delete_ids(self, conn: Conn, ids: list[str]) -> int:
        deleted = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            conn.execute(f"DELETE FROM events WHERE execution_id IN ({marks})", chunk)
            deleted += conn.execute(f"DELETE FROM executions WHERE id IN ({marks})", chunk).rowcount
        return deleted

    def delete_finished(self, flt: ExecutionFilter, *, keep_last: int | None) -> int:
        cond, params = sqlbuild.where(flt)
        terminal = "status IN ('succeeded', 'failed', 'cancelled')"
        with self._tx() as conn:
            sql = f"SELECT id FROM executions WHERE {cond} AND {terminal} ORDER BY id DESC"
            if keep_last is not None:
                sql += f" {self.OFFSET_ONLY}"
                params = [*params, keep_last]
            ids = [r[0] for r in conn.execute(sql, params).fetchall()]
            return self._delete_ids(conn, ids)

    # --- worker side -----------------------------------------------------------------

    def claim(
        self, worker_id: str, queues: Sequence[str], limit: int, *, now: datetime, lease_until: datetime
    ) -> list[Execution]:
        marks = ", ".join("?" * len(queues))
        with self._tx() as conn:
            pending = self._select(
                conn,
                f"status = 'pending' AND queue IN ({marks}) ORDER BY priority DESC, id LIMIT ?",
                [*queues, limit],
                index="ix_executions_pending",
                lock=self.SKIP_LOCKED,
            )
            event = states.Claim(worker_id, now, lease_until)
            return self._write(conn, [(e, states.transition(e, event)) for e in pending], now)

    def has_pending(self, queues: Sequence[str]) -> bool:
        marks = ", ".join("?" * len(queues))
        sql = f"SELECT 1 FROM executions WHERE status = 'pending' AND queue IN ({marks}) LIMIT 1"
        return bool(self._fetchall(sql, list(queues)))

    def holders(self, execution_ids: Sequence[str]) -> dict[str, tuple[Status, str | None]]:
        if not execution_ids:
            return {}
        marks = ", ".join("?" * len(execution_ids))
        found = self._fetchall(
            f"SELECT id, status, worker_id FROM executions WHERE id IN ({marks})", list(execution_ids)
        )
        return {i: (Status(s), w) for i, s, w in found}

    def heartbeat(
        self, worker_id: str, execution_ids: Sequence[str], *, lease_until: datetime
    ) -> dict[str, Status]:
        if not execution_ids:
            return {}
        marks = ", ".join("?" * len(execution_ids))
        with self._tx() as conn:
            cur = conn.execute(
                f"UPDATE executions SET lease_expires_at = ? WHERE worker_id = ? AND id IN ({marks}) "
                f"AND status IN {HELD_IN} RETURNING id, status",
                [ts(lease_until), worker_id, *execution_ids],
            )
            return {i: Status(s) for i, s in cur.fetchall()}

    def finish(self, results: Sequence[tuple[str, str, Step]], *, now: datetime) -> list[Execution | None]:
        if not results:
            return []
        ids = [r[0] for r in results]
        with self._tx() as conn:
            found = self._select(conn, f"id IN ({', '.join('?' * len(ids))})", ids, lock=self.FOR_UPDATE)
            current = {e.id: e for e in found}
            out: list[Execution | None] = []
            changes: list[tuple[Execution, Execution]] = []
            for execution_id, worker_id, step in results:
                old = current.get(execution_id)
                if old is None or old.worker_id != worker_id or old.status not in HELD:
                    out.append(None)
                    continue
                try:
                    new = step(old)
                except IllegalTransition:
                    out.append(None)
                    continue
                changes.append((old, new))
                current[execution_id] = new
                out.append(new)
            written = {n.id: n for n in self._write(conn, changes, now)}
            out = [written.get(e.id, e) if e is not None else None for e in out]
            if any(_needs_admission(o, n) for o, n in changes):
                self._admit(conn, now)
        return out

    def set_progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE executions SET finished_operations = COALESCE(?, finished_operations), "
                "total_operations = COALESCE(?, total_operations), state = COALESCE(?, state) "
                f"WHERE id = ? AND worker_id = ? AND status IN {HELD_IN}",
                (finished, total, rows.dumps(state), execution_id, worker_id),
            )
            return cur.rowcount == 1

    # --- background duties -----------------------------------------------------------

    def _sweep(
        self, where: str, params: Sequence[Any], event: Callable[[], states.Event], now: datetime, index: str
    ) -> int:
        with self._tx() as conn:
            found = self._select(conn, where, params, index=index, lock=self.SKIP_LOCKED)
            changes = [(e, states.transition(e, event())) for e in found]
            self._write(conn, changes, now)
            self._admit(conn, now)  # what was promoted or requeued may start at once
        return len(changes)

    def promote_due(self, *, now: datetime, limit: int = 1000) -> int:
        return self._sweep(
            "status = 'scheduled' AND scheduled_for <= ? ORDER BY scheduled_for LIMIT ?",
            (ts(now), limit), states.Enqueue, now, "ix_executions_scheduled",
        )  # fmt: skip

    def admit_queued(self, *, now: datetime) -> int:
        with self._tx() as conn:
            return self._admit(conn, now)

    def reap_expired_leases(self, *, now: datetime, limit: int = 1000) -> int:
        return self._sweep(
            f"lease_expires_at < ? AND status IN {HELD_IN} ORDER BY lease_expires_at LIMIT ?",
            (ts(now), limit), lambda: states.LeaseExpired(now), now, "ix_executions_lease",
        )  # fmt: skip

    def delete_expired(self, *, now: datetime, limit: int = 10000) -> int:
        with self._tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM {self._table('ix_executions_expires')} WHERE expires_at <= ? LIMIT ?"
                    f"{self.SKIP_LOCKED}",
                    (ts(now), limit),
                ).fetchall()
            ]
            # Idempotency keys answer retries of a request, not history: a day is plenty.
            oldest = now.timestamp() - IDEMPOTENCY_SECONDS
            conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (oldest,))
            return self._delete_ids(conn, ids) if ids else 0

    def next_due_at(self) -> datetime | None:
        (row,) = self._fetchall(
            f"SELECT MIN(scheduled_for) FROM {self._table('ix_executions_scheduled')} "
            "WHERE status = 'scheduled'"
        )
        return rows.dt(row[0]) if row[0] is not None else None

    # --- events ---------------------------------------------------------------------

    def add_events(self, events: Sequence[Event]) -> None:
        with self._tx() as conn:
            self._insert_events(conn, events)

    def list_events(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> list[Event]:
        found = self._fetchall(
            "SELECT seq, execution_id, ts, kind, level, message, data FROM events "
            "WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (execution_id, after, limit),
        )
        return [rows.event_from_row(r) for r in found]

    # --- auth and idempotency -------------------------------------------------------

    def add_token(self, token: Token) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                (token.id, token.name, str(token.role), token.token_hash, ts(token.created_at)),
            )

    def _tokens(self, where: str, params: Sequence[Any]) -> list[Token]:
        found = self._fetchall(
            f"SELECT id, name, role, token_hash, created_at FROM tokens WHERE {where} ORDER BY created_at",
            params,
        )
        return [Token(r[0], r[1], Role(r[2]), rows.dt(r[4]), r[3]) for r in found]  # type: ignore[arg-type]

    def find_token(self, token_hash: str) -> Token | None:
        found = self._tokens("token_hash = ?", (token_hash,))
        return found[0] if found else None

    def list_tokens(self) -> list[Token]:
        return self._tokens("1=1", ())

    def delete_token(self, token_id: str) -> bool:
        with self._tx() as conn:
            return conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount == 1

    def count_tokens(self) -> int:
        return int(self._fetchall("SELECT COUNT(*) FROM tokens")[0][0])

    def get_idempotent(self, key: str) -> tuple[int, str] | None:
        found = self._fetchall("SELECT status_code, body FROM idempotency_keys WHERE key = ?", (key,))
        return (int(found[0][0]), str(found[0][1])) if found else None

    def put_idempotent(self, key: str, status_code: int, body: str, *, now: datetime) -> tuple[int, str]:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO idempotency_keys (key, status_code, body, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (key, status_code, body, ts(now)),
            )
            row = conn.execute(
                "SELECT status_code, body FROM idempotency_keys WHERE key = ?", (key,)
            ).fetchone()
        return int(row[0]), str(row[1])


def _needs_admission(old: Execution, new: Execution) -> bool:
    """A write that frees an active slot, or puts work in the queue, may let queued work start."""
    if new is old:
        return False
    return (old.status in ACTIVE and new.status not in ACTIVE) or new.status is Status.QUEUED
