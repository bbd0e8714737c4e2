"""`client.schedules`: create, read, edit, enable, disable and delete schedules (docs/api.md, "Schedules").

Examples, the request shapes and the document are in conveyor.client.schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor.client import schedules
from conveyor.client._async.base import AsyncBound, AsyncListing, AsyncResource
from conveyor.client.models import JSON
from conveyor.client.schedules import Duration, ScheduleData, TriggerSpec


class AsyncSchedule(AsyncBound["AsyncSchedules"], ScheduleData):
    """A schedule bound to the client that fetched it; its actions update it in place and return it."""

    async def refresh(self) -> AsyncSchedule:
        return self._take(await self._owner.get(self.id))

    async def update(self, **changes: Any) -> AsyncSchedule:
        return self._take(await self._owner.update(self.id, **changes))

    async def enable(self) -> AsyncSchedule:
        return self._take(await self._owner.enable(self.id))

    async def disable(self) -> AsyncSchedule:
        return self._take(await self._owner.disable(self.id))

    async def delete(self) -> None:
        await self._owner.delete(self.id)


class AsyncScheduleList(AsyncListing[AsyncSchedule]):
    """The schedules matching a query, oldest first."""


class AsyncSchedules(AsyncResource[AsyncSchedule]):
    """`client.schedules`: what starts executions on its own, and when."""

    document = AsyncSchedule

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
        """Create a schedule of `workflow` with exactly one trigger (ValueError otherwise).

        `cron` is read in `timezone` (IANA, UTC by default); `rate` and `once_delay` take seconds,
        '30s'/'5m'/'PT1H' or a timedelta; `date` an instant (a naive datetime is read in `timezone`);
        `trigger` the "kind:value" text or `{"kind", "value", "timezone"}`. Options left at None take
        the server's defaults. A trigger the server cannot read raises InvalidTriggerError.
        """
        body = schedules.create_body(
            workflow,
            {
                "cron": cron, "rate": rate, "date": date, "oninit": oninit, "once_delay": once_delay,
                "trigger": trigger, "timezone": timezone, "parameters": parameters, "target": target,
                "description": description, "params": params, "misfire": misfire,
                "misfire_limit": misfire_limit, "grace": grace, "overlap": overlap, "priority": priority,
                "dry_run": dry_run, "enabled": enabled
            }
        )  # fmt: skip
        return await self._one(schedules.create_call(body, idempotency_key))

    async def get(self, schedule_id: str) -> AsyncSchedule:
        return await self._one(schedules.get_call(schedule_id))

    def list(
        self,
        owner: str | None = None,
        target: str | None = None,
        ids: str | Sequence[str] | None = None,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> AsyncScheduleList:
        """A lazy, paged list of schedules, oldest first; `limit` caps how many are yielded."""
        wanted = schedules.split_ids(ids)
        return AsyncScheduleList(
            self._http,
            lambda n, cursor: schedules.list_call(
                owner=owner, target=target, ids=wanted, limit=n, cursor=cursor
            ),
            self._wrap,
            page_size=page_size,
            limit=limit,
            empty=wanted == [],
        )

    async def update(self, schedule_id: str, **changes: Any) -> AsyncSchedule:
        """Change the fields given (see EDITABLE; `target=None` unbinds); a trigger as in `create`."""
        return await self._one(schedules.update_call(schedule_id, schedules.changes_body(changes)))

    async def delete(self, *schedule_ids: str) -> int:
        """Delete these schedules, all or none: one unknown id raises NotFoundError and deletes nothing."""
        return int((await self._http.send(schedules.delete_call(schedule_ids)))["deleted"])

    async def enable(self, schedule_id: str) -> AsyncSchedule:
        return await self._one(schedules.switch_call(schedule_id, True))

    async def disable(self, schedule_id: str) -> AsyncSchedule:
        return await self._one(schedules.switch_call(schedule_id, False))

    async def unschedule_all(self) -> int:
        """Stop every enabled schedule of the caller (this token); returns how many."""
        return int((await self._http.send(schedules.all_call("unschedule-all")))["count"])

    async def reschedule_all(self) -> int:
        """Enable again exactly the schedules `unschedule_all` stopped; returns how many."""
        return int((await self._http.send(schedules.all_call("reschedule-all")))["count"])
