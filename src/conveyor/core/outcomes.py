"""How a worker's run of an execution ended, as data.

A worker in this process, a worker on another machine talking HTTP, and a worker
written in another language all end a run the same way: succeeded with a result,
failed with an error (retryable or not), cancelled, or paused with the state to
resume from; with the last progress and state it reported. `Outcome.step` turns
that into the transition the store applies to the execution *as it is when the
write happens*: a handler that returns after a cancel request was made honoured
it, so "succeeded" then ends the execution cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from conveyor.core import states
from conveyor.core.model import ErrorInfo, Execution
from conveyor.core.ports import Step


class Ending(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"
    #: Claimed but never started (the worker is leaving): back to the queue, no attempt used.
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class Outcome:
    ending: Ending
    result: Any = None
    error: ErrorInfo | None = None
    #: A failure that is retried while attempts are left (a timeout is; bad input need not be).
    retryable: bool = True
    #: The handler's last checkpoint state, folded into the final write (resume starts from it).
    state: dict[str, Any] | None = None
    finished_operations: int | None = None
    total_operations: int | None = None

    @classmethod
    def failed(
        cls, error: ErrorInfo, *, retryable: bool = True, state: dict[str, Any] | None = None
    ) -> Outcome:
        return cls(Ending.FAILED, error=error, retryable=retryable, state=state)

    def step(self, now: datetime) -> Step:
        """The transition this outcome makes of the execution as it is when written."""

        def apply(ex: Execution) -> Execution:
            ex = self._fold(ex)
            match self.ending:
                case Ending.SUCCEEDED if ex.status in states.CANCELLING_STATES:
                    return states.transition(ex, states.ConfirmCancelled(now))
                case Ending.SUCCEEDED:
                    return states.transition(ex, states.Succeed(now, self.result))
                case Ending.FAILED:
                    error = self.error or ErrorInfo("Error", "the worker reported a failure")
                    return states.transition(ex, states.Fail(now, error, self.retryable))
                case Ending.CANCELLED:
                    return states.transition(ex, states.ConfirmCancelled(now))
                case Ending.PAUSED:
                    return states.transition(ex, states.ConfirmPaused(now, self.state))
                case Ending.RELEASED:
                    return states.transition(ex, states.Release(now))
            raise AssertionError(self.ending)  # pragma: no cover - the enum is closed

        return apply

    def _fold(self, ex: Execution) -> Execution:
        """The last progress and state the handler reported, kept with the final write."""
        if self.finished_operations is None and self.total_operations is None and not self.state:
            return ex  # the common case for short handlers
        return ex.evolve(
            finished_operations=self.finished_operations if self.finished_operations is not None
            else ex.finished_operations,
            total_operations=self.total_operations if self.total_operations is not None
            else ex.total_operations,
            state=self.state or ex.state,
        )  # fmt: skip
