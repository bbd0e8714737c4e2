"""Workflows the acceptance tests run in separate server and worker processes.

Handlers record side effects in files under CONVEYOR_TEST_SPOOL so a test can
see exactly what ran, where, and how often, whichever process ran it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import conveyor
from conveyor.worker.context import Context

app = conveyor.App("acceptance")


def _spool() -> Path:
    return Path(os.environ["CONVEYOR_TEST_SPOOL"])


def record(kind: str, ctx: Context) -> None:
    """Append one line per side effect; O_APPEND writes of one short line do not interleave."""
    with open(_spool() / f"{kind}.log", "a") as f:
        f.write(f"{ctx.execution_id} {ctx.attempt} {os.getpid()} {time.time()}\n")


class StepsParams(BaseModel):
    steps: int = 10
    delay: float = 0.05


@app.workflow("acc.steps", params=StepsParams, max_attempts=3)
def steps(ctx: Context, params: StepsParams) -> dict[str, Any]:
    record("started", ctx)
    done = int(ctx.state.get("next", 0))
    for i in range(done, params.steps):
        time.sleep(params.delay)
        ctx.progress(i + 1, params.steps)
        ctx.checkpoint({"next": i + 1})
    record("finished", ctx)
    return {"steps": params.steps, "pid": os.getpid()}


@app.workflow("acc.endless", isolation="process")
def endless(ctx: Context, params: dict[str, Any]) -> None:
    record("started", ctx)
    while True:  # never checks for cancellation: only kill stops it
        time.sleep(0.01)


@app.workflow("acc.noop")
def noop(ctx: Context, params: dict[str, Any]) -> None:
    return None


class HoldParams(BaseModel):
    seconds: float = 0.5


@app.workflow("acc.hold", params=HoldParams)
def hold(ctx: Context, params: HoldParams) -> str:
    """Holds its target for a while, stopping early when cancelled."""
    record("started", ctx)
    deadline = time.monotonic() + params.seconds
    while time.monotonic() < deadline:
        ctx.checkpoint()
        time.sleep(0.01)
    record("finished", ctx)
    return "held"


@app.workflow("acc.short_retention", retention=0.5)
def short_retention(ctx: Context, params: dict[str, Any]) -> str:
    return "gone soon"


@app.workflow("acc.effect", max_attempts=3)
def effect(ctx: Context, params: dict[str, Any]) -> None:
    """A side effect per run: the multi-process tests count them."""
    record("effect", ctx)


class WorkParams(BaseModel):
    seconds: float = 0.02


@app.workflow("acc.work", params=WorkParams, max_attempts=5)
def work(ctx: Context, params: WorkParams) -> None:
    """Short work with a start and an end record, so a kill lands mid-execution."""
    record("started", ctx)
    time.sleep(params.seconds)
    record("finished", ctx)


class SpanParams(BaseModel):
    seconds: float = 0.3
    fail: bool = False


@app.workflow("acc.span", params=SpanParams)
def span(ctx: Context, params: SpanParams) -> str | None:
    """Holds its target for a while, recording when the handler itself starts and ends.

    `span_start` and `span_end` lines (written with time.time() by `record`) are what the
    execution-group tests measure concurrency from: the handler's own timestamps, not the
    statuses the server reports. Stops early when cancelled; fails at the end when `fail`.
    """
    record("span_start", ctx)
    try:
        deadline = time.monotonic() + params.seconds
        while time.monotonic() < deadline:
            ctx.checkpoint()
            time.sleep(0.01)
    finally:
        record("span_end", ctx)
    if params.fail:
        raise RuntimeError(f"failing on {ctx.target} as asked")
    return ctx.target
