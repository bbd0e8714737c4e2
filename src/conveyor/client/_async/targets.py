"""`client.targets` and `client.target_groups`: what executions act on, and named sets of them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from conveyor.client import groups
from conveyor.client._async.base import AsyncBound, AsyncResource
from conveyor.client.groups import LabelFilter, Names, TargetData, TargetGroupData


class AsyncTarget(AsyncBound["AsyncTargets"], TargetData):
    """A target bound to the client that fetched it."""

    async def refresh(self) -> AsyncTarget:
        return self._take(await self._owner.get(self.name))

    async def update(
        self, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        return self._take(await self._owner.update(self.name, max_concurrent=max_concurrent, labels=labels))

    async def delete(self, force: bool = False) -> None:
        await self._owner.delete(self.name, force=force)


class AsyncTargetGroup(AsyncBound["AsyncTargetGroups"], TargetGroupData):
    """A target group bound to the client that fetched it."""

    async def refresh(self) -> AsyncTargetGroup:
        return self._take(await self._owner.get(self.name))

    async def add(self, targets: Names = (), labels: LabelFilter | None = None) -> AsyncTargetGroup:
        return self._take(await self._owner.add(self.name, targets, labels=labels))

    async def remove(self, targets: Names = (), labels: LabelFilter | None = None) -> AsyncTargetGroup:
        return self._take(await self._owner.remove(self.name, targets, labels=labels))

    async def delete(self) -> None:
        await self._owner.delete(self.name)


class AsyncTargets(AsyncResource[AsyncTarget]):
    """`client.targets`: create, read, change and delete targets."""

    document = AsyncTarget

    async def create(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        max_concurrent: int = 1,
        idempotency_key: str | None = None,
    ) -> AsyncTarget:
        """Create a target; a name already taken raises ConflictError."""
        call = groups.target_create_call(
            name, max_concurrent=max_concurrent, labels=labels, idempotency_key=idempotency_key
        )
        return await self._one(call)

    async def get(self, name: str) -> AsyncTarget:
        return await self._one(groups.target_get_call(name))

    async def list(self, labels: LabelFilter | None = None) -> builtins.list[AsyncTarget]:
        """Every target (by name) carrying all these labels: {"role": "web"} or ["role:web", "zone:*"].

        A list, read a page at a time before it returns, so it outlives the client that fetched it.
        """
        return await self._all(lambda n, cursor: groups.target_list_call(labels, n, cursor))

    async def update(
        self, name: str, *, max_concurrent: int | None = None, labels: Mapping[str, str] | None = None
    ) -> AsyncTarget:
        """Change the limit and/or replace the labels."""
        call = groups.target_update_call(name, max_concurrent=max_concurrent, labels=labels)
        return await self._one(call)

    async def delete(self, name: str, force: bool = False) -> None:
        """Delete it and its schedules; ConflictError while executions on it are active, unless `force`."""
        await self._http.send(groups.target_delete_call(name, force=force))


class AsyncTargetGroups(AsyncResource[AsyncTargetGroup]):
    """`client.target_groups`: named sets of targets, which execution groups start on."""

    document = AsyncTargetGroup

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
        call = groups.target_group_create_call(
            name, description=description, members=members, labels=labels, idempotency_key=idempotency_key
        )
        return await self._one(call)

    async def get(self, name: str) -> AsyncTargetGroup:
        return await self._one(groups.target_group_get_call(name))

    async def list(self) -> builtins.list[AsyncTargetGroup]:
        """Every group, by name, without member names (`member_count` says how many)."""
        return await self._all(groups.target_group_list_call)

    async def add(
        self, name: str, targets: Names = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        """Add targets by name and/or every target matching `labels` now."""
        return await self._one(groups.members_call(name, True, targets, labels))

    async def remove(
        self, name: str, targets: Names = (), *, labels: LabelFilter | None = None
    ) -> AsyncTargetGroup:
        return await self._one(groups.members_call(name, False, targets, labels))

    async def delete(self, name: str) -> None:
        await self._http.send(groups.target_group_delete_call(name))
