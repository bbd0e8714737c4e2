"""The worker side: claims, leases (heartbeat), progress and finishing, batched where it can be."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from conveyor.core.errors import IllegalTransition
from conveyor.core.model import HELD, Execution, Status
from conveyor.core.ports import Step
from conveyor.store import rows
from conveyor.store.db import Db, needs_admission
from conveyor.store.sqlbuild import placeholders


class WorkerSide:
    db: Db

    def execution_claim(
        self, worker_id: str, queues: Sequence[str], limit: int, *, now: datetime, lease_until: datetime
    ) -> list[Execution]:
        at = rows.ts(now)
        text, level, data = rows.status_change(str(Status.PENDING), str(Status.RUNNING))
        found = self.db.dialect.claim(
            self.db.sql, queues, limit, (worker_id, rows.ts(lease_until), at, at), (at, level, text, data)
        )
        return [rows.execution_from_row(r) for r in found]

    def execution_has_pending(self, queues: Sequence[str]) -> bool:
        return bool(self.db.read("any_pending", list(queues), queues=placeholders(len(queues))))

    def execution_holders(self, execution_ids: Sequence[str]) -> dict[str, tuple[Status, str | None]]:
        if not execution_ids:
            return {}
        found = self.db.read("holders", list(execution_ids), ids=placeholders(len(execution_ids)))
        return {i: (Status(s), w) for i, s, w in found}

    def execution_heartbeat(
        self, worker_id: str, execution_ids: Sequence[str], *, lease_until: datetime
    ) -> dict[str, Status]:
        if not execution_ids:
            return {}
        params = [rows.ts(lease_until), worker_id, *execution_ids]
        with self.db.tx() as conn:
            cur = self.db.run(conn, "heartbeat", params, ids=placeholders(len(execution_ids)))
            return {i: Status(s) for i, s in cur.fetchall()}

    def execution_finish(
        self,
        results: Sequence[tuple[str, str, Step]],
        *,
        now: datetime,
        held: Mapping[str, Execution] | None = None,
    ) -> list[Execution | None]:
        if not results:
            return []
        done: dict[str, Execution] = {}
        rest = list(results)
        if held:
            rest, written, queued = self._finish_held(results, held, now)
            done.update((n.id, n) for n in written)
            # A slot freed, or work went back to the queue: queued work may start (the sweep would, later).
            if written and (queued or any(n.status is Status.QUEUED for n in written)):
                with self.db.tx() as conn:
                    self.db.admit(conn, now)
        if rest:
            for n in self._finish_locked(rest, now):
                done[n.id] = n
        return [done.get(execution_id) for execution_id, _, _ in results]

    def _finish_held(
        self, results: Sequence[tuple[str, str, Step]], held: Mapping[str, Execution], now: datetime
    ) -> tuple[list[tuple[str, str, Step]], list[Execution], bool]:
        """Steps applied to the worker's copies, written where the rows are still as copied.
        Answers what is left for the locked path, what was written, and whether work is queued."""
        rest: list[tuple[str, str, Step]] = []
        changes: list[tuple[Execution, Execution]] = []
        for result in results:
            execution_id, worker_id, step = result
            copy = held.get(execution_id)
            # Group members go the locked way: their end may add their target to a group's sinks.
            if copy is None or copy.worker_id != worker_id or copy.status not in HELD or copy.group_id:
                rest.append(result)
                continue
            try:
                new = step(copy)
            except IllegalTransition:
                rest.append(result)
                continue
            if new is copy or new.status is copy.status:
                rest.append(result)
                continue
            changes.append((copy, new.evolve(updated_at=now)))
        if not changes:
            return rest, [], False
        values = [(*rows.mutable_values(n), n.id, str(o.status), o.worker_id, o.attempt) for o, n in changes]
        events = [rows.status_event_row(o, n, now) for o, n in changes]
        ids, queued = self.db.dialect.finish_held(self.db.sql, values, events)
        by_id = {r[0]: r for r in results}
        rest.extend(by_id[o.id] for o, _ in changes if o.id not in ids)
        return rest, [n for _, n in changes if n.id in ids], queued

    def _finish_locked(self, results: Sequence[tuple[str, str, Step]], now: datetime) -> list[Execution]:
        """Steps applied to the rows as they are now, read under lock; answers what was written."""
        ids = [r[0] for r in results]
        with self.db.tx() as conn:
            found = self.db.executions(conn, "executions_by_ids_locked", ids, ids=placeholders(len(ids)))
            current = {e.id: e for e in found}
            changes: list[tuple[Execution, Execution]] = []
            for execution_id, worker_id, step in results:
                old = current.get(execution_id)
                if old is None or old.worker_id != worker_id or old.status not in HELD:
                    continue
                try:
                    new = step(old)
                except IllegalTransition:
                    continue
                changes.append((old, new))
                current[execution_id] = new
            written = self.db.write(conn, changes, now)
            if any(needs_admission(o, n) for o, n in changes):
                self.db.admit(conn, now)
        return written

    def execution_set_progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool:
        params = (finished, total, rows.dumps(state), execution_id, worker_id)
        with self.db.tx() as conn:
            return bool(self.db.run(conn, "set_progress", params).rowcount == 1)
