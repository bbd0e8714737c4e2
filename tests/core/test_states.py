"""The state machine, checked against a table written from DESIGN.md, not from states.py.

Every (status, event) pair is tried. The table says what each one must do:
move to a status, leave the execution unchanged (asking again for something
already under way), or refuse with IllegalTransition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conveyor.core import states
from conveyor.core.errors import ConveyorError, IllegalTransition
from conveyor.core.model import ErrorInfo, Execution, Status

S = Status
ALL = list(Status)
TERMINAL = {S.SUCCEEDED, S.FAILED, S.CANCELLED}
HELD = {S.RUNNING, S.PAUSING, S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING}
CANCELLINGS = {S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING}

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATED = NOW - timedelta(hours=1)
LEASE = NOW + timedelta(seconds=30)
RETENTION = 600.0
BACKOFF = 10.0
BOOM = ErrorInfo("ValueError", "boom", "Traceback ...")


def make(status: Status, *, attempt: int = 1, max_attempts: int = 3, **changes: Any) -> Execution:
    """An execution as it would look in `status`, with the fields that status implies."""
    fields: dict[str, Any] = {
        "id": "ex-1",
        "workflow": "backup",
        "status": status,
        "created_at": CREATED,
        "target": "db1",
        "attempt": attempt,
        "max_attempts": max_attempts,
        "retry_backoff": BACKOFF,
        "retention": RETENTION,
    }
    if status in HELD:
        fields.update(worker_id="w1", lease_expires_at=LEASE, started_at=CREATED)
    if status in TERMINAL:
        fields.update(ended_at=CREATED, expires_at=CREATED + timedelta(seconds=RETENTION))
    if status is S.FAILED:
        fields["error"] = BOOM
    if status is S.SUCCEEDED:
        fields["result"] = {"ok": True}
    if status is S.SCHEDULED:
        fields["scheduled_for"] = NOW + timedelta(hours=1)
    fields.update(changes)
    return Execution(**fields)


# --- the graph of DESIGN.md ------------------------------------------------------
# Every status and the statuses that may follow it, read off the diagram and the rules under it.
# fmt: off
GRAPH: dict[Status, set[Status]] = {
    # start: scheduled when due later, straight to queued/pending when due now;
    # pausing or cancelling a waiting execution acts at once.
    S.CREATED: {S.SCHEDULED, S.QUEUED, S.PENDING, S.PAUSED, S.CANCELLED},
    # due: to the queue, or admitted at once
    S.SCHEDULED: {S.QUEUED, S.PENDING, S.PAUSED, S.CANCELLED},
    S.QUEUED: {S.PENDING, S.PAUSED, S.CANCELLED},
    # pending is not held by a worker yet: pause and cancel act at once
    S.PENDING: {S.RUNNING, S.PAUSED, S.CANCELLED},
    # ends; retry (scheduled); lease lost (queued); pause; the three cancels; force cancels now
    S.RUNNING: {
        S.SUCCEEDED, S.FAILED, S.SCHEDULED, S.QUEUED, S.PAUSING,
        S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING, S.CANCELLED,
    },
    # still running until its next checkpoint: may end, fail, retry, lose its worker or be cancelled
    S.PAUSING: {
        S.PAUSED, S.SUCCEEDED, S.FAILED, S.SCHEDULED, S.QUEUED,
        S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING, S.CANCELLED,
    },
    S.PAUSED: {S.QUEUED, S.CANCELLED},
    # a plain cancel may be overtaken by the workflow ending, or escalated to force/kill
    S.CANCELLING: {S.CANCELLED, S.SUCCEEDED, S.FAILED, S.FORCE_CANCELLING, S.KILL_CANCELLING},
    S.FORCE_CANCELLING: {S.CANCELLED},
    S.KILL_CANCELLING: {S.CANCELLED},
    # resume (failed, cancelled) and requeue (any terminal)
    S.SUCCEEDED: {S.QUEUED},
    S.FAILED: {S.QUEUED},
    S.CANCELLED: {S.QUEUED},
}
# fmt: on


def test_the_graph_in_the_code_is_the_graph_of_the_design() -> None:
    drawn = {(a, b) for a, nexts in GRAPH.items() for b in nexts}
    assert set(GRAPH) == set(Status)
    assert drawn - states.EDGES == set(), "edges of DESIGN.md the code does not allow"
    assert states.EDGES - drawn == set(), "edges the code allows that DESIGN.md does not draw"


def test_terminal_statuses_only_lead_back_to_the_queue() -> None:
    for status in TERMINAL:
        assert {b for a, b in states.EDGES if a is status} == {S.QUEUED}


# --- events, and what each must do in each status ---------------------------------

SAME = "same"  # the execution comes back unchanged (the very same object)

EVENTS: dict[str, Callable[[], states.Event]] = {
    "schedule": lambda: states.Defer(NOW + timedelta(hours=2)),
    "enqueue": states.Enqueue,
    "admit": states.Admit,
    "claim": lambda: states.Claim("w2", NOW, LEASE),
    "succeed": lambda: states.Succeed(NOW, {"rows": 3}),
    "fail": lambda: states.Fail(NOW, BOOM),
    "fail_not_retryable": lambda: states.Fail(NOW, BOOM, retryable=False),
    "cancel": lambda: states.RequestCancel(NOW, "cancel"),
    "force_cancel": lambda: states.RequestCancel(NOW, "force"),
    "kill": lambda: states.RequestCancel(NOW, "kill"),
    "confirm_cancelled": lambda: states.ConfirmCancelled(NOW),
    "pause": lambda: states.RequestPause(NOW),
    "confirm_paused": lambda: states.ConfirmPaused(NOW, {"step": 4}),
    "resume": lambda: states.Resume(NOW),
    "resume_force": lambda: states.Resume(NOW, force=True),
    "requeue": lambda: states.Requeue(NOW),
    "lease_expired": lambda: states.LeaseExpired(NOW),
    "release": lambda: states.Release(NOW),
}

WAITING_OR_PENDING = {S.CREATED, S.SCHEDULED, S.QUEUED, S.PAUSED, S.PENDING}

# fmt: off
#: With attempts left (attempt 1 of 3). Statuses not listed must be refused.
EXPECT: dict[str, dict[Status, Status | str]] = {
    "schedule": {S.CREATED: S.SCHEDULED},
    "enqueue": {S.CREATED: S.QUEUED, S.SCHEDULED: S.QUEUED},
    "admit": {S.CREATED: S.PENDING, S.SCHEDULED: S.PENDING, S.QUEUED: S.PENDING},
    "claim": {S.PENDING: S.RUNNING},
    "succeed": {S.RUNNING: S.SUCCEEDED, S.PAUSING: S.SUCCEEDED, S.CANCELLING: S.SUCCEEDED},
    # attempts left: retry later; a cancel request is never retried
    "fail": {S.RUNNING: S.SCHEDULED, S.PAUSING: S.SCHEDULED, S.CANCELLING: S.FAILED},
    "fail_not_retryable": {S.RUNNING: S.FAILED, S.PAUSING: S.FAILED, S.CANCELLING: S.FAILED},
    "cancel": {
        **dict.fromkeys(WAITING_OR_PENDING, S.CANCELLED),
        S.RUNNING: S.CANCELLING, S.PAUSING: S.CANCELLING,
        S.CANCELLING: SAME, S.KILL_CANCELLING: SAME, S.FORCE_CANCELLING: S.CANCELLED,
    },
    "force_cancel": dict.fromkeys(WAITING_OR_PENDING | HELD, S.CANCELLED),
    "kill": {
        **dict.fromkeys(WAITING_OR_PENDING, S.CANCELLED),
        S.RUNNING: S.KILL_CANCELLING, S.PAUSING: S.KILL_CANCELLING, S.CANCELLING: S.KILL_CANCELLING,
        S.KILL_CANCELLING: SAME, S.FORCE_CANCELLING: S.CANCELLED,
    },
    "confirm_cancelled": dict.fromkeys(HELD, S.CANCELLED),
    "pause": {
        S.CREATED: S.PAUSED, S.SCHEDULED: S.PAUSED, S.QUEUED: S.PAUSED, S.PENDING: S.PAUSED,
        S.RUNNING: S.PAUSING, S.PAUSING: SAME, S.PAUSED: SAME,
    },
    "confirm_paused": {S.PAUSING: S.PAUSED},
    "resume": {S.PAUSED: S.QUEUED, S.FAILED: S.QUEUED, S.CANCELLED: S.QUEUED},
    "resume_force": {S.PAUSED: S.QUEUED, S.FAILED: S.QUEUED, S.CANCELLED: S.QUEUED},
    "requeue": dict.fromkeys(TERMINAL, S.QUEUED),
    # the worker died: another attempt, paused (it was pausing) or cancelled (it was cancelling)
    "lease_expired": {S.RUNNING: S.QUEUED, S.PAUSING: S.PAUSED, **dict.fromkeys(CANCELLINGS, S.CANCELLED)},
    # claimed ahead, never started, handed back by a stopping worker
    "release": {S.RUNNING: S.QUEUED, S.PAUSING: S.PAUSED, **dict.fromkeys(CANCELLINGS, S.CANCELLED)},
}
# fmt: on

#: The same events on the last attempt (attempt 3 of 3), where they differ.
EXPECT_LAST_ATTEMPT: dict[str, dict[Status, Status | str]] = {
    **EXPECT,
    "fail": {S.RUNNING: S.FAILED, S.PAUSING: S.FAILED, S.CANCELLING: S.FAILED},
    "lease_expired": {S.RUNNING: S.FAILED, S.PAUSING: S.PAUSED, **dict.fromkeys(CANCELLINGS, S.CANCELLED)},
}


def _cases(table: dict[str, dict[Status, Status | str]]) -> list[Any]:
    return [
        pytest.param(name, status, table[name].get(status), id=f"{name}-{status}")
        for name in EVENTS
        for status in ALL
    ]


def _check(ex: Execution, event: states.Event, expected: Status | str | None) -> Execution | None:
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            states.transition(ex, event)
        err = info.value
        assert isinstance(err, ConveyorError)
        assert err.code == "illegal_transition"
        assert err.message.startswith("cannot ")
        assert f"execution {ex.id} while it is {ex.status.value}" in err.message
        assert err.details == {
            "execution_id": ex.id,
            "status": ex.status.value,
            "action": type(event).__name__,
        }
        return None
    out = states.transition(ex, event)
    if expected == SAME:
        assert out is ex
        return out
    assert out.status is expected
    assert (ex.status, out.status) in states.EDGES
    # identity and creation facts never change
    assert (out.id, out.workflow, out.created_at, out.target) == (
        ex.id,
        ex.workflow,
        ex.created_at,
        ex.target,
    )
    return out


def test_the_tables_cover_every_event() -> None:
    assert set(EXPECT) == set(EVENTS) == set(EXPECT_LAST_ATTEMPT)


@pytest.mark.parametrize(("name", "status", "expected"), _cases(EXPECT))
def test_every_event_in_every_status_with_attempts_left(name: str, status: Status, expected: Any) -> None:
    _check(make(status, attempt=1, max_attempts=3), EVENTS[name](), expected)


@pytest.mark.parametrize(("name", "status", "expected"), _cases(EXPECT_LAST_ATTEMPT))
def test_every_event_in_every_status_on_the_last_attempt(name: str, status: Status, expected: Any) -> None:
    _check(make(status, attempt=3, max_attempts=3), EVENTS[name](), expected)


# --- Report: an external worker may move along any edge, and only along edges --------


@pytest.mark.parametrize("to", ALL, ids=str)
@pytest.mark.parametrize("status", ALL, ids=str)
def test_report_moves_along_every_edge_of_the_graph_and_no_other(status: Status, to: Status) -> None:
    ex = make(status)
    event = states.Report(NOW, to, error=BOOM if to is S.FAILED else None, result={"r": 1})
    if to is status:
        expected: Status | str | None = SAME
    elif to in GRAPH[status]:
        expected = to
    else:
        expected = None
    out = _check(ex, event, expected)
    if out is None or out is ex:
        return
    if to in TERMINAL:
        assert out.ended_at == NOW
        assert out.expires_at == NOW + timedelta(seconds=RETENTION)
        assert (out.worker_id, out.lease_expires_at) == (None, None)
    if to is S.SUCCEEDED:
        assert out.result == {"r": 1}
    if to is S.FAILED:
        assert out.error == BOOM
    if to is S.RUNNING:
        assert out.started_at == NOW
        assert out.attempt == ex.attempt + 1
    if to is S.QUEUED:
        assert (out.ended_at, out.expires_at, out.worker_id, out.lease_expires_at) == (None,) * 4
    if to is S.SCHEDULED:
        # must come due some day, or nothing would ever promote it
        assert out.scheduled_for is not None
        assert (out.worker_id, out.lease_expires_at) == (None, None)


def test_report_failed_without_an_error_still_records_why() -> None:
    out = states.transition(make(S.RUNNING), states.Report(NOW, S.FAILED))
    assert out.error is not None
    assert out.error.type == "Error"


def test_report_scheduled_from_a_running_attempt_is_a_retry_after_the_backoff() -> None:
    out = states.transition(make(S.RUNNING, attempt=2), states.Report(NOW, S.SCHEDULED))
    assert out.status is S.SCHEDULED
    assert out.scheduled_for == NOW + timedelta(seconds=BACKOFF * 2)


# --- what each allowed transition changes ------------------------------------------


def test_schedule_records_when_it_is_due() -> None:
    at = NOW + timedelta(hours=2)
    out = states.transition(make(S.CREATED, attempt=0), states.Defer(at))
    assert out.scheduled_for == at


def test_claim_starts_the_next_attempt_under_a_lease() -> None:
    ex = make(S.PENDING, attempt=1)
    out = states.transition(ex, states.Claim("w2", NOW, LEASE))
    assert out.status is S.RUNNING
    assert out.attempt == 2
    assert (out.worker_id, out.lease_expires_at, out.started_at) == ("w2", LEASE, NOW)


@pytest.mark.parametrize("retention", [RETENTION, None])
@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.RUNNING, states.Succeed(NOW, 1)),
        (S.RUNNING, states.Fail(NOW, BOOM, retryable=False)),
        (S.RUNNING, states.RequestCancel(NOW, "force")),
        (S.QUEUED, states.RequestCancel(NOW, "cancel")),
        (S.KILL_CANCELLING, states.ConfirmCancelled(NOW)),
        (S.CANCELLING, states.LeaseExpired(NOW)),
    ],
    ids=["succeed", "fail", "force", "cancel-waiting", "confirm-cancelled", "lease-cancelling"],
)
def test_ending_sets_ended_at_and_expiry_from_retention_and_drops_the_lease(
    status: Status, event: states.Event, retention: float | None
) -> None:
    out = states.transition(make(status, retention=retention), event)
    assert out.status in TERMINAL
    assert out.ended_at == NOW
    assert out.expires_at == (NOW + timedelta(seconds=retention) if retention is not None else None)
    assert (out.worker_id, out.lease_expires_at) == (None, None)


def test_succeed_keeps_the_result_and_clears_an_earlier_error() -> None:
    out = states.transition(make(S.RUNNING, error=BOOM), states.Succeed(NOW, {"rows": 3}))
    assert out.result == {"rows": 3}
    assert out.error is None


@pytest.mark.parametrize(("attempt", "delay"), [(1, BACKOFF), (2, 2 * BACKOFF), (3, 4 * BACKOFF)])
def test_fail_with_attempts_left_retries_after_exponential_backoff(attempt: int, delay: float) -> None:
    out = states.transition(make(S.RUNNING, attempt=attempt, max_attempts=4), states.Fail(NOW, BOOM))
    assert out.status is S.SCHEDULED
    assert out.scheduled_for == NOW + timedelta(seconds=delay)
    assert out.error == BOOM
    assert (out.worker_id, out.lease_expires_at, out.ended_at, out.expires_at) == (None,) * 4
    assert out.attempt == attempt  # the next claim counts the next attempt


def test_fail_when_attempts_are_used_up_is_final() -> None:
    out = states.transition(make(S.RUNNING, attempt=4, max_attempts=4), states.Fail(NOW, BOOM))
    assert out.status is S.FAILED
    assert out.error == BOOM
    assert out.ended_at == NOW


def test_a_released_execution_goes_back_as_if_never_claimed() -> None:
    out = states.transition(make(S.RUNNING, attempt=2, max_attempts=2), states.Release(NOW))
    assert out.status is S.QUEUED
    assert (out.attempt, out.worker_id, out.lease_expires_at, out.started_at) == (1, None, None, None)


def test_lease_expiry_with_attempts_left_goes_back_to_the_queue() -> None:
    out = states.transition(make(S.RUNNING, attempt=1, max_attempts=2), states.LeaseExpired(NOW))
    assert out.status is S.QUEUED
    assert (out.worker_id, out.lease_expires_at, out.ended_at) == (None, None, None)
    assert out.attempt == 1


def test_lease_expiry_on_the_last_attempt_fails_with_worker_lost() -> None:
    out = states.transition(make(S.RUNNING, attempt=2, max_attempts=2), states.LeaseExpired(NOW))
    assert out.status is S.FAILED
    assert out.error is not None
    assert out.error.type == "WorkerLost"
    assert "attempt 2" in out.error.message
    assert out.ended_at == NOW
    assert out.expires_at == NOW + timedelta(seconds=RETENTION)
    assert (out.worker_id, out.lease_expires_at) == (None, None)


def test_lease_expiry_while_pausing_pauses_and_keeps_the_saved_state() -> None:
    out = states.transition(make(S.PAUSING, state={"step": 2}), states.LeaseExpired(NOW))
    assert out.status is S.PAUSED
    assert out.state == {"step": 2}
    assert (out.worker_id, out.lease_expires_at, out.ended_at) == (None, None, None)


def test_confirm_paused_saves_the_checkpoint_state_and_releases_the_worker() -> None:
    out = states.transition(make(S.PAUSING, state={"step": 1}), states.ConfirmPaused(NOW, {"step": 4}))
    assert out.state == {"step": 4}
    assert (out.worker_id, out.lease_expires_at) == (None, None)
    kept = states.transition(make(S.PAUSING, state={"step": 1}), states.ConfirmPaused(NOW, None))
    assert kept.state == {"step": 1}


@pytest.mark.parametrize("status", [S.FAILED, S.CANCELLED, S.PAUSED])
def test_resume_clears_the_error_and_allows_one_more_attempt(status: Status) -> None:
    ex = make(status, attempt=3, max_attempts=3, error=BOOM, state={"step": 4})
    out = states.transition(ex, states.Resume(NOW))
    assert out.status is S.QUEUED
    assert out.error is None
    assert out.attempt == 3
    assert out.max_attempts == 4
    assert out.state == {"step": 4}  # resuming continues from the checkpoint
    assert (out.ended_at, out.expires_at, out.worker_id, out.lease_expires_at) == (None,) * 4


def test_resume_keeps_more_attempts_when_more_are_left() -> None:
    out = states.transition(make(S.PAUSED, attempt=1, max_attempts=5), states.Resume(NOW))
    assert out.max_attempts == 5


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_requeue_starts_over(status: Status) -> None:
    ex = make(
        status, attempt=2, error=BOOM, result={"x": 1}, state={"s": 1}, total_operations=10,
        finished_operations=4, started_at=CREATED,
    )  # fmt: skip
    out = states.transition(ex, states.Requeue(NOW))
    assert out.status is S.QUEUED
    assert (out.result, out.error, out.state, out.started_at) == (None, None, None, None)
    assert (out.total_operations, out.finished_operations) == (None, None)
    assert out.attempt == 0
    assert (out.ended_at, out.expires_at) == (None, None)


def test_cancelling_keeps_the_lease_so_the_worker_can_report_back() -> None:
    out = states.transition(make(S.RUNNING), states.RequestCancel(NOW, "cancel"))
    assert out.status is S.CANCELLING
    assert (out.worker_id, out.lease_expires_at, out.ended_at) == ("w1", LEASE, None)


def test_pause_of_a_running_execution_keeps_the_lease() -> None:
    out = states.transition(make(S.RUNNING), states.RequestPause(NOW))
    assert out.status is S.PAUSING
    assert (out.worker_id, out.lease_expires_at) == ("w1", LEASE)


def test_refusal_messages_read_as_sentences() -> None:
    with pytest.raises(IllegalTransition) as info:
        states.transition(make(S.SUCCEEDED), states.RequestPause(NOW))
    assert info.value.message == "cannot pause execution ex-1 while it is succeeded"
    with pytest.raises(IllegalTransition) as info:
        states.transition(make(S.CANCELLED), states.RequestCancel(NOW, "kill"))
    assert info.value.message == "cannot cancel execution ex-1 while it is cancelled"
    with pytest.raises(IllegalTransition) as info:
        states.transition(make(S.QUEUED), states.Resume(NOW))
    assert info.value.message == "cannot resume execution ex-1 while it is queued"
    with pytest.raises(IllegalTransition) as info:
        states.transition(make(S.SUCCEEDED), states.Report(NOW, S.RUNNING))
    assert info.value.message == "cannot set the status of execution ex-1 while it is succeeded"
    with pytest.raises(IllegalTransition) as info:
        states.transition(make(S.QUEUED), states.Defer(NOW))
    assert info.value.message == "cannot schedule execution ex-1 while it is queued"


def test_backoff_delay_doubles_per_attempt() -> None:
    assert [states.backoff_delay(make(S.RUNNING, attempt=a)) for a in (0, 1, 2, 3, 4)] == [10, 10, 20, 40, 80]
