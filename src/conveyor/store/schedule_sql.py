"""Schedules in the SQL stores: rows, reads and the atomic fire.

It builds on the executions half: it uses the dialect's transactions, row locks and the
shared execution start path, so a fired execution is admitted exactly like
one started through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from conveyor.core import states
from conveyor.core.errors import NotFound
from conveyor.core.model import Status
from conveyor.core.ports import FireStep
from conveyor.core.schedules import Schedule
from conveyor.core.triggers import Trigger
from conveyor.store import rows
from conveyor.store.execution_sql import Conn, ExecutionSQL
from conveyor.store.sqlbuild import INSERT_EXECUTION

SCHEDULE_COLUMNS: tuple[str, ...] = (
    "id", "workflow", "trigger_kind", "trigger_value", "timezone", "parameters", "target", "description",
    "params", "owner", "enabled", "suspended", "misfire", "misfire_limit", "grace", "overlap", "priority",
    "dry_run", "next_fire_at", "last_fired_at", "last_execution_id", "fire_count", "waiting",
    "last_error", "created_at", "updated_at",
)  # fmt: skip
_SELECT = ", ".join(SCHEDULE_COLUMNS)
_INSERT = f"INSERT INTO schedules ({_SELECT}) VALUES ({', '.join('?' * len(SCHEDULE_COLUMNS))})"
_UPDATE = "UPDATE schedules SET " + ", ".join(f"{c} = ?" for c in SCHEDULE_COLUMNS[1:]) + " WHERE id = ?"


def schedule_to_row(s: Schedule) -> tuple[Any, ...]:
    t = s.trigger
    return (
        s.id, s.workflow, t.kind, t.value, t.timezone, rows.dumps(s.parameters), s.target, s.description,
        rows.dumps(s.params), s.owner, s.enabled, s.suspended, s.misfire, s.misfire_limit, s.grace,
        s.overlap, s.priority, s.dry_run, rows.ts(s.next_fire_at), rows.ts(s.last_fired_at),
        s.last_execution_id, s.fire_count, s.waiting, s.last_error, rows.ts(s.created_at),
        rows.ts(s.updated_at),
    )  # fmt: skip


def schedule_from_row(r: Sequence[Any]) -> Schedule:
    created = rows.dt(r[24])
    assert created is not None
    return Schedule(
        id=r[0], workflow=r[1], trigger=Trigger(r[2], r[3], r[4]), parameters=rows.loads(r[5]) or {},
        target=r[6], description=r[7], params=rows.loads(r[8]) or {}, owner=r[9], enabled=bool(r[10]),
        suspended=bool(r[11]), misfire=r[12], misfire_limit=r[13], grace=r[14], overlap=r[15],
        priority=r[16], dry_run=bool(r[17]), next_fire_at=rows.dt(r[18]), last_fired_at=rows.dt(r[19]),
        last_execution_id=r[20], fire_count=r[21], waiting=bool(r[22]), last_error=r[23], created_at=created,
        updated_at=rows.dt(r[25]),
    )  # fmt: skip


class ScheduleSQL(ExecutionSQL):
    def _select_schedules(
        self, conn: Conn, where: str, params: Sequence[Any], lock: str = ""
    ) -> list[Schedule]:
        cur = conn.execute(f"SELECT {_SELECT} FROM schedules WHERE {where}{lock}", params)
        return [schedule_from_row(r) for r in cur.fetchall()]

    def add_schedule(self, schedule: Schedule) -> None:
        with self._tx() as conn:
            conn.execute(_INSERT, schedule_to_row(schedule))

    def get_schedule(self, schedule_id: str) -> Schedule | None:
        found = self._fetchall(f"SELECT {_SELECT} FROM schedules WHERE id = ?", (schedule_id,))
        return schedule_from_row(found[0]) if found else None

    def list_schedules(
        self,
        *,
        ids: Sequence[str] = (),
        owner: str | None = None,
        target: str | None = None,
        after: str | None = None,
        limit: int = 1000,
    ) -> list[Schedule]:
        parts, params = ["1=1"], []  # type: list[str], list[Any]
        if ids:
            parts.append(f"id IN ({', '.join('?' * len(ids))})")
            params.extend(ids)
        for column, value in (("owner", owner), ("target", target)):
            if value is not None:
                parts.append(f"{column} = ?")
                params.append(value)
        if after is not None:
            parts.append("id > ?")
            params.append(after)
        sql = f"SELECT {_SELECT} FROM schedules WHERE {' AND '.join(parts)} ORDER BY id LIMIT ?"
        return [schedule_from_row(r) for r in self._fetchall(sql, [*params, limit])]

    def update_schedule(
        self, schedule_id: str, change: Callable[[Schedule], Schedule], *, now: datetime
    ) -> Schedule:
        with self._tx() as conn:
            found = self._select_schedules(conn, "id = ?", (schedule_id,), self.FOR_UPDATE)
            if not found:
                raise NotFound("schedule", schedule_id)
            new = change(found[0]).evolve(updated_at=now)
            conn.execute(_UPDATE, (*schedule_to_row(new)[1:], schedule_id))
            return new

    def delete_schedules(self, schedule_ids: Sequence[str]) -> int:
        if not schedule_ids:
            return 0
        with self._tx() as conn:
            marks = ", ".join("?" * len(schedule_ids))
            return int(
                conn.execute(f"DELETE FROM schedules WHERE id IN ({marks})", list(schedule_ids)).rowcount
            )

    def fire_schedules(self, *, now: datetime, fire: FireStep, due: bool = True, limit: int = 100) -> int:
        """Fire due schedules (or, with due=False, every enabled oninit schedule), each atomically.

        `fire(schedule, previous)` returns the executions to start, whether to cancel
        the previous one, and the schedule as it is afterwards. Rows another
        server is firing right now are skipped, so no fire happens twice.
        """
        where = (
            "enabled AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?"
            if due
            else "enabled AND trigger_kind = 'oninit' ORDER BY id LIMIT ?"
        )
        params: list[Any] = [rows.ts(now), limit] if due else [limit]
        started = 0
        with self._tx() as conn:
            for s in self._select_schedules(conn, where, params, self.SKIP_LOCKED):
                previous = None
                if s.last_execution_id:
                    found = self._select(conn, "id = ?", (s.last_execution_id,), lock=self.FOR_UPDATE)
                    previous = found[0] if found else None
                to_start, cancel, after = fire(s, previous)
                if cancel and previous is not None and not previous.status.is_terminal:
                    stop = states.transition(previous, states.RequestCancel(now, "cancel"))
                    self._write(conn, [(previous, stop)], now)
                decided = self._decide_starts(conn, to_start, refuse_blocked=False)
                if decided:
                    conn.executemany(INSERT_EXECUTION, [rows.execution_to_row(e) for e in decided])
                    self._insert_event_rows(conn, [rows.status_event_row(None, e, now) for e in decided])
                    if any(e.status is Status.PENDING for e in decided):
                        self._work_appeared(conn)
                    after = after.evolve(last_execution_id=decided[-1].id)
                conn.execute(_UPDATE, (*schedule_to_row(after.evolve(updated_at=now))[1:], s.id))
                started += len(decided)
        return started

    def next_schedule_due_at(self) -> datetime | None:
        (row,) = self._fetchall("SELECT MIN(next_fire_at) FROM schedules WHERE enabled")
        return rows.dt(row[0]) if row[0] is not None else None

    def delete_schedules_of_target(self, target: str) -> int:
        with self._tx() as conn:
            return int(conn.execute("DELETE FROM schedules WHERE target = ?", (target,)).rowcount)
