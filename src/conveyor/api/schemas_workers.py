"""Request and answer documents of the worker protocol (`/workers`, docs/workers.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The worker id is the name and a UUID: short enough for the id columns.
Name = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:@-]+$")


class WorkflowDeclaration(BaseModel):
    """A workflow as the server needs to know it to start and check executions (its code elsewhere)."""

    model_config = ConfigDict(extra="forbid")
    parameters_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    description: str = Field("", max_length=2000)
    queue: str = Field("default", min_length=1, max_length=100)
    system: bool = False
    timeout: float | None = Field(None, gt=0)
    max_attempts: int = Field(1, ge=1, le=1000)
    retry_backoff: float = Field(1.0, ge=0)
    retention: float | None = Field(None, ge=0)
    allow_custom_parameters: bool = False


class WorkflowDeclared(WorkflowDeclaration):
    """A workflow a worker serves, named."""

    name: str = Field(min_length=1, max_length=200)


class RegisterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Name
    host: str = Field("", max_length=200)
    queues: list[str] = Field(default_factory=lambda: ["default"], min_length=1, max_length=100)
    workflows: list[WorkflowDeclared] = Field(default_factory=list, max_length=1000)
    concurrency: int = Field(8, ge=1, le=10_000)
    version: str = Field("", max_length=100)
    labels: dict[str, str] = Field(default_factory=dict, max_length=100)


class Registered(BaseModel):
    id: str
    lease_seconds: float = Field(description="How long a claim lasts without a heartbeat")
    heartbeat_seconds: float = Field(description="How often to send a heartbeat")


class ClaimBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(1, ge=1, le=1000, description="At most this many executions")
    wait: float = Field(0.0, ge=0, le=20, description="Seconds to wait for work when none is ready")


class HeartbeatBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    executions: list[str] = Field(default_factory=list, max_length=10_000)


class HeartbeatOut(BaseModel):
    executions: dict[str, str] = Field(
        description="Status of each execution still held (cancelling, pausing... ask the worker to stop); "
        "an id missing here is no longer the worker's: stop it and drop its reports"
    )


class ErrorReported(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field("Error", max_length=200)
    message: str = Field("", max_length=100_000)
    traceback: str | None = Field(None, max_length=1_000_000)


class Report(BaseModel):
    """One report on an execution the worker holds."""

    model_config = ConfigDict(extra="forbid")
    execution_id: str = Field(min_length=1, max_length=100)
    kind: Literal["progress", "message", "succeeded", "failed", "cancelled", "paused", "released"]
    finished_operations: int | None = Field(None, ge=0)
    total_operations: int | None = Field(None, ge=0)
    state: dict[str, Any] | None = None
    text: str = Field("", max_length=100_000, description="message")
    level: Literal["debug", "info", "warning", "error"] = "info"
    result: Any = Field(None, description="succeeded")
    error: ErrorReported | None = Field(None, description="failed")
    retryable: bool = Field(True, description="failed: retried while attempts are left")


class ReportsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reports: list[Report] = Field(min_length=1, max_length=1000)


class ReportAnswer(BaseModel):
    execution_id: str
    accepted: bool = Field(description="False: the worker no longer holds it, and nothing was recorded")
    status: str | None


class ReportsOut(BaseModel):
    items: list[ReportAnswer]


class WorkerOut(BaseModel):
    id: str
    name: str
    host: str
    queues: list[str]
    workflows: list[str]
    concurrency: int
    transport: str
    version: str
    labels: dict[str, str]
    started_at: str
    last_seen_at: str
    stopped_at: str | None
    holding: int
    state: Literal["alive", "lost", "stopped"]


class WorkerList(BaseModel):
    items: list[WorkerOut]
