"""Targets, target groups and execution groups in the SQL stores.

Builds on the executions and schedules halves: a group's members are
started through the shared admission path (the group's concurrency is rule 3
there), and members that end add their target to the group's success or
failure target group in the same transaction that records the end.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.errors import Conflict, NotFound
from conveyor.core.groups import ExecutionGroup
from conveyor.core.model import Execution, Status
from conveyor.core.targets import Target, TargetGroup
from conveyor.store import rows
from conveyor.store.execution_sql import Conn
from conveyor.store.schedule_sql import ScheduleSQL
from conveyor.store.sqlbuild import ACTIVE_IN, INSERT_EXECUTION

_GROUP_COLUMNS = (
    'id, workflow, target_group, concurrency, "force", default_parameters, parameters, created_by, '
    "created_at, success_group, failed_group"
)


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _target(r: Sequence[Any]) -> Target:
    return Target(r[0], rows.dt(r[3]) or datetime.min, r[1], rows.loads(r[2]) or {})


def _group(r: Sequence[Any]) -> ExecutionGroup:
    return ExecutionGroup(
        id=r[0], workflow=r[1], target_group=r[2], concurrency=r[3], force=bool(r[4]),
        default_parameters=rows.loads(r[5]) or {}, parameters=rows.loads(r[6]) or {}, created_by=r[7],
        created_at=rows.dt(r[8]) or datetime.min, success_group=r[9], failed_group=r[10],
    )  # fmt: skip


class TargetSQL(ScheduleSQL):
    # --- targets -----------------------------------------------------------------------

    def add_target(self, target: Target) -> None:
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM targets WHERE name = ?", (target.name,)).fetchall():
                raise Conflict(f"target {target.name!r} already exists", {"name": target.name})
            conn.execute(
                "INSERT INTO targets (name, max_concurrent, labels, created_at) VALUES (?, ?, ?, ?)",
                (target.name, target.max_concurrent, rows.dumps(target.labels), rows.ts(target.created_at)),
            )

    def get_target(self, name: str) -> Target | None:
        found = self._fetchall(
            "SELECT name, max_concurrent, labels, created_at FROM targets WHERE name = ?", (name,)
        )
        return _target(found[0]) if found else None

    def list_targets(self) -> builtins.list[Target]:
        found = self._fetchall("SELECT name, max_concurrent, labels, created_at FROM targets ORDER BY name")
        return [_target(r) for r in found]

    def known_targets(self, names: Sequence[str]) -> set[str]:
        if not names:
            return set()
        found = self._fetchall(f"SELECT name FROM targets WHERE name IN ({_marks(len(names))})", list(names))
        return {r[0] for r in found}

    def ensure_targets(self, names: Sequence[str], *, now: datetime) -> None:
        with self._tx() as conn:
            conn.executemany(
                "INSERT INTO targets (name, max_concurrent, labels, created_at) VALUES (?, 1, NULL, ?) "
                "ON CONFLICT (name) DO NOTHING",
                [(n, rows.ts(now)) for n in names],
            )

    def update_target(
        self, name: str, *, max_concurrent: int | None, labels: dict[str, str] | None, now: datetime
    ) -> Target:
        with self._tx() as conn:
            if not conn.execute(f"SELECT 1 FROM targets WHERE name = ?{self.FOR_UPDATE}", (name,)).fetchall():
                raise NotFound("target", name)
            if max_concurrent is not None:
                conn.execute("UPDATE targets SET max_concurrent = ? WHERE name = ?", (max_concurrent, name))
                self._admit(conn, now)  # a higher limit lets queued work start now
            if labels is not None:
                conn.execute("UPDATE targets SET labels = ? WHERE name = ?", (rows.dumps(labels), name))
        found = self.get_target(name)
        assert found is not None
        return found

    def delete_target(self, name: str, *, force: bool) -> None:
        with self._tx() as conn:
            self._lock_admission(conn, targets={name}, exclusive=False)
            active = conn.execute(
                f"SELECT COUNT(*) FROM executions WHERE target = ? AND status IN {ACTIVE_IN}", (name,)
            ).fetchall()[0][0]
            if active and not force:
                raise Conflict(
                    f"target {name!r} has {active} active execution(s); cancel them or delete with force",
                    {"name": name, "active": active},
                )
            conn.execute("DELETE FROM schedules WHERE target = ?", (name,))
            conn.execute("DELETE FROM target_group_members WHERE target = ?", (name,))
            conn.execute("DELETE FROM targets WHERE name = ?", (name,))

    # --- target groups -----------------------------------------------------------------

    def add_target_group(self, group: TargetGroup) -> None:
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM target_groups WHERE name = ?", (group.name,)).fetchall():
                raise Conflict(f"target group {group.name!r} already exists", {"name": group.name})
            conn.execute(
                "INSERT INTO target_groups (name, description, created_at) VALUES (?, ?, ?)",
                (group.name, group.description, rows.ts(group.created_at)),
            )

    def _target_groups(self, where: str, params: Sequence[Any]) -> builtins.list[TargetGroup]:
        found = self._fetchall(
            f"SELECT name, description, created_at FROM target_groups WHERE {where} ORDER BY name", params
        )
        if not found:
            return []
        names = [r[0] for r in found]
        members: dict[str, list[str]] = {n: [] for n in names}
        for g, t in self._fetchall(
            f"SELECT group_name, target FROM target_group_members WHERE group_name IN ({_marks(len(names))}) "
            "ORDER BY target",
            names,
        ):
            members[g].append(t)
        return [TargetGroup(r[0], rows.dt(r[2]) or datetime.min, r[1], tuple(members[r[0]])) for r in found]

    def get_target_group(self, name: str) -> TargetGroup | None:
        found = self._target_groups("name = ?", (name,))
        return found[0] if found else None

    def list_target_groups(self) -> builtins.list[TargetGroup]:
        return self._target_groups("1=1", ())

    def delete_target_group(self, name: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM target_group_members WHERE group_name = ?", (name,))
            conn.execute("DELETE FROM target_groups WHERE name = ?", (name,))

    def _add_members(self, conn: Conn, group: str, targets: Sequence[str]) -> None:
        conn.executemany(
            "INSERT INTO target_group_members (group_name, target) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(group, t) for t in targets],
        )

    def add_group_members(self, group: str, targets: Sequence[str]) -> None:
        if targets:
            with self._tx() as conn:
                self._add_members(conn, group, targets)

    def remove_group_members(self, group: str, targets: Sequence[str]) -> None:
        if targets:
            with self._tx() as conn:
                where = f"group_name = ? AND target IN ({_marks(len(targets))})"
                conn.execute(f"DELETE FROM target_group_members WHERE {where}", [group, *targets])

    # --- execution groups --------------------------------------------------------------

    def start_group(self, group: ExecutionGroup, members: Sequence[Execution], *, now: datetime) -> None:
        """The group and all its members in one transaction, admitted against its concurrency."""
        with self._tx() as conn:
            conn.execute(
                f"INSERT INTO execution_groups ({_GROUP_COLUMNS}) VALUES ({_marks(11)})",
                (
                    group.id, group.workflow, group.target_group, group.concurrency, group.force,
                    rows.dumps(group.default_parameters), rows.dumps(group.parameters), group.created_by,
                    rows.ts(group.created_at), group.success_group, group.failed_group,
                ),
            )  # fmt: skip
            decided = self._decide_starts(conn, members, refuse_blocked=False)
            if decided:
                conn.executemany(INSERT_EXECUTION, [rows.execution_to_row(e) for e in decided])
                self._insert_event_rows(conn, [rows.status_event_row(None, e, now) for e in decided])
                if any(e.status is Status.PENDING for e in decided):
                    self._work_appeared(conn)

    def get_execution_group(self, group_id: str) -> ExecutionGroup | None:
        found = self._fetchall(f"SELECT {_GROUP_COLUMNS} FROM execution_groups WHERE id = ?", (group_id,))
        return _group(found[0]) if found else None

    def list_execution_groups(self) -> builtins.list[ExecutionGroup]:
        return [
            _group(r) for r in self._fetchall(f"SELECT {_GROUP_COLUMNS} FROM execution_groups ORDER BY id")
        ]

    def update_execution_group(
        self, group_id: str, changes: dict[str, Any], *, now: datetime
    ) -> ExecutionGroup:
        allowed = {"concurrency", "success_group", "failed_group"}
        assert set(changes) <= allowed, changes
        with self._tx() as conn:
            if not conn.execute(
                f"SELECT 1 FROM execution_groups WHERE id = ?{self.FOR_UPDATE}", (group_id,)
            ).fetchall():
                raise NotFound("execution group", group_id)
            for column, value in changes.items():
                conn.execute(f"UPDATE execution_groups SET {column} = ? WHERE id = ?", (value, group_id))
            if "concurrency" in changes:
                self._admit(conn, now)
            ended = self._select(conn, "group_id = ? AND status IN ('succeeded', 'failed')", (group_id,))
            self._after_write(conn, ended)  # members that ended before the target groups were set
        found = self.get_execution_group(group_id)
        assert found is not None
        return found

    def _after_write(self, conn: Conn, written: Sequence[Execution]) -> None:
        """Members that ended add their target to their group's success or failure target group."""
        ended = [
            e for e in written if e.group_id and e.target and e.status in (Status.SUCCEEDED, Status.FAILED)
        ]
        if not ended:
            return
        ids = sorted({e.group_id for e in ended if e.group_id})
        found = conn.execute(
            f"SELECT id, success_group, failed_group FROM execution_groups WHERE id IN ({_marks(len(ids))})",
            ids,
        ).fetchall()
        sinks = {r[0]: (r[1], r[2]) for r in found}
        adds = []
        for e in ended:
            success, failed = sinks.get(e.group_id or "", (None, None))
            sink = success if e.status is Status.SUCCEEDED else failed
            if sink:
                adds.append((sink, e.target))
        if adds:
            # Only into groups and for targets that still exist (either may have been deleted meanwhile).
            conn.executemany(
                "INSERT INTO target_group_members (group_name, target) SELECT ?, ? "
                "WHERE EXISTS (SELECT 1 FROM target_groups WHERE name = ?) "
                "AND EXISTS (SELECT 1 FROM targets WHERE name = ?) ON CONFLICT DO NOTHING",
                [(g, t, g, t) for g, t in adds],
            )
