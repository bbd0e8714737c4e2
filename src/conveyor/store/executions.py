"""Executions: start, read, list, count, apply a step, delete; and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.errors import NotFound
from conveyor.core.model import Event, Execution, ExecutionFilter, Page, Status
from conveyor.core.ports import Step
from conveyor.store import rows, sqlbuild
from conveyor.store.db import Db, needs_admission


class Executions:
    db: Db

    def execution_start(
        self, executions: Sequence[Execution], *, refuse_blocked: bool, now: datetime
    ) -> list[Execution]:
        with self.db.tx() as conn:
            keys = [e.idempotency_key for e in executions if e.idempotency_key]
            existing: dict[Any, Execution] = {}
            if keys:
                found = self.db.executions(
                    conn, "executions_by_idempotency_key", keys, keys=sqlbuild.placeholders(len(keys))
                )
                existing = {e.idempotency_key: e for e in found}
            fresh = [e for e in executions if e.idempotency_key not in existing]
            decided = self.db.insert_new(conn, fresh, now, refuse_blocked=refuse_blocked)
        by_id = {e.id: e for e in decided}
        return [
            existing[e.idempotency_key] if e.idempotency_key in existing else by_id[e.id] for e in executions
        ]

    def execution_get(self, execution_id: str) -> Execution | None:
        found = self.db.read("execution_by_id", (execution_id,))
        return rows.execution_from_row(found[0]) if found else None

    def execution_list(
        self, flt: ExecutionFilter, *, sort: Sequence[str], limit: int, cursor: str | None
    ) -> Page:
        keys = sqlbuild.parse_sort(sort)
        cond, params = sqlbuild.where(flt)
        after, after_params = sqlbuild.after_cursor(keys, cursor)
        raw = self.db.read(
            "list_executions", [*params, *after_params, limit + 1],
            where=cond, after=after, order_by=sqlbuild.order_by(keys),
        )  # fmt: skip
        more = len(raw) > limit
        raw = raw[:limit]
        return Page(
            [rows.execution_from_row(r) for r in raw],
            sqlbuild.cursor_for(keys, raw[-1]) if more and raw else None,
        )

    def execution_count(self, flt: ExecutionFilter) -> int:
        if _by_counted_keys(flt):  # the kept counts answer in a small read, whatever the table's size
            return sum(
                n for status, queue, workflow, n in self.execution_counts()
                if (not flt.statuses or status in flt.statuses) and (not flt.queues or queue in flt.queues)
                and (not flt.workflows or workflow in flt.workflows)
            )  # fmt: skip
        cond, params = sqlbuild.where(flt)
        return int(self.db.read("count_executions", params, where=cond)[0][0])

    def execution_counts(self, *, targets: Sequence[str] = ()) -> list[tuple[Status, str, str, int]]:
        if targets:
            marks = sqlbuild.placeholders(len(targets))
            found = self.db.read("execution_counts_of_targets", list(targets), names=marks)
        else:
            found = self.db.read("execution_counts")
        return [(Status(status), queue, workflow, int(n)) for status, queue, workflow, n in found]

    def execution_apply(
        self, execution_id: str, step: Step, *, now: datetime, events: Sequence[Event] = ()
    ) -> Execution:
        with self.db.tx() as conn:
            found = self.db.executions(conn, "execution_by_id_locked", (execution_id,))
            if not found:
                raise NotFound("execution", execution_id)
            old = found[0]
            new = step(old)
            (written,) = self.db.write(conn, [(old, new)], now)
            self.db.insert_events(conn, events)
            if needs_admission(old, new) and self.db.admit(conn, now):
                written = self.db.executions(conn, "execution_by_id", (execution_id,))[0]
            return written

    def execution_delete(self, execution_ids: Sequence[str]) -> int:
        if not execution_ids:
            return 0
        with self.db.tx() as conn:
            return self.db.delete_ids(conn, list(execution_ids))

    def execution_delete_finished(self, flt: ExecutionFilter, *, keep_last: int | None) -> int:
        cond, params = sqlbuild.where(flt)
        with self.db.tx() as conn:
            if keep_last is None:
                found = self.db.run(conn, "finished_ids", params, where=cond)
            else:
                found = self.db.run(conn, "finished_ids_but_newest", [*params, keep_last], where=cond)
            return self.db.delete_ids(conn, [r[0] for r in found.fetchall()])

    def event_add(self, events: Sequence[Event]) -> None:
        with self.db.tx() as conn:
            self.db.insert_events(conn, events)

    def event_list(self, execution_id: str, *, after: int = 0, limit: int = 1000) -> list[Event]:
        found = self.db.read("list_events", (execution_id, after, limit))
        return [rows.event_from_row(r) for r in found]


def _by_counted_keys(flt: ExecutionFilter) -> bool:
    """Does `flt` filter only on what the kept counts are keyed by (status, queue, workflow)?"""
    return flt == ExecutionFilter(statuses=flt.statuses, queues=flt.queues, workflows=flt.workflows)
