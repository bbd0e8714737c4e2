"""`client.targets` and `client.target_groups`: what executions act on, and named sets of them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from conveyor.client._async.http import AsyncHTTP
from conveyor.client._async.listing import AsyncListing
from conveyor.client.groups import (
    LabelFilter,
    Names,
    TargetData,
    TargetGroupData,
    members_call,
    target_create_call,
    target_delete_call,
    target_get_call,
    target_group_create_call,
    target_group_delete_call,
    target_group_get_call,
    target_group_list_call,
    target_list_call,
    target_update_call,
)
from conveyor.client.models import JSON


class AsyncTarget(TargetData):
    def __init__(self, raw: JSON, targets: AsyncTargets) -> None:
        super().__init__(raw)
        self._targets = targets

    async def refresh(self) -> AsyncTarget:
        return self._take(await self._targets.get(self.name))

    async def update(
        self, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        return self._take(await self._targets.update(self.name, max_concurrent=max_concurrent, labels=labels))

    async def delete(self, force: bool = False) -> None:
        await self._targets.delete(self.name, force=force)


class AsyncTargetGroup(TargetGroupData):
    def __init__(self, raw: JSON, groups: AsyncTargetGroups) -> None:
        super().__init__(raw)
        self._groups = groups

    async def refresh(self) -> AsyncTargetGroup:
        return self._take(await self._groups.get(self.name))

    async def add(self, targets: Names = (), labels: LabelFilter | None = None) -> AsyncTargetGroup:
        return self._take(await self._groups.add(self.name, targets, labels=labels))

    async def remove(self, targets: Names = (), labels: LabelFilter | None = None) -> AsyncTargetGroup:
        return self._take(await self._groups.remove(self.name, targets, labels=labels))

    async def delete(self) -> None:
        await self._groups.delete(self.name)


class AsyncTargets:
    """`client.targets`: create, read, change and delete targets."""

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
        """Create a target; a name already taken raises ConflictError."""
        call = target_create_call(
            name, max_concurrent=max_concurrent, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(await self._http.send(call))

    async def get(self, name: str) -> AsyncTarget:
        return self._wrap(await self._http.send(target_get_call(name)))

    async def list(self, labels: LabelFilter | None = None) -> builtins.list[AsyncTarget]:
        """Every target (by name) carrying all these labels: {"role": "web"} or ["role:web", "zone:*"].

        A list, read a page at a time before it returns, so it outlives the client that fetched it.
        """
        page = AsyncListing(self._http, lambda n, cursor: target_list_call(labels, n, cursor), self._wrap)
        return await page.to_list()

    async def update(
        self, name: str, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        """Change the limit and/or replace the labels."""
        call = target_update_call(name, max_concurrent=max_concurrent, labels=labels)
        return self._wrap(await self._http.send(call))

    async def delete(self, name: str, force: bool = False) -> None:
        """Delete it and its schedules; ConflictError while executions on it are active, unless `force`."""
        await self._http.send(target_delete_call(name, force=force))


class AsyncTargetGroups:
    """`client.target_groups`: named sets of targets, which execution groups start on."""

    def __init__(self, http: AsyncHTTP) -> None:
        self._http = http

    def _wrap(self, raw: JSON) -> AsyncTargetGroup:
        return AsyncTargetGroup(raw, self)

    async def create(
        self,
        name: str,
        *,
        description: str = "",
        members: Names = (),
        labels: LabelFilter | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncTargetGroup:
        """Create a group with these targets and every target matching `labels` now."""
        call = target_group_create_call(
            name, description=description, members=members, labels=labels, idempotency_key=idempotency_key
        )
        return self._wrap(await self._http.send(call))

    async def get(self, name: str) -> AsyncTargetGroup:
        return self._wrap(await self._http.send(target_group_get_call(name)))

    async def list(self) -> builtins.list[AsyncTargetGroup]:
        """Every group, by name, without member names (`member_count` says how many)."""
        return await AsyncListing(self._http, target_group_list_call, self._wrap).to_list()

    async def add(
        self, name: str, targets: Names = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        """Add targets by name and/or every target matching `labels` now."""
        return self._wrap(await self._http.send(members_call(name, True, targets, labels)))

    async def remove(
        self, name: str, targets: Names = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        return self._wrap(await self._http.send(members_call(name, False, targets, labels)))

    async def delete(self, name: str) -> None:
        await self._http.send(target_group_delete_call(name))
