"""Conversion between stored rows and domain objects, shared by every SQL store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from conveyor.core.model import ErrorInfo, Event, Execution, Status

COLUMNS: tuple[str, ...] = (
    "id", "workflow", "status", "target", "queue", "priority", "is_system", "dry_run", "force",
    "created_by", "created_at", "updated_at", "scheduled_for", "started_at", "ended_at", "attempt",
    "max_attempts", "retry_backoff", "timeout", "retention", "expires_at", "worker_id",
    "lease_expires_at", "total_operations", "finished_operations", "parameters", "result", "error",
    "state", "idempotency_key", "group_id",
)  # fmt: skip
SELECT_COLUMNS = ", ".join(f'"{c}"' if c == "force" else c for c in COLUMNS)
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
    return Execution(
        id=r[0], workflow=r[1], status=Status(r[2]), target=r[3], queue=r[4], priority=r[5],
        is_system=bool(r[6]), dry_run=bool(r[7]), force=bool(r[8]), created_by=r[9],
        created_at=datetime.fromtimestamp(r[10], UTC), updated_at=dt(r[11]), scheduled_for=dt(r[12]),
        started_at=dt(r[13]), ended_at=dt(r[14]), attempt=r[15], max_attempts=r[16],
        retry_backoff=r[17], timeout=r[18], retention=r[19], expires_at=dt(r[20]), worker_id=r[21],
        lease_expires_at=dt(r[22]), total_operations=r[23], finished_operations=r[24],
        parameters=loads(r[25]) or {}, result=loads(r[26]),
        error=ErrorInfo.from_dict(loads(r[27])), state=loads(r[28]), idempotency_key=r[29],
        group_id=r[30],
    )  # fmt: skip


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
