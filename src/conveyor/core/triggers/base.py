"""The interface every trigger kind implements, and the small helpers the kinds share.

A kind is a stateless strategy over the `Trigger` value: it normalizes a raw value when a trigger is
parsed, and answers `describe`, `first` and `after` for a normalized one. Everything is a pure function
of its arguments: no clock, no I/O. `KINDS` in the package maps each kind name to its implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from conveyor.core.errors import InvalidTrigger

if TYPE_CHECKING:
    from conveyor.core.triggers import Trigger

US_PER_S = 1_000_000


class Kind(ABC):
    """One trigger kind. ``after`` answers for the sequence of fires that starts with ``first``."""

    name: ClassVar[str]
    example: ClassVar[str] = ""  # how to write a value, for error messages
    takes_value: ClassVar[bool] = True
    one_shot: ClassVar[bool] = False

    @abstractmethod
    def normalize(self, value: str | int | float, zone: str) -> tuple[str, str]:
        """The stored ``(value, timezone)`` for a non-empty raw value read in the IANA zone `zone`;
        raise InvalidTrigger saying what is wrong and how to write it."""

    @abstractmethod
    def describe(self, trigger: Trigger) -> str:
        """A short human phrase: "cron '*/5 * * * *' (Europe/Berlin)", "every 30 s", ..."""

    @abstractmethod
    def first(self, trigger: Trigger, created: datetime) -> datetime | None:
        """The first fire of a schedule created at `created` (UTC); None when there is none."""

    @abstractmethod
    def after(self, trigger: Trigger, moment: datetime, created: datetime) -> datetime | None:
        """The first fire strictly after `moment` (UTC) of the sequence that starts with
        ``first(trigger, created)``; None when there is none."""


class OneShot(Kind):
    """A kind that fires once, at its first instant."""

    one_shot = True

    def after(self, trigger: Trigger, moment: datetime, created: datetime) -> datetime | None:
        only = self.first(trigger, created)
        return only if only is not None and only > moment else None


def invalid(message: str, kind: object, value: object, **extra: object) -> InvalidTrigger:
    return InvalidTrigger(message, {"kind": _jsonable(kind), "value": _jsonable(value), **extra})


def _jsonable(v: object) -> Any:
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return repr(v)


def utc(moment: datetime, name: str) -> datetime:
    """`moment` in UTC; refuse anything but an aware datetime, naming the argument."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def add(moment: datetime, us: int) -> datetime | None:
    """`moment` plus `us` microseconds; None past the end of the calendar."""
    try:
        return moment + timedelta(microseconds=us)
    except OverflowError:
        return None
