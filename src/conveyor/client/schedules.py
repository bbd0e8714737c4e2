"""`client.schedules`: create, read, edit, enable, disable and delete schedules (docs/api.md, "Schedules").

    s = client.schedules.create("backup", cron="*/5 * * * *", timezone="Europe/Berlin",
                                parameters={"db": "main"})
    print(s.trigger_description, s.next_fire_times)

Here are what both clients share: the request shapes, as pure functions (the
`*_call` and `*_body` functions below), and the document `ScheduleData`. The
resources that send them are in _async/schedules.py (and the generated _sync/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from conveyor.client.calls import Call, _idem, _seg
from conveyor.client.models import JSON, Document, field, format_datetime, maybe, parse_datetime

#: The ways to give a trigger; exactly one per schedule.
TRIGGER_ARGS = ("cron", "rate", "date", "oninit", "once_delay", "trigger")
#: What `update` may change besides the trigger (`timezone` alone re-reads the current trigger in it).
EDITABLE = (
    "workflow", "parameters", "target", "description", "params", "misfire", "misfire_limit", "grace",
    "overlap", "priority", "dry_run", "enabled", "timezone",
)  # fmt: skip

Duration = str | int | float | timedelta
TriggerSpec = str | Mapping[str, Any]

_HOWTO = (
    "cron='*/5 * * * *', rate='30s', date='2026-12-01T10:00:00Z', oninit=True, once_delay='10s' "
    "or trigger='kind:value'"
)


def _duration(value: Duration) -> str | int | float:
    if isinstance(value, bool):
        raise TypeError(f"a duration is seconds, a string such as '30s', or a timedelta; not {value!r}")
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _date(value: datetime | str) -> str:
    """An aware datetime in UTC; a naive one as written, so the server reads it in the schedule's zone."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat()
    return format_datetime(value)


_VALUE_OF: dict[str, Callable[[Any], Any]] = {
    "cron": str,
    "rate": _duration,
    "date": _date,
    "once_delay": _duration,
}


def trigger_value(**given: Any) -> str | JSON:
    """The `trigger` field of a request from exactly one of TRIGGER_ARGS, given as `create` takes them
    (`cron=`, `rate=`, ...); ValueError unless exactly one is given, TypeError for other names."""
    unknown = set(given) - set(TRIGGER_ARGS)
    if unknown:
        raise TypeError(f"not a trigger: {', '.join(sorted(unknown))}; give one of {', '.join(TRIGGER_ARGS)}")
    named = _triggers_in(given)
    if len(named) != 1:
        raise ValueError(f"give exactly one trigger: {_HOWTO} (got {' and '.join(named) or 'none'})")
    ((kind, value),) = named.items()
    if kind == "trigger":
        return value if isinstance(value, str) else dict(value)
    if kind == "oninit":
        return {"kind": "oninit"}
    return {"kind": kind, "value": _VALUE_OF[kind](value)}


def _triggers_in(args: Mapping[str, Any]) -> dict[str, Any]:
    # `is`, not `in`: a rate of 0 is given (and refused by the server), only None and oninit=False are not
    return {k: args[k] for k in TRIGGER_ARGS if args.get(k) is not None and args.get(k) is not False}


def create_body(workflow: str, options: Mapping[str, Any]) -> JSON:
    """`POST /schedules`: the trigger from `options`, then every other option that is not None."""
    if not workflow:
        raise ValueError("a schedule needs a workflow")
    body: JSON = {"workflow": workflow, "trigger": trigger_value(**_triggers_in(options))}
    for name, value in options.items():
        if name not in TRIGGER_ARGS and value is not None:
            body[name] = value
    return body


def changes_body(changes: Mapping[str, Any]) -> JSON:
    """`PATCH /schedules/{id}`: the fields given (`target=None` unbinds), a trigger given any way."""
    unknown = set(changes) - set(EDITABLE) - set(TRIGGER_ARGS)
    if unknown:
        known = ", ".join((*EDITABLE, *TRIGGER_ARGS))
        raise TypeError(f"cannot change {', '.join(sorted(unknown))} of a schedule; changeable: {known}")
    body: JSON = {k: v for k, v in changes.items() if k in EDITABLE}
    triggers = _triggers_in(changes)
    if triggers:
        body["trigger"] = trigger_value(**triggers)
    if not body:
        raise ValueError("nothing to change: give at least one field, e.g. update(id, enabled=False)")
    return body


def split_ids(ids: str | Sequence[str] | None) -> list[str] | None:
    """`ids` as a list: "a,b" is two ids, and `[]` asks for no schedule at all (not for every one)."""
    if isinstance(ids, str):
        return [i.strip() for i in ids.split(",") if i.strip()]
    return None if ids is None else list(ids)


def _ids(ids: Iterable[str]) -> list[str]:
    out = [str(i) for i in ids]
    if not out or any(not i or "," in i for i in out):
        raise ValueError("give one or more schedule ids (non-empty, without commas)")
    return out


def create_call(body: JSON, idempotency_key: str | None = None) -> Call:
    return Call("POST", "/schedules", json=body, headers=_idem(idempotency_key))


def get_call(schedule_id: str) -> Call:
    return Call("GET", f"/schedules/{_seg(schedule_id)}")


def list_call(
    *, owner: str | None, target: str | None, ids: Sequence[str] | None, limit: int, cursor: str | None
) -> Call:
    params = {"limit": str(limit)}
    for name, value in (("owner", owner), ("target", target), ("cursor", cursor)):
        if value:
            params[name] = value
    if ids:
        params["ids"] = ",".join(_ids(ids))
    return Call("GET", "/schedules", params=params)


def update_call(schedule_id: str, body: JSON) -> Call:
    return Call("PATCH", f"/schedules/{_seg(schedule_id)}", json=body)


def delete_call(ids: Iterable[str]) -> Call:
    return Call("DELETE", "/schedules", params={"ids": ",".join(_ids(ids))})


def switch_call(schedule_id: str, enabled: bool) -> Call:
    return Call("POST", f"/schedules/{_seg(schedule_id)}/{'enable' if enabled else 'disable'}", json={})


def all_call(action: str) -> Call:
    """`unschedule-all` or `reschedule-all`: the caller's own schedules."""
    if action not in ("unschedule-all", "reschedule-all"):
        raise ValueError(f"unknown action {action!r}")
    return Call("POST", f"/schedules:{action}", json={})


def _datetimes(values: Any) -> list[datetime]:
    return [t for t in (parse_datetime(v) for v in values) if t]


class ScheduleData(Document):
    """The typed attributes of a schedule document; `.raw` keeps all of it."""

    workflow = field("workflow", str, "")
    trigger = field("trigger", JSON, {}, '`{"kind", "value", "timezone", "text", "description"}`.')
    trigger_kind = field("trigger.kind", str, "")
    trigger_text = field("trigger.text", str, "", 'The "kind:value" form, e.g. "cron:*/5 * * * *".')
    trigger_description = field(
        "trigger.description", str, "", """A short phrase, e.g. "cron '*/5 * * * *' (Europe/Berlin)"."""
    )
    timezone = field("trigger.timezone", str, "UTC")
    parameters = field("parameters", JSON, {})
    target = maybe("target", str)
    description = field("description", str, "")
    params = field("params", JSON, {})
    owner = maybe("owner", str)
    enabled = field("enabled", bool, False)
    suspended = field(
        "suspended", bool, False, "Stopped by `unschedule_all`; `reschedule_all` enables it again."
    )
    misfire = field("misfire", str, "skip")
    misfire_limit = field("misfire_limit", int, 0)
    grace = field("grace", float, 0.0)
    overlap = field("overlap", str, "allow")
    priority = field("priority", int, 0)
    dry_run = field("dry_run", bool, False)
    next_fire_at = maybe("next_fire_at", parse_datetime)
    next_fire_times = field(
        "next_fire_times",
        _datetimes,
        [],
        "The next (up to three) fire times; empty while disabled, and for oninit.",
    )
    last_fired_at = maybe("last_fired_at", parse_datetime)
    last_execution_id = maybe("last_execution_id", str)
    fire_count = field("fire_count", int, 0)
    waiting = field("waiting", bool, False)
    last_error = maybe("last_error", str)
    created_at = maybe("created_at", parse_datetime)
    updated_at = maybe("updated_at", parse_datetime)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.trigger_text!r}>"
