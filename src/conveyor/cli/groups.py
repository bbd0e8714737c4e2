"""`conveyor group ...`: execution groups, one workflow on every target of a target group.

    conveyor group start deploy --target-group web --concurrency 3 --param version=1.2 --wait
    conveyor group list
    conveyor group concurrency ID 6
    conveyor group cancel ID

`start --wait` (and `group wait ID`) follow the group with Rich progress on stderr:
an overall bar (members ended / total) and one bar per running member, fed by
polling the group and its members. Exit codes: 0 when the group succeeded, 1 when
it failed or was cancelled, 2 on --timeout (the group goes on).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Annotated, Any

import typer
from rich.progress import Progress, TaskID
from rich.table import Table
from rich.text import Text

from conveyor.cli import options, output
from conveyor.cli.options import FailedGroupOpt, JsonFlag, SuccessGroupOpt, TimeoutOpt
from conveyor.cli.output import compact, detail_table, fail, list_table, note, print_json, status_text, when
from conveyor.cli.params import ParamError, parse_pair
from conveyor.cli.state import api_command, show_list, state_of, wants_json
from conveyor.client import Client, ExecutionData, ExecutionGroup, ExecutionGroupData
from conveyor.client.groups import MEMBER_FIELDS
from conveyor.client.waiting import Deadline
from conveyor.core.model import Status

app = typer.Typer(
    name="group",
    help="Execution groups: run a workflow on every target of a target group, N at a time.",
    no_args_is_help=True,
)

POLL_INTERVAL = 0.3
EXIT_FAILED = 1
EXIT_TIMEOUT = 2
#: Members in these statuses get a bar of their own while following a group.
SHOWN = frozenset({"pending", "running", "pausing", "cancelling", "force_cancelling", "kill_cancelling"})
GROUP_STYLES = {
    "pending": "blue",
    "started": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "yellow",
}

IdArg = Annotated[str, typer.Argument(metavar="ID", help="An execution group id.")]


def group_status_text(status: str) -> Text:
    return Text(status, style=GROUP_STYLES.get(status, ""))


def counts_text(g: ExecutionGroupData) -> str:
    """Members per status, in the order of the life cycle: "12 queued, 3 running, 5 succeeded"."""
    order = {s.value: i for i, s in enumerate(Status)}
    ranked = sorted(g.counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return ", ".join(f"{n} {s}" for s, n in ranked) or "no members"


def groups_table(groups: Iterable[ExecutionGroupData]) -> Table:
    table = list_table(
        ("id", "workflow", "target group", "status", "ended", "concurrency", "members", "created"),
        wrap=("members",),
    )
    for g in groups:
        table.add_row(
            g.id, g.workflow, g.target_group, group_status_text(g.status), f"{g.ended}/{g.total}",
            str(g.concurrency), counts_text(g), when(g.created_at),
        )  # fmt: skip
    return table


def group_detail(g: ExecutionGroupData) -> Table:
    rows: list[tuple[str, str | Text]] = [
        ("id", g.id),
        ("workflow", g.workflow),
        ("target group", g.target_group),
        ("status", group_status_text(g.status)),
        ("ended", f"{g.ended} of {g.total}"),
        ("members", counts_text(g)),
        ("concurrency", str(g.concurrency)),
        ("default parameters", compact(g.default_parameters)),
        ("per-target parameters", compact(g.parameters) if g.parameters else "-"),
        ("success group", g.success_group or "-"),
        ("failed group", g.failed_group or "-"),
        ("created by", g.created_by or "-"),
        ("created", when(g.created_at)),
    ]
    if g.force:
        rows.append(("flags", "force"))
    return detail_table(rows)


def members_table(members: Iterable[ExecutionData]) -> Table:
    table = list_table(
        ("target", "execution", "status", "progress", "started", "ended", "error"), wrap=("error",)
    )
    for m in members:
        error = m.error or {}
        table.add_row(
            m.target or "-", m.id, status_text(str(m.raw.get("status", "?"))), output.progress_text(m),
            when(m.raw.get("started_at")), when(m.raw.get("ended_at")),
            Text(f"{error.get('type')}: {error.get('message')}", style="red") if error else "",
        )  # fmt: skip
    return table


class GroupBoard:
    """The bars of a followed group: one overall (members ended / total), one per running member.

    `update` takes each polled state; a member's bar appears when it is admitted and goes
    when it ends, so at most `concurrency` member bars show at once.
    """

    def __init__(self, progress: Progress, group: ExecutionGroupData) -> None:
        self.progress = progress
        self.overall = progress.add_task(self._title(group), total=group.total or None)
        self.bars: dict[str, TaskID] = {}

    @staticmethod
    def _title(g: ExecutionGroupData) -> str:
        return (
            f"[bold]{g.workflow}[/bold] on {g.target_group}: {g.status} "
            f"({counts_text(g)}; concurrency {g.concurrency})"
        )

    def update(self, group: ExecutionGroupData, members: Iterable[ExecutionData]) -> None:
        self.progress.update(
            self.overall, description=self._title(group), total=group.total or None, completed=group.ended
        )
        seen = set()
        for m in members:
            status = str(m.raw.get("status", ""))
            if status not in SHOWN:
                continue
            seen.add(m.id)
            total = m.total_operations
            description = f"  {m.target or m.id} [bold]{status}[/bold]"
            if m.id not in self.bars:
                self.bars[m.id] = self.progress.add_task(description, total=total or None)
            self.progress.update(
                self.bars[m.id],
                description=description,
                total=total or None,
                completed=m.finished_operations or 0,
            )
        for ended in set(self.bars) - seen:
            self.progress.remove_task(self.bars.pop(ended))


def follow(
    client: Client, group: ExecutionGroup, timeout: float | None, *, as_json: bool, bars: bool = True
) -> None:
    """Poll the group and its members until every member ended, drawing the board; then report and exit."""
    deadline = Deadline(timeout)

    def poll(board: GroupBoard | None) -> bool:
        group.refresh()
        if board is not None:
            board.update(group, group.members(include=MEMBER_FIELDS))
        return group.is_done

    try:
        if bars and not as_json:
            with output.progress_bars() as progress:
                board = GroupBoard(progress, group)
                while not poll(board) and not deadline.expired:
                    time.sleep(deadline.pause(POLL_INTERVAL))
        else:
            while not poll(None) and not deadline.expired:
                time.sleep(deadline.pause(POLL_INTERVAL))
    except KeyboardInterrupt:
        fail(f"stopped waiting; group {group.id} goes on (conveyor group cancel {group.id} stops it)", 130)
    if as_json:
        print_json(group.raw)
    if not group.is_done:
        fail(
            f"execution group {group.id} is still {group.status} ({group.ended} of {group.total} ended) "
            f"after {timeout:g} s; it goes on (conveyor group wait {group.id})",
            EXIT_TIMEOUT,
        )
    if as_json:
        if group.status != "succeeded":
            raise typer.Exit(EXIT_FAILED)
        return
    members = group.members(include=MEMBER_FIELDS)
    unhappy = [m for m in members if m.raw.get("status") != "succeeded"]
    if unhappy:
        output.out().print(members_table(unhappy))
    summary = f"execution group {group.id} {group.status}: {counts_text(group)}"
    if group.status == "succeeded":
        note(f"[green]{summary}[/green]")
        return
    fail(summary, EXIT_FAILED)


def _per_target(pairs: list[str] | None) -> dict[str, dict[str, Any]]:
    """['web01:version=2', 'web02:n=3'] -> {'web01': {'version': 2}, 'web02': {'n': 3}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in pairs or ():
        target, sep, pair = item.partition(":")
        if not sep or not target.strip():
            fail(f"--target-param expects TARGET:KEY=VALUE, got {item!r}", 2)
        try:
            key, value = parse_pair(pair)
        except ParamError:
            fail(f"--target-param expects TARGET:KEY=VALUE, got {item!r}", 2)
        out.setdefault(target.strip(), {})[key] = value
    return out


def _show(ctx: typer.Context, g: ExecutionGroupData, as_json: bool, verb: str) -> None:
    if wants_json(ctx, as_json):
        print_json(g.raw)
        return
    line = Text(f"{verb} execution group {g.id} of {g.workflow} on {g.target_group}: ")
    line.append_text(group_status_text(g.status)).append(f" ({counts_text(g)}; concurrency {g.concurrency})")
    output.out().print(line)


@app.command("start")
@api_command
def start(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Argument(help="The workflow to run on every target.")],
    target_group: Annotated[
        str, typer.Option("--target-group", "-g", help="Run on every target of this target group.")
    ],
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Members run at once.")] = 5,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE for every member; VALUE is JSON when it parses."),
    ] = None,
    params_json: Annotated[
        str | None, typer.Option("--params-json", help="Every member's parameters as JSON, or @file.json.")
    ] = None,
    target_param: Annotated[
        list[str] | None,
        typer.Option("--target-param", help="TARGET:KEY=VALUE for one target's member, over --param."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start on busy targets too (the concurrency still holds).")
    ] = False,
    success_group: SuccessGroupOpt = None,
    failed_group: FailedGroupOpt = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow it to the end with progress bars.")] = False,
    timeout: TimeoutOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Start WORKFLOW on every target of --target-group, at most --concurrency at a time."""
    defaults = options.parameters(param, params_json)
    per_target = _per_target(target_param)
    json_out = wants_json(ctx, as_json)
    with state_of(ctx).client() as client:
        g = client.execution_groups.start(
            target_group, workflow, default_parameters=defaults, parameters=per_target,
            concurrency=concurrency, force=force,
        )  # fmt: skip
        if success_group or failed_group:
            g.set_target_group(success_group, failed_group)
        if not wait:
            _show(ctx, g, as_json, "started")
            return
        if not json_out:
            note(f"started execution group [bold]{g.id}[/bold] ({g.total} member(s))")
        follow(client, g, timeout, as_json=json_out)


@app.command("wait")
@api_command
def wait_(ctx: typer.Context, group_id: IdArg, timeout: TimeoutOpt = None, as_json: JsonFlag = False) -> None:
    """Follow an execution group to its end with progress bars (exit 1 unless it succeeds)."""
    with state_of(ctx).client() as client:
        follow(client, client.execution_groups.get(group_id), timeout, as_json=wants_json(ctx, as_json))


@app.command("list")
@api_command
def list_(
    ctx: typer.Context,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Only groups of this workflow.")
    ] = None,
    target_group: Annotated[
        str | None, typer.Option("--target-group", "-g", help="Only groups started on this target group.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List execution groups, oldest first, with their status and member counts."""
    with state_of(ctx).client() as client:
        found = client.execution_groups.list(workflow, target_group)
    empty = "no execution groups; start one with `conveyor group start WORKFLOW --target-group NAME`"
    show_list(ctx, as_json, found, groups_table, empty)


@app.command("get")
@api_command
def get(ctx: typer.Context, group_id: IdArg, as_json: JsonFlag = False) -> None:
    """Show an execution group and each of its members."""
    with state_of(ctx).client() as client:
        g = client.execution_groups.get(group_id)
        members = g.members(include=MEMBER_FIELDS)
    if wants_json(ctx, as_json):
        print_json({**g.raw, "members": [m.raw for m in members]})
        return
    console = output.out()
    console.print(group_detail(g))
    if members:
        console.print()
        console.print(members_table(members))


def _cancelled(ctx: typer.Context, g: ExecutionGroup, as_json: bool) -> None:
    _show(ctx, g, as_json, "cancelled" if g.is_done else "cancel requested for")


cancel = app.command("cancel")(
    options.id_command(
        IdArg,
        lambda client, group_id, force, kill: client.execution_groups.cancel(
            group_id, **options.cancel_mode(force, kill)
        ),
        _cancelled,
        "Cancel every member that has not ended: queued ones at once, running ones as asked.",
        *options.cancel_options(
            "Mark running members cancelled now.", "Also stop running members' processes."
        ),
    )
)


@app.command("concurrency")
@api_command
def concurrency(
    ctx: typer.Context,
    group_id: IdArg,
    value: Annotated[int, typer.Argument(metavar="N", min=1, help="Members that may run at once.")],
    as_json: JsonFlag = False,
) -> None:
    """Change how many members run at once; queued members start at once if the new value allows."""
    with state_of(ctx).client() as client:
        g = client.execution_groups.set_concurrency(group_id, value)
    _show(ctx, g, as_json, "changed")


@app.command("set-target-groups")
@api_command
def set_target_groups(
    ctx: typer.Context,
    group_id: IdArg,
    success_group: SuccessGroupOpt = None,
    failed_group: FailedGroupOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Collect the targets of members that succeed / fail in target groups (ended members count too)."""
    if success_group is None and failed_group is None:
        fail("give --success-group and/or --failed-group", 2)
    with state_of(ctx).client() as client:
        g = client.execution_groups.set_target_group(group_id, success_group, failed_group)
    _show(ctx, g, as_json, "changed")


@app.command("dump")
@api_command
def dump(
    ctx: typer.Context,
    group_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID]...", help="Only these groups.")
    ] = None,
) -> None:
    """Every group's attributes as JSON lines (one group per line), for snapshots."""
    with state_of(ctx).client() as client:
        for item in client.execution_groups.dump(group_ids or None):
            typer.echo(compact(item))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="group")
