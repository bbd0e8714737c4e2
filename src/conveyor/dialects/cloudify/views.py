"""Conveyor's executions and execution groups as Cloudify's JSON documents.

Field lists follow the manager's models (MOD `response_fields`); `_include`
projects them and refuses a field the model does not have with
`no_such_include_field_error`, as the manager's `marshal_with` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import Response

from conveyor.api.deps import dump
from conveyor.core.groups import ExecutionGroup
from conveyor.core.model import ErrorInfo, Execution
from conveyor.dialects.cloudify import statuses
from conveyor.dialects.cloudify.errors import NO_SUCH_INCLUDE_FIELD, CloudifyError

TENANT = "default_tenant"
VISIBILITY = "tenant"

EXECUTION_FIELDS: tuple[str, ...] = (
    "id", "workflow_id", "deployment_id", "deployment_display_name", "blueprint_id", "status",
    "status_display", "error", "parameters", "parameters_p", "is_system_workflow", "is_dry_run",
    "allow_custom_parameters", "resume", "created_at", "started_at", "ended_at", "scheduled_for",
    "total_operations", "finished_operations", "visibility", "tenant_name", "created_by",
    "resource_availability", "private_resource",
)  # fmt: skip

GROUP_FIELDS: tuple[str, ...] = (
    "id", "workflow_id", "concurrency", "deployment_group_id", "created_at", "created_by", "tenant_name",
    "visibility", "resource_availability", "private_resource", "status", "execution_ids",
)  # fmt: skip
#: Fields that need the members read; Cloudify fills them with `_get_data` (and on a single group).
GROUP_DATA_FIELDS = frozenset({"status", "execution_ids"})

#: Target labels a deployment's blueprint id is read from (a Conveyor target has no blueprint).
BLUEPRINT_LABELS = ("blueprint_id", "blueprint")


def timestamp(value: datetime | None) -> str | None:
    """Cloudify's shape: UTC, milliseconds and a `Z` (`2024-08-12T10:00:00.123Z`)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def error_text(error: ErrorInfo | None) -> str:
    """Cloudify's `error` is text ('' when there is none): the traceback when there is one."""
    if error is None:
        return ""
    if error.traceback:
        return error.traceback
    if error.type in ("Error", ""):
        return error.message
    return f"{error.type}: {error.message}"


def parse_include(values: Iterable[str], allowed: Sequence[str]) -> tuple[str, ...] | None:
    """`_include=a,b` (or repeated) -> the fields to keep; None keeps every field."""
    fields = [f.strip() for v in values for f in v.split(",") if f.strip()]
    if not fields:
        return None
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise CloudifyError(
            400,
            NO_SUCH_INCLUDE_FIELD,
            f"Illegal include field(s) {', '.join(unknown)}: the available fields are {', '.join(allowed)}",
        )
    return tuple(dict.fromkeys(fields))


def project(doc: dict[str, Any], include: Sequence[str] | None) -> dict[str, Any]:
    return doc if include is None else {k: doc[k] for k in include if k in doc}


BlueprintOf = Callable[[str], str | None]


def execution_view(ex: Execution, blueprint_of: BlueprintOf | None = None) -> dict[str, Any]:
    """One execution as Cloudify shows it. `blueprint_of(target)` derives `blueprint_id` (or None)."""
    status = statuses.to_cloudify(ex.status)
    return {
        "id": ex.id,
        "workflow_id": ex.workflow,
        "deployment_id": ex.target,
        "deployment_display_name": ex.target,
        "blueprint_id": blueprint_of(ex.target) if blueprint_of is not None and ex.target else None,
        "status": status,
        "status_display": statuses.status_display(status),
        "error": error_text(ex.error),
        "parameters": ex.parameters,
        "parameters_p": None,
        "is_system_workflow": ex.is_system,
        "is_dry_run": ex.dry_run,
        "allow_custom_parameters": False,
        "resume": False,
        "created_at": timestamp(ex.created_at),
        "started_at": timestamp(ex.started_at),
        "ended_at": timestamp(ex.ended_at),
        "scheduled_for": timestamp(ex.scheduled_for),
        "total_operations": ex.total_operations,
        "finished_operations": ex.finished_operations,
        "visibility": VISIBILITY,
        "tenant_name": TENANT,
        "created_by": ex.created_by,
        "resource_availability": VISIBILITY,
        "private_resource": False,
    }


def group_view(
    group: ExecutionGroup, members: Sequence[Execution] | None, canonical_status: str | None
) -> dict[str, Any]:
    """One execution group; `members` (and their derived status) only when they were read."""
    doc: dict[str, Any] = {
        "id": group.id,
        "workflow_id": group.workflow,
        "concurrency": group.concurrency,
        "deployment_group_id": group.target_group,
        "created_at": timestamp(group.created_at),
        "created_by": group.created_by,
        "tenant_name": TENANT,
        "visibility": VISIBILITY,
        "resource_availability": VISIBILITY,
        "private_resource": False,
    }
    if members is not None and canonical_status is not None:
        doc["status"] = statuses.group_status(canonical_status, (m.status for m in members))
        doc["execution_ids"] = [m.id for m in members]
    return doc


def pagination(total: int, size: int, offset: int) -> dict[str, Any]:
    return {"pagination": {"total": total, "size": size, "offset": offset}, "filtered": None}


def answer(content: Any, status_code: int = 200) -> Response:
    """A JSON answer (a bare value too: should-start answers `true` or `false`)."""
    return Response(
        dump(content),
        status_code=status_code,
        media_type="application/json",
    )
