"""Targets, target groups and execution groups to the JSON documents of docs/api.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from conveyor.api.serialize import iso
from conveyor.core.groups import ExecutionGroup, group_status
from conveyor.core.model import Execution
from conveyor.core.targets import Target, TargetGroup


def target_doc(t: Target) -> dict[str, Any]:
    return {
        "name": t.name,
        "max_concurrent": t.max_concurrent,
        "labels": dict(t.labels),
        "created_at": iso(t.created_at),
    }


def target_group_doc(g: TargetGroup, *, members: bool = True) -> dict[str, Any]:
    """A target group; lists leave the member names out (`member_count` says how many)."""
    doc: dict[str, Any] = {
        "name": g.name,
        "description": g.description,
        "created_at": iso(g.created_at),
        "member_count": len(g.members),
    }
    if members:
        doc["members"] = sorted(g.members)
    return doc


def execution_group_doc(g: ExecutionGroup, members: Sequence[Execution]) -> dict[str, Any]:
    """The group with its members' ids, its derived status and how many members are in each status."""
    counts = Counter(str(e.status) for e in members)
    return {
        "id": g.id,
        "workflow": g.workflow,
        "target_group": g.target_group,
        "concurrency": g.concurrency,
        "force": g.force,
        "default_parameters": g.default_parameters,
        "parameters": g.parameters,
        "created_by": g.created_by,
        "created_at": iso(g.created_at),
        "success_group": g.success_group,
        "failed_group": g.failed_group,
        "status": group_status(e.status for e in members),
        "execution_ids": [e.id for e in members],
        "total": len(members),
        "ended": sum(1 for e in members if e.status.is_terminal),
        "counts": dict(sorted(counts.items())),
    }
