"""Time zones: naming them, and mapping wall-clock times to instants across DST changes.

A wall-clock time that exists twice (the repeated hour of a fall-back) resolves to its first
occurrence; one that does not exist (skipped by a spring-forward gap) resolves to the instant the gap
ends. Cron (`cron.py`) and dates written without an offset (`dates.py`) both follow these two rules.
"""

from __future__ import annotations

import difflib
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from conveyor.core.triggers.base import invalid


def timezone_name(tz: str | None, kind: object, value: object) -> str:
    """The IANA name to store for `tz` ("UTC" when none is given); refuse unknown zones with a hint."""
    if tz is None:
        return "UTC"
    if isinstance(tz, str) and not tz.strip():
        # A blank zone is a mistake (a template's empty variable), not a wish for UTC: say so.
        raise invalid(
            "time zone is blank: give an IANA name such as 'Europe/Berlin', or leave it out for UTC",
            kind,
            value,
        )
    if not isinstance(tz, str):
        raise invalid(f"time zone must be an IANA name such as 'Europe/Berlin', not {tz!r}", kind, value)
    name = tz.strip()
    if name.upper() in ("UTC", "Z"):
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise invalid(
            f"unknown time zone {tz!r}: use an IANA name such as 'Europe/Berlin', 'America/New_York' "
            f"or 'UTC'{hint}",
            kind,
            value,
            timezone=tz,
        ) from None
    return name


def zone(name: str, kind: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise invalid(f"unknown time zone {name!r}", kind, None, timezone=name) from None


def _offset_at(ts: int, tz: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()


def transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The instant in (before, after] where tz's offset changes to the one it has at `after`."""
    lo, hi = math.floor(before.timestamp()), math.ceil(after.timestamp())
    target = _offset_at(hi, tz)
    while hi - lo > 1:  # zone transitions fall on whole seconds
        mid = (lo + hi) // 2
        if _offset_at(mid, tz) == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def resolve_wall(wall: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """The UTC instant of a naive wall-clock time in tz, plus, when the time falls in a gap, the first
    wall-clock time after the gap. A repeated time resolves to its first occurrence; a skipped one to
    the instant the gap ends."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant, None
    # fold=0 reads a skipped time with the offset from before the gap (an instant after the gap);
    # fold=1 with the offset from after it (an instant before the gap). The gap ends in between.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    end = transition(before, instant, tz)
    return end, end.astimezone(tz).replace(tzinfo=None)
