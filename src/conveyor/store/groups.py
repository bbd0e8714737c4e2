"""Execution groups: a group and its members start in one transaction, admitted against its concurrency.

Members that end add their target to the group's success or failure target
group in the transaction that records the end (`Db.write`).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.core.errors import NotFound
from conveyor.core.groups import ExecutionGroup
from conveyor.core.model import Execution
from conveyor.store import rows
from conveyor.store.db import Db

#: What `update_execution_group` may change, in the order of the statement's parameters.
CHANGEABLE = ("concurrency", "success_group", "failed_group")


class ExecutionGroups:
    db: Db

    def execution_group_start(
        self, group: ExecutionGroup, members: Sequence[Execution], *, now: datetime
    ) -> None:
        """The group and all its members in one transaction, admitted against its concurrency."""
        with self.db.tx() as conn:
            self.db.run(conn, "insert_execution_group", rows.group_to_row(group))
            self.db.insert_new(conn, members, now, refuse_blocked=False)

    def execution_group_get(self, group_id: str) -> ExecutionGroup | None:
        found = self.db.read("execution_group_by_id", (group_id,))
        return rows.group_from_row(found[0]) if found else None

    def execution_group_list(self) -> builtins.list[ExecutionGroup]:
        return [rows.group_from_row(r) for r in self.db.read("list_execution_groups")]

    def execution_group_update(
        self, group_id: str, changes: dict[str, Any], *, now: datetime
    ) -> ExecutionGroup:
        assert set(changes) <= set(CHANGEABLE), changes
        with self.db.tx() as conn:
            if not self.db.run(conn, "execution_group_exists_locked", (group_id,)).fetchall():
                raise NotFound("execution group", group_id)
            self.db.run(conn, "update_execution_group", (*(changes.get(c) for c in CHANGEABLE), group_id))
            if "concurrency" in changes:
                self.db.admit(conn, now)
            self.db.sink_ended_members(conn, group_id)  # members that ended before the sinks were set
        found = self.execution_group_get(group_id)
        assert found is not None
        return found
