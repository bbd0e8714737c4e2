"""Conversion between stored rows and domain objects, shared by every SQL store."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from conveyor.core.groups import ExecutionGroup
from conveyor.core.model import ErrorInfo, Event, Execution, Role, Status, Token
from conveyor.core.schedules import Schedule
from conveyor.core.targets import Target
from conveyor.core.triggers import Trigger

COLUMNS: tuple[str, ...] = (
    "id", "workflow", "status", "target", "queue", "priority", "is_system", "dry_run", "force",
    "created_by", "created_at", "updated_at", "scheduled_for", "started_at", "ended_at", "attempt",
    "max_attempts", "retry_backoff", "timeout", "retention", "expires_at", "worker_id",
    "lease_expires_at", "total_operations", "finished_operations", "parameters", "result", "error",
    "state", "idempotency_key", "group_id",
)  # fmt: skip
SCHEDULE_COLUMNS: tuple[str, ...] = (
    "id", "workflow", "trigger_kind", "trigger_value", "timezone", "parameters", "target", "description",
    "params", "owner", "enabled", "suspended", "misfire", "misfire_limit", "grace", "overlap", "priority",
    "dry_run", "next_fire_at", "last_fired_at", "last_execution_id", "fire_count", "waiting",
    "last_error", "created_at", "updated_at",
)  # fmt: skip
GROUP_COLUMNS: tuple[str, ...] = (
    "id", "workflow", "target_group", "concurrency", "force", "default_parameters", "parameters",
    "created_by", "created_at", "success_group", "failed_group",
)  # fmt: skip


def column_list(names: Sequence[str]) -> str:
    """Columns for a statement; `force` is a reserved word in PostgreSQL."""
    return ", ".join(f'"{c}"' if c == "force" else c for c in names)


SELECT_COLUMNS = column_list(COLUMNS)
#: Columns a transition may change (everything but the identity and creation facts).
MUTABLE: tuple[str, ...] = (
    "status", "updated_at", "scheduled_for", "started_at", "ended_at", "attempt", "max_attempts",
    "expires_at", "worker_id", "lease_expires_at", "total_operations", "finished_operations",
    "result", "error", "state",
)  # fmt: skip
EVENT_COLUMNS = ("seq", "execution_id", "ts", "kind", "level", "message", "data")


def ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def dumps(value: Any) -> str | None:
    return json.dumps(value, separators=(",", ":"), default=str) if value is not None else None


def loads(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


def execution_from_row(r: Sequence[Any]) -> Execution:
    # In Execution's field order (see core.model), not the row's.
    return Execution.from_values((
        r[0], r[1], Status(r[2]), datetime.fromtimestamp(r[10], UTC), loads(r[25]) or {}, r[3], r[4],
        r[5], bool(r[6]), bool(r[7]), bool(r[8]), r[9], dt(r[12]), dt(r[13]), dt(r[14]), r[15], r[16],
        r[17], r[18], r[19], dt(r[20]), r[21], dt(r[22]), r[23], r[24], loads(r[26]),
        ErrorInfo.from_dict(loads(r[27])), loads(r[28]), r[29], r[30], dt(r[11]),
    ))  # fmt: skip


def execution_to_row(e: Execution) -> tuple[Any, ...]:
    return (
        e.id, e.workflow, str(e.status), e.target, e.queue, e.priority, e.is_system, e.dry_run, e.force,
        e.created_by, ts(e.created_at), ts(e.updated_at), ts(e.scheduled_for), ts(e.started_at),
        ts(e.ended_at), e.attempt, e.max_attempts, e.retry_backoff, e.timeout, e.retention,
        ts(e.expires_at), e.worker_id, ts(e.lease_expires_at), e.total_operations,
        e.finished_operations, dumps(e.parameters), dumps(e.result),
        dumps(e.error.to_dict()) if e.error else None, dumps(e.state), e.idempotency_key, e.group_id,
    )  # fmt: skip


def mutable_values(e: Execution) -> tuple[Any, ...]:
    return (
        str(e.status), ts(e.updated_at), ts(e.scheduled_for), ts(e.started_at), ts(e.ended_at),
        e.attempt, e.max_attempts, ts(e.expires_at), e.worker_id, ts(e.lease_expires_at),
        e.total_operations, e.finished_operations, dumps(e.result),
        dumps(e.error.to_dict()) if e.error else None, dumps(e.state),
    )  # fmt: skip


def event_to_row(e: Event) -> tuple[Any, ...]:
    return (e.execution_id, ts(e.ts), e.kind, e.level, e.message, dumps(e.data))


def event_from_row(r: Sequence[Any]) -> Event:
    return Event(
        seq=r[0],
        execution_id=r[1],
        ts=datetime.fromtimestamp(r[2], UTC),
        kind=r[3],
        level=r[4],
        message=r[5],
        data=loads(r[6]),
    )


def status_event(old: Execution | None, new: Execution, now: datetime) -> Event:
    """The audit record every status change leaves behind."""
    before = str(old.status) if old is not None else None
    data: dict[str, Any] = {"from": before, "to": str(new.status)}
    if new.error is not None and new.status in (Status.FAILED, Status.SCHEDULED):
        data["error"] = new.error.to_dict()
    text = f"{before} -> {new.status}" if before else f"created as {new.status}"
    return Event(new.id, "status", now, text, "error" if new.status is Status.FAILED else "info", data)


@functools.lru_cache(maxsize=256)
def status_change(before: str | None, after: str) -> tuple[str, str, str]:
    """The message, level and data of a status event without an error (cached: a handful exist)."""
    text = f"{before} -> {after}" if before else f"created as {after}"
    return text, "error" if after == "failed" else "info", dumps({"from": before, "to": after}) or ""


def status_event_row(old: Execution | None, new: Execution, now: datetime) -> tuple[Any, ...]:
    """`event_to_row(status_event(...))` without the intermediate objects: it runs for every transition."""
    if new.error is not None and new.status in (Status.FAILED, Status.SCHEDULED):
        return event_to_row(status_event(old, new, now))
    text, level, data = status_change(str(old.status) if old is not None else None, str(new.status))
    return (new.id, now.timestamp(), "status", level, text, data)


def schedule_to_row(s: Schedule) -> tuple[Any, ...]:
    t = s.trigger
    return (
        s.id, s.workflow, t.kind, t.value, t.timezone, dumps(s.parameters), s.target, s.description,
        dumps(s.params), s.owner, s.enabled, s.suspended, s.misfire, s.misfire_limit, s.grace,
        s.overlap, s.priority, s.dry_run, ts(s.next_fire_at), ts(s.last_fired_at),
        s.last_execution_id, s.fire_count, s.waiting, s.last_error, ts(s.created_at), ts(s.updated_at),
    )  # fmt: skip


def schedule_from_row(r: Sequence[Any]) -> Schedule:
    created = dt(r[24])
    assert created is not None
    return Schedule(
        id=r[0], workflow=r[1], trigger=Trigger(r[2], r[3], r[4]), parameters=loads(r[5]) or {},
        target=r[6], description=r[7], params=loads(r[8]) or {}, owner=r[9], enabled=bool(r[10]),
        suspended=bool(r[11]), misfire=r[12], misfire_limit=r[13], grace=r[14], overlap=r[15],
        priority=r[16], dry_run=bool(r[17]), next_fire_at=dt(r[18]), last_fired_at=dt(r[19]),
        last_execution_id=r[20], fire_count=r[21], waiting=bool(r[22]), last_error=r[23], created_at=created,
        updated_at=dt(r[25]),
    )  # fmt: skip


def group_to_row(g: ExecutionGroup) -> tuple[Any, ...]:
    return (
        g.id, g.workflow, g.target_group, g.concurrency, g.force, dumps(g.default_parameters),
        dumps(g.parameters), g.created_by, ts(g.created_at), g.success_group, g.failed_group,
    )  # fmt: skip


def group_from_row(r: Sequence[Any]) -> ExecutionGroup:
    return ExecutionGroup(
        id=r[0], workflow=r[1], target_group=r[2], concurrency=r[3], force=bool(r[4]),
        default_parameters=loads(r[5]) or {}, parameters=loads(r[6]) or {}, created_by=r[7],
        created_at=dt(r[8]) or datetime.min, success_group=r[9], failed_group=r[10],
    )  # fmt: skip


def target_from_row(r: Sequence[Any]) -> Target:
    return Target(r[0], dt(r[3]) or datetime.min, r[1], loads(r[2]) or {})


def token_from_row(r: Sequence[Any]) -> Token:
    return Token(r[0], r[1], Role(r[2]), dt(r[4]), r[3])  # type: ignore[arg-type]
