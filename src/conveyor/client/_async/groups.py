"""`client.execution_groups`: one workflow on every target of a target group, N at a time.

Examples, the request shapes and the document are in conveyor.client.groups.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from operator import attrgetter

from conveyor.client import groups
from conveyor.client._async.base import AsyncBound, AsyncResource, poll
from conveyor.client._async.executions import AsyncExecution, AsyncExecutions
from conveyor.client._async.http import AsyncHTTP
from conveyor.client.calls import MAX_PAGE
from conveyor.client.groups import ExecutionGroupData, GroupWaitTimeout
from conveyor.client.models import JSON
from conveyor.client.waiting import AsyncHook


class AsyncExecutionGroup(AsyncBound["AsyncExecutionGroups"], ExecutionGroupData):
    """An execution group bound to its client: refresh, act on it, list its members, wait for it."""

    async def refresh(self) -> AsyncExecutionGroup:
        return self._take(await self._owner.get(self.id))

    async def members(self, include: str | Sequence[str] | None = None) -> builtins.list[AsyncExecution]:
        return await self._owner.members(self.id, include=include)

    async def cancel(self, force: bool = False, kill: bool = False) -> AsyncExecutionGroup:
        return self._take(await self._owner.cancel(self.id, force=force, kill=kill))

    async def set_concurrency(self, concurrency: int) -> AsyncExecutionGroup:
        return self._take(await self._owner.set_concurrency(self.id, concurrency))

    async def set_target_group(
        self, success_group: str | None = None, failed_group: str | None = None
    ) -> AsyncExecutionGroup:
        return self._take(await self._owner.set_target_group(self.id, success_group, failed_group))

    async def wait(
        self,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_update: AsyncHook[AsyncExecutionGroup] | None = None,
    ) -> AsyncExecutionGroup:
        """Poll until every member has ended and return the group (whatever its status).

        Unlike `Execution.wait`, a failed or cancelled group does not raise: look at
        `status` and `counts`. Raises GroupWaitTimeout once `timeout` seconds pass.
        """
        done = attrgetter("is_done")
        return await poll(self, done, timeout, poll_interval, on_update, GroupWaitTimeout, refresh_first=True)


class AsyncExecutionGroups(AsyncResource[AsyncExecutionGroup]):
    """`client.execution_groups`: one workflow on every target of a target group, N at a time."""

    document = AsyncExecutionGroup

    def __init__(self, http: AsyncHTTP, executions: AsyncExecutions) -> None:
        super().__init__(http)
        self._executions = executions

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
        """One execution per target; `parameters` = {target: {...}} merged over `default_parameters`."""
        call = groups.group_start_call(
            target_group,
            workflow,
            default_parameters=default_parameters,
            parameters=parameters,
            concurrency=concurrency,
            force=force,
            idempotency_key=idempotency_key,
        )
        return await self._one(call)

    async def get(self, group_id: str) -> AsyncExecutionGroup:
        return await self._one(groups.group_get_call(group_id))

    async def list(
        self, workflow: str | Sequence[str] | None = None, target_group: str | Sequence[str] | None = None
    ) -> builtins.list[AsyncExecutionGroup]:
        """Every group (oldest first), optionally only of these workflows / target groups."""
        return await self._all(lambda n, cursor: groups.group_list_call(workflow, target_group, n, cursor))

    async def members(
        self, group_id: str, include: str | Sequence[str] | None = None
    ) -> builtins.list[AsyncExecution]:
        """The group's executions, in the order they are admitted (`include` narrows the fields)."""
        found = self._executions.list(group_id=group_id, sort="id", include=include, page_size=MAX_PAGE)
        return await found.to_list()

    async def cancel(self, group_id: str, force: bool = False, kill: bool = False) -> AsyncExecutionGroup:
        """Cancel every member that has not ended: waiting ones at once, running ones as asked."""
        return await self._one(groups.group_cancel_call(group_id, force=force, kill=kill))

    async def set_concurrency(self, group_id: str, concurrency: int) -> AsyncExecutionGroup:
        return await self._one(groups.group_concurrency_call(group_id, concurrency))

    async def set_target_group(
        self, group_id: str, success_group: str | None = None, failed_group: str | None = None
    ) -> AsyncExecutionGroup:
        """Targets whose member succeeds join `success_group`, failed ones `failed_group`."""
        return await self._one(groups.group_sinks_call(group_id, success_group, failed_group))

    async def dump(self, execution_group_ids: Iterable[str] | None = None) -> AsyncIterator[JSON]:
        """Every group's attributes (or these groups'), one dict at a time, for snapshots."""
        data = await self._http.send(groups.group_dump_call(execution_group_ids))
        for item in data.get("items") or []:
            yield item
