"""Example workflows loaded by `make run`: progress, checkpoints, pause/resume, failure and retry, kill.

Try them with the CLI while `make run` serves:
    conveyor start demo.count --param n=20 --wait
    conveyor start demo.flaky --wait                 # fails twice, succeeds on attempt 3
    conveyor start demo.steps --param steps=30       # then: conveyor pause <id>; conveyor resume <id>
    conveyor start demo.forever                      # then: conveyor cancel <id> --kill
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel, Field

import conveyor
from conveyor.worker.context import Context

app = conveyor.App("demo")


class CountParams(BaseModel):
    n: int = Field(10, ge=0, le=100_000, description="how far to count")
    delay: float = Field(0.1, ge=0, le=10, description="seconds per step")


@app.workflow("demo.count", params=CountParams, timeout=3600)
def count(ctx: Context, params: CountParams) -> dict[str, int]:
    """Counts to n, one step per `delay` seconds, reporting progress and stopping at checkpoints."""
    for i in range(params.n):
        ctx.checkpoint()
        time.sleep(params.delay if not ctx.dry_run else 0)
        ctx.progress(i + 1, params.n)
    ctx.message(f"counted to {params.n}")
    return {"counted": params.n}


class StepsParams(BaseModel):
    steps: int = Field(20, ge=1, le=10_000)
    delay: float = Field(0.5, ge=0, le=60)


@app.workflow("demo.steps", params=StepsParams, max_attempts=3)
def steps(ctx: Context, params: StepsParams) -> dict[str, int]:
    """Resumable: remembers the next step in ctx.state, so pause/resume and retries continue where it was."""
    start = int(ctx.state.get("next", 0))
    if start:
        ctx.message(f"resuming at step {start}")
    for i in range(start, params.steps):
        time.sleep(params.delay)
        ctx.progress(i + 1, params.steps)
        ctx.checkpoint({"next": i + 1})
    return {"steps": params.steps, "resumed_at": start}


@app.workflow("demo.flaky", max_attempts=3, retry_backoff=0.5)
def flaky(ctx: Context, params: dict[str, object]) -> str:
    """Fails on its first two attempts, to show retries with exponential backoff."""
    if ctx.attempt < 3:
        raise RuntimeError(f"flaky failure on attempt {ctx.attempt}")
    return f"succeeded on attempt {ctx.attempt}"


class FailParams(BaseModel):
    reason: str = "this workflow always fails"


@app.workflow("demo.fail", params=FailParams)
def fail(ctx: Context, params: FailParams) -> None:
    """Always fails, with the given reason."""
    raise ValueError(params.reason)


@app.workflow("demo.forever", isolation="process")
def forever(ctx: Context, params: dict[str, object]) -> None:
    """Never ends and never checks for cancellation: only `conveyor cancel --kill` stops it."""
    while True:
        time.sleep(0.05)


@app.workflow("demo.wait", isolation="inline")
async def wait(ctx: Context, params: dict[str, object]) -> dict[str, float]:
    """An async handler: waits `seconds` (default 1) without holding a thread busy-looping."""
    seconds = float(params.get("seconds", 1.0))  # type: ignore[arg-type]
    await asyncio.sleep(seconds)
    return {"waited": seconds}


@app.workflow("demo.maintenance", system=True)
def maintenance(ctx: Context, params: dict[str, object]) -> str:
    """A system workflow: runs alone; nothing else starts while it runs."""
    time.sleep(float(params.get("seconds", 1.0)))  # type: ignore[arg-type]
    return "maintenance done"
