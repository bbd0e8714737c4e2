"""Commands that talk to a running server through the client: start, list, get, logs, actions, workflows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from conveyor.cli import output
from conveyor.cli.output import fail, note, print_json
from conveyor.cli.params import ParamError, parse_params, split_csv
from conveyor.cli.progress import wait_with_progress
from conveyor.cli.state import JSON_OPTION, api_command, state_of, wants_json
from conveyor.client import Execution

JsonFlag = Annotated[bool, JSON_OPTION]
StatusOpt = Annotated[
    str | None, typer.Option("--status", "-s", help="Comma-separated statuses, e.g. running,failed.")
]
WorkflowOpt = Annotated[str | None, typer.Option("--workflow", "-w", help="Comma-separated workflow names.")]
TargetOpt = Annotated[str | None, typer.Option("--target", "-t", help="Comma-separated target names.")]
QueueOpt = Annotated[str | None, typer.Option("--queue", help="Comma-separated worker queues.")]


def _filters(
    status: str | None, workflow: str | None, target: str | None, queue: str | None
) -> dict[str, Any]:
    return {
        "status": split_csv(status),
        "workflow": split_csv(workflow),
        "target": split_csv(target),
        "queue": split_csv(queue),
    }


def _show(ctx: typer.Context, ex: Execution, as_json: bool, verb: str) -> None:
    """After an action: the document with --json, else one line saying where the execution now stands."""
    if wants_json(ctx, as_json):
        print_json(ex.raw)
    else:
        output.out().print(output.status_line(f"{verb} execution {ex.id}: now ", ex))


@api_command
def start(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Argument(help="The workflow to run.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE; VALUE is JSON when it parses (n=20 is a number)."),
    ] = None,
    params_json: Annotated[
        str | None, typer.Option("--params-json", help="All parameters as a JSON object, or @file.json.")
    ] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="The target to run on.")] = None,
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
    try:
        parameters = parse_params(param, params_json)
    except ParamError as exc:
        fail(str(exc), 2)
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
def list_(
    ctx: typer.Context,
    status: StatusOpt = None,
    workflow: WorkflowOpt = None,
    target: TargetOpt = None,
    queue: QueueOpt = None,
    sort: Annotated[
        str, typer.Option("--sort", help="Fields, '-' for descending: -created_at,workflow.")
    ] = "-created_at",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """List executions, newest first."""
    with state_of(ctx).client() as client:
        found = list(
            client.executions.list(
                **_filters(status, workflow, target, queue),
                sort=sort,
                page_size=min(limit, 1000),
                limit=limit,
            )
        )
    if wants_json(ctx, as_json):
        print_json([ex.raw for ex in found])
        return
    if not found:
        note("no executions match")
        return
    output.out().print(output.executions_table(found))
    if len(found) == limit:
        note(f"[dim](showing the first {limit}; --limit shows more)[/dim]")


@api_command
def get(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: JsonFlag = False,
) -> None:
    """Show one execution in full, with its error and traceback if it failed."""
    with state_of(ctx).client() as client:
        ex = client.executions.get(execution_id)
    if wants_json(ctx, as_json):
        print_json(ex.raw)
    else:
        output.out().print(output.execution_detail(ex))


@api_command
def count(
    ctx: typer.Context,
    status: StatusOpt = None,
    workflow: WorkflowOpt = None,
    target: TargetOpt = None,
    queue: QueueOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Count executions matching the filters."""
    with state_of(ctx).client() as client:
        n = client.executions.count(**_filters(status, workflow, target, queue))
    if wants_json(ctx, as_json):
        print_json({"count": n})
    else:
        typer.echo(str(n))


@api_command
def logs(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID")],
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

    @api_command
    def command(
        ctx: typer.Context,
        execution_id: Annotated[str, typer.Argument(metavar="ID")],
        as_json: JsonFlag = False,
    ) -> None:
        with state_of(ctx).client() as client:
            ex = getattr(client.executions, verb)(execution_id)
        _show(ctx, ex, as_json, done)

    command.__doc__ = doc
    return command


@api_command
def cancel(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID")],
    force: Annotated[bool, typer.Option("--force", help="Mark it cancelled now, without waiting.")] = False,
    kill: Annotated[bool, typer.Option("--kill", help="Also stop its code (process isolation).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Cancel an execution: at its next checkpoint, or at once with --force / --kill."""
    if force and kill:
        fail("choose --force or --kill, not both", 2)
    with state_of(ctx).client() as client:
        ex = client.executions.cancel(execution_id, force=force, kill=kill)
    _show(ctx, ex, as_json, "cancel requested for" if ex.raw.get("status") != "cancelled" else "cancelled")


@api_command
def resume(
    ctx: typer.Context,
    execution_id: Annotated[str, typer.Argument(metavar="ID")],
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
    execution_id: Annotated[str, typer.Argument(metavar="ID")],
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
    if wants_json(ctx, as_json):
        print_json([wf.raw for wf in found])
    elif not found:
        note("no workflows are registered; start the server with --app module")
    else:
        output.out().print(output.workflows_table(found))


def register(app: typer.Typer) -> None:
    app.command()(start)
    app.command("list")(list_)
    app.command()(get)
    app.command()(count)
    app.command()(logs)
    app.command()(cancel)
    app.command("pause")(
        _action("pause", "pause requested for", "Ask a running execution to pause at its next checkpoint.")
    )
    app.command()(resume)
    app.command("requeue")(
        _action("requeue", "requeued", "Put a finished execution back in the queue (e.g. after a restore).")
    )
    app.command()(delete)
    app.command()(workflows)
