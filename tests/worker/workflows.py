"""Workflows used by the worker tests; a module of its own so child processes can import them."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import conveyor
from conveyor.worker.context import Context

app = conveyor.App("tests")


class CountParams(BaseModel):
    n: int
    delay: float = 0.0


@app.workflow("count", params=CountParams)
def count(ctx: Context, params: CountParams) -> dict[str, Any]:
    for i in range(params.n):
        ctx.checkpoint()
        time.sleep(params.delay)
        ctx.progress(i + 1, params.n)
    ctx.message(f"counted to {params.n}")
    return {"counted": params.n, "dry_run": ctx.dry_run}


@app.workflow("flaky", max_attempts=3, retry_backoff=0.05)
def flaky(ctx: Context, params: dict[str, Any]) -> int:
    if ctx.attempt < int(params.get("succeed_on", 3)):
        raise RuntimeError(f"attempt {ctx.attempt} fails")
    return ctx.attempt


@app.workflow("steps", max_attempts=2)
def steps(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    """Resumable: records each step it ran in ctx.state."""
    done: list[int] = list(ctx.state.get("done", []))
    for i in range(len(done), int(params["steps"])):
        time.sleep(float(params.get("delay", 0.02)))
        done.append(i)
        ctx.progress(len(done), int(params["steps"]))
        ctx.checkpoint({"done": done})
    return {"done": done}


@app.workflow("until_cancelled")
def until_cancelled(ctx: Context, params: dict[str, Any]) -> str:
    """Polls ctx.cancelled and reports after a force-cancel (those reports must be discarded)."""
    while not ctx.cancelled:
        time.sleep(0.01)
    ctx.message("late report after cancel")
    return "returned after cancel"


@app.workflow("endless", isolation="process")
def endless(ctx: Context, params: dict[str, Any]) -> None:
    marker = params.get("pid_file")
    if marker:
        Path(str(marker)).write_text(str(os.getpid()))
    while True:
        time.sleep(0.01)


@app.workflow("slow_inline", timeout=0.3)
def slow_inline(ctx: Context, params: dict[str, Any]) -> str:
    for _ in range(500):
        time.sleep(0.01)
        ctx.checkpoint()
    return "too late"


@app.workflow("slow_process", timeout=0.5, isolation="process")
def slow_process(ctx: Context, params: dict[str, Any]) -> str:
    time.sleep(30)
    return "too late"


@app.workflow("process_count", isolation="process")
def process_count(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    n = int(params.get("n", 3))
    for i in range(n):
        ctx.progress(i + 1, n)
        ctx.checkpoint()
    ctx.message("from the child")
    return {"pid": os.getpid()}


@app.workflow("async_sleep")
async def async_sleep(ctx: Context, params: dict[str, Any]) -> float:
    await asyncio.sleep(float(params.get("seconds", 0.01)))
    return float(params.get("seconds", 0.01))


@app.workflow("boom")
def boom(ctx: Context, params: dict[str, Any]) -> None:
    raise ValueError("it went boom")


@app.workflow("noop")
def noop(ctx: Context, params: dict[str, Any]) -> None:
    return None
