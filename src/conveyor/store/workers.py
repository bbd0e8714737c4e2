"""Workers: registration, heartbeats and departures, for operators to see."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.model import Status, WorkerInfo
from conveyor.store import rows
from conveyor.store.db import Db


class Workers:
    db: Db

    def worker_register(self, worker: WorkerInfo) -> None:
        w = worker
        values = (
            w.id, w.name, w.host, rows.dumps(list(w.queues)), rows.dumps(list(w.workflows)), w.concurrency,
            w.transport, w.version, rows.dumps(w.labels), rows.ts(w.started_at), rows.ts(w.last_seen_at),
            w.token_id,
        )  # fmt: skip
        with self.db.tx() as conn:
            self.db.run(conn, "upsert_worker", values)

    def worker_seen(self, worker_id: str, *, now: datetime) -> bool:
        with self.db.tx() as conn:
            return bool(self.db.run(conn, "worker_seen", (rows.ts(now), worker_id)).rowcount == 1)

    def worker_stopped(self, worker_id: str, *, now: datetime) -> None:
        with self.db.tx() as conn:
            self.db.run(conn, "worker_stopped", (rows.ts(now), rows.ts(now), worker_id))

    def worker_get(self, worker_id: str) -> WorkerInfo | None:
        found = self.db.read("worker_by_id", (worker_id,))
        return _worker(found[0]) if found else None

    def worker_list(self) -> builtins.list[WorkerInfo]:
        return [_worker(r) for r in self.db.read("list_workers")]

    def worker_holdings(self) -> dict[str, int]:
        return {w: int(n) for w, n in self.db.read("held_by_worker")}

    def worker_oldest_waiting(self, queue: str, statuses: Sequence[Status]) -> datetime | None:
        found = [self.db.read("oldest_waiting", (str(st), queue)) for st in statuses]
        times = [rows.dt(r[0][0]) for r in found if r]
        return min((t for t in times if t is not None), default=None)

    def worker_forget_stopped(self, *, before: datetime) -> int:
        with self.db.tx() as conn:
            return int(self.db.run(conn, "delete_workers_stopped_before", (rows.ts(before),)).rowcount)


def _worker(r: Sequence[Any]) -> WorkerInfo:
    started, seen = rows.dt(r[9]), rows.dt(r[10])
    assert started is not None and seen is not None
    return WorkerInfo(
        id=r[0], name=r[1], host=r[2], queues=tuple(rows.loads(r[3])), workflows=tuple(rows.loads(r[4])),
        concurrency=r[5], transport=r[6], version=r[7], labels=rows.loads(r[8]) or {}, started_at=started,
        last_seen_at=seen, stopped_at=rows.dt(r[11]), token_id=r[12],
    )  # fmt: skip
