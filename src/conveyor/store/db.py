"""`Db`: a dialect, its rendered statements, and what every subject does inside a write transaction.

The subjects of the store (executions.py, worker_side.py, housekeeping.py,
schedules.py, targets.py, groups.py, tokens.py) share these steps: read
executions for writing, write transitions with a compare-and-set on the old
status and their status events, insert new executions through admission, and
admit queued work when a slot frees. They go through the core's pure pieces
(`states.transition`, `admission`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from conveyor.core import admission, states
from conveyor.core.errors import ExistingRunningExecution
from conveyor.core.model import ACTIVE, Event, Execution, Status
from conveyor.store import rows
from conveyor.store.dialect import Conn, Dialect
from conveyor.store.sql import render
from conveyor.store.sqlbuild import placeholders


class Db:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        #: Every named statement with this dialect's pieces in place (see store.sql).
        self.sql = render(dialect)

    def tx(self) -> AbstractContextManager[Conn]:
        """A write transaction."""
        return self.dialect.transaction()

    def read(self, name: str, params: Sequence[Any] = (), /, **parts: str) -> list[Any]:
        """Rows of the named statement, outside any write transaction; `parts` fill its per-call slots."""
        sql = self.sql[name]
        return self.dialect.fetchall(sql.format(**parts) if parts else sql, params)

    def run(self, conn: Conn, name: str, params: Sequence[Any] = (), /, **parts: str) -> Any:
        """The cursor of the named statement inside the transaction `conn`."""
        sql = self.sql[name]
        return conn.execute(sql.format(**parts) if parts else sql, params)

    def executions(self, conn: Conn, name: str, params: Sequence[Any], /, **parts: str) -> list[Execution]:
        return [rows.execution_from_row(r) for r in self.run(conn, name, params, **parts).fetchall()]

    # --- writes ----------------------------------------------------------------------

    def write(
        self, conn: Conn, changes: Sequence[tuple[Execution, Execution]], now: datetime
    ) -> list[Execution]:
        """Write transitions (old, new) with compare-and-set on the old status, and their events.

        Returns the new versions as written (an unchanged one comes back as it was).
        """
        changed = [(o, n.evolve(updated_at=now)) for o, n in changes if n is not o]
        if not changed:
            return [n for _, n in changes]
        values = [(*rows.mutable_values(n), n.id, str(o.status)) for o, n in changed]
        self.dialect.update_executions(conn, self.sql["update_execution"], values)
        events = [rows.status_event_row(o, n, now) for o, n in changed if o.status is not n.status]
        if events:
            self.dialect.insert_events(conn, self.sql["insert_event"], events)
        self._add_to_sinks(conn, [n for o, n in changed if o.status is not n.status])
        written = {n.id: n for _, n in changed}
        return [written.get(n.id, n) if n is not o else n for o, n in changes]

    def insert_events(self, conn: Conn, events: Sequence[Event]) -> None:
        if events:
            self.dialect.insert_events(conn, self.sql["insert_event"], [rows.event_to_row(e) for e in events])

    def insert_new(
        self, conn: Conn, executions: Sequence[Execution], now: datetime, *, refuse_blocked: bool
    ) -> list[Execution]:
        """Insert new executions, admitted as they go (see `decide_starts`); returns them as inserted."""
        decided = self._decide_starts(conn, executions, refuse_blocked=refuse_blocked)
        if decided:
            conn.executemany(self.sql["insert_execution"], [rows.execution_to_row(e) for e in decided])
            events = [rows.status_event_row(None, e, now) for e in decided]
            self.dialect.insert_events(conn, self.sql["insert_event"], events)
            if any(e.status is Status.PENDING for e in decided):
                self.dialect.work_appeared(conn)
        return decided

    def delete_ids(self, conn: Conn, ids: list[str]) -> int:
        deleted = 0
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = placeholders(len(chunk))
            self.run(conn, "delete_events_of", chunk, ids=marks)
            deleted += self.run(conn, "delete_executions", chunk, ids=marks).rowcount
        return deleted

    def _add_to_sinks(self, conn: Conn, written: Sequence[Execution]) -> None:
        """Group members that ended add their target to the group's success or failure target group."""
        ended = [
            e for e in written if e.group_id and e.target and e.status in (Status.SUCCEEDED, Status.FAILED)
        ]
        if not ended:
            return
        ids = sorted({e.group_id for e in ended if e.group_id})
        sinks = {
            r[0]: (r[1], r[2])
            for r in self.run(conn, "group_sinks", ids, ids=placeholders(len(ids))).fetchall()
        }
        adds = []
        for e in ended:
            success, failed = sinks.get(e.group_id or "", (None, None))
            sink = success if e.status is Status.SUCCEEDED else failed
            if sink:
                adds.append((sink, e.target, sink, e.target))
        if adds:
            conn.executemany(self.sql["add_to_sink_group"], adds)

    def sink_ended_members(self, conn: Conn, group_id: str) -> None:
        """Add the members of a group that ended before its target groups were set."""
        self._add_to_sinks(conn, self.executions(conn, "ended_members", (group_id,)))

    # --- admission -------------------------------------------------------------------

    def _occupancy(self, conn: Conn) -> admission.Occupancy:
        occ = admission.Occupancy()
        for target, is_system, group, n in self.run(conn, "occupancy").fetchall():
            occ.active += n
            if group is not None:
                occ.by_group[group] += n
            if is_system:
                occ.system_active += n
            elif target is not None:
                occ.by_target[target] += n
        self._limits(conn, occ, set(occ.by_target), set(occ.by_group))
        return occ

    def _limits(self, conn: Conn, occ: admission.Occupancy, targets: set[str], groups: set[str]) -> None:
        """Fill in the limits of these targets and groups not looked up yet."""
        for name, into, keys in (
            ("target_limits", occ.max_concurrent, targets), ("group_limits", occ.group_concurrency, groups),
        ):  # fmt: skip
            missing = sorted(k for k in keys if k not in into)
            if missing:
                found = self.run(conn, name, missing, keys=placeholders(len(missing))).fetchall()
                into.update(dict(found))

    def admit(self, conn: Conn, now: datetime) -> int:
        """Admission of queued executions, inside the caller's transaction."""
        if not self.run(conn, "any_queued").fetchall():
            return 0
        self.dialect.lock_admission(conn, targets=(), exclusive=True)
        queued = self.executions(conn, "queued_in_order", ())
        occ = self._occupancy(conn)
        self._limits(
            conn, occ, {e.target for e in queued if e.target is not None},
            {e.group_id for e in queued if e.group_id is not None},
        )  # fmt: skip
        by_id = {e.id: e for e in queued}
        picked = admission.admit_in_order(
            (admission.Candidate(e.id, e.target, e.is_system, e.force, e.group_id) for e in queued), occ
        )
        if picked and self.dialect.lock:
            # The queued rows were read without row locks: a writer holding one (a cancel) may have
            # changed it since. Lock the picks and keep those still queued, or the compare-and-set
            # below would skip the row yet its "queued -> pending" event would still be written.
            ids = [c.id for c in picked]
            fresh = self.executions(conn, "still_queued_locked", ids, ids=placeholders(len(ids)))
            by_id.update({e.id: e for e in fresh})
            picked = [c for c in picked if c.id in {e.id for e in fresh}]
        self.write(conn, [(by_id[c.id], states.transition(by_id[c.id], states.Admit())) for c in picked], now)
        if picked:
            self.dialect.work_appeared(conn)
        return len(picked)

    def _decide_starts(
        self, conn: Conn, executions: Sequence[Execution], *, refuse_blocked: bool
    ) -> list[Execution]:
        queued_now = [e for e in executions if e.status is Status.QUEUED]
        if not queued_now:
            return list(executions)
        targets = {e.target for e in queued_now if e.target is not None}
        self.dialect.lock_admission(conn, targets=targets, exclusive=any(e.is_system for e in queued_now))
        occ = self._occupancy(conn)
        self._limits(conn, occ, targets, {e.group_id for e in queued_now if e.group_id is not None})
        system_queued = self.run(conn, "any_system_queued").fetchone() is not None
        waiting_targets: set[str] = set()
        if targets:
            names = list(targets)
            found = self.run(conn, "targets_with_queued", names, names=placeholders(len(names)))
            waiting_targets = {t for (t,) in found.fetchall()}
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


def needs_admission(old: Execution, new: Execution) -> bool:
    """A write that frees an active slot, or puts work in the queue, may let queued work start."""
    if new is old:
        return False
    return (old.status in ACTIVE and new.status not in ACTIVE) or new.status is Status.QUEUED
