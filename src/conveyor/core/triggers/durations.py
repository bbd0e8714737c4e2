"""The ``rate`` and ``once_delay`` kinds: a duration counted from the schedule's creation.

- ``rate``: every N seconds, anchored on the creation instant: fires at ``created_at + k*N`` for k >= 1.
- ``once_delay``: once, N seconds after creation.

A duration is a number of seconds (``30``, ``1.5``), units (``30s``, ``5m``, ``1h30m``, ``1500ms``) or
ISO-8601 (``PT5M``); it is stored as seconds in a decimal string ("30", "1.5"), counted in whole
microseconds.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Final

from conveyor.core.errors import InvalidTrigger
from conveyor.core.triggers.base import US_PER_S, Kind, OneShot, add, invalid

if TYPE_CHECKING:
    from conveyor.core.triggers import Trigger

MIN_RATE_SECONDS: Final = 1
MAX_DURATION_SECONDS: Final = 3650 * 86400  # ten years: beyond that a date trigger says it better

_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), 1_000),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), US_PER_S),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60 * US_PER_S),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600 * US_PER_S),
    **dict.fromkeys(("d", "day", "days"), 86400 * US_PER_S),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400 * US_PER_S),
}
_NUM = r"\d+(?:\.\d+)?"
_PLAIN = re.compile(rf"^{_NUM}$")
_PART = re.compile(rf"\s*({_NUM})\s*([a-z]+)\s*")
_PARTS = re.compile(rf"^(?:\s*{_NUM}\s*[a-z]+\s*)+$")
_ISO_NUM = r"\d+(?:[.,]\d+)?"
_ISO = re.compile(
    rf"^P(?:(?P<Y>{_ISO_NUM})Y)?(?:(?P<MO>{_ISO_NUM})M)?(?:(?P<W>{_ISO_NUM})W)?(?:(?P<D>{_ISO_NUM})D)?"
    rf"(?:T(?:(?P<H>{_ISO_NUM})H)?(?:(?P<MI>{_ISO_NUM})M)?(?:(?P<S>{_ISO_NUM})S)?)?$"
)
_ISO_US: Final[dict[str, int]] = {
    "W": 7 * 86400 * US_PER_S,
    "D": 86400 * US_PER_S,
    "H": 3600 * US_PER_S,
    "MI": 60 * US_PER_S,
    "S": US_PER_S,
}


class _Duration(Kind):
    """A kind whose value is a duration; `minimum_us` is the shortest one it takes."""

    negative: ClassVar[str]  # what a negative value is told
    minimum_us: ClassVar[int] = 0

    def normalize(self, value: str | int | float, zone: str) -> tuple[str, str]:
        return seconds_text(self.parse(value)), "UTC"

    def first(self, trigger: Trigger, created: datetime) -> datetime | None:
        return add(created, self.parse(trigger.value))

    def parse(self, value: str | int | float) -> int:
        """Microseconds from a number of seconds, "30s", "5m", "1h30m", "1500ms" or ISO-8601 "PT5M"."""

        def bad(why: str, example: bool = True) -> InvalidTrigger:
            howto = f"; write e.g. {self.example}" if example else ""
            return invalid(f"{self.name} {value!r} {why}{howto}", self.name, value)

        if isinstance(value, bool):
            raise bad("is not a duration")
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise bad("is not a finite number")
            if value < 0:
                raise bad(self.negative)
            total = Decimal(repr(value)) * US_PER_S
        elif isinstance(value, str):
            text = value.strip().lower()
            if text.startswith("-"):
                raise bad(self.negative)
            if _PLAIN.match(text):
                total = Decimal(text) * US_PER_S
            elif text.startswith("p"):
                total = _iso_duration(text.upper(), bad)
            elif _PARTS.match(text):
                total = Decimal(0)
                for number, unit in _PART.findall(text):
                    if unit not in _UNITS:
                        raise bad(f"has an unknown unit {unit!r} (use ms, s, m/min, h, d or w)")
                    total += Decimal(number) * _UNITS[unit]
            else:
                raise bad("is not a duration")
        else:
            raise bad("is not a duration")
        if total > MAX_DURATION_SECONDS * US_PER_S:
            raise bad(f"is too long (at most {MAX_DURATION_SECONDS // 86400} days)")
        us = int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        if us < self.minimum_us:
            shortest = self.minimum_us // US_PER_S
            raise bad(
                "must be positive" if us <= 0 else f"is too short: a {self.name} is at least {shortest} s"
            )
        return us


class Rate(_Duration):
    name = "rate"
    example = "'30s', '5m', '2h', '1d', '1500ms', '30' (seconds) or 'PT5M'"
    negative = "must be positive"
    minimum_us = MIN_RATE_SECONDS * US_PER_S

    def describe(self, trigger: Trigger) -> str:
        return f"every {human_duration(self.parse(trigger.value))}"

    def after(self, trigger: Trigger, moment: datetime, created: datetime) -> datetime | None:
        step = self.parse(trigger.value)
        elapsed = (moment - created) // timedelta(microseconds=1)
        k = max(1, elapsed // step + 1)  # missed fires are skipped by arithmetic, not replayed
        return add(created, k * step)


class OnceDelay(_Duration, OneShot):
    name = "once_delay"
    example = "'10s', '1000ms', '10' (seconds) or 'PT10S'"
    negative = "must not be negative"

    def describe(self, trigger: Trigger) -> str:
        return f"once, {human_duration(self.parse(trigger.value))} after creation"


def _iso_duration(text: str, bad: Any) -> Decimal:
    m = _ISO.match(text)
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise bad("is not an ISO-8601 duration such as 'PT5M', 'PT1H30M' or 'P1D'")
    if m["Y"] is not None or m["MO"] is not None:
        raise bad("uses years or months, which have no fixed length; write days instead, e.g. 'P30D'", False)
    return sum(
        (Decimal(m[name].replace(",", ".")) * us for name, us in _ISO_US.items() if m[name] is not None),
        Decimal(0),
    )


def seconds_text(us: int) -> str:
    """Microseconds as seconds in a decimal string: "30", "1.5"."""
    if us % US_PER_S == 0:
        return str(us // US_PER_S)
    return format((Decimal(us) / US_PER_S).normalize(), "f")


def human_duration(us: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if us and us % (size * US_PER_S) == 0:
            return f"{us // (size * US_PER_S)} {unit}"
    return f"{seconds_text(us)} s"
