"""`conveyor target ...` and `conveyor target-group ...`: what executions act on, and sets of them.

    conveyor target add web01 --label role=web --label zone=a --max-concurrent 2
    conveyor target list --label role=web
    conveyor target-group create web --label role=web
    conveyor target-group add-members web web07 web08

Labels are KEY=VALUE (KEY:VALUE works too); in a filter a bare KEY, or KEY=*, matches any value.
Usage mistakes exit 2; what the server refuses exits 1 with its message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import typer
from rich.table import Table

from conveyor.cli import output
from conveyor.cli.output import fail, note, print_json, when
from conveyor.cli.state import JSON_OPTION, api_command, state_of, wants_json
from conveyor.client import TargetData, TargetGroupData

target_app = typer.Typer(
    name="target",
    help="Targets: what executions act on, each running at most --max-concurrent executions at once.",
    no_args_is_help=True,
)
group_app = typer.Typer(
    name="target-group",
    help="Target groups: named sets of targets, which `conveyor group start` runs a workflow on.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, JSON_OPTION]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="A target's name.")]
GroupArg = Annotated[str, typer.Argument(metavar="GROUP", help="A target group's name.")]
LabelOpt = Annotated[
    list[str] | None, typer.Option("--label", "-l", help="KEY=VALUE; repeat for several labels.")
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option("--label", "-l", help="KEY=VALUE (or KEY for any value); repeat: all must match."),
]
MaxOpt = Annotated[
    int | None, typer.Option("--max-concurrent", "-m", help="Executions that may run on it at once.")
]


def parse_labels(pairs: Iterable[str] | None, *, filter_: bool = False) -> dict[str, str]:
    """['role=web', 'zone:a', 'tier'] -> {'role': 'web', 'zone': 'a', 'tier': '*'}.

    A bare key (any value) is allowed only in filters."""
    labels: dict[str, str] = {}
    for pair in pairs or ():
        sep = "=" if "=" in pair else ":" if ":" in pair else ""
        key, _, value = pair.partition(sep) if sep else (pair, "", "")
        key = key.strip()
        if not key or (not sep and not filter_):
            fail(f"--label expects KEY=VALUE, got {pair!r}", 2)
        labels[key] = value.strip() if sep else "*"
    return labels


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def targets_table(targets: Iterable[TargetData]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("name", "max concurrent", "labels", "created"):
        table.add_column(name, no_wrap=name != "labels")
    for t in targets:
        table.add_row(t.name, str(t.max_concurrent), labels_text(t.labels), when(t.created_at))
    return table


def target_detail(t: TargetData) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name, value in (
        ("name", t.name),
        ("max concurrent", str(t.max_concurrent)),
        ("labels", labels_text(t.labels)),
        ("created", when(t.created_at)),
    ):
        table.add_row(name, value)
    return table


def _show_target(ctx: typer.Context, t: TargetData, as_json: bool, verb: str) -> None:
    if wants_json(ctx, as_json):
        print_json(t.raw)
    else:
        output.out().print(
            f"{verb} target {t.name} (max concurrent {t.max_concurrent}; labels {labels_text(t.labels)})",
            highlight=False,
        )


# --- targets ----------------------------------------------------------------------------------


@target_app.command("add")
@api_command
def add_target(
    ctx: typer.Context,
    name: NameArg,
    label: LabelOpt = None,
    max_concurrent: MaxOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a target."""
    labels = parse_labels(label)
    with state_of(ctx).client() as client:
        t = client.targets.create(name, labels=labels, max_concurrent=max_concurrent or 1)
    _show_target(ctx, t, as_json, "created")


@target_app.command("list")
@api_command
def list_targets(ctx: typer.Context, label: FilterOpt = None, as_json: JsonFlag = False) -> None:
    """List targets by name, optionally only those carrying every --label."""
    wanted = parse_labels(label, filter_=True)
    with state_of(ctx).client() as client:
        found = client.targets.list(labels=wanted or None)
    if wants_json(ctx, as_json):
        print_json([t.raw for t in found])
    elif not found:
        note("no targets match" if wanted else "no targets; create one with `conveyor target add NAME`")
    else:
        output.out().print(targets_table(found))


@target_app.command("get")
@api_command
def get_target(ctx: typer.Context, name: NameArg, as_json: JsonFlag = False) -> None:
    """Show one target."""
    with state_of(ctx).client() as client:
        t = client.targets.get(name)
    if wants_json(ctx, as_json):
        print_json(t.raw)
    else:
        output.out().print(target_detail(t))


@target_app.command("edit")
@api_command
def edit_target(
    ctx: typer.Context,
    name: NameArg,
    max_concurrent: MaxOpt = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Set KEY=VALUE (others are kept); repeatable.")
    ] = None,
    unlabel: Annotated[
        list[str] | None, typer.Option("--unlabel", help="Remove the label KEY; repeatable.")
    ] = None,
    clear_labels: Annotated[
        bool, typer.Option("--clear-labels", help="Remove every label first (then apply --label).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a target's limit and labels; a higher limit lets queued executions start at once."""
    setting = parse_labels(label)
    if max_concurrent is None and not setting and not unlabel and not clear_labels:
        fail("nothing to change: give --max-concurrent, --label, --unlabel or --clear-labels", 2)
    with state_of(ctx).client() as client:
        labels = None
        if setting or unlabel or clear_labels:
            current = {} if clear_labels else client.targets.get(name).labels
            labels = {k: v for k, v in current.items() if k not in set(unlabel or ())} | setting
        t = client.targets.update(name, max_concurrent=max_concurrent, labels=labels)
    _show_target(ctx, t, as_json, "changed")


@target_app.command("delete")
@api_command
def delete_target(
    ctx: typer.Context,
    name: NameArg,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even while executions on it are active.")
    ] = False,
) -> None:
    """Delete a target and the schedules bound to it (refused while it is busy, unless --force)."""
    with state_of(ctx).client() as client:
        client.targets.delete(name, force=force)
    note(f"deleted target {name}")


# --- target groups ----------------------------------------------------------------------------


def target_groups_table(groups: Iterable[TargetGroupData]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("name", "members", "description", "created"):
        table.add_column(name, no_wrap=name != "description")
    for g in groups:
        table.add_row(g.name, str(g.member_count), g.description or "-", when(g.created_at))
    return table


def _show_group(ctx: typer.Context, g: TargetGroupData, as_json: bool, verb: str) -> None:
    if wants_json(ctx, as_json):
        print_json(g.raw)
        return
    members = ", ".join(g.members or []) or "(none)"
    output.out().print(
        f"{verb} target group {g.name}: {g.member_count} member(s): {members}", highlight=False
    )


@group_app.command("create")
@api_command
def create_group(
    ctx: typer.Context,
    name: GroupArg,
    targets: Annotated[
        list[str] | None, typer.Argument(metavar="[TARGET]...", help="Members by name.")
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", help="Also every target with KEY=VALUE now (KEY alone: any value)."),
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What it is for.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create a target group from target names and/or a label filter (resolved now)."""
    labels = parse_labels(label, filter_=True)
    with state_of(ctx).client() as client:
        g = client.target_groups.create(name, description=description, members=targets or [], labels=labels)
    _show_group(ctx, g, as_json, "created")


@group_app.command("list")
@api_command
def list_groups(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List target groups with their member counts."""
    with state_of(ctx).client() as client:
        found = client.target_groups.list()
    if wants_json(ctx, as_json):
        print_json([g.raw for g in found])
    elif not found:
        note("no target groups; create one with `conveyor target-group create NAME --label KEY=VALUE`")
    else:
        output.out().print(target_groups_table(found))


@group_app.command("get")
@api_command
def get_group(ctx: typer.Context, name: GroupArg, as_json: JsonFlag = False) -> None:
    """Show a target group and its members."""
    with state_of(ctx).client() as client:
        g = client.target_groups.get(name)
    if wants_json(ctx, as_json):
        print_json(g.raw)
        return
    console = output.out()
    console.print(f"target group {g.name}: {g.member_count} member(s)", highlight=False)
    if g.description:
        console.print(g.description, highlight=False)
    for member in g.members or []:
        console.print(f"  {member}", highlight=False)


def _members(
    ctx: typer.Context,
    name: str,
    targets: list[str] | None,
    label: list[str] | None,
    as_json: bool,
    add: bool,
) -> None:
    labels = parse_labels(label, filter_=True)
    if not targets and not labels:
        fail("name the targets, or give --label KEY=VALUE", 2)
    with state_of(ctx).client() as client:
        groups = client.target_groups
        g = (groups.add if add else groups.remove)(name, targets or [], labels=labels or None)
    _show_group(ctx, g, as_json, "now")


MembersArg = Annotated[list[str] | None, typer.Argument(metavar="[TARGET]...", help="Targets by name.")]
MembersLabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", "-l", help="Every target with KEY=VALUE (KEY alone: any value); repeatable."),
]


@group_app.command("add-members")
@api_command
def add_members(
    ctx: typer.Context, name: GroupArg, targets: MembersArg = None, label: MembersLabelOpt = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Add targets to a group, by name and/or by label."""
    _members(ctx, name, targets, label, as_json, add=True)


@group_app.command("remove-members")
@api_command
def remove_members(
    ctx: typer.Context, name: GroupArg, targets: MembersArg = None, label: MembersLabelOpt = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Remove targets from a group (the targets themselves stay)."""
    _members(ctx, name, targets, label, as_json, add=False)


@group_app.command("delete")
@api_command
def delete_group(ctx: typer.Context, name: GroupArg) -> None:
    """Delete a target group (its targets stay)."""
    with state_of(ctx).client() as client:
        client.target_groups.delete(name)
    note(f"deleted target group {name}")


def register(root: typer.Typer) -> None:
    root.add_typer(target_app, name="target")
    root.add_typer(group_app, name="target-group")
