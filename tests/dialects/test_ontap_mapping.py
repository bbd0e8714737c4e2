"""Every canonical status reads as a valid ONTAP job, checked with the real library's schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from netapp_ontap.resources.job import Job

from conveyor.core.model import TERMINAL, ErrorInfo, Execution, Status
from conveyor.dialects.ontap import STATE_BY_STATUS, STATES
from conveyor.dialects.ontap.mapping import (
    CODE_BY_STATUS,
    RETENTION_SECONDS,
    job_record,
    message_of,
    state_of,
    statuses_of,
    timestamp,
    visible,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 654321, tzinfo=UTC)

EXPECTED = {
    Status.CREATED: "queued",
    Status.SCHEDULED: "queued",
    Status.QUEUED: "queued",
    Status.PENDING: "queued",
    Status.RUNNING: "running",
    Status.PAUSING: "running",
    Status.PAUSED: "paused",
    Status.CANCELLING: "running",
    Status.FORCE_CANCELLING: "running",
    Status.KILL_CANCELLING: "running",
    Status.SUCCEEDED: "success",
    Status.FAILED: "failure",
    Status.CANCELLED: "failure",
}


def execution(status: Status, **changes: object) -> Execution:
    ex = Execution(id="0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000", workflow="backup", status=status, created_at=T0)
    if status not in (Status.CREATED, Status.SCHEDULED, Status.QUEUED, Status.PENDING):
        ex = ex.evolve(started_at=T0 + timedelta(seconds=1))
    if status in TERMINAL:
        ex = ex.evolve(ended_at=T0 + timedelta(seconds=5))
    if status is Status.FAILED:
        ex = ex.evolve(error=ErrorInfo("ValueError", "disk full"))
    return ex.evolve(**changes)


def test_the_table_covers_every_status_with_only_ontap_states() -> None:
    assert set(STATE_BY_STATUS) == set(Status)
    assert (
        set(STATE_BY_STATUS.values()) == set(STATES) == {"queued", "running", "paused", "success", "failure"}
    )
    assert STATE_BY_STATUS == EXPECTED


@pytest.mark.parametrize("status", list(Status))
def test_each_status_is_a_job_the_library_accepts(status: Status) -> None:
    record = job_record(execution(status, target="svm1"))
    job = Job.from_dict(record)  # the library's own schema validation
    assert job.state == EXPECTED[status] == state_of(status)
    assert isinstance(record["code"], int) and job.code == CODE_BY_STATUS[status]
    assert (job.code != 0) == (status in (Status.FAILED, Status.CANCELLED))
    assert isinstance(job.message, str) and job.message
    assert job.description == "backup" and job.svm.name == "svm1"
    assert job.uuid == record["uuid"]
    assert record["_links"] == {"self": {"href": f"/api/cluster/jobs/{record['uuid']}"}}
    if job.state == "failure":
        assert job.error.code == str(job.code) and job.error.message == job.message
    else:
        assert "error" not in record
    assert ("end_time" in record) == (status in TERMINAL)


def test_statuses_of_reads_the_table_backwards() -> None:
    assert statuses_of({"running"}) == {
        Status.RUNNING, Status.PAUSING, Status.CANCELLING, Status.FORCE_CANCELLING, Status.KILL_CANCELLING,
    }  # fmt: skip
    assert statuses_of({"failure"}) == {Status.FAILED, Status.CANCELLED}
    assert statuses_of(set(STATES)) == set(Status)


def test_messages_say_what_is_going_on() -> None:
    assert message_of(execution(Status.SUCCEEDED)) == "Complete: Successful"
    assert message_of(execution(Status.FAILED)) == "ValueError: disk full"
    assert message_of(execution(Status.CANCELLED)) == "Cancelled"
    assert message_of(execution(Status.RUNNING, total_operations=8, finished_operations=3)) == (
        "Running: 3 of 8 done"
    )
    retry = execution(Status.SCHEDULED, attempt=1, max_attempts=3, error=ErrorInfo("IOError", "timeout"))
    assert message_of(retry) == "Queued: retrying after attempt 1 of 3 failed: IOError: timeout"
    later = execution(Status.SCHEDULED, scheduled_for=T0)
    assert message_of(later) == "Queued: scheduled for 2026-03-01T12:00:00+00:00"


def test_absent_values_are_left_out() -> None:
    record = job_record(execution(Status.QUEUED))
    assert set(record) == {"uuid", "description", "state", "message", "code", "_links"}


def test_times_are_utc_to_the_second() -> None:
    assert timestamp(T0) == "2026-03-01T12:00:00+00:00"
    assert timestamp(datetime(2026, 3, 1, 12, 0, 0)) == "2026-03-01T12:00:00+00:00"
    assert timestamp(None) is None


def test_a_job_is_visible_until_300_seconds_after_it_ended() -> None:
    done = execution(Status.SUCCEEDED)
    assert done.ended_at is not None
    assert RETENTION_SECONDS == 300
    assert visible(done, done.ended_at + timedelta(seconds=299.999))
    assert not visible(done, done.ended_at + timedelta(seconds=300))
    old_but_running = execution(Status.RUNNING)
    assert visible(old_but_running, T0 + timedelta(days=30))
