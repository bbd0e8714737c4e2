"""The cron kind (core/triggers/cron.py): syntax, Quartz forms, time zones and DST; calendar facts in
support.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from conveyor.core.triggers import (
    Trigger,
    first_fire,
    next_fire,
    parse_trigger,
    upcoming,
)

from .support import T0, Z, cron, fires

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
