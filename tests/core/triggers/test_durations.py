"""The rate and once_delay kinds (core/triggers/durations.py)."""

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

from .support import Z

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
