"""The package surface (core/triggers/__init__.py): upcoming, the text form, datetimes in and out, and
invalid input of every kind."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta, timezone

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

from .support import T0, Z, cron

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
    assert cron("* * * * *", None).timezone == "UTC"
    for blank in ("", "  "):  # an empty template variable, not a wish for UTC
        with pytest.raises(InvalidTrigger, match="blank"):
            cron("* * * * *", blank)
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
