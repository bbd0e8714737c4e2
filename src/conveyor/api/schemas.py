"""Request bodies and documented answers of the native API, as Pydantic models.

Request models validate input (unknown fields are refused, so a typo such as
`params` fails loudly instead of starting with defaults). Answer models exist
for the OpenAPI document; handlers send the same shapes built by `serialize`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, field_validator

from conveyor.core.model import Role, Status
from conveyor.core.schedules import DEFAULT_GRACE, DEFAULT_MISFIRE_LIMIT

MAX_BULK = 1000
LogLevel = Literal["debug", "info", "warning", "error", "critical"]


class _Body(BaseModel):
    """A request body: unknown fields are refused, and numbers are StrictInt/StrictFloat where
    a JSON `true` would otherwise quietly become 1 (`max_concurrent: true`)."""

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
    priority: StrictInt = Field(
        default=0, ge=-1_000_000, le=1_000_000, description="Higher is admitted first."
    )
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


class CountsOut(BaseModel):
    """Every count a dashboard shows, from counts the store keeps as executions change."""

    total: int
    by_status: dict[str, int] = Field(description="Every status, zeros included")
    by_queue: dict[str, dict[str, int]] = Field(description="Per queue, the statuses it has")
    by_workflow: dict[str, dict[str, int]] = Field(description="Per workflow, the statuses it has")


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
    workers: list[str] = Field(default_factory=list, description="Live workers that serve it")
    served: bool = Field(False, description="Whether any live worker serves it")


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


class ReadyOut(BaseModel):
    status: str = Field(description="Always 'ready' (otherwise the answer is a 503 error).")
    version: str
    database: str
    schema_revision: str


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


# --- schedules -----------------------------------------------------------------------

MisfirePolicy = Literal["skip", "fire_once", "fire_all"]
OverlapPolicy = Literal["allow", "skip", "queue", "cancel_previous"]
MAX_SCHEDULE_IDS = 1000


class TriggerIn(_Body):
    """A trigger as an object; the string form is "kind:value" ("cron:*/5 * * * *", "rate:30s", "oninit")."""

    kind: str = Field(description="cron, rate, date, oninit or once_delay.")
    value: str | int | float | None = Field(
        default=None,
        description="cron: the expression; rate/once_delay: seconds or '30s', '5m', 'PT1H'; "
        "date: an ISO 8601 instant; oninit: none.",
    )
    timezone: str | None = Field(
        default=None, description="IANA zone a cron expression (or a date without offset) is read in."
    )


_TRIGGER_DOC = (
    '"kind:value" (e.g. "cron:*/5 * * * *", "rate:30s", "date:2026-12-01T10:00:00Z", '
    '"once_delay:10s", "oninit") or {"kind", "value", "timezone"}.'
)


class ScheduleBody(_Body):
    """Create a schedule: a trigger plus the execution it starts each time it fires."""

    workflow: str = Field(min_length=1, max_length=200, description="A registered workflow's name.")
    trigger: str | TriggerIn = Field(description=_TRIGGER_DOC)
    timezone: str | None = Field(
        default=None,
        description="IANA zone for the trigger, e.g. Europe/Berlin: used by a string trigger, or by an "
        "object trigger that names no zone of its own. UTC when not given.",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Checked against the workflow's model now, and at every fire."
    )
    target: str | None = Field(default=None, max_length=200, description="What each execution acts on.")
    description: str = Field(default="", max_length=10_000)
    params: dict[str, Any] = Field(default_factory=dict, description="Extra trigger options, kept as given.")
    misfire: MisfirePolicy = Field(default="skip", description="What to do with fires missed while down.")
    misfire_limit: StrictInt = Field(
        default=DEFAULT_MISFIRE_LIMIT, ge=1, le=1000, description="fire_all: at most this many."
    )
    grace: StrictFloat = Field(
        default=DEFAULT_GRACE, ge=0, description="Seconds late a fire may be and still count as on time."
    )
    overlap: OverlapPolicy = Field(
        default="allow", description="When the previous execution is still active."
    )
    priority: StrictInt = Field(default=0, ge=-1_000_000, le=1_000_000)
    dry_run: bool = False
    enabled: bool = True


class ScheduleChanges(_Body):
    """Change a schedule: only the fields given change (`target: null` unbinds it from its target)."""

    workflow: str | None = Field(default=None, min_length=1, max_length=200)
    trigger: str | TriggerIn | None = Field(default=None, description=_TRIGGER_DOC)
    timezone: str | None = Field(
        default=None,
        description="IANA zone; with `trigger` as for create, alone it re-reads the current trigger in it.",
    )
    parameters: dict[str, Any] | None = None
    target: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    params: dict[str, Any] | None = None
    misfire: MisfirePolicy | None = None
    misfire_limit: StrictInt | None = Field(default=None, ge=1, le=1000)
    grace: StrictFloat | None = Field(default=None, ge=0)
    overlap: OverlapPolicy | None = None
    priority: StrictInt | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    dry_run: bool | None = None
    enabled: bool | None = None


class TriggerOut(BaseModel):
    kind: str
    value: str
    timezone: str
    text: str = Field(description='The "kind:value" form.')
    description: str = Field(description="A short phrase, e.g. \"cron '*/5 * * * *' (Europe/Berlin)\".")


class ScheduleOut(BaseModel):
    """The schedule document."""

    id: str
    workflow: str
    trigger: TriggerOut
    parameters: dict[str, Any]
    target: str | None
    description: str
    params: dict[str, Any]
    owner: str | None
    enabled: bool
    suspended: bool = Field(description="Disabled by unschedule-all; reschedule-all enables it again.")
    misfire: MisfirePolicy
    misfire_limit: int
    grace: float
    overlap: OverlapPolicy
    priority: int
    dry_run: bool
    next_fire_at: datetime | None
    next_fire_times: list[datetime] = Field(description="The next (up to) three fire times.")
    last_fired_at: datetime | None
    last_execution_id: str | None
    fire_count: int
    waiting: bool = Field(description="overlap=queue: a fire waits for the previous execution to end.")
    last_error: str | None
    created_at: datetime
    updated_at: datetime | None


class SchedulePage(BaseModel):
    items: list[ScheduleOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
