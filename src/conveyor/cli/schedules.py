"""`conveyor schedule ...`: create, list, show, edit, enable, disable and delete schedules.

    conveyor schedule add backup --cron "*/5 * * * *" --tz Europe/Berlin --param db=main
    conveyor schedule list

The trigger is given one way only: --cron, --rate, --date, --oninit, --once-delay, or --trigger
"kind:value". Usage mistakes exit 2; what the server refuses (a cron it cannot read, an unknown
workflow) exits 1 with the server's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from conveyor.cli import options, output
from conveyor.cli.options import JsonFlag, ParamOpt, RunTargetOpt, id_command, option, shown, with_options
from conveyor.cli.output import compact, detail_table, fail, list_table, print_json, when
from conveyor.cli.state import api_command, show_count, show_list, state_of, wants_json
from conveyor.client import Client
from conveyor.client.schedules import ScheduleData, trigger_value

app = typer.Typer(
    name="schedule",
    help="Schedules: start a workflow by cron, at a rate, at a date, or when the server starts.",
    no_args_is_help=True,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="A schedule id.")]
CronOpt = Annotated[
    str | None, typer.Option("--cron", help='Cron expression, e.g. "*/5 * * * *" or Quartz "0 0/5 * * * ?".')
]
RateOpt = Annotated[str | None, typer.Option("--rate", help="Every this long: 30s, 5m, 2h, 1d, PT1H.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Once, at this ISO 8601 instant (no offset: read in --tz).")
]
OninitOpt = Annotated[bool, typer.Option("--oninit", help="Each time the server starts.")]
OnceDelayOpt = Annotated[
    str | None, typer.Option("--once-delay", help="Once, this long after creation: 10s, 5m.")
]
TriggerOpt = Annotated[
    str | None, typer.Option("--trigger", help='The trigger as "kind:value", e.g. "rate:30s".')
]
TzOpt = Annotated[
    str | None, typer.Option("--tz", help="IANA time zone for --cron (and a --date without offset).")
]
TriggerParamsOpt = Annotated[
    str | None,
    typer.Option("--trigger-params", help="Extra trigger options as a JSON object (kept as given)."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", "-d", help="What it is for.")]
MisfireOpt = Annotated[
    str | None, typer.Option("--misfire", help="Fires missed while down: skip, fire_once or fire_all.")
]
MisfireLimitOpt = Annotated[int | None, typer.Option("--misfire-limit", help="fire_all: at most this many.")]
GraceOpt = Annotated[
    float | None, typer.Option("--grace", help="Seconds late a fire still counts as on time.")
]
OverlapOpt = Annotated[
    str | None,
    typer.Option("--overlap", help="Previous run still active: allow, skip, queue or cancel_previous."),
]
PriorityOpt = Annotated[int | None, typer.Option("--priority", help="Priority of each execution started.")]

#: The ways to give a trigger (one at most), shared by `add` and `edit`.
TRIGGER_OPTIONS = (
    option("cron", CronOpt),
    option("rate", RateOpt),
    option("date", DateOpt),
    option("oninit", OninitOpt, False),
    option("once_delay", OnceDelayOpt),
    option("trigger", TriggerOpt),
)
#: What else `add` and `edit` both take, each passed on as given (None: not given).
SETTING_OPTIONS = (
    option("params_json", options.ParamsJsonOpt),
    option("trigger_params", TriggerParamsOpt),
    option("description", DescriptionOpt),
    option("misfire", MisfireOpt),
    option("misfire_limit", MisfireLimitOpt),
    option("grace", GraceOpt),
    option("overlap", OverlapOpt),
    option("priority", PriorityOpt),
)
POLICIES = ("misfire", "misfire_limit", "grace", "overlap", "priority")


def _trigger(opts: dict[str, Any], *, required: bool) -> str | dict[str, Any] | None:
    """The trigger the flags give (exit 2 unless exactly one, or none when not `required`)."""
    given: dict[str, Any] = {p.name: opts[p.name] for p in TRIGGER_OPTIONS}
    if not required and not any((v is not None and v is not False) for v in given.values()):
        return None
    try:
        return trigger_value(**given)
    except ValueError:
        named = [f"--{k.replace('_', '-')}" for k, v in given.items() if (v is not None and v is not False)]
        got = " and ".join(named) if named else "none"
        fail(
            "give exactly one trigger: --cron EXPR, --rate 30s, --date ISO, --oninit, --once-delay 10s "
            f'or --trigger "kind:value" (got {got})',
            2,
        )


def _json_object(text: str | None, flag: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        fail(f"{flag} is not valid JSON: {exc}", 2)
    if not isinstance(loaded, dict):
        fail(f"{flag} must be a JSON object, such as '{{\"key\": 1}}'", 2)
    return loaded


def fire_times(s: ScheduleData, sep: str = ", ") -> str:
    times = s.next_fire_times
    return sep.join(when(t) for t in times) if times else "-"


def state_text(s: ScheduleData) -> Text:
    if s.enabled:
        return Text("yes", style="green")
    if s.suspended:
        return Text("suspended", style="yellow")
    return Text("no", style="dim")


def schedules_table(schedules: Iterable[ScheduleData]) -> Table:
    table = list_table(
        ("id", "workflow", "trigger", "enabled", "next fires", "last fired", "fires"),
        wrap=("workflow", "trigger", "next fires"),
    )
    for s in schedules:
        table.add_row(
            s.id,
            s.workflow + (f" @ {s.target}" if s.target else ""),
            s.trigger_description,
            state_text(s),
            fire_times(s),
            when(s.last_fired_at),
            str(s.fire_count),
        )
    return table


def schedule_detail(s: ScheduleData) -> Table:
    rows: list[tuple[str, str | Text]] = [
        ("id", s.id),
        ("workflow", s.workflow),
        ("trigger", s.trigger_description),
        ("trigger text", s.trigger_text),
        ("parameters", compact(s.parameters)),
        ("target", s.target or "-"),
        ("description", s.description or "-"),
        ("owner", s.owner or "-"),
        ("enabled", state_text(s)),
        ("next fires", fire_times(s, "\n")),
        ("last fired", when(s.last_fired_at)),
        ("last execution", s.last_execution_id or "-"),
        ("fires", str(s.fire_count)),
        ("misfire", s.misfire + (f" (at most {s.misfire_limit})" if s.misfire == "fire_all" else "")),
        ("grace", f"{s.grace:g}s"),
        ("overlap", s.overlap + (" (a fire is waiting)" if s.waiting else "")),
        ("priority", str(s.priority)),
        ("created", when(s.created_at)),
        ("updated", when(s.updated_at)),
    ]
    if s.params:
        rows.insert(4, ("trigger params", compact(s.params)))
    if s.dry_run:
        rows.append(("flags", "dry_run"))
    if s.last_error:
        rows.append(("last error", Text(s.last_error, style="red")))
    return detail_table(rows)


def _show(ctx: typer.Context, s: ScheduleData, as_json: bool, verb: str) -> None:
    if wants_json(ctx, as_json):
        print_json(s.raw)
        return
    console = output.out()
    console.print(f"{verb} schedule {s.id} of {s.workflow}: {s.trigger_description}", highlight=False)
    if s.enabled and s.trigger_kind == "oninit":
        console.print("fires each time the server starts")
    elif s.enabled:
        console.print(f"next fires: {fire_times(s)}", highlight=False)
    else:
        console.print("disabled: it does not fire" + (" (suspended)" if s.suspended else ""))


@app.command("add")
@api_command
@with_options(*TRIGGER_OPTIONS, *SETTING_OPTIONS)
def add(
    ctx: typer.Context,
    workflow: Annotated[str, typer.Argument(help="The workflow each fire starts.")],
    tz: TzOpt = None,
    param: ParamOpt = None,
    target: RunTargetOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Start each execution as a dry run.")] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    as_json: JsonFlag = False,
    **opts: Any,
) -> None:
    """Create a schedule of WORKFLOW with exactly one trigger."""
    spec = _trigger(opts, required=True)
    parameters = options.parameters(param, opts["params_json"])
    extra = _json_object(opts["trigger_params"], "--trigger-params")
    with state_of(ctx).client() as client:
        s = client.schedules.create(
            workflow, trigger=spec, timezone=tz, parameters=parameters, target=target,
            description=opts["description"] or "", params=extra, dry_run=dry_run or None,
            enabled=False if disabled else None, **{name: opts[name] for name in POLICIES},
        )  # fmt: skip
    _show(ctx, s, as_json, "created")


@app.command("list")
@api_command
def list_(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's schedules.")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Only this target's.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many.")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """List schedules, oldest first, with their next three fire times."""
    with state_of(ctx).client() as client:
        found = list(client.schedules.list(owner, target, page_size=min(limit, 1000), limit=limit))
    empty = "no schedules; create one with `conveyor schedule add WORKFLOW --cron EXPR`"
    show_list(ctx, as_json, found, schedules_table, empty, limit=limit)


get = app.command("get")(
    id_command(
        IdArg,
        lambda client, sid: client.schedules.get(sid),
        shown(schedule_detail),
        "Show one schedule in full.",
    )
)


@app.command("edit")
@api_command
@with_options(*TRIGGER_OPTIONS, *SETTING_OPTIONS)
def edit(
    ctx: typer.Context,
    schedule_id: IdArg,
    workflow: Annotated[str | None, typer.Option("--workflow", "-w", help="Start this workflow.")] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="IANA time zone; alone, re-reads the current trigger in it.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE; replaces all parameters (with --params-json)."),
    ] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Run on this target.")] = None,
    no_target: Annotated[bool, typer.Option("--no-target", help="Unbind it from its target.")] = False,
    dry_run: Annotated[
        bool | None, typer.Option("--dry-run/--no-dry-run", help="Start executions as dry runs, or not.")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="Switch it on or off.")] = None,
    as_json: JsonFlag = False,
    **opts: Any,
) -> None:
    """Change a schedule: only what is given changes (a new trigger counts from now)."""
    if target is not None and no_target:
        fail("choose --target or --no-target, not both", 2)
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("workflow", workflow),
            ("timezone", tz),
            ("params", _json_object(opts["trigger_params"], "--trigger-params")),
            ("target", target),
            ("description", opts["description"]),
            ("dry_run", dry_run),
            ("enabled", enabled),
            *((name, opts[name]) for name in POLICIES),
        )
        if value is not None
    }
    spec = _trigger(opts, required=False)
    if spec is not None:
        changes["trigger"] = spec
    if param or opts["params_json"]:
        changes["parameters"] = options.parameters(param, opts["params_json"])
    if no_target:
        changes["target"] = None
    if not changes:
        fail("nothing to change: give at least one option (see `conveyor schedule edit --help`)", 2)
    with state_of(ctx).client() as client:
        s = client.schedules.update(schedule_id, **changes)
    _show(ctx, s, as_json, "changed")


@app.command("delete")
@api_command
def delete(
    ctx: typer.Context,
    schedule_ids: Annotated[list[str], typer.Argument(metavar="ID...", help="One or more schedule ids.")],
    as_json: JsonFlag = False,
) -> None:
    """Delete schedules, all or none: one unknown id deletes nothing."""
    with state_of(ctx).client() as client:
        n = client.schedules.delete(*schedule_ids)
    show_count(ctx, as_json, "deleted", n, f"deleted {n} schedule(s)")


def _switch(verb: str, doc: str) -> Callable[..., None]:
    """`enable` and `disable`: the client's method of that name, then where the schedule stands."""

    def switch(client: Client, schedule_id: str) -> ScheduleData:
        changed: ScheduleData = getattr(client.schedules, verb)(schedule_id)
        return changed

    return id_command(IdArg, switch, lambda ctx, s, as_json: _show(ctx, s, as_json, f"{verb}d"), doc)


enable = app.command("enable")(_switch("enable", "Switch a schedule on; its next fire counts from now."))
disable = app.command("disable")(_switch("disable", "Switch a schedule off."))


@app.command("unschedule-all")
@api_command
def unschedule_all(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Stop every enabled schedule you own; `reschedule-all` brings exactly these back."""
    with state_of(ctx).client() as client:
        n = client.schedules.unschedule_all()
    show_count(
        ctx, as_json, "count", n, f"stopped {n} schedule(s); `conveyor schedule reschedule-all` restores them"
    )


@app.command("reschedule-all")
@api_command
def reschedule_all(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Restore the schedules `unschedule-all` stopped; their next fires count from now."""
    with state_of(ctx).client() as client:
        n = client.schedules.reschedule_all()
    show_count(ctx, as_json, "count", n, f"restored {n} schedule(s)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="schedule")
