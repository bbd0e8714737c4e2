"""The plain job API: `createJob`, `getJob`, `setJobRunning`, ... over a Conveyor server.

The functions of the simple job API (`api.job`), with its names, signatures and job document,
backed by the Conveyor Python client; a job is an execution:

| job field  | Conveyor                                                                      |
|------------|-------------------------------------------------------------------------------|
| `id`       | the execution id (a UUIDv7 string)                                            |
| `name`     | the workflow                                                                  |
| `user`     | `created_by`: the name of the token the client uses ("anonymous" when open)   |
| `request`  | the parameters, as JSON text (the document's fields are strings)              |
| `result`   | the result: a string as it is, anything else as JSON text, "" while none      |
| `status`   | the canonical status through `JOB_STATUS_BY_STATUS`                           |
| `messages` | the execution's message events, one per line, then the error of a failed one  |

Single-job reads (`getJob`, `findJob`, `getJobResults`, the `set*` answers) fetch the message
events; lists (`getJobs`, `getPendingJobs`, ...) carry only the error text in `messages`, so a
list costs one request per page, not one per job.

Setting a status (`setJob`, `setJobPending`, `setJobRunning`, `setJobFinished`,
`updateJobResult`) reports it with the external-worker status update
(`client.executions.update_status`), so the server's state machine decides whether it may
happen: `STEPS` says which canonical statuses each job status is reached through. A refused
change raises the client's `IllegalTransitionError`; an unknown job raises `NotFoundError`
(except where the original API answers None: `getJob`, `findJob`, `getJobResults`,
`deleteJob`). `data` may carry `messages` (new text is added as a message event) and `result`
(recorded when the job becomes finished); `status` in it is ignored (the state argument
decides), and `id`, `name`, `user` and `request` cannot change (ValueError if they differ).

Use it with a module-level client (`configure(url, token)`, or the CONVEYOR_URL and
CONVEYOR_TOKEN environment variables by default), or bind one: `JobAPI(client)` has the same
functions as methods.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from typing import Any, Final

from conveyor.client import Client, Execution, NotFoundError
from conveyor.core.model import Status

__all__ = [
    "JOB_SCHEMA",
    "JOB_STATUSES",
    "JOB_STATUS_BY_STATUS",
    "STEPS",
    "JobAPI",
    "configure",
    "createJob",
    "deleteJob",
    "findJob",
    "getFinishedJobs",
    "getJob",
    "getJobResults",
    "getJobSchema",
    "getJobs",
    "getPendingJobs",
    "getRunningJobs",
    "job_status",
    "setJob",
    "setJobFinished",
    "setJobPending",
    "setJobRunning",
    "updateJobResult",
]

Job = dict[str, Any]

#: The job document's schema, as the job API publishes it.
JOB_SCHEMA: Final[dict[str, dict[str, Any]]] = {
    "id": {"type": "string", "required": True, "unique": True, "default": "", "options": []},
    "name": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
    "user": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
    "request": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
    "result": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
    "status": {
        "type": "string",
        "required": False,
        "unique": False,
        "default": "idle",
        "options": ["idle", "pending", "running", "finished", "error"],
    },
    "messages": {"type": "string", "required": False, "unique": False, "default": "", "options": []},
}
JOB_STATUSES: Final[tuple[str, ...]] = ("idle", "pending", "running", "finished", "error")

S = Status
#: Every canonical status as a job status: the one mapping table (DESIGN.md: it lives in the dialect).
JOB_STATUS_BY_STATUS: Final[dict[Status, str]] = {
    S.CREATED: "idle",  # not started yet
    S.SCHEDULED: "idle",  # waits for its time (or a retry's backoff)
    S.PAUSED: "idle",  # held until resumed
    S.QUEUED: "pending",  # waits for admission
    S.PENDING: "pending",  # admitted: a worker may take it
    S.RUNNING: "running",
    S.PAUSING: "running",  # still running until its next checkpoint
    S.CANCELLING: "running",  # still running until it stops
    S.FORCE_CANCELLING: "running",
    S.KILL_CANCELLING: "running",
    S.SUCCEEDED: "finished",
    S.FAILED: "error",
    S.CANCELLED: "error",
}
_CANONICAL: Final[dict[str, tuple[Status, ...]]] = {
    job: tuple(s for s, j in JOB_STATUS_BY_STATUS.items() if j == job) for job in JOB_STATUSES
}

#: How a job status is set from each canonical status: the statuses reported, in order, each one an
#: edge of the state machine (the server refuses any that is not). A missing entry uses `_DEFAULT`.
STEPS: Final[dict[str, dict[Status, tuple[Status, ...]]]] = {
    "idle": {},  # pause: from created, scheduled, queued or pending
    "pending": {},  # (re)queue: admission then makes it pending
    "running": {},  # only a pending (admitted) job can start running
    "finished": {S.PENDING: (S.RUNNING, S.SUCCEEDED)},  # a worker that skips "running"
    "error": {
        # Not running yet, or being stopped: it ends cancelled (still "error"), as failing needs a run.
        **dict.fromkeys((S.CREATED, S.SCHEDULED, S.QUEUED, S.PENDING, S.PAUSED), (S.CANCELLED,)),
        **dict.fromkeys((S.FORCE_CANCELLING, S.KILL_CANCELLING), (S.CANCELLED,)),
    },
}
_DEFAULT: Final[dict[str, Status]] = {
    "idle": S.PAUSED,
    "pending": S.QUEUED,
    "running": S.RUNNING,
    "finished": S.SUCCEEDED,
    "error": S.FAILED,
}
_IMMUTABLE: Final = ("id", "name", "user", "request")
_PAGE: Final = 1000


def job_status(status: Status | str) -> str:
    """The job status of a canonical status."""
    return JOB_STATUS_BY_STATUS[Status(status)]


def steps(current: Status, state: str) -> tuple[Status, ...]:
    """The canonical statuses to report, in order, to set a job now `current` to the job status `state`."""
    if JOB_STATUS_BY_STATUS[current] == state:
        return ()
    return STEPS[state].get(current, (_DEFAULT[state],))


def _check_state(state: str) -> str:
    if state not in JOB_STATUSES:
        raise ValueError(f"invalid job state {state!r}; use one of {', '.join(JOB_STATUSES)}")
    return state


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _parameters(request: Any) -> dict[str, Any]:
    """A job `request` as workflow parameters: a dict, or its JSON text ("" or None for none)."""
    if request is None or (isinstance(request, str) and not request.strip()):
        return {}
    value = request
    if isinstance(request, str):
        try:
            value = json.loads(request)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ValueError(
            "a job request holds the workflow's parameters: a dict, or its JSON text such as "
            f"'{{\"size\": 3}}', not {request!r}"
        )
    return value


def _error_text(ex: Execution) -> str:
    err = ex.error
    if not err:
        return ""
    return f"{err.get('type') or 'Error'}: {err.get('message') or ''}".rstrip(": ")


class JobAPI:
    """The job API over one Conveyor client; `workflows` limits the jobs it lists to those workflows."""

    def __init__(self, client: Client | None = None, *, workflows: Sequence[str] | None = None) -> None:
        self.client = client if client is not None else Client()
        self.workflows = list(workflows) if workflows else None

    # --- documents -----------------------------------------------------------------------

    def _doc(self, ex: Execution, messages: str | None = None) -> Job:
        return {
            "id": ex.id,
            "name": ex.workflow,
            "user": ex.created_by or "",
            "request": json.dumps(ex.parameters, ensure_ascii=False),
            "result": _text(ex.result),
            "status": job_status(ex.status),
            "messages": _error_text(ex) if messages is None else messages,
        }

    def _messages(self, ex: Execution) -> str:
        lines = [
            str(e.get("message"))
            for e in self.client.executions.events(ex.id)
            if e.get("kind") == "message" and e.get("message")
        ]
        error = _error_text(ex)
        if error and error not in lines:
            lines.append(error)
        return "\n".join(lines)

    def _full(self, ex: Execution) -> Job:
        return self._doc(ex, self._messages(ex))

    def _find(self, job_id: Any) -> Execution | None:
        try:
            return self.client.executions.get(str(job_id))
        except NotFoundError:
            return None

    def _list(self, state: str | None) -> list[Job]:
        statuses = [str(s) for s in _CANONICAL[state]] if state is not None else None
        found = self.client.executions.list(
            status=statuses, workflow=self.workflows, sort="id", page_size=_PAGE
        )
        return [self._doc(ex) for ex in found]

    # --- the API -------------------------------------------------------------------------

    def getJobSchema(self) -> dict[str, Any]:
        """The schema of a job document."""
        return copy.deepcopy(JOB_SCHEMA)

    def createJob(self, name: str, user: str, request: Any, result: Any) -> Job:
        """Start the workflow `name` with `request` as its parameters; the job document.

        The job waits for admission and a worker like any execution. `user` is recorded by the
        server from the token (`created_by`); a different `user` is kept as a message. A job
        has no result before it ends, so `result` must be empty.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a job needs a name: the workflow to run")
        if result not in (None, ""):
            raise ValueError("a new job has no result yet; it is recorded when the job finishes")
        ex = self.client.executions.start(name.strip(), parameters=_parameters(request), queue=True)
        messages = ""
        if user and user != ex.created_by:
            messages = f"job user: {user}"
            self.client.executions.message(ex.id, messages)
        return self._doc(ex, messages)

    def getJob(self, jobId: Any, state: str = "pending") -> Job | None:
        """The job if it is in `state` (one of JOB_STATUSES, else ValueError), else None."""
        _check_state(state)
        ex = self._find(jobId)
        if ex is None or job_status(ex.status) != state:
            return None
        return self._full(ex)

    def findJob(self, jobId: Any) -> tuple[Job | None, str | None]:
        """(job, its status), or (None, None) for an unknown job."""
        ex = self._find(jobId)
        if ex is None:
            return None, None
        return self._full(ex), job_status(ex.status)

    def setJob(self, jobId: Any, data: Any, state: str = "pending") -> Job:
        """Set the job's status to `state` (through the state machine) with `data`; the updated job."""
        _check_state(state)
        if data is not None and not isinstance(data, dict):
            raise ValueError(f"job data must be a dict of job fields, not {type(data).__name__}")
        fields: dict[str, Any] = dict(data or {})
        executions = self.client.executions
        ex = executions.get(str(jobId))
        current = self._full(ex)
        for name in _IMMUTABLE:
            if name not in fields or fields[name] in (None, current[name]):
                continue
            if name == "request" and _parameters(fields[name]) == ex.parameters:
                continue
            raise ValueError(f"a job's {name} cannot change ({current[name]!r} -> {fields[name]!r})")
        text = _text(fields.get("messages")).strip()
        if text and text != current["messages"]:
            new = text[len(current["messages"]) :].strip() if text.startswith(current["messages"]) else text
            if new:
                executions.message(ex.id, new)
        result = fields.get("result")
        plan = steps(ex.status, state)
        if result not in (None, "", current["result"]) and S.SUCCEEDED not in plan:
            raise ValueError(
                "a job's result is recorded when it becomes finished (setJobFinished, updateJobResult); "
                f"job {ex.id} is {current['status']}"
            )
        for status in plan:
            if status is S.SUCCEEDED:
                ex = executions.update_status(ex.id, str(status), result=None if result == "" else result)
            elif status is S.FAILED:
                reason = text or "set to error through the job API"
                ex = executions.update_status(
                    ex.id, str(status), error={"type": "JobError", "message": reason}
                )
            else:
                ex = executions.update_status(ex.id, str(status))
        return self._full(ex)

    def setJobPending(self, jobId: Any, data: Any) -> Job:
        return self.setJob(jobId, data, "pending")

    def setJobRunning(self, jobId: Any, data: Any) -> Job:
        return self.setJob(jobId, data, "running")

    def setJobFinished(self, jobId: Any, data: Any) -> Job:
        return self.setJob(jobId, data, "finished")

    def updateJobResult(self, jobId: Any, data: Any, inputJob: Any = None) -> None:
        """Record `data` as the result and set the job finished (`inputJob`: more job data, e.g. messages)."""
        fields = dict(inputJob) if isinstance(inputJob, dict) else {}
        fields["result"] = data
        fields.pop("status", None)
        self.setJob(jobId, fields, "finished")

    def deleteJob(self, jobId: Any) -> None:
        """Delete the job, cancelling it first if it has not ended; an unknown job is ignored."""
        ex = self._find(jobId)
        if ex is None:
            return
        if not ex.is_terminal:
            ex = ex.cancel(force=ex.status.is_active and ex.status is not S.PENDING)
        try:
            self.client.executions.delete(ex.id)
        except NotFoundError:
            return

    def getJobs(self) -> list[Job]:
        """Every job, oldest first, whatever its status."""
        return self._list(None)

    def getPendingJobs(self) -> list[Job]:
        return self._list("pending")

    def getRunningJobs(self) -> list[Job]:
        return self._list("running")

    def getFinishedJobs(self) -> list[Job]:
        return self._list("finished")

    def getJobResults(self, jobId: Any) -> Job | None:
        """The finished job's document (its `result` included), or None when it is not finished."""
        return self.getJob(jobId, "finished")


# --- the module-level API --------------------------------------------------------------------

_lock = threading.Lock()
_default: JobAPI | None = None


def configure(
    url: str | None = None,
    token: str | None = None,
    *,
    client: Client | None = None,
    workflows: Sequence[str] | None = None,
) -> JobAPI:
    """Point the module functions at a server (`url`, `token`) or at a ready `client`."""
    global _default
    api = JobAPI(client if client is not None else Client(url, token), workflows=workflows)
    with _lock:
        _default = api
    return api


def _api() -> JobAPI:
    global _default
    with _lock:
        if _default is None:
            _default = JobAPI(Client())  # CONVEYOR_URL / CONVEYOR_TOKEN, or a local open server
        return _default


def getJobSchema() -> dict[str, Any]:
    return _api().getJobSchema()


def createJob(name: str, user: str, request: Any, result: Any) -> Job:
    return _api().createJob(name, user, request, result)


def getJob(jobId: Any, state: str = "pending") -> Job | None:
    return _api().getJob(jobId, state)


def findJob(jobId: Any) -> tuple[Job | None, str | None]:
    return _api().findJob(jobId)


def setJob(jobId: Any, data: Any, state: str = "pending") -> Job:
    return _api().setJob(jobId, data, state)


def setJobPending(jobId: Any, data: Any) -> Job:
    return _api().setJobPending(jobId, data)


def setJobRunning(jobId: Any, data: Any) -> Job:
    return _api().setJobRunning(jobId, data)


def setJobFinished(jobId: Any, data: Any) -> Job:
    return _api().setJobFinished(jobId, data)


def updateJobResult(jobId: Any, data: Any, inputJob: Any = None) -> None:
    _api().updateJobResult(jobId, data, inputJob)


def deleteJob(jobId: Any) -> None:
    _api().deleteJob(jobId)


def getJobs() -> list[Job]:
    return _api().getJobs()


def getPendingJobs() -> list[Job]:
    return _api().getPendingJobs()


def getRunningJobs() -> list[Job]:
    return _api().getRunningJobs()


def getFinishedJobs() -> list[Job]:
    return _api().getFinishedJobs()


def getJobResults(jobId: Any) -> Job | None:
    return _api().getJobResults(jobId)
