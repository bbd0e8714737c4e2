"""The ``date`` kind: once, at an ISO-8601 instant.

A date written without an offset (or a bare date, read as its midnight) is read in the trigger's time
zone by the rules of `zones.resolve_wall` (a repeated time is its first occurrence, a skipped one the
end of the gap), then stored in UTC ("2026-12-01T10:00:00Z"): a date keeps no zone of its own. Its
instant is its first fire even when it is in the past.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from conveyor.core.triggers.base import OneShot, invalid
from conveyor.core.triggers.zones import resolve_wall

if TYPE_CHECKING:
    from conveyor.core.triggers import Trigger


class Date(OneShot):
    name = "date"
    example = "'2026-12-01T10:00:00Z' or '2026-12-01T11:00:00+01:00'"

    def normalize(self, value: str | int | float, zone: str) -> tuple[str, str]:
        return _iso_utc(self._parse(value, zone)), "UTC"

    def describe(self, trigger: Trigger) -> str:
        return f"once at {trigger.value}"

    def first(self, trigger: Trigger, created: datetime) -> datetime | None:
        return self._parse(trigger.value, "UTC")

    def _parse(self, value: str | int | float, zone: str) -> datetime:
        howto = f"write an ISO-8601 date-time, e.g. {self.example} (without an offset it is read in {zone})"
        if not isinstance(value, str):
            raise invalid(f"date {value!r} is not a date-time; {howto}", self.name, value)
        text = value.strip()
        if text[-1:] == "z":
            text = text[:-1] + "Z"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise invalid(f"date {value!r} is not an ISO-8601 date-time; {howto}", self.name, value) from None
        try:
            if parsed.tzinfo is None:
                return resolve_wall(parsed, ZoneInfo(zone))[0]
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise invalid(f"date {value!r} is out of range; {howto}", self.name, value) from None


def _iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
