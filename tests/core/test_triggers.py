"""Triggers (core/triggers.py): parsing, normalization and fire instants, on plain values.

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

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from conveyor.core.errors import ConveyorError, InvalidTrigger
from conveyor.core.triggers import (
    Trigger,
    first_fire,
    next_fire,
    parse_trigger,
    parse_trigger_text,
    upcoming,
)


def Z(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


T0 = Z(2026, 1, 1)  # a Thursday


def cron(expr: str, tz: str | None = None) -> Trigger:
    return parse_trigger("cron", expr, timezone=tz)


def fires(expr: str, after: datetime, count: int = 3, tz: str | None = None) -> list[datetime]:
    return upcoming(cron(expr, tz), after, after, count)


# --- cron: syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "after", "expected"),
    [
        # 5 fields: minute hour day-of-month month day-of-week
        (
            "*/5 * * * *",
            Z(2026, 1, 1, 0, 2),
            [Z(2026, 1, 1, 0, 5), Z(2026, 1, 1, 0, 10), Z(2026, 1, 1, 0, 15)],
        ),
        ("0 * * * *", Z(2026, 1, 1, 23, 59), [Z(2026, 1, 2, 0), Z(2026, 1, 2, 1), Z(2026, 1, 2, 2)]),
        (
            "15,45 8 * * *",
            Z(2026, 1, 1, 8, 20),
            [Z(2026, 1, 1, 8, 45), Z(2026, 1, 2, 8, 15), Z(2026, 1, 2, 8, 45)],
        ),
        ("10-12 6 * * *", Z(2026, 1, 1), [Z(2026, 1, 1, 6, 10), Z(2026, 1, 1, 6, 11), Z(2026, 1, 1, 6, 12)]),
        ("0 22-23/1 * * *", Z(2026, 1, 1), [Z(2026, 1, 1, 22), Z(2026, 1, 1, 23), Z(2026, 1, 2, 22)]),
        ("0 0 1,15 * *", Z(2026, 1, 1), [Z(2026, 1, 15), Z(2026, 2, 1), Z(2026, 2, 15)]),
        ("0 6 1 */3 *", Z(2026, 1, 1), [Z(2026, 1, 1, 6), Z(2026, 4, 1, 6), Z(2026, 7, 1, 6)]),
        ("0 6 1 jan,jul *", Z(2026, 1, 2), [Z(2026, 7, 1, 6), Z(2027, 1, 1, 6), Z(2027, 7, 1, 6)]),
        # day-of-week, Unix numbering: 0 and 7 are Sunday
        ("0 12 * * 0", T0, [Z(2026, 1, 4, 12), Z(2026, 1, 11, 12), Z(2026, 1, 18, 12)]),
        ("0 12 * * 7", T0, [Z(2026, 1, 4, 12), Z(2026, 1, 11, 12), Z(2026, 1, 18, 12)]),
        ("0 12 * * 1", T0, [Z(2026, 1, 5, 12), Z(2026, 1, 12, 12), Z(2026, 1, 19, 12)]),
        ("0 12 * * sun", T0, [Z(2026, 1, 4, 12), Z(2026, 1, 11, 12), Z(2026, 1, 18, 12)]),
        (
            "0 9-17 * * MON-FRI",
            Z(2026, 1, 2, 16, 30),  # a Friday afternoon
            [Z(2026, 1, 2, 17), Z(2026, 1, 5, 9), Z(2026, 1, 5, 10)],
        ),
        ("0 12 * * 1-5/2", T0, [Z(2026, 1, 2, 12), Z(2026, 1, 5, 12), Z(2026, 1, 7, 12)]),
        # both day fields restricted (Unix): either one matches (the 13th, or a Friday)
        ("0 0 13 * 5", T0, [Z(2026, 1, 2), Z(2026, 1, 9), Z(2026, 1, 13)]),
        # '?' is accepted in the 5-field form too and means '*'
        ("0 12 ? * 1", T0, [Z(2026, 1, 5, 12), Z(2026, 1, 12, 12), Z(2026, 1, 19, 12)]),
        # aliases
        ("@daily", Z(2026, 1, 1, 5), [Z(2026, 1, 2), Z(2026, 1, 3), Z(2026, 1, 4)]),
        ("@hourly", Z(2026, 1, 1, 5, 1), [Z(2026, 1, 1, 6), Z(2026, 1, 1, 7), Z(2026, 1, 1, 8)]),
        ("@weekly", T0, [Z(2026, 1, 4), Z(2026, 1, 11), Z(2026, 1, 18)]),
        ("@monthly", T0, [Z(2026, 2, 1), Z(2026, 3, 1), Z(2026, 4, 1)]),
        # 6 fields, Quartz: second minute hour day-of-month month day-of-week
        (
            "0 0/5 * * * ?",
            Z(2026, 1, 1, 0, 2),
            [Z(2026, 1, 1, 0, 5), Z(2026, 1, 1, 0, 10), Z(2026, 1, 1, 0, 15)],
        ),
        (
            "30 0/5 * * * ?",
            Z(2026, 1, 1, 0, 2),
            [Z(2026, 1, 1, 0, 5, 30), Z(2026, 1, 1, 0, 10, 30), Z(2026, 1, 1, 0, 15, 30)],
        ),
        (
            "*/20 * * * * ?",
            Z(2026, 1, 1, 0, 0, 5),
            [Z(2026, 1, 1, 0, 0, 20), Z(2026, 1, 1, 0, 0, 40), Z(2026, 1, 1, 0, 1, 0)],
        ),
        ("0 0 * * * *", Z(2026, 1, 1, 0, 30), [Z(2026, 1, 1, 1), Z(2026, 1, 1, 2), Z(2026, 1, 1, 3)]),
        ("0 30 8 15 * ?", T0, [Z(2026, 1, 15, 8, 30), Z(2026, 2, 15, 8, 30), Z(2026, 3, 15, 8, 30)]),
        ("0 0 12 L * ?", T0, [Z(2026, 1, 31, 12), Z(2026, 2, 28, 12), Z(2026, 3, 31, 12)]),
        # Quartz day-of-week numbering: 1 = SUN ... 7 = SAT
        ("0 0 12 ? * 1", T0, [Z(2026, 1, 4, 12), Z(2026, 1, 11, 12), Z(2026, 1, 18, 12)]),
        ("0 0 12 ? * 2", T0, [Z(2026, 1, 5, 12), Z(2026, 1, 12, 12), Z(2026, 1, 19, 12)]),
        ("0 0 12 ? * 7", T0, [Z(2026, 1, 3, 12), Z(2026, 1, 10, 12), Z(2026, 1, 17, 12)]),
        ("0 0 12 ? * MON", T0, [Z(2026, 1, 5, 12), Z(2026, 1, 12, 12), Z(2026, 1, 19, 12)]),
        ("0 0 12 ? * 2-6", Z(2026, 1, 2, 13), [Z(2026, 1, 5, 12), Z(2026, 1, 6, 12), Z(2026, 1, 7, 12)]),
        ("0 0 12 ? * 1,7", T0, [Z(2026, 1, 3, 12), Z(2026, 1, 4, 12), Z(2026, 1, 10, 12)]),
        ("0 0 12 ? * 2/2", T0, [Z(2026, 1, 2, 12), Z(2026, 1, 5, 12), Z(2026, 1, 7, 12)]),  # MON, WED, FRI
        ("0 0 12 ? * 6#2", T0, [Z(2026, 1, 9, 12), Z(2026, 2, 13, 12), Z(2026, 3, 13, 12)]),  # 2nd Friday
        ("0 0 12 ? * 6L", T0, [Z(2026, 1, 30, 12), Z(2026, 2, 27, 12), Z(2026, 3, 27, 12)]),  # last Friday
        ("0 0 12 ? * FRIL", T0, [Z(2026, 1, 30, 12), Z(2026, 2, 27, 12), Z(2026, 3, 27, 12)]),
        ("0 0 12 ? * L", T0, [Z(2026, 1, 3, 12), Z(2026, 1, 10, 12), Z(2026, 1, 17, 12)]),  # Saturday
        # 7 fields: Quartz year; what the Jelastic add-ons send for Unix "0 3 * * 1"
        ("0 0 3 ? * 2 *", T0, [Z(2026, 1, 5, 3), Z(2026, 1, 12, 3), Z(2026, 1, 19, 3)]),
        ("0 0 0 1 1 ? 2027-2028", T0, [Z(2027, 1, 1), Z(2028, 1, 1)]),  # runs out after 2028
    ],
)
def test_cron_fires(expr: str, after: datetime, expected: list[datetime]) -> None:
    assert fires(expr, after) == expected


def test_cron_fires_strictly_after_the_given_instant() -> None:
    t = cron("*/5 * * * *")
    assert next_fire(t, Z(2026, 1, 1, 0, 5), T0) == Z(2026, 1, 1, 0, 10)
    assert next_fire(t, Z(2026, 1, 1, 0, 4, 59, 999999), T0) == Z(2026, 1, 1, 0, 5)
    assert next_fire(t, Z(2026, 1, 1, 0, 5, 0, 1), T0) == Z(2026, 1, 1, 0, 10)


def test_cron_first_fire_is_the_first_match_after_creation() -> None:
    t = cron("0 12 * * *")
    assert first_fire(t, Z(2026, 1, 1, 11)) == Z(2026, 1, 1, 12)
    assert first_fire(t, Z(2026, 1, 1, 12)) == Z(2026, 1, 2, 12)


def test_cron_never_fires_before_creation() -> None:
    t = cron("0 12 * * *")
    assert next_fire(t, Z(2025, 6, 1), created_at=Z(2026, 1, 1, 13)) == Z(2026, 1, 2, 12)
    assert upcoming(t, Z(2025, 6, 1), Z(2026, 1, 1, 13), 2) == [Z(2026, 1, 2, 12), Z(2026, 1, 3, 12)]


def test_cron_with_a_finished_year_field_has_no_next_fire() -> None:
    t = cron("0 0 0 1 1 ? 2027-2028")
    assert next_fire(t, Z(2028, 1, 1), T0) is None
    assert upcoming(t, Z(2030, 1, 1), T0) == []
    assert first_fire(cron("0 0 12 1 1 ? 2020"), T0) is None


def test_cron_value_keeps_the_expression_with_whitespace_collapsed() -> None:
    t = parse_trigger("cron", "  0   0/5 *  * * ?  ")
    assert t == Trigger("cron", "0 0/5 * * * ?", "UTC")
    assert t.to_text() == "cron:0 0/5 * * * ?"


# --- cron: time zones and DST --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "tz", "after", "expected"),
    [
        # UTC and a zone without DST: nothing moves, whatever other zones do
        ("30 2 * * *", "UTC", Z(2026, 3, 28, 12), [Z(2026, 3, 29, 2, 30), Z(2026, 3, 30, 2, 30)]),
        ("0 9 * * *", "Asia/Tokyo", Z(2026, 3, 7, 12), [Z(2026, 3, 8), Z(2026, 3, 9), Z(2026, 3, 10)]),
        ("0 9 * * *", "Asia/Tokyo", Z(2026, 10, 24, 12), [Z(2026, 10, 25), Z(2026, 10, 26), Z(2026, 10, 27)]),
        (
            "30 2 * * *",
            "Asia/Tokyo",
            Z(2026, 3, 28, 12),
            [Z(2026, 3, 28, 17, 30), Z(2026, 3, 29, 17, 30), Z(2026, 3, 30, 17, 30)],
        ),
        ("0 0 * * *", "Asia/Tokyo", Z(2026, 1, 1), [Z(2026, 1, 1, 15), Z(2026, 1, 2, 15), Z(2026, 1, 3, 15)]),
        # Berlin, standard and summer time away from the changes
        (
            "0 9 * * *",
            "Europe/Berlin",
            Z(2026, 1, 10),
            [Z(2026, 1, 10, 8), Z(2026, 1, 11, 8), Z(2026, 1, 12, 8)],
        ),
        (
            "0 9 * * *",
            "Europe/Berlin",
            Z(2026, 7, 10),
            [Z(2026, 7, 10, 7), Z(2026, 7, 11, 7), Z(2026, 7, 12, 7)],
        ),
        # Berlin spring forward (2026-03-29, 02:00-02:59 does not exist): a daily 02:30 fires once,
        # when the gap ends (03:00 CEST = 01:00Z)
        (
            "30 2 * * *",
            "Europe/Berlin",
            Z(2026, 3, 27, 12),
            [Z(2026, 3, 28, 1, 30), Z(2026, 3, 29, 1, 0), Z(2026, 3, 30, 0, 30)],
        ),
        # ... a daily 02:00 as well, and a daily 03:00 is that same instant
        ("0 2 * * *", "Europe/Berlin", Z(2026, 3, 28, 12), [Z(2026, 3, 29, 1), Z(2026, 3, 30, 0)]),
        ("0 3 * * *", "Europe/Berlin", Z(2026, 3, 28, 12), [Z(2026, 3, 29, 1), Z(2026, 3, 30, 1)]),
        # ... hourly: 01:00 CET, then 02:00 (skipped) and 03:00 CEST are one fire: one per real hour
        (
            "0 * * * *",
            "Europe/Berlin",
            Z(2026, 3, 28, 23, 30),
            [Z(2026, 3, 29, 0), Z(2026, 3, 29, 1), Z(2026, 3, 29, 2)],
        ),
        # ... every 15 minutes: 02:00-02:45 collapse into 03:00 CEST: one per 15 real minutes
        (
            "*/15 * * * *",
            "Europe/Berlin",
            Z(2026, 3, 29, 0, 40),
            [Z(2026, 3, 29, 0, 45), Z(2026, 3, 29, 1, 0), Z(2026, 3, 29, 1, 15)],
        ),
        (
            "0 0/15 * * * ?",
            "Europe/Berlin",
            Z(2026, 3, 29, 0, 40),
            [Z(2026, 3, 29, 0, 45), Z(2026, 3, 29, 1, 0), Z(2026, 3, 29, 1, 15)],
        ),
        # ... every second: 02:59:59 local never exists; 01:59:59 CET then 03:00:00 CEST
        (
            "* * * * * ?",
            "Europe/Berlin",
            Z(2026, 3, 29, 0, 59, 58),
            [Z(2026, 3, 29, 0, 59, 59), Z(2026, 3, 29, 1, 0, 0), Z(2026, 3, 29, 1, 0, 1)],
        ),
        # Berlin fall back (2026-10-25, 02:00-02:59 twice): a daily 02:30 fires once, the first time
        (
            "30 2 * * *",
            "Europe/Berlin",
            Z(2026, 10, 23, 12),
            [Z(2026, 10, 24, 0, 30), Z(2026, 10, 25, 0, 30), Z(2026, 10, 26, 1, 30)],
        ),
        # ... hourly: 01:00 CEST, 02:00 CEST, (02:00 CET repeats: no fire), 03:00 CET
        (
            "0 * * * *",
            "Europe/Berlin",
            Z(2026, 10, 24, 22, 30),
            [Z(2026, 10, 24, 23), Z(2026, 10, 25, 0), Z(2026, 10, 25, 2)],
        ),
        # ... every 15 minutes: 02:45 CEST, then 03:00 CET, 75 real minutes later
        (
            "*/15 * * * *",
            "Europe/Berlin",
            Z(2026, 10, 25, 0, 20),
            [Z(2026, 10, 25, 0, 30), Z(2026, 10, 25, 0, 45), Z(2026, 10, 25, 2, 0)],
        ),
        (
            "* * * * * ?",
            "Europe/Berlin",
            Z(2026, 10, 25, 0, 59, 58),
            [Z(2026, 10, 25, 0, 59, 59), Z(2026, 10, 25, 2, 0, 0), Z(2026, 10, 25, 2, 0, 1)],
        ),
        # ... asked during the second pass (02:20 CET): the repeated times already fired
        (
            "*/15 * * * *",
            "Europe/Berlin",
            Z(2026, 10, 25, 1, 20),
            [Z(2026, 10, 25, 2, 0), Z(2026, 10, 25, 2, 15)],
        ),
        (
            "30 2 * * *",
            "Europe/Berlin",
            Z(2026, 10, 25, 1, 10),
            [Z(2026, 10, 26, 1, 30), Z(2026, 10, 27, 1, 30)],
        ),
        ("0 2 * * *", "Europe/Berlin", Z(2026, 10, 25, 1, 0), [Z(2026, 10, 26, 1), Z(2026, 10, 27, 1)]),
        # Lord Howe shifts by 30 minutes: +10:30 -> +11:00 on 2026-10-04 at 02:00 local (15:30Z),
        # +11:00 -> +10:30 on 2026-04-05 at 02:00 local (15:00Z; 01:30-01:59 happens twice)
        (
            "15 2 * * *",
            "Australia/Lord_Howe",
            Z(2026, 10, 2),
            [Z(2026, 10, 2, 15, 45), Z(2026, 10, 3, 15, 30), Z(2026, 10, 4, 15, 15)],
        ),
        (
            "0 * * * *",
            "Australia/Lord_Howe",
            Z(2026, 10, 3, 14),
            [Z(2026, 10, 3, 14, 30), Z(2026, 10, 3, 15, 30), Z(2026, 10, 3, 16)],
        ),
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            Z(2026, 4, 3),
            [Z(2026, 4, 3, 14, 45), Z(2026, 4, 4, 14, 45), Z(2026, 4, 5, 15, 15)],
        ),
        # New York spring forward (2026-03-08, 02:00-02:59 does not exist)
        (
            "30 2 * * *",
            "America/New_York",
            Z(2026, 3, 6, 12),
            [Z(2026, 3, 7, 7, 30), Z(2026, 3, 8, 7, 0), Z(2026, 3, 9, 6, 30)],
        ),
        (
            "0 * * * *",
            "America/New_York",
            Z(2026, 3, 8, 5, 30),
            [Z(2026, 3, 8, 6), Z(2026, 3, 8, 7), Z(2026, 3, 8, 8)],
        ),
        (
            "*/15 * * * *",
            "America/New_York",
            Z(2026, 3, 8, 6, 40),
            [Z(2026, 3, 8, 6, 45), Z(2026, 3, 8, 7, 0), Z(2026, 3, 8, 7, 15)],
        ),
        # New York fall back (2026-11-01, 01:00-01:59 twice)
        (
            "30 1 * * *",
            "America/New_York",
            Z(2026, 10, 30, 12),
            [Z(2026, 10, 31, 5, 30), Z(2026, 11, 1, 5, 30), Z(2026, 11, 2, 6, 30)],
        ),
        (
            "30 2 * * *",
            "America/New_York",
            Z(2026, 10, 30, 12),
            [Z(2026, 10, 31, 6, 30), Z(2026, 11, 1, 7, 30), Z(2026, 11, 2, 7, 30)],
        ),
        (
            "0 * * * *",
            "America/New_York",
            Z(2026, 11, 1, 3, 30),
            [Z(2026, 11, 1, 4), Z(2026, 11, 1, 5), Z(2026, 11, 1, 7)],
        ),
        (
            "*/15 * * * *",
            "America/New_York",
            Z(2026, 11, 1, 5, 20),
            [Z(2026, 11, 1, 5, 30), Z(2026, 11, 1, 5, 45), Z(2026, 11, 1, 7, 0)],
        ),
        (
            "*/15 * * * *",
            "America/New_York",
            Z(2026, 11, 1, 6, 10),
            [Z(2026, 11, 1, 7), Z(2026, 11, 1, 7, 15)],
        ),
    ],
)
def test_cron_in_time_zones(expr: str, tz: str, after: datetime, expected: list[datetime]) -> None:
    assert fires(expr, after, count=len(expected), tz=tz) == expected


def _local_day(tz: str, y: int, mo: int, d: int) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime(y, mo, d, tzinfo=zone).astimezone(UTC)
    end = (datetime(y, mo, d, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)
    return start, end


@pytest.mark.parametrize(
    ("tz", "day", "hours", "daily_0230", "hourly", "quarterly"),
    [
        # spring-forward days have 23 hours: 02:00 merges into 03:00, 02:00-02:45 into 03:00
        ("Europe/Berlin", (2026, 3, 29), 23, 1, 23, 92),
        ("America/New_York", (2026, 3, 8), 23, 1, 23, 92),
        # fall-back days have 25 hours: every wall-clock time fires once, none twice
        ("Europe/Berlin", (2026, 10, 25), 25, 1, 24, 96),
        ("America/New_York", (2026, 11, 1), 25, 1, 24, 96),
        # ordinary days
        ("Europe/Berlin", (2026, 6, 1), 24, 1, 24, 96),
        ("Asia/Tokyo", (2026, 3, 29), 24, 1, 24, 96),
        ("UTC", (2026, 3, 29), 24, 1, 24, 96),
    ],
)
def test_cron_fire_counts_over_a_local_day(
    tz: str, day: tuple[int, int, int], hours: int, daily_0230: int, hourly: int, quarterly: int
) -> None:
    start, end = _local_day(tz, *day)
    assert end - start == timedelta(hours=hours)
    before = start - timedelta(microseconds=1)
    for expr, expected in (("30 2 * * *", daily_0230), ("0 * * * *", hourly), ("*/15 * * * *", quarterly)):
        got = [f for f in upcoming(cron(expr, tz), before, before, 200) if f < end]
        assert len(got) == expected, expr
        assert all(a < b for a, b in pairwise(got)), expr
        assert len(set(got)) == len(got)


# two days before each 2026 change in Berlin, New York and Lord Howe (a 30-minute DST shift)
DST_EVES = [Z(2026, 3, 6), Z(2026, 3, 27), Z(2026, 10, 23), Z(2026, 10, 30), Z(2026, 4, 3), Z(2026, 10, 2)]


@pytest.mark.parametrize("start", DST_EVES, ids=lambda d: d.date().isoformat())
@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("expr", ["*/15 * * * *", "0 * * * *", "30 2 * * *", "0 */7 * * * ?"])
def test_cron_fires_strictly_increase_across_changes(expr: str, tz: str, start: datetime) -> None:
    t = cron(expr, tz)
    got = upcoming(t, start, start, 400)
    assert len(got) == 400
    assert all(a < b for a, b in pairwise(got))
    # stepping one fire at a time gives the same sequence
    step, seq = start, []
    for _ in range(30):
        nxt = next_fire(t, step, start)
        assert nxt is not None
        seq.append(nxt)
        step = nxt
    assert seq == got[:30]


def test_cron_walks_through_both_changes_of_a_year_one_fire_at_a_time() -> None:
    # a daily 02:30 in Berlin, fire by fire from March to November: one fire per local day
    t = cron("30 2 * * *", "Europe/Berlin")
    zone = ZoneInfo("Europe/Berlin")
    at, days = Z(2026, 3, 1), []
    while at < Z(2026, 11, 1):
        nxt = next_fire(t, at, Z(2026, 3, 1))
        assert nxt is not None and nxt > at
        days.append(nxt.astimezone(zone).date())
        at = nxt
    assert len(days) == len(set(days))
    assert days[0].isoformat() == "2026-03-01" and days[-1].isoformat() == "2026-11-01"
    assert len(days) == 246  # every day from 1 March to 1 November


def test_cron_timezone_is_kept_and_named_in_describe() -> None:
    t = cron("*/5 * * * *", "Europe/Berlin")
    assert t.timezone == "Europe/Berlin"
    assert t.describe() == "cron '*/5 * * * *' (Europe/Berlin)"
    assert cron("0 0/5 * * * ?").describe() == "cron '0 0/5 * * * ?' (UTC)"


# --- rate ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("30", "30"),
        ("30s", "30"),
        (" 30 S ", "30"),
        ("30sec", "30"),
        ("30 seconds", "30"),
        ("5m", "300"),
        ("5min", "300"),
        ("5 minutes", "300"),
        ("2h", "7200"),
        ("2 hours", "7200"),
        ("1d", "86400"),
        ("1w", "604800"),
        ("1500ms", "1.5"),
        ("1000ms", "1"),
        ("1h30m", "5400"),
        ("1.5h", "5400"),
        ("PT5M", "300"),
        ("pt1h30m", "5400"),
        ("P1D", "86400"),
        ("P1DT12H", "129600"),
        ("PT1.5S", "1.5"),
        ("PT0,5M", "30"),
        ("P2W", "1209600"),
        (30, "30"),
        (1, "1"),
        (2.5, "2.5"),
        (60.0, "60"),
    ],
)
def test_rate_values_are_normalized_to_seconds(value: str | int | float, normalized: str) -> None:
    assert parse_trigger("rate", value) == Trigger("rate", normalized, "UTC")


def test_rate_is_anchored_on_creation() -> None:
    t = parse_trigger("rate", "30s")
    created = Z(2026, 1, 1, 12)
    assert first_fire(t, created) == Z(2026, 1, 1, 12, 0, 30)
    assert next_fire(t, created, created) == Z(2026, 1, 1, 12, 0, 30)
    assert next_fire(t, Z(2026, 1, 1, 12, 0, 30), created) == Z(2026, 1, 1, 12, 1, 0)  # strictly after
    assert next_fire(t, Z(2026, 1, 1, 12, 0, 45), created) == Z(2026, 1, 1, 12, 1, 0)
    assert next_fire(t, Z(2025, 1, 1), created) == Z(2026, 1, 1, 12, 0, 30)  # never before the first


def test_rate_skips_missed_fires_by_arithmetic() -> None:
    t = parse_trigger("rate", "30")
    created = Z(2026, 1, 1, 12)
    # ten hours later (1200 fires missed): the next one on the grid, not a replay
    assert next_fire(t, Z(2026, 1, 1, 22, 0, 10), created) == Z(2026, 1, 1, 22, 0, 30)
    assert upcoming(t, Z(2026, 1, 1, 22, 0, 10), created) == [
        Z(2026, 1, 1, 22, 0, 30),
        Z(2026, 1, 1, 22, 1, 0),
        Z(2026, 1, 1, 22, 1, 30),
    ]
    # five years of one-second fires skipped in one step
    one = parse_trigger("rate", 1)
    assert next_fire(one, Z(2031, 1, 1, 0, 0, 0, 500000), Z(2026, 1, 1)) == Z(2031, 1, 1, 0, 0, 1)


def test_rate_keeps_sub_second_anchor_and_fractional_periods() -> None:
    created = Z(2026, 1, 1, 12, 0, 0, 250000)
    assert next_fire(parse_trigger("rate", "1m"), Z(2026, 1, 1, 12, 5), created) == Z(
        2026, 1, 1, 12, 5, 0, 250000
    )
    t = parse_trigger("rate", "1500ms")
    assert upcoming(t, Z(2026, 1, 1), Z(2026, 1, 1)) == [
        Z(2026, 1, 1, 0, 0, 1, 500000),
        Z(2026, 1, 1, 0, 0, 3),
        Z(2026, 1, 1, 0, 0, 4, 500000),
    ]


def test_rate_is_not_one_shot_and_describes_itself() -> None:
    assert not parse_trigger("rate", "30").one_shot
    assert parse_trigger("rate", "30").describe() == "every 30 s"
    assert parse_trigger("rate", "90").describe() == "every 90 s"
    assert parse_trigger("rate", "5m").describe() == "every 5 min"
    assert parse_trigger("rate", "2h").describe() == "every 2 h"
    assert parse_trigger("rate", "1d").describe() == "every 1 d"
    assert parse_trigger("rate", "1500ms").describe() == "every 1.5 s"


# --- date ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tz", "normalized"),
    [
        ("2026-12-01T10:00:00Z", None, "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00z", None, "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00+00:00", None, "2026-12-01T10:00:00Z"),
        ("2026-12-01T11:00:00+01:00", "America/New_York", "2026-12-01T10:00:00Z"),  # offset wins
        ("2026-12-01T05:00:00-05:00", None, "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00:00.250Z", None, "2026-12-01T10:00:00.250000Z"),
        ("2026-12-01 10:00:00Z", None, "2026-12-01T10:00:00Z"),
        ("20261201T100000Z", None, "2026-12-01T10:00:00Z"),
        # without an offset: read in the trigger's time zone (UTC by default)
        ("2026-12-01T10:00:00", None, "2026-12-01T10:00:00Z"),
        ("2026-12-01T10:00", "Europe/Berlin", "2026-12-01T09:00:00Z"),
        ("2026-07-01T10:00:00", "Europe/Berlin", "2026-07-01T08:00:00Z"),
        ("2026-12-01T10:00:00", "Asia/Tokyo", "2026-12-01T01:00:00Z"),
        ("2026-12-01", "America/New_York", "2026-12-01T05:00:00Z"),
        # a skipped local time: when the gap ends; a repeated one: its first occurrence
        ("2026-03-29T02:30:00", "Europe/Berlin", "2026-03-29T01:00:00Z"),
        ("2026-10-25T02:30:00", "Europe/Berlin", "2026-10-25T00:30:00Z"),
        ("2026-03-08T02:30:00", "America/New_York", "2026-03-08T07:00:00Z"),
        ("2026-11-01T01:30:00", "America/New_York", "2026-11-01T05:30:00Z"),
    ],
)
def test_date_values_are_normalized_to_utc(value: str, tz: str | None, normalized: str) -> None:
    assert parse_trigger("date", value, timezone=tz) == Trigger("date", normalized, "UTC")


def test_date_fires_once() -> None:
    t = parse_trigger("date", "2026-12-01T10:00:00Z")
    at = Z(2026, 12, 1, 10)
    assert t.one_shot
    assert first_fire(t, T0) == at
    assert next_fire(t, T0, T0) == at
    assert next_fire(t, at - timedelta(microseconds=1), T0) == at
    assert next_fire(t, at, T0) is None
    assert next_fire(t, Z(2027, 1, 1), T0) is None
    assert upcoming(t, T0, T0) == [at]
    assert upcoming(t, at, T0) == []
    assert t.describe() == "once at 2026-12-01T10:00:00Z"
    assert t.to_text() == "date:2026-12-01T10:00:00Z"


def test_date_in_the_past_is_still_its_first_fire() -> None:
    t = parse_trigger("date", "2025-06-01T00:00:00Z")
    assert first_fire(t, T0) == Z(2025, 6, 1)  # the scheduler decides what a misfire means
    assert next_fire(t, T0, T0) is None


# --- once_delay ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("10", "10"),
        ("10s", "10"),
        ("1000ms", "1"),
        ("250ms", "0.25"),
        (10, "10"),
        (2.5, "2.5"),
        ("PT10S", "10"),
        ("0", "0"),
        (0, "0"),
        ("2m", "120"),
    ],
)
def test_once_delay_values_are_normalized_to_seconds(value: str | int | float, normalized: str) -> None:
    assert parse_trigger("once_delay", value) == Trigger("once_delay", normalized, "UTC")


def test_once_delay_fires_once_after_creation() -> None:
    t = parse_trigger("once_delay", "10s")
    created = Z(2026, 1, 1, 12)
    at = Z(2026, 1, 1, 12, 0, 10)
    assert t.one_shot
    assert first_fire(t, created) == at
    assert next_fire(t, created, created) == at
    assert next_fire(t, at, created) is None
    assert next_fire(t, Z(2026, 1, 2), created) is None
    assert upcoming(t, created, created) == [at]
    assert upcoming(t, at, created) == []
    assert t.describe() == "once, 10 s after creation"
    assert t.to_text() == "once_delay:10"


def test_once_delay_of_zero_fires_at_creation() -> None:
    t = parse_trigger("once_delay", 0)
    created = Z(2026, 1, 1, 12)
    assert first_fire(t, created) == created
    assert next_fire(t, created - timedelta(seconds=1), created) == created
    assert parse_trigger("once_delay", "1500ms").describe() == "once, 1.5 s after creation"


# --- oninit --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "  "])
def test_oninit_has_no_instants(value: str | None) -> None:
    t = parse_trigger("oninit", value)
    assert t == Trigger("oninit", "", "UTC")
    assert not t.one_shot
    assert first_fire(t, T0) is None
    assert next_fire(t, T0, T0) is None
    assert upcoming(t, T0, T0) == []
    assert t.describe() == "at every service start"
    assert t.to_text() == "oninit:"


# --- upcoming ------------------------------------------------------------------------------------


def test_upcoming_counts() -> None:
    t = cron("0 12 * * *")
    assert upcoming(t, T0, T0) == [Z(2026, 1, 1, 12), Z(2026, 1, 2, 12), Z(2026, 1, 3, 12)]
    assert upcoming(t, T0, T0, count=1) == [Z(2026, 1, 1, 12)]
    assert upcoming(t, T0, T0, count=5)[-1] == Z(2026, 1, 5, 12)
    assert upcoming(t, T0, T0, count=0) == []
    assert upcoming(parse_trigger("rate", 60), T0, T0, count=0) == []
    with pytest.raises(ValueError, match="count"):
        upcoming(t, T0, T0, count=-1)


# --- text form -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("cron:0 0/5 * * * ?", None, Trigger("cron", "0 0/5 * * * ?", "UTC")),
        ("cron:*/5 * * * *", "Europe/Berlin", Trigger("cron", "*/5 * * * *", "Europe/Berlin")),
        ("CRON: 0 0 * * * *", None, Trigger("cron", "0 0 * * * *", "UTC")),
        ("rate:30s", None, Trigger("rate", "30", "UTC")),
        ("rate:30", None, Trigger("rate", "30", "UTC")),
        ("rate:PT5M", None, Trigger("rate", "300", "UTC")),
        ("date:2026-12-01T10:00:00Z", None, Trigger("date", "2026-12-01T10:00:00Z", "UTC")),
        ("date:2026-12-01T11:00:00", "Europe/Berlin", Trigger("date", "2026-12-01T10:00:00Z", "UTC")),
        ("once_delay:1000ms", None, Trigger("once_delay", "1", "UTC")),
        ("once_delay:10", None, Trigger("once_delay", "10", "UTC")),
        ("oninit", None, Trigger("oninit", "", "UTC")),
        ("oninit:", None, Trigger("oninit", "", "UTC")),
        (" OnInit ", None, Trigger("oninit", "", "UTC")),
    ],
)
def test_parse_trigger_text(text: str, tz: str | None, expected: Trigger) -> None:
    assert parse_trigger_text(text, timezone=tz) == expected


@pytest.mark.parametrize(
    "trigger",
    [
        Trigger("cron", "0 0/5 * * * ?", "UTC"),
        Trigger("cron", "30 2 * * *", "Europe/Berlin"),
        Trigger("cron", "0 0 3 ? * 2 *", "America/New_York"),
        Trigger("rate", "30", "UTC"),
        Trigger("rate", "1.5", "UTC"),
        Trigger("date", "2026-12-01T10:00:00Z", "UTC"),
        Trigger("date", "2026-12-01T10:00:00.250000Z", "UTC"),
        Trigger("once_delay", "0.25", "UTC"),
        Trigger("oninit", "", "UTC"),
    ],
)
def test_normalized_triggers_read_back_unchanged(trigger: Trigger) -> None:
    assert parse_trigger(trigger.kind, trigger.value, timezone=trigger.timezone) == trigger
    assert parse_trigger_text(trigger.to_text(), timezone=trigger.timezone) == trigger
    assert trigger.to_text() == f"{trigger.kind}:{trigger.value}"


def test_kind_and_timezone_spelling() -> None:
    assert parse_trigger("CRON", "* * * * *").kind == "cron"
    assert parse_trigger(" Once_Delay ", 5).kind == "once_delay"
    assert cron("* * * * *", "utc").timezone == "UTC"
    assert cron("* * * * *", "").timezone == "UTC"
    # only cron keeps a zone; a date's zone is folded into its UTC value
    assert parse_trigger("rate", 30, timezone="Europe/Berlin").timezone == "UTC"
    assert parse_trigger("date", "2026-12-01T10:00:00", timezone="Europe/Berlin").timezone == "UTC"


def test_trigger_is_an_immutable_value() -> None:
    t = parse_trigger("rate", 30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.value = "60"  # type: ignore[misc]
    assert t == Trigger("rate", "30") and hash(t) == hash(Trigger("rate", "30"))


# --- datetimes in and out ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        Trigger("cron", "0 12 * * *", "Europe/Berlin"),
        Trigger("rate", "60"),
        Trigger("date", "2026-12-01T10:00:00Z"),
        Trigger("once_delay", "10"),
    ],
)
def test_results_are_utc_even_for_aware_non_utc_input(trigger: Trigger) -> None:
    plus2 = timezone(timedelta(hours=2))
    created = datetime(2026, 1, 1, 14, tzinfo=plus2)  # 12:00Z
    out = [first_fire(trigger, created), next_fire(trigger, created, created)]
    out += upcoming(trigger, created, created)
    assert out and all(d is not None and d.tzinfo is UTC for d in out)
    assert next_fire(trigger, created, created) == next_fire(trigger, Z(2026, 1, 1, 12), Z(2026, 1, 1, 12))


def test_naive_datetimes_are_refused() -> None:
    t = parse_trigger("rate", 60)
    with pytest.raises(ValueError, match="timezone-aware"):
        first_fire(t, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="after"):
        next_fire(t, datetime(2026, 1, 1), T0)


# --- invalid input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "tz", "fragment"),
    [
        # kind
        (
            "weekly",
            "x",
            None,
            "unknown trigger kind 'weekly'; use one of: cron, rate, date, oninit, once_delay",
        ),
        ("", "x", None, "unknown trigger kind"),
        # empty values
        ("cron", None, None, "a cron trigger needs a value"),
        ("cron", "   ", None, "a cron trigger needs a value"),
        ("rate", "", None, "a rate trigger needs a value"),
        ("date", None, None, "a date trigger needs a value"),
        ("once_delay", "", None, "a once_delay trigger needs a value"),
        # cron
        ("cron", 5, None, "a cron trigger needs an expression string"),
        ("cron", "* * *", None, "has 3 field(s); write 5 fields"),
        ("cron", "0 0 0 1 1 ? 2026 x", None, "has 8 field(s)"),
        ("cron", "61 * * * *", None, "invalid cron expression '61 * * * *'"),
        ("cron", "* 24 * * *", None, "invalid cron expression"),
        ("cron", "* * 32 * *", None, "invalid cron expression"),
        ("cron", "* * * 13 *", None, "invalid cron expression"),
        ("cron", "* * * * 8", None, "invalid cron expression"),
        ("cron", "* * * * funday", None, "invalid cron expression"),
        ("cron", "*/x * * * *", None, "invalid cron expression"),
        ("cron", "? * * * *", None, "invalid cron expression"),
        ("cron", "0 0 30 2 *", None, "never matches a date"),
        ("cron", "0 0 0 31 4 ?", None, "never matches a date"),
        ("cron", "0 0 0 1 1 ? 2200", None, "invalid cron expression"),
        ("cron", "0 0 12 1 * MON", None, "restricts both day-of-month (1) and day-of-week (MON)"),
        ("cron", "0 0 12 ? * 0", None, "days are numbered 1 (SUN) to 7 (SAT)"),
        ("cron", "0 0 12 ? * 1-8", None, "day-of-week 8 is out of range"),
        ("cron", "H * * * *", None, "hashed/random values (H, R) are not supported"),
        ("cron", "0 R * * *", None, "hashed/random values"),
        ("cron", "@reboot", None, "use the oninit trigger"),
        ("cron", "@fortnightly", None, "unknown cron alias '@fortnightly'"),
        ("cron", "* * * * *", "Mars/Olympus_Mons", "unknown time zone 'Mars/Olympus_Mons'"),
        ("cron", "* * * * *", "Europe/Berln", "did you mean 'Europe/Berlin'"),
        ("cron", "* * * * *", "+02:00", "unknown time zone '+02:00'"),
        ("cron", "* * * * *", "../etc/passwd", "unknown time zone"),
        # rate
        ("rate", 0, None, "rate 0 must be positive"),
        ("rate", "0", None, "must be positive"),
        ("rate", "0s", None, "must be positive"),
        ("rate", -5, None, "rate -5 must be positive"),
        ("rate", "-5s", None, "must be positive"),
        ("rate", "500ms", None, "is too short: a rate is at least 1 s"),
        ("rate", 0.5, None, "is too short"),
        ("rate", "PT0.5S", None, "is too short"),
        ("rate", "fast", None, "rate 'fast' is not a duration; write e.g. '30s'"),
        ("rate", "5 parsecs", None, "unknown unit 'parsecs'"),
        ("rate", "5 5", None, "is not a duration"),
        ("rate", "P1M", None, "years or months, which have no fixed length"),
        ("rate", "P1Y", None, "years or months"),
        ("rate", "PT", None, "is not an ISO-8601 duration"),
        ("rate", "P1DT", None, "is not an ISO-8601 duration"),
        ("rate", "P", None, "is not an ISO-8601 duration"),
        ("rate", True, None, "is not a duration"),
        ("rate", math.nan, None, "is not a finite number"),
        ("rate", math.inf, None, "is not a finite number"),
        ("rate", "3651d", None, "is too long (at most 3650 days)"),
        ("rate", "30", "Nowhere/Land", "unknown time zone"),
        # date
        ("date", "tomorrow", None, "date 'tomorrow' is not an ISO-8601 date-time"),
        ("date", "2026-13-01T00:00:00Z", None, "is not an ISO-8601 date-time"),
        ("date", "2026-02-30T00:00:00Z", None, "is not an ISO-8601 date-time"),
        ("date", "2026-12-01T25:00:00Z", None, "is not an ISO-8601 date-time"),
        ("date", 1_764_583_200, None, "is not a date-time; write an ISO-8601 date-time"),
        ("date", "2026-12-01T10:00:00", "Not/AZone", "unknown time zone"),
        # once_delay
        ("once_delay", -1, None, "once_delay -1 must not be negative"),
        ("once_delay", "-10s", None, "must not be negative"),
        ("once_delay", "soon", None, "is not a duration"),
        ("once_delay", "10 fortnights", None, "unknown unit"),
        # oninit
        ("oninit", "now", None, "an oninit trigger takes no value"),
        ("oninit", 5, None, "takes no value"),
    ],
)
def test_invalid_triggers_are_refused_with_a_useful_message(
    kind: str, value: str | int | float | None, tz: str | None, fragment: str
) -> None:
    with pytest.raises(InvalidTrigger) as info:
        parse_trigger(kind, value, timezone=tz)
    err = info.value
    assert isinstance(err, ConveyorError)
    assert err.code == "invalid_trigger"
    assert fragment in err.message
    assert err.details["kind"] == kind
    if isinstance(value, float) and math.isnan(value):
        assert math.isnan(err.details["value"])
    else:
        assert err.details["value"] == value


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty trigger"),
        ("   ", "empty trigger"),
        ("30s", "trigger '30s' has no kind; write it as 'kind:value'"),
        ("*/5 * * * *", "has no kind"),
        ("every:5m", "unknown trigger kind 'every'"),
        ("rate:", "a rate trigger needs a value"),
        ("cron:", "a cron trigger needs a value"),
        ("cron:* * *", "has 3 field(s)"),
        ("once_delay:-1000ms", "must not be negative"),
        ("date:someday", "is not an ISO-8601 date-time"),
    ],
)
def test_invalid_trigger_text(text: str, fragment: str) -> None:
    with pytest.raises(InvalidTrigger) as info:
        parse_trigger_text(text)
    assert info.value.code == "invalid_trigger"
    assert fragment in info.value.message
    assert set(info.value.details) >= {"kind", "value"}


def test_timezone_errors_name_the_zone_in_details() -> None:
    with pytest.raises(InvalidTrigger) as info:
        parse_trigger("cron", "* * * * *", timezone="Europe/Berln")
    assert info.value.details == {"kind": "cron", "value": "* * * * *", "timezone": "Europe/Berln"}


@pytest.mark.parametrize(
    "trigger",
    [
        Trigger("rate", "0"),
        Trigger("rate", "soon"),
        Trigger("once_delay", "-1"),
        Trigger("date", "someday"),
        Trigger("cron", "* * *"),
        Trigger("cron", "* * * * *", "Nowhere/Land"),
    ],
)
def test_a_trigger_built_by_hand_is_checked_when_used(trigger: Trigger) -> None:
    with pytest.raises(InvalidTrigger):
        upcoming(trigger, T0, T0)
