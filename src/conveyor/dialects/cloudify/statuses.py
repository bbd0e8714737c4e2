"""Cloudify's words for Conveyor's statuses: the dialect's one mapping table.

Cloudify (cloudify-common 7.0.5, `cloudify.models_states.ExecutionState`) knows
ten execution statuses; Conveyor has thirteen canonical ones. `TO_CLOUDIFY`
names the Cloudify status every canonical status is shown as, and everything
else here is derived from it, so the mapping lives in one table:

| canonical          | Cloudify           | why                                                        |
|--------------------|--------------------|------------------------------------------------------------|
| `created`          | `pending`          | Cloudify stores a new execution as `pending` (V1 `post`)   |
| `scheduled`        | `scheduled`        |                                                            |
| `queued`           | `queued`           |                                                            |
| `pending`          | `pending`          | admitted, not yet taken by a worker                        |
| `running`          | `started`          |                                                            |
| `pausing`          | `cancelling`       | stops at its next checkpoint, then can be resumed (below)  |
| `paused`           | `cancelled`        | stopped and resumable: in Cloudify that is a cancelled one |
| `cancelling`       | `cancelling`       |                                                            |
| `force_cancelling` | `force_cancelling` |                                                            |
| `kill_cancelling`  | `kill_cancelling`  |                                                            |
| `succeeded`        | `terminated`       | `status_display` is `completed`                            |
| `failed`           | `failed`           |                                                            |
| `cancelled`        | `cancelled`        |                                                            |

Cloudify has no pause. A paused execution is shown as `cancelled` because
that is the Cloudify status with the same meaning for a Cloudify caller: it
is not running, it will not run again by itself, and `resume` (which Cloudify
accepts for `cancelled`) continues it; a Cloudify client waiting for an end
state stops waiting instead of hanging on a `queued` that never moves.
`pausing` follows as `cancelling` (asked to stop at the next checkpoint).
What differs from a real cancelled execution: `DELETE /executions` only
deletes executions that really ended, so a paused one is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from conveyor.core.model import Status

S = Status

TERMINATED = "terminated"
FAILED = "failed"
CANCELLED = "cancelled"
PENDING = "pending"
STARTED = "started"
CANCELLING = "cancelling"
FORCE_CANCELLING = "force_cancelling"
KILL_CANCELLING = "kill_cancelling"
QUEUED = "queued"
SCHEDULED = "scheduled"

#: Every Cloudify execution status (ExecutionState.STATES).
CLOUDIFY_STATUSES: tuple[str, ...] = (
    TERMINATED, FAILED, CANCELLED, PENDING, STARTED, CANCELLING, FORCE_CANCELLING, KILL_CANCELLING,
    QUEUED, SCHEDULED,
)  # fmt: skip
END_STATES = frozenset({TERMINATED, FAILED, CANCELLED})
WAITING_STATES = frozenset({SCHEDULED, QUEUED})
IN_PROGRESS_STATES = frozenset({PENDING, STARTED, CANCELLING, FORCE_CANCELLING, KILL_CANCELLING})

#: THE table: how each canonical status is shown (see the module docstring).
TO_CLOUDIFY: dict[Status, str] = {
    S.CREATED: PENDING,
    S.SCHEDULED: SCHEDULED,
    S.QUEUED: QUEUED,
    S.PENDING: PENDING,
    S.RUNNING: STARTED,
    S.PAUSING: CANCELLING,
    S.PAUSED: CANCELLED,
    S.CANCELLING: CANCELLING,
    S.FORCE_CANCELLING: FORCE_CANCELLING,
    S.KILL_CANCELLING: KILL_CANCELLING,
    S.SUCCEEDED: TERMINATED,
    S.FAILED: FAILED,
    S.CANCELLED: CANCELLED,
}

#: A Cloudify status written by a caller (PATCH `status`) as a canonical one: the status
#: whose own name it is, so that writing what you read back is a no-op.
FROM_CLOUDIFY: dict[str, Status] = {
    PENDING: S.PENDING,
    STARTED: S.RUNNING,
    TERMINATED: S.SUCCEEDED,
    FAILED: S.FAILED,
    CANCELLED: S.CANCELLED,
    CANCELLING: S.CANCELLING,
    FORCE_CANCELLING: S.FORCE_CANCELLING,
    KILL_CANCELLING: S.KILL_CANCELLING,
    QUEUED: S.QUEUED,
    SCHEDULED: S.SCHEDULED,
}

#: MOD `Execution.STATUS_DISPLAY_NAMES`: only `terminated` reads differently.
_DISPLAY = {TERMINATED: "completed"}


def to_cloudify(status: Status) -> str:
    return TO_CLOUDIFY[status]


def status_display(cloudify_status: str) -> str:
    return _DISPLAY.get(cloudify_status, cloudify_status)


def shown_as(cloudify_status: str) -> tuple[Status, ...]:
    """Every canonical status shown as `cloudify_status` (what a `status=` filter matches)."""
    return tuple(s for s in Status if TO_CLOUDIFY[s] == cloudify_status)


def matching(cloudify_statuses: Iterable[str]) -> tuple[Status, ...]:
    """The canonical statuses a list of Cloudify statuses (OR-ed) selects, in canonical order."""
    wanted = set(cloudify_statuses)
    return tuple(s for s in Status if TO_CLOUDIFY[s] in wanted)


# --- execution groups -------------------------------------------------------------

#: `core.groups.group_status` (the one definition of a group's status) in Cloudify's words.
#: Cloudify (MOD `ExecutionGroup`) ignores cancelled members once all have ended, so a group
#: that ended with some cancelled and none failed is `terminated`, as it is there.
GROUP_TO_CLOUDIFY: dict[str, str] = {
    "pending": QUEUED,  # nothing has started; `pending` when every member is pending (see below)
    "started": STARTED,
    "failed": FAILED,
    "cancelled": TERMINATED,
    "succeeded": TERMINATED,
}


def group_status(canonical_group_status: str, members: Iterable[Status]) -> str | None:
    """A group's Cloudify status: None without members (as Cloudify), else the table above.

    Cloudify says `pending` only when every member is pending and `queued` when they all
    wait; the core's `pending` covers both, so the members' statuses pick the word.
    """
    seen = list(members)
    if not seen:
        return None
    if canonical_group_status == "pending" and all(TO_CLOUDIFY[s] == PENDING for s in seen):
        return PENDING
    return GROUP_TO_CLOUDIFY[canonical_group_status]


# --- the manager's guard on PATCH /executions/<id> (RM `_validate_execution_update`) ----------

#: Updates refused from a cancelling status, whatever the workflow does next.
_REFUSED_FROM: dict[str, frozenset[str]] = {
    CANCELLING: frozenset({PENDING, STARTED, FORCE_CANCELLING, KILL_CANCELLING, TERMINATED}),
    FORCE_CANCELLING: frozenset(
        {PENDING, STARTED, FORCE_CANCELLING, KILL_CANCELLING, TERMINATED, CANCELLING}
    ),
}
#: The one workflow the manager lets update an ended execution.
SNAPSHOT_WORKFLOW = "create_snapshot"


def update_refused(current: str, new: str, workflow: str) -> bool:
    """Would the manager refuse a status update from `current` to `new` (both Cloudify statuses)?

    The same status is always allowed; an ended execution cannot change (but for
    `create_snapshot`); a cancelling one cannot go back to running or report success.
    Everything else is allowed here and then has to be a legal move of the core's graph.
    """
    if current == new:
        return False
    if current in END_STATES:
        return workflow != SNAPSHOT_WORKFLOW
    return new in _REFUSED_FROM.get(current, frozenset())
