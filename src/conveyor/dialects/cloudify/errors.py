"""Errors in Cloudify's shape: `{"message", "error_code", "server_traceback"}` with Cloudify's status.

The real `cloudify_rest_client` reads `message` and `error_code` and raises the
exception class its `ERROR_MAPPING` names for the code (CloudifyClientError
otherwise), so the codes here are the manager's own (manager_exceptions.py).
Every route of the dialect runs through `CloudifyRoute`, which turns a
`ConveyorError`, a `CloudifyError` or a bug into such an answer before the
native API's global handlers (which answer `{"error": {...}}`) can see it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from conveyor.core.errors import ConveyorError

log = logging.getLogger("conveyor.dialects.cloudify")

BAD_PARAMETERS = "bad_parameters_error"
NOT_FOUND = "not_found_error"
CONFLICT = "conflict_error"
ILLEGAL_ACTION = "illegal_action_error"
INVALID_STATUS_UPDATE = "invalid_exception_status_update"  # sic: the manager's own spelling
NO_SUCH_INCLUDE_FIELD = "no_such_include_field_error"
ILLEGAL_PARAMETERS = "illegal_execution_parameters_error"
NONEXISTENT_WORKFLOW = "nonexistent_workflow_error"
EXISTING_RUNNING = "existing_running_execution_error"
UNAUTHORIZED = "unauthorized_error"
FORBIDDEN = "forbidden_error"
UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type_error"
METHOD_NOT_ALLOWED = "method_not_allowed_error"
INTERNAL = "internal_server_error"


class CloudifyError(Exception):
    """An answer the dialect decides itself: HTTP status, Cloudify error code, message."""

    def __init__(self, status_code: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.message = message


def bad_parameters(message: str) -> CloudifyError:
    return CloudifyError(400, BAD_PARAMETERS, message)


#: Conveyor error code -> (HTTP status, Cloudify error_code).
BY_CODE: dict[str, tuple[int, str]] = {
    "not_found": (404, NOT_FOUND),
    "unknown_workflow": (400, NONEXISTENT_WORKFLOW),
    "invalid_parameters": (400, ILLEGAL_PARAMETERS),
    "invalid_request": (400, BAD_PARAMETERS),
    "invalid_trigger": (400, BAD_PARAMETERS),
    "malformed_json": (400, BAD_PARAMETERS),
    "existing_running_execution": (400, EXISTING_RUNNING),
    "illegal_transition": (400, ILLEGAL_ACTION),
    "conflict": (409, CONFLICT),
    "unauthorized": (401, UNAUTHORIZED),
    "forbidden": (403, FORBIDDEN),
    "database_unavailable": (503, "database_unavailable"),
    "schema_out_of_date": (503, "schema_out_of_date"),
}

#: An illegal transition, by the core event that was refused: a refused resume is a 409
#: conflict in Cloudify (RM `resume_execution`), a refused status update its own 400.
ILLEGAL_BY_EVENT: dict[str, tuple[int, str]] = {
    "Resume": (409, CONFLICT),
    "Report": (400, INVALID_STATUS_UPDATE),
}

#: How Cloudify names the kinds of things the core reports as not found.
MODEL_NAMES = {
    "execution": "Execution",
    "execution group": "ExecutionGroup",
    "target": "Deployment",
    "target group": "DeploymentGroup",
}


def body(message: str, error_code: str) -> dict[str, Any]:
    return {"message": message, "error_code": error_code, "server_traceback": None}


def cloudify_response(status_code: int, error_code: str, message: str) -> JSONResponse:
    return JSONResponse(body(message, error_code), status_code=status_code)


def from_conveyor(exc: ConveyorError) -> tuple[int, str, str]:
    """(HTTP status, error_code, message) for a core error."""
    if exc.code == "not_found":
        kind = str(exc.details.get("kind", ""))
        model = MODEL_NAMES.get(kind)
        if model is not None:
            return 404, NOT_FOUND, f"Requested `{model}` with ID `{exc.details.get('id')}` was not found"
    if exc.code == "illegal_transition":
        status, code = ILLEGAL_BY_EVENT.get(str(exc.details.get("action", "")), BY_CODE[exc.code])
        return status, code, exc.message
    status, code = BY_CODE.get(exc.code, (500, INTERNAL))
    return status, code, exc.message


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{loc or 'request'}: {err.get('msg', '')}")
    return "invalid request: " + "; ".join(parts)


def answer_for(exc: Exception, request: Request) -> Response:
    """The Cloudify answer for whatever a route raised; a bug is logged once and answered 500."""
    if isinstance(exc, CloudifyError):
        return cloudify_response(exc.status_code, exc.error_code, exc.message)
    if isinstance(exc, ConveyorError):
        status, code, message = from_conveyor(exc)
        if status >= 500:
            log.error("%s %s failed: %s (%s)", request.method, request.url.path, exc.message, exc.code)
        return cloudify_response(status, code, message)
    if isinstance(exc, RequestValidationError):
        return cloudify_response(400, BAD_PARAMETERS, _validation_message(exc))
    if isinstance(exc, StarletteHTTPException) and exc.status_code < 500:
        code = {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}.get(
            exc.status_code, BAD_PARAMETERS
        )
        return cloudify_response(exc.status_code, code, str(exc.detail))
    reference = uuid.uuid4().hex[:12]
    log.exception("unhandled error in %s %s (reference %s)", request.method, request.url.path, reference)
    return cloudify_response(
        500,
        INTERNAL,
        "internal error: this is a bug in Conveyor, not in your request; "
        f"the server log has the details (reference {reference})",
    )


class CloudifyRoute(APIRoute):
    """A route whose every failure is answered in Cloudify's error shape, never the native one."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return answer_for(exc, request)

        return guarded
