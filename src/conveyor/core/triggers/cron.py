"""The ``cron`` kind: wall-clock times matched by a cron expression, read in an IANA time zone.

Syntax: 5 fields ``minute hour day-of-month month day-of-week`` (Unix: day-of-week 0-7, 0 and 7 are
Sunday, both day fields restricted means either matches), or the Quartz/Jelastic form with ``second``
first and an optional ``year`` last (``0 0/5 * * * ?``, ``0 0 12 ? * MON-FRI *``). The Quartz form
follows Quartz: day-of-week numbers run 1 (SUN) to 7 (SAT), ``?`` means "no specific value", and at
most one of day-of-month and day-of-week may be restricted. Names (MON, JAN), ranges, lists, steps,
``L``, ``W`` and ``#`` work as croniter reads them; the ``@daily``-style aliases are 5-field cron.

Daylight-saving time (a cron expression describes wall-clock times):

- Every wall-clock time the expression matches fires exactly once.
- A wall-clock time that does not exist (skipped by a spring-forward gap) fires at the instant the gap
  ends, i.e. at the first wall-clock time after the gap. Several matches inside one gap collapse into
  that one fire, and a match exactly at the end of the gap is the same fire. So in Europe/Berlin on
  2026-03-29 (02:00 CET -> 03:00 CEST): daily ``30 2 * * *`` fires once at 03:00 CEST (01:00Z); hourly
  ``0 * * * *`` fires 01:00 CET (00:00Z), 03:00 CEST (01:00Z), 04:00 CEST (02:00Z): one fire per real
  hour; ``*/15 * * * *`` fires 01:45 CET (00:45Z), 03:00 CEST (01:00Z), 03:15 CEST (01:15Z): every
  15 real minutes.
- A wall-clock time that exists twice (the repeated hour of a fall-back) fires once, at its first
  occurrence; the second pass through the repeated hour fires nothing. So in Europe/Berlin on
  2026-10-25 (03:00 CEST -> 02:00 CET): daily ``30 2 * * *`` fires once at 02:30 CEST (00:30Z); hourly
  fires 02:00 CEST (00:00Z) then 03:00 CET (02:00Z), two real hours apart; ``*/15 * * * *`` fires
  02:45 CEST (00:45Z) then 03:00 CET (02:00Z), 75 real minutes apart.

(croniter's own time-zone support is not used: given an aware start it fires a daily 02:30 twice on a
fall-back day. Here croniter only iterates naive wall-clock times, which `zones.resolve_wall` maps to
instants.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from croniter import CroniterBadDateError, croniter

from conveyor.core.errors import InvalidTrigger
from conveyor.core.triggers.base import Kind, invalid
from conveyor.core.triggers.zones import resolve_wall, transition, zone

if TYPE_CHECKING:
    from conveyor.core.triggers import Trigger

_MAX_YEARS: Final = 130  # croniter's years run 1970-2099; look that far for the next match
_ALIASES: Final = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_DOW_NAMES: Final = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_HASHED = re.compile(r"^[hr](?:$|[(/])", re.IGNORECASE)
_HOWTO: Final = (
    "write 5 fields 'minute hour day-of-month month day-of-week' (e.g. '*/5 * * * *') or the Quartz "
    "form 'second minute hour day-of-month month day-of-week [year]' (e.g. '0 0/5 * * * ?')"
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Cron(Kind):
    name = "cron"
    example = "'*/5 * * * *' (minute hour day-of-month month day-of-week) or Quartz '0 0/5 * * * ?'"

    def normalize(self, value: str | int | float, zone: str) -> tuple[str, str]:
        if not isinstance(value, str):
            raise invalid(
                f"a cron trigger needs an expression string, not {value!r}; e.g. {self.example}",
                self.name,
                value,
            )
        text = " ".join(value.split())
        _compile(text)
        return text, zone

    def describe(self, trigger: Trigger) -> str:
        return f"cron '{trigger.value}' ({trigger.timezone})"

    def first(self, trigger: Trigger, created: datetime) -> datetime | None:
        return next(_fires(trigger, created), None)

    def after(self, trigger: Trigger, moment: datetime, created: datetime) -> datetime | None:
        return next(_fires(trigger, max(moment, created)), None)


@dataclass(frozen=True, slots=True)
class _Compiled:
    expr: str  # as croniter reads it (Quartz day-of-week numbers translated)
    seconds_first: bool


@lru_cache(maxsize=1024)
def _compile(text: str) -> _Compiled:
    def bad(message: str) -> InvalidTrigger:
        return invalid(message, "cron", text)

    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise bad("cron '@reboot' is not supported; use the oninit trigger to run at service start")
        if text.lower() not in _ALIASES:
            raise bad(f"unknown cron alias {text!r}; use one of {', '.join(sorted(_ALIASES))} or {_HOWTO}")
        return _check(text, _Compiled(text.lower(), False))
    fields = text.split(" ")
    if len(fields) not in (5, 6, 7):
        raise bad(f"cron expression {text!r} has {len(fields)} field(s); {_HOWTO}")
    for f in fields:
        if any(_HASHED.match(item) for item in f.split(",")):
            raise bad(
                f"cron expression {text!r}: hashed/random values (H, R) are not supported; "
                "write explicit values"
            )
    if len(fields) == 5:
        return _check(text, _Compiled(text, False))
    dom, dow = fields[3], fields[5]
    if dom not in ("*", "?") and dow not in ("*", "?"):
        raise bad(
            f"cron expression {text!r} restricts both day-of-month ({dom}) and day-of-week ({dow}); "
            "in the Quartz form (seconds first) put '?' in one of them, e.g. '0 0 12 ? * MON' or "
            "'0 0 12 1 * ?'"
        )
    fields[5] = _quartz_dow(dow, text)
    return _check(text, _Compiled(" ".join(fields), True))


def _quartz_day(token: str, text: str) -> str:
    if token.isdigit():
        n = int(token)
        if not 1 <= n <= 7:
            raise invalid(
                f"cron expression {text!r}: day-of-week {n} is out of range; in the Quartz form (seconds "
                "first) days are numbered 1 (SUN) to 7 (SAT), or use names SUN-SAT",
                "cron",
                text,
            )
        return str(n - 1)
    return token


def _quartz_dow(field: str, text: str) -> str:
    """Quartz day-of-week (1=SUN..7=SAT, 'nL' = last n-day of the month) in croniter's terms."""
    out = []
    for item in field.split(","):
        low = item.lower()
        if low in ("*", "?") or low.startswith("*/"):  # '*/n' picks the same days in both numberings
            out.append(item)
        elif "#" in low:
            day, _, nth = low.partition("#")
            out.append(f"{_quartz_day(day, text)}#{nth}")
        elif low == "l":  # 'L' alone: the last day of the week, Saturday
            out.append("6")
        elif low.endswith("l"):
            day = low[:-1]
            num = str(_DOW_NAMES[day]) if day in _DOW_NAMES else _quartz_day(day, text)
            out.append(f"L{num}")
        else:
            span, slash, step = low.partition("/")
            out.append("-".join(_quartz_day(d, text) for d in span.split("-")) + slash + step)
    return ",".join(out)


def _iter(cron: _Compiled, start_wall: datetime) -> Any:
    # croniter runs on a UTC-labelled copy of the wall clock: UTC has no DST, so it only does calendar
    # arithmetic; resolve_wall maps its answers to instants.
    return croniter(
        cron.expr,
        start_wall.replace(tzinfo=UTC),
        ret_type=datetime,
        second_at_beginning=cron.seconds_first,
        max_years_between_matches=_MAX_YEARS,
    )


def _check(text: str, cron: _Compiled) -> _Compiled:
    try:
        _iter(cron, _EPOCH.replace(tzinfo=None)).get_next(datetime)
    except CroniterBadDateError:
        raise invalid(
            f"cron expression {text!r} never matches a date (e.g. 30 February, or a year outside "
            "1970-2099); check the day-of-month, month, day-of-week and year fields",
            "cron",
            text,
        ) from None
    except Exception as exc:  # croniter raises several types for bad syntax
        raise invalid(f"invalid cron expression {text!r} ({exc}); {_HOWTO}", "cron", text) from None
    return cron


def _fires(trigger: Trigger, after: datetime) -> Iterator[datetime]:
    """Fire instants strictly after `after` (UTC), strictly increasing, by the module's DST rules."""
    cron = _compile(trigger.value)
    tz = zone(trigger.timezone, "cron")
    local = after.astimezone(tz)
    wall = local.replace(tzinfo=None)
    offset, first_offset = local.utcoffset(), local.replace(fold=0).utcoffset()
    if local.fold == 1 and offset is not None and first_offset is not None and first_offset > offset:
        # `after` is in the second pass of a repeated hour, whose wall times all fired on the first
        # pass: start where the repetition ends.
        back = first_offset - offset
        end = transition(after - back, after, tz)
        wall = (end.astimezone(tz) + back).replace(tzinfo=None) - timedelta(microseconds=1)
    it = _iter(cron, wall)
    last = after
    while True:
        try:
            w = it.get_next(datetime).replace(tzinfo=None)
        except CroniterBadDateError:  # no later match (year field exhausted, or past 2099)
            return
        instant, gap_end = resolve_wall(w, tz)
        if instant > last:
            last = instant
            yield instant
        if gap_end is not None:  # every other time in this gap resolves to the same instant
            it = _iter(cron, gap_end)
