"""Exceptions raised by the client.

The server answers every error with the same envelope,
`{"error": {"code", "message", "details"}}` (docs/api.md). The client turns
each `code` into its own exception class so callers can write
`except NotFoundError:` instead of comparing strings, while `str(err)` stays
the server's own sentence, which already says what went wrong and what to do.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conveyor.client.models import ExecutionData


class ConveyorClientError(Exception):
    """Base of everything this package raises, so one `except` can catch all of it."""


class ConveyorConnectionError(ConveyorClientError):
    """The server could not be reached or stopped answering: nothing is known about the request's effect."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


class ConveyorAPIError(ConveyorClientError):
    """The server answered with an error envelope.

    `code` is the stable machine-readable code from docs/api.md, `message`
    the server's explanation and `details` its structured extras (e.g. the
    failing field, or `errors` for invalid parameters).
    """

    def __init__(
        self, status_code: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class InvalidRequestError(ConveyorAPIError):
    """A field or query parameter was wrong (400): retrying the same call will fail the same way."""


class InvalidParametersError(InvalidRequestError):
    """The workflow's parameter model refused the parameters; `details["errors"]` lists each field."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        found = self.details.get("errors")
        return found if isinstance(found, list) else []


class InvalidTriggerError(InvalidRequestError):
    """A schedule's trigger could not be read (400 `invalid_trigger`); the message says what is wrong."""


class NotFoundError(ConveyorAPIError):
    """An unknown execution, token, workflow or route (404)."""


class IllegalTransitionError(ConveyorAPIError):
    """The execution's current status does not allow the action, e.g. pausing a finished one (409)."""


class ConflictError(ConveyorAPIError):
    """The call clashes with current state (409): admission refused a start, or the execution is active."""


class AuthError(ConveyorAPIError):
    """No token, an unknown token (401), or a role that may not do this (403)."""


class ServerError(ConveyorAPIError):
    """The server failed on its side (5xx): a bug or an outage, not a problem with the call."""


_BY_CODE: dict[str, type[ConveyorAPIError]] = {
    "invalid_request": InvalidRequestError,
    "malformed_json": InvalidRequestError,
    "invalid_parameters": InvalidParametersError,
    "invalid_trigger": InvalidTriggerError,
    "not_found": NotFoundError,
    "unknown_workflow": NotFoundError,
    "illegal_transition": IllegalTransitionError,
    "existing_running_execution": ConflictError,
    "conflict": ConflictError,
    "unauthorized": AuthError,
    "forbidden": AuthError,
    "internal_error": ServerError,
}

# Codes the client does not know yet (a newer server) still get a class fitting their HTTP status.
_BY_STATUS: dict[int, type[ConveyorAPIError]] = {
    400: InvalidRequestError, 401: AuthError, 403: AuthError, 404: NotFoundError, 409: ConflictError,
    422: InvalidRequestError,
}  # fmt: skip


def error_class(code: str, status_code: int) -> type[ConveyorAPIError]:
    """The exception class for an error code, falling back on the HTTP status for unknown codes."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, ConveyorAPIError)


def error_from_response(status_code: int, body: bytes | str, reason: str = "") -> ConveyorAPIError:
    """Build the exception for an error answer.

    Most answers carry the envelope; anything else (a proxy's HTML page, a
    framework's `{"detail": ...}`) still becomes a ConveyorAPIError whose
    message says what came back, so callers never see a bare JSON error.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    envelope = data.get("error") if isinstance(data, dict) else None
    if isinstance(envelope, dict) and isinstance(envelope.get("code"), str):
        code = envelope["code"]
        message = str(envelope.get("message") or code.replace("_", " "))
        details = envelope.get("details")
        return error_class(code, status_code)(
            status_code, code, message, details if isinstance(details, dict) else {}
        )
    code = f"http_{status_code}"
    if isinstance(data, dict) and "detail" in data:
        message = f"the server refused the request ({status_code}): {_describe_detail(data['detail'])}"
        return error_class(code, status_code)(status_code, code, message, {"detail": data["detail"]})
    snippet = " ".join(text.split())[:200]
    what = f"{status_code} {reason}".strip()
    message = f"the server answered {what} without an error description" + (f": {snippet}" if snippet else "")
    return error_class(code, status_code)(status_code, code, message, {})


def _describe_detail(detail: Any) -> str:
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", ()))
                parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


class ExecutionError(ConveyorClientError):
    """Base of the outcomes `Execution.wait()` raises; `execution` is the last state the client saw."""

    def __init__(self, message: str, execution: ExecutionData) -> None:
        super().__init__(message)
        self.execution = execution


class ExecutionFailed(ExecutionError):
    """The execution ended `failed`; `error_type` and `error_message` come from its `error` document."""

    def __init__(self, execution: ExecutionData) -> None:
        err = execution.error or {}
        self.error_type: str = str(err.get("type") or "Error")
        self.error_message: str = str(err.get("message") or "")
        self.traceback: str | None = err.get("traceback")
        reason = f"{self.error_type}: {self.error_message}" if self.error_message else self.error_type
        super().__init__(
            f"Execution {execution.id} of workflow {execution.workflow!r} failed "
            f"after {_attempts(execution)}: {reason}",
            execution,
        )


class ExecutionCancelled(ExecutionError):
    """The execution ended `cancelled`: someone (or something) stopped it before it finished."""

    def __init__(self, execution: ExecutionData) -> None:
        super().__init__(
            f"Execution {execution.id} of workflow {execution.workflow!r} was cancelled before it finished.",
            execution,
        )


class WaitTimeout(ExecutionError, TimeoutError):
    """`wait()` gave up; the execution itself goes on, since waiting never changes it."""

    def __init__(self, execution: ExecutionData, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(
            f"Execution {execution.id} of workflow {execution.workflow!r} is still {execution.status} "
            f"after waiting {_seconds(timeout)}; it keeps going on the server.",
            execution,
        )


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


def _attempts(execution: ExecutionData) -> str:
    n = execution.attempt or 1
    return "1 attempt" if n == 1 else f"{n} attempts"
