"""Triggers: when a schedule fires. Pure functions of their arguments: no clock, no I/O.

Kinds (DESIGN.md, "trigger"; the Jelastic scheduler's `trigger_type:value`):

- ``cron``: 5 fields ``minute hour day-of-month month day-of-week`` (Unix: day-of-week 0-7, 0 and 7 are
  Sunday, both day fields restricted means either matches), or the Quartz/Jelastic form with ``second``
  first and an optional ``year`` last (``0 0/5 * * * ?``, ``0 0 12 ? * MON-FRI *``). The Quartz form
  follows Quartz: day-of-week numbers run 1 (SUN) to 7 (SAT), ``?`` means "no specific value", and at
  most one of day-of-month and day-of-week may be restricted. Names (MON, JAN), ranges, lists, steps,
  ``L``, ``W`` and ``#`` work as croniter reads them; the ``@daily``-style aliases are 5-field cron.
  Evaluated on the wall clock of ``timezone`` (IANA name).
- ``rate``: every N seconds, anchored on the creation instant: fires at ``created_at + k*N`` for k >= 1.
- ``date``: once at an ISO-8601 instant; one written without an offset (or a bare date, read as its
  midnight) is read in ``timezone``.
- ``oninit``: at every service start; the scheduler fires it, so it has no instants here.
- ``once_delay``: once, N seconds after creation.

Every instant is counted in a sequence that starts with ``first_fire(trigger, created_at)`` and strictly
increases; ``next_fire(trigger, after, created_at)`` is the first instant of that sequence strictly after
``after`` (None when there is none), and ``upcoming`` lists the next few. Missed fires are not replayed
here: asking from "now" skips them; whether to run one late is the scheduler's decision.

Daylight-saving time (cron only; a cron expression describes wall-clock times):

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
- A ``date`` written without an offset is read in ``timezone`` by the same two rules.

(croniter's own time-zone support is not used: given an aware start it fires a daily 02:30 twice on a
fall-back day. Here croniter only iterates naive wall-clock times, which this module maps to instants.)
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from itertools import islice
from typing import Any, Final, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadDateError, croniter

from conveyor.core.errors import InvalidTrigger

__all__ = [
    "TRIGGER_KINDS",
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

_EXAMPLES: Final[dict[str, str]] = {
    "cron": "'*/5 * * * *' (minute hour day-of-month month day-of-week) or Quartz '0 0/5 * * * ?'",
    "rate": "'30s', '5m', '2h', '1d', '1500ms', '30' (seconds) or 'PT5M'",
    "date": "'2026-12-01T10:00:00Z' or '2026-12-01T11:00:00+01:00'",
    "once_delay": "'10s', '1000ms', '10' (seconds) or 'PT10S'",
}
_US_PER_S: Final = 1_000_000
MIN_RATE_SECONDS: Final = 1
MAX_DURATION_SECONDS: Final = 3650 * 86400  # ten years: beyond that a date trigger says it better
_MAX_YEARS: Final = 130  # croniter's years run 1970-2099; look that far for the next match


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
        return self.kind in ("date", "once_delay")

    def describe(self) -> str:
        """A short human phrase: "cron '*/5 * * * *' (Europe/Berlin)", "every 30 s", ..."""
        if self.kind == "cron":
            return f"cron '{self.value}' ({self.timezone})"
        if self.kind == "rate":
            return f"every {_human_duration(_duration_us(self))}"
        if self.kind == "date":
            return f"once at {self.value}"
        if self.kind == "once_delay":
            return f"once, {_human_duration(_duration_us(self))} after creation"
        return "at every service start"

    def to_text(self) -> str:
        """The Jelastic form "kind:value" (durations in seconds; `parse_trigger_text` reads it back)."""
        return f"{self.kind}:{self.value}"


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
    if k not in TRIGGER_KINDS:
        raise _invalid(f"unknown trigger kind {kind!r}; use one of: {', '.join(TRIGGER_KINDS)}", kind, value)
    zone = _timezone_name(timezone, k, value)
    if k == "oninit":
        if value is None or (isinstance(value, str) and not value.strip()):
            return Trigger("oninit", "")
        raise _invalid(f"an oninit trigger takes no value (got {value!r}); write it as 'oninit'", k, value)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _invalid(f"a {k} trigger needs a value, e.g. {_EXAMPLES[k]}", k, value)
    if k == "cron":
        if not isinstance(value, str):
            raise _invalid(
                f"a cron trigger needs an expression string, not {value!r}; e.g. {_EXAMPLES['cron']}",
                k,
                value,
            )
        text = " ".join(value.split())
        _compile_cron(text)
        return Trigger("cron", text, zone)
    if k == "date":
        return Trigger("date", _iso_utc(_parse_date(value, zone)))
    if k == "rate":
        return Trigger("rate", _seconds_text(_parse_duration("rate", value)))
    return Trigger("once_delay", _seconds_text(_parse_duration("once_delay", value)))


def parse_trigger_text(text: str, *, timezone: str | None = None) -> Trigger:
    """Read the "kind:value" form: "cron:0 0/5 * * * ?", "rate:30s", "date:2026-12-01T10:00:00Z",
    "once_delay:1000ms", "oninit" (or "oninit:"). Numbers without a unit are seconds."""
    if not isinstance(text, str) or not text.strip():
        raise _invalid(
            f"empty trigger {text!r}; write it as 'kind:value', e.g. 'cron:*/5 * * * *', 'rate:30s', "
            "'date:2026-12-01T10:00:00Z', 'once_delay:10s' or 'oninit'",
            None,
            text,
        )
    kind, sep, value = text.strip().partition(":")
    if not sep and kind.strip().lower() != "oninit":
        raise _invalid(
            f"trigger {text!r} has no kind; write it as 'kind:value', e.g. 'cron:*/5 * * * *', "
            "'rate:30s', 'date:2026-12-01T10:00:00Z', 'once_delay:10s' or 'oninit'",
            None,
            text,
        )
    return parse_trigger(kind, value.strip() if sep else None, timezone=timezone)


def _invalid(message: str, kind: object, value: object, **extra: object) -> InvalidTrigger:
    return InvalidTrigger(message, {"kind": _jsonable(kind), "value": _jsonable(value), **extra})


def _jsonable(v: object) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return repr(v)


# --- time zones ----------------------------------------------------------------------------------


def _timezone_name(tz: str | None, kind: object, value: object) -> str:
    if tz is None or (isinstance(tz, str) and not tz.strip()):
        return "UTC"
    if not isinstance(tz, str):
        raise _invalid(f"time zone must be an IANA name such as 'Europe/Berlin', not {tz!r}", kind, value)
    name = tz.strip()
    if name.upper() in ("UTC", "Z"):
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise _invalid(
            f"unknown time zone {tz!r}: use an IANA name such as 'Europe/Berlin', 'America/New_York' "
            f"or 'UTC'{hint}",
            kind,
            value,
            timezone=tz,
        ) from None
    return name


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _invalid(f"unknown time zone {name!r}", "cron", None, timezone=name) from None


def _offset_at(ts: int, tz: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(ts, UTC).astimezone(tz).utcoffset()


def _transition(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The instant in (before, after] where tz's offset changes to the one it has at `after`."""
    lo, hi = math.floor(before.timestamp()), math.ceil(after.timestamp())
    target = _offset_at(hi, tz)
    while hi - lo > 1:  # zone transitions fall on whole seconds
        mid = (lo + hi) // 2
        if _offset_at(mid, tz) == target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _resolve_wall(wall: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """The UTC instant of a naive wall-clock time in tz, plus, when the time falls in a gap, the first
    wall-clock time after the gap. A repeated time resolves to its first occurrence; a skipped one to
    the instant the gap ends."""
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant, None
    # fold=0 reads a skipped time with the offset from before the gap (an instant after the gap);
    # fold=1 with the offset from after it (an instant before the gap). The gap ends in between.
    before = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    end = _transition(before, instant, tz)
    return end, end.astimezone(tz).replace(tzinfo=None)


# --- cron ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cron:
    expr: str  # as croniter reads it (Quartz day-of-week numbers translated)
    seconds_first: bool


_ALIASES: Final = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
_DOW_NAMES: Final = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_HASHED = re.compile(r"^[hr](?:$|[(/])", re.IGNORECASE)
_CRON_HOWTO: Final = (
    "write 5 fields 'minute hour day-of-month month day-of-week' (e.g. '*/5 * * * *') or the Quartz "
    "form 'second minute hour day-of-month month day-of-week [year]' (e.g. '0 0/5 * * * ?')"
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1024)
def _compile_cron(text: str) -> _Cron:
    def bad(message: str) -> InvalidTrigger:
        return _invalid(message, "cron", text)

    if text.startswith("@"):
        if text.lower() == "@reboot":
            raise bad("cron '@reboot' is not supported; use the oninit trigger to run at service start")
        if text.lower() not in _ALIASES:
            raise bad(
                f"unknown cron alias {text!r}; use one of {', '.join(sorted(_ALIASES))} or {_CRON_HOWTO}"
            )
        return _check_cron(text, _Cron(text.lower(), False))
    fields = text.split(" ")
    if len(fields) not in (5, 6, 7):
        raise bad(f"cron expression {text!r} has {len(fields)} field(s); {_CRON_HOWTO}")
    for f in fields:
        if any(_HASHED.match(item) for item in f.split(",")):
            raise bad(
                f"cron expression {text!r}: hashed/random values (H, R) are not supported; "
                "write explicit values"
            )
    if len(fields) == 5:
        return _check_cron(text, _Cron(text, False))
    dom, dow = fields[3], fields[5]
    if dom not in ("*", "?") and dow not in ("*", "?"):
        raise bad(
            f"cron expression {text!r} restricts both day-of-month ({dom}) and day-of-week ({dow}); "
            "in the Quartz form (seconds first) put '?' in one of them, e.g. '0 0 12 ? * MON' or "
            "'0 0 12 1 * ?'"
        )
    fields[5] = _quartz_dow(dow, text)
    return _check_cron(text, _Cron(" ".join(fields), True))


def _quartz_day(token: str, text: str) -> str:
    if token.isdigit():
        n = int(token)
        if not 1 <= n <= 7:
            raise _invalid(
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


def _cron_iter(cron: _Cron, start_wall: datetime) -> Any:
    # croniter runs on a UTC-labelled copy of the wall clock: UTC has no DST, so it only does calendar
    # arithmetic; _resolve_wall maps its answers to instants.
    return croniter(
        cron.expr,
        start_wall.replace(tzinfo=UTC),
        ret_type=datetime,
        second_at_beginning=cron.seconds_first,
        max_years_between_matches=_MAX_YEARS,
    )


def _check_cron(text: str, cron: _Cron) -> _Cron:
    try:
        _cron_iter(cron, _EPOCH.replace(tzinfo=None)).get_next(datetime)
    except CroniterBadDateError:
        raise _invalid(
            f"cron expression {text!r} never matches a date (e.g. 30 February, or a year outside "
            "1970-2099); check the day-of-month, month, day-of-week and year fields",
            "cron",
            text,
        ) from None
    except Exception as exc:  # croniter raises several types for bad syntax
        raise _invalid(f"invalid cron expression {text!r} ({exc}); {_CRON_HOWTO}", "cron", text) from None
    return cron


def _cron_fires(trigger: Trigger, after: datetime) -> Iterator[datetime]:
    """Cron fire instants strictly after `after` (UTC), strictly increasing, by the module's DST rules."""
    cron = _compile_cron(trigger.value)
    tz = _zone(trigger.timezone)
    local = after.astimezone(tz)
    wall = local.replace(tzinfo=None)
    offset, first_offset = local.utcoffset(), local.replace(fold=0).utcoffset()
    if local.fold == 1 and offset is not None and first_offset is not None and first_offset > offset:
        # `after` is in the second pass of a repeated hour, whose wall times all fired on the first
        # pass: start where the repetition ends.
        back = first_offset - offset
        end = _transition(after - back, after, tz)
        wall = (end.astimezone(tz) + back).replace(tzinfo=None) - timedelta(microseconds=1)
    it = _cron_iter(cron, wall)
    last = after
    while True:
        try:
            w = it.get_next(datetime).replace(tzinfo=None)
        except CroniterBadDateError:  # no later match (year field exhausted, or past 2099)
            return
        instant, gap_end = _resolve_wall(w, tz)
        if instant > last:
            last = instant
            yield instant
        if gap_end is not None:  # every other time in this gap resolves to the same instant
            it = _cron_iter(cron, gap_end)


# --- durations and dates -------------------------------------------------------------------------

_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(("ms", "msec", "msecs", "millisecond", "milliseconds"), 1_000),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _US_PER_S),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60 * _US_PER_S),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600 * _US_PER_S),
    **dict.fromkeys(("d", "day", "days"), 86400 * _US_PER_S),
    **dict.fromkeys(("w", "week", "weeks"), 7 * 86400 * _US_PER_S),
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
    "W": 7 * 86400 * _US_PER_S,
    "D": 86400 * _US_PER_S,
    "H": 3600 * _US_PER_S,
    "MI": 60 * _US_PER_S,
    "S": _US_PER_S,
}


def _parse_duration(kind: str, value: str | int | float) -> int:
    """Microseconds from a number of seconds, "30s", "5m", "1h30m", "1500ms" or ISO-8601 "PT5M"."""

    def bad(why: str, example: bool = True) -> InvalidTrigger:
        howto = f"; write e.g. {_EXAMPLES[kind]}" if example else ""
        return _invalid(f"{kind} {value!r} {why}{howto}", kind, value)

    negative = "must be positive" if kind == "rate" else "must not be negative"
    if isinstance(value, bool):
        raise bad("is not a duration")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise bad("is not a finite number")
        if value < 0:
            raise bad(negative)
        total = Decimal(repr(value)) * _US_PER_S
    elif isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("-"):
            raise bad(negative)
        if _PLAIN.match(text):
            total = Decimal(text) * _US_PER_S
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
    if total > MAX_DURATION_SECONDS * _US_PER_S:
        raise bad(f"is too long (at most {MAX_DURATION_SECONDS // 86400} days)")
    us = int(total.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if kind == "rate" and us < MIN_RATE_SECONDS * _US_PER_S:
        raise bad("must be positive" if us <= 0 else f"is too short: a rate is at least {MIN_RATE_SECONDS} s")
    return us


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


def _duration_us(trigger: Trigger) -> int:
    return _parse_duration(trigger.kind, trigger.value)


def _seconds_text(us: int) -> str:
    if us % _US_PER_S == 0:
        return str(us // _US_PER_S)
    return format((Decimal(us) / _US_PER_S).normalize(), "f")


def _human_duration(us: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if us and us % (size * _US_PER_S) == 0:
            return f"{us // (size * _US_PER_S)} {unit}"
    return f"{_seconds_text(us)} s"


def _parse_date(value: str | int | float, zone: str) -> datetime:
    howto = f"write an ISO-8601 date-time, e.g. {_EXAMPLES['date']} (without an offset it is read in {zone})"
    if not isinstance(value, str):
        raise _invalid(f"date {value!r} is not a date-time; {howto}", "date", value)
    text = value.strip()
    if text[-1:] == "z":
        text = text[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(f"date {value!r} is not an ISO-8601 date-time; {howto}", "date", value) from None
    try:
        if parsed.tzinfo is None:
            return _resolve_wall(parsed, ZoneInfo(zone))[0]
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _invalid(f"date {value!r} is out of range; {howto}", "date", value) from None


def _iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- firing --------------------------------------------------------------------------------------


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def first_fire(trigger: Trigger, created_at: datetime) -> datetime | None:
    """The first instant the trigger fires for a schedule created at `created_at` (None for oninit,
    which the scheduler fires at start-up, and for a cron with no match left). A date's instant is
    returned even when it is in the past."""
    created = _utc(created_at, "created_at")
    if trigger.kind == "cron":
        return next(_cron_fires(trigger, created), None)
    if trigger.kind == "rate":
        return _add(created, _duration_us(trigger))
    if trigger.kind == "date":
        return _date_value(trigger)
    if trigger.kind == "once_delay":
        return _add(created, _duration_us(trigger))
    return None


def next_fire(trigger: Trigger, after: datetime, created_at: datetime) -> datetime | None:
    """The first fire strictly after `after`, of the sequence that starts with `first_fire(trigger,
    created_at)`; None when there is none (one-shots already past, oninit)."""
    fires = upcoming(trigger, after, created_at, count=1)
    return fires[0] if fires else None


def upcoming(trigger: Trigger, after: datetime, created_at: datetime, count: int = 3) -> list[datetime]:
    """The next `count` fires strictly after `after` (fewer when the trigger runs out; [] for oninit)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    after = _utc(after, "after")
    created = _utc(created_at, "created_at")
    if count == 0:
        return []
    if trigger.kind == "cron":
        return list(islice(_cron_fires(trigger, max(after, created)), count))
    if trigger.kind == "rate":
        step = _duration_us(trigger)
        elapsed = (after - created) // timedelta(microseconds=1)
        k = max(1, elapsed // step + 1)  # missed fires are skipped by arithmetic, not replayed
        fires = (_add(created, (k + i) * step) for i in range(count))
        return [f for f in fires if f is not None]
    if trigger.kind in ("date", "once_delay"):
        only = first_fire(trigger, created)
        return [only] if only is not None and only > after else []
    return []


def _add(moment: datetime, us: int) -> datetime | None:
    try:
        return moment + timedelta(microseconds=us)
    except OverflowError:
        return None


def _date_value(trigger: Trigger) -> datetime:
    return _parse_date(trigger.value, "UTC")
