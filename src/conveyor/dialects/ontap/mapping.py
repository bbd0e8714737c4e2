"""How a Conveyor execution looks as an ONTAP job.

One table maps every canonical status to one of ONTAP's five job states; the
`netapp_ontap` library refuses any other word (even "cancelled"), so a cancelled
execution is a `failure` with its own non-zero `code`. Everything here is a pure
function of the execution (and, for retention, of the time), so the routes, the
query evaluator and the tests share it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conveyor.core.model import TERMINAL, Execution, Status

S = Status

#: ONTAP's job states, in the order its documentation lists them.
STATES = ("queued", "running", "paused", "success", "failure")

#: Every canonical status -> the ONTAP state shown for it (see DESIGN.md, "Execution states").
STATE_BY_STATUS: dict[Status, str] = {
    S.CREATED: "queued",
    S.SCHEDULED: "queued",  # due later, or waiting out a retry's backoff
    S.QUEUED: "queued",
    S.PENDING: "queued",  # admitted, not yet claimed by a worker
    S.RUNNING: "running",
    S.PAUSING: "running",  # runs until its next checkpoint
    S.PAUSED: "paused",
    S.CANCELLING: "running",  # runs until its next checkpoint
    S.FORCE_CANCELLING: "running",
    S.KILL_CANCELLING: "running",  # until its process is gone
    S.SUCCEEDED: "success",
    S.FAILED: "failure",
    S.CANCELLED: "failure",  # ONTAP: "after a cancel the job ends in success or failure"
}
_missing = set(Status) - set(STATE_BY_STATUS)
if _missing or not set(STATE_BY_STATUS.values()) <= set(STATES):  # pragma: no cover - a edit gone wrong
    raise RuntimeError(f"the ONTAP state table must cover every status; missing {sorted(_missing)}")

#: `code` of a job: 0 unless it ended in failure (ONTAP: "the final error code").
CODE_FAILED = 1
CODE_CANCELLED = 2
CODE_BY_STATUS: dict[Status, int] = {s: 0 for s in Status} | {
    S.FAILED: CODE_FAILED,
    S.CANCELLED: CODE_CANCELLED,
}

#: ONTAP deletes a job this many seconds after it ends; the dialect stops showing it then.
RETENTION_SECONDS = 300.0

JOBS_PATH = "/api/cluster/jobs"


def state_of(status: Status) -> str:
    return STATE_BY_STATUS[status]


def statuses_of(states: set[str]) -> set[Status]:
    """The canonical statuses shown as any of `states` (the table read backwards)."""
    return {status for status, state in STATE_BY_STATUS.items() if state in states}


def visible(ex: Execution, now: datetime) -> bool:
    """False once a job ended RETENTION_SECONDS ago or more: ONTAP has deleted it by then."""
    if ex.status not in TERMINAL or ex.ended_at is None:
        return True
    return ex.ended_at > hidden_before(now)


def hidden_before(now: datetime) -> datetime:
    """Jobs that ended at or before this instant are gone."""
    return now - timedelta(seconds=RETENTION_SECONDS)


def timestamp(when: datetime | None) -> str | None:
    """ISO 8601 to the second, in UTC, as ONTAP shows times."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


#: ONTAP's `message` of the statuses that need nothing but the status to say.
_MESSAGES = {
    S.CREATED: "Created",
    S.QUEUED: "Queued",
    S.PENDING: "Queued: waiting for a worker",
    S.PAUSING: "Pausing: the job stops at its next checkpoint",
    S.PAUSED: "Paused",
    S.CANCELLING: "Cancelling: the job stops at its next checkpoint",
    S.FORCE_CANCELLING: "Cancelling",
    S.KILL_CANCELLING: "Cancelling: stopping the job's process",
    S.SUCCEEDED: "Complete: Successful",
    S.CANCELLED: "Cancelled",
}


def message_of(ex: Execution) -> str:
    """ONTAP's `message`: a short sentence on the current state, present on every job."""
    status = ex.status
    if status is S.SCHEDULED:
        if ex.error is not None:
            return (
                f"Queued: retrying after attempt {ex.attempt} of {ex.max_attempts} failed: "
                f"{ex.error.type}: {ex.error.message}"
            )
        due = timestamp(ex.scheduled_for)
        return f"Queued: scheduled for {due}" if due else "Queued: scheduled"
    if status is S.RUNNING:
        if ex.total_operations:
            return f"Running: {ex.finished_operations or 0} of {ex.total_operations} done"
        return "Running"
    if status is S.FAILED:
        if ex.error is not None:
            return f"{ex.error.type}: {ex.error.message}" if ex.error.message else ex.error.type
        return "Failed"
    return _MESSAGES.get(status, "Cancelled")


def job_href(uuid: str) -> str:
    return f"{JOBS_PATH}/{uuid}"


def job_record(ex: Execution) -> dict[str, Any]:
    """Every field of the job; absent values are left out, as ONTAP does."""
    record: dict[str, Any] = {
        "uuid": ex.id,
        "description": ex.workflow,
        "state": state_of(ex.status),
        "message": message_of(ex),
        "code": CODE_BY_STATUS[ex.status],
    }
    start, end = timestamp(ex.started_at), timestamp(ex.ended_at)
    if start is not None:
        record["start_time"] = start
    if end is not None:
        record["end_time"] = end
    if ex.target is not None:
        record["svm"] = {"name": ex.target}
    if record["state"] == "failure":
        record["error"] = {"code": str(record["code"]), "message": record["message"]}
    record["_links"] = {"self": {"href": job_href(ex.id)}}
    return record
