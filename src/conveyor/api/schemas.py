"""Request bodies and documented answers of the native API, as Pydantic models.

Request models validate input (unknown fields are refused, so a typo such as
`params` fails loudly instead of starting with defaults). Answer models exist
for the OpenAPI document; handlers send the same shapes built by `serialize`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from conveyor.core.model import Role, Status

MAX_BULK = 1000
LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -----------------------------------------------------------------


class StartBody(_Body):
    """Start one execution of a workflow."""

    workflow: str = Field(min_length=1, max_length=200, description="A registered workflow's name.")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Checked against the workflow's model."
    )
    target: str | None = Field(default=None, max_length=200, description="What the execution acts on.")
    queue: bool = Field(default=False, description="Wait for a free slot instead of being refused (409).")
    force: bool = Field(default=False, description="Skip admission: start even if the target is busy.")
    dry_run: bool = False
    schedule: datetime | None = Field(default=None, description="Start at this instant instead of now.")
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000, description="Higher is admitted first.")
    allow_custom_parameters: bool = Field(
        default=False, description="Keep parameters the model does not declare."
    )

    @field_validator("schedule")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """An instant without an offset is taken as UTC, like every time this API shows."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class BulkStartBody(_Body):
    """Start several executions at once: all are written, or none (all or nothing)."""

    executions: list[StartBody] = Field(min_length=1, max_length=MAX_BULK)
    queue: bool = Field(
        default=True,
        description="Queue the ones admission cannot start now; false refuses the whole call instead. "
        "Applies to every item (an item's own `queue` is not used).",
    )


class CancelBody(_Body):
    mode: Literal["cancel", "force", "kill"] = Field(
        default="cancel",
        description="cancel: stop at the next checkpoint; force: mark cancelled now; kill: stop the process.",
    )


class ResumeBody(_Body):
    force: bool = Field(default=False, description="Also resume failed or cancelled executions (retry).")


class ErrorBody(_Body):
    type: str = Field(default="Error", max_length=200)
    message: str = ""
    traceback: str | None = None


class ReportBody(_Body):
    """A status change reported by an external (non-Python) worker."""

    status: Status
    error: ErrorBody | str | None = Field(default=None, description="Why it failed: {type, message} or text.")
    result: Any = None


class MessageBody(_Body):
    message: str = Field(min_length=1, max_length=100_000)
    level: LogLevel = "info"


class TokenBody(_Body):
    name: str = Field(min_length=1, max_length=200)
    role: Role


# --- answers (documentation) --------------------------------------------------------


class ErrorInfoOut(BaseModel):
    type: str
    message: str
    traceback: str | None = None


class ExecutionOut(BaseModel):
    """The execution document. With `include`, only the named fields (and `id`) are present."""

    id: str
    workflow: str
    status: Status
    target: str | None
    queue: str
    priority: int
    parameters: dict[str, Any]
    is_system: bool
    dry_run: bool
    force: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime | None
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    expires_at: datetime | None
    attempt: int
    max_attempts: int
    timeout: float | None
    total_operations: int | None
    finished_operations: int | None
    progress: float | None = Field(description="finished_operations / total_operations, or null.")
    result: Any
    error: ErrorInfoOut | None
    worker_id: str | None
    lease_expires_at: datetime | None
    group_id: str | None


class ExecutionList(BaseModel):
    items: list[ExecutionOut]


class ExecutionPage(BaseModel):
    items: list[ExecutionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
    total: int | None = Field(default=None, description="Only with with_total=true.")


class CountOut(BaseModel):
    count: int


class DeletedOut(BaseModel):
    deleted: int


class EventOut(BaseModel):
    seq: int
    execution_id: str
    ts: datetime
    kind: str = Field(description="status | message | progress | log")
    level: str
    message: str
    data: dict[str, Any] | None


class EventList(BaseModel):
    items: list[EventOut]


class WorkflowOut(BaseModel):
    name: str
    description: str
    parameters_schema: dict[str, Any]
    system: bool
    timeout: float | None
    max_attempts: int
    retry_backoff: float
    queue: str
    isolation: str
    retention: float | None


class WorkflowList(BaseModel):
    items: list[WorkflowOut]


class TokenOut(BaseModel):
    id: str
    name: str
    role: Role
    created_at: datetime


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown only here: it is stored hashed.")


class TokenList(BaseModel):
    items: list[TokenOut]


class HealthOut(BaseModel):
    status: str
    version: str
    database: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


class Empty(BaseModel):
    pass


#: The error answers every route may give, for the OpenAPI document.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorEnvelope, "description": "invalid_request, malformed_json or invalid_parameters"},
    401: {"model": ErrorEnvelope, "description": "unauthorized"},
    403: {"model": ErrorEnvelope, "description": "forbidden"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorEnvelope, "description": "not_found"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorEnvelope, "description": "conflict"}}
