"""How the CLI shows things: Rich tables for people, plain JSON for scripts, errors on stderr.

Data goes to stdout and everything else (progress, notes, errors) to stderr,
so `conveyor --json list | jq` never sees a progress bar or a warning.
Consoles are built per call because test runners swap sys.stdout/stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from conveyor.client import Execution, ExecutionData, Workflow
from conveyor.client.models import parse_datetime

STATUS_STYLES = {
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "pending": "cyan",
    "pausing": "magenta",
    "paused": "magenta",
    "cancelling": "yellow",
    "force_cancelling": "yellow",
    "kill_cancelling": "yellow",
    "queued": "blue",
    "scheduled": "blue",
    "created": "dim",
}
LEVEL_STYLES = {"debug": "dim", "info": "", "warning": "yellow", "error": "red", "critical": "bold red"}
# Wide enough for a 36-character id plus the other columns when output is piped (Rich would assume 80).
PIPE_WIDTH = 200


def out() -> Console:
    return Console(width=None if sys.stdout.isatty() else PIPE_WIDTH, highlight=False)


def err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: <message>` in red on stderr and exit; the one way commands report failure."""
    err().print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(code)


def note(message: str) -> None:
    """A remark for the person at the terminal, on stderr so it never mixes with data."""
    err().print(message)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLES.get(status, ""))


def status_line(prefix: str, ex: ExecutionData) -> Text:
    """`prefix` followed by the execution's status in its colour."""
    return Text(prefix).append_text(status_text(str(ex.raw.get("status", "?"))))


def when(value: Any) -> str:
    """An API time in local time to the second: what a person scanning a table needs."""
    moment = value if isinstance(value, datetime) else parse_datetime(value)
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def progress_text(ex: ExecutionData) -> str:
    done, total = ex.finished_operations, ex.total_operations
    if total:
        pct = f" ({ex.progress:.0%})" if ex.progress is not None else ""
        return f"{done or 0}/{total}{pct}"
    return "-" if done is None else str(done)


def compact(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def list_table(columns: Iterable[str], *, wrap: Collection[str] = ()) -> Table:
    """An empty list table with a bold header; only the `wrap` columns may wrap."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in columns:
        table.add_column(name, no_wrap=name not in wrap)
    return table


def detail_table(rows: Iterable[tuple[str, str | Text]]) -> Table:
    """One thing as a two-column sheet: field names in bold, values folded to the width."""
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    return table


def progress_bars() -> Progress:
    """Transient progress bars on stderr (spinner, text, bar, done/total, time), for the waits."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err(),
        transient=True,
    )


def executions_table(executions: Iterable[ExecutionData]) -> Table:
    table = list_table(
        ("id", "workflow", "target", "status", "progress", "created", "ended"),
        wrap=("workflow", "target", "progress"),
    )
    for ex in executions:
        table.add_row(
            ex.id,
            ex.workflow,
            ex.target or "-",
            status_text(str(ex.raw.get("status", "?"))),
            progress_text(ex),
            when(ex.raw.get("created_at")),
            when(ex.raw.get("ended_at")),
        )
    return table


def execution_detail(ex: Execution) -> Table:
    """One execution as a two-column sheet, with its error (and traceback) spelled out when it failed."""
    raw = ex.raw
    attempts = f"{raw.get('attempt', 0)} of {raw.get('max_attempts', 1)}"
    rows: list[tuple[str, str | Text]] = [
        ("id", ex.id),
        ("workflow", ex.workflow),
        ("status", status_text(str(raw.get("status", "?")))),
        ("target", raw.get("target") or "-"),
        ("queue", str(raw.get("queue") or "-")),
        ("priority", str(raw.get("priority", 0))),
        ("parameters", compact(raw.get("parameters") or {})),
        ("created by", raw.get("created_by") or "-"),
        ("created", when(raw.get("created_at"))),
        ("scheduled for", when(raw.get("scheduled_for"))),
        ("started", when(raw.get("started_at"))),
        ("ended", when(raw.get("ended_at"))),
        ("attempt", attempts),
        ("progress", progress_text(ex)),
        ("worker", raw.get("worker_id") or "-"),
    ]
    flags = [f for f in ("is_system", "dry_run", "force") if raw.get(f)]
    if flags:
        rows.append(("flags", ", ".join(flags)))
    if raw.get("result") is not None:
        rows.append(("result", compact(raw["result"])))
    error = ex.error
    if error:
        rows.append(("error", Text(f"{error.get('type', 'Error')}: {error.get('message', '')}", style="red")))
        if error.get("traceback"):
            rows.append(("traceback", Text(str(error["traceback"]).rstrip(), style="dim")))
    return detail_table(rows)


def workflows_table(workflows: Iterable[Workflow]) -> Table:
    table = list_table(
        ("name", "queue", "workers", "isolation", "system", "timeout", "attempts", "description"),
        wrap=("description",),
    )
    for wf in workflows:
        table.add_row(
            wf.name,
            wf.queue,
            str(len(wf.workers)) if wf.served else "none alive",
            wf.isolation,
            "yes" if wf.system else "",
            "-" if wf.timeout is None else f"{wf.timeout:g}s",
            str(wf.max_attempts),
            (wf.description.strip().splitlines() or [""])[0],
        )
    return table


def event_line(event: dict[str, Any]) -> Text:
    """`time  level  kind  message`; an event without a message shows its data instead."""
    level = str(event.get("level") or "info")
    message = str(event.get("message") or "")
    data = event.get("data")
    if not message and data:
        message = compact(data)
    line = Text()
    line.append(when(event.get("ts")), style="dim")
    line.append(f"  {level:<7} ", style=LEVEL_STYLES.get(level, ""))
    line.append(f"{event.get('kind', ''):<8} ", style="bold")
    line.append(message, style=LEVEL_STYLES.get(level, ""))
    return line
