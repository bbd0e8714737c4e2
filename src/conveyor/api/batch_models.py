"""The batch's request and answer models: what `POST /batch` takes and answers (OpenAPI).

Apart from the call dispatch (batch_calls) and the async runner (batch_background) because
these only describe the wire format; the limits they state (MAX_CALLS, METHODS) live here
so the parser and the schema cannot disagree.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from conveyor.api.schemas import ExecutionOut

BATCH_WORKFLOW = "conveyor.batch"
MAX_CALLS = 100
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")

QueryScalar = str | int | float | bool | None
QueryValue = QueryScalar | list[QueryScalar]


class BatchCallIn(BaseModel):
    """One call of a batch: what a client would send on its own."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(
        description="GET, POST, PATCH, PUT or DELETE (any case).", json_schema_extra={"enum": list(METHODS)}
    )
    path: str = Field(
        description="Under /api/v1, either in full (`/api/v1/executions`) or relative to it (`/executions`). "
        "Not /batch itself, nor an events stream. A `?query` part is allowed.",
        examples=["/executions"],
    )
    body: Any = Field(default=None, description="The JSON body, or null for none.")
    query: dict[str, QueryValue] | None = Field(
        default=None,
        description="Query parameters, merged into a `?query` of the path (overriding its names); "
        "a list repeats the parameter, null leaves it out.",
    )


class BatchBody(BaseModel):
    """Calls to run in order, each through the same auth and validation as a direct call."""

    model_config = ConfigDict(extra="forbid")

    calls: list[BatchCallIn] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_CALLS})
    sync: bool = Field(
        default=True,
        description="true: answer 200 with the results. false: answer 202 with an execution of "
        f"`{BATCH_WORKFLOW}` that runs the calls and holds the results as its `result`.",
    )
    stop_on_error: bool = Field(
        default=False,
        description="Stop at the first call answering 4xx/5xx; later calls are reported as skipped.",
    )


class BatchResultOut(BaseModel):
    index: int = Field(description="The call's position in `calls`, from 0.")
    method: str
    path: str = Field(description="The full path that was called (under /api/v1).")
    status: int | None = Field(description="The HTTP status the call answered; null when skipped.")
    body: Any = Field(
        default=None,
        description="What the call answered: JSON, text for a non-JSON answer, null when empty or skipped.",
    )
    skipped: bool = Field(default=False, description="true when stop_on_error left this call out.")


class BatchOut(BaseModel):
    results: list[BatchResultOut]
    stopped_at: int | None = Field(
        description="With stop_on_error: the index of the call whose error stopped the batch; else null."
    )


class BatchAccepted(BaseModel):
    execution_id: str
    execution: ExecutionOut
