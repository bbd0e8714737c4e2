"""The date kind (core/triggers/dates.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conveyor.core.triggers import (
    Trigger,
    first_fire,
    next_fire,
    parse_trigger,
    upcoming,
)

from .support import T0, Z


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
