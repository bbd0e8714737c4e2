"""`start --wait`: follow an execution to its end with a Rich progress bar, then report the outcome.

The bar is fed by polling (the same `Execution.wait` scripts use), from
the execution's finished/total operations; while the workflow has not said
how much work there is, the bar pulses instead. It is drawn on stderr so
stdout carries only the result.
"""

from __future__ import annotations

from rich.markup import escape
from rich.progress import Progress, TaskID

from conveyor.cli.output import fail, note, print_json, progress_bars
from conveyor.client import (
    Execution,
    ExecutionCancelled,
    ExecutionData,
    ExecutionFailed,
    WaitTimeout,
)

POLL_INTERVAL = 0.3
EXIT_FAILED = 1
EXIT_TIMEOUT = 2


class _Bar:
    """Keeps the Rich task in step with each polled state of the execution."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task

    def __call__(self, ex: Execution) -> None:
        total = ex.total_operations
        self.progress.update(
            self.task,
            description=f"{ex.workflow} [bold]{ex.raw.get('status', '')}[/bold]",
            total=total if total else None,
            completed=ex.finished_operations or 0,
        )


def wait_with_progress(ex: Execution, timeout: float | None, *, as_json: bool, show_bar: bool = True) -> None:
    """Wait for `ex`, print its result (or full document with --json), exit 1 on failure, 2 on timeout."""
    try:
        if show_bar and not as_json:
            with progress_bars() as progress:
                bar = _Bar(progress, progress.add_task(ex.workflow, total=None))
                bar(ex)
                ex.wait(timeout=timeout, poll_interval=POLL_INTERVAL, on_update=bar)
        else:
            ex.wait(timeout=timeout, poll_interval=POLL_INTERVAL)
    except ExecutionFailed as exc:
        _dump(exc.execution, as_json)
        if exc.traceback and not as_json:
            note(f"[dim]{escape(exc.traceback.rstrip())}[/dim]")
        fail(str(exc), EXIT_FAILED)
    except ExecutionCancelled as exc:
        _dump(exc.execution, as_json)
        fail(str(exc), EXIT_FAILED)
    except WaitTimeout as exc:
        _dump(exc.execution, as_json)
        fail(f"{exc} Follow it with: conveyor logs --follow {ex.id}", EXIT_TIMEOUT)
    except KeyboardInterrupt:
        fail(f"stopped waiting; execution {ex.id} goes on (conveyor cancel {ex.id} stops it)", 130)
    if as_json:
        print_json(ex.raw)
        return
    note(f"[green]execution {ex.id} succeeded[/green]")
    if ex.result is not None:
        print_json(ex.result)


def _dump(ex: ExecutionData, as_json: bool) -> None:
    """With --json, even a failed wait prints the execution, so scripts can read its error."""
    if as_json:
        print_json(ex.raw)
