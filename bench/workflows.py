"""Workflows the benchmark runs: no work at all, so what is measured is Conveyor itself."""

from __future__ import annotations

from typing import Any

import conveyor
from conveyor.worker.context import Context

app = conveyor.App("bench")


@app.workflow("bench.noop", retention=3600)
def noop(ctx: Context, params: dict[str, Any]) -> None:
    return None
