"""The background loop's duties: promote due executions, admit queued ones, reap leases, expire."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from conveyor.core import states
from conveyor.store import rows
from conveyor.store.db import Db

#: Idempotency keys answer retries of a request, not history: a day is plenty.
IDEMPOTENCY_SECONDS = 24 * 3600.0


class Housekeeping:
    db: Db

    def _sweep(self, name: str, now: datetime, limit: int, event: Callable[[], states.Event]) -> int:
        """Move the rows of the named statement (due at `now`, at most `limit`) by `event`, then admit."""
        with self.db.tx() as conn:
            found = self.db.executions(conn, name, (rows.ts(now), limit))
            changes = [(e, states.transition(e, event())) for e in found]
            self.db.write(conn, changes, now)
            self.db.admit(conn, now)  # what was promoted or requeued may start at once
        return len(changes)

    def execution_promote_due(self, *, now: datetime, limit: int = 1000) -> int:
        return self._sweep("scheduled_due", now, limit, states.Enqueue)

    def execution_admit_queued(self, *, now: datetime) -> int:
        with self.db.tx() as conn:
            return self.db.admit(conn, now)

    def execution_reap_leases(self, *, now: datetime, limit: int = 1000) -> int:
        return self._sweep("leases_expired", now, limit, lambda: states.LeaseExpired(now))

    def execution_delete_expired(self, *, now: datetime, limit: int = 10000) -> int:
        with self.db.tx() as conn:
            ids = [r[0] for r in self.db.run(conn, "expired_ids", (rows.ts(now), limit)).fetchall()]
            self.db.run(conn, "delete_old_idempotency_keys", (now.timestamp() - IDEMPOTENCY_SECONDS,))
            return self.db.delete_ids(conn, ids) if ids else 0

    def execution_counts_fold(self) -> int:
        with self.db.tx() as conn:
            taken = self.db.run(conn, "take_count_deltas").fetchall()
            sums: Counter[tuple[str, str, str]] = Counter()
            for status, queue, workflow, n in taken:
                sums[status, queue, workflow] += n
            kept = [(*key, n) for key, n in sums.items() if n]
            if kept:
                conn.executemany(self.db.sql["insert_count"], kept)
        return len(taken)

    def execution_next_due_at(self) -> datetime | None:
        ((first,),) = self.db.read("next_scheduled_for")
        return rows.dt(first)
