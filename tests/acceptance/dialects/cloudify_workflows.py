"""Workflows the Cloudify dialect's acceptance tests run through a real in-process Worker.

Each handler appends one line per event to a file named by its parameters, so a
test sees what ran, when, and in which process, without sleeping on guesses.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from conveyor.worker.context import Context
from conveyor.worker.registry import App

app = App("cloudify-dialect-tests")


def record(path: str | None, *words: object) -> None:
    if path:
        with open(path, "a") as f:
            f.write(" ".join(str(w) for w in words) + "\n")


class HoldParams(BaseModel):
    seconds: float = 0.2
    log: str | None = None


@app.workflow("cfy.hold", params=HoldParams)
def hold(ctx: Context, params: HoldParams) -> str:
    """Holds its deployment for a while, stopping at a checkpoint when cancelled."""
    record(params.log, "start", ctx.execution_id, time.monotonic())
    try:
        deadline = time.monotonic() + params.seconds
        while time.monotonic() < deadline:
            ctx.checkpoint()
            time.sleep(0.01)
    finally:
        record(params.log, "end", ctx.execution_id, time.monotonic())
    return "held"


class CountParams(BaseModel):
    log: str | None = None


@app.workflow("cfy.count", params=CountParams)
def count(ctx: Context, params: CountParams) -> None:
    """One line per run."""
    record(params.log, "run", ctx.execution_id)


class EndlessParams(BaseModel):
    pidfile: str


@app.workflow("cfy.endless", params=EndlessParams, isolation="process")
def endless(ctx: Context, params: EndlessParams) -> None:
    """Never checks for cancellation: only a kill stops it."""
    Path(params.pidfile).write_text(str(os.getpid()))
    while True:
        time.sleep(0.01)


class FlakyParams(BaseModel):
    marker: str


@app.workflow("cfy.flaky", params=FlakyParams)
def flaky(ctx: Context, params: FlakyParams) -> str:
    """Fails the first time (no marker yet), succeeds once resumed."""
    marker = Path(params.marker)
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("the first attempt fails")
    return "second time lucky"


@app.workflow("cfy.system_task", system=True)
def system_task(ctx: Context, params: dict[str, Any]) -> None:
    """A system workflow (Cloudify: snapshots and the like)."""
