"""Helpers shared by the trigger tests (core/triggers/).

Every expected instant is written out by hand. Calendar facts used:
- 2026-01-01 is a Thursday; 2026-02-01 and 2026-03-01 are Sundays.
- Europe/Berlin: CET (+01:00) -> CEST (+02:00) on 2026-03-29 at 01:00Z (02:00 local jumps to 03:00);
  CEST -> CET on 2026-10-25 at 01:00Z (03:00 local falls back to 02:00; 02:00-02:59 happens twice,
  first at 00:00Z-00:59Z, then at 01:00Z-01:59Z).
- America/New_York: EST (-05:00) -> EDT (-04:00) on 2026-03-08 at 07:00Z (02:00 jumps to 03:00);
  EDT -> EST on 2026-11-01 at 06:00Z (02:00 falls back to 01:00; 01:00-01:59 happens at 05:00Z-05:59Z
  and again at 06:00Z-06:59Z).
- Asia/Tokyo: +09:00 all year, no DST.
"""

from __future__ import annotations

from datetime import UTC, datetime

from conveyor.core.triggers import Trigger, parse_trigger, upcoming


def Z(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


T0 = Z(2026, 1, 1)  # a Thursday


def cron(expr: str, tz: str | None = None) -> Trigger:
    return parse_trigger("cron", expr, timezone=tz)


def fires(expr: str, after: datetime, count: int = 3, tz: str | None = None) -> list[datetime]:
    return upcoming(cron(expr, tz), after, after, count)
