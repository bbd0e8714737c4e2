"""`utils.Scheduler`: Jelastic tasks as Conveyor schedules, over ScheduleService.

A task is a schedule:

| Jelastic               | Conveyor schedule                                                        |
|------------------------|--------------------------------------------------------------------------|
| `id` (int)             | `id` (UUIDv7) read as a 128-bit integer (see `wire.task_id`); `uuid` too  |
| `script`               | `workflow`                                                               |
| `trigger` "type:value" | `trigger` (cron in UTC; once_delay and rate in milliseconds on the wire) |
| `params` (JSON object) | both `params` (kept as given) and `parameters`: the script's input       |
| `envName`              | `target`: the task goes when the target is deleted                       |
| `description`          | `description`                                                            |
| account                | `owner`: the caller (the token's name, or "anonymous" on an open server) |

`params` are the workflow's parameters because that is what they are on Jelastic: the
script receives them as its input (`//@req(action, envName)`). They are checked against the
workflow's parameter model when the task is created or edited, and every fire passes them.

Methods and what they need: GetTasks (viewer) answers `objects`, the given `ids` in that
order, or every task the caller owns without `ids`; an unknown id is an error (5).
CreateAccountTask / CreateEnvTask / EditTask answer `id` and `object`. EditTask changes what it
is given (py-jelastic always sends `script`, `trigger` and `params`; an absent `description` or
`envName` is kept); an unchanged trigger keeps its next fire time. DeleteTasks deletes all the
given ids or, when one is unknown, none. UnscheduleTasks stops every enabled task of the caller
and RescheduleTasks brings exactly those back (both answer `count`). All but GetTasks need the
operator role.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from conveyor.api.auth import Principal
from conveyor.core.errors import ConveyorError, InvalidRequest
from conveyor.core.model import Role
from conveyor.core.schedules import Schedule, ScheduleRequest, ScheduleService
from conveyor.dialects.jelastic.wire import (
    iso,
    json_object_param,
    list_param,
    ok,
    parse_jelastic_trigger,
    schedule_id,
    task_id,
    text_param,
    trigger_text,
)

Params = Mapping[str, Any]
MAX_IDS: Final = 1000
_PAGE: Final = 500

#: How a schedule's state reads as a task `status` (the dialect's own words).
TASK_STATUS: Final[dict[str, str]] = {
    "scheduled": "enabled; it fires at nextRunDate (oninit: at every service start)",
    "unscheduled": "stopped by UnscheduleTasks; RescheduleTasks brings it back",
    "disabled": "disabled through the native API",
    "done": "a one-shot trigger (date, once_delay) that has fired",
}


def task_status(s: Schedule) -> str:
    if s.suspended:
        return "unscheduled"
    if s.trigger.one_shot and s.fire_count > 0 and s.next_fire_at is None:
        return "done"
    if not s.enabled:
        return "disabled"
    return "scheduled"


def task_doc(s: Schedule) -> dict[str, Any]:
    """A schedule as a Jelastic task object."""
    return {
        "id": task_id(s.id),
        "uuid": s.id,
        "script": s.workflow,
        "trigger": trigger_text(s.trigger),
        "timezone": s.trigger.timezone,
        "description": s.description,
        "params": s.params,
        "parameters": s.parameters,
        "envName": s.target,
        "type": "env" if s.target is not None else "account",
        "status": task_status(s),
        "enabled": s.enabled,
        "owner": s.owner,
        "nextRunDate": iso(s.next_fire_at),
        "lastRunDate": iso(s.last_fired_at),
        "runCount": s.fire_count,
        "lastExecutionId": s.last_execution_id,
        "lastError": s.last_error,
        "createdOn": iso(s.created_at),
        "updatedOn": iso(s.updated_at),
    }


@dataclass(frozen=True, slots=True)
class Caller:
    """What a method runs with: the schedule use cases and who is calling."""

    schedules: ScheduleService
    principal: Principal


def _not_found(message: str, ids: list[str]) -> ConveyorError:
    err = ConveyorError(message, {"kind": "task", "ids": ids})
    err.code = "not_found"
    return err


def _rephrase(exc: ConveyorError) -> ConveyorError:
    """Core errors in Jelastic's words where they name a Conveyor thing (target, workflow)."""
    if exc.code == "not_found" and exc.details.get("kind") == "target":
        name = exc.details.get("id")
        err = ConveyorError(
            f"environment {name!r} (envName) does not exist: env tasks are bound to the Conveyor target "
            "of that name; create the target first",
            exc.details,
        )
        err.code = "not_found"
        return err
    if exc.code == "unknown_workflow":
        err = ConveyorError(f"script: {exc.message}", exc.details)
        err.code = exc.code
        return err
    return exc


def _resolve(schedules: ScheduleService, raw_ids: list[str], name: str) -> list[tuple[str, Schedule]]:
    if len(raw_ids) > MAX_IDS:
        raise InvalidRequest(f"at most {MAX_IDS} ids at once, not {len(raw_ids)}", {"field": name})
    wanted = [(raw, schedule_id(raw, name)) for raw in raw_ids]
    ids = list(dict.fromkeys(sid for _, sid in wanted))
    found = {s.id: s for s in schedules.list(ids=ids, limit=len(ids) or 1)}
    missing = [raw for raw, sid in wanted if sid not in found]
    if missing:
        noun, verb = ("task", "does") if len(missing) == 1 else ("tasks", "do")
        raise _not_found(f"{noun} {', '.join(missing)} {verb} not exist", missing)
    return [(raw, found[sid]) for raw, sid in wanted]


def get_tasks(c: Caller, params: Params) -> dict[str, Any]:
    raw_ids = list_param(params, "ids")
    if raw_ids:
        resolved = _resolve(c.schedules, raw_ids, "ids")
        return ok(objects=[task_doc(s) for _, s in resolved])
    out: list[Schedule] = []
    after: str | None = None
    while True:
        page = c.schedules.list(owner=c.principal.name, after=after, limit=_PAGE)
        out.extend(page)
        if len(page) < _PAGE:
            return ok(objects=[task_doc(s) for s in out])
        after = page[-1].id


def _create(c: Caller, params: Params, *, env: bool) -> dict[str, Any]:
    script = text_param(params, "script", required=True)
    assert script is not None
    trigger = parse_jelastic_trigger(params.get("trigger"))
    env_name = text_param(params, "envname", required=env) if env else None
    given = json_object_param(params, "params") or {}
    req = ScheduleRequest(
        workflow=script,
        trigger=trigger,
        parameters=given,
        params=given,
        target=env_name,
        description=text_param(params, "description") or "",
        owner=c.principal.name,
    )
    try:
        s = c.schedules.create(req)
    except ConveyorError as exc:
        raise _rephrase(exc) from None
    doc = task_doc(s)
    return ok(id=doc["id"], object=doc)


def create_account_task(c: Caller, params: Params) -> dict[str, Any]:
    return _create(c, params, env=False)


def create_env_task(c: Caller, params: Params) -> dict[str, Any]:
    return _create(c, params, env=True)


def edit_task(c: Caller, params: Params) -> dict[str, Any]:
    raw = params.get("id")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidRequest("the parameter 'id' (the task to change) is required", {"field": "id"})
    (_, current), *_ = _resolve(c.schedules, [str(raw)], "id")
    changes: dict[str, Any] = {}
    script = text_param(params, "script")
    if script is not None and script != current.workflow:
        changes["workflow"] = script
    if text_param(params, "trigger") is not None:
        trigger = parse_jelastic_trigger(params.get("trigger"))
        if trigger != current.trigger:
            changes["trigger"] = trigger
    if params.get("description") is not None:
        description = str(params["description"])
        if description != current.description:
            changes["description"] = description
    given = json_object_param(params, "params")
    if given is not None and (given != current.params or given != current.parameters):
        changes["params"] = given
        changes["parameters"] = given
    env_name = text_param(params, "envname")
    if env_name is not None and env_name != current.target:
        changes["target"] = env_name
    try:
        s = c.schedules.update(current.id, changes) if changes else current
    except ConveyorError as exc:
        raise _rephrase(exc) from None
    doc = task_doc(s)
    return ok(id=doc["id"], object=doc)


def delete_tasks(c: Caller, params: Params) -> dict[str, Any]:
    raw_ids = list_param(params, "ids")
    if not raw_ids:
        raise InvalidRequest("pass the tasks to delete as ids, e.g. ids=1,2 or ids=[1, 2]", {"field": "ids"})
    resolved = _resolve(c.schedules, raw_ids, "ids")
    return ok(count=c.schedules.delete([s.id for _, s in resolved]))


def unschedule_tasks(c: Caller, params: Params) -> dict[str, Any]:
    return ok(count=c.schedules.unschedule_all(c.principal.name))


def reschedule_tasks(c: Caller, params: Params) -> dict[str, Any]:
    return ok(count=c.schedules.reschedule_all(c.principal.name))


@dataclass(frozen=True, slots=True)
class Method:
    """One Jelastic method: its published name, the least role it needs, and whether `ruk` applies."""

    name: str
    role: Role
    run: Callable[[Caller, Params], dict[str, Any]]
    mutating: bool


METHODS: Final[dict[str, Method]] = {
    m.name.lower(): m
    for m in (
        Method("utils.scheduler.GetTasks", Role.VIEWER, get_tasks, False),
        Method("utils.scheduler.CreateAccountTask", Role.OPERATOR, create_account_task, True),
        Method("utils.scheduler.CreateEnvTask", Role.OPERATOR, create_env_task, True),
        Method("utils.scheduler.EditTask", Role.OPERATOR, edit_task, True),
        Method("utils.scheduler.DeleteTasks", Role.OPERATOR, delete_tasks, True),
        Method("utils.scheduler.UnscheduleTasks", Role.OPERATOR, unschedule_tasks, True),
        Method("utils.scheduler.RescheduleTasks", Role.OPERATOR, reschedule_tasks, True),
    )
}
