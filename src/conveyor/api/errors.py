"""Errors as the native API shows them: one envelope and a fitting HTTP status.

The core raises `ConveyorError` subclasses that carry stable codes; this module
is the only place that knows which HTTP status each code gets, so routers just
raise and every failure, from a bad query parameter to a bug, reaches the
caller as `{"error": {"code", "message", "details"}}` (see docs/api.md).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor.core.errors import ConveyorError

log = logging.getLogger("conveyor.api")

#: HTTP status for each error code the API can answer with (docs/api.md, "Conventions").
STATUS_BY_CODE: dict[str, int] = {
    "invalid_request": 400,
    "malformed_json": 400,
    "invalid_parameters": 400,
    "invalid_trigger": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "unknown_workflow": 404,
    "method_not_allowed": 405,
    "illegal_transition": 409,
    "existing_running_execution": 409,
    "idempotency_key_reused": 422,
    "conflict": 409,
    "payload_too_large": 413,
    "limit_exceeded": 422,
    "internal_error": 500,
    "schema_out_of_date": 503,
    "database_unavailable": 503,
}
#: Codes for statuses Starlette raises itself (unknown route, wrong method, ...).
_CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
}
_WHERE = ("body", "query", "path", "header", "cookie")


def status_for(code: str) -> int:
    """The HTTP status of an error code; an unknown code is a bug, hence 500."""
    return STATUS_BY_CODE.get(code, 500)


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def error_response(
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, details),
        status_code=status_code or status_for(code),
        headers=dict(headers) if headers else None,
    )


def conveyor_error_response(exc: ConveyorError) -> JSONResponse:
    """The answer for a domain error; a 401 says which scheme to use (RFC 9110), a 503 when to retry."""
    headers: dict[str, str] | None = None
    if exc.code == "unauthorized":
        headers = {"WWW-Authenticate": "Bearer"}
    elif "retry_after" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after"])}
    return error_response(exc.code, exc.message, exc.details, headers=headers)


def _field(loc: Sequence[Any]) -> str:
    parts = list(loc[1:] if loc and loc[0] in _WHERE else loc)
    return ".".join(str(p) for p in parts) or (str(loc[0]) if loc else "")


def _is_not_json(err: Mapping[str, Any]) -> bool:
    """A body that did not parse: bad JSON, or a body sent without a JSON content type."""
    if err.get("type") == "json_invalid":
        return True
    loc = tuple(err.get("loc", ()))
    return loc == ("body",) and isinstance(err.get("input"), bytes | bytearray)


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors in our envelope, naming each field but never echoing input."""
    raw = list(exc.errors())
    if any(_is_not_json(e) for e in raw):
        reason = next(
            (str(e.get("ctx", {}).get("error", "")) for e in raw if e.get("type") == "json_invalid"), ""
        )
        message = "the request body is not valid JSON" + (f": {reason}" if reason else "")
        if not reason:
            message += "; send it with Content-Type: application/json"
        return error_response("malformed_json", message)
    errors = [
        {
            "field": _field(e.get("loc", ())),
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in raw
    ]
    message = "invalid request: " + "; ".join(f"{e['field']}: {e['msg']}" for e in errors)
    details: dict[str, Any] = {"field": errors[0]["field"] if errors else None, "errors": errors}
    return error_response("invalid_request", message, details)


MethodIndex = list[tuple[re.Pattern[str], frozenset[str]]]


def method_index(prefix: str, routers: Sequence[APIRouter]) -> MethodIndex:
    """Path patterns and the methods each takes, so a 405 can name every method a path accepts.

    Starlette's own Allow header names only the first route that matched the
    path, which is wrong here because each method of a path is its own route.
    """
    index: MethodIndex = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                regex, _, _ = compile_path(prefix + route.path)
                index.append((regex, frozenset(route.methods or ())))
    return index


def _allowed_methods(request: Request, fallback: str) -> list[str]:
    index: MethodIndex = getattr(request.app.state, "method_index", [])
    path = request.url.path
    methods = {m for regex, ms in index if regex.match(path) for m in ms}
    if not methods:
        return [m.strip() for m in fallback.split(",") if m.strip()]
    return sorted(methods)


def http_exception_response(request: Request, exc: StarletteHTTPException) -> Response:
    """Errors Starlette raises itself (no route, wrong method) in the same envelope as ours."""
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    where = f"{request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 404:
        message = f"no such route: {where} (the API is described at /api/v1/docs)"
    elif exc.status_code == 405:
        allowed = _allowed_methods(request, headers.get("Allow", ""))
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.url.path} does not accept {request.method}; it accepts {', '.join(allowed)}"
    else:
        message = str(exc.detail)
    return error_response(code, message, status_code=exc.status_code, headers=headers or None)


async def _on_conveyor_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConveyorError)
    return conveyor_error_response(exc)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return http_exception_response(request, exc)


class CatchAllMiddleware:
    """Turn an unexpected exception into a 500 `internal_error` envelope, logged once with a reference.

    A plain ASGI middleware rather than an `Exception` handler: Starlette re-raises
    after such a handler answers, which logs the same traceback twice and makes
    test clients raise instead of showing the answer a real caller gets.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            reference = uuid.uuid4().hex[:12]
            log.exception(
                "unhandled error in %s %s (reference %s)", scope.get("method"), scope.get("path"), reference
            )
            if started:
                raise  # the answer is already on its way; the server closes the connection
            response = error_response(
                "internal_error",
                "internal error: this is a bug in Conveyor, not in your request; "
                f"the server log has the details (reference {reference})",
                {"reference": reference},
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ConveyorError, _on_conveyor_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_middleware(CatchAllMiddleware)
