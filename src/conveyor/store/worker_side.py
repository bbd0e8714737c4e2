"""The worker side: claims, leases (heartbeat), progress and finishing, batched where it can be."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core import states
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
        with self.db.tx() as conn:
            pending = self.db.executions(
                conn, "claim_pending", [*queues, limit], queues=placeholders(len(queues))
            )
            event = states.Claim(worker_id, now, lease_until)
            return self.db.write(conn, [(e, states.transition(e, event)) for e in pending], now)

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
        self, results: Sequence[tuple[str, str, Step]], *, now: datetime
    ) -> list[Execution | None]:
        if not results:
            return []
        ids = [r[0] for r in results]
        with self.db.tx() as conn:
            found = self.db.executions(conn, "executions_by_ids_locked", ids, ids=placeholders(len(ids)))
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
            written = {n.id: n for n in self.db.write(conn, changes, now)}
            out = [written.get(e.id, e) if e is not None else None for e in out]
            if any(needs_admission(o, n) for o, n in changes):
                self.db.admit(conn, now)
        return out

    def execution_set_progress(
        self, worker_id: str, execution_id: str, finished: int | None, total: int | None, state: Any
    ) -> bool:
        params = (finished, total, rows.dumps(state), execution_id, worker_id)
        with self.db.tx() as conn:
            return bool(self.db.run(conn, "set_progress", params).rowcount == 1)
