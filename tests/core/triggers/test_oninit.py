"""The oninit kind (core/triggers/oninit.py)."""

from __future__ import annotations

import pytest

from conveyor.core.triggers import (
    Trigger,
    first_fire,
    next_fire,
    parse_trigger,
    upcoming,
)

from .support import T0


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
