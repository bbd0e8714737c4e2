"""Schedules: rows, reads and the atomic fire.

A fired execution goes through the same insert-and-admit path (`Db.insert_new`)
as one started through the API, in the transaction that moves the schedule on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from conveyor.core import states
from conveyor.core.errors import NotFound
from conveyor.core.ports import FireStep
from conveyor.core.schedules import Schedule
from conveyor.store import rows, sqlbuild
from conveyor.store.db import Db
from conveyor.store.dialect import Conn


class Schedules:
    db: Db

    def _update(self, conn: Conn, schedule_id: str, schedule: Schedule) -> None:
        self.db.run(conn, "update_schedule", (*rows.schedule_to_row(schedule)[1:], schedule_id))

    def schedule_add(self, schedule: Schedule) -> None:
        with self.db.tx() as conn:
            self.db.run(conn, "insert_schedule", rows.schedule_to_row(schedule))

    def schedule_get(self, schedule_id: str) -> Schedule | None:
        found = self.db.read("schedule_by_id", (schedule_id,))
        return rows.schedule_from_row(found[0]) if found else None

    def schedule_list(
        self, *, ids: Sequence[str] = (), owner: str | None = None, target: str | None = None,
        after: str | None = None, limit: int = 1000,
    ) -> list[Schedule]:  # fmt: skip
        cond, params = sqlbuild.schedule_where(ids, owner, target, after)
        return [
            rows.schedule_from_row(r) for r in self.db.read("list_schedules", [*params, limit], where=cond)
        ]

    def schedule_update(
        self, schedule_id: str, change: Callable[[Schedule], Schedule], *, now: datetime
    ) -> Schedule:
        with self.db.tx() as conn:
            found = self.db.run(conn, "schedule_by_id_locked", (schedule_id,)).fetchall()
            if not found:
                raise NotFound("schedule", schedule_id)
            new = change(rows.schedule_from_row(found[0])).evolve(updated_at=now)
            self._update(conn, schedule_id, new)
            return new

    def schedule_delete(self, schedule_ids: Sequence[str]) -> int:
        if not schedule_ids:
            return 0
        with self.db.tx() as conn:
            ids = list(schedule_ids)
            return int(
                self.db.run(conn, "delete_schedules", ids, ids=sqlbuild.placeholders(len(ids))).rowcount
            )

    def schedule_fire(self, *, now: datetime, fire: FireStep, due: bool = True, limit: int = 100) -> int:
        """Fire due schedules (or, with due=False, every enabled oninit schedule), each atomically.

        `fire(schedule, previous)` returns the executions to start, whether to cancel
        the previous one, and the schedule as it is afterwards. Rows another
        server is firing right now are skipped, so no fire happens twice.
        """
        name, params = ("schedules_due", [rows.ts(now), limit]) if due else ("schedules_oninit", [limit])
        started = 0
        with self.db.tx() as conn:
            for row in self.db.run(conn, name, params).fetchall():
                s = rows.schedule_from_row(row)
                previous = None
                if s.last_execution_id:
                    found = self.db.executions(conn, "execution_by_id_locked", (s.last_execution_id,))
                    previous = found[0] if found else None
                to_start, cancel, after = fire(s, previous)
                if cancel and previous is not None and not previous.status.is_terminal:
                    stop = states.transition(previous, states.RequestCancel(now, "cancel"))
                    self.db.write(conn, [(previous, stop)], now)
                decided = self.db.insert_new(conn, to_start, now, refuse_blocked=False)
                if decided:
                    after = after.evolve(last_execution_id=decided[-1].id)
                self._update(conn, s.id, after.evolve(updated_at=now))
                started += len(decided)
        return started

    def schedule_next_due_at(self) -> datetime | None:
        ((first,),) = self.db.read("next_fire_at")
        return rows.dt(first)

    def schedule_delete_of_target(self, target: str) -> int:
        with self.db.tx() as conn:
            return int(self.db.run(conn, "delete_schedules_of_target", (target,)).rowcount)
