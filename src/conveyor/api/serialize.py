"""Domain objects to the JSON documents of docs/api.md.

Handlers build plain dicts here rather than through response models: a page of
a thousand executions serializes several times faster that way, and `include`
needs partial documents anyway. The Pydantic models in `schemas.py` describe
the same shapes for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from conveyor.core.errors import InvalidRequest
from conveyor.core.model import ErrorInfo, Event, Execution, Token, WorkflowInfo

#: The execution document's fields, in the order docs/api.md shows them.
EXECUTION_FIELDS: tuple[str, ...] = (
    "id", "workflow", "status", "target", "queue", "priority", "parameters", "is_system", "dry_run",
    "force", "created_by", "created_at", "updated_at", "scheduled_for", "started_at", "ended_at",
    "expires_at", "attempt", "max_attempts", "timeout", "total_operations", "finished_operations",
    "progress", "result", "error", "worker_id", "lease_expires_at", "group_id",
)  # fmt: skip
_FIELD_SET = frozenset(EXECUTION_FIELDS)


def iso(value: datetime | None) -> str | None:
    """UTC, microseconds, and a `Z`: one fixed shape every client can parse and compare as text."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def progress(ex: Execution) -> float | None:
    """finished/total, clamped to [0, 1]; None while the workflow has not said how much there is."""
    total, done = ex.total_operations, ex.finished_operations
    if not total or done is None:
        return None
    return max(0.0, min(1.0, done / total))


def error_doc(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {"type": error.type, "message": error.message, "traceback": error.traceback}


def parse_include(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """`include=id,status` (or repeated) -> the fields to keep; None keeps the whole document."""
    if not values:
        return None
    fields = [f.strip() for v in values for f in v.split(",") if f.strip()]
    unknown = [f for f in fields if f not in _FIELD_SET]
    if unknown:
        raise InvalidRequest(
            f"cannot include {', '.join(map(repr, unknown))}; fields: {', '.join(EXECUTION_FIELDS)}",
            {"field": "include"},
        )
    return tuple(fields) or None


def execution_doc(ex: Execution, include: Sequence[str] | None = None) -> dict[str, Any]:
    """The execution document; with `include`, only those fields (the id always comes along)."""
    doc: dict[str, Any] = {
        "id": ex.id,
        "workflow": ex.workflow,
        "status": str(ex.status),
        "target": ex.target,
        "queue": ex.queue,
        "priority": ex.priority,
        "parameters": ex.parameters,
        "is_system": ex.is_system,
        "dry_run": ex.dry_run,
        "force": ex.force,
        "created_by": ex.created_by,
        "created_at": iso(ex.created_at),
        "updated_at": iso(ex.updated_at),
        "scheduled_for": iso(ex.scheduled_for),
        "started_at": iso(ex.started_at),
        "ended_at": iso(ex.ended_at),
        "expires_at": iso(ex.expires_at),
        "attempt": ex.attempt,
        "max_attempts": ex.max_attempts,
        "timeout": ex.timeout,
        "total_operations": ex.total_operations,
        "finished_operations": ex.finished_operations,
        "progress": progress(ex),
        "result": ex.result,
        "error": error_doc(ex.error),
        "worker_id": ex.worker_id,
        "lease_expires_at": iso(ex.lease_expires_at),
        "group_id": ex.group_id,
    }
    if include is None:
        return doc
    return {"id": ex.id, **{f: doc[f] for f in include}}


def event_doc(ev: Event) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "execution_id": ev.execution_id,
        "ts": iso(ev.ts),
        "kind": ev.kind,
        "level": ev.level,
        "message": ev.message,
        "data": ev.data,
    }


def workflow_doc(info: WorkflowInfo) -> dict[str, Any]:
    """A workflow as docs/api.md lists it, built here so additions to the core's dict do not leak out."""
    return {
        "name": info.name,
        "description": info.description,
        "parameters_schema": info.parameters_schema,
        "system": info.system,
        "timeout": info.timeout,
        "max_attempts": info.max_attempts,
        "retry_backoff": info.retry_backoff,
        "queue": info.queue,
        "isolation": info.isolation,
        "retention": info.retention,
    }


def token_doc(token: Token, secret: str | None = None) -> dict[str, Any]:
    """A token as listed; the secret only in the answer that created it, since it is stored hashed."""
    doc: dict[str, Any] = {
        "id": token.id,
        "name": token.name,
        "role": str(token.role),
        "created_at": iso(token.created_at),
    }
    if secret is not None:
        doc["token"] = secret
    return doc
