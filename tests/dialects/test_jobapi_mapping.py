"""The job API's status mapping and its way through the state machine (pure: no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conveyor.core import states
from conveyor.core.errors import IllegalTransition
from conveyor.core.model import Execution, Status
from conveyor.dialects import jobapi
from conveyor.dialects.jobapi import JOB_STATUS_BY_STATUS, JOB_STATUSES, job_status, steps

S = Status
NOW = datetime(2026, 1, 1, tzinfo=UTC)

EXPECTED = {
    S.CREATED: "idle",
    S.SCHEDULED: "idle",
    S.PAUSED: "idle",
    S.QUEUED: "pending",
    S.PENDING: "pending",
    S.RUNNING: "running",
    S.PAUSING: "running",
    S.CANCELLING: "running",
    S.FORCE_CANCELLING: "running",
    S.KILL_CANCELLING: "running",
    S.SUCCEEDED: "finished",
    S.FAILED: "error",
    S.CANCELLED: "error",
}


def test_the_table_covers_every_canonical_status() -> None:
    assert set(JOB_STATUS_BY_STATUS) == set(Status)
    assert set(JOB_STATUS_BY_STATUS.values()) == set(JOB_STATUSES)
    assert list(JOB_STATUSES) == jobapi.JOB_SCHEMA["status"]["options"]


@pytest.mark.parametrize("status", list(Status))
def test_each_canonical_status_maps(status: Status) -> None:
    assert job_status(status) == EXPECTED[status]
    assert job_status(str(status)) == EXPECTED[status]


def _reach(start: Status, state: str) -> Status:
    ex = Execution(id="e1", workflow="w", status=start, created_at=NOW, attempt=1)
    for to in steps(start, state):
        ex = states.transition(ex, states.Report(NOW, to))
    return ex.status


#: (from, to job status) pairs the state machine refuses; every other pair reaches its job status.
REFUSED = {
    # only an admitted (pending) job can start running
    *(
        (s, "running")
        for s in Status
        if s not in (S.PENDING, *(x for x, j in EXPECTED.items() if j == "running"))
    ),
    # pausing needs a job that has not started (or is pausing already)
    *((s, "idle") for s in (S.RUNNING, S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING)),
    *((s, "idle") for s in (S.SUCCEEDED, S.FAILED, S.CANCELLED)),
    # finishing needs a run
    *((s, "finished") for s in (S.CREATED, S.SCHEDULED, S.QUEUED, S.PAUSED, S.FORCE_CANCELLING)),
    *((s, "finished") for s in (S.KILL_CANCELLING, S.FAILED, S.CANCELLED)),
    (S.SUCCEEDED, "error"),
    # a job being stopped cannot be requeued until it has stopped
    *((s, "pending") for s in (S.CANCELLING, S.FORCE_CANCELLING, S.KILL_CANCELLING)),
}


@pytest.mark.parametrize("state", JOB_STATUSES)
@pytest.mark.parametrize("start", list(Status))
def test_setting_a_job_status_goes_along_edges_of_the_state_machine(start: Status, state: str) -> None:
    if (start, state) in REFUSED:
        with pytest.raises(IllegalTransition):
            _reach(start, state)
    else:
        assert job_status(_reach(start, state)) == state


def test_a_job_already_in_the_state_reports_nothing() -> None:
    for status, state in EXPECTED.items():
        assert steps(status, state) == ()


def test_helpers() -> None:
    assert jobapi._parameters('{"a": 1}') == {"a": 1}
    assert jobapi._parameters({"a": 1}) == {"a": 1}
    assert jobapi._parameters("") == {} and jobapi._parameters(None) == {}
    for bad in ("[1]", "text", 3):
        with pytest.raises(ValueError, match="workflow's parameters"):
            jobapi._parameters(bad)
    assert jobapi._text(None) == "" and jobapi._text("x") == "x" and jobapi._text({"a": 1}) == '{"a": 1}'
