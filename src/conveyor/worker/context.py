"""`ctx`: what a running workflow sees of Conveyor.

A handler reports progress and messages, saves `ctx.state`, and calls
`ctx.checkpoint()` where it is safe to stop. Cancel and pause requests take
effect at checkpoints: the checkpoint raises, the handler unwinds, and the
worker records the outcome. The same Context works inline (a thread in the
worker) and in a child process; only its Channel differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

T = TypeVar("T")


class StopRequested(BaseException):
    """Raised by `checkpoint()` to unwind the handler. BaseException so `except Exception` keeps it going."""


class CancelRequested(StopRequested):
    pass


class PauseRequested(StopRequested):
    pass


class Channel(Protocol):
    """Where a context's reports go, and where it learns of requests."""

    def report_progress(self, finished: int | None, total: int | None) -> None: ...
    def report_message(self, text: str, level: str, kind: str) -> None: ...
    def save_state(self, state: dict[str, Any]) -> None: ...
    def requested(self) -> str | None:
        """'cancel', 'pause' or None: what the outside world asks of this execution now."""
        ...


@dataclass(frozen=True, slots=True)
class ExecutionFacts:
    """The read-only facts a handler may want, picklable for a child process."""

    execution_id: str
    workflow: str
    attempt: int
    max_attempts: int
    target: str | None
    dry_run: bool
    parameters: dict[str, Any]
    state: dict[str, Any] | None


class _Fact(Generic[T]):
    """A read-only attribute of the Context: the execution's fact of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, ctx: None, owner: type) -> _Fact[T]: ...
    @overload
    def __get__(self, ctx: Context, owner: type) -> T: ...
    def __get__(self, ctx: Context | None, owner: type) -> _Fact[T] | T:
        if ctx is None:
            return self
        value: T = getattr(ctx._facts, self.name)
        return value

    def __set__(self, ctx: Context, value: T) -> None:
        raise AttributeError(f"ctx.{self.name} is read-only")


class Context:
    execution_id: _Fact[str] = _Fact()
    workflow: _Fact[str] = _Fact()
    attempt: _Fact[int] = _Fact()
    max_attempts: _Fact[int] = _Fact()
    target: _Fact[str | None] = _Fact()
    #: True when the caller asked for a dry run: do no real work, say what you would do.
    dry_run: _Fact[bool] = _Fact()

    def __init__(self, facts: ExecutionFacts, channel: Channel) -> None:
        self._facts = facts
        self._channel = channel
        #: Free-form, JSON-serializable memory that survives pause/resume and retries.
        self.state: dict[str, Any] = dict(facts.state or {})
        self.finished_operations: int | None = None
        self.total_operations: int | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._facts.parameters)

    @property
    def cancelled(self) -> bool:
        """True once someone asked to cancel; a handler may poll it instead of calling checkpoint()."""
        return self._channel.requested() == "cancel"

    def progress(self, finished: int, total: int | None = None) -> None:
        """Report `finished` of `total` operations done (feeds progress bars)."""
        self.finished_operations = int(finished)
        if total is not None:
            self.total_operations = int(total)
        self._channel.report_progress(self.finished_operations, self.total_operations)

    def message(self, text: str, *, level: str = "info") -> None:
        """A line for people: shown in `conveyor logs` and the execution's events."""
        self._channel.report_message(str(text), level, "message")

    def log(self, text: str, *, level: str = "info") -> None:
        """A log line: recorded as an event of kind 'log'."""
        self._channel.report_message(str(text), level, "log")

    def checkpoint(self, state: dict[str, Any] | None = None) -> None:
        """A safe place to stop. Saves `state` (or ctx.state), then honours cancel or pause."""
        if state is not None:
            self.state = dict(state)
        request = self._channel.requested()
        if request == "cancel":
            raise CancelRequested()
        if request == "pause":
            self._channel.save_state(self.state)
            raise PauseRequested()
        if state is not None:
            self._channel.save_state(self.state)
