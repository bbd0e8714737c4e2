"""Shared dependencies: the service the app was built over, JSON answers, PATCH bodies.

Handlers take the service from `app.state` instead of a module global, so one
process can hold several apps (tests do) over different stores.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from conveyor.core.errors import InvalidRequest
from conveyor.core.executions import ExecutionService
from conveyor.core.idempotency import IdempotencyService
from conveyor.core.tokens import TokenService

JSON_MEDIA_TYPE = "application/json"


def get_service(request: Request) -> ExecutionService:
    service: ExecutionService = request.app.state.service
    return service


Service = Annotated[ExecutionService, Depends(get_service)]


def get_idempotency(request: Request) -> IdempotencyService:
    answers: IdempotencyService = request.app.state.idempotency
    return answers


Answers = Annotated[IdempotencyService, Depends(get_idempotency)]


def get_tokens(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


Tokens = Annotated[TokenService, Depends(get_tokens)]


def dump(content: Any) -> str:
    """Compact JSON, as stored for idempotent replays and sent on the wire.

    The door refuses values JSON cannot carry (api/guard.py), but rows stored
    before it, or by outside code, may hold NaN or a lone surrogate. One such
    row must not make a whole list unreadable: it is answered as `readable`
    makes it, and the rest of the page as it is.
    """
    try:
        text = _strict(content)
        text.encode("utf-8")
    except ValueError:  # NaN/Infinity, or UnicodeEncodeError for a lone surrogate
        text = _strict(readable(content))
    return text


def _strict(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)


def readable(value: Any) -> Any:
    """`value` made strict JSON: NaN and infinities become null, lone surrogates U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {readable(k): readable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [readable(v) for v in value]
    return value


def json_answer(content: Any, status_code: int = 200) -> Response:
    """An answer built from a plain document; 204 carries no body."""
    if status_code == 204:
        return Response(status_code=204)
    return Response(dump(content), status_code=status_code, media_type=JSON_MEDIA_TYPE)


def patch_changes(body: BaseModel, *, nullable: Collection[str] = ()) -> dict[str, Any]:
    """The fields a PATCH body gives, by name. A null is refused (400 naming the field) unless the
    field is `nullable`: leaving a field out keeps it, so a null there can only be a mistake."""
    changes: dict[str, Any] = {}
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name not in nullable:
            raise InvalidRequest(f"{name} cannot be null; leave it out to keep it", {"field": name})
        changes[name] = value
    return changes
