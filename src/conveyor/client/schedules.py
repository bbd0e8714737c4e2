"""`client.schedules`: create, read, edit, enable, disable and delete schedules (docs/api.md, "Schedules").

    s = client.schedules.create("backup", cron="*/5 * * * *", timezone="Europe/Berlin",
                                parameters={"db": "main"})
    print(s.trigger_description, s.next_fire_times)

Like the rest of the client, the request shapes are pure functions (the
`*_call` and `*_body` functions below), and the sync and async resources only
send them: `Schedules` and `AsyncSchedules` mirror each other method for method.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from conveyor.client.calls import Call, _idem, _seg, page_limit
from conveyor.client.http import AsyncHTTP, SyncHTTP
from conveyor.client.models import JSON, Document, format_datetime, parse_datetime

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


# --- request shapes ------------------------------------------------------------------


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


def trigger_value(
    *,
    cron: str | None = None,
    rate: Duration | None = None,
    date: datetime | str | None = None,
    oninit: bool = False,
    once_delay: Duration | None = None,
    trigger: TriggerSpec | None = None,
) -> str | JSON:
    """The `trigger` field of a request from exactly one of the ways to give it; ValueError otherwise."""
    given = [
        name
        for name, value in (
            ("cron", cron),
            ("rate", rate),
            ("date", date),
            ("oninit", oninit or None),
            ("once_delay", once_delay),
            ("trigger", trigger),
        )
        if value is not None
    ]
    if len(given) != 1:
        got = "none" if not given else " and ".join(given)
        raise ValueError(f"give exactly one trigger: {_HOWTO} (got {got})")
    if cron is not None:
        return {"kind": "cron", "value": cron}
    if rate is not None:
        return {"kind": "rate", "value": _duration(rate)}
    if date is not None:
        return {"kind": "date", "value": _date(date)}
    if once_delay is not None:
        return {"kind": "once_delay", "value": _duration(once_delay)}
    if oninit:
        return {"kind": "oninit"}
    assert trigger is not None
    return trigger if isinstance(trigger, str) else dict(trigger)


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


# --- the document ----------------------------------------------------------------------


class ScheduleData(Document):
    """The typed attributes of a schedule document; `.raw` keeps all of it."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.trigger_text!r}>"

    def __eq__(self, other: object) -> bool:  # a Schedule equals an AsyncSchedule of the same document
        return isinstance(other, ScheduleData) and other.raw == self.raw

    @property
    def workflow(self) -> str:
        return str(self.raw.get("workflow", ""))

    @property
    def trigger(self) -> JSON:
        """`{"kind", "value", "timezone", "text", "description"}`."""
        return dict(self.raw.get("trigger") or {})

    @property
    def trigger_kind(self) -> str:
        return str(self.trigger.get("kind", ""))

    @property
    def trigger_text(self) -> str:
        """The "kind:value" form, e.g. "cron:*/5 * * * *"."""
        return str(self.trigger.get("text", ""))

    @property
    def trigger_description(self) -> str:
        """A short phrase, e.g. "cron '*/5 * * * *' (Europe/Berlin)" or "every 30 s"."""
        return str(self.trigger.get("description", ""))

    @property
    def timezone(self) -> str:
        return str(self.trigger.get("timezone") or "UTC")

    @property
    def parameters(self) -> JSON:
        return dict(self.raw.get("parameters") or {})

    @property
    def target(self) -> str | None:
        return self.raw.get("target")

    @property
    def description(self) -> str:
        return str(self.raw.get("description") or "")

    @property
    def params(self) -> JSON:
        return dict(self.raw.get("params") or {})

    @property
    def owner(self) -> str | None:
        return self.raw.get("owner")

    @property
    def enabled(self) -> bool:
        return bool(self.raw.get("enabled"))

    @property
    def suspended(self) -> bool:
        """Stopped by `unschedule_all`; `reschedule_all` enables it again."""
        return bool(self.raw.get("suspended"))

    @property
    def misfire(self) -> str:
        return str(self.raw.get("misfire") or "skip")

    @property
    def misfire_limit(self) -> int:
        return int(self.raw.get("misfire_limit") or 0)

    @property
    def grace(self) -> float:
        return float(self.raw.get("grace") or 0.0)

    @property
    def overlap(self) -> str:
        return str(self.raw.get("overlap") or "allow")

    @property
    def priority(self) -> int:
        return int(self.raw.get("priority") or 0)

    @property
    def dry_run(self) -> bool:
        return bool(self.raw.get("dry_run"))

    @property
    def next_fire_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("next_fire_at"))

    @property
    def next_fire_times(self) -> list[datetime]:
        """The next (up to three) fire times; empty while disabled, and for oninit."""
        return [t for t in (parse_datetime(v) for v in self.raw.get("next_fire_times") or []) if t]

    @property
    def last_fired_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("last_fired_at"))

    @property
    def last_execution_id(self) -> str | None:
        return self.raw.get("last_execution_id")

    @property
    def fire_count(self) -> int:
        return int(self.raw.get("fire_count") or 0)

    @property
    def waiting(self) -> bool:
        return bool(self.raw.get("waiting"))

    @property
    def last_error(self) -> str | None:
        return self.raw.get("last_error")

    @property
    def created_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("created_at"))

    @property
    def updated_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("updated_at"))


class Schedule(ScheduleData):
    """A schedule bound to the client that fetched it; its actions update it in place and return it."""

    def __init__(self, raw: JSON, schedules: Schedules) -> None:
        super().__init__(raw)
        self._schedules = schedules

    def _take(self, answer: ScheduleData) -> Schedule:
        self._set_raw(answer.raw)
        return self

    def refresh(self) -> Schedule:
        return self._take(self._schedules.get(self.id))

    def update(self, **changes: Any) -> Schedule:
        return self._take(self._schedules.update(self.id, **changes))

    def enable(self) -> Schedule:
        return self._take(self._schedules.enable(self.id))

    def disable(self) -> Schedule:
        return self._take(self._schedules.disable(self.id))

    def delete(self) -> None:
        self._schedules.delete(self.id)


class AsyncSchedule(ScheduleData):
    """A schedule bound to an AsyncClient; its actions are coroutines that update it in place."""

    def __init__(self, raw: JSON, schedules: AsyncSchedules) -> None:
        super().__init__(raw)
        self._schedules = schedules

    def _take(self, answer: ScheduleData) -> AsyncSchedule:
        self._set_raw(answer.raw)
        return self

    async def refresh(self) -> AsyncSchedule:
        return self._take(await self._schedules.get(self.id))

    async def update(self, **changes: Any) -> AsyncSchedule:
        return self._take(await self._schedules.update(self.id, **changes))

    async def enable(self) -> AsyncSchedule:
        return self._take(await self._schedules.enable(self.id))

    async def disable(self) -> AsyncSchedule:
        return self._take(await self._schedules.disable(self.id))

    async def delete(self) -> None:
        await self._schedules.delete(self.id)


# --- lazy lists --------------------------------------------------------------------------


class _Query:
    def __init__(
        self,
        *,
        owner: str | None,
        target: str | None,
        ids: Sequence[str] | None,
        page_size: int,
        limit: int | None,
    ) -> None:
        page_limit(page_size, None, 0)  # refuse a bad page size now, not at the first iteration
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        self.owner, self.target = owner, target
        if isinstance(ids, str):
            ids = [i.strip() for i in ids.split(",") if i.strip()]
        self.ids = None if ids is None else list(ids)
        self.page_size = page_size
        self.limit = limit

    def call(self, yielded: int, cursor: str | None) -> Call:
        return list_call(
            owner=self.owner,
            target=self.target,
            ids=self.ids,
            limit=page_limit(self.page_size, self.limit, yielded),
            cursor=cursor,
        )

    @property
    def empty(self) -> bool:
        """`ids=[]` asks for no schedule at all (not for every one)."""
        return self.ids is not None and not self.ids

    def take(self, data: JSON, yielded: int) -> list[JSON]:
        items = list(data.get("items") or [])
        return items[: self.limit - yielded] if self.limit is not None else items


class ScheduleList(_Query, Iterable[Schedule]):
    """A lazy query: nothing is requested until iteration, then one page at a time (oldest first)."""

    def __init__(self, schedules: Schedules, **query: Any) -> None:
        super().__init__(**query)
        self._schedules = schedules

    def pages(self) -> Iterator[list[Schedule]]:
        yielded, cursor = 0, None
        while not self.empty and (self.limit is None or yielded < self.limit):
            data = self._schedules._http.send(self.call(yielded, cursor))
            items = self.take(data, yielded)
            yielded += len(items)
            if items:
                yield [self._schedules._wrap(item) for item in items]
            cursor = data.get("next_cursor")
            if not cursor or not data.get("items"):
                return

    def __iter__(self) -> Iterator[Schedule]:
        for page in self.pages():
            yield from page

    def first(self) -> Schedule | None:
        for s in ScheduleList(
            self._schedules, owner=self.owner, target=self.target, ids=self.ids, page_size=1, limit=1
        ):
            return s
        return None


class AsyncScheduleList(_Query):
    """The async twin of `ScheduleList`, for `async for`."""

    def __init__(self, schedules: AsyncSchedules, **query: Any) -> None:
        super().__init__(**query)
        self._schedules = schedules

    async def pages(self) -> AsyncIterator[list[AsyncSchedule]]:
        yielded, cursor = 0, None
        while not self.empty and (self.limit is None or yielded < self.limit):
            data = await self._schedules._http.send(self.call(yielded, cursor))
            items = self.take(data, yielded)
            yielded += len(items)
            if items:
                yield [self._schedules._wrap(item) for item in items]
            cursor = data.get("next_cursor")
            if not cursor or not data.get("items"):
                return

    async def __aiter__(self) -> AsyncIterator[AsyncSchedule]:
        async for page in self.pages():
            for s in page:
                yield s

    async def to_list(self) -> list[AsyncSchedule]:
        return [s async for s in self]

    async def first(self) -> AsyncSchedule | None:
        one = AsyncScheduleList(
            self._schedules, owner=self.owner, target=self.target, ids=self.ids, page_size=1, limit=1
        )
        async for s in one:
            return s
        return None


# --- the resources ---------------------------------------------------------------------


class Schedules:
    """`client.schedules`: what starts executions on its own, and when."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> Schedule:
        return Schedule(raw, self)

    def create(
        self,
        workflow: str,
        *,
        cron: str | None = None,
        rate: Duration | None = None,
        date: datetime | str | None = None,
        oninit: bool = False,
        once_delay: Duration | None = None,
        trigger: TriggerSpec | None = None,
        timezone: str | None = None,
        parameters: JSON | None = None,
        target: str | None = None,
        description: str = "",
        params: JSON | None = None,
        misfire: str | None = None,
        misfire_limit: int | None = None,
        grace: float | None = None,
        overlap: str | None = None,
        priority: int | None = None,
        dry_run: bool | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Schedule:
        """Create a schedule of `workflow` with exactly one trigger (ValueError otherwise).

        `cron` is read in `timezone` (IANA, UTC by default); `rate` and `once_delay` take seconds,
        '30s'/'5m'/'PT1H' or a timedelta; `date` an instant (a naive datetime is read in `timezone`);
        `trigger` the "kind:value" text or `{"kind", "value", "timezone"}`. Options left at None take
        the server's defaults. A trigger the server cannot read raises InvalidTriggerError.
        """
        body = create_body(
            workflow,
            {
                "cron": cron, "rate": rate, "date": date, "oninit": oninit, "once_delay": once_delay,
                "trigger": trigger, "timezone": timezone, "parameters": parameters, "target": target,
                "description": description, "params": params, "misfire": misfire,
                "misfire_limit": misfire_limit, "grace": grace, "overlap": overlap, "priority": priority,
                "dry_run": dry_run, "enabled": enabled,
            },
        )  # fmt: skip
        return self._wrap(self._http.send(create_call(body, idempotency_key)))

    def get(self, schedule_id: str) -> Schedule:
        return self._wrap(self._http.send(get_call(schedule_id)))

    def list(
        self,
        owner: str | None = None,
        target: str | None = None,
        ids: str | Sequence[str] | None = None,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> ScheduleList:
        """A lazy, paged iterable of schedules, oldest first; `limit` caps how many are yielded."""
        return ScheduleList(self, owner=owner, target=target, ids=ids, page_size=page_size, limit=limit)

    def update(self, schedule_id: str, **changes: Any) -> Schedule:
        """Change the fields given (see EDITABLE; `target=None` unbinds); a trigger as in `create`."""
        return self._wrap(self._http.send(update_call(schedule_id, changes_body(changes))))

    def delete(self, *schedule_ids: str) -> int:
        """Delete these schedules, all or none: one unknown id raises NotFoundError and deletes nothing."""
        return int(self._http.send(delete_call(schedule_ids))["deleted"])

    def enable(self, schedule_id: str) -> Schedule:
        return self._wrap(self._http.send(switch_call(schedule_id, True)))

    def disable(self, schedule_id: str) -> Schedule:
        return self._wrap(self._http.send(switch_call(schedule_id, False)))

    def unschedule_all(self) -> int:
        """Stop every enabled schedule of the caller (this token); returns how many."""
        return int(self._http.send(all_call("unschedule-all"))["count"])

    def reschedule_all(self) -> int:
        """Enable again exactly the schedules `unschedule_all` stopped; returns how many."""
        return int(self._http.send(all_call("reschedule-all"))["count"])


class AsyncSchedules:
    """`async_client.schedules`: the async twin of `Schedules`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> AsyncSchedule:
        return AsyncSchedule(raw, self)

    async def create(
        self,
        workflow: str,
        *,
        cron: str | None = None,
        rate: Duration | None = None,
        date: datetime | str | None = None,
        oninit: bool = False,
        once_delay: Duration | None = None,
        trigger: TriggerSpec | None = None,
        timezone: str | None = None,
        parameters: JSON | None = None,
        target: str | None = None,
        description: str = "",
        params: JSON | None = None,
        misfire: str | None = None,
        misfire_limit: int | None = None,
        grace: float | None = None,
        overlap: str | None = None,
        priority: int | None = None,
        dry_run: bool | None = None,
        enabled: bool | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncSchedule:
        """See `Schedules.create`."""
        body = create_body(
            workflow,
            {
                "cron": cron, "rate": rate, "date": date, "oninit": oninit, "once_delay": once_delay,
                "trigger": trigger, "timezone": timezone, "parameters": parameters, "target": target,
                "description": description, "params": params, "misfire": misfire,
                "misfire_limit": misfire_limit, "grace": grace, "overlap": overlap, "priority": priority,
                "dry_run": dry_run, "enabled": enabled,
            },
        )  # fmt: skip
        return self._wrap(await self._http.send(create_call(body, idempotency_key)))

    async def get(self, schedule_id: str) -> AsyncSchedule:
        return self._wrap(await self._http.send(get_call(schedule_id)))

    def list(
        self,
        owner: str | None = None,
        target: str | None = None,
        ids: str | Sequence[str] | None = None,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> AsyncScheduleList:
        return AsyncScheduleList(self, owner=owner, target=target, ids=ids, page_size=page_size, limit=limit)

    async def update(self, schedule_id: str, **changes: Any) -> AsyncSchedule:
        return self._wrap(await self._http.send(update_call(schedule_id, changes_body(changes))))

    async def delete(self, *schedule_ids: str) -> int:
        return int((await self._http.send(delete_call(schedule_ids)))["deleted"])

    async def enable(self, schedule_id: str) -> AsyncSchedule:
        return self._wrap(await self._http.send(switch_call(schedule_id, True)))

    async def disable(self, schedule_id: str) -> AsyncSchedule:
        return self._wrap(await self._http.send(switch_call(schedule_id, False)))

    async def unschedule_all(self) -> int:
        return int((await self._http.send(all_call("unschedule-all")))["count"])

    async def reschedule_all(self) -> int:
        return int((await self._http.send(all_call("reschedule-all")))["count"])


__all__ = [
    "EDITABLE",
    "TRIGGER_ARGS",
    "AsyncSchedule",
    "AsyncScheduleList",
    "AsyncSchedules",
    "Schedule",
    "ScheduleData",
    "ScheduleList",
    "Schedules",
]
