"""Running one Jelastic method: who calls (the `session`), may they, once per `ruk`, never a crash.

Shared by the HTTP route and by Batch.Call, so a method answers the same whichever way it came.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from conveyor.api.auth import ANONYMOUS, OPEN, Authenticator, Principal
from conveyor.api.deps import dump
from conveyor.core.errors import ConveyorError, Unauthorized
from conveyor.core.executions import ExecutionService
from conveyor.core.idempotency import IdempotencyService
from conveyor.core.schedules import ScheduleService
from conveyor.dialects.jelastic.scheduler import Caller, Method
from conveyor.dialects.jelastic.wire import INTERNAL_ERROR, failure, failure_of

log = logging.getLogger("conveyor.dialects.jelastic")


@dataclass(frozen=True, slots=True)
class Server:
    """The app's parts a Jelastic call uses (all from `app.state`, as the native routers read them)."""

    service: ExecutionService
    schedules: ScheduleService
    authenticator: Authenticator
    answers: IdempotencyService

    @classmethod
    def of(cls, app: FastAPI) -> Server:
        schedules = getattr(app.state, "schedules", None)
        service: ExecutionService = app.state.service
        return cls(
            service, schedules or ScheduleService(service), app.state.authenticator, app.state.idempotency
        )


def authenticate(authenticator: Authenticator, session: str | None, authorization: str | None) -> Principal:
    """The caller named by `session` (a Conveyor token), else by an Authorization header.

    An open server stays open: a session that is not a valid token is ignored there (py-jelastic
    always sends one) and the caller is the anonymous admin; a valid token still names the caller.
    On a server that requires tokens, a missing or unknown session is refused (Unauthorized).
    """
    header = f"Bearer {session}" if session else authorization
    try:
        return authenticator.authenticate(header)
    except Unauthorized as exc:
        if authenticator.mode == OPEN:
            return ANONYMOUS
        if session:
            raise Unauthorized(
                "the session is not a valid Conveyor token (unknown or deleted); pass a token from "
                "`conveyor token create` as the session"
            ) from None
        raise Unauthorized(
            "this server requires a token: pass a Conveyor token as the session parameter "
            "(Jelastic(url, token=...))"
        ) from exc


def forbidden(principal: Principal, method: Method) -> dict[str, Any]:
    return failure(
        "forbidden",
        f"permission denied: {principal.name!r} has the {principal.role} role; {method.name} needs "
        f"{method.role} or more",
        {"role": str(principal.role), "required": str(method.role), "method": method.name},
    )


def internal_failure(what: str) -> dict[str, Any]:
    """Call from an `except` block: log the bug once with a reference and answer result 1 with it."""
    reference = secrets.token_hex(6)
    log.exception("Jelastic %s failed (reference %s)", what, reference)
    return failure(
        "internal_error",
        f"internal error in {what}: this is a bug in Conveyor, not in your request; the server log "
        f"has the details (reference {reference})",
        {"reference": reference},
    )


def guarded(produce: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
    """`produce()`'s answer; a domain error as its Jelastic answer; a bug as result 1 with a reference."""
    try:
        return produce()
    except ConveyorError as exc:
        return failure_of(exc)
    except Exception:
        return internal_failure(what)


# --- ruk: the idempotency key --------------------------------------------------------------------


def ruk_key(principal: Principal, ruk: str) -> str:
    """The stored key of a `ruk`: scoped to the caller like Idempotency-Key, in its own namespace."""
    return f"{principal.scope}:jelastic:{hashlib.sha256(ruk.encode()).hexdigest()[:40]}"


def replay(answers: IdempotencyService, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    stored = answers.get(key)
    if stored is None:
        return None
    answer: dict[str, Any] = json.loads(stored.body)
    return answer


def remember(answers: IdempotencyService, key: str | None, answer: dict[str, Any]) -> dict[str, Any]:
    """Store the first answer for `key` and return whichever answer was stored first.

    Internal errors are not stored, so a retry after a fault can still succeed.
    """
    if key is None or answer.get("result") == INTERNAL_ERROR:
        return answer
    first = answers.put(key, 200, dump(answer))
    stored: dict[str, Any] = json.loads(first.body)
    return stored


def invoke(
    server: Server, method: Method, params: Mapping[str, Any], principal: Principal, ruk: str | None
) -> dict[str, Any]:
    """Run one scheduler method as `principal`: the Jelastic answer, success or error (never raises)."""
    if not principal.may(method.role):
        return forbidden(principal, method)
    key = ruk_key(principal, ruk) if ruk and method.mutating else None

    def produce() -> dict[str, Any]:
        stored = replay(server.answers, key)
        if stored is not None:
            return stored
        answer = guarded(lambda: method.run(Caller(server.schedules, principal), params), method.name)
        return remember(server.answers, key, answer)

    return guarded(produce, method.name)
