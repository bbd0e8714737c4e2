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

from conveyor.cli.options import JsonFlag, id_command, shown
from conveyor.cli.output import detail_table, fail, list_table, note, when
from conveyor.cli.state import api_command, show, show_list, state_of
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
    table = list_table(("name", "max concurrent", "labels", "created"), wrap=("labels",))
    for t in targets:
        table.add_row(t.name, str(t.max_concurrent), labels_text(t.labels), when(t.created_at))
    return table


def target_detail(t: TargetData) -> Table:
    return detail_table(
        [
            ("name", t.name),
            ("max concurrent", str(t.max_concurrent)),
            ("labels", labels_text(t.labels)),
            ("created", when(t.created_at)),
        ]
    )


def _show_target(ctx: typer.Context, t: TargetData, as_json: bool, verb: str) -> None:
    line = f"{verb} target {t.name} (max concurrent {t.max_concurrent}; labels {labels_text(t.labels)})"
    show(ctx, as_json, t.raw, line)


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
    empty = "no targets match" if wanted else "no targets; create one with `conveyor target add NAME`"
    show_list(ctx, as_json, found, targets_table, empty)


get_target = target_app.command("get")(
    id_command(
        NameArg, lambda client, name: client.targets.get(name), shown(target_detail), "Show one target."
    )
)


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
    table = list_table(("name", "members", "description", "created"), wrap=("description",))
    for g in groups:
        table.add_row(g.name, str(g.member_count), g.description or "-", when(g.created_at))
    return table


def _show_group(ctx: typer.Context, g: TargetGroupData, as_json: bool, verb: str) -> None:
    members = ", ".join(g.members or []) or "(none)"
    show(ctx, as_json, g.raw, f"{verb} target group {g.name}: {g.member_count} member(s): {members}")


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
    empty = "no target groups; create one with `conveyor target-group create NAME --label KEY=VALUE`"
    show_list(ctx, as_json, found, target_groups_table, empty)


def target_group_text(g: TargetGroupData) -> str:
    """The group's name and size, its description, then one member a line."""
    lines = [f"target group {g.name}: {g.member_count} member(s)"]
    if g.description:
        lines.append(g.description)
    lines.extend(f"  {member}" for member in g.members or [])
    return "\n".join(lines)


get_group = group_app.command("get")(
    id_command(
        GroupArg,
        lambda client, name: client.target_groups.get(name),
        shown(target_group_text),
        "Show a target group and its members.",
    )
)


MembersArg = Annotated[list[str] | None, typer.Argument(metavar="[TARGET]...", help="Targets by name.")]
MembersLabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", "-l", help="Every target with KEY=VALUE (KEY alone: any value); repeatable."),
]


# One command under two names: the name it was called by says whether to add or remove.
@group_app.command("remove-members", help="Remove targets from a group (the targets themselves stay).")
@group_app.command("add-members", help="Add targets to a group, by name and/or by label.")
@api_command
def change_members(
    ctx: typer.Context, name: GroupArg, targets: MembersArg = None, label: MembersLabelOpt = None,
    as_json: JsonFlag = False,
) -> None:  # fmt: skip
    labels = parse_labels(label, filter_=True)
    if not targets and not labels:
        fail("name the targets, or give --label KEY=VALUE", 2)
    with state_of(ctx).client() as client:
        groups = client.target_groups
        change = groups.add if ctx.info_name == "add-members" else groups.remove
        g = change(name, targets or [], labels=labels or None)
    _show_group(ctx, g, as_json, "now")


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
