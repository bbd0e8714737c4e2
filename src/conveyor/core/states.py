"""The canonical state machine as one pure function.

Every writer (API, worker, background loop, dialects) turns what happened into
an event and asks `transition` for the next version of the execution. The store
then writes it with a compare-and-set on the old status, so the graph here is
the only place that decides what may follow what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conveyor.core.errors import IllegalTransition
from conveyor.core.model import HELD, TERMINAL, WAITING, ErrorInfo, Execution, Status

S = Status

#: Every edge of the graph in DESIGN.md. Events below only ever move along these.
EDGES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (S.CREATED, S.SCHEDULED), (S.CREATED, S.QUEUED), (S.CREATED, S.PENDING),
        (S.CREATED, S.PAUSED), (S.CREATED, S.CANCELLED),
        (S.SCHEDULED, S.QUEUED), (S.SCHEDULED, S.PENDING), (S.SCHEDULED, S.PAUSED),
        (S.SCHEDULED, S.CANCELLED),
        (S.QUEUED, S.PENDING), (S.QUEUED, S.PAUSED), (S.QUEUED, S.CANCELLED),
        (S.PENDING, S.RUNNING), (S.PENDING, S.PAUSED), (S.PENDING, S.CANCELLED),
        (S.RUNNING, S.SUCCEEDED), (S.RUNNING, S.FAILED), (S.RUNNING, S.SCHEDULED),
        (S.RUNNING, S.QUEUED), (S.RUNNING, S.PAUSING), (S.RUNNING, S.CANCELLING),
        (S.RUNNING, S.FORCE_CANCELLING), (S.RUNNING, S.KILL_CANCELLING), (S.RUNNING, S.CANCELLED),
        (S.PAUSING, S.PAUSED), (S.PAUSING, S.SUCCEEDED), (S.PAUSING, S.FAILED),
        (S.PAUSING, S.SCHEDULED), (S.PAUSING, S.QUEUED), (S.PAUSING, S.CANCELLING),
        (S.PAUSING, S.FORCE_CANCELLING), (S.PAUSING, S.KILL_CANCELLING), (S.PAUSING, S.CANCELLED),
        (S.PAUSED, S.QUEUED), (S.PAUSED, S.CANCELLED),
        (S.CANCELLING, S.CANCELLED), (S.CANCELLING, S.SUCCEEDED), (S.CANCELLING, S.FAILED),
        (S.CANCELLING, S.FORCE_CANCELLING), (S.CANCELLING, S.KILL_CANCELLING),
        (S.FORCE_CANCELLING, S.CANCELLED),
        (S.KILL_CANCELLING, S.CANCELLED),
        (S.SUCCEEDED, S.QUEUED), (S.FAILED, S.QUEUED), (S.CANCELLED, S.QUEUED),
    }
)  # fmt: skip

CANCELLING_STATES = frozenset({S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING})


# --- events -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Defer:
    """Start an execution that is due later."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Due now, but admission said wait."""


@dataclass(frozen=True, slots=True)
class Admit:
    """Admission let it through: a worker may claim it."""


@dataclass(frozen=True, slots=True)
class Claim:
    worker_id: str
    now: datetime
    lease_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Succeed:
    now: datetime
    result: Any = None


@dataclass(frozen=True, slots=True)
class Fail:
    """The handler raised, timed out or was refused; retried while attempts are left."""

    now: datetime
    error: ErrorInfo
    retryable: bool = True


@dataclass(frozen=True, slots=True)
class RequestCancel:
    now: datetime
    mode: str = "cancel"  # cancel | force | kill


@dataclass(frozen=True, slots=True)
class ConfirmCancelled:
    """The worker stopped the handler (checkpoint saw the request, or the process was killed)."""

    now: datetime


@dataclass(frozen=True, slots=True)
class RequestPause:
    now: datetime


@dataclass(frozen=True, slots=True)
class ConfirmPaused:
    now: datetime
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    now: datetime
    force: bool = False


@dataclass(frozen=True, slots=True)
class Requeue:
    now: datetime


@dataclass(frozen=True, slots=True)
class LeaseExpired:
    now: datetime


@dataclass(frozen=True, slots=True)
class Release:
    """A worker hands back an execution it claimed but never started (it is shutting down):
    back to the queue as if never claimed, its attempt not used."""

    now: datetime


@dataclass(frozen=True, slots=True)
class Report:
    """A status reported from outside (a non-Python worker): any edge of the graph."""

    now: datetime
    status: Status
    error: ErrorInfo | None = None
    result: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


Event = (
    Defer | Enqueue | Admit | Claim | Succeed | Fail | RequestCancel | ConfirmCancelled
    | RequestPause | ConfirmPaused | Resume | Requeue | LeaseExpired | Release | Report
)  # fmt: skip


# --- the function -----------------------------------------------------------


def backoff_delay(execution: Execution) -> float:
    """Exponential backoff: retry_backoff, 2x, 4x ... seconds after each failed attempt."""
    return float(execution.retry_backoff) * float(2 ** max(execution.attempt - 1, 0))


def _move(ex: Execution, to: Status, event: object, **changes: Any) -> Execution:
    if (ex.status, to) not in EDGES:
        raise IllegalTransition(ex.id, ex.status, type(event).__name__)
    return ex.evolve(status=to, **changes)


def _refuse(ex: Execution, event: object) -> Execution:
    raise IllegalTransition(ex.id, ex.status, type(event).__name__)


def _ended(ex: Execution, now: datetime) -> dict[str, Any]:
    expires = now + timedelta(seconds=ex.retention) if ex.retention is not None else None
    return {"ended_at": now, "worker_id": None, "lease_expires_at": None, "expires_at": expires}


def _back_to_queue(ex: Execution, event: object) -> Execution:
    return _move(ex, S.QUEUED, event, ended_at=None, expires_at=None, worker_id=None, lease_expires_at=None)


def transition(ex: Execution, event: Event) -> Execution:
    """Return the next version of `ex` after `event`, or raise IllegalTransition."""
    match event:
        case Defer(at=at):
            if ex.status is not S.CREATED:
                return _refuse(ex, event)
            return _move(ex, S.SCHEDULED, event, scheduled_for=at)
        case Enqueue():
            if ex.status not in (S.CREATED, S.SCHEDULED):
                return _refuse(ex, event)
            return _move(ex, S.QUEUED, event)
        case Admit():
            if ex.status not in (S.CREATED, S.SCHEDULED, S.QUEUED):
                return _refuse(ex, event)
            return _move(ex, S.PENDING, event)
        case Claim(worker_id=worker_id, now=now, lease_expires_at=lease):
            if ex.status is not S.PENDING:
                return _refuse(ex, event)
            return _move(
                ex, S.RUNNING, event,
                worker_id=worker_id, lease_expires_at=lease, started_at=now, attempt=ex.attempt + 1,
            )  # fmt: skip
        case Succeed(now=now, result=result):
            if ex.status not in (S.RUNNING, S.PAUSING, S.CANCELLING):
                return _refuse(ex, event)
            return _move(ex, S.SUCCEEDED, event, result=result, error=None, **_ended(ex, now))
        case Fail(now=now, error=error, retryable=retryable):
            if ex.status not in (S.RUNNING, S.PAUSING, S.CANCELLING):
                return _refuse(ex, event)
            if retryable and ex.status is not S.CANCELLING and ex.attempt < ex.max_attempts:
                at = now + timedelta(seconds=backoff_delay(ex))
                return _move(
                    ex, S.SCHEDULED, event,
                    scheduled_for=at, error=error, worker_id=None, lease_expires_at=None,
                )  # fmt: skip
            return _move(ex, S.FAILED, event, error=error, **_ended(ex, now))
        case RequestCancel(now=now, mode=mode):
            if ex.status in TERMINAL:
                return _refuse(ex, event)
            if ex.status in WAITING or ex.status is S.PENDING:
                return _move(ex, S.CANCELLED, event, **_ended(ex, now))
            if mode == "force" or ex.status is S.FORCE_CANCELLING:
                return _move(ex, S.CANCELLED, event, **_ended(ex, now))
            if mode == "kill":
                return ex if ex.status is S.KILL_CANCELLING else _move(ex, S.KILL_CANCELLING, event)
            if ex.status in CANCELLING_STATES:
                return ex  # already on its way out; asking again changes nothing
            return _move(ex, S.CANCELLING, event)
        case ConfirmCancelled(now=now):
            if ex.status not in HELD:
                return _refuse(ex, event)
            return _move(ex, S.CANCELLED, event, **_ended(ex, now))
        case RequestPause():
            if (ex.status in WAITING and ex.status is not S.PAUSED) or ex.status is S.PENDING:
                return _move(ex, S.PAUSED, event)
            if ex.status is S.RUNNING:
                return _move(ex, S.PAUSING, event)
            if ex.status in (S.PAUSING, S.PAUSED):
                return ex
            return _refuse(ex, event)
        case ConfirmPaused(state=state):
            if ex.status is not S.PAUSING:
                return _refuse(ex, event)
            return _move(
                ex, S.PAUSED, event,
                state=state if state is not None else ex.state, worker_id=None, lease_expires_at=None,
            )  # fmt: skip
        case Resume():
            if ex.status not in (S.PAUSED, S.FAILED, S.CANCELLED):
                return _refuse(ex, event)
            # A resumed execution gets one more attempt than it has used, so a failed
            # one is retried once however many attempts it had.
            attempts = max(ex.max_attempts, ex.attempt + 1)
            return _back_to_queue(ex, event).evolve(error=None, max_attempts=attempts)
        case Requeue():
            if ex.status not in TERMINAL:
                return _refuse(ex, event)
            return _back_to_queue(ex, event).evolve(
                error=None, result=None, attempt=0, state=None, started_at=None,
                total_operations=None, finished_operations=None,
            )  # fmt: skip
        case LeaseExpired(now=now):
            if ex.status not in HELD:
                return _refuse(ex, event)
            if ex.status in CANCELLING_STATES:
                return _move(ex, S.CANCELLED, event, **_ended(ex, now))
            if ex.status is S.PAUSING:
                return _move(ex, S.PAUSED, event, worker_id=None, lease_expires_at=None)
            if ex.attempt < ex.max_attempts:
                return _back_to_queue(ex, event)
            lost = ErrorInfo("WorkerLost", f"the worker running attempt {ex.attempt} stopped heartbeating")
            return _move(ex, S.FAILED, event, error=lost, **_ended(ex, now))
        case Release(now=now):
            if ex.status in CANCELLING_STATES:  # asked to stop meanwhile: it never ran, so it is done
                return _move(ex, S.CANCELLED, event, **_ended(ex, now))
            if ex.status is S.PAUSING:
                return _move(ex, S.PAUSED, event, worker_id=None, lease_expires_at=None)
            if ex.status is not S.RUNNING:
                return _refuse(ex, event)
            return _back_to_queue(ex, event).evolve(attempt=max(ex.attempt - 1, 0), started_at=None)
        case Report(now=now, status=to, error=error, result=result):
            return _report(ex, event, now, to, error, result)
    raise TypeError(f"unknown event {event!r}")  # pragma: no cover - the union is closed


def _report(
    ex: Execution, event: Report, now: datetime, to: Status, error: ErrorInfo | None, result: Any
) -> Execution:
    """External status updates: any edge of the graph, with the fields that edge implies."""
    if to is ex.status:
        return ex
    changes: dict[str, Any] = {}
    if to is S.RUNNING:
        changes.update(started_at=now, attempt=ex.attempt + 1)
    if to in TERMINAL:
        changes.update(_ended(ex, now))
    if to is S.SUCCEEDED:
        changes["result"] = result
    if to is S.FAILED:
        changes["error"] = error or ErrorInfo("Error", "reported failed")
    if to is S.QUEUED:
        changes.update(ended_at=None, expires_at=None, worker_id=None, lease_expires_at=None)
    if to is S.SCHEDULED:  # without a due time it would never be promoted; a retry waits out the backoff
        due = now + timedelta(seconds=backoff_delay(ex)) if ex.status in HELD else ex.scheduled_for or now
        changes.update(scheduled_for=due, worker_id=None, lease_expires_at=None)
    return _move(ex, to, event, **changes)
