"""Domain errors with stable, machine-readable codes.

Interfaces map a code to their own shape (the native API to an HTTP status and
`{"error": {...}}`, dialects to theirs); the core only says what went wrong.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class ConveyorError(Exception):
    """Base of every error a caller may see. `code` never changes once published."""

    code = "internal_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ConveyorError):
    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} does not exist", {"kind": kind, "id": ident})


def found(value: T | None, kind: str, ident: str) -> T:
    """`value`, or NotFound(kind, ident) when a lookup came back empty."""
    if value is None:
        raise NotFound(kind, ident)
    return value


class UnknownWorkflow(ConveyorError):
    code = "unknown_workflow"

    def __init__(self, name: str, known: list[str]) -> None:
        hint = f"; known workflows: {', '.join(sorted(known))}" if known else "; no workflow is registered"
        super().__init__(f"workflow {name!r} is not registered{hint}", {"workflow": name})


class InvalidParameters(ConveyorError):
    code = "invalid_parameters"

    def __init__(self, workflow: str, errors: list[dict[str, Any]]) -> None:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or '(root)'}: {e.get('msg')}" for e in errors
        )
        super().__init__(f"parameters for {workflow!r} are invalid: {where}", {"errors": errors})


class IllegalTransition(ConveyorError):
    code = "illegal_transition"

    def __init__(self, execution_id: str, status: str, action: str) -> None:
        super().__init__(
            f"cannot {_action_words(action)} execution {execution_id} while it is {status}",
            {"execution_id": execution_id, "status": str(status), "action": action},
        )


class ExistingRunningExecution(ConveyorError):
    code = "existing_running_execution"

    def __init__(self, target: str | None, reason: str) -> None:
        super().__init__(
            f"cannot start now: {reason}; "
            "pass queue=true to wait for a free slot or force=true to start anyway",
            {"target": target},
        )


class InvalidRequest(ConveyorError):
    code = "invalid_request"


class InvalidTrigger(ConveyorError):
    """A schedule trigger that cannot be read; the message says what is wrong and how to write it."""

    code = "invalid_trigger"


class Conflict(ConveyorError):
    code = "conflict"


class Unauthorized(ConveyorError):
    code = "unauthorized"


class Forbidden(ConveyorError):
    code = "forbidden"


class SchemaOutOfDate(ConveyorError):
    code = "schema_out_of_date"


class DatabaseUnavailable(ConveyorError):
    """The database did not answer in time (down, unreachable, or a statement ran past its deadline).

    Almost always nothing was written; only a connection lost during the commit itself leaves
    that open, so a retry should carry an Idempotency-Key.
    """

    code = "database_unavailable"
    #: Seconds a caller should wait before trying again.
    retry_after = 2

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"the database is unavailable ({reason}); try again shortly",
            {"retry_after": self.retry_after},
        )


_WORDS = {
    "RequestCancel": "cancel",
    "RequestPause": "pause",
    "Resume": "resume",
    "Requeue": "requeue",
    "Claim": "claim",
    "Succeed": "complete",
    "Fail": "fail",
    "Report": "set the status of",
    "ConfirmPaused": "mark paused",
    "ConfirmCancelled": "mark cancelled",
    "LeaseExpired": "expire the lease of",
    "Defer": "schedule",
    "Enqueue": "queue",
    "Admit": "admit",
}


def _action_words(action: str) -> str:
    return _WORDS.get(action, action)
