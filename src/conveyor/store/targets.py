"""Targets and target groups."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.errors import Conflict, NotFound
from conveyor.core.targets import Target, TargetGroup
from conveyor.store import rows
from conveyor.store.db import Db
from conveyor.store.sqlbuild import placeholders


class Targets:
    db: Db

    def _insert_new(self, kind: str, exists: str, insert: str, values: Sequence[Any]) -> None:
        """Insert a row named values[0] with the statement `insert`; Conflict if `exists` finds one."""
        name = values[0]
        with self.db.tx() as conn:
            if self.db.run(conn, exists, (name,)).fetchall():
                raise Conflict(f"{kind} {name!r} already exists", {"name": name})
            self.db.run(conn, insert, values)

    def target_add(self, target: Target) -> None:
        t = target
        values = (t.name, t.max_concurrent, rows.dumps(t.labels), rows.ts(t.created_at))
        self._insert_new("target", "target_exists", "insert_target", values)

    def target_get(self, name: str) -> Target | None:
        found = self.db.read("target_by_name", (name,))
        return rows.target_from_row(found[0]) if found else None

    def target_list(self) -> builtins.list[Target]:
        return [rows.target_from_row(r) for r in self.db.read("list_targets")]

    def target_known(self, names: Sequence[str]) -> set[str]:
        if not names:
            return set()
        return {r[0] for r in self.db.read("known_targets", list(names), names=placeholders(len(names)))}

    def target_ensure(self, names: Sequence[str], *, now: datetime) -> None:
        with self.db.tx() as conn:
            conn.executemany(self.db.sql["ensure_target"], [(n, rows.ts(now)) for n in names])

    def target_update(
        self, name: str, *, max_concurrent: int | None, labels: dict[str, str] | None, now: datetime
    ) -> Target:
        with self.db.tx() as conn:
            if not self.db.run(conn, "target_exists_locked", (name,)).fetchall():
                raise NotFound("target", name)
            self.db.run(conn, "update_target", (max_concurrent, rows.dumps(labels), name))
            if max_concurrent is not None:
                self.db.admit(conn, now)  # a higher limit lets queued work start now
        found = self.target_get(name)
        assert found is not None
        return found

    def target_delete(self, name: str, *, force: bool) -> None:
        with self.db.tx() as conn:
            self.db.dialect.lock_admission(conn, targets={name}, exclusive=False)
            ((active,),) = self.db.run(conn, "active_on_target", (name,)).fetchall()
            if active and not force:
                raise Conflict(
                    f"target {name!r} has {active} active execution(s); cancel them or delete with force",
                    {"name": name, "active": active},
                )
            for statement in ("delete_schedules_of_target", "delete_target_memberships", "delete_target"):
                self.db.run(conn, statement, (name,))

    # --- target groups -----------------------------------------------------------------

    def target_group_add(self, group: TargetGroup) -> None:
        g = group
        values = (g.name, g.description, rows.ts(g.created_at))
        self._insert_new("target group", "target_group_exists", "insert_target_group", values)

    def _target_groups(self, found: list[Any]) -> builtins.list[TargetGroup]:
        if not found:
            return []
        names = [r[0] for r in found]
        members: dict[str, list[str]] = {n: [] for n in names}
        for g, t in self.db.read("target_group_members", names, names=placeholders(len(names))):
            members[g].append(t)
        return [TargetGroup(r[0], rows.dt(r[2]) or datetime.min, r[1], tuple(members[r[0]])) for r in found]

    def target_group_get(self, name: str) -> TargetGroup | None:
        found = self._target_groups(self.db.read("target_group_by_name", (name,)))
        return found[0] if found else None

    def target_group_list(self) -> builtins.list[TargetGroup]:
        return self._target_groups(self.db.read("list_target_groups"))

    def target_group_delete(self, name: str) -> None:
        with self.db.tx() as conn:
            self.db.run(conn, "delete_target_group_members", (name,))
            self.db.run(conn, "delete_target_group", (name,))

    def target_group_add_members(self, group: str, targets: Sequence[str]) -> None:
        if targets:
            with self.db.tx() as conn:
                conn.executemany(self.db.sql["add_target_group_member"], [(group, t) for t in targets])

    def target_group_remove_members(self, group: str, targets: Sequence[str]) -> None:
        if targets:
            with self.db.tx() as conn:
                params = [group, *targets]
                self.db.run(conn, "remove_target_group_members", params, names=placeholders(len(targets)))
