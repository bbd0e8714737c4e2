"""ONTAP's error envelope and codes.

ONTAP answers every failure with `{"error": {"message", "code", "target"?}}` where
`code` is a *string* (the `netapp_ontap` library refuses an integer there). The
generic codes are the ones the ONTAP documentation lists; the 4587xx codes are the
ones `PATCH /cluster/jobs/{uuid}` documents. Core errors are translated here, so
the routes only raise.
"""

from __future__ import annotations

from typing import Any

from conveyor.core.errors import ConveyorError
from conveyor.core.model import Status
from conveyor.dialects.ontap.mapping import state_of

#: ONTAP's generic codes (docs: "Interpreting an API response").
BAD_VALUE = "2"  # 400: a value the server cannot use
UNSUPPORTED = "3"  # 400/405: an operation or a field this endpoint does not support
NOT_FOUND = "4"  # 404: "entry doesn't exist"
PERMISSION = "6"  # 401/403: authentication or authorization failed
CONFLICT = "8"  # 409: the object is in use
#: ONTAP's code for a query parameter the endpoint does not know ("Unexpected argument").
UNEXPECTED_ARGUMENT = "262179"
#: Job PATCH codes (docs: PATCH /cluster/jobs/{uuid}).
JOB_TERMINAL = "458762"  # Job is already in a terminal state.
JOB_RUNNING = "458771"  # The specified job is running.
JOB_NOT_RUNNING = "458776"  # The specified job is not currently running.


class OntapError(Exception):
    """A failure to answer in ONTAP's envelope with `status`."""

    def __init__(self, status: int, code: str, message: str, target: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def bad_value(message: str, target: str | None = None) -> OntapError:
    return OntapError(400, BAD_VALUE, message, target)


def unexpected_argument(name: str) -> OntapError:
    return OntapError(400, UNEXPECTED_ARGUMENT, f'Unexpected argument "{name}".', name)


def job_not_found(uuid: str) -> OntapError:
    return OntapError(
        404,
        NOT_FOUND,
        f'entry doesn\'t exist: no job "{uuid}" (jobs are deleted 300 seconds after they end)',
        "uuid",
    )


def action_refused(uuid: str, status: Status, action: str) -> OntapError:
    """Why `action` cannot apply to a job in canonical `status`, with ONTAP's job PATCH code."""
    state = state_of(status)
    if status.is_terminal:
        message = f"Job {uuid} is already in a terminal state ({state}); cannot {action} it."
        return OntapError(400, JOB_TERMINAL, message, "uuid")
    if action == "resume":
        return OntapError(
            400, JOB_RUNNING, f"Job {uuid} is {state}, not paused; only a paused job can be resumed.", "uuid"
        )
    return OntapError(
        400,
        JOB_NOT_RUNNING,
        f"Job {uuid} cannot be asked to {action} while it is {state} ({status}).",
        "uuid",
    )


def from_conveyor(exc: ConveyorError) -> OntapError:
    """A core error in ONTAP's words; the core's message is kept, it already says what to do."""
    details = exc.details
    if exc.code == "not_found" and details.get("kind") == "execution":
        return job_not_found(str(details.get("id", "")))
    if exc.code == "illegal_transition":
        try:
            status = Status(str(details.get("status")))
        except ValueError:
            status = None
        if status is not None:
            action = {"RequestCancel": "cancel", "RequestPause": "pause", "Resume": "resume"}.get(
                str(details.get("action")), str(details.get("action"))
            )
            return action_refused(str(details.get("execution_id", "")), status, action)
    # Known codes get ONTAP's; anything else is the server's fault and keeps its Conveyor code
    # (a string, as ONTAP's are).
    unavailable = exc.code in ("schema_out_of_date", "database_unavailable")
    status_code, code = _BY_CODE.get(exc.code, (503 if unavailable else 500, exc.code))
    target = details.get("field")
    return OntapError(status_code, code, exc.message, str(target) if target else None)


_BY_CODE: dict[str, tuple[int, str]] = {
    "invalid_request": (400, BAD_VALUE),
    "invalid_parameters": (400, BAD_VALUE),
    "not_found": (404, NOT_FOUND),
    "unknown_workflow": (404, NOT_FOUND),
    "unauthorized": (401, PERMISSION),
    "forbidden": (403, PERMISSION),
    "illegal_transition": (400, JOB_NOT_RUNNING),
    "conflict": (409, CONFLICT),
    "existing_running_execution": (409, CONFLICT),
}
