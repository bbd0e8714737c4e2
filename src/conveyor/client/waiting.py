"""The parts of `wait()` that do not depend on sync or async: deadlines and outcomes."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from conveyor.client.errors import ExecutionCancelled, ExecutionFailed
from conveyor.client.models import ExecutionData
from conveyor.core.model import Status

T = TypeVar("T")
#: `on_update` of `wait()`: called with each polled state; the async client also takes coroutine functions.
Hook = Callable[[T], None]
AsyncHook = Callable[[T], Awaitable[None] | None]

#: How many times in a row the events stream may drop before the client gives up on it.
MAX_RECONNECTS = 5


class Deadline:
    """Time left before `timeout` seconds pass, on the monotonic clock so wall-clock jumps do not matter."""

    def __init__(self, timeout: float | None) -> None:
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be zero or more seconds (or None to wait forever)")
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    @property
    def expired(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end

    def pause(self, poll_interval: float) -> float:
        """How long to sleep before the next poll: the interval, cut short by the deadline."""
        if self._end is None:
            return poll_interval
        return max(0.0, min(poll_interval, self._end - time.monotonic()))


def check_poll_interval(poll_interval: float) -> None:
    if poll_interval <= 0:
        raise ValueError("poll_interval must be a positive number of seconds")


def raise_outcome(execution: ExecutionData) -> None:
    """Raise ExecutionFailed / ExecutionCancelled for those terminal statuses; succeed silently."""
    status = execution.raw.get("status")
    if status == Status.FAILED:
        raise ExecutionFailed(execution)
    if status == Status.CANCELLED:
        raise ExecutionCancelled(execution)


def reconnect_delay(failures: int) -> float:
    """Back off between reconnects of the events stream: 0.2 s, 0.4 s, ... up to 2 s."""
    return float(min(0.2 * 2 ** max(0, failures - 1), 2.0))


def notify(hook: Hook[T] | None, value: T) -> None:
    if hook is not None:
        hook(value)


async def anotify(hook: AsyncHook[T] | None, value: T) -> None:
    if hook is not None:
        maybe = hook(value)
        if maybe is not None:
            await maybe
