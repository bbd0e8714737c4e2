"""Triggers: when a schedule fires. Pure functions of their arguments: no clock, no I/O.

Kinds (DESIGN.md, "trigger"; the Jelastic scheduler's `trigger_type:value`), one module each behind the
`Kind` interface of `base.py`, looked up in `KINDS`:

- ``cron`` (`cron.py`): Unix 5-field or Quartz expressions, evaluated on the wall clock of ``timezone``
  (IANA name), with the DST rules written there.
- ``rate`` (`durations.py`): every N seconds, anchored on the creation instant: fires at
  ``created_at + k*N`` for k >= 1.
- ``date`` (`dates.py`): once at an ISO-8601 instant; one written without an offset (or a bare date,
  read as its midnight) is read in ``timezone``.
- ``oninit`` (`oninit.py`): at every service start; the scheduler fires it, so it has no instants here.
- ``once_delay`` (`durations.py`): once, N seconds after creation.

Every instant is counted in a sequence that starts with ``first_fire(trigger, created_at)`` and strictly
increases; ``next_fire(trigger, after, created_at)`` is the first instant of that sequence strictly after
``after`` (None when there is none), and ``upcoming`` lists the next few. Missed fires are not replayed
here: asking from "now" skips them; whether to run one late is the scheduler's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from conveyor.core.triggers.base import Kind, invalid, utc
from conveyor.core.triggers.cron import Cron
from conveyor.core.triggers.dates import Date
from conveyor.core.triggers.durations import MAX_DURATION_SECONDS, MIN_RATE_SECONDS, OnceDelay, Rate
from conveyor.core.triggers.oninit import OnInit
from conveyor.core.triggers.zones import timezone_name

__all__ = [
    "KINDS",
    "MAX_DURATION_SECONDS",
    "MIN_RATE_SECONDS",
    "TRIGGER_KINDS",
    "Kind",
    "Trigger",
    "TriggerKind",
    "first_fire",
    "next_fire",
    "parse_trigger",
    "parse_trigger_text",
    "upcoming",
]

TriggerKind = Literal["cron", "rate", "date", "oninit", "once_delay"]
TRIGGER_KINDS: Final[tuple[str, ...]] = get_args(TriggerKind)
KINDS: Final[dict[str, Kind]] = {k.name: k for k in (Cron(), Rate(), Date(), OnInit(), OnceDelay())}
assert tuple(KINDS) == TRIGGER_KINDS


@dataclass(frozen=True, slots=True)
class Trigger:
    """A normalized trigger; build one with `parse_trigger` or `parse_trigger_text`.

    ``value``: cron: the expression as written (whitespace collapsed, Quartz ``?`` kept); rate and
    once_delay: seconds as a decimal string ("30", "1.5"); date: ISO-8601 UTC ("2026-12-01T10:00:00Z");
    oninit: "". ``timezone`` is the IANA zone a cron expression is read in; "UTC" for the other kinds
    (a date's zone is folded into its UTC value).
    """

    kind: TriggerKind
    value: str
    timezone: str = "UTC"

    @property
    def one_shot(self) -> bool:
        """True when the trigger fires at most once (date, once_delay)."""
        return _kind(self).one_shot

    def describe(self) -> str:
        """A short human phrase: "cron '*/5 * * * *' (Europe/Berlin)", "every 30 s", ..."""
        return _kind(self).describe(self)

    def to_text(self) -> str:
        """The Jelastic form "kind:value" (durations in seconds; `parse_trigger_text` reads it back)."""
        return f"{self.kind}:{self.value}"


def _kind(trigger: Trigger) -> Kind:
    try:
        return KINDS[trigger.kind]
    except KeyError:  # a trigger built by hand is checked when used
        raise invalid(
            f"unknown trigger kind {trigger.kind!r}; use one of: {', '.join(TRIGGER_KINDS)}",
            trigger.kind,
            trigger.value,
        ) from None


# --- parsing -------------------------------------------------------------------------------------


def parse_trigger(
    kind: str, value: str | int | float | None = None, *, timezone: str | None = None
) -> Trigger:
    """Validate and normalize a trigger; raise InvalidTrigger saying what is wrong and how to fix it.

    Numbers are seconds for rate and once_delay (a dialect counting milliseconds converts first).
    ``timezone`` (IANA, default UTC) is the zone a cron expression, or a date without an offset, is
    read in.
    """
    k = kind.strip().lower() if isinstance(kind, str) else kind
    impl = KINDS.get(k) if isinstance(k, str) else None
    if impl is None:
        raise invalid(f"unknown trigger kind {kind!r}; use one of: {', '.join(TRIGGER_KINDS)}", kind, value)
    zone = timezone_name(timezone, k, value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if not impl.takes_value:
            return Trigger(impl.name, "")  # type: ignore[arg-type]  # KINDS' names are the TriggerKinds
        raise invalid(f"a {k} trigger needs a value, e.g. {impl.example}", k, value)
    normalized, stored_zone = impl.normalize(value, zone)
    return Trigger(impl.name, normalized, stored_zone)  # type: ignore[arg-type]


def parse_trigger_text(text: str, *, timezone: str | None = None) -> Trigger:
    """Read the "kind:value" form: "cron:0 0/5 * * * ?", "rate:30s", "date:2026-12-01T10:00:00Z",
    "once_delay:1000ms", "oninit" (or "oninit:"). Numbers without a unit are seconds."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(
            f"empty trigger {text!r}; write it as 'kind:value', e.g. 'cron:*/5 * * * *', 'rate:30s', "
            "'date:2026-12-01T10:00:00Z', 'once_delay:10s' or 'oninit'",
            None,
            text,
        )
    kind, sep, value = text.strip().partition(":")
    if not sep and kind.strip().lower() != "oninit":
        raise invalid(
            f"trigger {text!r} has no kind; write it as 'kind:value', e.g. 'cron:*/5 * * * *', "
            "'rate:30s', 'date:2026-12-01T10:00:00Z', 'once_delay:10s' or 'oninit'",
            None,
            text,
        )
    return parse_trigger(kind, value.strip() if sep else None, timezone=timezone)


# --- firing --------------------------------------------------------------------------------------


def first_fire(trigger: Trigger, created_at: datetime) -> datetime | None:
    """The first instant the trigger fires for a schedule created at `created_at` (None for oninit,
    which the scheduler fires at start-up, and for a cron with no match left). A date's instant is
    returned even when it is in the past."""
    return _kind(trigger).first(trigger, utc(created_at, "created_at"))


def next_fire(trigger: Trigger, after: datetime, created_at: datetime) -> datetime | None:
    """The first fire strictly after `after`, of the sequence that starts with `first_fire(trigger,
    created_at)`; None when there is none (one-shots already past, oninit)."""
    moment = utc(after, "after")
    return _kind(trigger).after(trigger, moment, utc(created_at, "created_at"))


def upcoming(trigger: Trigger, after: datetime, created_at: datetime, count: int = 3) -> list[datetime]:
    """The next `count` fires strictly after `after` (fewer when the trigger runs out; [] for oninit)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    moment = utc(after, "after")
    created = utc(created_at, "created_at")
    if count == 0:
        return []
    kind = _kind(trigger)
    fires: list[datetime] = []
    while len(fires) < count and (nxt := kind.after(trigger, moment, created)) is not None:
        fires.append(nxt)
        moment = nxt
    return fires
