"""What every Cloudify route needs: the caller, the services, the JSON body and typed values.

Authentication reuses the native API's Authenticator (token lookup, roles,
open mode). Cloudify sends `Authentication-Token: <token>` (workflows send
`Execution-Token`), or `Authorization: Basic base64(user:password)`, whose
password is taken as the token. The `Tenant` header is accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from conveyor.api.auth import OPEN, Authenticator, Principal
from conveyor.core.errors import Forbidden, Unauthorized
from conveyor.core.executions import ExecutionService
from conveyor.core.groups import ExecutionGroupService
from conveyor.core.model import Role
from conveyor.core.targets import TargetService
from conveyor.dialects.cloudify.errors import UNSUPPORTED_CONTENT_TYPE, CloudifyError, bad_parameters

TOKEN_HEADERS = ("authentication-token", "execution-token")
HOW_TO_AUTHENTICATE = (
    "send 'Authentication-Token: <token>' or basic auth with the token as the password "
    "(tokens come from `conveyor token create`)"
)


@dataclass(frozen=True, slots=True)
class Services:
    executions: ExecutionService
    targets: TargetService
    groups: ExecutionGroupService


def services(request: Request) -> Services:
    """The app's services, as the composition root built them (`create_app` sets `app.state.service`,
    `.targets` and `.groups`)."""
    state = request.app.state
    return Services(state.service, state.targets, state.groups)


def _secret(request: Request) -> tuple[str, bool] | None:
    """The token a Cloudify caller sent and whether it came as a basic-auth password;
    None when it sent no credentials."""
    for name in TOKEN_HEADERS:
        value = request.headers.get(name)
        if value and value.strip():
            return value.strip(), False
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value, False
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized(f"the basic credentials are not valid base64; {HOW_TO_AUTHENTICATE}") from None
        _, colon, password = decoded.partition(":")
        if colon and password:
            return password, True
    raise Unauthorized(f"unsupported Authorization header; {HOW_TO_AUTHENTICATE}")


def principal(request: Request) -> Principal:
    """The caller. A token sent as a token is always checked; on an open server a basic-auth
    password that is no token is ignored (Cloudify clients always send a user and password,
    often admin/admin), so the caller is the open server's anonymous admin."""
    authenticator: Authenticator = request.app.state.authenticator
    sent = _secret(request)
    if sent is None:
        try:
            return authenticator.authenticate(None)
        except Unauthorized:
            raise Unauthorized(f"this server requires a token: {HOW_TO_AUTHENTICATE}") from None
    secret, from_basic = sent
    try:
        return authenticator.authenticate(f"Bearer {secret}")
    except Unauthorized:
        if from_basic and authenticator.mode == OPEN:
            return authenticator.authenticate(None)
        raise


def need(role: Role) -> Any:
    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not caller.may(role):
            raise Forbidden(f"{caller.name!r} has the {caller.role} role; this needs {role} or more")
        return caller

    return Depends(check)


Viewer = Annotated[Principal, need(Role.VIEWER)]
Operator = Annotated[Principal, need(Role.OPERATOR)]
Admin = Annotated[Principal, need(Role.ADMIN)]
AppServices = Annotated[Services, Depends(services)]


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object ({} without a body); anything else is refused as Cloudify does."""
    raw = await request.body()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "application/json").lower()
    if "json" not in content_type:
        raise CloudifyError(
            415, UNSUPPORTED_CONTENT_TYPE, f"the request body must be JSON, not {content_type.split(';')[0]}"
        )
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise bad_parameters(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad_parameters("the request body must be a JSON object")
    return data


Body = Annotated[dict[str, Any], Depends(json_body)]


# --- typed values, Cloudify style ------------------------------------------------------


def boolean(value: Any, name: str, default: bool = False) -> bool:
    """Cloudify sends flags as the strings "true"/"false" (and query flags as "True"/"False")."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise bad_parameters(f"{name} must be true or false, not {value!r}")


def string(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise bad_parameters(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise bad_parameters(f"{name} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise bad_parameters(f"{name} is required")
    return value


def mapping(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_parameters(f"{name} must be a dictionary, not {type(value).__name__}")
    return value


def integer(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise bad_parameters(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise bad_parameters(f"{name} must be a whole number, not {value!r}") from None
    if not isinstance(value, int):
        raise bad_parameters(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise bad_parameters(f"{name} must be {minimum} or more, not {value}")
    return value


def instant(value: Any, name: str, *, naive_is_utc: bool = True) -> datetime | None:
    """An ISO 8601 time; without a zone it is UTC (or refused, when `naive_is_utc` is False)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_parameters(f"{name} must be an ISO 8601 date and time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise bad_parameters(f"{name} must be an ISO 8601 date and time, not {value!r}") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise bad_parameters(f"{name} must include a time zone, e.g. {value}+00:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
