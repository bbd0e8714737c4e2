"""`client.targets`, `client.target_groups` and `client.execution_groups` (docs/api.md).

    client.targets.create("web01", labels={"role": "web"}, max_concurrent=1)
    client.target_groups.create("web", labels={"role": "web"})
    group = client.execution_groups.start("web", "deploy", default_parameters={"version": "1.2"},
                                          concurrency=3)
    group.wait(timeout=600)
    print(group.status, group.counts)

As in the rest of the client, the request shapes are pure functions (the
`*_call` functions below) and the sync and async resources only send them,
mirroring each other method for method.
"""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from conveyor.client.calls import MAX_PAGE, Call, _idem, _seg
from conveyor.client.errors import ConveyorClientError
from conveyor.client.http import AsyncHTTP, SyncHTTP
from conveyor.client.models import JSON, Document, parse_datetime
from conveyor.client.waiting import Deadline, check_poll_interval

if TYPE_CHECKING:
    from conveyor.client.aio import AsyncExecution, AsyncExecutions
    from conveyor.client.sync import Execution, Executions

#: The statuses of a group whose members have all ended.
GROUP_DONE = frozenset({"succeeded", "failed", "cancelled"})
#: The fields a member listing asks for: enough to draw progress without whole documents.
MEMBER_FIELDS = (
    "id", "workflow", "target", "status", "total_operations", "finished_operations", "progress",
    "started_at", "ended_at", "error",
)  # fmt: skip

LabelFilter = Mapping[str, str] | Sequence[str] | str


# --- request shapes ------------------------------------------------------------------------


def label_values(labels: LabelFilter | None) -> list[str]:
    """A label filter as the `label` query values: {"role": "web"}, ["role:web"] or "role:web"."""
    if labels is None:
        return []
    if isinstance(labels, str):
        return [labels]
    if isinstance(labels, Mapping):
        return [f"{k}:{v}" for k, v in labels.items()]
    return [str(v) for v in labels]


def label_dict(labels: LabelFilter | None) -> dict[str, str]:
    """A label filter as the `labels` object of a body; a bare key (or key:) means any value ('*')."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        return {str(k): str(v) for k, v in labels.items()}
    out: dict[str, str] = {}
    for item in label_values(labels):
        key, sep, value = item.partition(":")
        out[key] = value if sep and value else "*"
    return out


def _query(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """The query goes in the path, since a label filter repeats `label` (values may hold commas)."""
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _names(names: str | Iterable[str]) -> list[str]:
    return [names] if isinstance(names, str) else [str(n) for n in names]


def target_create_call(
    name: str, *, max_concurrent: int, labels: Mapping[str, str] | None, idempotency_key: str | None
) -> Call:
    body = {"name": name, "max_concurrent": max_concurrent, "labels": dict(labels or {})}
    return Call("POST", "/targets", json=body, headers=_idem(idempotency_key))


def target_get_call(name: str) -> Call:
    return Call("GET", f"/targets/{_seg(name)}")


def target_list_call(labels: LabelFilter | None, limit: int, cursor: str | None) -> Call:
    pairs = [("label", v) for v in label_values(labels)] + [("limit", str(limit))]
    if cursor:
        pairs.append(("cursor", cursor))
    return Call("GET", _query("/targets", pairs))


def target_update_call(name: str, *, max_concurrent: int | None, labels: Mapping[str, str] | None) -> Call:
    body: JSON = {}
    if max_concurrent is not None:
        body["max_concurrent"] = max_concurrent
    if labels is not None:
        body["labels"] = dict(labels)
    if not body:
        raise ValueError("nothing to change: give max_concurrent and/or labels")
    return Call("PATCH", f"/targets/{_seg(name)}", json=body)


def target_delete_call(name: str, *, force: bool) -> Call:
    return Call("DELETE", _query(f"/targets/{_seg(name)}", [("force", "true")] if force else []))


def target_group_create_call(
    name: str,
    *,
    description: str,
    members: str | Iterable[str],
    labels: LabelFilter | None,
    idempotency_key: str | None,
) -> Call:
    body = {
        "name": name,
        "description": description,
        "members": _names(members),
        "labels": label_dict(labels),
    }
    return Call("POST", "/target-groups", json=body, headers=_idem(idempotency_key))


def target_group_get_call(name: str) -> Call:
    return Call("GET", f"/target-groups/{_seg(name)}")


def target_group_list_call(limit: int, cursor: str | None) -> Call:
    pairs = [("limit", str(limit))] + ([("cursor", cursor)] if cursor else [])
    return Call("GET", _query("/target-groups", pairs))


def members_call(name: str, add: bool, targets: str | Iterable[str], labels: LabelFilter | None) -> Call:
    body = {"targets": _names(targets), "labels": label_dict(labels)}
    if not body["targets"] and not body["labels"]:
        raise ValueError("name the targets and/or give a label filter")
    return Call("POST" if add else "DELETE", f"/target-groups/{_seg(name)}/members", json=body)


def target_group_delete_call(name: str) -> Call:
    return Call("DELETE", f"/target-groups/{_seg(name)}")


def group_start_call(
    target_group: str,
    workflow: str,
    *,
    default_parameters: JSON | None,
    parameters: Mapping[str, JSON] | None,
    concurrency: int,
    force: bool,
    idempotency_key: str | None,
) -> Call:
    body = {
        "target_group": target_group,
        "workflow": workflow,
        "default_parameters": dict(default_parameters or {}),
        "parameters": {str(t): dict(p) for t, p in (parameters or {}).items()},
        "concurrency": concurrency,
        "force": force,
    }
    return Call("POST", "/execution-groups", json=body, headers=_idem(idempotency_key))


def group_get_call(group_id: str) -> Call:
    return Call("GET", f"/execution-groups/{_seg(group_id)}")


def group_list_call(
    workflow: str | Sequence[str] | None,
    target_group: str | Sequence[str] | None,
    limit: int,
    cursor: str | None,
) -> Call:
    pairs = [("workflow", w) for w in _names(workflow or [])]
    pairs += [("target_group", g) for g in _names(target_group or [])]
    pairs.append(("limit", str(limit)))
    if cursor:
        pairs.append(("cursor", cursor))
    return Call("GET", _query("/execution-groups", pairs))


def group_cancel_call(group_id: str, *, force: bool, kill: bool) -> Call:
    if force and kill:
        raise ValueError("choose either force or kill, not both: kill already implies a forced stop")
    return Call("POST", f"/execution-groups/{_seg(group_id)}/cancel", json={"force": force, "kill": kill})


def group_concurrency_call(group_id: str, concurrency: int) -> Call:
    return Call("POST", f"/execution-groups/{_seg(group_id)}/concurrency", json={"concurrency": concurrency})


def group_sinks_call(group_id: str, success_group: str | None, failed_group: str | None) -> Call:
    if success_group is None and failed_group is None:
        raise ValueError("give success_group and/or failed_group")
    body = {"success_group": success_group, "failed_group": failed_group}
    return Call("POST", f"/execution-groups/{_seg(group_id)}/target-groups", json=body)


def group_dump_call(ids: Iterable[str] | None) -> Call:
    wanted = _names(ids or [])
    return Call("GET", "/execution-groups:dump", params={"ids": ",".join(wanted)} if wanted else {})


# --- the documents ---------------------------------------------------------------------------


class _Doc(Document):
    @property
    def created_at(self) -> datetime | None:
        return parse_datetime(self.raw.get("created_at"))


class TargetData(_Doc):
    """A target: what executions act on, with its concurrency limit and labels."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} max_concurrent={self.max_concurrent}>"

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def max_concurrent(self) -> int:
        return int(self.raw.get("max_concurrent") or 1)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.raw.get("labels") or {})


class TargetGroupData(_Doc):
    """A named set of targets; `members` is filled in answers about one group, not in lists."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.member_count} member(s)>"

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def description(self) -> str:
        return str(self.raw.get("description") or "")

    @property
    def member_count(self) -> int:
        return int(self.raw.get("member_count") or 0)

    @property
    def members(self) -> list[str] | None:
        """The member names (sorted), or None in a list answer (`refresh()` fetches them)."""
        found = self.raw.get("members")
        return None if found is None else [str(m) for m in found]


class ExecutionGroupData(_Doc):
    """An execution group: its settings, its members' ids and counts, and its derived status."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.workflow!r} {self.status} {self.ended}/{self.total}>"

    @property
    def workflow(self) -> str:
        return str(self.raw.get("workflow", ""))

    @property
    def target_group(self) -> str:
        return str(self.raw.get("target_group", ""))

    @property
    def concurrency(self) -> int:
        return int(self.raw.get("concurrency") or 0)

    @property
    def force(self) -> bool:
        return bool(self.raw.get("force"))

    @property
    def default_parameters(self) -> JSON:
        return dict(self.raw.get("default_parameters") or {})

    @property
    def parameters(self) -> dict[str, JSON]:
        return dict(self.raw.get("parameters") or {})

    @property
    def created_by(self) -> str | None:
        return self.raw.get("created_by")

    @property
    def success_group(self) -> str | None:
        return self.raw.get("success_group")

    @property
    def failed_group(self) -> str | None:
        return self.raw.get("failed_group")

    @property
    def status(self) -> str:
        """pending, started, succeeded, failed or cancelled (docs/api.md, "Execution groups")."""
        return str(self.raw.get("status", ""))

    @property
    def execution_ids(self) -> list[str]:
        return [str(i) for i in self.raw.get("execution_ids") or []]

    @property
    def total(self) -> int:
        return int(self.raw.get("total") or 0)

    @property
    def ended(self) -> int:
        """How many members are succeeded, failed or cancelled."""
        return int(self.raw.get("ended") or 0)

    @property
    def counts(self) -> dict[str, int]:
        """Members per execution status, e.g. {"running": 3, "queued": 12, "succeeded": 5}."""
        return {str(k): int(v) for k, v in (self.raw.get("counts") or {}).items()}

    @property
    def is_done(self) -> bool:
        return self.status in GROUP_DONE


class GroupWaitTimeout(ConveyorClientError, TimeoutError):
    """`ExecutionGroup.wait()` gave up; the group goes on, since waiting never changes it."""

    def __init__(self, group: ExecutionGroupData, timeout: float) -> None:
        self.group = group
        self.timeout = timeout
        super().__init__(
            f"Execution group {group.id} of workflow {group.workflow!r} is still {group.status} "
            f"({group.ended} of {group.total} members ended) after waiting {timeout:g} seconds; "
            "it keeps going on the server."
        )


# --- bound documents -------------------------------------------------------------------------


class Target(TargetData):
    def __init__(self, raw: JSON, targets: Targets) -> None:
        super().__init__(raw)
        self._targets = targets

    def refresh(self) -> Target:
        self._set_raw(self._targets.get(self.name).raw)
        return self

    def update(self, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None) -> Target:
        self._set_raw(self._targets.update(self.name, max_concurrent=max_concurrent, labels=labels).raw)
        return self

    def delete(self, force: bool = False) -> None:
        self._targets.delete(self.name, force=force)


class AsyncTarget(TargetData):
    def __init__(self, raw: JSON, targets: AsyncTargets) -> None:
        super().__init__(raw)
        self._targets = targets

    async def refresh(self) -> AsyncTarget:
        self._set_raw((await self._targets.get(self.name)).raw)
        return self

    async def update(
        self, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        self._set_raw(
            (await self._targets.update(self.name, max_concurrent=max_concurrent, labels=labels)).raw
        )
        return self

    async def delete(self, force: bool = False) -> None:
        await self._targets.delete(self.name, force=force)


class TargetGroup(TargetGroupData):
    def __init__(self, raw: JSON, groups: TargetGroups) -> None:
        super().__init__(raw)
        self._groups = groups

    def refresh(self) -> TargetGroup:
        self._set_raw(self._groups.get(self.name).raw)
        return self

    def add(self, targets: str | Iterable[str] = (), labels: LabelFilter | None = None) -> TargetGroup:
        self._set_raw(self._groups.add(self.name, targets, labels=labels).raw)
        return self

    def remove(self, targets: str | Iterable[str] = (), labels: LabelFilter | None = None) -> TargetGroup:
        self._set_raw(self._groups.remove(self.name, targets, labels=labels).raw)
        return self

    def delete(self) -> None:
        self._groups.delete(self.name)


class AsyncTargetGroup(TargetGroupData):
    def __init__(self, raw: JSON, groups: AsyncTargetGroups) -> None:
        super().__init__(raw)
        self._groups = groups

    async def refresh(self) -> AsyncTargetGroup:
        self._set_raw((await self._groups.get(self.name)).raw)
        return self

    async def add(
        self, targets: str | Iterable[str] = (), labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        self._set_raw((await self._groups.add(self.name, targets, labels=labels)).raw)
        return self

    async def remove(
        self, targets: str | Iterable[str] = (), labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        self._set_raw((await self._groups.remove(self.name, targets, labels=labels)).raw)
        return self

    async def delete(self) -> None:
        await self._groups.delete(self.name)


class ExecutionGroup(ExecutionGroupData):
    """An execution group bound to its client: refresh, act on it, list its members, wait for it."""

    def __init__(self, raw: JSON, groups: ExecutionGroups) -> None:
        super().__init__(raw)
        self._groups = groups

    def _take(self, answer: ExecutionGroupData) -> ExecutionGroup:
        self._set_raw(answer.raw)
        return self

    def refresh(self) -> ExecutionGroup:
        return self._take(self._groups.get(self.id))

    def members(self, include: str | Sequence[str] | None = None) -> builtins.list[Execution]:
        return self._groups.members(self.id, include=include)

    def cancel(self, force: bool = False, kill: bool = False) -> ExecutionGroup:
        return self._take(self._groups.cancel(self.id, force=force, kill=kill))

    def set_concurrency(self, concurrency: int) -> ExecutionGroup:
        return self._take(self._groups.set_concurrency(self.id, concurrency))

    def set_target_group(
        self, success_group: str | None = None, failed_group: str | None = None
    ) -> ExecutionGroup:
        return self._take(self._groups.set_target_group(self.id, success_group, failed_group))

    def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_update: Callable[[ExecutionGroup], None] | None = None,
    ) -> ExecutionGroup:
        """Poll until every member has ended and return the group (whatever its status).

        Unlike `Execution.wait`, a failed or cancelled group does not raise: look at
        `status` and `counts`. Raises GroupWaitTimeout once `timeout` seconds pass.
        """
        check_poll_interval(poll_interval)
        deadline = Deadline(timeout)
        self.refresh()
        if on_update is not None:
            on_update(self)
        while not self.is_done:
            if deadline.expired:
                raise GroupWaitTimeout(self, deadline.timeout or 0.0)
            time.sleep(deadline.pause(poll_interval))
            self.refresh()
            if on_update is not None:
                on_update(self)
        return self


class AsyncExecutionGroup(ExecutionGroupData):
    """The async twin of `ExecutionGroup`."""

    def __init__(self, raw: JSON, groups: AsyncExecutionGroups) -> None:
        super().__init__(raw)
        self._groups = groups

    def _take(self, answer: ExecutionGroupData) -> AsyncExecutionGroup:
        self._set_raw(answer.raw)
        return self

    async def refresh(self) -> AsyncExecutionGroup:
        return self._take(await self._groups.get(self.id))

    async def members(self, include: str | Sequence[str] | None = None) -> builtins.list[AsyncExecution]:
        return await self._groups.members(self.id, include=include)

    async def cancel(self, force: bool = False, kill: bool = False) -> AsyncExecutionGroup:
        return self._take(await self._groups.cancel(self.id, force=force, kill=kill))

    async def set_concurrency(self, concurrency: int) -> AsyncExecutionGroup:
        return self._take(await self._groups.set_concurrency(self.id, concurrency))

    async def set_target_group(
        self, success_group: str | None = None, failed_group: str | None = None
    ) -> AsyncExecutionGroup:
        return self._take(await self._groups.set_target_group(self.id, success_group, failed_group))

    async def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_update: Callable[[AsyncExecutionGroup], Awaitable[None] | None] | None = None,
    ) -> AsyncExecutionGroup:
        """See `ExecutionGroup.wait`; `on_update` may be a plain function or a coroutine function."""
        check_poll_interval(poll_interval)
        deadline = Deadline(timeout)

        async def update() -> None:
            await self.refresh()
            if on_update is not None:
                maybe = on_update(self)
                if maybe is not None:
                    await maybe

        await update()
        while not self.is_done:
            if deadline.expired:
                raise GroupWaitTimeout(self, deadline.timeout or 0.0)
            await asyncio.sleep(deadline.pause(poll_interval))
            await update()
        return self


# --- paging ----------------------------------------------------------------------------------


def _walk(send: Callable[[str | None], JSON]) -> Iterator[JSON]:
    cursor: str | None = None
    while True:
        data = send(cursor)
        yield from data.get("items") or []
        cursor = data.get("next_cursor")
        if not cursor or not data.get("items"):
            return


async def _awalk(send: Callable[[str | None], Awaitable[JSON]]) -> AsyncIterator[JSON]:
    cursor: str | None = None
    while True:
        data = await send(cursor)
        for item in data.get("items") or []:
            yield item
        cursor = data.get("next_cursor")
        if not cursor or not data.get("items"):
            return


# --- the resources ---------------------------------------------------------------------------


class Targets:
    """`client.targets`: create, read, change and delete targets."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> Target:
        return Target(raw, self)

    def create(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        max_concurrent: int = 1,
        idempotency_key: str | None = None,
    ) -> Target:
        """Create a target; a name already taken raises ConflictError."""
        call = target_create_call(
            name, max_concurrent=max_concurrent, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(self._http.send(call))

    def get(self, name: str) -> Target:
        return self._wrap(self._http.send(target_get_call(name)))

    def list(self, labels: LabelFilter | None = None) -> builtins.list[Target]:
        """Every target (by name) carrying all these labels: {"role": "web"} or ["role:web", "zone:*"]."""
        items = _walk(lambda cursor: self._http.send(target_list_call(labels, MAX_PAGE, cursor)))
        return [self._wrap(t) for t in items]

    def update(
        self, name: str, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> Target:
        """Change the limit and/or replace the labels."""
        return self._wrap(
            self._http.send(target_update_call(name, max_concurrent=max_concurrent, labels=labels))
        )

    def delete(self, name: str, force: bool = False) -> None:
        """Delete it and its schedules; ConflictError while executions on it are active, unless `force`."""
        self._http.send(target_delete_call(name, force=force))


class AsyncTargets:
    """`async_client.targets`: the async twin of `Targets`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> AsyncTarget:
        return AsyncTarget(raw, self)

    async def create(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        max_concurrent: int = 1,
        idempotency_key: str | None = None,
    ) -> AsyncTarget:
        call = target_create_call(
            name, max_concurrent=max_concurrent, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(await self._http.send(call))

    async def get(self, name: str) -> AsyncTarget:
        return self._wrap(await self._http.send(target_get_call(name)))

    async def list(self, labels: LabelFilter | None = None) -> builtins.list[AsyncTarget]:
        items = _awalk(lambda cursor: self._http.send(target_list_call(labels, MAX_PAGE, cursor)))
        return [self._wrap(t) async for t in items]

    async def update(
        self, name: str, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        call = target_update_call(name, max_concurrent=max_concurrent, labels=labels)
        return self._wrap(await self._http.send(call))

    async def delete(self, name: str, force: bool = False) -> None:
        await self._http.send(target_delete_call(name, force=force))


class TargetGroups:
    """`client.target_groups`: named sets of targets, which execution groups start on."""

    def __init__(self, http: SyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> TargetGroup:
        return TargetGroup(raw, self)

    def create(
        self,
        name: str,
        *,
        description: str = "",
        members: str | Iterable[str] = (),
        labels: LabelFilter | None = None,
        idempotency_key: str | None = None,
    ) -> TargetGroup:
        """Create a group with these targets and every target matching `labels` now."""
        call = target_group_create_call(
            name, description=description, members=members, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(self._http.send(call))

    def get(self, name: str) -> TargetGroup:
        return self._wrap(self._http.send(target_group_get_call(name)))

    def list(self) -> builtins.list[TargetGroup]:
        """Every group, by name, without member names (`member_count` says how many)."""
        items = _walk(lambda cursor: self._http.send(target_group_list_call(MAX_PAGE, cursor)))
        return [self._wrap(g) for g in items]

    def add(
        self, name: str, targets: str | Iterable[str] = (), *, labels: LabelFilter | None = None
    ) -> TargetGroup:
        """Add targets by name and/or every target matching `labels` now."""
        return self._wrap(self._http.send(members_call(name, True, targets, labels)))

    def remove(
        self, name: str, targets: str | Iterable[str] = (), *, labels: LabelFilter | None = None
    ) -> TargetGroup:
        return self._wrap(self._http.send(members_call(name, False, targets, labels)))

    def delete(self, name: str) -> None:
        self._http.send(target_group_delete_call(name))


class AsyncTargetGroups:
    """`async_client.target_groups`: the async twin of `TargetGroups`."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> AsyncTargetGroup:
        return AsyncTargetGroup(raw, self)

    async def create(
        self,
        name: str,
        *,
        description: str = "",
        members: str | Iterable[str] = (),
        labels: LabelFilter | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncTargetGroup:
        call = target_group_create_call(
            name, description=description, members=members, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(await self._http.send(call))

    async def get(self, name: str) -> AsyncTargetGroup:
        return self._wrap(await self._http.send(target_group_get_call(name)))

    async def list(self) -> builtins.list[AsyncTargetGroup]:
        items = _awalk(lambda cursor: self._http.send(target_group_list_call(MAX_PAGE, cursor)))
        return [self._wrap(g) async for g in items]

    async def add(
        self, name: str, targets: str | Iterable[str] = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        return self._wrap(await self._http.send(members_call(name, True, targets, labels)))

    async def remove(
        self, name: str, targets: str | Iterable[str] = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        return self._wrap(await self._http.send(members_call(name, False, targets, labels)))

    async def delete(self, name: str) -> None:
        await self._http.send(target_group_delete_call(name))


class ExecutionGroups:
    """`client.execution_groups`: one workflow on every target of a target group, N at a time."""

    def __init__(self, http: SyncHTTP, executions: Executions) -> None:
        self._http = http
        self._executions = executions

    def _wrap(self, raw: JSON) -> ExecutionGroup:
        return ExecutionGroup(raw, self)

    def start(
        self,
        target_group: str,
        workflow: str,
        *,
        default_parameters: JSON | None = None,
        parameters: Mapping[str, JSON] | None = None,
        concurrency: int = 5,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> ExecutionGroup:
        """One execution per target; `parameters` = {target: {...}} merged over `default_parameters`."""
        call = group_start_call(
            target_group,
            workflow,
            default_parameters=default_parameters,
            parameters=parameters,
            concurrency=concurrency,
            force=force,
            idempotency_key=idempotency_key,
        )
        return self._wrap(self._http.send(call))

    def get(self, group_id: str) -> ExecutionGroup:
        return self._wrap(self._http.send(group_get_call(group_id)))

    def list(
        self, workflow: str | Sequence[str] | None = None, target_group: str | Sequence[str] | None = None
    ) -> builtins.list[ExecutionGroup]:
        """Every group (oldest first), optionally only of these workflows / target groups."""
        items = _walk(
            lambda cursor: self._http.send(group_list_call(workflow, target_group, MAX_PAGE, cursor))
        )
        return [self._wrap(g) for g in items]

    def members(self, group_id: str, include: str | Sequence[str] | None = None) -> builtins.list[Execution]:
        """The group's executions, in the order they are admitted (`include` narrows the fields)."""
        return list(self._executions.list(group_id=group_id, sort="id", include=include, page_size=MAX_PAGE))

    def cancel(self, group_id: str, force: bool = False, kill: bool = False) -> ExecutionGroup:
        """Cancel every member that has not ended: waiting ones at once, running ones as asked."""
        return self._wrap(self._http.send(group_cancel_call(group_id, force=force, kill=kill)))

    def set_concurrency(self, group_id: str, concurrency: int) -> ExecutionGroup:
        return self._wrap(self._http.send(group_concurrency_call(group_id, concurrency)))

    def set_target_group(
        self, group_id: str, success_group: str | None = None, failed_group: str | None = None
    ) -> ExecutionGroup:
        """Targets whose member succeeds join `success_group`, failed ones `failed_group`."""
        return self._wrap(self._http.send(group_sinks_call(group_id, success_group, failed_group)))

    def dump(self, execution_group_ids: Iterable[str] | None = None) -> Iterator[JSON]:
        """Every group's attributes (or these groups'), one dict at a time, for snapshots."""
        yield from self._http.send(group_dump_call(execution_group_ids)).get("items") or []


class AsyncExecutionGroups:
    """`async_client.execution_groups`: the async twin of `ExecutionGroups`."""

    def __init__(self, http: AsyncHTTP, executions: AsyncExecutions) -> None:
        self._http = http
        self._executions = executions

    def _wrap(self, raw: JSON) -> AsyncExecutionGroup:
        return AsyncExecutionGroup(raw, self)

    async def start(
        self,
        target_group: str,
        workflow: str,
        *,
        default_parameters: JSON | None = None,
        parameters: Mapping[str, JSON] | None = None,
        concurrency: int = 5,
        force: bool = False,
        idempotency_key: str | None = None,
    ) -> AsyncExecutionGroup:
        call = group_start_call(
            target_group,
            workflow,
            default_parameters=default_parameters,
            parameters=parameters,
            concurrency=concurrency,
            force=force,
            idempotency_key=idempotency_key,
        )
        return self._wrap(await self._http.send(call))

    async def get(self, group_id: str) -> AsyncExecutionGroup:
        return self._wrap(await self._http.send(group_get_call(group_id)))

    async def list(
        self, workflow: str | Sequence[str] | None = None, target_group: str | Sequence[str] | None = None
    ) -> builtins.list[AsyncExecutionGroup]:
        items = _awalk(
            lambda cursor: self._http.send(group_list_call(workflow, target_group, MAX_PAGE, cursor))
        )
        return [self._wrap(g) async for g in items]

    async def members(
        self, group_id: str, include: str | Sequence[str] | None = None
    ) -> builtins.list[AsyncExecution]:
        found = self._executions.list(group_id=group_id, sort="id", include=include, page_size=MAX_PAGE)
        return await found.to_list()

    async def cancel(self, group_id: str, force: bool = False, kill: bool = False) -> AsyncExecutionGroup:
        return self._wrap(await self._http.send(group_cancel_call(group_id, force=force, kill=kill)))

    async def set_concurrency(self, group_id: str, concurrency: int) -> AsyncExecutionGroup:
        return self._wrap(await self._http.send(group_concurrency_call(group_id, concurrency)))

    async def set_target_group(
        self, group_id: str, success_group: str | None = None, failed_group: str | None = None
    ) -> AsyncExecutionGroup:
        return self._wrap(await self._http.send(group_sinks_call(group_id, success_group, failed_group)))

    async def dump(self, execution_group_ids: Iterable[str] | None = None) -> AsyncIterator[JSON]:
        data = await self._http.send(group_dump_call(execution_group_ids))
        for item in data.get("items") or []:
            yield item


__all__ = [
    "GROUP_DONE",
    "MEMBER_FIELDS",
    "AsyncExecutionGroup",
    "AsyncExecutionGroups",
    "AsyncTarget",
    "AsyncTargetGroup",
    "AsyncTargetGroups",
    "AsyncTargets",
    "ExecutionGroup",
    "ExecutionGroupData",
    "ExecutionGroups",
    "GroupWaitTimeout",
    "Target",
    "TargetData",
    "TargetGroup",
    "TargetGroupData",
    "TargetGroups",
    "Targets",
]
