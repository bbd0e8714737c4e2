"""The trigger kinds table (core/triggers/): one implementation per kind, behind one interface."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conveyor.core.errors import InvalidTrigger
from conveyor.core.triggers import KINDS, TRIGGER_KINDS, Kind, Trigger, next_fire, parse_trigger, upcoming

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_kind_has_one_implementation() -> None:
    assert tuple(KINDS) == TRIGGER_KINDS
    for name, kind in KINDS.items():
        assert isinstance(kind, Kind)
        assert kind.name == name


@pytest.mark.parametrize(
    "trigger",
    [
        parse_trigger("cron", "30 2 * * *", timezone="Europe/Berlin"),
        parse_trigger("cron", "0 0/20 * * * ?"),
        parse_trigger("rate", "90m"),
        parse_trigger("date", "2026-01-02T00:00:00Z"),
        parse_trigger("once_delay", "1h"),
        parse_trigger("oninit"),
    ],
)
def test_upcoming_is_next_fire_repeated(trigger: Trigger) -> None:
    fires, at = [], T0
    while len(fires) < 5 and (at := next_fire(trigger, at, T0)) is not None:
        fires.append(at)
    assert upcoming(trigger, T0, T0, count=5) == fires


def test_a_trigger_of_an_unknown_kind_is_refused_when_used() -> None:
    t = Trigger("weekly", "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidTrigger, match="unknown trigger kind 'weekly'"):
        t.describe()
    with pytest.raises(InvalidTrigger):
        upcoming(t, T0, T0)
