"""Commands that talk to a running server through the client: start, list, get, logs, actions, workflows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from conveyor.cli import options, output
from conveyor.cli.options import (
    JsonFlag,
    ParamOpt,
    ParamsJsonOpt,
    RunTargetOpt,
    id_command,
    option,
    shown,
    with_options,
)
from conveyor.cli.output import note, print_json
from conveyor.cli.params import split_csv
from conveyor.cli.progress import wait_with_progress
from conveyor.cli.state import api_command, show, show_list, state_of, wants_json
from conveyor.client import Execution

IdArg = Annotated[str, typer.Argument(metavar="ID")]
StatusOpt = Annotated[
    str | None, typer.Option("--status", "-s", help="Comma-separated statuses, e.g. running,failed.")
]
WorkflowOpt = Annotated[str | None, typer.Option("--workflow", "-w", help="Comma-separated workflow names.")]
TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="Comma-separated target names.")]
QueueOpt = Annotated[str | None, typer.Option("--queue", help="Comma-separated worker queues.")]


#: The filters `list` and `count` share.
FILTER_OPTIONS = (
    option("status", StatusOpt),
    option("workflow", WorkflowOpt),
    option("target", TargetOpt),
    option("queue", QueueOpt),
)


def _filters(opts: dict[str, Any]) -> dict[str, Any]:
    return {p.name: split_csv(opts[p.name]) for p in FILTER_OPTIONS}


def _show(ctx: typer.Context, ex: Execution, as_json: bool, verb: str) -> None:
    """After an action: the document with --json, else one line saying where the execution now stands."""
    show(ctx, as_json, ex.raw, output.status_line(f"{verb} execution {ex.id}: now ", ex))


@api_command
def start(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Argument(help="The workflow to run.")],
    param: ParamOpt = None,
    params_json: ParamsJsonOpt = None,
    target: RunTargetOpt = None,
    queue: Annotated[bool, typer.Option("--queue", help="Wait for a free slot instead of refusing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Start even if the target is busy.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Ask the workflow not to change anything.")
    ] = False,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Start at this ISO 8601 instant (UTC unless an offset).")
    ] = None,
    priority: Annotated[int, typer.Option("--priority", help="Higher starts first among queued.")] = 0,
    wait: Annotated[bool, typer.Option("--wait", help="Follow it to the end with a progress bar.")] = False,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="With --wait: give up after this many seconds (exit 2).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start an execution of WORKFLOW; with --wait, follow it and exit 1 if it fails, 2 on timeout."""
    parameters = options.parameters(param, params_json)
    json_out = wants_json(ctx, as_json)
    with state_of(ctx).client() as client:
        ex = client.executions.start(
            workflow,
            parameters=parameters,
            target=target,
            queue=queue,
            force=force,
            dry_run=dry_run,
            schedule=schedule,
            priority=priority,
        )
        if wait:
            if not json_out:
                note(f"started execution [bold]{ex.id}[/bold] ({ex.raw.get('status')})")
            wait_with_progress(ex, timeout, as_json=json_out)
            return
        if json_out:
            print_json(ex.raw)
        else:
            output.out().print(output.status_line(f"started execution {ex.id} of {ex.workflow}: ", ex))


@api_command
@with_options(*FILTER_OPTIONS)
def list_(
    ctx: typer.Context,
    sort: Annotated[
        str, typer.Option("--sort", help="Fields, '-' for descending: -created_at,workflow.")
    ] = "-created_at",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many.")] = 50,
    as_json: JsonFlag = False,
    **opts: Any,
) -> None:
    """List executions, newest first."""
    with state_of(ctx).client() as client:
        found = list(
            client.executions.list(
                **_filters(opts),
                sort=sort,
                page_size=min(limit, 1000),
                limit=limit,
            )
        )
    show_list(ctx, as_json, found, output.executions_table, "no executions match", limit=limit)


get = id_command(
    IdArg,
    lambda client, execution_id: client.executions.get(execution_id),
    shown(output.execution_detail),
    "Show one execution in full, with its error and traceback if it failed.",
)


@api_command
@with_options(*FILTER_OPTIONS)
def count(ctx: typer.Context, as_json: JsonFlag = False, **opts: Any) -> None:
    """Count executions matching the filters."""
    with state_of(ctx).client() as client:
        n = client.executions.count(**_filters(opts))
    show(ctx, as_json, {"count": n}, str(n))


@api_command
def logs(
    ctx: typer.Context,
    execution_id: IdArg,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until it ends.")] = False,
    after: Annotated[int, typer.Option("--after", help="Only events after this sequence number.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Print an execution's events; with --follow, stream them until the execution ends."""
    json_out = wants_json(ctx, as_json)
    console = output.out()
    with state_of(ctx).client() as client:
        events = (
            client.executions.stream_events(execution_id, after=after)
            if follow
            else client.executions.events(execution_id, after=after)
        )
        for event in events:
            if json_out:
                # One document per line, so `logs --follow --json` can be piped into a line reader.
                typer.echo(output.compact(event))
            else:
                console.print(output.event_line(event))
        if follow and not json_out:
            final = client.executions.get(execution_id)
            note(f"execution {final.id} ended: [bold]{final.raw.get('status')}[/bold]")


def _action(verb: str, done: str, doc: str) -> Callable[..., None]:
    """Commands that take only an ID share one shape; this builds pause and requeue."""

    def present(ctx: typer.Context, ex: Execution, as_json: bool) -> None:
        _show(ctx, ex, as_json, done)

    return id_command(
        IdArg, lambda client, execution_id: getattr(client.executions, verb)(execution_id), present, doc
    )


def _cancelled(ctx: typer.Context, ex: Execution, as_json: bool) -> None:
    _show(ctx, ex, as_json, "cancel requested for" if ex.raw.get("status") != "cancelled" else "cancelled")


cancel = id_command(
    IdArg,
    lambda client, execution_id, force, kill: client.executions.cancel(
        execution_id, **options.cancel_mode(force, kill)
    ),
    _cancelled,
    "Cancel an execution: at its next checkpoint, or at once with --force / --kill.",
    *options.cancel_options(
        "Mark it cancelled now, without waiting.", "Also stop its code (process isolation)."
    ),
)


@api_command
def resume(
    ctx: typer.Context,
    execution_id: IdArg,
    force: Annotated[bool, typer.Option("--force", help="Also resume a failed or cancelled one.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Resume a paused execution (or, with --force, a failed or cancelled one)."""
    with state_of(ctx).client() as client:
        ex = client.executions.resume(execution_id, force=force)
    _show(ctx, ex, as_json, "resumed")


@api_command
def delete(
    ctx: typer.Context,
    execution_id: IdArg,
) -> None:
    """Delete a finished execution and its events."""
    with state_of(ctx).client() as client:
        client.executions.delete(execution_id)
    note(f"deleted execution {execution_id}")


@api_command
def workflows(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the workflows the server can run."""
    with state_of(ctx).client() as client:
        found = client.workflows.list()
    show_list(
        ctx,
        as_json,
        found,
        output.workflows_table,
        "no workflows are registered; start the server with --app module",
    )


def register(app: typer.Typer) -> None:
    app.command()(start)
    app.command("list")(list_)
    app.command("get")(get)
    app.command()(count)
    app.command()(logs)
    app.command("cancel")(cancel)
    app.command("pause")(
        _action("pause", "pause requested for", "Ask a running execution to pause at its next checkpoint.")
    )
    app.command()(resume)
    app.command("requeue")(
        _action("requeue", "requeued", "Put a finished execution back in the queue (e.g. after a restore).")
    )
    app.command()(delete)
    app.command()(workflows)
